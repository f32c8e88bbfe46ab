"""The Ideal's target-speed curriculum: episodes start near the speeds a policy holds and move down the
range as it stops falling there (real Ideal envs; zero action stands in for a policy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from motionlab.errors import UserError
from motionlab.policy_io import read_meta
from motionlab.training.envs import SpeedCurriculum, env_spec, make_env, make_training_env

TRAIN_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
SPEED_OBS = 83  # after the 81 proprioception dims and the gait clock's sin, cos


def test_reset_option_sets_the_episodes_target_speed():
    env = gym.make("MotionLab/Ideal-v0", target_speed_range=(2.8, 4.4))
    obs, _ = env.reset(seed=0, options={"target_speed": 1.9})
    assert env.unwrapped.target_speed == obs[SPEED_OBS] == pytest.approx(1.9)
    assert env.unwrapped.clock_rate == pytest.approx(max(1.9 / env.unwrapped.athlete_speed, 0.6))
    obs, _ = env.reset(seed=0)  # without the option: drawn from the range again
    assert 2.8 <= obs[SPEED_OBS] <= 4.4
    with pytest.raises(ValueError, match="target speed 0.2"):
        env.reset(options={"target_speed": 0.2})


def _episodes(env: SpeedCurriculum, n: int) -> list[float]:
    """Run ``n`` zero-action episodes; the target speed of each."""
    speeds = []
    for _ in range(n):
        env.reset()
        speeds.append(env.unwrapped.target_speed)
        terminated = truncated = False
        while not (terminated or truncated):
            _, _, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
        assert info["curriculum_low_mps"] == env.lower
    return speeds


def test_the_lower_end_moves_down_only_while_the_policy_stays_up():
    # 0.3 s episodes end before zero action falls (~0.8 s): the frontier is held, the range widens to 1.8
    short = SpeedCurriculum(gym.make("MotionLab/Ideal-v0", target_speed_range=(1.8, 4.4), max_episode_seconds=0.3), 2.6, min_episodes=4)
    short.reset(seed=0)
    lowers = [short.lower]
    speeds = []
    while short.lower > 1.8 and len(speeds) < 200:
        speeds += _episodes(short, 1)
        lowers.append(short.lower)
    assert short.lower == pytest.approx(1.8)
    assert np.all(np.diff(lowers) <= 0) and lowers[0] == 2.6
    assert min(speeds) >= 1.8 and max(speeds) <= 4.4
    assert 16 <= len(speeds) <= 60  # four moves of 0.2 m/s, each after >= 4 frontier episodes
    # 3 s episodes: zero action falls in every one, so the curriculum stays where it started
    long = SpeedCurriculum(gym.make("MotionLab/Ideal-v0", target_speed_range=(1.8, 4.4), max_episode_seconds=3.0), 2.6, min_episodes=4)
    long.reset(seed=0)
    speeds = _episodes(long, 20)
    assert long.lower == 2.6 and long.frontier_fall_rate > 0.8
    assert min(speeds) >= 2.6
    frontier = np.mean(np.array(speeds) < 2.8)  # half the episodes at the frontier, the rest over [2.6, 4.4]
    assert 0.3 < frontier < 0.9


def test_config_wraps_training_envs_only():
    with initialize_config_module("motionlab.configs", version_base=None):
        cfg = compose("train", overrides=["task=ideal_v1", "task.speed_curriculum={start_low:3.0,step:0.25}", "run_dir=unused"])
    spec = env_spec(OmegaConf.to_container(cfg, resolve=True))
    assert spec.speed_curriculum == {"start_low": 3.0, "step": 0.25}
    venv = make_training_env(spec, 1, 0, "dummy")
    wrapped = venv.envs[0]
    assert isinstance(wrapped, SpeedCurriculum) and (wrapped.lower, wrapped.step_mps) == (3.0, 0.25)
    venv.close()
    assert not isinstance(make_env(spec), SpeedCurriculum)  # evaluation draws over the whole range
    with pytest.raises(UserError, match="start_low=9.0"):
        SpeedCurriculum(gym.make("MotionLab/Ideal-v1", target_speed_range=(1.8, 6.5)), 9.0)
    with pytest.raises(UserError, match="target_speed_range"):
        SpeedCurriculum(gym.make("MotionLab/Ideal-v1"), 3.0)


def test_a_resumed_run_continues_the_curriculum_where_it_was(tmp_path):
    """Episodes of 0.3 s end before any fall, so every 3 frontier episodes move the lower end down by
    0.2 m/s. The lowest end reached is in the checkpoint, and the resumed run starts there, not at 4.0."""
    run_dir = tmp_path / "run"
    tiny = [
        "task=ideal_v1", "task.env_kwargs.max_episode_seconds=0.3", "task.env_kwargs.target_speed_range=[1.8,4.4]",
        "task.speed_curriculum={start_low:4.0,step:0.2,min_episodes:1}", "n_envs=1", "vec_env=dummy",
        "ppo.n_steps=64", "ppo.batch_size=64", "ppo.n_epochs=1", "policy.hidden=[16,16]", "policy.components=2",
        "progress_bar=false", "eval_episodes=1", "eval_every=128", "checkpoint_every=128",
    ]  # fmt: skip

    def train(total: int, extra: list[str]) -> float:
        args = [sys.executable, str(TRAIN_SCRIPT), *extra, f"total_timesteps={total}", f"run_dir={run_dir}"]
        result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return read_meta(run_dir / "latest")["speed_curriculum"]["lower"]

    first = train(128, tiny)
    assert first <= 3.6 + 1e-9  # 14 episodes of 9 steps, half at the frontier: at least two moves from 4.0
    assert train(192, []) <= first + 1e-9  # resumed: not back up at 4.0 (7 more episodes move it once at most)
