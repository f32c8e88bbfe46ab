"""Rendering: the MuJoCo humanoid from ``qpos``, skeletons from keypoints, text labels, and ``motionlab verify``.

:class:`HumanoidRenderer` wraps ``mujoco.Renderer`` with a free camera that follows the pelvis along
the ground at a fixed height and distance (so the runner's bounce and the track moving underneath stay
visible, and two renderers framed for the same height show bodies at the same scale); the template's lights follow
the runner, so its shadow is cast wherever it is on the track. Skeleton panels draw
MediaPipe keypoints with :func:`motionlab.video.overlay.draw_pose` on a plain background: the 2D
keypoints in image space, or the 3D world keypoints seen across the camera's line of sight.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import mujoco
import numpy as np

from motionlab.gl import ensure_gl
from motionlab.humanoid import HumanoidModel, build_model
from motionlab.reference import Reference, load_reference
from motionlab.video.overlay import draw_pose

VIEWS = {"side": 90.0, "front": 180.0}  # free-camera azimuth: from the runner's right, from ahead
ELEVATION_DEG = -8.0
FILL = 0.6  # a body of the framing height spans this fraction of the image height
LOOKAT = 0.55  # the camera aims at this fraction of the framing height above the ground
BACKGROUND_RGB = (32, 34, 40)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def framing(height_m: float, fovy_deg: float) -> tuple[float, float]:
    """Camera distance and aim height (m) at which a ``height_m`` tall body fills :data:`FILL` of the image."""
    return height_m / (FILL * 2 * np.tan(np.deg2rad(fovy_deg) / 2)), LOOKAT * height_m


class HumanoidRenderer:
    """Render humanoid poses (``qpos`` (35,)) to RGB frames with a camera that follows the runner.

    The camera is placed for a body ``framing_height`` m tall (default: this body's height); renderers
    given the same framing height show different bodies at their true relative size. ``shadows``,
    ``reflections`` and ``antialias`` (4x multisampling; all on by default) cost render time, see
    ``benchmarks/bench_render.py``. ``azimuth_deg`` overrides the view's camera azimuth (MuJoCo's free
    camera: 90 looks along +y). Use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        hm: HumanoidModel,
        width: int = 640,
        height: int = 480,
        camera: str = "side",
        framing_height: float | None = None,
        shadows: bool = True,
        reflections: bool = True,
        antialias: bool = True,
        azimuth_deg: float | None = None,
    ):
        if camera not in VIEWS:
            raise ValueError(f"camera={camera!r}; choose one of {sorted(VIEWS)}")
        ensure_gl()
        self.hm = hm
        model = hm.model  # build_model hands out a private copy: enlarging its framebuffer is safe
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, height)
        model.vis.quality.offsamples = model.vis.quality.offsamples if antialias else 0  # 4x MSAA: ~2.4x render time
        self._renderer = mujoco.Renderer(model, height, width)
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadows
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = reflections
        self._data = mujoco.MjData(model)
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self._camera.azimuth = VIEWS[camera] if azimuth_deg is None else azimuth_deg
        self._camera.elevation = ELEVATION_DEG
        fovy = model.vis.global_.fovy
        self._camera.distance, self._lookat_height = framing(framing_height or hm.body.height, fovy)

    def render(self, qpos: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 image of the pose ``qpos``; the camera looks at the pelvis's ground position."""
        d = self._data
        d.qpos[:] = qpos
        mujoco.mj_forward(self.hm.model, d)
        self._camera.lookat[:] = (qpos[0], qpos[1], self._lookat_height)
        self._renderer.update_scene(d, camera=self._camera)
        return self._renderer.render()

    def close(self) -> None:
        self._renderer.close()

    def __enter__(self) -> "HumanoidRenderer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_trajectory(
    hm: HumanoidModel, qpos: np.ndarray, width: int = 640, height: int = 480, **kwargs
) -> Iterator[np.ndarray]:
    """Frames of a (T, 35) ``qpos`` trajectory, one per row (keyword arguments go to :class:`HumanoidRenderer`)."""
    with HumanoidRenderer(hm, width, height, **kwargs) as renderer:
        for q in qpos:
            yield renderer.render(q)


# ------------------------------------------------------------------ text and skeletons
def draw_text_box(
    frame: np.ndarray, lines: Sequence[str], org: tuple[int, int] = (8, 8), scale: float = 0.5, title: bool = False
) -> np.ndarray:
    """Draw ``lines`` in place on ``frame`` at top-left ``org``, white on a dark translucent box; with
    ``title`` the first line is larger and bold. Returns ``frame``."""
    if not lines:
        return frame
    scales = [scale * (1.35 if title and i == 0 else 1.0) for i in range(len(lines))]
    weights = [2 if title and i == 0 else 1 for i in range(len(lines))]
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
    return np.full((height, width, 3), BACKGROUND_RGB, dtype=np.uint8)


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


# ------------------------------------------------------------------ motionlab verify
def verify_frames(
    ref: Reference, name: str, mode: str, width: int, height: int, max_frames: int
) -> Iterator[np.ndarray]:
    """Preview frames of ``ref`` labelled with ``name``, frame number and time. ``mode``: ``humanoid``
    (qpos), ``skeleton`` (2D keypoints, plus the 3D world keypoints turned 90 deg when present) or
    ``auto`` (humanoid beside the 2D skeleton when qpos exists, else skeleton)."""
    if mode == "humanoid" and ref.qpos is None:
        raise ValueError(f"{name} has no qpos to show as a humanoid; use --mode skeleton or lift it (`motionlab lift`)")
    if mode == "humanoid":
        panels = ["humanoid"]
    elif mode == "auto" and ref.qpos is not None:
        panels = ["humanoid", "2d"]
    else:
        panels = ["2d"] + (["3d"] if ref.world_keypoints is not None else [])
    return _verify_frames(ref, name, panels, (width // len(panels)) // 2 * 2, height, max_frames)


_PANEL_TITLES = {
    "humanoid": "MuJoCo humanoid (qpos)",
    "2d": "2D keypoints (image)",
    "3d": "3D world keypoints (turned 90 deg)",
}


def _verify_frames(
    ref: Reference, name: str, panels: list[str], pw: int, height: int, max_frames: int
) -> Iterator[np.ndarray]:
    renderer = HumanoidRenderer(build_model(ref.body), pw, height) if "humanoid" in panels else None
    visibility = ref.keypoints2d[..., 2]
    try:
        for t in range(min(ref.num_frames, max_frames)):
            tiles = []
            for p in panels:
                if p == "humanoid":
                    tile = renderer.render(ref.qpos[t])
                elif p == "2d":
                    tile = skeleton_2d_frame(ref, t, pw, height)
                else:
                    tile = skeleton_3d_frame(ref.world_keypoints[t], visibility[t], pw, height)
                tiles.append(draw_text_box(tile, [_PANEL_TITLES[p]], (8, height - 36)))
            frame = np.concatenate(tiles, axis=1)
            yield draw_text_box(frame, [name, f"frame {t + 1}/{ref.num_frames}  t = {t / ref.fps:5.2f} s"], title=True)
    finally:
        if renderer is not None:
            renderer.close()


def _verify(args: argparse.Namespace) -> None:
    from motionlab.cli import UserError
    from motionlab.video.writer import VideoWriter

    out = Path(args.out)
    if out.suffix.lower() != ".mp4":
        raise UserError(f"--out {out}: the preview is an MP4 video, the name must end in .mp4")
    for flag, value in (("--width", args.width), ("--height", args.height)):
        if value < 64 or value > 4096 or value % 2:
            raise UserError(f"{flag} {value}: use an even number of pixels in [64, 4096] (H.264 needs even sizes)")
    if args.max_seconds is not None and args.max_seconds <= 0:
        raise UserError(f"--max-seconds {args.max_seconds}: must be positive")
    ref = load_reference(args.npz)
    max_frames = ref.num_frames if args.max_seconds is None else max(int(round(args.max_seconds * ref.fps)), 1)
    frames = verify_frames(ref, Path(args.npz).name, args.mode, args.width, args.height, max_frames)
    with VideoWriter(out, ref.fps) as writer:
        for frame in frames:
            writer.write(frame)
    print(f"wrote {out}: {writer.frames_written} frames at {ref.fps:g} fps")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="render a reference .npz as a skeleton or the MuJoCo humanoid (MP4)")
    p.add_argument("--npz", required=True, help="reference file (2D keypoints, optional 3D world keypoints / qpos)")
    p.add_argument("--out", required=True, help="output .mp4")
    p.add_argument(
        "--mode", choices=("auto", "humanoid", "skeleton"), default="auto",
        help="auto: humanoid beside the 2D skeleton when qpos exists, else skeletons; "
        "humanoid: qpos only; skeleton: 2D keypoints (+ 3D world keypoints turned 90 deg)",
    )  # fmt: skip
    p.add_argument("--width", type=int, default=1280, help="output width in pixels (even)")
    p.add_argument("--height", type=int, default=480, help="output height in pixels (even)")
    p.add_argument("--max-seconds", type=float, default=None, help="render only the first seconds")
    p.set_defaults(func=_verify)

