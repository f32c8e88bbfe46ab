"""2D drawing with OpenCV (antialiased): MediaPipe-33 poses over video frames, skeleton panels, text boxes.

The person's left side is orange, the right side blue, the midline white. Landmarks MediaPipe is unsure
about (visibility below ``min_visibility``) are drawn faded, so a preview shows where the track is weak.
Skeleton panels draw the keypoints on a plain background: the 2D keypoints in image space
(:func:`skeleton_2d_frame`), or the 3D world keypoints seen across the camera's line of sight
(:func:`skeleton_3d_frame`).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from motionlab.keypoints import LANDMARK_NAMES, NUM_LANDMARKS, SKELETON_EDGES
from motionlab.reference import Reference

LEFT_RGB = (255, 140, 0)
RIGHT_RGB = (0, 150, 255)
MIDDLE_RGB = (245, 245, 245)
FADED_ALPHA = 0.35
BACKGROUND_RGB = (32, 34, 40)
FONT = cv2.FONT_HERSHEY_SIMPLEX


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


def _text_style(index: int, scale: float, title: bool) -> tuple[float, int]:
    """(scale, thickness) of line ``index`` of a text box: a title line larger and bold."""
    return (scale * 1.35, 2) if title and index == 0 else (scale, 1)


def fit_lines(lines: Sequence[str], width: int, scale: float = 0.5, title: bool = False) -> list[str]:
    """``lines`` wrapped at word breaks so that each, with a text box's margins, fits in ``width`` px (a
    single word wider than that stays whole); the first line keeps the title style when ``title``."""
    pad = max(int(12 * scale), 3)
    out: list[str] = []
    for line in lines:
        words, current = line.split(" "), ""
        for word in words:
            trial = f"{current} {word}" if current else word
            s, w = _text_style(len(out), scale, title)
            if current and cv2.getTextSize(trial, FONT, s, w)[0][0] + 2 * pad > width:
                out.append(current)
                current = word
            else:
                current = trial
        out.append(current)
    return out


def draw_text_box(
    frame: np.ndarray, lines: Sequence[str], org: tuple[int, int] = (8, 8), scale: float = 0.5, title: bool = False
) -> np.ndarray:
    """Draw ``lines`` in place on ``frame`` at top-left ``org``, white on a dark translucent box, wrapped to
    the frame's width (:func:`fit_lines`); with ``title`` the first line is larger and bold. Returns ``frame``."""
    if not lines:
        return frame
    lines = fit_lines(lines, frame.shape[1] - org[0], scale, title)
    scales, weights = zip(*(_text_style(i, scale, title) for i in range(len(lines))))
    sizes = [cv2.getTextSize(t, FONT, s, w) for t, s, w in zip(lines, scales, weights)]
    pad = max(int(12 * scale), 3)  # margin around the text and between lines
    box_w = max(w for (w, _), _ in sizes) + 2 * pad
    box_h = sum(h + b for (_, h), b in sizes) + pad * (len(lines) + 1)
    x0, y0 = org
    x1, y1 = min(x0 + box_w, frame.shape[1]), min(y0 + box_h, frame.shape[0])
    region = frame[y0:y1, x0:x1]
    region[:] = (region * 0.35).astype(np.uint8)  # darken: 65 % black, translucent
    y = y0 + pad
    for text, s, w, ((_, h), b) in zip(lines, scales, weights, sizes):
        y += h
        cv2.putText(frame, text, (x0 + pad, y), FONT, s, (255, 255, 255), w, cv2.LINE_AA)
        y += b + pad
    return frame


def blank(width: int, height: int) -> np.ndarray:
    """A (height, width, 3) uint8 frame in the background colour."""
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[:] = np.tile(np.array(BACKGROUND_RGB, dtype=np.uint8), (1, width, 1))  # whole rows: 40x faster than np.full's 3-value fill
    return out


def skeleton_2d_frame(ref: Reference, t: int, width: int, height: int) -> np.ndarray:
    """Frame ``t``'s 2D keypoints drawn in image space, the source image fitted inside (width, height)."""
    out = blank(width, height)
    img_w, img_h = ref.image_size
    s = min(width / img_w, height / img_h)
    x0, y0 = (width - s * img_w) / 2, (height - s * img_h) / 2
    cv2.rectangle(out, (int(x0), int(y0)), (int(x0 + s * img_w) - 1, int(y0 + s * img_h) - 1), (70, 72, 80), 1)
    if not ref.keypoints2d_valid[t]:
        cv2.putText(out, "no pose detected", (int(x0) + 10, height // 2), FONT, 0.6, (230, 80, 80), 1, cv2.LINE_AA)
        return out
    px = ref.keypoints_px()[t] * s + (x0, y0)
    return draw_pose(out, px, ref.keypoints2d[t, :, 2])


def skeleton_3d_frame(
    world: np.ndarray, visibility: np.ndarray, width: int, height: int, yaw_deg: float = 90.0, span_m: float = 2.4
) -> np.ndarray:
    """MediaPipe world keypoints (33, 3) (x right, y down, z away from the camera, hip-centred) seen after
    turning the view ``yaw_deg`` about the vertical (90: across the camera's line of sight, so depth shows);
    orthographic, ``span_m`` metres across the image height."""
    a = np.deg2rad(yaw_deg)
    horizontal = world[:, 0] * np.cos(a) + world[:, 2] * np.sin(a)
    scale = height / span_m
    px = np.stack([width / 2 + scale * horizontal, 0.45 * height + scale * world[:, 1]], axis=1)
    out = blank(width, height)
    floor_y = int(0.45 * height + scale * world[:, 1].max())
    cv2.line(out, (0, floor_y), (width - 1, floor_y), (70, 72, 80), 1)
    return draw_pose(out, px, visibility)
