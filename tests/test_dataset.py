import json

import numpy as np
import pytest

from motionlab.dataset import SPEED_SCALE_RANGE, build_dataset
from motionlab.humanoid import JOINT_NAMES
from motionlab.reference import load_reference


def test_teacher_dataset_varies_bodies_cameras_speeds_and_mirrors(tmp_path):
    paths = build_dataset(tmp_path / "ds", n_variants=3, cycles=2, seed=1)
    assert len(paths) == 6
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert [e["file"] for e in manifest["references"]] == [p.name for p in paths]
    refs = [load_reference(p) for p in paths]
    assert len({r.body.height for r in refs}) == 3
    assert len({json.dumps(r.source["camera"]) for r in refs}) == 6
    scales = [r.source["speed_scale"] for r in refs]
    assert all(SPEED_SCALE_RANGE[0] <= s <= SPEED_SCALE_RANGE[1] for s in scales) and len(set(scales)) == 3
    plain, mirrored = refs[2], refs[3]
    r, l = JOINT_NAMES.index("right_knee"), JOINT_NAMES.index("left_knee")
    np.testing.assert_allclose(mirrored.qpos[:, 7 + r], plain.qpos[:, 7 + l], atol=1e-9)
    assert mirrored.source["mirror"] and not plain.source["mirror"]
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == sorted([p.name for p in paths] + ["manifest.json"])


def test_cli_import_mocap_writes_a_reference(tmp_path):
    from motionlab.cli import main

    out = tmp_path / "ref.npz"
    assert main(["import-mocap", "--out", str(out), "--height", "1.6", "--mass", "55", "--cycles", "2"]) == 0
    ref = load_reference(out)
    assert ref.body.height == pytest.approx(1.6) and ref.qpos is not None


def test_hard_negative_sampling_draws_failing_references_more_often():
    import dataclasses

    import gymnasium as gym
    from scipy.spatial.transform import Rotation

    from motionlab.assets import DEFAULT_REFERENCE
    from motionlab.training.envs import ReferenceSampler

    good = load_reference(DEFAULT_REFERENCE)
    lying = good.qpos.copy()
    lying[:, 3:7] = Rotation.from_euler("y", 90, degrees=True).as_quat(scalar_first=True)
    lying[:, 2] = 0.15  # lying on the floor: every episode ends in a fall at once
    bad = dataclasses.replace(good, qpos=lying)
    counts = {}
    for weight in (0.0, 4.0):
        env = ReferenceSampler(gym.make("MotionLab/Track-v0", max_episode_seconds=0.4), [good, bad], weight)
        env.reset(seed=0)
        draws = []
        for _ in range(80):
            draws.append(env._current)
            terminated = truncated = False
            while not (terminated or truncated):
                _, _, terminated, truncated, _ = env.step(np.zeros(env.action_space.shape))
            env.reset()
        counts[weight] = np.bincount(draws[10:], minlength=2)
        assert env.failure_rate[1] > env.failure_rate[0] + 0.5
    assert abs(counts[0.0][1] - counts[0.0][0]) < 25  # uniform
    assert counts[4.0][1] > 2.5 * counts[4.0][0]  # 5 : 1 in expectation


def test_track_config_turns_hard_negative_mining_on_for_a_dataset(tmp_path):
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    from motionlab.training.envs import ReferenceSampler, env_spec, make_env

    paths = build_dataset(tmp_path / "ds", n_variants=1, cycles=1)
    with initialize_config_module("motionlab.configs", version_base=None):
        cfg = compose("train", overrides=["task=track", f"dataset={tmp_path / 'ds'}", "task.hard_negative=3.0"])
    spec = env_spec(OmegaConf.to_container(cfg, resolve=False) | {"dataset": str(tmp_path / "ds")})
    assert spec.hard_negative == 3.0 and len(spec.dataset) == len(paths) == 2
    env = make_env(spec)
    assert isinstance(env, ReferenceSampler) and env.hard_negative == 3.0
