"""motionlab.energy: the ankles' tendons store absorbed work and pay the push-off with it, as people's do."""

import gymnasium as gym
import numpy as np
import pytest

import motionlab  # noqa: F401  (registers the envs)
from motionlab.energy import TENDON_ENERGY_RETURN, ElasticAnkles, metabolic_power
from motionlab.humanoid import JOINT_NAMES
from motionlab.inference.pipeline import DEFAULT_IDEAL_CKPT
from motionlab.policy_io import load_policy

H = 0.005
LEFT_ANKLE = JOINT_NAMES.index("left_ankle_y")


def _stance(watts: list[float], on_ground: list[bool], capacity: float = 30.0) -> np.ndarray:
    power = np.zeros((len(watts), len(JOINT_NAMES)))
    power[:, LEFT_ANKLE] = watts
    forces = np.array([[500.0 if g else 0.0, 0.0] for g in on_ground])
    return ElasticAnkles().muscle_power(power, forces, 20.0, capacity, H)[:, LEFT_ANKLE]


def test_absorbed_work_is_stored_and_pays_the_push_off_at_tendon_return():
    muscle = _stance([-2000.0] * 2 + [3000.0] * 2, [True] * 4)  # 20 J absorbed, then 30 J of push-off
    assert muscle[:2] == pytest.approx([0.0, 0.0])  # the spring took it all: no muscle work
    paid_by_spring = 20.0 * TENDON_ENERGY_RETURN
    assert (3000.0 * 2 - muscle[2:].sum()) * H == pytest.approx(paid_by_spring)  # 18.6 J of the 30 J


def test_the_spring_holds_only_its_capacity_and_lets_go_in_the_air():
    muscle = _stance([-4000.0] * 2, [True] * 2, capacity=25.0)  # 40 J absorbed into a 25 J spring
    assert -muscle.sum() * H == pytest.approx(15.0)  # the rest is the muscle's
    muscle = _stance([-2000.0, 0.0, 3000.0], [True, False, True])  # stored, then a flight: lost
    assert muscle[2] == pytest.approx(3000.0)


def test_elastic_ankles_lower_the_metabolic_cost_of_the_same_run():
    """Ideal-v4 and Ideal-v3 see the same run (same policy, same physics): only the price differs."""
    policy = load_policy(DEFAULT_IDEAL_CKPT)
    cost, returned = {}, 0.0
    for env_id in ("MotionLab/Ideal-v3", "MotionLab/Ideal-v4"):
        env = gym.make(env_id, target_speed=3.5, action_scale=0.4, clock_scale=0.5)
        obs, _ = env.reset(seed=0)
        cost[env_id] = 0.0
        for _ in range(60):
            obs, _, _, _, info = env.step(policy.predict(obs, deterministic=True))
            cost[env_id] += info["metabolic_power_w"]
            returned += info.get("elastic_power_w", 0.0)
    assert returned > 0 and cost["MotionLab/Ideal-v4"] < cost["MotionLab/Ideal-v3"]
    # what the springs paid at 4 J per joule of positive muscle work, less the negative work they absorbed
    assert cost["MotionLab/Ideal-v3"] - cost["MotionLab/Ideal-v4"] > 2.0 * returned


def test_metabolic_power_prices_the_muscles_power_when_given():
    limit = np.array([100.0])
    torque, speed = np.array([50.0]), np.array([2.0])
    assert metabolic_power(torque, speed, limit, 70.0, power=np.zeros(1)) < metabolic_power(torque, speed, limit, 70.0)
