"""Hostile but fair input: every case ends in one clear error (or an explicit flag), never a traceback,
a silent wrong output, a temporary file left behind or an overwritten input."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import motionlab  # noqa: F401  (registers the envs)
from motionlab.assets import CHECKPOINT_DIR, DEFAULT_REFERENCE
from motionlab.body import BodyParams, random_body
from motionlab.cli import main as motionlab_main
from motionlab.commands.infer import main as infer_main
from motionlab.errors import CheckpointError, OutputPathError
from motionlab.io_utils import check_outputs, output_set, terminate_like_interrupt
from motionlab.policy_io import load_policy
from motionlab.reference import ReferenceFormatError, load_reference, save_reference
from motionlab.video.writer import VideoWriter


# ---------------------------------------------------------------------- envs
@pytest.fixture(scope="module")
def track_env():
    env = gym.make("MotionLab/Track-v0").unwrapped
    yield env
    env.close()


@pytest.fixture(scope="module")
def ideal_env():
    env = gym.make("MotionLab/Ideal-v0").unwrapped
    yield env
    env.close()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("which", ["track", "ideal"])
def test_non_finite_action_ends_the_episode(which, bad, track_env, ideal_env):
    env = track_env if which == "track" else ideal_env
    env.reset(seed=0)
    action = np.zeros(env.action_space.shape)
    action[3] = bad
    obs, reward, terminated, truncated, info = env.step(action)
    assert truncated and not terminated
    assert "NaN/Inf" in info["diverged"] and "action" in info["diverged"]
    assert reward == 0.0 and np.isfinite(obs).all()


def test_ideal_v1_non_finite_action_ends_the_episode():
    env = gym.make("MotionLab/Ideal-v1").unwrapped
    env.reset(seed=0)
    *_, truncated, info = env.step(np.full(env.action_space.shape, np.nan))
    assert truncated and "action" in info["diverged"]
    with pytest.raises(ValueError, match="action"):
        env.step(None)
    env.close()


def test_track_non_finite_residual_force_ends_the_episode():
    env = gym.make("MotionLab/Track-v0", residual_force=True).unwrapped
    env.reset(seed=0)
    action = np.zeros(env.action_space.shape)
    action[-1] = np.nan  # only the residual torque: the servos' controls stay finite
    *_, truncated, info = env.step(action)
    assert truncated and "action" in info["diverged"]
    env.close()


@pytest.mark.parametrize("which", ["track", "ideal"])
@pytest.mark.parametrize("action", [None, 0.5, np.zeros(29), np.zeros(27), np.zeros((1, 28)), "go"])
def test_action_of_the_wrong_shape_is_refused(which, action, track_env, ideal_env):
    env = track_env if which == "track" else ideal_env
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action"):
        env.step(action)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"frame_skip": 0}, "frame_skip"),
        ({"frame_skip": 2.5}, "frame_skip"),
        ({"frame_skip": 10**6}, "frame_skip"),
        ({"max_episode_seconds": float("nan")}, "max_episode_seconds"),
        ({"max_episode_seconds": 0}, "max_episode_seconds"),
        ({"body_spread": -0.1}, "body_spread"),
    ],
)
def test_env_arguments_out_of_range_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        gym.make("MotionLab/Track-v0", **kwargs)


# ---------------------------------------------------------------------- body randomisation
@pytest.mark.parametrize("base", [BodyParams(height=2.2, mass=100.0), BodyParams(height=1.05, mass=20.0)])
def test_random_bodies_stay_in_the_validated_range(base):
    rng = np.random.default_rng(0)
    bodies = [random_body(rng, 0.3, base) for _ in range(300)]  # BodyParams validates on construction
    heights = np.array([b.height for b in bodies])
    assert heights.max() <= 2.3 and heights.min() >= 1.0
    assert heights.std() > 0.02  # still random


def test_training_env_with_a_tall_base_body_resets_many_times():
    env = gym.make("MotionLab/Ideal-v0", body={"height": 2.2, "mass": 100}, randomize_body=True, body_spread=0.1)
    for seed in range(30):
        env.reset(seed=seed)
    assert env.unwrapped.body.height <= 2.3
    env.close()


# ---------------------------------------------------------------------- references


@pytest.fixture(scope="module")
def default_ref():
    return load_reference(DEFAULT_REFERENCE)


def _rewrite(path, src, **changes):
    with np.load(src, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"schema_version": np.asarray("1")}, "schema_version"),
        ({"fps": np.asarray(1e-6)}, "fps"),
        ({"fps": np.asarray(1e9)}, "fps"),
        ({"keypoints2d": None}, "keypoints2d x, y"),
        ({"qpos": None}, "unit length"),
    ],
)
def test_absurd_reference_values_are_refused_at_load(tmp_path, default_ref, changes, message):
    if "keypoints2d" in changes:
        kp = default_ref.keypoints2d.copy()
        kp[5, 3, 0] = 1e30
        changes = {"keypoints2d": kp}
    if "qpos" in changes:
        qpos = default_ref.qpos.copy()
        qpos[7, 3:7] = 0.0
        changes = {"qpos": qpos}
    path = _rewrite(tmp_path / "bad.npz", DEFAULT_REFERENCE, **changes)
    with pytest.raises(ReferenceFormatError, match=message):
        load_reference(path)


def test_verify_on_keypoints_of_1e30_is_one_clear_error(tmp_path, default_ref, capsys):
    kp = default_ref.keypoints2d.copy()
    kp[:, :, :2] = 1e30
    path = _rewrite(tmp_path / "huge.npz", DEFAULT_REFERENCE, keypoints2d=kp)
    assert motionlab_main(["verify", "--npz", str(path), "--out", str(tmp_path / "v.mp4")]) == 2
    assert "keypoints2d x, y" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob(".*"))


def test_a_reference_declaring_huge_arrays_is_refused_before_loading(tmp_path):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:  # headers only: loading would need 26 TB
        for name, shape, dtype in (("keypoints2d", (10**11, 33, 3), "<f4"), ("fps", (), "<f8")):
            with archive.open(f"{name}.npy", "w") as fh:
                np.lib.format.write_array_header_1_0(fh, {"descr": dtype, "fortran_order": False, "shape": shape})
    with pytest.raises(ReferenceFormatError, match="too large to load"):
        load_reference(path)


def test_track_refuses_a_reference_shorter_than_a_control_step(default_ref):
    short = replace(
        default_ref, fps=1000.0, keypoints2d=default_ref.keypoints2d[:2], keypoints2d_valid=default_ref.keypoints2d_valid[:2],
        world_keypoints=default_ref.world_keypoints[:2], qpos=default_ref.qpos[:2],
    )  # fmt: skip
    env = gym.make("MotionLab/Track-v0", reference=short)
    with pytest.raises(ReferenceFormatError, match="at least one control step"):
        env.reset(seed=0)


# ---------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("damage", ["obs_mean", "obs_var", "weights"])
def test_a_checkpoint_with_non_finite_numbers_is_refused(tmp_path, damage):
    ckpt = shutil.copytree(CHECKPOINT_DIR / "track", tmp_path / "track")
    if damage == "weights":
        state = torch.load(ckpt / "policy.pt", weights_only=True)
        key = next(k for k, v in state.items() if v.is_floating_point())
        state[key][0] = float("nan")
        torch.save(state, ckpt / "policy.pt")
        match = "NaN/Inf"
    else:
        with np.load(ckpt / "obs_norm.npz") as data:
            norm = {k: data[k] for k in data.files}
        norm["mean" if damage == "obs_mean" else "var"][3] = np.nan
        np.savez(ckpt / "obs_norm.npz", **norm)
        match = "observation statistics are invalid"
    with pytest.raises(CheckpointError, match=match):
        load_policy(ckpt)


# ---------------------------------------------------------------------- command-line arguments


@pytest.mark.parametrize(
    "argv, named",
    [
        (["--seconds", "inf"], "--seconds"),
        (["--seconds", "nan"], "--seconds"),
        (["--camera-speed", "1e6"], "--camera-speed"),
        (["--camera-speed", "nan"], "--camera-speed"),
        (["--body-search", "-1"], "--body-search"),
        (["--height", "nan"], "--height"),
        (["--body-search-seconds", "nan"], "--body-search-seconds"),
    ],
)
def test_infer_rejects_non_finite_and_out_of_range_arguments_by_name(argv, named, capsys):
    with pytest.raises(SystemExit) as exit_info:
        infer_main(argv)  # argparse exits before any work
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {named}:" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, named",
    [
        (["lift", "--ref", "a.npz", "--out", "b.npz", "--focal-px", "0"], "--focal-px"),
        (["lift", "--ref", "a.npz", "--out", "b.npz", "--camera-speed", "nan"], "--camera-speed"),
        (["import-mocap", "--out", "a.npz", "--cycles", "100000"], "--cycles"),
        (["import-mocap", "--out", "a.npz", "--fps", "inf"], "--fps"),
        (["build-dataset", "--out-dir", "d", "--body-spread", "nan"], "--body-spread"),
        (["verify", "--npz", "a.npz", "--out", "b.mp4", "--max-seconds", "nan"], "--max-seconds"),
        (["extract", "--video", "a.mp4", "--out", "b.npz", "--start", "inf"], "--start"),
    ],
)
def test_motionlab_commands_reject_bad_numbers_by_name(argv, named, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written, but if it were, not into the repository
    with pytest.raises(SystemExit) as exit_info:
        motionlab_main(argv)
    assert exit_info.value.code == 2
    assert f"argument {named}:" in capsys.readouterr().err


def test_estimate_camera_does_not_replace_a_zero_focal_length(default_ref):
    from motionlab.lift import LiftError, estimate_camera

    with pytest.raises(LiftError, match="focal_px"):
        estimate_camera(default_ref, BodyParams(), focal_px=0.0)


# ---------------------------------------------------------------------- outputs checked before the work
@pytest.fixture(scope="module")
def small_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    with VideoWriter(path, fps=10) as writer:
        for i in range(12):
            writer.write(np.full((64, 64, 3), 20 * i, np.uint8))
    return path


def _stderr(capsys) -> str:
    """What the command printed on stderr, with rich's line wrapping undone."""
    return " ".join(capsys.readouterr().err.split())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_infer_refuses_to_overwrite_its_input_video(tmp_path, small_video, capsys):
    video = Path(shutil.copy(small_video, tmp_path / "run.mp4"))
    link = tmp_path / "link.mp4"
    link.symlink_to(video)
    before = _digest(video)
    for out in (video, link):
        assert infer_main(["--video", str(video), "--out", str(out)]) == 2
        assert "overwrite the input" in _stderr(capsys)
    assert _digest(video) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.mp4", "run.mp4"]


@pytest.mark.parametrize("case", ["directory", "parent is a file", "unwritable"])
def test_infer_checks_the_output_path_before_any_work(tmp_path, case, capsys):
    if case == "directory":
        out = tmp_path / "result.mp4"
        out.mkdir()
        expected = "is a directory"
    elif case == "parent is a file":
        (tmp_path / "notes").write_text("x")
        out = tmp_path / "notes" / "result.mp4"
        expected = "cannot write"
    else:
        out = Path("/proc/motionlab-test/result.mp4")  # /proc takes no new folders, even for root
        expected = "cannot write"
    start = time.perf_counter()
    assert infer_main(["--out", str(out)]) == 2
    assert time.perf_counter() - start < 2.0  # refused before loading policies or reading input
    err = _stderr(capsys)
    assert expected in err and "Traceback" not in err


def test_lift_and_preview_refuse_to_overwrite_their_inputs(tmp_path, small_video, capsys):
    ref = Path(shutil.copy(DEFAULT_REFERENCE, tmp_path / "ref.npz"))
    assert motionlab_main(["lift", "--ref", str(ref), "--out", str(ref)]) == 2
    assert motionlab_main(["preview", "--video", str(small_video), "--ref", str(ref), "--out", str(small_video)]) == 2
    assert _stderr(capsys).count("overwrite the input") == 2


# ---------------------------------------------------------------------- outputs written as one set
def test_output_set_renames_all_outputs_together_or_none(tmp_path):
    finals = [tmp_path / "r.mp4", tmp_path / "r.json", tmp_path / "r.png"]
    with pytest.raises(RuntimeError):
        with output_set(finals) as temps:
            temps[0].write_text("video")
            raise RuntimeError("encoder failed")
    assert list(tmp_path.iterdir()) == []
    with output_set(finals) as temps:
        for tmp in temps:
            tmp.write_text(tmp.suffix)
        assert not any(f.exists() for f in finals)  # nothing appears before every output is complete
    assert [f.read_text() for f in finals] == [".mp4", ".json", ".png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.mp4", "r.png"]


def test_temporary_outputs_of_a_killed_run_are_removed_by_the_next(tmp_path):
    # SIGKILL runs no cleanup: the next run writing the same outputs clears what the killed one left
    stale = [tmp_path / ".r.k1ll3d.partial.mp4", tmp_path / ".r.k1ll3d.partial.json"]
    other = tmp_path / ".other.x.partial.mp4"  # another output's temporary file stays
    for p in (*stale, other):
        p.write_text("half")
    with output_set([tmp_path / "r.mp4", tmp_path / "r.json"]) as temps:
        for tmp in temps:
            tmp.write_text("done")
    assert not any(p.exists() for p in stale) and other.exists()


def test_a_second_run_to_the_same_outputs_fails_clearly(tmp_path, capsys):
    out = tmp_path / "r.mp4"
    with output_set([out, out.with_suffix(".json")]):
        with pytest.raises(OutputPathError, match="another run is writing"):
            with output_set([out]):
                pass
        assert infer_main(["--out", str(out)]) == 2
        assert "another run is writing" in _stderr(capsys)
    with output_set([out]):  # released
        pass


def test_check_outputs_names_the_clash_with_an_input(tmp_path):
    (tmp_path / "a.npz").write_bytes(b"x")
    with pytest.raises(OutputPathError, match="overwrite the input"):
        check_outputs([tmp_path / "sub" / ".." / "a.npz"], [tmp_path / "a.npz"])


# ---------------------------------------------------------------------- SIGTERM
def test_sigterm_cleans_up_temporary_files(tmp_path):
    out = tmp_path / "verify.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-m", "motionlab.cli", "verify", "--npz", str(DEFAULT_REFERENCE), "--out", str(out)],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".verify.*.partial.mp4")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "verify finished before it could be interrupted"
    time.sleep(0.3)  # mid-encode
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- missing input is never analysed as present
def _write_faststart_video(path: Path, frames: int) -> Path:
    import imageio.v2 as imageio

    rng = np.random.default_rng(0)
    writer = imageio.get_writer(
        path, format="FFMPEG", fps=30, codec="libx264", output_params=["-movflags", "+faststart"],
        macro_block_size=2, ffmpeg_log_level="error",
    )  # fmt: skip
    for _ in range(frames):
        writer.append_data(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8))  # noise: no key-frame tricks
    writer.close()
    return path


def test_a_truncated_video_is_reported_not_analysed_as_its_first_second(tmp_path, capsys):
    from motionlab.video.reader import VideoReader, VideoReadError

    full = _write_faststart_video(tmp_path / "full.mp4", 150)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 4])  # index at the front, data cut short
    with VideoReader(full) as video:
        assert sum(1 for _ in video) == 150
    with pytest.raises(VideoReadError, match=r"truncated or damaged: its container declares 150 frames"):
        with VideoReader(cut) as video:
            for _ in video:
                pass
    assert motionlab_main(["extract", "--video", str(cut), "--out", str(tmp_path / "ref.npz")]) == 2
    assert "truncated" in capsys.readouterr().err
    assert not (tmp_path / "ref.npz").exists()


def test_frames_where_the_person_left_are_flagged_in_the_lift(tmp_path, default_ref):
    from motionlab.lift import lift_reference

    keypoints_only = replace(default_ref, qpos=None, body=None)
    n = keypoints_only.num_frames
    valid = np.ones(n, bool)
    valid[int(0.56 * n) :] = False  # the runner leaves the frame for the last 44 %
    valid[40:45] = False  # and is missed for 5 frames in between
    lifted, report = lift_reference(replace(keypoints_only, keypoints2d_valid=valid))
    np.testing.assert_array_equal(lifted.qpos_observed, valid)
    assert report.held_frames == list(range(int(0.56 * n), n))
    assert report.missing_spans_s[0] == pytest.approx((40 / 30, 44 / 30))
    assert report.missing_spans_s[1][0] == pytest.approx(int(0.56 * n) / 30)
    assert lifted.source["lift"]["held_frames"] == report.held_frames
    path = save_reference(lifted, tmp_path / "lifted.npz")
    np.testing.assert_array_equal(load_reference(path).qpos_observed, valid)


def test_sigterm_still_ends_a_forked_worker_at_once():
    """A worker forked after the handler is installed (the video's render processes) must die on SIGTERM,
    not unwind like Ctrl-C: its parent's terminate() + join() would hang on a worker stuck in a full queue."""
    import multiprocessing as mp

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        terminate_like_interrupt()
        worker = mp.get_context("fork").Process(target=time.sleep, args=(60,), daemon=True)
        worker.start()
        time.sleep(0.2)
        worker.terminate()
        worker.join(timeout=10)
        assert worker.exitcode == -signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)
