"""The result video: the input video with its 2D pose on top, the "Closest" and "Ideal" runners below.

Layout of a ``(W, H)`` frame (W, H multiples of 4): the top half holds the input video fitted and
centred; the bottom half holds Closest | Ideal side by side, each ``W/2 x H/2``. Without a video the
two runners take the full height. Both runners are filmed by the same camera (framed for the Closest
body), so their sizes compare, and every panel is labelled with a title and a few live numbers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from motionlab.humanoid import build_model
from motionlab.inference.metrics import live_gait
from motionlab.inference.rollout import Rollout
from motionlab.render import HumanoidRenderer
from motionlab.video.overlay import blank, draw_text_box
from motionlab.video.writer import VideoWriter

DEFAULT_SIZE = (1280, 720)
TITLES = {
    "original": "Input video + 2D pose",
    "closest": "Closest: your run, physically simulated",
    "ideal": "Ideal: same body, optimised gait",
}


def panel_boxes(size: tuple[int, int], with_original: bool) -> dict[str, tuple[int, int, int, int]]:
    """Panel rectangles ``x, y, w, h`` of the layout (see the module docstring)."""
    w, h = size
    if w % 4 or h % 4 or w < 64 or h < 64:
        raise ValueError(f"output size {w}x{h}: width and height must be multiples of 4 and at least 64")
    if not with_original:
        return {"closest": (0, 0, w // 2, h), "ideal": (w // 2, 0, w // 2, h)}
    hw, hh = w // 2, h // 2
    return {"original": (0, 0, w, hh), "closest": (0, hh, hw, hh), "ideal": (hw, hh, hw, hh)}


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to fit (width, height), centred on the background colour; unchanged if it fits exactly."""
    if image.shape[:2] == (height, width):
        return image
    s = min(width / image.shape[1], height / image.shape[0])
    w, h = max(int(round(image.shape[1] * s)), 1), max(int(round(image.shape[0] * s)), 1)
    out = blank(width, height)
    x, y = (width - w) // 2, (height - h) // 2
    out[y : y + h, x : x + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    return out


def compose_frame(
    original: np.ndarray | None,
    closest: np.ndarray,
    ideal: np.ndarray,
    closest_info: Sequence[str] = (),
    ideal_info: Sequence[str] = (),
    original_info: Sequence[str] = (),
    size: tuple[int, int] = DEFAULT_SIZE,
) -> np.ndarray:
    """One (H, W, 3) uint8 frame: ``original`` (the video frame with its pose drawn, or None), and the two
    rendered runners, each panel labelled with its title and its ``*_info`` lines."""
    boxes = panel_boxes(size, original is not None)
    frame = np.empty((size[1], size[0], 3), dtype=np.uint8)
    images = {"original": original, "closest": closest, "ideal": ideal}
    infos = {"original": original_info, "closest": closest_info, "ideal": ideal_info}
    scale = max(size[1] / 1440, 0.4)
    for name, (x, y, w, h) in boxes.items():
        panel = fit(np.ascontiguousarray(images[name]), w, h).copy()
        draw_text_box(panel, [TITLES[name], *infos[name]], (8, 8), scale=scale, title=True)
        frame[y : y + h, x : x + w] = panel
    cv2.line(frame, (size[0] // 2, boxes["closest"][1]), (size[0] // 2, size[1] - 1), (0, 0, 0), 2)
    if original is not None:
        cv2.line(frame, (0, size[1] // 2), (size[0] - 1, size[1] // 2), (0, 0, 0), 2)
    return frame


def live_lines(rollout: Rollout, t: float, live: dict[str, np.ndarray]) -> list[str]:
    """The live numbers of ``rollout`` at time ``t`` (s): speed, cadence, time, the residual root force
    when the policy uses one; a fall once it happened, and why the run ended once it has."""
    i = int(np.argmin(np.abs(rollout.times - t)))
    cadence = live["cadence"][i]
    lines = [
        f"speed {live['speed'][i]:4.2f} m/s   cadence " + ("--" if np.isnan(cadence) else f"{cadence:3.0f}") + " spm",
        f"t = {t:5.2f} s",
    ]
    rf = rollout.residual_force_bw
    if rf is not None and rf.any():  # residual force control: say how much non-physical help it gets
        lines.append(f"residual force {100 * rf[i]:3.0f}% BW")
    falls = sum(rt <= t for rt in rollout.restart_times)
    if falls:
        lines.append(f"fell {falls}x, restarted each time" if falls > 1 else f"fell at {rollout.restart_times[0]:.2f} s, restarted")
    elif rollout.fell and t >= rollout.fall_time:
        lines.append(f"fell at {rollout.fall_time:.2f} s")
    elif t > rollout.times[-1] + rollout.dt / 2:
        lines.append(f"ended: {rollout.end_reason}")
    return lines


def _original_frames(frames: Iterable[np.ndarray], fps: float, start_s: float) -> Iterator[np.ndarray]:
    """Frame shown at each output step: the video from ``start_s`` on, its last frame held once it ends."""
    it = iter(frames)
    last = None
    for _ in range(int(round(start_s * fps))):
        last = next(it, last)
    while True:
        last = next(it, last)
        if last is None:
            raise ValueError("the original video has no frames after the start time")
        yield last


def compose_video(
    path: str | os.PathLike,
    closest: Rollout,
    ideal: Rollout,
    original: Iterable[np.ndarray] | None = None,
    original_fps: float | None = None,
    original_start_s: float = 0.0,
    size: tuple[int, int] = DEFAULT_SIZE,
    seconds: float | None = None,
    shadows: bool = True,
    reflections: bool = True,
    antialias: bool = True,
) -> Path:
    """Write the result MP4 (atomically) and return its path.

    ``original`` yields the input video's frames (RGB, pose already drawn) at ``original_fps``; the
    rollouts' time 0 is the video's ``original_start_s``. The video runs at ``original_fps`` (else at the
    control rate) for ``seconds`` (default: the longer rollout); a runner that stopped holds its last pose."""
    if original is not None and not original_fps:
        raise ValueError("original_fps is required with the original video")
    boxes = panel_boxes(size, original is not None)
    fps = float(original_fps) if original is not None else 1.0 / closest.dt
    duration = seconds if seconds is not None else max(closest.times[-1], ideal.times[-1])
    video = _original_frames(original, fps, original_start_s) if original is not None else None
    hm_closest, hm_ideal = build_model(closest.body), build_model(ideal.body)
    _, _, pw, ph = boxes["closest"]
    live = {"closest": live_gait(closest), "ideal": live_gait(ideal)}
    rollouts = {"closest": closest, "ideal": ideal}

    def pose(name: str, t: float) -> np.ndarray:
        r = rollouts[name]
        return r.qpos[int(np.argmin(np.abs(r.times - t)))]

    opts = dict(framing_height=closest.body.height, shadows=shadows, reflections=reflections, antialias=antialias)
    with (
        HumanoidRenderer(hm_closest, pw, ph, **opts) as rc,
        HumanoidRenderer(hm_ideal, pw, ph, **opts) as ri,
        VideoWriter(path, fps) as writer,
    ):
        for k in range(int(np.floor(duration * fps + 1e-9)) + 1):
            t = k / fps
            frame = compose_frame(
                next(video) if video is not None else None,
                rc.render(pose("closest", t)),
                ri.render(pose("ideal", t)),
                closest_info=live_lines(closest, t, live["closest"]),
                ideal_info=live_lines(ideal, t, live["ideal"]),
                original_info=[f"t = {t + original_start_s:5.2f} s"],
                size=size,
            )
            writer.write(frame)
    return Path(path)
