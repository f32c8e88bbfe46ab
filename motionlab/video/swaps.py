"""Left/right swap repair for MediaPipe landmarks.

Seen from the side, MediaPipe Pose sometimes labels the far leg as the near one (or the whole body
mirrored) for a frame or a few. Each frame is compared with the pose predicted from the frames before it
(constant velocity); when relabelling the legs or the whole body explains it clearly better (the cost
at most ``margin`` of the unchanged labels'), the labels are swapped. Gaps restart the prediction.
"""

from __future__ import annotations

import numpy as np

from motionlab.keypoints import BODY_LANDMARKS, INDEX, MIRROR_PERMUTATION, NUM_LANDMARKS

_LEGS = [INDEX[f"{s}_{p}"] for s in ("left", "right") for p in ("knee", "ankle", "heel", "foot_index")]
_LEG_SWAP = np.arange(NUM_LANDMARKS)
_LEG_SWAP[_LEGS] = np.asarray(MIRROR_PERMUTATION)[_LEGS]
_ALL_SWAP = np.asarray(MIRROR_PERMUTATION)
_COMPARED = sorted(set(BODY_LANDMARKS) | set(_LEGS))


def fix_left_right_swaps(
    keypoints_px: np.ndarray, valid: np.ndarray, margin: float = 0.5
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Per-frame landmark permutations (T, 33) that undo left/right swaps in ``keypoints_px`` (T, 33, 2),
    and the repaired frames as ``(frame, "legs" | "body")``. Apply with ``np.take_along_axis``."""
    T = len(keypoints_px)
    perms = np.tile(np.arange(NUM_LANDMARKS), (T, 1))
    fixed = keypoints_px.astype(float).copy()
    repairs: list[tuple[int, str]] = []
    for t in range(1, T):
        if not (valid[t] and valid[t - 1]):
            continue
        predicted = fixed[t - 1] if t < 2 or not valid[t - 2] else 2 * fixed[t - 1] - fixed[t - 2]

        def cost(perm: np.ndarray) -> float:
            d = keypoints_px[t, perm][_COMPARED] - predicted[_COMPARED]  # noqa: B023 (called in this iteration)
            return float((d * d).sum())

        same = cost(perms[t])
        name, perm = min((("legs", _LEG_SWAP), ("body", _ALL_SWAP)), key=lambda c: cost(c[1]))
        if cost(perm) < margin * same:
            perms[t] = perm
            fixed[t] = keypoints_px[t, perm]
            repairs.append((t, name))
    return perms, repairs
