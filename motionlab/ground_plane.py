"""The camera's pitch from the ground the person stands on: a static camera looking down (from a bank,
a balcony, a tripod above a track) sees a runner who comes closer or goes away.

A lift with the wrong pitch tilts the world: the stance feet of a runner moving in depth climb or sink
along the lift's line of sight (a camera looking down 25 deg, lifted as level: the feet rise 2-3 m over
5 m of depth). Every step-long window (:data:`motionlab.lift.STEP_WINDOW_S`) holds a foot contact, so its
lowest foot landmark is a point on the ground. Those points' heights against their horizontal distance
along the camera's view give the ground's slope in the lift's world, which is the pitch error: the
camera looks ``atan(slope)`` further down than the lift assumed. Roll is taken as zero (a runner's path
is a line, along which roll and pitch cannot be told apart).

The fit is used only when it is conclusive (:func:`fit_ground`): enough ground points, spread over
enough depth, a small standard error. A runner crossing a side-on view at one distance gives no depth
spread and leaves the pitch as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motionlab.humanoid import build_model
from motionlab.keypoints import INDEX
from motionlab.lift import STEP_WINDOW_S
from motionlab.motion import Kinematics
from motionlab.reference import Reference

MIN_OBSERVED = 0.8  # of a window's frames must be fitted to a detection for its ground point to count
MIN_POINTS = 5  # ground points for a fit
MIN_DEPTH_SPREAD_M = 1.5  # the ground points must span this much distance from the camera
MAX_SLOPE_SE_DEG = 2.0  # standard error of the fitted slope for the fit to be used
MIN_CORRECTION_DEG = 2.0  # a smaller pitch error is left alone (it moves a runner 5 m away ~17 cm)
OUTLIER_MADS = 3.0  # ground points this many robust standard deviations off the line are dropped
_FEET = [INDEX[n] for n in ("left_heel", "left_foot_index", "right_heel", "right_foot_index")]


@dataclass(frozen=True)
class GroundFit:
    """The ground's slope along the camera's view in a lift's world, and whether to believe it."""

    slope_deg: float  # > 0: the ground rises away from the camera (it looks further down than assumed)
    slope_se_deg: float  # standard error of the slope
    depth_spread_m: float  # distance from the camera spanned by the ground points used
    points: int  # ground points used (after dropping outliers)
    conclusive: bool
    reason: str  # why it is (not) conclusive, in words

    def to_dict(self) -> dict[str, float | int | bool | str]:
        return {
            "slope_deg": round(self.slope_deg, 2), "slope_se_deg": round(self.slope_se_deg, 2),
            "depth_spread_m": round(self.depth_spread_m, 2), "points": self.points,
            "conclusive": self.conclusive, "reason": self.reason,
        }  # fmt: skip


def ground_points(lifted: Reference) -> np.ndarray:
    """(N, 3) the lowest foot landmark of each step-long window of ``lifted`` (a lifted reference with
    ``qpos``) whose frames were mostly fitted to a detection: points on the ground in the lift's world."""
    hm = build_model(lifted.body)
    feet = Kinematics(hm).sites(lifted.qpos, hm.keypoint_site_ids[_FEET])  # (T, 4, 3)
    lowest = feet[np.arange(len(feet)), feet[..., 2].argmin(axis=1)]  # (T, 3)
    observed = np.ones(len(feet), bool) if lifted.qpos_observed is None else np.asarray(lifted.qpos_observed)
    window = max(1, int(round(STEP_WINDOW_S * lifted.fps)))
    points = [
        lowest[start : start + window][lowest[start : start + window, 2].argmin()]
        for start in range(0, len(lowest) - window + 1, window)
        if observed[start : start + window].mean() >= MIN_OBSERVED
    ]
    return np.reshape(points, (-1, 3))


def fit_ground(points: np.ndarray, camera_position: np.ndarray, view_heading: np.ndarray) -> GroundFit:
    """The line ``z = slope * depth + c`` through ground ``points`` (N, 3), ``depth`` their horizontal
    distance from ``camera_position`` along ``view_heading`` (the camera's horizontal viewing direction);
    a least-squares fit, refitted without points :data:`OUTLIER_MADS` robust deviations off it."""
    heading = np.asarray(view_heading, dtype=float)[:2]
    heading = heading / max(float(np.linalg.norm(heading)), 1e-9)
    if len(points) < MIN_POINTS:
        return GroundFit(0.0, np.inf, 0.0, len(points), False, f"{len(points)} ground points (need {MIN_POINTS})")
    depth = (points[:, :2] - np.asarray(camera_position, dtype=float)[:2]) @ heading
    design = np.c_[depth, np.ones(len(points))]
    keep = np.ones(len(points), bool)
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(design[keep], points[keep, 2], rcond=None)
        residual = points[:, 2] - design @ coef
        scale = 1.4826 * np.median(np.abs(residual[keep])) + 1e-3
        keep = np.abs(residual) <= OUTLIER_MADS * scale
        if keep.sum() < MIN_POINTS:
            return GroundFit(0.0, np.inf, 0.0, int(keep.sum()), False, "the ground points do not lie on a line")
    n = int(keep.sum())
    spread = float(np.ptp(depth[keep]))
    if spread < MIN_DEPTH_SPREAD_M:
        return GroundFit(float(np.degrees(np.arctan(coef[0]))), np.inf, spread, n, False,
                         f"the person stays within {spread:.1f} m of one distance from the camera")  # fmt: skip
    variance = (residual[keep] ** 2).sum() / max(n - 2, 1)
    se = float(np.sqrt(variance * np.linalg.inv(design[keep].T @ design[keep])[0, 0]))
    slope_deg = float(np.degrees(np.arctan(coef[0])))
    se_deg = float(np.degrees(se / (1.0 + coef[0] ** 2)))  # d(atan s) = ds / (1 + s^2)
    if se_deg > MAX_SLOPE_SE_DEG:
        return GroundFit(slope_deg, se_deg, spread, n, False, f"the ground's slope is uncertain (+-{se_deg:.1f} deg)")
    return GroundFit(slope_deg, se_deg, spread, n, True, f"{n} ground points over {spread:.1f} m of distance")
