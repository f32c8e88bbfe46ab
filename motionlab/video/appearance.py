"""Who a tracked person is by their clothes: colour histograms of the torso and the thighs.

A pose model's track can slide onto someone else where people pass or one is hidden (behind a post,
behind another person), and position alone cannot tell two people standing a torso length apart. The
clothes can: :func:`describe` takes an HSV histogram (:data:`BINS` hue x saturation x value bins) of the
torso (a strip along the spine, from the shoulders' to the hips' midpoint, narrow enough to stay on a
body seen from the side) and of the thighs (hip to knee strips), normalised to sum 1 per part. Two descriptions differ by the larger of the
parts' Bhattacharyya distances (``cv2.compareHist``; 0 the same, 1 nothing in common). :class:`Identity`
is the person followed: the mean of their first :data:`LEARN_FRAMES` descriptions, then blended with each
new one that matches it well (lighting and the side shown change slowly; a sudden change is someone
else). On ``vtest.avi`` (people ~70 px tall) the walker in black stays within 0.33 of their identity, the
man in a dark leather jacket beside them is 0.71 or more away, a man in jeans 0.73, a man in a red jacket
0.87; a man in a brown jacket and jeans within 0.29 of his own, the others 0.73 or more from him; a
rendered runner seen from the side within 0.37 of theirs (a torso quadrilateral, thin from the side,
took in the background: 0.53). People too small to describe
(under :data:`MIN_PIXELS` in a part: a torso under ~17 px long, a person under ~55 px tall) are not told apart this way.
"""

from __future__ import annotations

import cv2
import numpy as np

from motionlab.keypoints import INDEX

BINS = (6, 3, 3)  # hue, saturation, value: coarse, as a small person's dark clothes scatter in hue
TORSO_WIDTH_TORSOS = 0.45  # the torso strip's width in torso lengths (narrower than a body seen from the side)
TORSO_TRIM = 0.1  # of its length cut off at the shoulders' and the hips' ends (neck, belt)
THIGH_WIDTH_TORSOS = 0.25  # thigh strips' width in torso lengths
MIN_PIXELS = 100  # per part: fewer and the person is not described (a histogram of fewer is noise)
MAX_DISTANCE = 0.5  # larger (any part) is someone else
LEARN_FRAMES = 3  # descriptions averaged before the identity is used
UPDATE_RATE = 0.25  # weight of a new description that matches well in the running identity
UPDATE_BELOW = 0.6  # ... within this fraction of the largest distance allowed (not a torso half behind a sign)
_SHOULDERS = [INDEX["left_shoulder"], INDEX["right_shoulder"]]
_HIPS = [INDEX["left_hip"], INDEX["right_hip"]]
_THIGHS = [(INDEX[f"{side}_hip"], INDEX[f"{side}_knee"]) for side in ("left", "right")]


def describe(rgb: np.ndarray, keypoints_px: np.ndarray) -> np.ndarray | None:
    """(2, prod(BINS)) histograms of the torso and the thighs of the person whose (33, >=2) landmarks
    are ``keypoints_px`` (pixels of ``rgb``); None when a part shows fewer than :data:`MIN_PIXELS`."""
    shoulders, hips = keypoints_px[_SHOULDERS, :2].mean(axis=0), keypoints_px[_HIPS, :2].mean(axis=0)
    torso_px = float(np.linalg.norm(shoulders - hips))
    spine = np.array([shoulders + TORSO_TRIM * (hips - shoulders), hips - TORSO_TRIM * (hips - shoulders)])
    points = np.vstack([spine, keypoints_px[[i for pair in _THIGHS for i in pair], :2]])
    height, width = rgb.shape[:2]
    margin = TORSO_WIDTH_TORSOS * torso_px + 2
    x0, y0 = np.clip(np.floor(points.min(axis=0) - margin), 0, [width, height]).astype(int)
    x1, y1 = np.clip(np.ceil(points.max(axis=0) + margin), 0, [width, height]).astype(int)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    origin = np.array([x0, y0])
    torso_mask, thigh_mask = np.zeros(hsv.shape[:2], np.uint8), np.zeros(hsv.shape[:2], np.uint8)
    strips = [(torso_mask, spine, TORSO_WIDTH_TORSOS)]
    strips += [(thigh_mask, keypoints_px[[hip, knee], :2], THIGH_WIDTH_TORSOS) for hip, knee in _THIGHS]
    for mask, (a, b), width_torsos in strips:
        a, b = np.round(np.array([a, b]) - origin).astype(int).tolist()
        cv2.line(mask, tuple(a), tuple(b), 255, max(int(round(width_torsos * torso_px)), 1))
    hists = []
    for mask in (torso_mask, thigh_mask):
        if np.count_nonzero(mask) < MIN_PIXELS:
            return None
        hist = cv2.calcHist([hsv], [0, 1, 2], mask, list(BINS), [0, 180, 0, 256, 0, 256]).ravel()
        hists.append(hist / hist.sum())
    return np.asarray(hists, dtype=np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """The larger of the parts' Bhattacharyya distances between two :func:`describe` results (0-1)."""
    return max(float(cv2.compareHist(pa, pb, cv2.HISTCMP_BHATTACHARYYA)) for pa, pb in zip(a, b))


class Identity:
    """The clothes of the person followed (module docstring): learnt from the first frames, then kept;
    descriptions further than ``max_distance`` are someone else."""

    def __init__(self, max_distance: float = MAX_DISTANCE) -> None:
        self.max_distance = max_distance
        self.model: np.ndarray | None = None
        self.frames = 0

    @property
    def known(self) -> bool:
        """True once :data:`LEARN_FRAMES` descriptions were averaged."""
        return self.frames >= LEARN_FRAMES

    def distance(self, description: np.ndarray | None) -> float:
        """:func:`distance` to the identity; 0 while it is not known or when nothing could be described."""
        if not self.known or description is None or self.model is None:
            return 0.0
        return distance(self.model, description)

    def matches(self, description: np.ndarray | None, strict: bool = False) -> bool:
        """Not someone else: within ``max_distance``; true while the identity is not known (being learnt,
        or the person too small to describe); for a ``description`` of None (a person too small or cut off
        to describe) true unless ``strict``."""
        if not self.known:
            return True
        if description is None:
            return not strict
        return self.distance(description) <= self.max_distance

    def learn(self, description: np.ndarray | None) -> None:
        """Average ``description`` in while learning; afterwards blend it in at :data:`UPDATE_RATE` when it
        matches within :data:`UPDATE_BELOW` of ``max_distance``."""
        if description is None:
            return
        if self.model is None:
            self.model, self.frames = description.copy(), 1
        elif not self.known:
            self.model = (self.model * self.frames + description) / (self.frames + 1)
            self.frames += 1
        elif self.distance(description) <= UPDATE_BELOW * self.max_distance:
            self.model = (1 - UPDATE_RATE) * self.model + UPDATE_RATE * description
