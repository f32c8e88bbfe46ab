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
