"""Left/right swap repair for MediaPipe landmarks.

Seen from the side, MediaPipe Pose sometimes labels the far leg as the near one (or the whole body
mirrored), for a frame or for a run of frames. The labels are decided over the whole clip at once: each
frame is read unchanged, with its legs relabelled or mirrored whole, and a dynamic programme (Viterbi over
pairs of consecutive labellings) picks the sequence whose landmarks move most smoothly (least summed
squared acceleration, in torso lengths), with a cost per relabelled frame, so that MediaPipe's own labels
win unless the motion clearly says otherwise. Each landmark's squared acceleration is capped (at half a
torso length): a swap moves eight leg landmarks at once, while a few landmarks jumping where the legs cross
in the image must not relabel the rest of the clip.

Measured on the project's rendered test videos (``benchmarks/bench_swaps.py``, README "Left and right
legs"): a frame-by-frame repair against a constant-velocity prediction turned MediaPipe's short swaps into
long ones (a wrong decision where the legs cross in the image carried on to every later frame: 313 swapped
frames of 933 where MediaPipe had 148); deciding over the clip leaves 93. MediaPipe's world landmarks are
swapped with its 2D and put the leg it labels left on the left of the hips, so they do not tell the true
labels; motion continuity carries the decision. Its limit: a walk's half-stride swap starts and ends where
the legs cross in the image, where only the legs' velocities change, and by little; it is not overturned.
Gaps in detection split the clip; runs of fewer than three frames are left as detected.
"""

from __future__ import annotations

import numpy as np

from motionlab.keypoints import BODY_LANDMARKS, INDEX, MIRROR_PERMUTATION, NUM_LANDMARKS
from motionlab.video.smoothing import valid_runs

LEG_LANDMARKS = [INDEX[f"{s}_{p}"] for s in ("left", "right") for p in ("knee", "ankle", "heel", "foot_index")]
_LEG_SWAP = np.arange(NUM_LANDMARKS)
_LEG_SWAP[LEG_LANDMARKS] = np.asarray(MIRROR_PERMUTATION)[LEG_LANDMARKS]
_ALL_SWAP = np.asarray(MIRROR_PERMUTATION)
_COMPARED = sorted(set(BODY_LANDMARKS) | set(LEG_LANDMARKS))
LABELLINGS = {"as detected": np.arange(NUM_LANDMARKS), "legs": _LEG_SWAP, "body": _ALL_SWAP}
"""The labellings each frame may take, in the order of the dynamic programme's states."""
RELABEL_COST = np.array([0.0, 0.3, 0.45])
"""Cost of reading one frame with each labelling, in the units of one frame's summed capped squared
acceleration (torso lengths per frame^2, squared); a mirrored body is rarer than swapped legs."""
ACCELERATION_CAP = 0.5
"""Largest acceleration (torso lengths per frame^2) one landmark contributes; beyond it, an outlier."""


def fix_left_right_swaps(keypoints_px: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Per-frame landmark permutations (T, 33) that undo left/right swaps in ``keypoints_px`` (T, 33, 2),
    and the repaired frames as ``(frame, "legs" | "body")``. Apply with ``np.take_along_axis``."""
    T = len(keypoints_px)
    names = list(LABELLINGS)
    states = np.zeros(T, dtype=int)
    scale = _torso_px(keypoints_px, valid)
    for start, stop in valid_runs(valid):
        if stop - start >= 3:
            states[start:stop] = _smoothest_labels(keypoints_px[start:stop] / scale)
    perms = np.stack(list(LABELLINGS.values()))[states]
    return perms, [(int(t), names[s]) for t, s in enumerate(states) if s]


def _smoothest_labels(px: np.ndarray) -> np.ndarray:
    """Viterbi over states (labelling at t-1, labelling at t): the labelling per frame of ``px`` (n, 33, 2,
    in torso lengths) with the least capped acceleration plus relabelling cost."""
    options = np.stack([px[:, perm][:, _COMPARED] for perm in LABELLINGS.values()], axis=1)  # (n, K, m, 2)
    cost = RELABEL_COST[:, None] + RELABEL_COST[None, :]  # (a, b): labellings of frames 0 and 1
    back = []
    for t in range(2, len(px)):
        # acceleration for labellings (a, b, c) of frames t-2, t-1, t
        acc = options[t][None, None] - 2 * options[t - 1][None, :, None] + options[t - 2][:, None, None]
        step = np.minimum((acc**2).sum(-1), ACCELERATION_CAP**2).sum(-1)
        total = cost[:, :, None] + step + RELABEL_COST[None, None, :]
        back.append(total.argmin(axis=0))  # best a for each (b, c)
        cost = total.min(axis=0)
    b, c = np.unravel_index(int(cost.argmin()), cost.shape)
    labels = [int(c), int(b)]
    for best in reversed(back):
        labels.append(int(best[labels[-1], labels[-2]]))
    return np.asarray(labels[::-1])


def _torso_px(keypoints_px: np.ndarray, valid: np.ndarray) -> float:
    """Median shoulder-centre to hip-centre distance over the valid frames (1 when there is none)."""
    seen = keypoints_px[np.asarray(valid, dtype=bool)]
    shoulders = seen[:, [INDEX["left_shoulder"], INDEX["right_shoulder"]]].mean(axis=1)
    hips = seen[:, [INDEX["left_hip"], INDEX["right_hip"]]].mean(axis=1)
    lengths = np.linalg.norm(shoulders - hips, axis=-1)
    torso = float(np.median(lengths)) if len(lengths) else 0.0
    return torso if torso > 0 else 1.0
