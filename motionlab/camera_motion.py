"""Camera motion from the video itself: how the ground moves in the image around the runner's feet.

For every pair of consecutive frames, corners on the background (outside a box around the person,
below their hips, where the ground is) are found (``cv2.goodFeaturesToTrack``), followed with pyramidal
Lucas-Kanade optical flow (checked forwards and backwards), and a homography is fitted with RANSAC:
the ground is a plane, so one homography moves all of it whatever the camera does (turns, slides, both).
Where that homography moves the ground point under the runner (below the hips, at the feet) is the
image motion of the ground at the runner's depth: the camera's own motion there, in pixels per frame.
The lift turns it into metres with the person's scale (:func:`motionlab.lift.estimate_camera`).

The shot is classified as ``static`` (the ground at the feet moves less than
:data:`STATIC_FRACTION` of the person's height over the clip), ``panning`` (the ground moves about
as much at the bottom of the image as at the feet: a camera turning in place) or ``following`` (it
moves more at the bottom, which is nearer: a camera travelling with the runner). When too few frames
could be tracked (plain or blurred background, a person filling the frame), ``kind`` is ``unknown``
and the caller falls back to a static camera, saying so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from motionlab.keypoints import BODY_LANDMARKS, INDEX
from motionlab.video.reader import VideoReader

TRACK_WIDTH_PX = 480  # frames are tracked at most this wide (speed); motion is reported in full-size pixels
MAX_CORNERS = 300
MIN_INLIERS = 12  # RANSAC inliers for a frame pair to count as tracked
MIN_TRACKED_FRACTION = 0.5  # of frame pairs, for the estimate to be used
RANSAC_PX = 1.5
FB_ERROR_PX = 1.0  # forward-backward consistency of Lucas-Kanade tracks
BOX_MARGIN = 0.25  # the person's box is grown by this fraction of its size before masking it out
STATIC_FRACTION = 0.15  # total ground motion at the feet below this fraction of the person's height: static
PAN_RATIO = 1.25
MIN_HORIZON_FRAMES = 5  # bottom-of-image / feet ground motion below this: panning (turning), else following
SOLE_FRACTION = 0.02  # the sole is below the lowest heel/toe landmark by this fraction of the person's height
_FEET = [
    INDEX[n] for n in ("left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index")
]
_HIPS = [INDEX["left_hip"], INDEX["right_hip"]]


@dataclass
class CameraMotion:
    """Image motion of the ground at the runner's feet, per frame (pixels, from the previous frame)."""

    kind: str  # "static", "panning", "following" or "unknown"
    ground_flow_px: np.ndarray  # (T, 2); row 0 is zero; untracked pairs are filled from their neighbours
    tracked: np.ndarray  # (T,) bool: the pair (t-1, t) was tracked (row 0: True)
    bottom_to_feet_ratio: float  # ground motion at the image bottom / at the feet (nan when static)
    total_motion_heights: float  # summed |ground motion at the feet| in person heights
    message: str
    feet_px: np.ndarray | None = None  # (T, 2) the ground point under the runner where the motion was read
    horizon_row: float = float("nan")  # image row where the ground stops moving (a travelling camera)
    hips_row: np.ndarray | None = None  # (T,) image row of the runner's hips
    flow_slope: np.ndarray | None = None  # (T,) d(ground x motion)/d(row) per frame (1/frame)
    horizon_spread_px: float = float("nan")  # robust spread (1.4826 MAD) of the per-frame horizon rows
    horizon_frames: int = 0  # frame pairs the horizon was read from

    @property
    def tracked_fraction(self) -> float:
        return float(self.tracked[1:].mean()) if len(self.tracked) > 1 else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "tracked_fraction": round(self.tracked_fraction, 3),
            "mean_ground_flow_px_per_frame": np.round(self.ground_flow_px[1:].mean(axis=0), 3).tolist(),
            "bottom_to_feet_ratio": None
            if np.isnan(self.bottom_to_feet_ratio)
            else round(self.bottom_to_feet_ratio, 3),
            "total_motion_person_heights": round(self.total_motion_heights, 3),
            "horizon_row_px": None if np.isnan(self.horizon_row) else round(self.horizon_row, 1),
            "horizon_spread_px": None if np.isnan(self.horizon_spread_px) else round(self.horizon_spread_px, 1),
            "horizon_frames": self.horizon_frames,
            "message": self.message,
        }


def person_boxes(px: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(T, 4) x0, y0, x1, y1 around the body landmarks per frame, from the nearest frame with a pose."""
    frames = np.flatnonzero(valid)
    nearest = frames[np.abs(np.arange(len(px))[:, None] - frames[None]).argmin(axis=1)]
    pts = px[nearest][:, [*BODY_LANDMARKS, *_FEET, INDEX["nose"]]]
    lo, hi = pts.min(axis=1), pts.max(axis=1)
    grow = BOX_MARGIN * (hi - lo) + 10.0
    return np.c_[lo - grow, hi + grow]


def estimate_camera_motion(
    video: str | os.PathLike,
    keypoints_px: np.ndarray,
    valid: np.ndarray,
    max_frames: int | None = None,
    every: int = 1,
) -> CameraMotion:
    """Camera motion of ``video`` around the person whose keypoints (T, 33, 2) px are given (frames
    ``valid`` have a pose). Reads the first ``len(keypoints_px)`` frames (or ``max_frames``) of every
    ``every``-th frame (the step the keypoints were extracted with)."""
    frames = len(keypoints_px) if max_frames is None else min(max_frames, len(keypoints_px))
    px, valid = keypoints_px[:frames], valid[:frames]
    boxes = person_boxes(px, valid)
    near = np.flatnonzero(valid)[np.abs(np.arange(frames)[:, None] - np.flatnonzero(valid)[None]).argmin(axis=1)]
    hips_y = px[near][:, _HIPS, 1].mean(axis=1)
    heights = px[near][:, _FEET, 1].max(axis=1) - px[near][:, INDEX["nose"], 1]
    # the ground under the runner: below the hips, at the soles
    feet = np.c_[px[near][:, _HIPS, 0].mean(axis=1), px[near][:, _FEET, 1].max(axis=1) + SOLE_FRACTION * heights]
    flow = np.zeros((frames, 2))
    bottom_flow = np.zeros(frames)
    tracked = np.zeros(frames, dtype=bool)
    tracked[0] = True
    prev = None
    with VideoReader(video, max_frames=frames, every=every) as reader:
        scale = min(1.0, TRACK_WIDTH_PX / reader.info.width) if reader.info.width else 1.0
        to_small = np.diag([scale, scale, 1.0])
        for frame in reader:
            gray = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2GRAY)
            if scale < 1.0:
                gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            t = frame.index
            if prev is not None:
                H = _ground_homography(prev, gray, boxes[t - 1] * scale, hips_y[t - 1] * scale)
                H = None if H is None else np.linalg.inv(to_small) @ H @ to_small  # back to full-size pixels
                if H is not None:
                    points = np.array([feet[t - 1], [feet[t - 1, 0], frame.rgb.shape[0] - 1.0]])
                    moved = cv2.perspectiveTransform(points[None], H)[0] - points
                    flow[t], bottom_flow[t], tracked[t] = moved[0], moved[1, 0], True
            prev = gray
    motion = _summarise(flow, np.abs(bottom_flow), tracked, float(np.median(heights)))
    motion.feet_px, motion.hips_row = feet, hips_y
    if motion.kind == "following":  # a travelling camera: ground motion grows linearly below the horizon
        slope = (bottom_flow - flow[:, 0]) / np.maximum(len_y := (reader.info.height - 1.0) - feet[:, 1], 1.0)
        steady = tracked & (np.abs(flow[:, 0]) > 1.0) & (np.abs(slope) > 1e-4) & (len_y > 0.1 * reader.info.height)
        if steady.sum() >= MIN_HORIZON_FRAMES:  # each frame pair's own horizon; one plane gives one row
            rows = feet[steady, 1] - flow[steady, 0] / slope[steady]
            motion.horizon_row = float(np.median(rows))
            motion.horizon_spread_px = float(1.4826 * np.median(np.abs(rows - motion.horizon_row)))
            motion.horizon_frames = int(steady.sum())
            motion.flow_slope = np.where(tracked, slope, np.median(slope[steady]))
    return motion


def _ground_homography(prev: np.ndarray, gray: np.ndarray, box: np.ndarray, hip_y: float) -> np.ndarray | None:
    """RANSAC homography of background corners tracked from ``prev`` to ``gray``; None if too few."""
    h, w = prev.shape
    mask = np.full((h, w), 255, dtype=np.uint8)
    x0, y0, x1, y1 = np.clip(box, 0, [w, h, w, h]).astype(int)
    mask[y0:y1, x0:x1] = 0
    ground = mask.copy()
    ground[: int(np.clip(hip_y, 0, h))] = 0  # below the hips: mostly ground
    for region in (ground, mask):
        p0 = cv2.goodFeaturesToTrack(prev, MAX_CORNERS, 0.01, 7, mask=region, blockSize=7)
        if p0 is not None and len(p0) >= 3 * MIN_INLIERS:
            break
    if p0 is None or len(p0) < MIN_INLIERS:
        return None
    lk = {"winSize": (21, 21), "maxLevel": 3}
    p1, st, _ = cv2.calcOpticalFlowPyrLK(prev, gray, p0, None, **lk)
    back, st_back, _ = cv2.calcOpticalFlowPyrLK(gray, prev, p1, None, **lk)
    good = (st[:, 0] == 1) & (st_back[:, 0] == 1) & (np.linalg.norm((back - p0)[:, 0], axis=1) < FB_ERROR_PX)
    if good.sum() < MIN_INLIERS:
        return None
    H, inliers = cv2.findHomography(p0[good], p1[good], cv2.RANSAC, RANSAC_PX)
    if H is None or inliers.sum() < MIN_INLIERS:
        return None
    return H


def _summarise(flow: np.ndarray, bottom_flow: np.ndarray, tracked: np.ndarray, height_px: float) -> CameraMotion:
    frames = len(flow)
    ok = np.flatnonzero(tracked)
    fraction = float(tracked[1:].mean()) if frames > 1 else 1.0
    if fraction < MIN_TRACKED_FRACTION:
        msg = (
            f"camera motion could not be estimated (background tracked in {fraction:.0%} of frames: too plain, "
            "blurred or hidden by the person); assuming a static camera"
        )
        return CameraMotion("unknown", np.zeros_like(flow), tracked, float("nan"), 0.0, msg)
    for k in range(2):  # untracked pairs: the neighbours' motion
        flow[1:, k] = np.interp(np.arange(1, frames), ok[ok > 0], flow[ok[ok > 0], k]) if (ok > 0).any() else 0.0
    total = float(np.linalg.norm(flow[1:].sum(axis=0)) / max(height_px, 1.0))
    if total < STATIC_FRACTION:
        kind, ratio = "static", float("nan")
        msg = f"static camera (the ground moved {total:.2f} person heights over the clip)"
    else:
        moving = np.flatnonzero(tracked & (np.abs(flow[:, 0]) > 0.2))
        ratio = float(np.median(bottom_flow[moving] / np.abs(flow[moving, 0]))) if len(moving) else float("nan")
        kind = "panning" if ratio < PAN_RATIO else "following"
        msg = (
            f"{'panning' if kind == 'panning' else 'moving'} camera estimated from the background: the ground "
            f"moved {total:.1f} person heights at the runner's feet over the clip"
        )
    return CameraMotion(kind, flow, tracked, ratio, total, msg)
