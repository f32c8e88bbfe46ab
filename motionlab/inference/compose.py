"""The result video: the input video with its 2D pose, and the "Closest" and "Ideal" runners beside it.

Layout of a ``(W, H)`` frame (W, H multiples of 4): a landscape input takes the top half, fitted and
centred, with Closest | Ideal side by side below; a portrait input takes a full-height column on the
left with the two runners in the remaining width (so a phone video is shown large). Without a video the
two runners take the whole frame. Both runners are filmed by the same kind of camera, framed for the
Closest body (sizes compare), from the side the input camera saw the person from (the runner faces the
same way on screen as in the video). A banner on top gives the reliability verdict; every panel is
labelled with a title and live numbers; moments without a pose in the video and restarts (by kind) are
labelled in every panel.

The video runs at most at :data:`MAX_FPS` (every k-th input frame). The two runners are rendered in two
worker processes while the main process composes and encodes. :class:`InputPanelFrames` keeps the
input frames at the size they are shown while the keypoints are extracted, so the video is decoded once.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import queue
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from motionlab.body import BodyParams
from motionlab.camera import Camera
from motionlab.humanoid import build_model
from motionlab.inference.metrics import live_gait
from motionlab.inference.reliability import restart_summary
from motionlab.inference.rollout import Rollout
from motionlab.motion import pelvis_forward
from motionlab.render import HumanoidRenderer
from motionlab.video.overlay import blank, draw_text_box
from motionlab.video.writer import VideoWriter

DEFAULT_SIZE = (1280, 720)
MAX_FPS = 30.0
RECENT_RESTART_S = 1.5  # a restart is named in the panel this long after it
TITLES = {
    "original": "You: input video + 2D pose",
    "closest": "Closest: your run, physically simulated",
    "ideal": "Ideal: same body, optimised gait",
}
BANNER_RGB = {"reliable": (46, 125, 50), "use with care": (200, 120, 0), "unreliable": (198, 40, 40)}
NO_POSE = "no pose in the video here: not analysed"


def panel_boxes(size: tuple[int, int], with_original: bool, portrait: bool = False) -> dict[str, tuple[int, int, int, int]]:
    """Panel rectangles ``x, y, w, h`` of the layout (see the module docstring); ``portrait``: the input
    is taller than wide."""
    w, h = size
    if w % 4 or h % 4 or w < 64 or h < 64:
        raise ValueError(f"output size {w}x{h}: width and height must be multiples of 4 and at least 64")
    if not with_original:
        return {"closest": (0, 0, w // 2, h), "ideal": (w // 2, 0, w // 2, h)}
    if portrait:
        ow = min(4 * round(h * 9 / 16 / 4), w // 3 // 4 * 4)
        sw = (w - ow) // 2
        return {"original": (0, 0, ow, h), "closest": (ow, 0, sw, h), "ideal": (ow + sw, 0, w - ow - sw, h)}
    hw, hh = w // 2, h // 2
    return {"original": (0, 0, w, hh), "closest": (0, hh, hw, hh), "ideal": (hw, hh, hw, hh)}


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to fit (width, height), centred on the background colour; unchanged if it fits exactly."""
    if image.shape[:2] == (height, width):
        return image
    w, h = fitted_size(image.shape[1::-1], width, height)
    out = blank(width, height)
    x, y = (width - w) // 2, (height - h) // 2
    if (w, h) != image.shape[1::-1]:
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if w < image.shape[1] else cv2.INTER_LINEAR)
    out[y : y + h, x : x + w] = image
    return out


def fitted_size(image_size: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    """The size :func:`fit` scales an ``image_size`` (w, h) image to inside (width, height)."""
    s = min(width / image_size[0], height / image_size[1])
    return max(int(round(image_size[0] * s)), 1), max(int(round(image_size[1] * s)), 1)


class InputPanelFrames:
    """The input video's frames at the size the result video shows them (a frame sink for
    :func:`~motionlab.video.pose.extract_keypoints`), so the video is decoded once: 4K frames are not
    decoded a second time for the result video. Past ``budget_bytes`` the copies are dropped
    (``complete`` False) and the caller decodes the video again, each frame shrunk by :meth:`shrink`."""

    def __init__(self, image_size: tuple[int, int], out_size: tuple[int, int] = DEFAULT_SIZE, budget_bytes: int = 400 << 20):
        _, _, w, h = panel_boxes(out_size, True, portrait=image_size[1] > image_size[0])["original"]
        self.image_size, self.size = image_size, fitted_size(image_size, w, h)
        self.scale = self.size[0] / image_size[0]  # input pixels -> panel pixels
        self.frames: list[np.ndarray] = []
        self.complete, self._budget = True, budget_bytes

    def shrink(self, rgb: np.ndarray) -> np.ndarray:
        """``rgb`` (an input frame) at the panel size."""
        if rgb.shape[1::-1] == self.size:
            return rgb
        return cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA if self.scale < 1 else cv2.INTER_LINEAR)

    def __call__(self, frame: Any) -> None:
        if not self.complete:
            return
        self.frames.append(self.shrink(frame.rgb))
        if len(self.frames) * self.frames[0].nbytes > self._budget:
            self.frames, self.complete = [], False


def banner_height(size: tuple[int, int]) -> int:
    return max(int(size[1] * 0.045), 16)


def compose_frame(
    original: np.ndarray | None,
    closest: np.ndarray,
    ideal: np.ndarray,
    closest_info: Sequence[str] = (),
    ideal_info: Sequence[str] = (),
    original_info: Sequence[str] = (),
    size: tuple[int, int] = DEFAULT_SIZE,
    verdict: tuple[str, str] | None = None,
    portrait: bool = False,
) -> np.ndarray:
    """One (H, W, 3) uint8 frame: ``original`` (the video frame with its pose drawn, or None), and the two
    rendered runners, each panel labelled with its title and its ``*_info`` lines; ``verdict`` = (level,
    headline) is drawn as a banner across the top."""
    boxes = panel_boxes(size, original is not None, portrait)
    frame = np.empty((size[1], size[0], 3), dtype=np.uint8)
    images = {"original": original, "closest": closest, "ideal": ideal}
    infos = {"original": original_info, "closest": closest_info, "ideal": ideal_info}
    scale = max(size[1] / 1440, 0.4)
    top = banner_height(size) if verdict else 0
    for name, (x, y, w, h) in boxes.items():
        panel = fit(np.ascontiguousarray(images[name]), w, h).copy()
        draw_text_box(panel, [TITLES[name], *infos[name]], (8, 8 + (top if y == 0 else 0)), scale=scale, title=True)
        frame[y : y + h, x : x + w] = panel
    for x, y, w, h in boxes.values():  # panel borders
        if x > 0:
            cv2.line(frame, (x, y), (x, y + h - 1), (0, 0, 0), 2)
        if y > 0:
            cv2.line(frame, (x, y), (x + w - 1, y), (0, 0, 0), 2)
    if verdict:
        level, headline = verdict
        strip = frame[:top]
        strip[:] = (0.35 * strip + 0.65 * np.array(BANNER_RGB.get(level, (90, 90, 90)))).astype(np.uint8)
        cv2.putText(frame, headline, (8, int(top * 0.72)), cv2.FONT_HERSHEY_SIMPLEX, top / 40, (255, 255, 255), max(1, top // 20), cv2.LINE_AA)
    return frame


def live_lines(rollout: Rollout, t: float, live: dict[str, np.ndarray]) -> list[str]:
    """The live numbers of ``rollout`` at time ``t`` (s): speed, cadence (``--`` where they cannot be
    trusted), time, the residual root force when the policy uses one; restarts so far by kind, the latest
    named for a moment; a fall without restart once it happened; why the run ended once it has."""
    i = int(np.argmin(np.abs(rollout.times - t)))
    cadence, speed = live["cadence"][i], live["speed"][i]
    lines = [
        "speed " + ("--" if np.isnan(speed) else f"{speed:4.2f}") + " m/s   cadence "
        + ("--" if np.isnan(cadence) else f"{cadence:3.0f}") + " spm",
        f"t = {t:5.2f} s",
    ]  # fmt: skip
    rf = rollout.residual_force_bw
    if rf is not None and rf.any():  # residual force control: say how much non-physical help it gets
        lines.append(f"residual force {100 * rf[i]:3.0f}% BW")
    past = [(rt, k) for rt, k in zip(rollout.restart_times, rollout.restart_kinds or ["fall"] * len(rollout.restart_times)) if rt <= t]
    if past:
        rt, kind = past[-1]
        if t - rt < RECENT_RESTART_S:
            lines.append(f"{kind} at {rt:.2f} s: restarted")
        lines.append(restart_summary(rollout, until=t) + " so far")
    elif rollout.fell and rollout.fall_time is not None and t >= rollout.fall_time:
        lines.append(f"fell at {rollout.fall_time:.2f} s")
    elif t > rollout.times[-1] + rollout.dt / 2:
        lines.append(f"ended: {rollout.end_reason}")
    return lines


def _original_frames(frames: Iterable[np.ndarray], fps: float, start_s: float, out_fps: float) -> Iterator[np.ndarray]:
    """Frame shown at each output step k (time ``start_s + k / out_fps``): the input frame at that time,
    its last frame held once it ends."""
    it = iter(frames)
    last, index = None, -1
    k = 0
    while True:
        want = int(round((start_s + k / out_fps) * fps))
        while index < want:
            nxt = next(it, None)
            if nxt is None:
                break
            last, index = nxt, index + 1
        if last is None:
            raise ValueError("the original video has no frames after the start time")
        yield last
        k += 1


def output_fps(fps: float) -> float:
    """The video's rate: ``fps`` divided by the smallest whole number that brings it to <= :data:`MAX_FPS`."""
    return fps / max(1, math.ceil(fps / MAX_FPS - 1e-9))


def facing_azimuth(qpos: np.ndarray, faces_right: bool) -> float:
    """MuJoCo free-camera azimuth (deg) that films a runner with trajectory ``qpos`` side-on so that it
    faces the image's right (or left)."""
    fwd = pelvis_forward(qpos)[:, :2].mean(axis=0)
    heading = math.degrees(math.atan2(fwd[1], fwd[0]))
    return heading + (90.0 if faces_right else -90.0)


def faces_right_in(camera: Camera, qpos: np.ndarray) -> bool:
    """Whether the person (lifted ``qpos``) faces the right of ``camera``'s image on average."""
    fwd = pelvis_forward(qpos).mean(axis=0)
    return bool(fwd @ camera.rotation()[0] >= 0)


def _render_worker(body: dict[str, Any], qpos: np.ndarray, width: int, height: int, opts: dict[str, Any], queue: Any) -> None:
    """Render every row of ``qpos`` and put the frames' bytes on ``queue`` (None at the end)."""
    try:
        with HumanoidRenderer(build_model(BodyParams.from_dict(body)), width, height, **opts) as renderer:
            for q in qpos:
                queue.put(renderer.render(q).tobytes())
        queue.put(None)
    except BaseException as exc:  # the main process re-raises it
        queue.put(repr(exc))


class _ParallelRender:
    """Frames of a pose sequence rendered ahead in a worker process. The worker is spawned, not forked:
    a fork of a parent that already ran MediaPipe, torch or a GL context inherits their locks held by
    threads that do not exist in the child, and Mesa's renderer then waits on one forever."""

    def __init__(self, body: BodyParams, qpos: np.ndarray, width: int, height: int, opts: dict[str, Any]):
        ctx = mp.get_context("spawn")
        self.shape = (height, width, 3)
        self.queue = ctx.Queue(maxsize=32)
        self.proc = ctx.Process(target=_render_worker, args=(body.to_dict(), qpos, width, height, opts, self.queue), daemon=True)
        self.proc.start()

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            try:
                item = self.queue.get(timeout=1.0)
            except queue.Empty:
                if self.proc.is_alive():
                    continue
                raise RuntimeError(f"the render worker process ended (exit code {self.proc.exitcode}) before its last frame") from None
            if item is None:
                return
            if isinstance(item, str):
                raise RuntimeError(f"rendering failed in the worker process: {item}")
            yield np.frombuffer(item, np.uint8).reshape(self.shape)

    def close(self) -> None:
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join()


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
    closest_notes: Sequence[str] = (),
    ideal_notes: Sequence[str] = (),
    verdict: tuple[str, str] | None = None,
    detected: np.ndarray | None = None,
    input_camera: Camera | None = None,
    you_qpos: np.ndarray | None = None,
    cut_note: str | None = None,
    progress: bool = False,
    portrait: bool | None = None,
) -> Path:
    """Write the result MP4 (atomically) and return its path.

    ``original`` yields the input video's frames (RGB, pose already drawn) at ``original_fps``; the
    rollouts' time 0 is the video's ``original_start_s``. The video runs at :func:`output_fps` of
    ``original_fps`` (else of the control rate) for ``seconds`` (default: the longer rollout); a runner
    that stopped holds its last pose. ``detected`` (input frames with a pose) labels the moments without
    one; ``input_camera`` and ``you_qpos`` (the lifted motion) choose the side the runners are filmed
    from; ``cut_note`` says the input was cut; ``portrait`` (default: from the first input frame);
    ``closest_notes`` and ``ideal_notes`` are extra lines under the Closest and Ideal panels' titles (e.g.
    that Closest was refined, or that the Ideal runs at another speed than the user's)."""
    if original is not None and not original_fps:
        raise ValueError("original_fps is required with the original video")
    in_fps = float(original_fps) if original is not None else 1.0 / closest.dt
    fps = output_fps(in_fps) if original is not None else min(in_fps, MAX_FPS)
    duration = seconds if seconds is not None else max(closest.times[-1], ideal.times[-1])
    video = _original_frames(original, in_fps, original_start_s, fps) if original is not None else None
    first = next(video) if video is not None else None
    if portrait is None:
        portrait = first is not None and first.shape[0] > first.shape[1]
    boxes = panel_boxes(size, video is not None, portrait)
    _, _, pw, ph = boxes["closest"]
    live = {"closest": live_gait(closest), "ideal": live_gait(ideal)}
    n_frames = int(np.floor(duration * fps + 1e-9)) + 1
    times = np.arange(n_frames) / fps
    faces_right = faces_right_in(input_camera, you_qpos) if input_camera is not None and you_qpos is not None else True
    workers = []
    try:
        for run in (closest, ideal):
            idx = np.abs(run.times[None, :] - times[:, None]).argmin(axis=1)
            opts = dict(framing_height=closest.body.height, shadows=shadows, reflections=reflections, antialias=antialias,
                        azimuth_deg=facing_azimuth(run.qpos, faces_right))  # fmt: skip
            workers.append(_ParallelRender(run.body, run.qpos[idx], pw, ph, opts))
        with VideoWriter(path, fps) as writer:
            frames = zip(*workers)
            for k, (img_c, img_i) in enumerate(tqdm(frames, total=n_frames, desc="render", unit="frame", disable=not progress)):
                t = times[k]
                seen = detected is None or bool(detected[min(int(round((t + original_start_s) * in_fps)), len(detected) - 1)])
                gap = [] if seen else [NO_POSE]
                input_lines = [f"t = {t + original_start_s:5.2f} s"] + ([f"video cut: {cut_note}"] if cut_note else []) + gap
                frame = compose_frame(
                    (first if k == 0 else next(video)) if video is not None else None,
                    img_c,
                    img_i,
                    closest_info=[*closest_notes, *live_lines(closest, t, live["closest"]), *gap],
                    ideal_info=[*ideal_notes, *live_lines(ideal, t, live["ideal"])],
                    original_info=input_lines,
                    size=size,
                    verdict=verdict,
                    portrait=portrait,
                )
                writer.write(frame)
    finally:
        for w in workers:
            w.close()
    return Path(path)
