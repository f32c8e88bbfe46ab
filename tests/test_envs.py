import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from scipy.spatial.transform import Rotation
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import motionlab  # noqa: F401  (registers the envs)
from motionlab.assets import RUN_CLIP
from motionlab.body import BodyParams
from motionlab.humanoid import JOINT_NAMES
from motionlab.mocap import mocap_reference
from motionlab.reference import Reference, ReferenceFormatError

ENV_IDS = ["MotionLab/Track-v0", "MotionLab/Ideal-v0"]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_and_sb3_checkers_pass(env_id):
    env = gym.make(env_id)
    gym_check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=True)


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("policy", ["random", "zero"])
def test_step_random_and_zero_actions(env_id, policy):
    env = gym.make(env_id, body=BodyParams(height=1.65, mass=60))
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    for _ in range(60):
        action = env.action_space.sample() if policy == "random" else np.zeros(env.action_space.shape, np.float32)
        obs, reward, terminated, truncated, info = env.step(action)
        assert np.isfinite(obs).all() and np.isfinite(reward)
        assert set(info["reward_terms"]) and all(np.isfinite(v) for v in info["reward_terms"].values())
        if terminated or truncated:
            obs, info = env.reset()


def test_zero_residual_stays_up_half_a_second_on_the_real_clip():
    """With zero residual the PD servos alone replay the real running clip for a while."""
    ref = mocap_reference(RUN_CLIP, cycles=3)
    env = gym.make("MotionLab/Track-v0", reference=ref, reference_state_init=False)
    env.reset(seed=0)
    dt = env.unwrapped.dt
    steps = 0
    while True:
        _, _, terminated, truncated, info = env.step(np.zeros(28, np.float32))
        steps += 1
        if terminated or truncated:
            break
    assert steps * dt >= 0.5, f"fell after {steps * dt:.2f} s"
    assert info["fall"] or info["drift"]  # and it does not last forever without a policy


def test_first_step_reward_is_high_when_starting_on_the_reference():
    env = gym.make("MotionLab/Track-v0", reference_state_init=False)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.zeros(28, np.float32))
    assert reward > 0.5 and info["mpjpe"] < 0.06
    assert set(info["reward_terms"]) >= {"pose", "velocity", "end_effector", "root", "com"}



def test_pose_and_velocity_errors_are_deepmimics_joint_weighted_means():
    """As in DeepMimic's released code, the pose and velocity terms average squared joint errors with
    its joint weights, normalised over the pelvis and 12 joints (knee 0.3 of 4.8): a knee 0.3 rad and
    3 rad/s off the reference gives exp(-2 * 0.0625 * 0.09) and exp(-0.1 * 0.0625 * 9), where a plain
    sum over hinges would give exp(-2 * 0.09) and exp(-0.1 * 9)."""
    env = gym.make("MotionLab/Track-v0", reference_state_init=False).unwrapped
    env.reset(seed=0)
    knee = 7 + list(JOINT_NAMES).index("right_knee")
    qpos, qvel = env.ref_qpos[env.t].copy(), env.ref_qvel[env.t].copy()
    qpos[knee] += 0.3
    qvel[knee - 1] += 3.0
    env._set_state(qpos, qvel)
    terms = env._reward_terms()[0]
    w_knee = 0.3 / 4.8
    assert terms["pose"] == pytest.approx(np.exp(-2 * w_knee * 0.09))
    assert terms["velocity"] == pytest.approx(np.exp(-0.1 * w_knee * 9.0))


def _zero_action_mpjpe(lead: bool) -> float:
    """Mean landmark error over the first 0.15 s of 4 strides replayed with zero action."""
    env = gym.make("MotionLab/Track-v0", reference_state_init=False)
    errors = []
    for start in (0, 10, 20, 30):
        env.reset(seed=0, options={"start_frame": start})
        if not lead:
            env.unwrapped._servo_lead[:] = 0.0
        for _ in range(5):
            errors.append(env.step(np.zeros(28, np.float32))[4]["mpjpe"])
    return float(np.mean(errors))


def test_pd_servos_follow_the_reference_velocity_not_just_its_angles():
    """The servos' set-points lead by kv/kp x reference velocity: without the lead their damping brakes
    every swinging limb and a zero action drifts off the reference far sooner."""
    with_lead, without = _zero_action_mpjpe(lead=True), _zero_action_mpjpe(lead=False)
    assert with_lead < 0.7 * without, f"MPJPE {with_lead * 1000:.0f} mm with the lead, {without * 1000:.0f} without"


def test_saturated_servos_do_not_bang_between_their_torque_limits():
    """Replaying the run through the servos, no servo force swings across most of its range within one
    physics step (before the damping cap the light feet and twist axes did so ~900 times here: a
    saturated servo's damping is explicit and overshot every 5 ms step)."""
    env = gym.make("MotionLab/Track-v0", reference_state_init=False).unwrapped
    limit = env.model.actuator_forcerange[:, 1]
    swings = 0
    for start in (0, 10, 20, 30):
        env.reset(seed=0, options={"start_frame": start})
        previous = env.data.actuator_force.copy()
        for _ in range(18):
            t = env.t + 1
            servo = env._servo_target(env.ref_qpos[t, 7:], env.ref_qvel[t, 6:])
            np.clip(servo, env._ctrl_lo, env._ctrl_hi, out=env.data.ctrl)
            env.t = t
            for _ in range(env.frame_skip):
                mujoco.mj_step(env.model, env.data)
                swings += int(np.sum(np.abs(env.data.actuator_force - previous) > 1.5 * limit))
                previous = env.data.actuator_force.copy()
    assert swings < 60, f"{swings} limit-to-limit swings in 432 physics steps"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_seeding_is_reproducible(env_id):
    def rollout(seed):
        env = gym.make(env_id, randomize_body=True)
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for _ in range(20):
            out.append(env.step(env.action_space.sample())[0])
        return np.array(out)

    np.testing.assert_array_equal(rollout(7), rollout(7))
    assert not np.array_equal(rollout(7), rollout(8))


def test_body_randomisation_changes_the_body_each_episode():
    env = gym.make("MotionLab/Track-v0", randomize_body=True, body_spread=0.1)
    heights = set()
    for seed in range(4):
        _, info = env.reset(seed=seed)
        heights.add(round(info["body"]["height"], 4))
        env.step(np.zeros(28, np.float32))
    assert len(heights) == 4
    assert all(1.5 < h < 2.0 for h in heights)


def test_make_vec_works():
    envs = gym.make_vec("MotionLab/Track-v0", num_envs=2, vectorization_mode="sync")
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (2, 203)
    obs, rewards, *_ = envs.step(np.zeros((2, 28), np.float32))
    assert rewards.shape == (2,) and np.isfinite(rewards).all()
    envs.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render_rgb_array_follows_the_runner(env_id):
    env = gym.make(env_id, render_mode="rgb_array", width=320, height=240)
    env.reset(seed=0)
    first = env.render()
    for _ in range(10):
        env.step(np.zeros(env.action_space.shape, np.float32))
    later = env.render()
    assert first.shape == (240, 320, 3) and first.dtype == np.uint8
    centre = later[60:180, 110:210].astype(int)
    assert centre.std() > 10  # the runner is in view, not just sky and floor
    assert np.abs(first.astype(int) - later.astype(int)).mean() > 1
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_diverging_simulation_truncates_with_a_reason(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    env.unwrapped.data.qvel[:] = 1e12  # a blown-up state
    obs, reward, terminated, truncated, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert truncated and not terminated
    assert "diverged" in info and info["diverged"]
    assert np.isfinite(obs).all() and reward == 0.0


def test_track_needs_a_qpos_reference():
    ref = Reference(fps=30, keypoints2d=np.zeros((10, 33, 3)), image_size=(640, 480))
    with pytest.raises(ReferenceFormatError, match="lift"):
        gym.make("MotionLab/Track-v0", reference=ref)


def test_residual_force_option_is_penalised_and_reported():
    env = gym.make("MotionLab/Track-v0", residual_force=True, reference_state_init=False)
    assert env.action_space.shape == (34,)
    scale = env.unwrapped.residual_force_scale
    forward_speed = {}
    for push in (0.0, 1.0):
        env.reset(seed=0)
        action = np.zeros(34, np.float32)
        action[28] = push  # +x force on the pelvis
        _, _, _, _, info = env.step(action)
        forward_speed[push] = env.unwrapped.data.qvel[0]
        assert info["residual_force_bw"] == pytest.approx(scale * push)
        assert (info["reward_terms"]["residual_force_cost"] > 0) == (push > 0)
    # scale x body weight for 0.03 s accelerates the whole body by about scale * g * 0.03 m/s
    assert forward_speed[1.0] - forward_speed[0.0] > 0.5 * scale * 9.81 * env.unwrapped.dt
    plain = gym.make("MotionLab/Track-v0")
    plain.reset(seed=0)
    assert plain.step(np.zeros(28, np.float32))[4]["residual_force_bw"] == 0.0


def test_ideal_draws_a_target_speed_per_episode_from_a_range():
    env = gym.make("MotionLab/Ideal-v0", target_speed_range=(2.8, 4.4))
    speeds = []
    for seed in range(6):
        obs, _ = env.reset(seed=seed)
        speeds.append(obs[83])  # after the 81 proprioception dims and the gait clock's sin, cos
        assert env.unwrapped.target_speed == pytest.approx(obs[83])
    assert all(2.8 <= s <= 4.4 for s in speeds) and len(set(speeds)) == 6
    fast, slow = max(speeds), min(speeds)
    assert fast / slow > 1.1


def test_ideal_asks_for_running_straight_along_x_facing_forward():
    """The same running state turned 45 degrees off +x: the policy sees its heading, and the reward's
    speed and heading terms drop (it may neither curve off the track nor crab along it)."""
    env = gym.make("MotionLab/Ideal-v0", target_speed=3.5).unwrapped
    obs, _ = env.reset(seed=0)
    qpos, qvel = env.data.qpos.copy(), env.data.qvel.copy()
    qvel[:3] = [3.5, 0.0, 0.0]

    def terms(yaw: float) -> tuple[dict[str, float], np.ndarray]:
        turn = Rotation.from_euler("z", yaw)
        q, v = qpos.copy(), qvel.copy()
        q[3:7] = (turn * Rotation.from_quat(qpos[3:7], scalar_first=True)).as_quat(scalar_first=True)
        v[:3] = turn.apply(qvel[:3])
        env._set_state(q, v)
        return env._reward_terms(float(q[0]))[0], env._obs()

    straight, obs_straight = terms(0.0)
    turned, obs_turned = terms(np.pi / 4)
    yaw_straight, yaw_turned = (np.arctan2(o[-1], o[-2]) for o in (obs_straight, obs_turned))  # observed heading
    assert yaw_turned - yaw_straight == pytest.approx(np.pi / 4)
    assert turned["speed"] < 0.5 * straight["speed"]
    assert turned["heading"] < 0.5 < straight["heading"]


def test_ideal_rejects_inhuman_target_speed():
    with pytest.raises(ValueError, match="target speed 25.0"):
        gym.make("MotionLab/Ideal-v0", target_speed=25.0)
    with pytest.raises(ValueError, match="target speed 0.1"):
        gym.make("MotionLab/Ideal-v0", target_speed_range=(0.1, 3.0))
