"""MPC refinement of the Closest run: exact candidate rollouts, better than the policy alone on a hard
reference, the ``--refine`` switch and what the report says (real MuJoCo, the shipped tracking policy)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest

import motionlab  # noqa: F401
from motionlab.assets import CHECKPOINT_DIR, RUN_CLIP
from motionlab.body import BodyParams
from motionlab.commands.infer import INFER, main
from motionlab.errors import UserError
from motionlab.inference.refine import (
    _STATE,
    PRESETS,
    Refiner,
    RefineSettings,
    get_state,
    one_torch_thread,
    refinement_summary,
    run_refined,
    settings_for,
    video_note,
)
from motionlab.inference.rollout import run_policy
from motionlab.mocap import mocap_reference
from motionlab.policy_io import load_policy

NO_EXTRA_PENALTIES = RefineSettings(
    samples=4, horizon=6, residual_force_penalty=0.0, effort_penalty=0.0, keypoints_weight=0.0
)


@pytest.fixture(scope="module")
def policy():
    return load_policy(CHECKPOINT_DIR / "track")


def _env(policy, **kwargs) -> gym.Env:
    kw = {k: policy.env_kwargs[k] for k in ("action_scale", "residual_force", "residual_force_scale")}
    return gym.make("MotionLab/Track-v0", reference_state_init=False, **kw, **kwargs)


class SinePolicy:
    """A deterministic stand-in for a checkpoint without residual force: actions depend on the state."""

    env_kwargs = {"action_scale": 0.2, "residual_force": False, "residual_force_scale": 0.3}

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return 0.8 * np.sin(3.0 * obs[1:29]).astype(np.float32)


@pytest.mark.parametrize("which", ["shipped tracker (residual force)", "no residual force"])
def test_open_loop_candidate_equal_to_the_policy_reproduces_the_env_steps(policy, which):
    """The policy's closed-loop plan, rolled out open loop through mujoco.rollout (set-points leading the
    reference, residual force in xfrc_applied), gives the env's states bit for bit and its rewards, and
    planning leaves the env exactly where it was."""
    policy = policy if which.startswith("shipped") else SinePolicy()
    env = _env(policy)
    base = env.unwrapped
    assert base.residual_force == which.startswith("shipped")
    obs, _ = env.reset(seed=0, options={"start_frame": 7})
    for _ in range(5):
        obs, *_ = env.step(policy.predict(obs))
    refiner = Refiner(policy, env, NO_EXTRA_PENALTIES)
    refiner._bind_model()
    plan = refiner._policy_plan(obs)
    states, sensors = refiner.simulate(plan[None])
    steps = np.arange(len(plan))
    predicted, ended, final_obs = refiner.step_rewards(states, sensors, steps, plan[None])
    fs = base.frame_skip
    for j in steps:
        action = policy.predict(obs)
        np.testing.assert_array_equal(action, plan[j])  # planning restored the env's state exactly
        obs, reward, *_ = env.step(action)
        np.testing.assert_array_equal(states[0, (j + 1) * fs], get_state(base.model, base.data, _STATE))
        # the objective: Track-v0's reward, from the rolled-out states and sensors
        assert predicted[0, j] == pytest.approx(reward, abs=1e-9) and not ended[0, j]
    np.testing.assert_allclose(final_obs[0], obs, atol=1e-12)  # what the critic sees after the last step
    refiner.close()


def test_every_candidate_of_a_batch_is_scored_as_the_env_scores_it(policy):
    """Candidates scored together (the planner's batch) each get the reward the env gives their actions,
    step by step, from the same start."""
    def started():
        env = _env(policy)
        obs, _ = env.reset(seed=0, options={"start_frame": 7})
        for _ in range(5):
            obs, *_ = env.step(policy.predict(obs))
        return env, obs

    env, obs = started()
    refiner = Refiner(policy, env, replace(NO_EXTRA_PENALTIES, keypoints_weight=1.0))
    refiner._bind_model()
    plan = refiner._policy_plan(obs)
    candidates = np.concatenate([plan[None], refiner._perturbed(plan, 2, 0.3)])
    states, sensors = refiner.simulate(candidates)
    steps = np.arange(plan.shape[0])
    predicted, _, _ = refiner.step_rewards(states, sensors, steps, candidates)
    refiner.close()
    for k, actions in enumerate(candidates):
        replay, _ = started()
        for j in steps:
            _, reward, _, _, info = replay.step(actions[j])
            assert predicted[k, j] == pytest.approx(reward + info["reward_terms"]["keypoints"], abs=1e-9), (k, j)
    assert np.ptp(predicted[:, -1]) > 1e-3  # the candidates differ


def test_the_planner_sees_a_fall_where_the_env_does(policy):
    """With zero actions (the servos alone) the body falls within ~1 s; the planner's fall test on the
    rolled-out states ends the plan at the step where the env's episode ends."""
    env = _env(policy, early_termination=True)
    env.reset(seed=0, options={"start_frame": 7})
    refiner = Refiner(policy, env, NO_EXTRA_PENALTIES)
    refiner._bind_model()
    zeros = np.zeros((1, 60, env.action_space.shape[0]))
    states, sensors = refiner.simulate(zeros)
    _, ended, _ = refiner.step_rewards(states, sensors, np.arange(60), zeros)
    for j in range(60):
        terminated = env.step(zeros[0, j])[2]
        assert ended[0, j] == terminated, j
        if terminated:
            break
    assert terminated and 10 < j < 59
    refiner.close()


def test_the_objective_scores_landmark_error_with_its_weight(policy):
    """``keypoints_weight`` adds Track-v0's keypoints term (the landmark error the report's MPJPE
    measures) to each planned step's objective on top of the env's own reward: a plan that leans or
    twists off the reference scores lower even where DeepMimic's terms barely notice."""
    env = _env(policy)
    obs, _ = env.reset(seed=0, options={"start_frame": 7})
    settings = replace(NO_EXTRA_PENALTIES, keypoints_weight=2.0, residual_force_penalty=0.5, effort_penalty=0.3)
    refiner = Refiner(policy, env, settings)
    refiner._bind_model()
    plan = refiner._policy_plan(obs)
    states, sensors = refiner.simulate(plan[None])
    predicted, _, _ = refiner.step_rewards(states, sensors, np.array([0]), plan[None, :1])
    _, reward, _, _, info = env.step(plan[0])
    assert 0.05 < info["reward_terms"]["keypoints"] < 1.0
    base = env.unwrapped
    effort = base.data.actuator_force / np.abs(base.model.actuator_forcerange).max(axis=1)
    rf = plan[0, -6:]
    extra = 2.0 * info["reward_terms"]["keypoints"] - 0.5 * rf @ rf - 0.3 * np.mean(effort**2)
    assert predicted[0, 0] - reward == pytest.approx(extra, abs=1e-9)
    refiner.close()


def test_a_refined_step_records_the_same_physics_as_a_plain_step(policy):
    """Planning steps the env through the future and restores its state; the step physics (work, foot
    forces, loading rate from the previous step's last force) of the step actually taken are those of the
    same action taken without planning: the planned steps leave no trace in them."""
    envs = [_env(policy), _env(policy)]
    observations = [env.reset(seed=0, options={"start_frame": 7})[0] for env in envs]
    for _ in range(12):  # through a foot landing
        observations = [env.step(policy.predict(o))[0] for env, o in zip(envs, observations)]
    refiner = Refiner(policy, envs[0], NO_EXTRA_PENALTIES)
    action = refiner.predict(observations[0])
    refiner.close()
    planned, plain = (env.step(action)[4]["physics"] for env in envs)
    assert planned.keys() == plain.keys()
    for key in plain:
        np.testing.assert_array_equal(planned[key], plain[key], err_msg=key)


@pytest.fixture(scope="module")
def hard_reference():
    """The run clip at 1.8x its speed: the policy alone falls after ~1.5 s."""
    body = BodyParams(height=1.68, mass=61)
    return mocap_reference(RUN_CLIP, body, cycles=8, speed_scale=1.8), body


def test_refined_run_beats_the_policy_alone_on_a_hard_reference(policy, hard_reference):
    ref, body = hard_reference
    seconds = 2.0
    with one_torch_thread():
        alone = run_policy(_env(policy, reference=ref, body=body), policy, seconds, restart_on_fall=True)
    refined, stats = run_refined(_env(policy, reference=ref, body=body), policy, seconds, PRESETS["balanced"])
    assert len(alone.restart_times) >= 1  # the reference is hard for the policy
    assert len(refined.restart_times) < len(alone.restart_times)
    assert stats.steps == refined.num_steps and 0 < stats.overridden <= stats.steps

    summary = refinement_summary("balanced", alone, refined, stats)
    assert summary["restarts_avoided"] == len(alone.restart_times) - len(refined.restart_times) > 0
    assert summary["residual_force_pct_bw_refined"] == pytest.approx(100 * refined.residual_force_bw.mean(), abs=0.01)
    assert summary["mpjpe_mm_policy_alone"] == pytest.approx(1000 * alone.mpjpe.mean(), abs=0.01)


def test_refinement_is_deterministic_for_a_seed(policy, hard_reference):
    ref, body = hard_reference
    settings = RefineSettings(samples=6, horizon=4, seed=3)
    runs = [run_refined(_env(policy, reference=ref, body=body), policy, 0.3, settings)[0] for _ in range(2)]
    np.testing.assert_array_equal(runs[0].qpos, runs[1].qpos)
    other, _ = run_refined(_env(policy, reference=ref, body=body), policy, 0.3, replace(settings, seed=4))
    assert not np.array_equal(other.qpos, runs[0].qpos)  # the seed drives the sampling


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    INFER.add_arguments(parser)
    return parser.parse_args(argv)


def test_refine_flag_round_trip_and_unknown_preset(capsys):
    assert _parse([]).refine == "balanced"
    assert {_parse(["--refine", p]).refine for p in PRESETS} == {"off", "fast", "balanced", "balanced-h10", "best"}
    assert settings_for("off") is None and settings_for("best") == PRESETS["best"]
    with pytest.raises(SystemExit):
        _parse(["--refine", "slow"])
    assert "invalid choice: 'slow'" in capsys.readouterr().err
    with pytest.raises(UserError, match="choose one of off, fast, balanced, balanced-h10, best"):
        settings_for("slow")


def test_refine_needs_a_tracking_env(policy):
    with pytest.raises(TypeError, match="Track-v0"):
        Refiner(policy, gym.make("MotionLab/Ideal-v0"), PRESETS["fast"])


def test_main_job_reports_the_refinement(tmp_path):
    out = tmp_path / "r.mp4"
    assert main(["--out", str(out), "--seconds", "1", "--refine", "fast"]) == 0
    extra = json.loads(out.with_suffix(".json").read_text())["extra"]
    refinement = extra["refinement"]
    assert refinement["preset"] == "fast" and refinement["used"]
    assert refinement["restarts_refined"] == extra["closest"]["restarts"]
    assert refinement["restarts_avoided"] == refinement["restarts_policy_alone"] - refinement["restarts_refined"]
    for key in ("residual_force_pct_bw", "mpjpe_mm"):
        assert refinement[f"{key}_policy_alone"] > 0 and refinement[f"{key}_refined"] > 0
    assert refinement["settings"]["samples"] == PRESETS["fast"].samples
    assert refinement["cpu_s_per_video_s"] > 0 and "closest, refined (fast)" in extra["stage_seconds"]


def test_the_video_note_counts_restarts_not_falls():
    """The Closest panel's refinement note counted every restart as a fall; most restarts on real video are
    "lost the reference" (the report labels each kind), so the note says restarts."""
    summary = {"preset": "balanced", "restarts_policy_alone": 10, "restarts_refined": 5,
               "residual_force_pct_bw_policy_alone": 20.0, "residual_force_pct_bw_refined": 23.0}  # fmt: skip
    note = video_note(summary)
    assert "restarts 10 -> 5" in note and "fall" not in note
