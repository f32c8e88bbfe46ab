"""Find a small person in a frame that MediaPipe's full-frame detector misses.

MediaPipe Pose's person detector needs a person of roughly a quarter of the frame's height; a runner
filmed from afar is smaller, and the full-frame pass then finds nobody or locks onto a low-visibility
"skeleton" in the background. :func:`find_person` runs Pose (single-image mode) on overlapping square
tiles of the frame at two scales (half and a third of the short side, each upscaled like an ROI crop)
and keeps the detection that shows the body best: at least :data:`MIN_VISIBLE_LANDMARKS` of the 12
body landmarks at visibility :data:`VISIBLE` or more, the highest mean visibility among them.
:func:`follow_box` is the square crop around a tracked person that the follow mode of
:class:`motionlab.video.pose.PoseTracker` analyses next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from motionlab.keypoints import BODY_LANDMARKS

Box = tuple[int, int, int, int]  # x, y, w, h in pixels
TILE_FRACTIONS = (1 / 2, 1 / 3)  # tile sides as fractions of the frame's short side
VISIBLE = 0.5
MIN_VISIBLE_LANDMARKS = 6
FOLLOW_TORSOS = 8.0  # side of the crop that follows a person, in torso lengths (~2.4 body heights)
MIN_FOLLOW_SIDE = 48


def tiles(image_size: tuple[int, int]) -> list[Box]:
    """Overlapping square tiles (half a tile apart) covering the frame, at each of :data:`TILE_FRACTIONS`."""
    width, height = image_size
    out = []
    for fraction in TILE_FRACTIONS:
        side = int(min(width, height) * fraction)
        xs = np.unique(np.r_[np.arange(0, width - side, side // 2), width - side])
        ys = np.unique(np.r_[np.arange(0, height - side, side // 2), height - side])
        out += [(int(x), int(y), side, side) for y in ys for x in xs]
    return out


def body_visibility(keypoints: np.ndarray) -> float:
    """Mean visibility of the 12 body landmarks; 0 when fewer than :data:`MIN_VISIBLE_LANDMARKS` are seen."""
    vis = keypoints[list(BODY_LANDMARKS), 2]
    return float(vis.mean()) if (vis >= VISIBLE).sum() >= MIN_VISIBLE_LANDMARKS else 0.0


def find_person(detect: Callable[[Box], Any], image_size: tuple[int, int]) -> tuple[Any, Box] | None:
    """The best-seen person over :func:`tiles`: ``detect(box)`` returns a detection whose ``keypoints``
    are (33, 3) full-frame x/W, y/H, visibility, or None. Returns it and its tile, or None."""
    best, best_score = None, 0.0
    for box in tiles(image_size):
        detection = detect(box)
        score = 0.0 if detection is None else body_visibility(detection.keypoints)
        if score > best_score:
            best, best_score = (detection, box), score
    return best


def follow_box(hip_px: np.ndarray, torso_px: float, image_size: tuple[int, int]) -> Box:
    """The square of :data:`FOLLOW_TORSOS` torso lengths centred on the hips, moved inside the frame."""
    width, height = image_size
    side = int(min(max(FOLLOW_TORSOS * torso_px, MIN_FOLLOW_SIDE), width, height))
    x = int(np.clip(hip_px[0] - side / 2, 0, width - side))
    y = int(np.clip(hip_px[1] - side / 2, 0, height - side))
    return x, y, side, side
