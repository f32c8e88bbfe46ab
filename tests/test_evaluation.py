"""``evaluate()`` (the numbers behind the README's training tables) against runs with a known outcome.

Real MuJoCo, no policy: the body stands still on its servos (zero action) in front of a standing
reference, which either stays put (the episode runs to its time limit, nothing fails) or jumps 1.5 m
forward at a chosen time (the pelvis is then 1.5 m off the reference, past Track-v0's 1 m limit, so the
episode must end at that moment and count as a failure).
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from conftest import standing_reference

from motionlab.body import BodyParams
from motionlab.training.evaluation import evaluate

BODY = BodyParams(height=1.68, mass=61.0)
EPISODE_SECONDS = 2.4


def zero_action(observation: np.ndarray) -> np.ndarray:
    return np.zeros(28, dtype=np.float32)


def standing_env(jump_at_s: float | None = None) -> gym.Env:
    ref = standing_reference(BODY, seconds=3.0)
    if jump_at_s is not None:
        qpos = ref.qpos.copy()
        qpos[round(jump_at_s * ref.fps) :, 0] += 1.5
        ref = dataclasses.replace(ref, qpos=qpos)
    return gym.make(
        "MotionLab/Track-v0", reference=ref, body=BODY, reference_state_init=False, max_episode_seconds=EPISODE_SECONDS
    )


def test_an_episode_without_failure_runs_to_its_time_limit() -> None:
    env = standing_env()
    result = evaluate(zero_action, env, episodes=2)
    dt = env.unwrapped.dt
    assert result["episode_seconds"] == pytest.approx(EPISODE_SECONDS, abs=dt)
    assert result["fall_rate"] == 0.0
    assert result["normalized_return"] > 0.99  # standing where the reference stands: every term near 1
    assert result["return"] == pytest.approx(result["normalized_return"] * result["episode_seconds"] / dt)
    assert result["mpjpe_m"] < 0.01 and result["residual_force_bw"] == 0.0
    assert result["imitation_return"] == pytest.approx(result["normalized_return"])  # no residual force, no penalty


@pytest.mark.parametrize("jump_at_s", [0.5, 1.7])
def test_an_episode_ends_as_a_failure_when_the_reference_leaves(jump_at_s: float) -> None:
    env = standing_env(jump_at_s)
    result = evaluate(zero_action, env, episodes=2)
    assert result["episode_seconds"] == pytest.approx(jump_at_s, abs=env.unwrapped.dt)
    assert result["fall_rate"] == 1.0
    # the last step loses the root term (1.5 m off): the mean reward per step drops below the standing run's
    assert result["normalized_return"] < 0.99


def test_metrics_are_means_over_episodes() -> None:
    """Episodes alternate between a policy that stands and one that lets the reference jump away."""
    jumping, standing = standing_env(0.5), standing_env()
    one = {name: evaluate(zero_action, env, episodes=1) for name, env in (("jump", jumping), ("stand", standing))}

    class Alternating(gym.Wrapper):  # episode i: the standing reference for even i, the jumping one for odd
        def __init__(self) -> None:
            super().__init__(standing)
            self.episode = -1

        def reset(self, **kwargs):
            self.episode += 1
            self.env = standing if self.episode % 2 == 0 else jumping
            return self.env.reset(**kwargs)

    both = evaluate(zero_action, Alternating(), episodes=2)
    for key in ("episode_seconds", "fall_rate", "normalized_return", "return", "mpjpe_m"):
        assert both[key] == pytest.approx((one["jump"][key] + one["stand"][key]) / 2), key


def test_no_episodes_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one episode"):
        evaluate(zero_action, standing_env(), episodes=0)
