"""Residual-force curriculum: the schedule's rule, the env's limit, and a real Track run that lowers it,
records it in its checkpoints and continues it on resume (tiny PPO runs through the Hydra entry point)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from motionlab.errors import UserError
from motionlab.policy_io import load_policy, read_meta
from motionlab.training.curriculum import ResidualForceSchedule

REPO_ROOT = Path(__file__).resolve().parents[1]
TRAIN_SCRIPT = REPO_ROOT / "scripts" / "train.py"
TINY = [
    "task=track", "n_envs=2", "vec_env=dummy", "ppo.n_steps=64", "ppo.batch_size=64", "ppo.n_epochs=1",
    "policy.hidden=[16,16]", "policy.components=2", "progress_bar=false", "eval_episodes=2",
    "task.env_kwargs.max_episode_seconds=1", "eval_every=128", "checkpoint_every=128",
]  # fmt: skip


def test_the_limit_falls_while_the_policy_stands_rises_back_when_it_falls_and_reaches_zero() -> None:
    s = ResidualForceSchedule.from_config({"factor": 0.5, "floor": 0.05}, start_scale=0.3)
    assert s.update(100, fall_rate=0.0) and s.scale == pytest.approx(0.15)
    assert not s.update(200, fall_rate=0.4)  # between the thresholds: held
    assert s.update(300, fall_rate=0.75) and s.scale == pytest.approx(0.3)  # falling: back up ...
    assert not s.update(400, fall_rate=1.0)  # ... but never above the start
    for t in (500, 600, 700):
        s.update(t, fall_rate=0.125)
    assert s.scale == 0.0  # 0.15, 0.075, then below the floor: fully physical
    assert not s.update(800, fall_rate=0.0)
    assert [h["scale"] for h in s.history] == pytest.approx([0.15, 0.3, 0.15, 0.075, 0.0])
    assert ResidualForceSchedule.from_state(json.loads(json.dumps(s.state()))) == s
    with pytest.raises(UserError, match="unknown settings"):
        ResidualForceSchedule.from_config({"factr": 0.5}, start_scale=0.3)
    with pytest.raises(UserError, match="factor"):
        ResidualForceSchedule.from_config({"factor": 1.5}, start_scale=0.3)


def test_a_zero_limit_applies_no_force_whatever_the_policy_asks() -> None:
    env = gym.make("MotionLab/Track-v0", residual_force=True)
    env.reset(seed=0)
    push = np.ones(env.action_space.shape, dtype=np.float32)
    _, _, _, _, info = env.step(push)
    assert info["residual_force_bw"] == pytest.approx(0.3 * np.sqrt(3))
    env.unwrapped.set_residual_force_scale(0.0)
    _, _, _, _, info = env.step(push)
    assert info["residual_force_bw"] == 0.0 and not env.unwrapped.data.xfrc_applied.any()
    with pytest.raises(ValueError, match="residual_force_scale"):
        env.unwrapped.set_residual_force_scale(-0.1)


def _train(run_dir: Path, total: int, extra: list[str]) -> None:
    args = [sys.executable, str(TRAIN_SCRIPT), *extra, f"total_timesteps={total}", f"run_dir={run_dir}"]
    result = subprocess.run(args, cwd=run_dir.parent, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_run_lowers_the_limit_records_it_and_continues_the_schedule_on_resume(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # every evaluation lowers the limit (any fall rate counts as standing), by half
    always = ["task.residual_curriculum.lower_at_fall_rate=1.0", "task.residual_curriculum.raise_at_fall_rate=1.0"]
    _train(run_dir, 384, [*TINY, *always, "task.residual_curriculum.factor=0.5"])
    meta = read_meta(run_dir / "latest")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["residual_force_scale"] for r in rows] == pytest.approx([0.3, 0.15, 0.075])  # evaluated at 128, 256, 384
    assert meta["env_kwargs"]["residual_force_scale"] == pytest.approx(0.0375)  # lowered after the last one
    assert meta["config"]["task"]["env_kwargs"]["residual_force_scale"] == 0.3  # the config keeps the start
    assert [h["timesteps"] for h in meta["residual_curriculum"]["history"]] == [128, 256, 384]
    assert load_policy(run_dir / "latest").make_env().unwrapped.residual_force_scale == pytest.approx(0.0375)

    _train(run_dir, 512, [])  # resumed: the schedule goes on from where it was
    meta = read_meta(run_dir / "latest")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["timesteps"] == 512 and rows[-1]["residual_force_scale"] == pytest.approx(0.0375)
    assert meta["env_kwargs"]["residual_force_scale"] == 0.0  # 0.01875 is below the floor of 0.02
    assert len(meta["residual_curriculum"]["history"]) == 4


def test_a_run_without_the_curriculum_keeps_its_limit(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    _train(run_dir, 256, [*TINY, "task.residual_curriculum=null"])
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["residual_force_scale"] for r in rows] == [0.3, 0.3]
    assert "residual_curriculum" not in read_meta(run_dir / "latest")
