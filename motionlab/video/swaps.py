"""Left/right swap repair for MediaPipe landmarks.

Seen from the side, MediaPipe Pose sometimes labels the far leg as the near one (or the whole body
mirrored), for a frame or for a run of frames. The labels are decided over the whole clip at once: each
frame is read unchanged, with its legs relabelled or mirrored whole, and a dynamic programme (Viterbi over
pairs of consecutive labellings) picks the sequence with the least total cost. The cost of a labelling:

* **smooth motion**: the landmarks' summed squared acceleration (in torso lengths), each landmark's capped
  at half a torso length (a swap moves eight leg landmarks at once, while a few landmarks jumping where the
  legs cross in the image must not relabel the rest of the clip);
* **feet that move as feet do** (:func:`foot_speed_band`): along the walking direction, relative to the
  hips, a planted foot moves back at the body's speed over the ground and a swinging one forward at up to
  about three times it; a foot label moving back faster, or forward much faster, has jumped from one foot
  to the other. The walking direction is the way the face points (nose ahead of the ears' midpoint) and
  the body's speed the pace at which the rearmost foot moves back; both are the same whichever leg is
  called left, and the cue is off when the face is not seen from the side;
* **MediaPipe's labels as the prior**: a cost per relabelled frame (a mirrored body costs more than
  swapped legs) and a cost per change of labelling between consecutive frames, so that MediaPipe's own
  labels win unless the motion clearly says otherwise.

Why the feet: a walk's half-stride swap (MediaPipe gives the leading foot the other foot's label from just
after the legs cross until the trailing foot is well off the ground, 9-15 frames at 30 fps) starts and
ends where only the legs' velocities change, and by little, so smoothness alone does not overturn it, and
the walk read as a run at twice its cadence (each label landed once per step). Where the swap ends,
MediaPipe's label jumps back from the leading foot to the trailing one, a foot moving back at several
times the body's speed, which no foot does. Measured on the project's rendered test videos
(``benchmarks/bench_swaps.py``, README "Left and right legs"). Its limits: a swap running into the start
or end of the clip has one end to give evidence; at 10 fps on a small person (``vtest.avi``) the feet's
per-frame motion is as large as the jumps and the cue does not help (the costs are per frame, chosen at
30 fps). MediaPipe's world landmarks are swapped with its 2D and put the leg it labels left on the left of
the hips, so they do not tell the true labels. Gaps in detection split the clip; runs of fewer than three
frames are left as detected.
"""

from __future__ import annotations

import numpy as np

from motionlab.keypoints import BODY_LANDMARKS, INDEX, MIRROR_PERMUTATION, NUM_LANDMARKS
from motionlab.video.smoothing import valid_runs

LEG_LANDMARKS = [INDEX[f"{s}_{p}"] for s in ("left", "right") for p in ("knee", "ankle", "heel", "foot_index")]
FOOT_LANDMARKS = [INDEX[f"{s}_{p}"] for s in ("left", "right") for p in ("ankle", "heel", "foot_index")]
_ANKLES = [INDEX["left_ankle"], INDEX["right_ankle"]]
_HIPS = [INDEX["left_hip"], INDEX["right_hip"]]
_EARS = [INDEX["left_ear"], INDEX["right_ear"]]
_LEG_SWAP = np.arange(NUM_LANDMARKS)
_LEG_SWAP[LEG_LANDMARKS] = np.asarray(MIRROR_PERMUTATION)[LEG_LANDMARKS]
_ALL_SWAP = np.asarray(MIRROR_PERMUTATION)
_COMPARED = sorted(set(BODY_LANDMARKS) | set(LEG_LANDMARKS))
LABELLINGS = {"as detected": np.arange(NUM_LANDMARKS), "legs": _LEG_SWAP, "body": _ALL_SWAP}
"""The labellings each frame may take, in the order of the dynamic programme's states."""
RELABEL_COST = np.array([0.0, 0.3, 0.45])
"""Cost of reading one frame with each labelling, in the units of one frame's summed capped squared
acceleration (torso lengths per frame^2, squared); a mirrored body is rarer than swapped legs."""
SWITCH_COST = np.array([[0.0, 0.5, 0.5], [0.5, 0.0, 0.35], [0.5, 0.35, 0.0]])
"""Cost of each change of labelling between consecutive frames, (from, to) in the order of
:data:`LABELLINGS`, in the same units: a relabelled stretch pays it entering and leaving, whatever its
length. Between swapped legs and a mirrored body it is less (MediaPipe flips the arms for a frame or two
inside a leg swap; at 0.5 the start of the rendered ``cmu_walk_static`` was read mirrored whole). It goes
with the foot cue and is not charged when that is off (the face not seen from the side): without the
feet's evidence it kept more of MediaPipe's swaps (on the renders of ``benchmarks/bench_swaps.py`` and
``bench_metrics.py``: 222 swapped frames, 214 without it, 76 with the cue)."""
ACCELERATION_CAP = 0.5
"""Largest acceleration (torso lengths per frame^2) one landmark contributes; beyond it, an outlier."""
FOOT_SPEED_BAND = (-1.5, 5.0)
"""Slowest and fastest a foot landmark moves along the walking direction relative to the hips, in
multiples of the body's speed over the ground (the true feet of the rendered CMU walks and runs and
DeepMimic's run, heel and toe included: -2.3 to 3.1; MediaPipe's label jumps: beyond -8 and 7)."""
FOOT_SPEED_WEIGHT = 10.0
"""Cost per squared excess over :data:`FOOT_SPEED_BAND` (torso lengths per frame), per foot landmark."""
MIN_FACING = 0.03
"""Nose ahead of the ears' midpoint by at least this (torso lengths, median over the clip): the face is
seen from the side and gives the walking direction."""
MIN_BODY_SPEED = 0.02
"""Floor on the body's speed (torso lengths per frame) that scales the band (someone standing still)."""


def fix_left_right_swaps(keypoints_px: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Per-frame landmark permutations (T, 33) that undo left/right swaps in ``keypoints_px`` (T, 33, 2),
    and the repaired frames as ``(frame, "legs" | "body")``. Apply with ``np.take_along_axis``."""
    T = len(keypoints_px)
    names = list(LABELLINGS)
    states = np.zeros(T, dtype=int)
    scale = _torso_px(keypoints_px, valid)
    for start, stop in valid_runs(valid):
        if stop - start >= 3:
            states[start:stop] = _cheapest_labels(keypoints_px[start:stop] / scale)
    perms = np.stack(list(LABELLINGS.values()))[states]
    return perms, [(int(t), names[s]) for t, s in enumerate(states) if s]


def _cheapest_labels(px: np.ndarray) -> np.ndarray:
    """Viterbi over states (labelling at t-1, labelling at t): the labelling per frame of ``px`` (n, 33, 2,
    in torso lengths) with the least cost (module docstring)."""
    labelled = np.stack([px[:, perm] for perm in LABELLINGS.values()], axis=1)  # (n, K, 33, 2)
    options = labelled[:, :, _COMPARED]
    feet = foot_speed_band(labelled)  # (n - 1, K, K): labellings of frames t-1 and t
    switch = SWITCH_COST if _walking_direction(labelled[:, 0]) else np.zeros_like(SWITCH_COST)
    cost = RELABEL_COST[:, None] + RELABEL_COST[None, :] + switch + feet[0]  # (a, b): labellings of frames 0, 1
    back = []
    for t in range(2, len(px)):
        # acceleration for labellings (a, b, c) of frames t-2, t-1, t
        acc = options[t][None, None] - 2 * options[t - 1][None, :, None] + options[t - 2][:, None, None]
        step = np.minimum((acc**2).sum(-1), ACCELERATION_CAP**2).sum(-1)
        total = cost[:, :, None] + step + (RELABEL_COST[None, :] + switch + feet[t - 1])[None]
        back.append(total.argmin(axis=0))  # best a for each (b, c)
        cost = total.min(axis=0)
    b, c = np.unravel_index(int(cost.argmin()), cost.shape)
    labels = [int(c), int(b)]
    for best in reversed(back):
        labels.append(int(best[labels[-1], labels[-2]]))
    return np.asarray(labels[::-1])


def foot_speed_band(labelled: np.ndarray) -> np.ndarray:
    """(n - 1, K, K): cost of each pair of labellings of frames t-1 and t of ``labelled`` (n, K, 33, 2, in
    torso lengths; K labellings of each frame) for foot landmarks moving outside :data:`FOOT_SPEED_BAND`
    along the walking direction relative to the hips (module docstring); zeros when the direction is not
    known."""
    n, K = labelled.shape[:2]
    as_detected = labelled[:, 0]
    direction = _walking_direction(as_detected)
    if direction == 0.0 or n < 2:
        return np.zeros((max(n - 1, 0), K, K))
    along = direction * (labelled[..., 0] - labelled[:, :, _HIPS, 0].mean(axis=-1, keepdims=True))  # (n, K, 33)
    ankles = np.diff(along[:, 0, _ANKLES], axis=0)
    body_speed = max(-float(np.median(ankles.min(axis=1))), MIN_BODY_SPEED)  # the rearmost foot moves back
    slowest, fastest = (body_speed * k for k in FOOT_SPEED_BAND)
    feet = along[:, :, FOOT_LANDMARKS]
    speed = feet[1:, None, :] - feet[:-1, :, None]  # (n - 1, K of t-1, K of t, feet)
    excess = np.maximum(slowest - speed, 0.0) + np.maximum(speed - fastest, 0.0)
    return FOOT_SPEED_WEIGHT * (excess**2).sum(axis=-1)


def _walking_direction(px: np.ndarray) -> float:
    """+1 or -1: the image x direction the face points (nose ahead of the ears' midpoint, median over the
    frames of ``px`` (n, 33, 2) in torso lengths); 0 when it is less than :data:`MIN_FACING` either way."""
    ahead = float(np.median(px[:, INDEX["nose"], 0] - px[:, _EARS, 0].mean(axis=1)))
    return float(np.sign(ahead)) if abs(ahead) >= MIN_FACING else 0.0


def _torso_px(keypoints_px: np.ndarray, valid: np.ndarray) -> float:
    """Median shoulder-centre to hip-centre distance over the valid frames (1 when there is none)."""
    seen = keypoints_px[np.asarray(valid, dtype=bool)]
    shoulders = seen[:, [INDEX["left_shoulder"], INDEX["right_shoulder"]]].mean(axis=1)
    hips = seen[:, [INDEX["left_hip"], INDEX["right_hip"]]].mean(axis=1)
    lengths = np.linalg.norm(shoulders - hips, axis=-1)
    torso = float(np.median(lengths)) if len(lengths) else 0.0
    return torso if torso > 0 else 1.0
