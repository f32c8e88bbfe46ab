"""MP4 output through imageio-ffmpeg (H.264), written atomically: no partial video is ever left behind."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import numpy as np

from motionlab.io_utils import atomic_write


class VideoWriter:
    """Context manager that encodes RGB uint8 frames to ``path``; the file appears only on success.

    >>> with VideoWriter("out.mp4", fps=30) as w:
    ...     w.write(frame)  # (H, W, 3) uint8

    ``metadata`` (key -> value) is written into the container as it is (QuickTime keys included).
    """

    def __init__(
        self, path: str | os.PathLike, fps: float, quality: int = 7, metadata: dict[str, str] | None = None
    ):
        self.path = Path(path)
        self.metadata = dict(metadata or {})
        self.fps = float(fps)
        self.quality = quality
        self.frames_written = 0
        self._ctx = None
        self._writer = None

    def __enter__(self) -> VideoWriter:
        import imageio.v2 as imageio

        self._ctx = atomic_write(self.path)
        tmp = self._ctx.__enter__()
        self._writer = imageio.get_writer(
            tmp, format="FFMPEG", mode="I", fps=self.fps, codec="libx264", quality=self.quality,
            pixelformat="yuv420p", macro_block_size=2, ffmpeg_log_level="error",
            output_params=["-movflags", "use_metadata_tags", *(x for k, v in self.metadata.items() for x in ("-metadata", f"{k}={v}"))],
        )  # fmt: skip
        return self

    def write(self, frame: np.ndarray) -> None:
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frames must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
        self._writer.append_data(frame)
        self.frames_written += 1

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self._writer.close()
        finally:
            if exc_type is None and self.frames_written == 0:
                exc_type, exc = ValueError, ValueError(f"{self.path}: no frames were written")
                self._ctx.__exit__(exc_type, exc, tb)
                raise exc
            self._ctx.__exit__(exc_type, exc, tb)
