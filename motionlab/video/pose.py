"""MediaPipe Pose on every frame of a video -> a keypoint :class:`~motionlab.reference.Reference`.

We run the legacy ``mp.solutions.pose.Pose`` in video mode (it detects a person once, then tracks the
landmarks from frame to frame) with MediaPipe's own landmark smoothing off: smoothing is done afterwards,
without lag, by :mod:`motionlab.video.smoothing`. Landmarks are stored normalised to the full original
frame; frames without a detection stay gaps (zeros, ``keypoints2d_valid`` False), nothing is invented.

Region of interest. People far from the camera are too small for MediaPipe's person detector. With
``roi=(x, y, w, h)`` (pixels of the upright frame) only that region is analysed: it is cropped, upscaled
to at least :data:`MIN_CROP_SIDE` pixels on its short side, and the landmarks are mapped back.

Person selection. Legacy Pose reports one person, the most prominent one when it (re)detects, and can
switch to someone else when its tracking is lost. :class:`PoseTracker` keeps a track of the person
followed so far (hip centre and torso length in pixels) and rejects a detection whose hip centre moved
further than ``max_jump_torsos + max_speed_torsos * dt`` torso lengths since the last accepted frame, or
whose torso length changed more than twofold. Once the hips' velocity is known (a line fitted to their
positions over the last :data:`VELOCITY_WINDOW_S`, at least 3 frames), the gate is tighter: the hips must
be within ``max_jump_torsos + max_speed_change_torsos * dt`` torso lengths of where constant velocity puts
them, so that in a crowd a walker passing close by is not taken for the person followed (a torso length
here is the larger of the track's and the detection's). Constant velocity is trusted for
:data:`PREDICT_MAX_S` past the last sighting (a person hidden longer may have stopped or turned). Who it
is: the clothes (:mod:`motionlab.video.appearance`, colour histograms of the torso and thighs learnt over
the first frames) must match on every detection (``max_appearance_distance``), so a person standing where
the one followed was expected, or MediaPipe's landmarks sliding onto someone passing, is refused
(``not_the_person`` in the summary). When a detection is rejected, or video-mode Pose lost the person (it
only re-runs its detector on the next frame), it re-detects: it runs Pose in single-image mode on a window
around where the track is expected (6 torso lengths wide) and keeps that pose only if it is consistent with
the track. If that fails too, the person is hidden: every :data:`REID_EVERY_S` (less often after each
failure) for :data:`REID_FOR_S` after the last sighting, people are searched for on tiles around where
they were last seen (reach growing at :data:`REID_SPEED_TORSOS`) and the one wearing their clothes, of
their size, is taken again (``found_again``); otherwise the frame is a gap (``hidden_frames``). A track
not seen for ``track_timeout_s`` loses its position, not its identity: only someone of their size in
their clothes is taken after that (when the person was too small to describe, anyone, as before). When
they are not seen again before the end, the summary's ``lost`` gives the frame and box where they were
last seen. To choose who is followed, give an ROI around that person.

Automatic crop. Without an ROI, when fewer than :data:`AUTO_CROP_BELOW` of the frames show a usable body
(a runner too small for the full-frame detector, or a false low-visibility skeleton found instead), the
video is analysed again in follow mode: people are searched for on tiles of the frame
(:func:`motionlab.video.person_finder.find_people`) while nobody is tracked: after :data:`SEARCH_EVERY_S`,
then less and less often (each failed search adds :data:`SEARCH_EVERY_S` to the wait), giving up after
:data:`MAX_FAILED_SEARCHES` in a row find nobody (then, if nobody was ever found, the pass stops). Of
several, the best seen of those who move (hips travelling or limbs cycling, judged against the frame
:data:`MOTION_LAG_S` earlier, where they must be seen too) is chosen, so a runner wins over people
standing and static false skeletons (the first :data:`MOTION_LAG_S` are then gaps); then each frame is
analysed in a square crop around them that moves with them
(:func:`~motionlab.video.person_finder.follow_box`), upscaled like an ROI; once they were lost
(``track_timeout_s``), the tile searches take only someone in their clothes. The pass that shows more usable
frames is kept; the summary's ``auto_crop`` says what was done. ``--roi`` overrides it.

Left/right swaps. Seen from the side, MediaPipe sometimes labels the far leg as the near one for a few
frames; :func:`motionlab.video.swaps.fix_left_right_swaps` relabels such frames before smoothing and the
summary lists them (``left_right_swaps_fixed``).
"""

from __future__ import annotations

import collections
import contextlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from motionlab.errors import NoPoseError, PoseModelError, UserError
from motionlab.keypoints import BODY_LANDMARKS, NUM_LANDMARKS
from motionlab.reference import Reference
from motionlab.video.appearance import MAX_DISTANCE, Identity, describe
from motionlab.video.person_finder import (
    MOVING_TORSOS_PER_S,
    body_visibility,
    box_around,
    find_people,
    follow_box,
    hip_and_torso,
    motion_torsos_per_s,
    tile_sides,
    tiles_around,
)
from motionlab.video.reader import (
    Frame,
    VideoInfo,
    VideoReader,
    VideoReadError,
    effective_fps,
    frame_step,
    is_variable_rate,
    read_ahead,
)
from motionlab.video.smoothing import SmoothingParams, savgol, valid_runs
from motionlab.video.swaps import fix_left_right_swaps

Box = tuple[int, int, int, int]  # x, y, w, h in pixels

MIN_CROP_SIDE = 256  # ROI crops are upscaled to at least this many pixels on their short side
MIN_ROI_SIDE = 16
REDETECT_WINDOW_TORSOS = 6.0
NO_POSE_ADVICE = "person too small? give --roi x,y,w,h around the runner, or crop/zoom the video"
AUTO_CROP_BELOW = 0.5  # of the frames with a usable body: below this, an automatic crop is tried
SEARCH_EVERY_S = 0.5  # follow mode: how often the tiles are searched while nobody is tracked
VELOCITY_WINDOW_S = 0.5  # the track's velocity is fitted over the hips' positions this long
MAX_FAILED_SEARCHES = 6  # follow mode: tile searches in a row that find nobody before it gives up
MOTION_LAG_S = 0.3  # follow mode: who moves is judged against the frame this much earlier
MAX_SIZE_RATIO = 2.0  # a detection's torso more than this times longer or shorter than the person's is someone else
PREDICT_MAX_S = 0.5  # constant velocity is trusted this far past the last sighting (people stop and turn)
REID_EVERY_S = 0.3  # a hidden person is searched for around where they were last seen this often at first
REID_SPEED_TORSOS = 3.0  # how far a hidden person may have gone: a walker's pace, in torso lengths per second
REID_FOR_S = 3.0  # ... and for this long after they were last seen (then they are lost: see ``lost``)


@dataclass(frozen=True)
class PoseSettings:
    """MediaPipe model settings and the person-tracking tolerances (see the module docstring)."""

    model_complexity: int = 1  # 0 lite, 1 full (bundled), 2 heavy
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    max_jump_torsos: float = 1.0
    max_speed_torsos: float = 15.0  # torso lengths per second (a sprinter moves ~12), velocity unknown
    max_speed_change_torsos: float = 2.0  # torso lengths per second off the constant-velocity prediction
    track_timeout_s: float = 1.0
    max_appearance_distance: float = MAX_DISTANCE  # clothes further than this are someone else (1: not checked)

    def __post_init__(self) -> None:
        if self.model_complexity not in (0, 1, 2):
            raise ValueError(f"model_complexity must be 0, 1 or 2, got {self.model_complexity}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Detection:
    """One person's landmarks: ``keypoints`` (33, 3) x/W, y/H of the full frame and visibility;
    ``world`` (33, 3) metres, MediaPipe's hip-centred world convention."""

    keypoints: np.ndarray
    world: np.ndarray

    def hip_and_torso_px(self, image_size: tuple[int, int]) -> tuple[np.ndarray, float]:
        """Hip-midpoint pixel position and shoulder-to-hip length in pixels."""
        return hip_and_torso(self.keypoints, image_size)


def parse_roi(text: str) -> Box:
    """``"x,y,w,h"`` (pixels) -> a box; ValueError naming the problem."""
    parts = [p.strip() for p in text.split(",")]
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise UserError(f"ROI must be four integers x,y,w,h in pixels, got {text!r}") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise UserError(f"ROI {text!r}: x, y must be >= 0 and w, h > 0")
    return x, y, w, h


def clip_box(box: Box, image_size: tuple[int, int]) -> Box:
    """``box`` cut to the image; ValueError if less than :data:`MIN_ROI_SIDE` pixels of it remain."""
    W, H = image_size
    x0, y0 = max(box[0], 0), max(box[1], 0)
    x1, y1 = min(box[0] + box[2], W), min(box[1] + box[3], H)
    if x1 - x0 < MIN_ROI_SIDE or y1 - y0 < MIN_ROI_SIDE:
        raise UserError(f"ROI {','.join(map(str, box))} leaves less than {MIN_ROI_SIDE} px inside the {W}x{H} frame")
    return x0, y0, x1 - x0, y1 - y0


def _make_pose(static_image_mode: bool, settings: PoseSettings) -> Any:
    import mediapipe as mp

    try:
        return mp.solutions.pose.Pose(
            static_image_mode=static_image_mode,
            model_complexity=settings.model_complexity,
            smooth_landmarks=False,
            enable_segmentation=False,
            min_detection_confidence=settings.min_detection_confidence,
            min_tracking_confidence=settings.min_tracking_confidence,
        )
    except OSError as exc:  # the lite/heavy models are downloaded on first use
        raise PoseModelError(
            f"MediaPipe model_complexity={settings.model_complexity} is not bundled and could not be "
            f"downloaded ({exc}); use model complexity 1, which ships with mediapipe"
        ) from exc


def _detect(pose: Any, rgb: np.ndarray, box: Box) -> Detection | None:
    """Run ``pose`` on the crop ``box`` of ``rgb`` (upscaled if small); landmarks in full-frame units."""
    x, y, w, h = box
    crop = rgb[y : y + h, x : x + w]
    scale = MIN_CROP_SIDE / min(w, h)
    if scale > 1:
        crop = cv2.resize(crop, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
    result = pose.process(np.ascontiguousarray(crop))
    if result.pose_landmarks is None:
        return None
    lm = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], dtype=np.float64)
    H, W = rgb.shape[:2]
    lm[:, 0] = (x + lm[:, 0] * w) / W
    lm[:, 1] = (y + lm[:, 1] * h) / H
    world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark], dtype=np.float64)
    return Detection(lm, world)


@dataclass
class _Track:
    """The person followed: last hip centre (px), torso length (px), time (s) and, once known, the hips'
    velocity (px/s) fitted over the last :data:`VELOCITY_WINDOW_S`."""

    hip: np.ndarray
    torso: float
    time_s: float
    velocity: np.ndarray | None = None

    def predicted_hip(self, time_s: float) -> np.ndarray:
        """Where the hips are expected at ``time_s``: moving on at constant velocity when it is known, for
        at most :data:`PREDICT_MAX_S` (a person hidden longer may have stopped or turned)."""
        if self.velocity is None:
            return self.hip
        return self.hip + self.velocity * float(np.clip(time_s - self.time_s, -PREDICT_MAX_S, PREDICT_MAX_S))

    def same_size(self, torso: float) -> bool:
        """A torso ``torso`` px long can be this person's: within :data:`MAX_SIZE_RATIO` of theirs."""
        return 1.0 / MAX_SIZE_RATIO <= torso / self.torso <= MAX_SIZE_RATIO


class PoseTracker:
    """Per-frame pose of one person, consistent over time (see the module docstring).

    >>> with PoseTracker((640, 480), roi=None) as tracker:
    ...     detection = tracker(frame_rgb, time_s)  # Detection or None
    """

    def __init__(
        self,
        image_size: tuple[int, int],
        roi: Box | None = None,
        settings: PoseSettings = PoseSettings(),
        follow: bool = False,
    ):
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.follow = follow  # analyse a crop that moves with the person (see the module docstring)
        self.start_box: Box | None = None  # follow mode: the tile the person was first found in
        self.start_choice: dict[str, Any] | None = None  # follow mode: who was seen then, who was chosen
        self._next_search_s = -np.inf
        self.searched_s: list[float] = []  # follow mode: times of the tile searches
        self._failed_searches = 0  # follow mode: consecutive searches that found nobody
        self.gave_up = False  # follow mode: MAX_FAILED_SEARCHES in a row found nobody; no more searches
        self._recent: collections.deque[tuple[float, np.ndarray]] = collections.deque()  # (time, rgb)
        self.region = clip_box(roi, self.image_size) if roi is not None else (0, 0, *self.image_size)
        self.settings = settings
        self.rejected = 0  # detections inconsistent with the track
        self.redetected = 0  # frames where re-detection around the track found the person
        self.identity = Identity(settings.max_appearance_distance)  # their clothes; kept when the track times out
        self.not_them = 0  # detections where the person was expected but whose clothes differ
        self.reidentified = 0  # frames where the person was found again by a search around where last seen
        self._last_seen: _Track | None = None  # the last sighting, kept when the track times out
        self._next_reid_s = -np.inf
        self._failed_reids = 0
        self._video_pose = _make_pose(False, settings)
        self._image_pose: Any = None
        self._track: _Track | None = None
        self._history: collections.deque[tuple[float, np.ndarray]] = collections.deque()  # accepted (time, hip)

    def __call__(self, rgb: np.ndarray, time_s: float) -> Detection | None:
        if rgb.shape[1::-1] != self.image_size:
            raise VideoReadError(f"frame size {rgb.shape[1]}x{rgb.shape[0]} differs from {self.image_size}")
        if self._track is not None and abs(time_s - self._track.time_s) > self.settings.track_timeout_s:
            self._track = None
            self._history.clear()
        if self.follow:
            return self._follow(rgb, time_s)
        detection = _detect(self._video_pose, rgb, self.region)
        if detection is not None and not self._consistent(detection, time_s, rgb=rgb):
            self.rejected += 1
            detection = None
        if detection is None and self._track is not None:
            detection = self._redetect(rgb, time_s)
            self.redetected += detection is not None
        if detection is None:
            detection = self._reidentify(rgb, time_s)
        if detection is not None:
            self._accept(detection, time_s, rgb)
        return detection

    def _follow(self, rgb: np.ndarray, time_s: float) -> Detection | None:
        """Follow mode: search the tiles while nobody is tracked, else the crop around the track."""
        image_pose = self._single_image_pose()
        self._recent.append((time_s, rgb))
        while len(self._recent) > 1 and self._recent[1][0] <= time_s - MOTION_LAG_S:
            self._recent.popleft()
        if self._track is None:
            if self.gave_up or time_s < self._next_search_s:
                return None
            self.searched_s.append(time_s)
            people = find_people(lambda box: _detect(image_pose, rgb, box), self.image_size)
            self._failed_searches = 0 if people else self._failed_searches + 1
            self.gave_up = self._failed_searches >= MAX_FAILED_SEARCHES
            self._next_search_s = time_s + SEARCH_EVERY_S * max(self._failed_searches, 1)  # less and less often
            if self._last_seen is not None:  # someone was followed: only they may be taken again
                people = [(d, box) for d, box in people if self._consistent(d, time_s, rgb=rgb)]
            found = self._choose(people, time_s)
            if found is None:
                return None
            detection, box = found
            self.start_box = self.start_box or box
        else:
            box = follow_box(self._track.predicted_hip(time_s), self._track.torso, self.image_size)
            detection = _detect(image_pose, rgb, box)
            if detection is not None and not self._consistent(detection, time_s, rgb=rgb):
                self.rejected += 1
                detection = None
        if detection is not None:
            self._accept(detection, time_s, rgb)
        return detection

    def _choose(self, people: list[tuple[Detection, Box]], time_s: float) -> tuple[Detection, Box] | None:
        """The person to follow of ``people`` (best seen first): when several are seen, one who moves (see
        :func:`motion_torsos_per_s`) and was seen :data:`MOTION_LAG_S` earlier too, the best seen among
        them; with nobody moving, the best seen. Several people and no earlier frame yet: wait for one."""
        if len(people) < 2:
            return people[0] if people else None
        past_time, past_rgb = self._recent[0]
        if time_s - past_time < 0.99 * MOTION_LAG_S:
            self._next_search_s = past_time + MOTION_LAG_S
            return None
        speeds = [self._speed(detection, time_s, past_rgb, past_time) for detection, _ in people]
        chosen = int(np.argmax(np.asarray(speeds) >= MOVING_TORSOS_PER_S))  # people are best seen first
        if self.start_choice is None:
            self.start_choice = {
                "time_s": round(time_s, 3), "people_seen": len(people), "chosen": chosen,
                "moving_torsos_per_s": [round(v, 2) for v in speeds],
            }  # fmt: skip
        return people[chosen]

    def _speed(self, detection: Detection, time_s: float, past_rgb: np.ndarray, past_time: float) -> float:
        """How fast the person of ``detection`` moves (torso lengths/s) since the earlier frame
        ``past_rgb``; 0 when they are not seen there, consistently with where they are now."""
        hip, torso = detection.hip_and_torso_px(self.image_size)
        before = _detect(self._single_image_pose(), past_rgb, follow_box(hip, torso, self.image_size))
        if before is None or body_visibility(before.keypoints) == 0:
            return 0.0
        if not self._consistent(detection, time_s, _Track(*before.hip_and_torso_px(self.image_size), past_time)):
            return 0.0
        return motion_torsos_per_s(before.keypoints, detection.keypoints, time_s - past_time, self.image_size)

    def _accept(self, detection: Detection, time_s: float, rgb: np.ndarray) -> None:
        """Move the track to ``detection``; fit the hips' velocity over the last :data:`VELOCITY_WINDOW_S`;
        learn the person's clothes."""
        self.identity.learn(self._describe(detection, rgb))
        self._failed_reids, self._next_reid_s = 0, -np.inf
        hip, torso = detection.hip_and_torso_px(self.image_size)
        self._history.append((time_s, hip))
        while self._history[0][0] < time_s - VELOCITY_WINDOW_S:
            self._history.popleft()
        times = np.array([t for t, _ in self._history])
        velocity = None
        if len(times) >= 3 and np.ptp(times) >= VELOCITY_WINDOW_S / 2:
            velocity = np.polyfit(times - time_s, np.array([h for _, h in self._history]), 1)[0]
        self._track = self._last_seen = _Track(hip, torso, time_s, velocity)

    def _single_image_pose(self) -> Any:
        if self._image_pose is None:
            self._image_pose = _make_pose(True, self.settings)
        return self._image_pose

    def _describe(self, detection: Detection, rgb: np.ndarray) -> np.ndarray | None:
        return describe(rgb, detection.keypoints[:, :2] * np.asarray(self.image_size, dtype=np.float64))

    def _identified(self, detection: Detection, rgb: np.ndarray, strict: bool = False) -> bool:
        """``detection`` wears the clothes of the person followed, or (unless ``strict``) it cannot be told
        (see :meth:`~motionlab.video.appearance.Identity.matches`)."""
        if self.identity.matches(self._describe(detection, rgb), strict):
            return True
        self.not_them += 1
        return False

    def _consistent(
        self, detection: Detection, time_s: float, track: _Track | None = None, rgb: np.ndarray | None = None
    ) -> bool:
        """``detection`` can be the person of ``track`` (default: the track followed): near where they are
        expected and of their size; with ``rgb``, also wearing the followed person's clothes. Once the track
        timed out only the size (against the last sighting) and the clothes are checked."""
        track = track or self._track
        strict = track is None and self._last_seen is not None  # lost: only someone seen in their clothes
        if rgb is not None and not self._identified(detection, rgb, strict):
            return False
        hip, torso = detection.hip_and_torso_px(self.image_size)
        if track is None:
            return self._last_seen is None or self._last_seen.same_size(torso)
        s = self.settings
        rate = s.max_speed_torsos if track.velocity is None else s.max_speed_change_torsos
        allowed = max(track.torso, torso) * (s.max_jump_torsos + rate * abs(time_s - track.time_s))
        moved = np.linalg.norm(hip - track.predicted_hip(time_s))
        return bool(moved <= allowed and track.same_size(torso))

    def _reidentify(self, rgb: np.ndarray, time_s: float) -> Detection | None:
        """The person followed, hidden now, searched for on tiles of their follow box's size around where
        they were last seen (within ``max_jump_torsos`` + :data:`REID_SPEED_TORSOS` x the time since,
        at most two follow boxes wide): the best seen of those wearing their clothes, of their size and within reach.
        Only while the clothes are known, every :data:`REID_EVERY_S` and less often after each failure, for
        :data:`REID_FOR_S` after the last sighting."""
        last = self._last_seen
        if last is None or not self.identity.known or time_s < self._next_reid_s or time_s - last.time_s > REID_FOR_S:
            return None
        self._failed_reids += 1
        self._next_reid_s = time_s + REID_EVERY_S * self._failed_reids
        centre = last.predicted_hip(time_s)
        reach = last.torso * (self.settings.max_jump_torsos + REID_SPEED_TORSOS * (time_s - last.time_s))
        boxes = tiles_around(centre, last.torso, reach, self.region)
        people = find_people(lambda box: _detect(self._single_image_pose(), rgb, box), self.image_size, boxes)
        for detection, _ in people:
            hip, torso = detection.hip_and_torso_px(self.image_size)
            near = np.linalg.norm(hip - centre) <= reach + max(torso, last.torso)
            if near and last.same_size(torso) and self._identified(detection, rgb, strict=True):
                self.reidentified += 1
                return detection
        return None

    def _redetect(self, rgb: np.ndarray, time_s: float) -> Detection | None:
        """Single-image Pose on a window around the track's last hip position."""
        assert self._track is not None
        half = max(REDETECT_WINDOW_TORSOS * self._track.torso, MIN_CROP_SIDE / 4) / 2
        cx, cy = self._track.predicted_hip(time_s)
        rx, ry, rw, rh = self.region
        x0, y0 = max(int(cx - half), rx), max(int(cy - half), ry)
        x1, y1 = min(int(cx + half), rx + rw), min(int(cy + half), ry + rh)
        if x1 - x0 < MIN_ROI_SIDE or y1 - y0 < MIN_ROI_SIDE:
            return None
        detection = _detect(self._single_image_pose(), rgb, (x0, y0, x1 - x0, y1 - y0))
        return detection if detection is not None and self._consistent(detection, time_s, rgb=rgb) else None

    def close(self) -> None:
        self._video_pose.close()
        if self._image_pose is not None:
            self._image_pose.close()

    def __enter__(self) -> PoseTracker:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


@dataclass
class _Pass:
    """One pass of :class:`PoseTracker` over the video: per-frame times, landmarks and validity."""

    times: np.ndarray
    keypoints: np.ndarray
    world: np.ndarray
    valid: np.ndarray
    info: VideoInfo
    image_size: tuple[int, int]
    region: Box
    rejected: int
    redetected: int
    not_them: int
    reidentified: int
    start_box: Box | None
    start_choice: dict[str, Any] | None
    searched_frames: list[int]
    gave_up: bool

    @property
    def usable(self) -> int:
        """Frames showing a usable body (enough body landmarks seen clearly)."""
        return sum(body_visibility(k) > 0 for k, v in zip(self.keypoints, self.valid) if v)


def _pose_pass(
    video_path: Path,
    window: tuple[float, float | None, int | None],
    roi: Box | None,
    settings: PoseSettings,
    timing: dict[str, float],
    follow: bool = False,
    progress: bool = False,
    every: int = 1,
    max_short_side: int | None = None,
    frame_sink: Callable[[Frame], None] | None = None,
) -> _Pass:
    """Every ``every``-th frame of ``video_path`` in the time ``window`` (start s, end s, max frames),
    shrunk to ``max_short_side``, through one tracker (and to ``frame_sink``)."""
    times, keypoints, world, valid = [], [], [], []
    with contextlib.ExitStack() as stack:
        video = stack.enter_context(VideoReader(video_path, *window, every=every, max_short_side=max_short_side))
        bar = stack.enter_context(
            tqdm(total=video.expected_frames, desc=video_path.name, unit="frame", disable=not progress)
        )
        tracker: PoseTracker | None = None
        frames = stack.enter_context(contextlib.closing(read_ahead(video)))  # decoded while MediaPipe works
        while True:
            tic = time.perf_counter()
            frame = next(frames, None)
            timing["decode"] += time.perf_counter() - tic  # waiting for it: the decoding not hidden behind MediaPipe
            if frame is None:
                break
            if tracker is None:
                tracker = stack.enter_context(PoseTracker(frame.rgb.shape[1::-1], roi, settings, follow=follow))
            tic = time.perf_counter()
            detection = tracker(frame.rgb, frame.time_s)
            timing["pose"] += time.perf_counter() - tic
            if frame_sink is not None:
                frame_sink(frame)
            times.append(frame.time_s)
            valid.append(detection is not None)
            keypoints.append(detection.keypoints if detection else np.zeros((NUM_LANDMARKS, 3)))
            world.append(detection.world if detection else np.zeros((NUM_LANDMARKS, 3)))
            bar.update()
            if tracker.gave_up and tracker.start_box is None:
                break  # nobody found on the tiles: the rest of the video is not worth decoding
        assert tracker is not None  # VideoReader raises when it yields no frame
    shrunk = video.frame_size != video.info.image_size  # landmarks are normalised: only the sizes change
    image_size = video.info.image_size if shrunk else tracker.image_size
    region = (0, 0, *image_size) if shrunk else tracker.region  # shrinking is done without an ROI only
    return _Pass(
        np.asarray(times), np.asarray(keypoints), np.asarray(world), np.asarray(valid), video.info,
        image_size, region, tracker.rejected, tracker.redetected, tracker.not_them, tracker.reidentified,
        tracker.start_box,
        tracker.start_choice, [int(np.searchsorted(times, t)) for t in tracker.searched_s], tracker.gave_up,
    )  # fmt: skip


def extract_keypoints(
    video_path: str | Path,
    roi: Box | None = None,
    *,
    settings: PoseSettings = PoseSettings(),
    smoothing: SmoothingParams | None = SmoothingParams(),
    start_s: float = 0.0,
    max_seconds: float | None = None,
    max_frames: int | None = None,
    progress: bool = False,
    auto_crop: bool = True,
    max_fps: float | None = None,
    max_short_side: int | None = None,
    frame_sink: Callable[[Frame], None] | None = None,
    relabel: bool = True,
) -> tuple[Reference, dict[str, Any]]:
    """Landmarks of the person in ``video_path`` (optionally inside ``roi``) as a Reference, plus a summary.
    ``auto_crop``: without an ROI, try the automatic crop (module docstring) when the full frame fails.

    ``max_fps``: run on every k-th frame only, k = :func:`~motionlab.video.reader.frame_step` (a 60 fps video
    at 30 fps); the reference keeps each analysed frame's own timestamp (``source["frame_times_s"]``, its
    ``fps`` is theirs) and the summary says ``frame_step``. ``max_short_side``: on the full frame (no ROI,
    not the automatic crop), larger frames are shrunk to that many pixels on their short side before
    MediaPipe; landmarks stay in units of the full frame. ``frame_sink`` is called with every analysed
    frame of the first pass (e.g. to keep a small copy for the result video instead of decoding again).
    ``relabel``: undo MediaPipe's left/right swaps (:mod:`motionlab.video.swaps`); False keeps its labels.

    Raises :class:`~motionlab.video.reader.VideoReadError` for unreadable video, :class:`NoPoseError` when
    no frame has a pose, ValueError for a bad ROI or time window."""
    video_path = Path(video_path)
    window = (start_s, start_s + max_seconds if max_seconds is not None else None, max_frames)
    timing = {"decode": 0.0, "pose": 0.0, "smooth": 0.0}
    with VideoReader(video_path) as probe:
        step = frame_step(probe.info.nominal_fps, max_fps)
    shrink = max_short_side if roi is None else None  # an ROI is in the video's pixels
    run = _pose_pass(
        video_path, window, roi, settings, timing, progress=progress, every=step, max_short_side=shrink, frame_sink=frame_sink
    )
    auto: dict[str, Any] = {"tried": False}
    if roi is None and auto_crop and run.usable < AUTO_CROP_BELOW * len(run.times):
        followed = _pose_pass(video_path, window, None, settings, timing, follow=True, progress=progress, every=step)
        used = followed.usable > run.usable
        auto = {
            "tried": True, "used": used, "usable_frames_full_frame": run.usable,
            "usable_frames_cropped": followed.usable,
            "first_found_in": list(followed.start_box) if followed.start_box else None,
            "who": followed.start_choice,
            "searched_frames": followed.searched_frames,
            "gave_up": followed.gave_up,
        }  # fmt: skip
        run = followed if used else run
    times_a, kp, wk, valid_a = run.times, run.keypoints.copy(), run.world.copy(), run.valid
    image_size, region, info = run.image_size, run.region, run.info
    n, n_pose = len(times_a), int(valid_a.sum())
    where = f" inside the ROI {','.join(map(str, region))}" if roi is not None else ""
    if n_pose == 0:
        advice = "is the ROI around the person and a bit larger than them?" if roi is not None else NO_POSE_ADVICE
        tried = ""
        if auto["tried"]:
            sides = " and ".join(str(side) for side in tile_sides(image_size))
            frames = ", ".join(map(str, auto["searched_frames"]))
            tried = f" (automatic crop: tiles (squares of {sides} px) searched at frames {frames} found nobody)"
        raise NoPoseError(f"{video_path}: no person found in any of the {n} frames{where}; {advice}{tried}")
    if n < 2:
        raise VideoReadError(f"{video_path}: only {n} frame decoded; a reference needs at least 2")
    size = np.asarray(image_size, dtype=np.float64)
    kept = (np.tile(np.arange(NUM_LANDMARKS), (n, 1)), [])
    perms, swaps = fix_left_right_swaps(kp[..., :2] * size, valid_a) if relabel else kept
    kp = np.take_along_axis(kp, perms[..., None], axis=1)
    wk = np.take_along_axis(wk, perms[..., None], axis=1)
    if smoothing is not None:
        tic = time.perf_counter()
        kp[..., :2] = savgol(kp[..., :2] * size, times_a, valid_a, smoothing) / size
        wk = savgol(wk, times_a, valid_a, smoothing)
        timing["smooth"] = time.perf_counter() - tic

    fps = effective_fps(times_a, info.nominal_fps)
    gaps = [stop - start for start, stop in valid_runs(~valid_a)]
    summary = {
        "video": video_path.name,
        "frames": n,
        "frames_with_pose": n_pose,
        "detection_rate": n_pose / n,
        "longest_gap_frames": max(gaps, default=0),
        "mean_visibility": float(kp[valid_a][:, list(BODY_LANDMARKS), 2].mean()),
        "fps": fps,
        "fps_nominal": info.nominal_fps,
        "frame_step": step,
        "variable_frame_rate": is_variable_rate(times_a),
        "start_s": float(times_a[0]),
        "duration_s": float(times_a[-1] - times_a[0]),
        "image_size": list(image_size),
        "rotation_deg": info.rotation_deg,
        "roi": list(region) if roi is not None else None,
        "auto_crop": auto,
        "track_rejections": run.rejected,
        "left_right_swaps_fixed": [list(s) for s in swaps],
        "redetections": run.redetected,
        "not_the_person": run.not_them,
        "found_again": run.reidentified,
        "hidden_frames": int((~valid_a[np.argmax(valid_a) :]).sum()),
        "lost": _lost(times_a, kp, valid_a, image_size, settings.track_timeout_s),
        "timing_s": timing,
    }
    source = {
        "kind": "video",
        "file": video_path.name,
        "roi": summary["roi"],
        "model": {"name": "mediapipe.solutions.pose", "version": _mediapipe_version(), **settings.to_dict()},
        "smoothing": smoothing.to_dict() if smoothing is not None else None,
        "frame_times_s": np.round(times_a, 6).tolist(),
        "summary": summary,
    }
    reference = Reference(
        fps=fps, keypoints2d=kp, keypoints2d_valid=valid_a, image_size=image_size, world_keypoints=wk, source=source
    )
    return reference, summary


def _lost(
    times: np.ndarray, keypoints: np.ndarray, valid: np.ndarray, image_size: tuple[int, int], after_s: float
) -> dict[str, Any] | None:
    """Where the person followed was last seen when that was ``after_s`` or more before the end (nobody
    else was taken after): the frame, time and a box around them twice their size (for ``--roi``)."""
    last = int(np.flatnonzero(valid)[-1])
    if times[-1] - times[last] < after_s:
        return None
    body_px = keypoints[last, list(BODY_LANDMARKS), :2] * np.asarray(image_size, dtype=np.float64)
    box = list(box_around(body_px, image_size))
    return {
        "last_seen_frame": last, "last_seen_s": round(float(times[last]), 3), "box": box,
        "frames_after": len(times) - 1 - last,
    }  # fmt: skip


def _mediapipe_version() -> str:
    import mediapipe as mp

    return mp.__version__
