"""Rendering the MuJoCo humanoid from ``qpos``, and the frames of ``motionlab verify``.

:class:`HumanoidRenderer` wraps ``mujoco.Renderer`` with a free camera that follows the pelvis along
the ground at a fixed height and distance (so the runner's bounce and the track moving underneath stay
visible, and two renderers framed for the same height show bodies at the same scale); the template's lights follow
the runner, so its shadow is cast wherever it is on the track. 2D drawing (skeleton panels, text boxes)
lives in :mod:`motionlab.video.overlay`.
"""

from __future__ import annotations

from collections.abc import Iterator

import mujoco
import numpy as np

from motionlab.errors import ReferenceFormatError
from motionlab.gl import ensure_gl
from motionlab.humanoid import HumanoidModel, build_model
from motionlab.reference import Reference
from motionlab.video.overlay import draw_text_box, skeleton_2d_frame, skeleton_3d_frame

VIEWS = {"side": 90.0, "front": 180.0}  # free-camera azimuth: from the runner's right, from ahead
ELEVATION_DEG = -8.0
FILL = 0.6  # a body of the framing height spans this fraction of the image height
LOOKAT = 0.55  # the camera aims at this fraction of the framing height above the ground


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

    def __enter__(self) -> HumanoidRenderer:
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


# ------------------------------------------------------------------ motionlab verify
def verify_frames(
    ref: Reference, name: str, mode: str, width: int, height: int, max_frames: int
) -> Iterator[np.ndarray]:
    """Preview frames of ``ref`` labelled with ``name``, frame number and time. ``mode``: ``humanoid``
    (qpos), ``skeleton`` (2D keypoints, plus the 3D world keypoints turned 90 deg when present) or
    ``auto`` (humanoid beside the 2D skeleton when qpos exists, else skeleton)."""
    if mode == "humanoid" and ref.qpos is None:
        raise ReferenceFormatError(
            f"{name} has no qpos to show as a humanoid; use --mode skeleton or lift it (`motionlab lift`)"
        )
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
