"""How far a lifted runner's speed over ground can be trusted: an uncertainty from the evidence behind it.

The speed over ground is the lifted root's travel; with a moving camera most of it is the camera's own
motion as read from the ground (:mod:`motionlab.camera_motion`, :func:`motionlab.footage.camera_track_from_motion`),
so a misread ground moves the runner as fast as the misreading says. What the speed rests on is checked
four ways; the relative standard uncertainties they give are combined in quadrature, and two of them can
also find the ground's motion misread outright (low confidence, no likely interval):

1. **Scatter**: the root's horizontal positions fitted with a straight line at constant speed (over the
   frames with a pose): the fit's standard error, and the positions' RMS distance from the line
   (``wander``) over the distance run. A stride's surge moves the root a centimetre or two about a
   steady run; a camera track or a depth misread from frame to frame moves it tens of centimetres.
2. **Ground geometry** (a camera travelling with the runner, horizon found): every frame pair gives its
   own horizon row (where the ground's motion falls to zero); a ground that moves as one plane gives the
   same row each time. The rows' spread divided by how far below the horizon the ground at the runner's
   depth lies (the lever the camera's motion is read with) is the per-frame relative error of that
   reading; the standard error of their median enters the uncertainty. A per-frame spread above
   :data:`INCONSISTENT_SPREAD` means what was followed was not one ground plane moving steadily (too
   little ground in view, a grazing view of it, walls taken for it): the speed is then of low confidence
   whatever the standard error says.
3. **The stance foot** (any camera whose image motion of the ground was measured): a foot in stance
   stands still on the ground, so in the image it moves as the ground under it does. Its slide over the
   ground as the measured motion has it (:func:`stance_slip`), beyond what a foot's roll from heel to
   toe gives, means that motion was misread: low confidence. This cue uses only the keypoints and the
   ground's motion, not the lift or the horizon.
4. **Lens**: travel along the camera's optical axis is measured from the runner's change of apparent
   size, which scales with the focal length: with an assumed lens (phone lenses span about 50-90 deg,
   x0.64-1.4 in such distances) :data:`LENS_UNCERTAINTY` times the share of the distance run that is
   such a change of depth (:func:`depth_share`: an approach, or a pan's approach and retreat).

Confidence: ``high`` up to :data:`HIGH_MAX` (the speed target of the rendered benchmark), ``medium`` up to
:data:`MEDIUM_MAX`, else ``low``; the likely interval is the speed +- 2 uncertainties. Calibrated on the
rendered setups of ``benchmarks/bench_lift.py --part videos`` and checked on its held-out ones
(``benchmarks/results/lift_videos_confidence.json``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from motionlab.keypoints import INDEX

HIGH_MAX = 0.05
MEDIUM_MAX = 0.15
INCONSISTENT_SPREAD = 0.3  # per-frame horizon spread / lever: 0.03-0.09 on the calibration setups read right
LENS_UNCERTAINTY = 0.3  # relative, of a speed along the line of sight with an assumed field of view
MIN_SPEED_MPS = 0.5  # relative uncertainties are taken of at least this speed (a runner on the spot)
INTERVAL_SIGMAS = 2.0
# The stance foot's slide over the ground / the runner's motion over it: a foot rolling from heel to toe
# moves forward in stance (-0.04 to 0.34 on the calibration setups read right: walkers the least); beyond
# SLIP_ROLL +- SLIP_LIMIT the ground's motion at the runner was misread.
SLIP_ROLL = 0.15
SLIP_LIMIT = 0.35
MIN_SCREEN_SPEED_PX = 2.0  # per frame: slower across the image, the slip is not measured
MIN_SLIP_FRAMES = 10
_FEET_SIDES = [[INDEX[f"{side}_{part}"] for part in ("heel", "foot_index", "ankle")] for side in ("left", "right")]
_HIPS = [INDEX["left_hip"], INDEX["right_hip"]]
_SE_MEDIAN = 1.2533  # standard error of a median = this x sigma / sqrt(n) (normal errors)


def _finite(x: float, digits: int) -> float | None:
    return round(float(x), digits) if np.isfinite(x) else None


def steady_speed_fit(qpos: np.ndarray, fps: float, observed: np.ndarray) -> tuple[float, float, float]:
    """``(speed m/s, its standard error m/s, wander m)`` of the root's horizontal travel fitted with a
    straight line at constant speed over the ``observed`` frames (the others were invented by the lift);
    ``wander``: the RMS distance of the positions from that line (a stride's surge is a centimetre or two;
    a depth misread from frame to frame, tens of centimetres)."""
    t = np.flatnonzero(observed) / fps
    if len(t) < 4 or np.ptp(t) <= 0:
        return 0.0, float("inf"), float("inf")
    design = np.c_[np.ones_like(t), t]
    coef, *_ = np.linalg.lstsq(design, qpos[observed, :2], rcond=None)
    residual = qpos[observed, :2] - design @ coef
    error = residual.std(axis=0, ddof=2) / (np.sqrt(len(t)) * t.std())
    return float(np.hypot(*coef[1])), float(np.hypot(*error)), float(np.sqrt((residual**2).sum(axis=1).mean()))


def speed_interval(value: float, uncertainty_rel: float) -> list[float]:
    """The likely interval of a figure measured with relative standard ``uncertainty_rel``: +- 2 of it."""
    half = INTERVAL_SIGMAS * uncertainty_rel * abs(value)
    return [round(max(value - half, 0.0), 3), round(value + half, 3)]


def depth_share(depth_m: np.ndarray, fps: float, observed: np.ndarray, distance: float) -> float:
    """The share of the ``distance`` run that came from the runner's change of depth (their apparent size):
    the path length of a quadratic fit of ``depth_m`` over the ``observed`` frames (it follows an approach,
    or a pan's approach and retreat, not the frame-to-frame scatter), at most 1."""
    t = np.flatnonzero(observed) / fps
    if len(t) < 4:
        return 0.0
    fit = np.polyval(np.polyfit(t, depth_m[observed], 2), np.linspace(t[0], t[-1], 200))
    return float(min(np.abs(np.diff(fit)).sum() / max(distance, 1e-9), 1.0))


def stance_slip(keypoints_px: np.ndarray, valid: np.ndarray, ground_flow_x: np.ndarray) -> float | None:
    """How fast the stance foot slides over the ground in the image, as a share of how fast the body moves
    over that foot (0 when the ground's motion was read right: a foot in stance stands still on the ground,
    so it moves in the image exactly as the ground under it; a misread by a factor ``k`` gives about
    ``k - 1``). ``keypoints_px`` (T, 33, 2) pixels, ``valid`` (T,) frames with a pose, ``ground_flow_x`` (T,)
    the ground's sideways image motion at the runner (px per frame, from frame t-1 to t). Per frame pair
    the foot (mean of heel, toe and ankle) that moves backwards most is the stance foot; medians over the
    clip. A foot rolling from heel to toe moves forwards a little in stance (:data:`SLIP_ROLL`). None when
    the runner crosses the image slower than :data:`MIN_SCREEN_SPEED_PX` (towards or away from the camera)."""
    pairs = np.flatnonzero(valid[1:] & valid[:-1]) + 1
    if len(pairs) < MIN_SLIP_FRAMES:
        return None
    feet = np.stack([keypoints_px[:, side].mean(axis=1)[:, 0] for side in _FEET_SIDES], axis=1)  # (T, 2) x
    hips = keypoints_px[:, _HIPS, 0].mean(axis=1)
    feet_moved, hips_moved, ground = feet[pairs] - feet[pairs - 1], hips[pairs] - hips[pairs - 1], ground_flow_x[pairs]
    forward = np.sign(np.median(hips_moved - ground))
    stance = (feet_moved * forward).min(axis=1)  # along the travel on screen
    body = np.median(hips_moved * forward - stance)
    if body < MIN_SCREEN_SPEED_PX:
        return None
    return float(np.median(stance - ground * forward) / body)


def assess_speed(
    qpos: np.ndarray,
    fps: float,
    observed: np.ndarray,
    camera_motion: dict[str, Any],
    lens_assumed: bool,
    depth_m: np.ndarray,
    slip: float | None = None,
) -> dict[str, Any]:
    """The speed's confidence (module docstring) for a lifted ``qpos`` (T, 35) at ``fps`` (real time);
    ``camera_motion``: the lift notes' entry (:meth:`motionlab.camera_motion.CameraMotion.to_dict` plus
    ``ground_row_below_horizon_px`` for a travelling camera); ``lens_assumed``: the field of view was not
    in the video's metadata; ``depth_m``: (T,) the runner's depth along the camera's optical axis
    (:func:`motionlab.footage.runner_depth_m`); ``slip``: :func:`stance_slip` (None: not measured)."""
    speed, noise_se, wander = steady_speed_fit(qpos, fps, observed)
    seconds = np.ptp(np.flatnonzero(observed)) / fps if observed.sum() > 1 else 0.0
    distance = max(speed, MIN_SPEED_MPS) * max(seconds, 1.0 / fps)
    parts = {"noise": noise_se / max(speed, MIN_SPEED_MPS), "wander": wander / distance}
    reasons: list[str] = []
    evidence: dict[str, Any] = {
        "speed_fit_mps": round(speed, 3), "speed_standard_error_mps": _finite(noise_se, 4),
        "wander_m": _finite(wander, 3), "distance_m": round(distance, 2),
    }  # fmt: skip
    if not np.isfinite(wander):
        reasons.append("too few frames with a pose to judge the speed")
    elif parts["wander"] > HIGH_MAX:
        reasons.append(
            f"the runner's position wanders {100 * wander:.0f} cm about a steady run over {distance:.1f} m "
            "(the camera's motion or the runner's distance misread from frame to frame)"
        )
    lever = camera_motion.get("ground_row_below_horizon_px")
    spread, frames = camera_motion.get("horizon_spread_px"), camera_motion.get("horizon_frames", 0)
    inconsistent = not np.isfinite(wander)  # no steady-speed fit: no likely interval either
    if lever is not None and spread is not None and frames:
        per_frame = spread / max(abs(lever), 1.0)
        parts["ground_geometry"] = _SE_MEDIAN * per_frame / np.sqrt(frames)
        evidence |= {"horizon_spread_px": spread, "ground_below_horizon_px": round(lever, 1),
                     "per_frame_ground_spread": round(per_frame, 3)}  # fmt: skip
        if per_frame > INCONSISTENT_SPREAD:
            inconsistent = True
            reasons.append(
                f"the ground's motion does not fit one moving plane: the horizon read from each frame scatters by "
                f"{spread:.0f} px against the {abs(lever):.0f} px the runner's ground lies below it (a grazing or "
                "small view of the ground, or the background taken for it)"
            )
    if slip is not None:
        evidence["stance_foot_slip"] = round(slip, 3)
        if abs(slip - SLIP_ROLL) > SLIP_LIMIT:
            inconsistent = True
            reasons.append(
                f"the foot in stance slides {'forwards' if slip > 0 else 'backwards'} over the ground at "
                f"{100 * abs(slip):.0f} % of the runner's speed in the image: the ground's motion at the runner "
                "was misread"
            )
    along_sight = depth_share(depth_m, fps, observed, distance)
    evidence["share_read_from_apparent_size"] = round(along_sight, 3)
    if lens_assumed:
        parts["lens"] = LENS_UNCERTAINTY * along_sight
        if parts["lens"] > HIGH_MAX:
            reasons.append(
                f"{100 * along_sight:.0f} % of the distance was read from the runner's change of apparent size "
                "(towards or away from the camera), which scales with the unknown lens"
            )
    total = min(float(np.sqrt(sum(v**2 for v in parts.values()))), 9.99)  # too few frames: infinite
    level = "low" if inconsistent or total > MEDIUM_MAX else "medium" if total > HIGH_MAX else "high"
    if level != "high" and not reasons:
        reasons.append(f"{distance:.1f} m measured in {seconds:.1f} s: small errors add up to +-{100 * total:.0f} %")
    # about the mean speed the report gives (first to last frame); a ground read inconsistently gives no
    # likely interval: its error is a bias, not the scatter measured
    mean_speed = float(np.hypot(*(qpos[-1, :2] - qpos[0, :2])) * fps / max(len(qpos) - 1, 1))
    interval = None if inconsistent else speed_interval(mean_speed, total)
    out = {
        "level": level,
        "speed_mps": round(mean_speed, 3),
        "uncertainty_rel": round(total, 4),
        "interval_mps": interval,
        "parts": {k: round(min(float(v), 9.99), 4) for k, v in parts.items()},
        "reasons": reasons,
        "evidence": evidence,
        "warn": level == "low",  # said on the console; a medium one is shown with its interval
    }
    if level != "high":
        read = (
            f"speed over ground of {level} confidence: {mean_speed:.1f} m/s, likely {interval[0]:.1f}-{interval[1]:.1f} m/s"
            if interval
            else f"speed over ground not measured reliably: read as {mean_speed:.1f} m/s, not trusted"
        )
        out["message"] = (
            read
            + (f" ({'; '.join(reasons)})" if reasons else "")
            + "; give --camera-speed M/S if you know how the camera moved"
        )
    return out
