"""Video decoding through OpenCV's FFmpeg backend: upright RGB frames with their container timestamps.

Phone videos carry a rotation in their metadata; OpenCV applies it (``CAP_PROP_ORIENTATION_AUTO``), so
frames come out upright and :attr:`VideoInfo.width`/``height`` are the upright size. Timestamps are the
decoder's presentation times (``CAP_PROP_POS_MSEC``), so variable-frame-rate videos keep their real timing;
:func:`effective_fps` summarises them as one rate.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

import cv2
import numpy as np

from motionlab.errors import UserError, VideoReadError

MAX_PIXELS = 7680 * 4320  # 8K UHD: larger frames are refused before the first one is decoded
MAX_SECONDS = 3 * 3600.0  # the container's declared duration
TRUNCATION_TOLERANCE = 0.05  # decoded frames may fall this far short of the container's count (estimates)


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (sizes are after applying the rotation metadata)."""

    path: Path
    width: int
    height: int
    nominal_fps: float
    frame_count: int  # the container's estimate; 0 when unknown
    rotation_deg: int  # rotation metadata that was applied to make frames upright

    @property
    def image_size(self) -> tuple[int, int]:
        return self.width, self.height


class Frame(NamedTuple):
    """One decoded frame: ``index`` counts frames yielded, ``time_s`` is the video timestamp."""

    index: int
    time_s: float
    rgb: np.ndarray  # (H, W, 3) uint8


class VideoReader:
    """Decode ``path`` frame by frame, optionally only the window ``[start_s, end_s)``, only every
    ``every``-th frame of it (the others are decoded but not converted), and at most ``max_frames``;
    with ``max_short_side`` larger frames are shrunk (area averaging) to that many pixels on their short
    side (:attr:`frame_size`; :attr:`info` keeps the video's own size).

    >>> with VideoReader("run.mp4", max_frames=100) as video:
    ...     for frame in video:
    ...         use(frame.time_s, frame.rgb)

    Raises :class:`VideoReadError` for a missing/empty/unreadable file, and while iterating when no frame
    could be decoded (in the window). Timestamps are strictly increasing: a repeated or missing container
    timestamp is replaced by the previous one plus one nominal frame interval.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        start_s: float = 0.0,
        end_s: float | None = None,
        max_frames: int | None = None,
        every: int = 1,
        max_short_side: int | None = None,
    ):
        self.path = Path(path)
        if end_s is not None and end_s <= start_s:
            raise UserError(f"empty time window: end {end_s} s is not after start {start_s} s")
        if max_frames is not None and max_frames < 1:
            raise UserError(f"max_frames must be at least 1, got {max_frames}")
        if every < 1:
            raise UserError(f"every must be at least 1, got {every}")
        self.start_s, self.end_s, self.max_frames, self.every = float(start_s), end_s, max_frames, int(every)
        if not self.path.exists():
            raise VideoReadError(f"{self.path}: no such file")
        if not self.path.is_file():
            raise VideoReadError(f"{self.path}: not a file")
        if self.path.stat().st_size == 0:
            raise VideoReadError(f"{self.path}: the file is empty (0 bytes)")
        self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not self._cap.isOpened():
            raise VideoReadError(f"{self.path}: not a readable video (FFmpeg cannot open it; corrupt or not a video?)")
        self._cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.info = VideoInfo(
            path=self.path,
            width=int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            nominal_fps=float(fps) if np.isfinite(fps) and fps > 0 else 0.0,
            frame_count=max(int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0),
            rotation_deg=int(self._cap.get(cv2.CAP_PROP_ORIENTATION_META)) % 360,
        )
        info = self.info
        shrink = min(1.0, max_short_side / min(info.width, info.height)) if max_short_side and info.width and info.height else 1.0
        self.frame_size = (round(info.width * shrink), round(info.height * shrink)) if shrink < 1 else info.image_size
        if info.width * info.height > MAX_PIXELS:
            self.close()
            raise VideoReadError(
                f"{self.path}: {info.width}x{info.height} frames are larger than 8K; scale the video down"
            )
        if info.nominal_fps > 0 and info.frame_count / info.nominal_fps > MAX_SECONDS:
            self.close()
            raise VideoReadError(
                f"{self.path}: the video lasts {info.frame_count / info.nominal_fps / 3600:.1f} h; at most "
                f"{MAX_SECONDS / 3600:g} h are supported (cut out the part to analyse)"
            )

    @property
    def expected_frames(self) -> int | None:
        """Estimated number of frames this reader yields (for progress bars); None when unknown."""
        estimate = None
        if self.info.frame_count and self.info.nominal_fps > 0:
            fps = self.info.nominal_fps
            estimate = max(self.info.frame_count - round(self.start_s * fps), 0)
            if self.end_s is not None:
                estimate = min(estimate, math.ceil((self.end_s - self.start_s) * fps))
            estimate = math.ceil(estimate / self.every)
        if self.max_frames is not None:
            estimate = self.max_frames if estimate is None else min(estimate, self.max_frames)
        return estimate

    def __iter__(self) -> Iterator[Frame]:
        step = 1.0 / self.info.nominal_fps if self.info.nominal_fps > 0 else 1.0 / 30.0
        prev_t = -np.inf
        decoded = yielded = in_window = 0
        while self.max_frames is None or yielded < self.max_frames:
            if not self._cap.grab():
                self._check_not_truncated(decoded, prev_t)
                break
            decoded += 1
            t = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if not np.isfinite(t) or t <= prev_t:
                t = prev_t + step if np.isfinite(prev_t) else 0.0
            prev_t = t
            if t < self.start_s - 1e-6:
                continue
            if self.end_s is not None and t >= self.end_s - 1e-6:
                break
            in_window += 1
            if (in_window - 1) % self.every:
                continue
            ok, bgr = self._cap.retrieve()
            if not ok:
                break
            if self.frame_size != self.info.image_size:
                bgr = cv2.resize(bgr, self.frame_size, interpolation=cv2.INTER_AREA)
            yield Frame(yielded, t, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            yielded += 1
        if decoded == 0:
            raise VideoReadError(f"{self.path}: no decodable frames (truncated or corrupt video?)")
        if yielded == 0:
            raise VideoReadError(
                f"{self.path}: no frames in the window from {self.start_s:g} s"
                + (f" to {self.end_s:g} s" if self.end_s is not None else "")
                + f" ({decoded} frames decoded before it ended)"
            )

    def _check_not_truncated(self, decoded: int, last_time_s: float) -> None:
        """Decoding stopped: raise when the container declares clearly more frames than could be decoded
        (a truncated or damaged file, e.g. a copy cut short with its index at the front), instead of
        silently analysing only the part that decodes."""
        declared, fps = self.info.frame_count, self.info.nominal_fps
        if declared <= 0 or decoded == 0 or decoded >= declared * (1 - TRUNCATION_TOLERANCE) - 1:
            return
        seconds = f" ({declared / fps:.1f} s)" if fps > 0 else ""
        raise VideoReadError(
            f"{self.path}: the file is truncated or damaged: its container declares {declared} frames{seconds} "
            f"but decoding stopped after {decoded} (at {max(last_time_s, 0.0):.2f} s); copy or export the video "
            f"again, or cut it to the part that plays (e.g. ffmpeg -i in.mp4 -t {max(last_time_s, 0.0):.1f} -c copy out.mp4)"
        )

    def close(self) -> None:
        self._cap.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


T = TypeVar("T")
_END = object()


def read_ahead(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """The items of ``items`` (e.g. a :class:`VideoReader`), produced up to ``depth`` ahead in a
    background thread: OpenCV's decoding, colour conversion and resizing release the GIL, so a video is
    decoded on the second core while the caller works on the previous frame (MediaPipe). An exception
    in the producer is raised here, in order; closing the generator (or leaving it early) stops the
    thread and waits for it, so the source may be closed right after."""
    q: queue.Queue[Any] = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.05)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((_END, None))
        except BaseException as exc:  # re-raised in the consumer
            q.put((_END, exc))

    thread = threading.Thread(target=produce, name="read_ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = q.get()
            if exc is not None:
                raise exc
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()


def frame_step(fps: float, max_fps: float | None) -> int:
    """How many frames to step so that ``fps / step`` is the whole fraction of ``fps`` nearest ``max_fps``
    (60 -> 2 for 30, 50 -> 2, 40 -> 1, 120 -> 4); 1 when ``fps`` is unknown (0) or ``max_fps`` is None."""
    if not max_fps or fps <= 0:
        return 1
    return max(1, round(fps / max_fps))


def source_frame_step(source: Mapping[str, Any]) -> int:
    """The frame step a keypoint reference's ``source`` was extracted with (its summary's
    ``frame_step``; 1 for references from before it existed or not from a video)."""
    return int(source.get("summary", {}).get("frame_step", 1))


def effective_fps(times_s: np.ndarray, fallback: float) -> float:
    """Mean frame rate over ``times_s`` (frames - 1 over the span); ``fallback`` for fewer than 2 frames."""
    times_s = np.asarray(times_s, dtype=float)
    if len(times_s) < 2 or times_s[-1] <= times_s[0]:
        return float(fallback)
    return float((len(times_s) - 1) / (times_s[-1] - times_s[0]))


def is_variable_rate(times_s: np.ndarray, tolerance: float = 0.1) -> bool:
    """True when some frame interval differs from the median interval by more than ``tolerance`` (relative)."""
    dt = np.diff(np.asarray(times_s, dtype=float))
    if len(dt) < 2:
        return False
    median = float(np.median(dt))
    return bool(np.any(np.abs(dt - median) > tolerance * median))


_CAPTURE_FPS_TAGS = ("com.android.capture.fps", "com.apple.quicktime.capture.fps")
# the lens' focal length as a 35 mm camera's equivalent (iPhones' QuickTime key; EXIF's name for it)
FOCAL_35MM_TAGS = ("com.apple.quicktime.camera.focal_length.35mm_equivalent", "FocalLengthIn35mmFormat")


def container_tags(path: str | os.PathLike) -> str:
    """The container's metadata as imageio-ffmpeg's ``ffmpeg -i`` prints it ("" when it cannot run)."""
    import subprocess

    import imageio_ffmpeg

    try:
        probe = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    return probe.stderr


def _positive_tag(path: str | os.PathLike, tags: tuple[str, ...]) -> float | None:
    """The first of ``tags`` in the container's metadata holding a positive number; None when absent."""
    import re

    printed = container_tags(path)
    for tag in tags:
        match = re.search(rf"{re.escape(tag)}\s*:\s*([0-9.]+)", printed)
        if match and float(match.group(1)) > 0:
            return float(match.group(1))
    return None


def capture_fps(path: str | os.PathLike) -> float | None:
    """The capture frame rate a phone wrote into the container for a slow-motion video (Android's
    ``com.android.capture.fps``), read with imageio-ffmpeg's ``ffmpeg``; None when absent."""
    return _positive_tag(path, _CAPTURE_FPS_TAGS)


def focal_length_35mm(path: str | os.PathLike) -> float | None:
    """The lens' 35 mm-equivalent focal length (mm) a phone wrote into the container (iPhones'
    ``com.apple.quicktime.camera.focal_length.35mm_equivalent``); None when absent."""
    return _positive_tag(path, FOCAL_35MM_TAGS)
