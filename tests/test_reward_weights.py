"""Reward weights are env arguments that Hydra sets; the configs hold the envs' defaults."""

from __future__ import annotations

import gymnasium as gym
import mujoco
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


def test_the_keypoints_term_sees_a_body_leaning_off_the_reference():
    """A whole body leaning 15 deg forward of the reference moves the landmarks ~10 cm: DeepMimic's pose
    term barely notices (the pelvis' orientation is one small share of its error); the keypoints term
    (PHC's body positions, the error the report's MPJPE measures) falls steeply."""
    env = gym.make("MotionLab/Track-v0", reference_state_init=False).unwrapped
    env.reset(seed=0)
    q, v = env.ref_qpos[env.t].copy(), env.ref_qvel[env.t].copy()
    env._set_state(q, v)
    upright, upright_mpjpe, _ = env._reward_terms()
    half = np.radians(15.0) / 2  # 15 deg about the reference pelvis' own sideways axis
    axis = env.ref_root_mat[env.t][:, 1]
    lean = np.r_[np.cos(half), np.sin(half) * axis]
    turned = np.empty(4)
    mujoco.mju_mulQuat(turned, lean, q[3:7])
    q[3:7] = turned
    env._set_state(q, v)
    leaned, leaned_mpjpe, _ = env._reward_terms()
    assert upright["keypoints"] > 0.99 and upright_mpjpe < 0.005
    assert leaned_mpjpe > 0.05
    assert upright["pose"] - leaned["pose"] < 0.05  # the defect: DeepMimic's pose term loses < 5 %
    assert upright["keypoints"] - leaned["keypoints"] > 0.3
    expected = np.exp(-100.0 * np.mean(np.sum((env.data.site_xpos[env._kp_ids] - env.data.site_xpos[env._kp_ids].mean(0) - env.ref_kp_centred[env.t]) ** 2, axis=1)))
    assert leaned["keypoints"] == pytest.approx(expected, rel=1e-9)
    env.close()
