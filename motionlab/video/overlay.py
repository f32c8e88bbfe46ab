"""Drawing MediaPipe-33 poses over video frames (OpenCV, antialiased).

The person's left side is orange, the right side blue, the midline white. Landmarks MediaPipe is unsure
about (visibility below ``min_visibility``) are drawn faded, so a preview shows where the track is weak.
"""

from __future__ import annotations

import cv2
import numpy as np

from motionlab.keypoints import LANDMARK_NAMES, NUM_LANDMARKS, SKELETON_EDGES

LEFT_RGB = (255, 140, 0)
RIGHT_RGB = (0, 150, 255)
MIDDLE_RGB = (245, 245, 245)
FADED_ALPHA = 0.35


def _side(index: int) -> int:
    """-1 for the person's left, +1 for the right, 0 for the midline (nose)."""
    name = LANDMARK_NAMES[index]
    return -1 if name.startswith("left") else 1 if name.startswith("right") else 0


def _colour(*indices: int) -> tuple[int, int, int]:
    sides = {_side(i) for i in indices}
    if sides == {-1}:
        return LEFT_RGB
    if sides == {1}:
        return RIGHT_RGB
    return MIDDLE_RGB


def _draw(
    image: np.ndarray,
    pts: list[list[int]],
    edges: np.ndarray,
    points: np.ndarray,
    thickness: int,
    radius: int,
    shift: int,
) -> None:
    """Draw the selected skeleton edges and landmark dots in place (``pts`` in 1/2**shift pixels)."""
    for (a, b), keep in zip(SKELETON_EDGES, edges):
        if keep:
            cv2.line(image, tuple(pts[a]), tuple(pts[b]), _colour(a, b), thickness, cv2.LINE_AA, shift)
    for i in np.flatnonzero(points):
        cv2.circle(image, tuple(pts[i]), radius, _colour(i), -1, cv2.LINE_AA, shift)
        cv2.circle(image, tuple(pts[i]), radius, (0, 0, 0), 1, cv2.LINE_AA, shift)


def draw_pose(
    frame_rgb: np.ndarray,
    keypoints_px: np.ndarray,
    visibility: np.ndarray,
    min_visibility: float = 0.5,
) -> np.ndarray:
    """Return a copy of ``frame_rgb`` (H, W, 3) uint8 with the skeleton and landmarks (33, 2) px drawn.

    Line width and dot size scale with the frame height."""
    keypoints_px = np.asarray(keypoints_px, dtype=np.float64)
    visibility = np.asarray(visibility, dtype=np.float64)
    if keypoints_px.shape != (NUM_LANDMARKS, 2) or visibility.shape != (NUM_LANDMARKS,):
        raise ValueError(
            f"expected keypoints (33, 2) and visibility (33,), got {keypoints_px.shape} and {visibility.shape}"
        )
    if frame_rgb.dtype != np.uint8 or frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
        raise ValueError(f"frame must be (H, W, 3) uint8, got {frame_rgb.shape} {frame_rgb.dtype}")
    shift = 4  # sub-pixel precision for cv2 drawing
    pts = np.round(keypoints_px * (1 << shift)).astype(np.int64).tolist()
    thickness = max(1, round(frame_rgb.shape[0] / 240))
    radius = (thickness + 2) << shift
    confident = visibility >= min_visibility
    edge_confident = np.array([confident[a] and confident[b] for a, b in SKELETON_EDGES])
    faded = frame_rgb.copy()
    _draw(faded, pts, ~edge_confident, ~confident, thickness, radius, shift)
    out = cv2.addWeighted(faded, FADED_ALPHA, frame_rgb, 1 - FADED_ALPHA, 0)
    _draw(out, pts, edge_confident, confident, thickness, radius, shift)
    return out


def draw_box(frame_rgb: np.ndarray, box: tuple[int, int, int, int], label: str = "") -> np.ndarray:
    """Return a copy of ``frame_rgb`` with the rectangle ``x, y, w, h`` (e.g. the ROI) and a label."""
    out = frame_rgb.copy()
    x, y, w, h = (int(v) for v in box)
    cv2.rectangle(out, (x, y), (x + w, y + h), (255, 255, 0), 1, cv2.LINE_AA)
    if label:
        cv2.putText(out, label, (x + 3, max(y - 5, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1, cv2.LINE_AA)
    return out
