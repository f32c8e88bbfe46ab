"""Reward weights are env arguments that Hydra sets; the configs hold the envs' defaults."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

import motionlab  # noqa: F401  (registers the envs)
from motionlab.envs.ideal import REWARD_WEIGHTS as IDEAL_WEIGHTS
from motionlab.envs.track import REWARD_WEIGHTS as TRACK_WEIGHTS
from motionlab.errors import MotionLabError
from motionlab.training.envs import env_spec, make_env

DEFAULTS = {"MotionLab/Track-v0": TRACK_WEIGHTS, "MotionLab/Ideal-v0": IDEAL_WEIGHTS}


def _compose(overrides: list[str]):
    with initialize_config_module("motionlab.configs", version_base=None):
        return compose("train", overrides=overrides)


@pytest.mark.parametrize("task", ["track", "ideal"])
def test_task_configs_hold_the_env_defaults(task):
    cfg = _compose([f"task={task}"])
    assert dict(cfg.task.env_kwargs.reward_weights) == DEFAULTS[cfg.task.env_id]


@pytest.mark.parametrize("env_id", list(DEFAULTS))
def test_reward_is_the_weighted_sum_with_the_given_weights(env_id):
    """The same state and action under default and changed weights: each reward is its weights times the
    same reward terms (so a weight set through the argument is the one used)."""
    term = next(iter(DEFAULTS[env_id]))
    changed = {term: DEFAULTS[env_id][term] + 1.0}
    rewards, terms = [], []
    for weights in (None, changed):
        env = gym.make(env_id, reward_weights=weights)
        env.reset(seed=3)
        _, reward, _, _, info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        rewards.append(reward)
        terms.append(info["reward_terms"])
        env.close()
    assert terms[0] == pytest.approx(terms[1])
    assert rewards[1] - rewards[0] == pytest.approx(terms[0][term], rel=1e-9)
    assert terms[0][term] > 0.05  # the term is not ~0, so the check above can fail


def test_hydra_override_reaches_the_env(tmp_path):
    overrides = ["task=track", "task.env_kwargs.reward_weights.pose=0.7", f"run_dir={tmp_path}"]
    env = make_env(env_spec(OmegaConf.to_container(_compose(overrides), resolve=True)))
    assert env.unwrapped.reward_weights == {**TRACK_WEIGHTS, "pose": 0.7}
    env.close()


@pytest.mark.parametrize("weights", [{"posture": 1.0}, {"pose": float("nan")}, {"pose": "high"}])
def test_bad_reward_weights_are_one_clear_error(weights):
    with pytest.raises(MotionLabError, match="reward_weights"):
        gym.make("MotionLab/Track-v0", reward_weights=weights)
