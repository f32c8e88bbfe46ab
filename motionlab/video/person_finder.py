"""Find a small person in a frame that MediaPipe's full-frame detector misses, and tell who moves.

MediaPipe Pose's person detector needs a person of roughly a quarter of the frame's height; a runner
filmed from afar is smaller, and the full-frame pass then finds nobody or locks onto a low-visibility
"skeleton" in the background. :func:`find_people` runs Pose (single-image mode) on overlapping square
tiles of the frame at two scales (half and a third of the short side, each upscaled like an ROI crop)
and keeps every person whose body is seen: at least :data:`MIN_VISIBLE_LANDMARKS` of the 12 body
landmarks at visibility :data:`VISIBLE` or more; detections whose hips are within a torso length of
each other are one person, kept where seen best (highest mean visibility). :func:`motion_torsos_per_s`
says how much a person moves between two detections (the hips' travel, or the limbs cycling around
the hips), so that the follow mode of :class:`motionlab.video.pose.PoseTracker` can prefer the runner
to people standing and to static false skeletons. :func:`follow_box` is the square crop around a
tracked person that it analyses next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from motionlab.keypoints import BODY_LANDMARKS, INDEX

Box = tuple[int, int, int, int]  # x, y, w, h in pixels
TILE_FRACTIONS = (1 / 2, 1 / 3)  # tile sides as fractions of the frame's short side
VISIBLE = 0.5
MIN_VISIBLE_LANDMARKS = 6
FOLLOW_TORSOS = 8.0  # side of the crop that follows a person, in torso lengths (~2.4 body heights)
MIN_FOLLOW_SIDE = 48
LIMBS = [INDEX[f"{side}_{part}"] for side in ("left", "right") for part in ("knee", "ankle", "wrist")]
MOVING_TORSOS_PER_S = 1.0  # slower than this (hips and limbs) is standing: a walker moves ~3, a runner more


def tile_sides(image_size: tuple[int, int]) -> list[int]:
    """The sides of the square tiles in pixels, one per :data:`TILE_FRACTIONS`."""
    return [int(min(image_size) * fraction) for fraction in TILE_FRACTIONS]


def tiles(image_size: tuple[int, int]) -> list[Box]:
    """Overlapping square tiles (half a tile apart) covering the frame, at each of :data:`TILE_FRACTIONS`."""
    width, height = image_size
    out = []
    for side in tile_sides(image_size):
        xs = np.unique(np.r_[np.arange(0, width - side, side // 2), width - side])
        ys = np.unique(np.r_[np.arange(0, height - side, side // 2), height - side])
        out += [(int(x), int(y), side, side) for y in ys for x in xs]
    return out


def body_visibility(keypoints: np.ndarray) -> float:
    """Mean visibility of the 12 body landmarks; 0 when fewer than :data:`MIN_VISIBLE_LANDMARKS` are seen."""
    vis = keypoints[list(BODY_LANDMARKS), 2]
    return float(vis.mean()) if (vis >= VISIBLE).sum() >= MIN_VISIBLE_LANDMARKS else 0.0


def hip_and_torso(keypoints: np.ndarray, image_size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Hip-midpoint pixel position and shoulder-to-hip length in pixels of (33, 3) x/W, y/H landmarks."""
    px = keypoints[:, :2] * np.asarray(image_size, dtype=np.float64)
    hip = (px[INDEX["left_hip"]] + px[INDEX["right_hip"]]) / 2
    shoulder = (px[INDEX["left_shoulder"]] + px[INDEX["right_shoulder"]]) / 2
    return hip, max(float(np.linalg.norm(shoulder - hip)), 1.0)


def tiles_around(centre_px: np.ndarray, torso_px: float, reach_px: float, region: Box) -> list[Box]:
    """Squares of the :func:`follow_box` side, half a side apart, covering ``reach_px`` around ``centre_px``
    plus half a square (at most two squares wide), inside ``region`` (x, y, w, h)."""
    rx, ry, rw, rh = region
    side = int(min(max(FOLLOW_TORSOS * torso_px, MIN_FOLLOW_SIDE), rw, rh))
    half = min(reach_px + side / 2, side)
    starts = []
    for centre, lo, size in ((centre_px[0], rx, rw), (centre_px[1], ry, rh)):
        first, last = (int(np.clip(centre + offset, lo, lo + size - side)) for offset in (-half, half - side))
        starts.append(np.unique(np.r_[np.arange(first, last, max(side // 2, 1)), last]))
    return [(int(x), int(y), side, side) for y in starts[1] for x in starts[0]]


def find_people(
    detect: Callable[[Box], Any], image_size: tuple[int, int], boxes: list[Box] | None = None
) -> list[tuple[Any, Box]]:
    """Every person seen over ``boxes`` (default :func:`tiles`), best seen first: ``detect(box)`` returns a
    detection whose ``keypoints`` are (33, 3) full-frame x/W, y/H, visibility, or None. Returns (detection,
    tile) pairs."""
    seen = []
    for box in tiles(image_size) if boxes is None else boxes:
        detection = detect(box)
        score = 0.0 if detection is None else body_visibility(detection.keypoints)
        if score > 0:
            seen.append((score, detection, box))
    people: list[tuple[Any, Box, np.ndarray, float]] = []
    for _, detection, box in sorted(seen, key=lambda s: -s[0]):
        hip, torso = hip_and_torso(detection.keypoints, image_size)
        if all(np.linalg.norm(hip - other_hip) > max(torso, other_torso) for _, _, other_hip, other_torso in people):
            people.append((detection, box, hip, torso))
    return [(detection, box) for detection, box, _, _ in people]


def motion_torsos_per_s(before: np.ndarray, after: np.ndarray, dt: float, image_size: tuple[int, int]) -> float:
    """How fast one person moves between two (33, 3) landmark sets ``dt`` seconds apart, in torso lengths
    per second: the larger of the hips' travel and the mean motion of knees, ankles and wrists around
    the hips (legs that cycle on the spot, or behind a following camera, move too)."""
    hip0, torso0 = hip_and_torso(before, image_size)
    hip1, torso1 = hip_and_torso(after, image_size)
    size = np.asarray(image_size, dtype=np.float64)
    limbs0 = before[LIMBS, :2] * size - hip0
    limbs1 = after[LIMBS, :2] * size - hip1
    torso = (torso0 + torso1) / 2
    travel = float(np.linalg.norm(hip1 - hip0))
    cycling = float(np.linalg.norm(limbs1 - limbs0, axis=1).mean())
    return max(travel, cycling) / torso / max(dt, 1e-6)


def box_around(points_px: np.ndarray, image_size: tuple[int, int]) -> Box:
    """The box around (N, 2) pixel ``points`` grown by half their extent on each side, inside the image
    (twice the person's size: what ``--roi`` wants)."""
    lo, hi = points_px.min(axis=0), points_px.max(axis=0)
    x0, y0 = np.maximum(lo - 0.5 * (hi - lo), 0).astype(int)
    x1, y1 = np.minimum(hi + 0.5 * (hi - lo), image_size).astype(int)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def follow_box(hip_px: np.ndarray, torso_px: float, image_size: tuple[int, int]) -> Box:
    """The square of :data:`FOLLOW_TORSOS` torso lengths centred on the hips, moved inside the frame."""
    width, height = image_size
    side = int(min(max(FOLLOW_TORSOS * torso_px, MIN_FOLLOW_SIDE), width, height))
    x = int(np.clip(hip_px[0] - side / 2, 0, width - side))
    y = int(np.clip(hip_px[1] - side / 2, 0, height - side))
    return x, y, side, side
