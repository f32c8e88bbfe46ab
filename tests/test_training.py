"""PPO training through the Hydra entry point, with real envs, SB3 and torch (no mocks; ~25 s on 2 cores).

Tiny runs on both tasks; a Track run killed with SIGKILL and resumed from ``latest/``; ``load_policy``
on exports and full checkpoints; clear errors for mismatched, corrupt and missing checkpoints.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from hydra import compose, initialize_config_module
from stable_baselines3.common.vec_env import DummyVecEnv

from motionlab.assets import RUN_CLIP
from motionlab.errors import CheckpointError, UserError
from motionlab.mocap import mocap_reference
from motionlab.policies import make_policy_kwargs
from motionlab.policy_io import load_policy, read_meta
from motionlab.reference import save_reference
from motionlab.training.checkpoint import find_checkpoint, read_resume_meta, restore_training, widen_inputs
from motionlab.training.envs import ReferenceSampler, env_spec, make_env
from motionlab.training.train import _new_model, train

REPO_ROOT = Path(__file__).resolve().parents[1]
TRAIN_SCRIPT = REPO_ROOT / "scripts" / "train.py"
TINY = [
    "n_envs=2",
    "vec_env=dummy",
    "ppo.n_steps=64",
    "ppo.batch_size=64",
    "ppo.n_epochs=2",
    "policy.hidden=[32,32]",
    "policy.components=2",
    "progress_bar=false",
    "eval_episodes=2",
    "task.env_kwargs.max_episode_seconds=2",
]


def _compose(overrides: list[str]):
    with initialize_config_module("motionlab.configs", version_base=None):
        return compose("train", overrides=overrides)


def _run_episode(policy, env: gym.Env) -> int:
    obs, _ = env.reset(seed=0)
    steps, done = 0, False
    while not done:
        action = policy.predict(obs)
        assert action.shape == env.action_space.shape
        assert np.all(np.abs(action) <= 1.0)
        obs, reward, terminated, truncated, _ = env.step(action)
        assert np.isfinite(reward)
        steps += 1
        done = terminated or truncated
    return steps


@pytest.fixture(scope="module")
def ideal_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1024-step Ideal-v0 run trained in-process from composed configs (Gaussian head)."""
    run_dir = tmp_path_factory.mktemp("ideal") / "run"
    overrides = [*TINY, "task=ideal", "policy=gaussian", "total_timesteps=1024", "eval_every=512"]
    overrides += ["checkpoint_every=512", f"run_dir={run_dir}"]
    assert train(_compose(overrides)) == run_dir
    return run_dir


def test_ideal_run_writes_checkpoints_metrics_tensorboard_and_export(ideal_run: Path) -> None:
    for name in ("latest", "best"):
        meta = read_meta(ideal_run / name)
        assert meta["env_id"] == "MotionLab/Ideal-v0"
        assert meta["config"]["policy"]["arch"] == "gaussian"
        files = {p.name for p in (ideal_run / name).iterdir()}
        assert {"optimizer.pt", "vecnormalize.npz", "rng.json"} <= files
        assert not files & {"model.zip", "vecnormalize.pkl", "rng.pkl"}  # nothing a resume would unpickle
    assert read_meta(ideal_run / "latest")["num_timesteps"] == 1024
    assert sorted(p.name for p in (ideal_run / "export").iterdir()) == ["meta.json", "obs_norm.npz", "policy.pt"]

    rows = [json.loads(line) for line in (ideal_run / "metrics.jsonl").read_text().splitlines()]
    assert [r["timesteps"] for r in rows] == [512, 1024]
    for r in rows:
        assert 0.0 < r["episode_seconds"] <= 2.0 + 1e-9
        assert 0.0 <= r["fall_rate"] <= 1.0
        assert 0.0 < r["normalized_return"] <= 1.0
        assert r["speed_mps"] > 0.0 and "distance_m" in r

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (events,) = (ideal_run / "tb").glob("ppo_*/events.out.tfevents.*")
    acc = EventAccumulator(str(events))
    acc.Reload()
    assert {"eval/speed_mps", "eval/fall_rate", "train/loss"} <= set(acc.Tags()["scalars"])


def test_export_matches_the_sb3_model_and_runs_an_episode(ideal_run: Path) -> None:
    exported = load_policy(ideal_run / "export")
    assert (exported.env_id, exported.obs_dim, exported.action_dim) == ("MotionLab/Ideal-v0", 96, 28)
    assert exported.meta["num_timesteps"] == read_meta(ideal_run / "best")["num_timesteps"]

    # The export applies the same observation normalisation and weights as the SB3 learner restored from
    # the checkpoint it came from (rebuilt from its config, then loaded: what a resume does).
    meta = read_resume_meta(ideal_run / "best")
    model = _new_model(meta["config"], DummyVecEnv([exported.make_env]), ideal_run)
    restore_training(ideal_run / "best", model, meta)
    vecnorm = model.get_vec_normalize_env()
    assert model.num_timesteps == meta["num_timesteps"] and vecnorm.obs_rms.count > 1
    env = exported.make_env()
    obs, _ = env.reset(seed=3)
    for _ in range(5):
        expected, _ = model.predict(vecnorm.normalize_obs(obs), deterministic=True)
        np.testing.assert_allclose(exported.predict(obs), expected, atol=1e-6)
        obs, *_ = env.step(expected)
    assert _run_episode(exported, env) > 0
    assert _run_episode(load_policy(ideal_run / "latest"), env) > 0  # a full checkpoint loads the same way


def test_a_new_run_can_start_from_another_runs_policy(ideal_run: Path, tmp_path: Path) -> None:
    """``init_from``: a fine-tuning stage starts from the source's weights and observation statistics,
    with its own settings and sample count (learning rate 0 here, so the weights must not move)."""
    source = ideal_run / "export"
    run_dir = tmp_path / "finetune"
    overrides = [*TINY, "task=ideal", "policy=gaussian", "total_timesteps=128", "ppo.learning_rate=0"]
    train(_compose([*overrides, f"init_from={source}", f"run_dir={run_dir}"]))
    meta = read_meta(run_dir / "latest")
    assert meta["num_timesteps"] == 128 and meta["config"]["init_from"] == str(source.resolve())
    before, after = (th.load(d / "policy.pt") for d in (source, run_dir / "latest"))
    assert all(th.equal(before[k], after[k]) for k in before)
    old, new = (np.load(d / "obs_norm.npz") for d in (source, run_dir / "latest"))
    drift = np.abs(new["mean"] - old["mean"]) / np.sqrt(old["var"] + 1e-8)
    assert drift.max() < 1.0  # 128 new samples barely move statistics gathered over 1024
    with pytest.raises(CheckpointError, match="Ideal-v0"):  # a Track run cannot start from an Ideal policy
        train(_compose([*TINY, "total_timesteps=128", f"init_from={source}", f"run_dir={tmp_path / 'bad'}"]))


def test_a_policy_widened_to_appended_observations_acts_as_before() -> None:
    """``init_from`` a run made before observations were appended to its env: the new inputs start with
    zero weights, so actions and values are the source's whatever the new observations hold."""
    policy_cls, kwargs = make_policy_kwargs("mog", [32, 32], components=3, layernorm=True, residual_blocks=1)

    def make(n_obs: int, n_act: int = 5):
        obs_space, act_space = spaces.Box(-np.inf, np.inf, (n_obs,)), spaces.Box(-1.0, 1.0, (n_act,), dtype=np.float32)
        return policy_cls(obs_space, act_space, lambda _: 3e-4, **kwargs)

    narrow, wide = make(7), make(9)
    wide.load_state_dict(widen_inputs(narrow.state_dict(), wide.state_dict(), 7))
    obs = th.randn(16, 9)
    with th.no_grad():
        a_narrow, v_narrow, _ = narrow(obs[:, :7], deterministic=True)
        a_wide, v_wide, _ = wide(obs, deterministic=True)
    th.testing.assert_close(a_wide, a_narrow)
    th.testing.assert_close(v_wide, v_narrow)
    with pytest.raises(ValueError, match="does not fit"):
        widen_inputs(make(7).state_dict(), make(9, n_act=4).state_dict(), 7)  # another action layout


@pytest.mark.parametrize("arch", ["mog", "gaussian"])
def test_a_policy_widened_to_appended_actions_acts_as_before_with_the_new_ones_at_zero(arch: str) -> None:
    """``init_from`` an Ideal-v0 policy into Ideal-v1 (one more action, its gait-clock rate): the old
    actions and the value are the source's, the new action's mean is 0 (Ideal-v1 then is Ideal-v0)."""
    policy_cls, kwargs = make_policy_kwargs(arch, [32, 32], components=3, layernorm=True, log_std_init=-1.0)

    def make(n_act: int):
        obs_space, act_space = spaces.Box(-np.inf, np.inf, (9,)), spaces.Box(-1.0, 1.0, (n_act,), dtype=np.float32)
        return policy_cls(obs_space, act_space, lambda _: 3e-4, **kwargs)

    narrow, wide = make(5), make(6)
    with th.no_grad():
        for p in narrow.parameters():
            p.add_(0.1 * th.randn_like(p))  # trained-looking weights, biases and log-stds
    wide.load_state_dict(widen_inputs(narrow.state_dict(), wide.state_dict(), 9, 5))
    obs = th.randn(16, 9)
    with th.no_grad():
        a_narrow, v_narrow, _ = narrow(obs, deterministic=True)
        a_wide, v_wide, _ = wide(obs, deterministic=True)
    th.testing.assert_close(a_wide[:, :5], a_narrow)
    assert th.equal(a_wide[:, 5], th.zeros(16))
    th.testing.assert_close(v_wide, v_narrow)
    with pytest.raises(ValueError, match="does not fit"):
        widen_inputs(narrow.state_dict(), wide.state_dict(), 9)  # actions are widened only when asked


def test_mismatched_env_names_both_layouts(ideal_run: Path) -> None:
    policy = load_policy(ideal_run / "export")
    track = gym.make("MotionLab/Track-v0")
    with pytest.raises(CheckpointError, match=r"Ideal-v0.*\(96,\).*\(203,\)"):
        policy.check_compatible(track.observation_space, track.action_space)
    residual = (
        gym.make("MotionLab/Ideal-v0").observation_space,
        gym.make("MotionLab/Track-v0", residual_force=True).action_space,
    )
    with pytest.raises(CheckpointError, match=r"action \(28,\).*action \(34,\)"):
        policy.check_compatible(*residual)


def test_corrupt_or_incomplete_checkpoints_give_clear_errors(ideal_run: Path, tmp_path: Path) -> None:
    def broken_copy(name: str) -> Path:
        dst = tmp_path / name
        shutil.copytree(ideal_run / "export", dst)
        return dst

    bad_weights = broken_copy("weights")
    (bad_weights / "policy.pt").write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="policy.pt is not a readable policy state_dict"):
        load_policy(bad_weights)

    bad_meta = broken_copy("meta")
    (bad_meta / "meta.json").write_text('{"format": "motionlab-policy", "env_id"')
    with pytest.raises(CheckpointError, match="meta.json is unreadable or not JSON"):
        load_policy(bad_meta)

    missing = broken_copy("missing")
    (missing / "obs_norm.npz").unlink()
    with pytest.raises(CheckpointError, match="missing obs_norm.npz"):
        load_policy(missing)

    with pytest.raises(CheckpointError, match="not a directory"):
        load_policy(tmp_path / "nowhere")

    # Resuming from a damaged latest/ fails with the checkpoint named instead of silently restarting.
    run_dir = tmp_path / "run"
    shutil.copytree(ideal_run / "latest", run_dir / "latest")
    (run_dir / "latest" / "optimizer.pt").write_bytes(b"truncated")
    with pytest.raises(CheckpointError, match=r"latest/optimizer.pt is not a readable tensor file"):
        train(_compose([f"run_dir={run_dir}"]))


def test_kill_between_the_two_renames_of_a_checkpoint_swap_is_recovered(ideal_run: Path, tmp_path: Path) -> None:
    # A save moves latest/ to .latest.old, then the new directory to latest/; a kill in between leaves
    # only the backup, which find_checkpoint (and so resuming) restores.
    shutil.copytree(ideal_run / "latest", tmp_path / ".latest.old")
    assert find_checkpoint(tmp_path, "latest") == tmp_path / "latest"
    assert read_meta(tmp_path / "latest")["num_timesteps"] == 1024
    assert not (tmp_path / ".latest.old").exists()
    assert find_checkpoint(tmp_path, "best") is None


def test_track_run_killed_with_sigkill_resumes_from_latest(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    total = 6144
    args = [sys.executable, str(TRAIN_SCRIPT), *TINY, "task=track", f"total_timesteps={total}"]
    args += ["checkpoint_every=256", "eval_every=0", f"run_dir={run_dir}"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while not (run_dir / "latest" / "meta.json").exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no latest/ checkpoint within 180 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    killed_at = read_meta(run_dir / "latest")["num_timesteps"]
    assert 0 < killed_at < total
    assert not (run_dir / "export").exists()

    resumed = subprocess.run(
        [sys.executable, str(TRAIN_SCRIPT), f"run_dir={run_dir}"], cwd=tmp_path, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert not list(run_dir.glob(".*.partial*"))  # temporary dirs of saves the kill interrupted are gone
    meta = read_meta(run_dir / "latest")
    assert meta["resumes"] == [killed_at]  # continued from the killed run's samples, not from zero
    assert total <= meta["num_timesteps"] < total + 128
    assert meta["config"]["total_timesteps"] == total
    (row,) = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert row["timesteps"] == meta["num_timesteps"] and row["mpjpe_m"] > 0.0
    assert 0.0 < row["normalized_return"] <= row["imitation_return"] <= 1.0  # minus / without the residual-force cost

    policy = load_policy(run_dir / "export")
    assert (policy.env_id, policy.obs_dim, policy.action_dim) == ("MotionLab/Track-v0", 203, 28 + 6)  # + residual force
    assert _run_episode(policy, policy.make_env()) > 0

    # the same run trained for longer: only the budget may change on a resume
    longer = total + 1024
    extended = subprocess.run(
        [sys.executable, str(TRAIN_SCRIPT), f"run_dir={run_dir}", f"total_timesteps={longer}", "seed=99"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert extended.returncode == 0, extended.stderr
    assert "ignoring seed=99" in extended.stdout + extended.stderr
    meta = read_meta(run_dir / "latest")
    assert meta["config"]["total_timesteps"] == longer and meta["config"]["seed"] != 99
    assert longer <= meta["num_timesteps"] < longer + 128


def test_bad_config_is_a_clear_error_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(TRAIN_SCRIPT), f"run_dir={tmp_path / 'run'}", f"dataset={tmp_path / 'none.npz'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "motionlab-train: error: dataset" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_track_dataset_folder_draws_a_reference_per_episode(tmp_path: Path) -> None:
    dataset = tmp_path / "refs"
    for cycles in (2, 3):
        save_reference(mocap_reference(RUN_CLIP, cycles=cycles), dataset / f"run_{cycles}.npz")
    cfg = _compose([*TINY, f"dataset={dataset}", "total_timesteps=256", "eval_every=0", f"run_dir={tmp_path / 'run'}"])

    env = make_env(env_spec(_compose([f"dataset={dataset}", "run_dir=unused"])))
    assert isinstance(env, ReferenceSampler)
    lengths = set()
    for seed in range(8):
        env.reset(seed=seed)
        lengths.add(len(env.unwrapped.ref_qpos))
    assert len(lengths) == 2  # both references are used, each prepared for the episode that draws it

    run_dir = train(cfg)
    meta = read_meta(run_dir / "export")
    assert meta["dataset"] == [str(dataset / "run_2.npz"), str(dataset / "run_3.npz")]
    assert "reference" not in meta["env_kwargs"]

    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no .npz reference files"):
        env_spec(_compose([f"dataset={tmp_path / 'empty'}", "run_dir=unused"]))
    with pytest.raises(UserError, match="dataset= is for task=track"):
        env_spec(_compose(["task=ideal", f"dataset={dataset}", "run_dir=unused"]))


@pytest.mark.parametrize("task", sorted(p.stem for p in (Path(__file__).parents[1] / "configs" / "task").glob("*.yaml")))
def test_every_task_config_builds_its_env_and_steps(task):
    """Each Hydra task group composes, and its env (with the config's arguments) resets and steps."""
    from motionlab.training.envs import env_spec, make_env

    spec = env_spec(_compose([f"task={task}", "run_dir=unused"]))
    env = make_env(spec)
    env.reset(seed=0)
    _, reward, _, _, _ = env.step(env.action_space.sample())
    assert np.isfinite(reward)
