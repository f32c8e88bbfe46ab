"""MotionLab/Ideal-v1: a gait clock the policy drives, a muscle-like energy model, peak force and loading rate."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import motionlab  # noqa: F401  (registers the envs)
from motionlab.assets import DEFAULT_REFERENCE
from motionlab.energy import metabolic_power
from motionlab.envs.ideal import REWARD_WEIGHTS_V1
from motionlab.reference import load_reference


def test_checkers_pass_and_the_action_has_a_clock_dim():
    env = gym.make("MotionLab/Ideal-v1")
    assert env.action_space.shape == (29,) and env.observation_space.shape == (96,)
    gym_check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=True)


def test_zero_clock_action_is_ideal_v0_exactly():
    """What lets a v0 policy widened with a zero clock output start out acting as before."""
    v0, v1 = gym.make("MotionLab/Ideal-v0", target_speed=3.2), gym.make("MotionLab/Ideal-v1", target_speed=3.2)
    obs0, _ = v0.reset(seed=4)
    obs1, _ = v1.reset(seed=4)
    rng = np.random.default_rng(0)
    steps = 0
    while steps < 40:
        steps += 1
        a = rng.uniform(-0.2, 0.2, 28).astype(np.float32)
        obs0, _, fell0, *_ = v0.step(a)
        obs1, _, fell1, _, info = v1.step(np.r_[a, 0.0].astype(np.float32))
        np.testing.assert_array_equal(obs0, obs1)
        assert fell0 == fell1
        if fell1:
            break
    assert steps >= 10
    assert info["cadence_spm"] == pytest.approx(120.0 * v1.unwrapped.clock_rate / v1.unwrapped.stride_period)


def test_the_policy_sets_its_cadence_within_bounds():
    env = gym.make("MotionLab/Ideal-v1", target_speed=3.5).unwrapped
    cadences = {}
    for a_clock in (-1.0, 0.0, 1.0, 5.0):
        env.reset(seed=0)
        phase0 = env._clock_phase
        action = np.zeros(29, np.float32)
        action[-1] = a_clock
        info = env.step(action)[4]
        cadences[a_clock] = info["cadence_spm"]
        # the gait clock advanced by the chosen rate: what the observed phase and the prior follow
        assert env._clock_phase - phase0 == pytest.approx(info["cadence_spm"] / 120.0 * env.dt)
    assert cadences[1.0] / cadences[0.0] == pytest.approx(np.exp(0.5))
    assert cadences[-1.0] / cadences[0.0] == pytest.approx(np.exp(-0.5))
    assert cadences[5.0] == cadences[1.0]  # actions are clipped to [-1, 1]


def test_metabolic_power_uses_muscle_efficiencies_and_torque_squared():
    limit = np.array([100.0, 300.0])
    pos = metabolic_power(np.array([50.0, 0.0]), np.array([2.0, 0.0]), limit, 70.0)
    neg = metabolic_power(np.array([50.0, 0.0]), np.array([-2.0, 0.0]), limit, 70.0)
    still = metabolic_power(np.array([50.0, 0.0]), np.array([0.0, 0.0]), limit, 70.0)
    heat = still
    assert pos - heat == pytest.approx(100.0 / 0.25)  # 100 W of positive work costs 400 W
    assert neg - heat == pytest.approx(100.0 / 1.2)  # 100 W absorbed costs 83 W
    # holding torque costs heat, growing with its square: 89 W/kg x 38 % of 70 kg x 1/4 share x (1/2)^2
    assert heat == pytest.approx(89.0 * 0.38 * 70.0 * 0.25 * 0.25)
    assert metabolic_power(np.array([100.0, 0.0]), np.zeros(2), limit, 70.0) == pytest.approx(4 * heat)
    batch = metabolic_power(np.zeros((6, 2)), np.ones((6, 2)), limit, 70.0)
    assert batch.shape == (6,) and not batch.any()


def _landing_terms(drop_speed: float) -> dict[str, float]:
    """Reward terms of the first step of the athlete's start pose falling onto the floor at ``drop_speed``."""
    env = gym.make("MotionLab/Ideal-v1", target_speed=3.5).unwrapped
    env.reset(seed=1)
    qvel = env.data.qvel.copy()
    qvel[2] = -drop_speed
    env._set_state(env.data.qpos.copy(), qvel)
    env._meter.grf_before[:] = 0.0  # loading from zero force
    terms = [env.step(np.zeros(29, np.float32))[4]["reward_terms"] for _ in range(3)]
    return {k: max(t[k] for t in terms) for k in ("peak_force", "loading_rate", "metabolic")}


def test_a_hard_landing_is_penalised_for_peak_force_and_loading_rate():
    soft, hard = _landing_terms(0.0), _landing_terms(2.5)
    assert hard["peak_force"] > 0.5 and hard["loading_rate"] > 1.0
    assert soft["peak_force"] < 0.5 * hard["peak_force"] and soft["loading_rate"] < 0.5 * hard["loading_rate"]
    assert hard["metabolic"] > 0.0


def test_reward_weights_are_constructor_arguments():
    zero_cost = {k: 0.0 for k, w in REWARD_WEIGHTS_V1.items() if w < 0}
    rewards = {}
    for name, weights in (("default", None), ("no costs", zero_cost)):
        env = gym.make("MotionLab/Ideal-v1", reward_weights=weights)
        env.reset(seed=0)
        _, rewards[name], _, _, info = env.step(np.zeros(29, np.float32))
    costs = sum(REWARD_WEIGHTS_V1[k] * info["reward_terms"][k] for k in zero_cost)
    assert costs < 0 and rewards["default"] == pytest.approx(rewards["no costs"] + costs)
    with pytest.raises(ValueError, match="unknown term 'speeed'"):
        gym.make("MotionLab/Ideal-v1", reward_weights={"speeed": 1.0})


def test_style_set_adds_other_runners_poses_to_the_style_term():
    ref = load_reference(DEFAULT_REFERENCE)
    other = dataclasses.replace(ref, qpos=ref.qpos + np.r_[np.zeros(7), np.full(28, 0.15)])  # another runner's poses
    styles = {}
    for name, style_set in (("athlete", ()), ("athlete + other", (other,))):
        env = gym.make("MotionLab/Ideal-v1", style_set=style_set).unwrapped
        env.reset(seed=0)
        env._set_state(other.qpos[40], env.data.qvel.copy())  # the other runner's pose
        styles[name] = env._reward_terms(float(env.data.qpos[0]))[0]["style"]
    assert styles["athlete + other"] == pytest.approx(1.0) and styles["athlete"] < 0.8
    with pytest.raises(ValueError, match=r"style_set\[0\] has no qpos"):
        gym.make("MotionLab/Ideal-v1", style_set=[dataclasses.replace(ref, qpos=None, body=None)])
