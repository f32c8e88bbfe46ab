"""Gait from keypoints alone: cadence, running or walking, and what that says about the time base.

The step period is the first lag at which the body's bounce repeats: the image height of the hips
and shoulders over the person's height, less its 1 s moving average (camera tilt, approach), by
normalised autocorrelation. The body rises and falls once per step in running and walking, and the
bounce does not depend on which leg MediaPipe calls left. When the first clear repeat is a whole
stride (a limp, or a bounce that differs between legs) and half of it also repeats, the half is taken;
when half of it is only a lesser peak of negative correlation (steps too unlike to repeat), the period is
not known (None), never the stride taken for a step. A running pose is told from a walking one by how
far the knees bend in swing (the lifted motion's knee angles, else MediaPipe's world landmarks, which
underestimate it: running swings past :data:`RUNNING_KNEE_FLEXION_DEG`, walking stays near 60-70 deg).
People run at 140-220 steps/min and walk at 90-130; a running pose at under :data:`SLOW_RUNNING_SPM` (or any gait under
:data:`SLOW_WALKING_SPM`) in video time means the video plays slower than it was filmed: slow motion.
The factor is the phone's usual one (2, 4 or 8) that brings the cadence to a typical one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from motionlab.humanoid import JOINT_NAMES
from motionlab.keypoints import INDEX
from motionlab.reference import Reference

RUNNING_KNEE_FLEXION_DEG = 72.0  # 90th percentile of knee flexion above this: a running pose (walking: ~60)
SLOW_RUNNING_SPM = 120.0
SLOW_WALKING_SPM = 70.0
TYPICAL_SPM = {"running": 170.0, "walking": 110.0}
SLOW_MOTION_FACTORS = (2, 4, 8)
PLAUSIBLE_SPM = {"running": (130.0, 230.0), "walking": (80.0, 140.0)}
MIN_CORRELATION = 0.3
_TRUNK = [INDEX[n] for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder")]
_FEET = [INDEX[n] for n in ("left_ankle", "right_ankle", "left_heel", "right_heel")]
_QPOS = {name: 7 + i for i, name in enumerate(JOINT_NAMES)}
_KNEES = [_QPOS["left_knee"], _QPOS["right_knee"]]
MIN_STEP_S = 0.2  # in video time (a 240 spm sprint at normal speed: 0.25 s)


@dataclass(frozen=True)
class Gait:
    """Cadence (steps per minute of video time; None when no periodic stride was found), the pose
    type, and the slow-motion factor it implies (1: none; None: implausible, ask the user)."""

    cadence_spm: float | None
    gait: str  # "running" or "walking"
    knee_flexion_deg: float
    slow_motion: float | None
    correlation: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "cadence_video_spm": None if self.cadence_spm is None else round(self.cadence_spm, 1),
            "gait": self.gait,
            "knee_flexion_p90_deg": round(self.knee_flexion_deg, 1),
            "slow_motion_factor": self.slow_motion,
            "stride_correlation": round(self.correlation, 3),
        }


def analyse_gait(ref: Reference) -> Gait:
    """Cadence, gait and implied slow-motion factor of the person in ``ref`` (module docstring): from
    its keypoints, and its lifted ``qpos``'s knee angles when it has one."""
    knee = float(np.rad2deg(np.percentile(ref.qpos[:, _KNEES], 90))) if ref.qpos is not None else _knee_flexion_p90(ref)
    period_s, corr = step_period(ref)
    gait = "running" if knee >= RUNNING_KNEE_FLEXION_DEG else "walking"
    if period_s is None:
        return Gait(None, gait, knee, 1.0, corr)
    cadence = 60.0 / period_s
    return Gait(cadence, gait, knee, _slow_motion_factor(cadence, gait), corr)


def step_period(ref: Reference) -> tuple[float | None, float]:
    """(seconds of video per step, its autocorrelation) from the image height of the hips and shoulders
    over the person's height (:func:`bounce_period`); None when no clear period."""
    px = ref.keypoints_px().astype(float)
    valid = ref.keypoints2d_valid
    if valid.sum() < 8:
        return None, 0.0
    height = float(np.median(px[valid][:, _FEET, 1].max(axis=1) - px[valid, INDEX["nose"], 1])) or 1.0
    frames, known = np.arange(len(px)), np.flatnonzero(valid)
    trunk = np.interp(frames, known, px[known][:, _TRUNK, 1].mean(axis=1)) / abs(height)
    return bounce_period(trunk, ref.fps)


def bounce_period(height: np.ndarray, fps: float) -> tuple[float | None, float]:
    """(seconds per step, its autocorrelation) of a body's bounce: ``height`` (T,) is any measure of how
    high the body is (the centre of mass in metres, the trunk's image row), sampled at ``fps``. The body
    rises and falls once per step in running and walking, so the step period is the first clear repeat of
    the height less its 1 s moving average (camera tilt, approach, a drifting floor), by normalised
    autocorrelation (module docstring); None (with the best correlation seen) when nothing repeats with a
    correlation of at least :data:`MIN_CORRELATION`. The one estimator of step timing from the bounce: the
    slow-motion check (:func:`step_period`) and the report's check of foot events against the body
    (:mod:`motionlab.inference.metrics`) both use it."""
    x = np.asarray(height, dtype=float)
    if len(x) < 8 or not np.isfinite(x).all():
        return None, 0.0
    window = max(int(round(fps)), 1)
    trend = np.convolve(
        np.pad(x, (window // 2, window - 1 - window // 2), mode="edge"), np.ones(window) / window, "valid"
    )
    return _first_repeat(x - trend, fps)


def _first_repeat(x: np.ndarray, fps: float) -> tuple[float | None, float]:
    """(seconds, correlation) of the first clear autocorrelation peak of ``x``; None when none. The
    period is then read off the latest clear repeat of the stride (an even multiple of the step, where
    unequal left and right steps do not shift the peak), divided by its multiple: sub-frame precision."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    min_lag = max(int(np.ceil(MIN_STEP_S * fps)), 2)
    max_lag = int(n * 0.6)
    if max_lag <= min_lag:
        return None, 0.0
    lags = np.arange(min_lag, max_lag + 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # a flat stretch has no correlation: 0
        corr = np.array([np.corrcoef(x[:-lag], x[lag:])[0, 1] for lag in lags])
    corr = np.nan_to_num(corr)
    peaks = [i for i in range(1, len(lags) - 1) if corr[i] >= corr[i - 1] and corr[i] >= corr[i + 1]]
    good = [i for i in peaks if corr[i] >= MIN_CORRELATION]
    if not good:
        return None, float(corr.max(initial=0.0))
    best = good[0]  # the first clear repeat is one step (later ones are multiples)
    half = [i for i in peaks if abs(lags[i] - lags[best] / 2) <= 0.15 * lags[best]]
    if half and corr[half[0]] <= 0.0:  # a repeat at half of it, but the steps differ too much to tell
        return None, float(corr[best])
    best = half[0] if half else best
    step = _peak_lag(corr, best) + lags[0]
    for k in range(2 * int(lags[-1] / step / 2), 0, -2):
        near = [i for i in good if abs(lags[i] - k * step) <= 0.15 * step]
        if near:
            return (_peak_lag(corr, max(near, key=lambda i: corr[i])) + lags[0]) / (k * fps), float(corr[best])
    return step / fps, float(corr[best])


def _peak_lag(corr: np.ndarray, i: int) -> float:
    """Sub-sample position of the peak of ``corr`` at index ``i``: a parabola through three samples."""
    a, b, c = corr[i - 1 : i + 2]
    return i + (0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0)


def _knee_flexion_p90(ref: Reference) -> float:
    """90th percentile over frames and both knees of the knee flexion (deg): 3D world landmarks when
    present, else the image (foreshortened: an underestimate)."""
    pts = (
        ref.world_keypoints
        if ref.world_keypoints is not None
        else np.c_[ref.keypoints_px(), np.zeros(ref.keypoints2d.shape[:2] + (1,))]
    )
    pts = np.asarray(pts, dtype=float)[ref.keypoints2d_valid]
    if len(pts) == 0:
        return 0.0
    angles = []
    for side in ("left", "right"):
        thigh = pts[:, INDEX[f"{side}_hip"]] - pts[:, INDEX[f"{side}_knee"]]
        shank = pts[:, INDEX[f"{side}_ankle"]] - pts[:, INDEX[f"{side}_knee"]]
        cos = (thigh * shank).sum(-1) / np.maximum(
            np.linalg.norm(thigh, axis=-1) * np.linalg.norm(shank, axis=-1), 1e-9
        )
        angles.append(180.0 - np.rad2deg(np.arccos(np.clip(cos, -1, 1))))
    return float(np.percentile(np.concatenate(angles), 90))


def _slow_motion_factor(cadence_spm: float, gait: str) -> float | None:
    """1 for a plausible cadence; the usual factor that makes it typical; None when none does."""
    slow = SLOW_RUNNING_SPM if gait == "running" else SLOW_WALKING_SPM
    if cadence_spm >= slow:
        return 1.0
    lo, hi = PLAUSIBLE_SPM[gait]
    factors = [k for k in SLOW_MOTION_FACTORS if lo <= cadence_spm * k <= hi]
    if not factors:
        return None
    return float(min(factors, key=lambda k: abs(np.log(cadence_spm * k / TYPICAL_SPM[gait]))))
