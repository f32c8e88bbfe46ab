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

A second piece of evidence needs no lifted depth, only the image (:func:`fit_horizon`; Hoiem, Efros &
Hebert 2006, "Putting objects in perspective"): seen by a level camera, a person's image height ``h``
(shoulders to feet) is proportional to how far below the horizon ``v0`` their feet are,
``h = (H / H_cam) (v_b - v0)``, so a line fitted to ``h`` against ``v_b`` over a walk in depth meets zero
at the horizon. A tilted camera bends that line (projected CMU walk 39_13, azimuth 60 deg: the level
formula gives the pitch 0.5 / 3.7 / 14 deg off for a camera 10 / 20 / 30 deg down), so the rows are first
turned to a level camera at the current pitch guess and the guess moved by the horizon's offset until it
stays put (then 0.1 / 0.3 / 0.6 deg off on the same shots). The feet's mean row is used (a fixed height on the
body, under it on average): the lowest foot runs ahead of the body towards the camera and biased it 1-4 deg.
:func:`decide_pitch` makes the one decision from both.

When both are inconclusive, a third piece (:func:`fit_feet_on_ground`) asks only that every step's feet
lie on one level ground: the camera height each step's feet row and shoulders-to-feet size imply (the
same relation, rows turned to a level camera) must be one height, which holds only at the right pitch.
It is used, as uncertain, where it rejects the pitch assumed (``vtest.avi``: a level camera put the
walker's feet above its horizon and the walker climbed 2.4 m in 6 s); :func:`stance_spread_m` says how
far the lifted stance soles still spread in height.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motionlab.humanoid import build_model
from motionlab.keypoints import INDEX
from motionlab.lift import STEP_WINDOW_S, detected_frames
from motionlab.motion import Kinematics
from motionlab.reference import Reference

MIN_OBSERVED = 0.8  # of a window's frames must be fitted to a detection for its ground point to count
MIN_POINTS = 5  # ground points for a fit
MIN_DEPTH_SPREAD_M = 1.5  # the ground points must span this much distance from the camera
MAX_SLOPE_SE_DEG = 2.0  # standard error of the fitted slope for the fit to be used
MIN_CORRECTION_DEG = 2.0  # a smaller pitch error is left alone (it moves a runner 5 m away ~17 cm)
OUTLIER_MADS = 3.0  # ground points this many robust standard deviations off the line are dropped
MIN_SIZE_CHANGE = 0.2  # the person's image height must change by this share of itself for a horizon fit
MAX_FEET_FIT_SE_DEG = 6.0  # the feet-on-the-ground fit is used (as uncertain) only when known this well
MIN_REJECTION_SE = 3.0  # ... and when the pitch assumed is this many of its standard errors off it
MAX_STANCE_SPREAD_M = 0.25  # stance soles spread over more height than this (10th-90th percentile): said
MAX_FEET_PITCH_DEG = 60.0  # a steeper pitch from the feet on one ground is not used (a camera looking down a wall)
MIN_HEIGHT_NOISE = 0.02  # relative: a step's camera height is never known better (the body's bob, detection)
PITCH_GRID_DEG = np.arange(-80.0, 30.01, 0.25)  # pitches the feet-on-the-ground fit tries (> 0 looks up)
MAX_DISAGREEMENT_SE = 3.0  # the ground's slope further off the size's pitch than this many joint errors: said
_FEET = [INDEX[n] for n in ("left_heel", "left_foot_index", "right_heel", "right_foot_index")]
_SHOULDERS = [INDEX["left_shoulder"], INDEX["right_shoulder"]]


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
    points = [lowest[w][lowest[w, 2].argmin()] for w in _step_windows(observed, lifted.fps)]
    return np.reshape(points, (-1, 3))


def stance_soles(lifted: Reference) -> np.ndarray:
    """The lowest sole height (m) of each step-long window mostly fitted to a detection: on one floor, all ~0."""
    soles = Kinematics(build_model(lifted.body)).sole_heights(lifted.qpos)
    observed = np.ones(len(soles), bool) if lifted.qpos_observed is None else np.asarray(lifted.qpos_observed)
    return np.array([soles[w].min() for w in _step_windows(observed, lifted.fps)])


def stance_spread_m(lifted: Reference) -> float:
    """How far the lifted stance soles (:func:`stance_soles`) spread in height, 10th to 90th percentile (m):
    near zero on a flat floor."""
    stance = stance_soles(lifted)
    return float(np.subtract(*np.percentile(stance, [90, 10]))) if len(stance) >= 2 else 0.0


def _step_windows(observed: np.ndarray, fps: float) -> list[slice]:
    """The consecutive step-long windows (:data:`motionlab.lift.STEP_WINDOW_S`, each holding a foot
    contact) whose frames are at least :data:`MIN_OBSERVED` ``observed``."""
    window = max(1, int(round(STEP_WINDOW_S * fps)))
    starts = range(0, len(observed) - window + 1, window)
    return [slice(a, a + window) for a in starts if observed[a : a + window].mean() >= MIN_OBSERVED]


def fit_ground(points: np.ndarray, camera_position: np.ndarray, view_heading: np.ndarray) -> GroundFit:
    """The line ``z = slope * depth + c`` through ground ``points`` (N, 3), ``depth`` their horizontal
    distance from ``camera_position`` along ``view_heading`` (the camera's horizontal viewing direction);
    a least-squares fit, refitted without points :data:`OUTLIER_MADS` robust deviations off it."""
    heading = np.asarray(view_heading, dtype=float)[:2]
    heading = heading / max(float(np.linalg.norm(heading)), 1e-9)
    if len(points) < MIN_POINTS:
        return GroundFit(0.0, np.inf, 0.0, len(points), False, f"{len(points)} ground points (need {MIN_POINTS})")
    depth = (points[:, :2] - np.asarray(camera_position, dtype=float)[:2]) @ heading
    line = _robust_line(depth, points[:, 2])
    if line is None:
        return GroundFit(0.0, np.inf, 0.0, 0, False, "the ground points do not lie on a line")
    coef, covariance, keep = line
    n = int(keep.sum())
    spread = float(np.ptp(depth[keep]))
    if spread < MIN_DEPTH_SPREAD_M:
        return GroundFit(float(np.degrees(np.arctan(coef[0]))), np.inf, spread, n, False,
                         f"the person stays within {spread:.1f} m of one distance from the camera")  # fmt: skip
    se = float(np.sqrt(covariance[0, 0]))
    slope_deg = float(np.degrees(np.arctan(coef[0])))
    se_deg = float(np.degrees(se / (1.0 + coef[0] ** 2)))  # d(atan s) = ds / (1 + s^2)
    if se_deg > MAX_SLOPE_SE_DEG:
        return GroundFit(slope_deg, se_deg, spread, n, False, f"the ground's slope is uncertain (+-{se_deg:.1f} deg)")
    return GroundFit(slope_deg, se_deg, spread, n, True, f"{n} ground points over {spread:.1f} m of distance")


def _robust_line(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``y = coef[0] x + coef[1]`` by least squares, refitted without points :data:`OUTLIER_MADS` robust
    deviations off it: (coef, its covariance, the points kept), or None when under :data:`MIN_POINTS` remain."""
    design = np.c_[x, np.ones(len(x))]
    keep = np.ones(len(x), bool)
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(design[keep], y[keep], rcond=None)
        residual = y - design @ coef
        scale = 1.4826 * np.median(np.abs(residual[keep])) + 1e-3
        keep = np.abs(residual) <= OUTLIER_MADS * scale
        if keep.sum() < MIN_POINTS:
            return None
    variance = (residual[keep] ** 2).sum() / max(int(keep.sum()) - 2, 1)
    return coef, variance * np.linalg.inv(design[keep].T @ design[keep]), keep


@dataclass(frozen=True)
class HorizonFit:
    """The camera's pitch from the person's image size against their feet's row (no lifted depth)."""

    pitch_deg: float  # > 0 looks up
    pitch_se_deg: float
    size_change: float  # how much the person's image height changes over the clip, as a share of it
    points: int
    conclusive: bool
    reason: str

    def to_dict(self) -> dict[str, float | int | bool | str]:
        return {
            "pitch_deg": round(self.pitch_deg, 2), "pitch_se_deg": round(self.pitch_se_deg, 2),
            "size_change": round(self.size_change, 3), "points": self.points, "conclusive": self.conclusive,
            "reason": self.reason,
        }  # fmt: skip


def level_rows(rows_px: np.ndarray, pitch_deg: float, focal_px: float, centre_row: float) -> np.ndarray:
    """Image rows as a level camera at the same place would see them (zero roll; ``pitch_deg`` > 0 looks up)."""
    tilt = np.radians(pitch_deg)
    down = (np.asarray(rows_px, dtype=float) - centre_row) / focal_px
    return centre_row + focal_px * (down * np.cos(tilt) - np.sin(tilt)) / (down * np.sin(tilt) + np.cos(tilt))


def size_points(ref: Reference, focal_px: float, pitch_deg: float) -> np.ndarray:
    """(N, 2) per step-long window mostly detected: the median feet row and shoulders-to-feet height (px),
    in a level camera's rows (:func:`level_rows` at ``pitch_deg``)."""
    rows = level_rows(ref.keypoints_px()[..., 1], pitch_deg, focal_px, ref.image_size[1] / 2)
    feet = rows[:, _FEET].mean(axis=1)
    height = feet - rows[:, _SHOULDERS].mean(axis=1)
    seen = detected_frames(ref)
    points = [(np.median(feet[w][seen[w]]), np.median(height[w][seen[w]])) for w in _step_windows(seen, ref.fps)]
    return np.reshape(points, (-1, 2))


def fit_horizon(ref: Reference, focal_px: float, iterations: int = 30) -> HorizonFit:
    """The pitch at which the person's image height, in a level camera's rows, falls to zero at the
    horizon (the image centre's row): iterated from level (module docstring)."""
    centre, pitch = ref.image_size[1] / 2, 0.0
    for _ in range(iterations):
        points = size_points(ref, focal_px, pitch)
        line = _robust_line(points[:, 0], points[:, 1]) if len(points) >= MIN_POINTS else None
        if line is None:
            return HorizonFit(0.0, np.inf, 0.0, len(points), False, "too few steps seen for the person's size")
        (slope, offset), covariance, keep = line
        kept = points[keep, 1]
        change = float(np.ptp(kept) / max(np.median(kept), 1e-9))
        if change < MIN_SIZE_CHANGE or slope <= 0:
            return HorizonFit(0.0, np.inf, change, int(keep.sum()), False,
                              f"the person's size changes by {100 * change:.0f} % (stays near one distance)")  # fmt: skip
        horizon = -offset / slope
        step = float(np.degrees(np.arctan((horizon - centre) / focal_px)))
        pitch += step
        if abs(step) < 0.01 or abs(pitch) > 80:  # settled, or running away
            break
    if abs(pitch) > 80:
        return HorizonFit(pitch, np.inf, change, int(keep.sum()), False, "the person's size gives no horizon")
    gradient = np.array([offset / slope**2, -1.0 / slope])  # of the horizon row in (slope, offset)
    se = float(np.degrees(np.sqrt(gradient @ covariance @ gradient) / focal_px))
    reason = f"the person's size in the image ({100 * change:.0f} % change over {int(keep.sum())} steps)"
    return HorizonFit(pitch, se, change, int(keep.sum()), se <= MAX_SLOPE_SE_DEG, reason)


@dataclass(frozen=True)
class FeetFit:
    """The camera's pitch and height at which every step's feet lie on one level ground (no lifted depth)."""

    pitch_deg: float  # > 0 looks up
    pitch_se_deg: float
    camera_height_m: float  # above the ground the feet stand on, at that pitch
    height_spread: float  # relative spread of the camera height the steps give at that pitch (0.03: 3 %)
    points: int
    feet_below_horizon_deg: float  # the camera must look at least this far down (> 0 up) for every step's feet
    conclusive: bool
    reason: str

    def to_dict(self) -> dict[str, float | int | bool | str]:
        return {
            "pitch_deg": round(self.pitch_deg, 2), "pitch_se_deg": round(self.pitch_se_deg, 2),
            "camera_height_m": round(self.camera_height_m, 2), "height_spread": round(self.height_spread, 3),
            "points": self.points, "feet_below_horizon_deg": round(self.feet_below_horizon_deg, 2), "conclusive": self.conclusive, "reason": self.reason,
        }  # fmt: skip


def camera_heights(feet_rows: np.ndarray, shoulder_rows: np.ndarray, pitch_deg: np.ndarray, focal_px: float,
                   centre_row: float) -> np.ndarray:
    """(P, N) the camera's height above the feet, in shoulder heights, at each of ``pitch_deg`` (P,) (> 0
    looks up) implied by N ``feet_rows`` and ``shoulder_rows`` (px) of an upright person: turned to a level
    camera's rows (:func:`level_rows`), ``(feet - centre) / (feet - shoulders)`` (Hoiem et al.'s
    ``h = (H / H_cam) (v_b - v0)``, exact for a level camera). Not positive: the feet above the horizon."""
    out = []
    for pitch in np.atleast_1d(pitch_deg):
        feet = level_rows(feet_rows, pitch, focal_px, centre_row)
        size = feet - level_rows(shoulder_rows, pitch, focal_px, centre_row)
        out.append((feet - centre_row) / np.maximum(size, 1e-6))
    return np.array(out)


def fit_feet_on_ground(ref: Reference, focal_px: float, shoulder_height_m: float) -> FeetFit:
    """The pitch at which the camera's height above the feet that each step-long window implies (its feet's
    median row and the body's median image size, :func:`camera_heights`) is most nearly one height: the
    feet of a person walking or running on level ground all lie on one plane (Hoiem, Efros & Hebert 2006,
    with the body's foreshortening). The standard error is where the windows' spread (log heights) grows
    by one chi-square unit (a window's spread taken as at least :data:`MIN_HEIGHT_NOISE`); a person at one
    distance (one row) leaves the pitch free (no fit)."""
    seen = detected_frames(ref)
    px = ref.keypoints_px()
    feet, shoulders = px[:, _FEET, 1].mean(axis=1), px[:, _SHOULDERS, 1].mean(axis=1)
    windows = _step_windows(seen, ref.fps)
    points = np.array([(np.median(feet[w][seen[w]]), np.median(shoulders[w][seen[w]])) for w in windows]).reshape(-1, 2)
    n = len(points)
    if n < MIN_POINTS:
        return FeetFit(0.0, np.inf, 0.0, 0.0, n, float(PITCH_GRID_DEG[-1]), False, f"{n} steps seen (need {MIN_POINTS})")
    heights = shoulder_height_m * camera_heights(points[:, 0], points[:, 1], PITCH_GRID_DEG, focal_px, ref.image_size[1] / 2)
    feasible = (heights > 0).all(axis=1)  # the camera above every step's feet
    below = float(PITCH_GRID_DEG[feasible].max()) if feasible.any() else float(PITCH_GRID_DEG[0])
    logs = np.log(np.where(heights > 0, heights, 1.0))
    spread = np.where(feasible, logs.var(axis=1, ddof=1), np.inf)
    best = int(np.argmin(spread))
    if not np.isfinite(spread[best]):
        return FeetFit(0.0, np.inf, 0.0, 0.0, n, below, False, "no camera pitch puts every step's feet below it")
    noise = max(float(spread[best]), MIN_HEIGHT_NOISE**2)
    within = PITCH_GRID_DEG[(n - 1) * (spread - spread[best]) / noise <= 1.0]  # one chi-square unit
    se = (within.max() - within.min()) / 2 if within.min() > PITCH_GRID_DEG[0] and within.max() < PITCH_GRID_DEG[-1] else np.inf
    pitch = float(PITCH_GRID_DEG[best])
    height = float(np.exp(logs[best].mean()))
    rows_spread = float(np.ptp(points[:, 0]))
    reason = f"the feet of {n} steps on one ground ({rows_spread:.0f} px of rows): camera {height:.1f} m up"
    conclusive = bool(se <= MAX_FEET_FIT_SE_DEG)
    if not conclusive:
        reason = f"the feet of {n} steps on one ground leave the pitch free ({rows_spread:.0f} px of rows)"
    return FeetFit(pitch, float(se), height, float(np.sqrt(spread[best])), n, below, conclusive, reason)


@dataclass(frozen=True)
class PitchDecision:
    """The camera's pitch from the person's size, the ground's slope or the feet on one ground, and
    whether to believe it."""

    pitch_deg: float  # > 0 looks up
    pitch_se_deg: float
    source: str  # "size", "ground", "feet" or "" (none)
    conclusive: bool  # False with source "feet": used, but uncertain
    reason: str


def decide_pitch(
    ground: GroundFit, pitch_before_deg: float, horizon: HorizonFit, feet: FeetFit | None = None
) -> PitchDecision:
    """One pitch from the evidence: the person's size when conclusive, else the ground's slope when
    conclusive, else the feet on one ground (:func:`fit_feet_on_ground`) when it rejects the pitch assumed
    (more than :data:`MIN_REJECTION_SE` of its standard errors off, e.g. a level camera whose horizon lies
    below the person's feet), as an uncertain pitch, else none. The size comes first: it needs no lifted
    depth, whereas the ground points are each a window's lowest lifted foot, which picks the frames whose
    depth noise puts the foot lowest (``benchmarks/bench_pitch.py``: CMU walk 39_13 12 m away, 20 deg down,
    the person's image size jittering 12 % a frame: the ground's slope read 17.0-19.9 deg +-2.1-2.9, the
    size 20.2-20.6). A ground slope that disagrees is said in the reason."""
    from_ground = pitch_before_deg - ground.slope_deg
    said_ground = f"the ground's slope {from_ground:+.1f} +-{ground.slope_se_deg:.1f} deg"
    if horizon.conclusive:
        reason = f"{horizon.reason}: {horizon.pitch_deg:+.1f} +-{horizon.pitch_se_deg:.1f} deg"
        joint = np.hypot(ground.slope_se_deg, horizon.pitch_se_deg)
        if np.isfinite(joint) and abs(from_ground - horizon.pitch_deg) > MAX_DISAGREEMENT_SE * joint:
            reason += f" ({said_ground} disagrees: the lift's depth may be noisy)"
        return PitchDecision(horizon.pitch_deg, horizon.pitch_se_deg, "size", True, reason)
    if ground.conclusive:
        reason = (
            f"the ground the runner stands on ({ground.reason}): {from_ground:+.1f} +-{ground.slope_se_deg:.1f} deg"
        )
        return PitchDecision(from_ground, ground.slope_se_deg, "ground", True, reason)
    weak = f"{ground.reason}; {horizon.reason}"
    if feet is not None and feet.conclusive and abs(feet.pitch_deg - pitch_before_deg) > MIN_REJECTION_SE * feet.pitch_se_deg:
        reason = (
            f"the pitch assumed ({pitch_before_deg:+.1f} deg) would not keep the feet on one floor ({feet.reason}: "
            f"{feet.pitch_deg:+.1f} +-{feet.pitch_se_deg:.1f} deg; {weak})"
        )
        return PitchDecision(feet.pitch_deg, feet.pitch_se_deg, "feet", False, reason)
    return PitchDecision(pitch_before_deg, np.inf, "", False, weak if feet is None else f"{weak}; {feet.reason}")
