"""Rendering, ``motionlab verify`` and the result-video composition: real MuJoCo (EGL/OSMesa), real ffmpeg."""

from __future__ import annotations

import os
import subprocess
import sys

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest

from motionlab.assets import DEFAULT_REFERENCE
from motionlab.body import BodyParams
from motionlab.cli import main
from motionlab.humanoid import build_model, standing_qpos
from motionlab.inference.compose import DEFAULT_SIZE, compose_frame, compose_video, live_lines, panel_boxes
from motionlab.inference.metrics import live_gait
from motionlab.inference.rollout import run_policy, zero_policy
from motionlab.reference import Reference, load_reference, save_reference
from motionlab.render import FILL, HumanoidRenderer, render_trajectory


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference(DEFAULT_REFERENCE)


def _decode(path) -> tuple[list[np.ndarray], float]:
    reader = imageio.get_reader(path, format="FFMPEG")
    frames = [f for f in reader]
    fps = reader.get_meta_data()["fps"]
    reader.close()
    return frames, fps


def _runner_mask(renderer: HumanoidRenderer, qpos: np.ndarray) -> np.ndarray:
    """Pixels that change when the body is there vs sunk below the floor (same camera view)."""
    hidden = qpos.copy()
    hidden[2] -= 10.0
    diff = np.abs(renderer.render(qpos).astype(int) - renderer.render(hidden).astype(int)).max(axis=2)
    return diff > 30


# ------------------------------------------------------------------ offscreen GL selection
def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    cmd = [sys.executable, "-c", code]
    return subprocess.run(cmd, env={**environ, **env}, capture_output=True, text=True, timeout=120)


def test_ensure_gl_picks_a_working_backend_when_mujoco_gl_is_unset() -> None:
    code = (
        "import mujoco, motionlab\nfrom motionlab.gl import ensure_gl\nfrom motionlab.humanoid import build_model\n"
        "b = ensure_gl()\nr = mujoco.Renderer(build_model().model, 32, 32)\nr.update_scene(mujoco.MjData(r.model))\n"
        "print(b, r.render().shape)"
    )  # mujoco is imported first, as in real use: ensure_gl must still switch it over
    out = _python(code)
    assert out.returncode == 0, out.stderr
    backend, shape = out.stdout.split(" ", 1)
    assert backend in ("egl", "osmesa") and shape.strip() == "(32, 32, 3)"


def test_ensure_gl_names_what_to_install_when_nothing_works() -> None:
    out = _python("import motionlab.gl as g\ng.BACKENDS = ('nosuchgl',)\ng.ensure_gl()")
    assert out.returncode != 0
    assert "GLUnavailableError" in out.stderr and "libegl1" in out.stderr and "libosmesa6" in out.stderr


def test_ensure_gl_respects_a_user_choice() -> None:
    out = _python("from motionlab.gl import ensure_gl\nprint(ensure_gl())", MUJOCO_GL="glfw")  # no probing
    assert out.returncode == 0 and out.stdout.strip() == "glfw"


# ------------------------------------------------------------------ humanoid rendering
def test_humanoid_is_visible_centred_and_moves(ref: Reference) -> None:
    hm = build_model(ref.body)
    with HumanoidRenderer(hm, 320, 240, shadows=False, reflections=False) as r:
        masks = [_runner_mask(r, ref.qpos[t]) for t in (0, 10)]
        frames = [r.render(ref.qpos[t]) for t in (0, 10)]
    for mask in masks:
        rows, cols = np.nonzero(mask)
        assert mask[60:180, 100:220].mean() > 0.05  # the body covers the centre of the image
        assert abs(cols.mean() - 160) < 40  # the camera follows the pelvis
        assert (rows.max() - rows.min()) / 240 == pytest.approx(FILL * 0.93, abs=0.12)  # running: knees bent
    assert not masks[0].all() and (masks[0] != masks[1]).mean() > 0.01
    assert np.abs(frames[0].astype(int) - frames[1].astype(int)).mean() > 2


def test_antialiasing_off_keeps_the_runner_and_hardens_its_edges(ref: Reference) -> None:
    hm = build_model(ref.body)
    images = {}
    for aa in (True, False):
        with HumanoidRenderer(hm, 320, 240, shadows=False, reflections=False, antialias=aa) as r:
            images[aa] = r.render(ref.qpos[0]).astype(int)
    diff = np.abs(images[True] - images[False]).sum(axis=2)
    assert 0 < (diff > 30).mean() < 0.05  # only edge pixels change
    assert np.abs(images[True].mean() - images[False].mean()) < 2


def test_same_framing_shows_bodies_at_their_relative_size() -> None:
    tall, short = build_model(BodyParams(height=1.95, mass=85)), build_model(BodyParams(height=1.55, mass=55))
    heights = []
    for hm in (tall, short):
        with HumanoidRenderer(hm, 320, 240, framing_height=1.95, shadows=False, reflections=False) as r:
            rows = np.nonzero(_runner_mask(r, standing_qpos(hm)))[0]
        heights.append(rows.max() - rows.min())
    assert heights[1] / heights[0] == pytest.approx(1.55 / 1.95, abs=0.05)


def test_render_trajectory_yields_one_frame_per_pose(ref: Reference) -> None:
    frames = list(render_trajectory(build_model(ref.body), ref.qpos[:3], 160, 120, camera="front"))
    assert len(frames) == 3 and all(f.shape == (120, 160, 3) and f.dtype == np.uint8 for f in frames)
    with pytest.raises(ValueError, match="camera='top'"):
        HumanoidRenderer(build_model(ref.body), 160, 120, camera="top")


# ------------------------------------------------------------------ motionlab verify
@pytest.fixture(scope="module")
def short_refs(ref: Reference, tmp_path_factory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("refs")
    n = 12
    kp = dict(fps=ref.fps, keypoints2d=ref.keypoints2d[:n], image_size=ref.image_size, source={"kind": "test"})
    paths = {
        "qpos": save_reference(Reference(**kp, qpos=ref.qpos[:n], body=ref.body), d / "qpos.npz"),
        "2d": save_reference(Reference(**kp), d / "kp2d.npz"),
        "3d": save_reference(Reference(**kp, world_keypoints=ref.world_keypoints[:n]), d / "kp3d.npz"),
    }
    return {"dir": d, "n": n, **paths}


@pytest.mark.parametrize(
    ("kind", "mode", "width"), [("qpos", "auto", 640), ("2d", "auto", 320), ("3d", "skeleton", 640)]
)
def test_verify_writes_a_playable_mp4(short_refs, kind: str, mode: str, width: int) -> None:
    out = short_refs["dir"] / f"{kind}.mp4"
    args = ["--npz", str(short_refs[kind]), "--out", str(out), "--mode", mode, "--width", str(width), "--height", "240"]
    assert main(["verify", *args]) == 0
    frames, fps = _decode(out)
    assert len(frames) == short_refs["n"] and fps == pytest.approx(30.0)
    assert frames[0].shape == (240, width, 3)
    # the label box (top-left): white text on the darkened picture, darker than the picture below it
    lum = frames[0].max(axis=2)
    box, below = lum[12:36, 10:110], lum[80:100, 10:110]
    assert (box > 200).mean() > 0.02 and np.median(box) < 0.6 * np.median(below)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.5  # the motion shows


def test_verify_errors_name_the_problem(short_refs, capsys) -> None:
    out = short_refs["dir"] / "x.mp4"
    assert main(["verify", "--npz", str(short_refs["2d"]), "--out", str(out), "--mode", "humanoid"]) == 2
    assert "no qpos" in capsys.readouterr().err and not out.exists()
    assert main(["verify", "--npz", str(short_refs["2d"]), "--out", str(short_refs["dir"] / "x.avi")]) == 2
    assert "must end in .mp4" in capsys.readouterr().err
    assert main(["verify", "--npz", str(short_refs["2d"]), "--out", str(out), "--width", "641"]) == 2
    assert "even number" in capsys.readouterr().err
    assert main(["verify", "--npz", str(short_refs["dir"] / "missing.npz"), "--out", str(out)]) == 2
    assert "no such reference file" in capsys.readouterr().err
    assert [p.name for p in short_refs["dir"].iterdir() if ".partial" in p.name] == []


# ------------------------------------------------------------------ composition
def test_compose_frame_layout_and_labels() -> None:
    original = np.full((480, 640, 3), 90, np.uint8)
    closest = np.full((360, 640, 3), (10, 200, 10), np.uint8)
    ideal = np.full((360, 640, 3), (200, 10, 200), np.uint8)
    frame = compose_frame(original, closest, ideal, ["speed 3.50 m/s"], ["speed 3.40 m/s"], ["t = 1.00 s"])
    assert frame.shape == (DEFAULT_SIZE[1], DEFAULT_SIZE[0], 3) and frame.dtype == np.uint8
    assert (frame[700, 500] == (10, 200, 10)).all() and (frame[700, 1200] == (200, 10, 200)).all()
    assert (frame[300, 640] == 90).all()  # the video, fitted into the top half
    for (x0, y0), colour in zip(((0, 360), (640, 360), (0, 0)), ((10, 200, 10), (200, 10, 200), (32, 34, 40))):
        box = frame[y0 + 10 : y0 + 60, x0 + 10 : x0 + 200]  # label: white text on the panel darkened to 35 %
        assert (box.min(axis=2) > 220).mean() > 0.03
        assert (box == (np.array(colour) * 0.35).astype(np.uint8)).all(axis=2).mean() > 0.5
    two = compose_frame(None, closest, ideal, size=(640, 360))
    assert two.shape == (360, 640, 3)
    assert (two[250, 10] == (10, 200, 10)).all() and (two[250, 630] == (200, 10, 200)).all()
    assert (two[300, 10] == (32, 34, 40)).all()  # a 640x360 picture fitted into a 320x360 panel: letterboxed
    with pytest.raises(ValueError, match="multiples of 4"):
        panel_boxes((642, 360), True)


def test_compose_video_synchronises_runs_and_video(tmp_path) -> None:
    closest = run_policy(gym.make("MotionLab/Track-v0", reference_state_init=False), zero_policy, 0.3, start_frame=8)
    ideal = run_policy(gym.make("MotionLab/Ideal-v0"), zero_policy, 0.15)
    video = (np.full((240, 320, 3), 12 * k, np.uint8) for k in range(20))  # brightness encodes the frame index
    out = compose_video(
        tmp_path / "result.mp4", closest, ideal, video, 20.0, original_start_s=0.5, size=(640, 360), seconds=0.3
    )
    frames, fps = _decode(out)
    assert fps == pytest.approx(20.0) and len(frames) == 7 and frames[0].shape == (360, 640, 3)
    # output frame k shows input frame 10 + k (0.5 s at 20 fps skipped); sampled away from the label box
    shown = [int(f[150, 320].mean()) for f in frames]
    assert shown == pytest.approx([12 * (10 + k) for k in range(7)], abs=4)
    assert [p.name for p in tmp_path.iterdir()] == ["result.mp4"]


def test_live_labels_report_a_fall_from_when_it_happens() -> None:
    env = gym.make("MotionLab/Track-v0", reference_state_init=False, early_termination=False)
    run = run_policy(env, zero_policy, 1.5, start_frame=8)  # the PD servos alone: the runner falls, sim goes on
    assert run.fell and run.fall_time < run.times[-1]
    live = live_gait(run)
    before, after = live_lines(run, run.fall_time - 0.1, live), live_lines(run, run.fall_time, live)
    assert before[0].startswith("speed ") and not any("fell" in s for s in before)
    assert after[-1] == f"fell at {run.fall_time:.2f} s"
    assert live_lines(run, run.times[-1] + 1.0, live)[-1] == after[-1]


def test_a_render_worker_that_dies_is_an_error_not_a_hang(ref: Reference) -> None:
    """A render worker process that ends without its frames (killed, e.g. out of memory) makes the
    result video fail with an error naming it, instead of waiting for frames forever."""
    from motionlab.inference.compose import _ParallelRender

    worker = _ParallelRender(ref.body, ref.qpos[:50], 64, 48, {})
    frames = iter(worker)
    assert next(frames).shape == (48, 64, 3)  # it runs
    worker.proc.kill()
    worker.proc.join()
    with pytest.raises(RuntimeError, match="render worker process ended"):
        for _ in frames:  # frames already queued may still arrive; then the error
            pass
    worker.close()
