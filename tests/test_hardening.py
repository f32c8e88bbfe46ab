"""Hostile but fair input: every case ends in one clear error (or an explicit flag), never a traceback,
a silent wrong output, a temporary file left behind or an overwritten input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import motionlab  # noqa: F401  (registers the envs)
from motionlab.body import BodyParams, random_body


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
from dataclasses import replace  # noqa: E402
import shutil  # noqa: E402
import zipfile  # noqa: E402

import torch  # noqa: E402

from motionlab.assets import CHECKPOINT_DIR, DEFAULT_REFERENCE  # noqa: E402
from motionlab.cli import main as motionlab_main  # noqa: E402
from motionlab.reference import ReferenceFormatError, load_reference, save_reference  # noqa: E402
from motionlab.training.checkpoint import CheckpointError, load_policy  # noqa: E402


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
