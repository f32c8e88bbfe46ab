"""MotionLab/Ideal-v3: the gait prior takes people's cadence and stride at the target speed."""

import gymnasium as gym
import numpy as np
import pytest

import motionlab  # noqa: F401  (registers the envs)
from motionlab.body import BodyParams
from motionlab.humanoid import FOOT_GEOMS
from motionlab.inference.pipeline import DEFAULT_IDEAL_CKPT
from motionlab.inference.rollout import run_policy
from motionlab.policy_io import load_policy
from motionlab.running_norms import body_cadence


def _env(speed: float, env_id: str = "MotionLab/Ideal-v3", **kwargs):
    return gym.make(env_id, target_speed=speed, **kwargs).unwrapped


@pytest.mark.parametrize("speed", [2.5, 3.5, 5.0])
def test_the_prior_strides_like_people_at_the_speed(speed):
    body = BodyParams(height=1.62, mass=55).resolved()
    env = _env(speed, body=body)
    people_stride = 120 * speed / body_cadence(speed, body.leg_length)
    athlete_stride = env.athlete_speed * env.stride_period * body.leg_length / env.style_reference.body.resolved().leg_length
    assert env.prior_amplitude == pytest.approx(people_stride / athlete_stride, rel=1e-6)
    # the prior's hip swing shrinks with the stride: a jog swings the legs less than the athlete's run
    hip = list(env.model.joint(i).name for i in range(1, env.model.njnt)).index("right_hip_y")
    swing = np.ptp([env._prior_pose(p)[hip] for p in np.linspace(0, 1, 60)])
    athlete_swing = np.ptp(env._prior[:, hip])
    assert swing == pytest.approx(env.prior_amplitude * athlete_swing, rel=0.02)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_episodes_start_with_the_scaled_pose_as_high_as_the_athletes(seed):
    """The same start phase as Ideal-v2's: joints scaled, the lowest foot where the athlete's was."""
    v3, v2 = _env(2.5), _env(2.5, "MotionLab/Ideal-v2")
    _, info = v3.reset(seed=seed)
    v2.reset(seed=seed)
    feet = [v3.model.geom(n).id for n in FOOT_GEOMS]
    assert info["prior_amplitude"] < 0.8 and v3._clock_phase == v2._clock_phase
    assert v3.data.geom_xpos[feet, 2].min() == pytest.approx(v2.data.geom_xpos[feet, 2].min(), abs=1e-3)
    assert not np.allclose(v3.data.qpos[7:], v2.data.qpos[7:])
    assert v3.data.qvel[0] == pytest.approx(info["prior_amplitude"] * v2.data.qvel[0])  # at people's stride


def test_the_shipped_policy_keeps_a_jogging_speed_that_v2_overran():
    """At 2.5 m/s, Ideal-v2's full athlete stride at people's cadence made the policy run ~3.9 m/s."""
    policy = load_policy(DEFAULT_IDEAL_CKPT)
    speeds = {}
    for env_id in ("MotionLab/Ideal-v2", "MotionLab/Ideal-v3"):
        env = gym.make(env_id, target_speed=2.5, max_episode_seconds=4.0, action_scale=0.4, clock_scale=0.5)
        run = run_policy(env, policy, 4.0, seed=0)
        assert run.fall_time is None
        speeds[env_id] = (run.qpos[-1, 0] - run.qpos[0, 0]) / run.times[-1]
    assert speeds["MotionLab/Ideal-v2"] > 3.3 and speeds["MotionLab/Ideal-v3"] < 3.1


def test_reset_noise_perturbs_the_start_state_within_its_scale():
    """reset_noise_scale (Gymnasium's Humanoid-v5 argument): the same start phase, joints moved by at most the
    scale; 0 (the default) starts exactly from the athlete's pose."""
    plain, noisy = _env(3.5, "MotionLab/Ideal-v1"), _env(3.5, "MotionLab/Ideal-v1", reset_noise_scale=0.05)
    plain.reset(seed=2)
    noisy.reset(seed=2)
    diff = noisy.data.qpos[7:] - plain.data.qpos[7:]
    assert 0 < np.abs(diff).max() <= 0.05 + 1e-9 and np.abs(noisy.data.qvel - plain.data.qvel).max() <= 0.05 + 1e-9
    with pytest.raises(ValueError, match="reset_noise_scale"):
        _env(3.5, reset_noise_scale=-0.1)
