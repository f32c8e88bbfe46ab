"""Refinement of the Closest run at inference: sampling-based model-predictive control around the
tracking policy.

At every control step the :class:`Refiner` (used as the policy of :func:`~motionlab.inference.rollout.run_policy`)

1. rolls the tracking policy out closed-loop for ``horizon`` control steps from the current state (the
   nominal plan, on the env itself, whose state is restored afterwards);
2. forms candidate action sequences: the policy's plan, the policy's plan plus the previous step's
   correction shifted by one step (the warm start), the previous step's plan shifted, and the warm start
   plus smooth Gaussian perturbations (noise drawn at knots every ``knot_steps`` and interpolated);
3. converts each into the env's per-physics-step controls (the servo set-points leading the reference by
   ``kv/kp * qdot_ref``, clipped to the control range, and the residual root force in ``xfrc_applied``)
   and simulates all of them at once with :func:`mujoco.rollout.Rollout` (C, one thread per core);
4. scores every candidate with Track-v0's own reward (the env's ``reward_terms_of``, on all the rolled-out
   states at once) minus penalties on falls (the env's own fall and drift test), residual force and actuator effort,
   plus the policy's critic at the end of the horizon for a candidate still up (what the policy expects
   to collect from there: consequences beyond the horizon, as TD-MPC-style planners use a value);
5. keeps the best candidate (predictive sampling; with ``iterations > 1`` the elite mean is re-sampled
   first, as the cross-entropy method does) and applies its first action.

Candidate 0 is the policy's own action sequence: open-loop it reproduces the closed-loop policy rollout
exactly (same states, bit for bit), so the refined plan is never predicted to do worse than the policy
over the horizon.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import mujoco
import mujoco.rollout
import numpy as np

from motionlab.envs.track import TrackEnv
from motionlab.errors import UserError
from motionlab.humanoid import NUM_JOINTS, sensor_addresses
from motionlab.inference.rollout import Rollout, run_policy

_STATE = mujoco.mjtState.mjSTATE_FULLPHYSICS  # what mujoco.rollout starts from and returns
_FULL = mujoco.mjtState.mjSTATE_INTEGRATION  # everything mj_step depends on (controls, forces, warm start)
_CONTROL = mujoco.mjtState.mjSTATE_CTRL | mujoco.mjtState.mjSTATE_XFRC_APPLIED


def get_state(model: mujoco.MjModel, data: mujoco.MjData, spec: int) -> np.ndarray:
    """``data``'s state under the ``mjtState`` bits ``spec`` (a new array)."""
    state = np.empty(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, data, state, spec)
    return state


@dataclass(frozen=True)
class RefineSettings:
    """How hard the refiner searches. ``samples`` candidates per iteration, ``horizon`` control steps ahead."""

    samples: int = 16
    horizon: int = 8
    iterations: int = 1
    sigma: float = 0.3  # perturbation std, in action units ([-1, 1])
    knot_steps: int = 3  # perturbation knots every this many control steps (linear in between)
    elite: int = 4  # candidates averaged for the next iteration's mean (iterations > 1)
    fall_penalty: float = 10.0  # per fall within the horizon (a control step's reward is at most 1)
    residual_force_penalty: float = 0.05  # x squared residual force (action units), per step, on top of Track-v0's
    effort_penalty: float = 0.01  # x mean squared actuator force / force limit, per step
    discount: float = 0.97
    value_weight: float = 1.0  # x the policy's critic at the end of the horizon (its return estimate beyond it)
    score_every: int = 1  # score every this many control steps of a candidate (and its last); 2 halves the cost
    keypoints_weight: float = 16.0  # x Track-v0's keypoints term (landmark error), on top of the env's own weights
    threads: int = 2
    seed: int = 0


# Held-out lifted CMU references (README, benchmarks/results/refine_h8.json): restarts per 10 s against the
# policy alone's 3.5, and CPU seconds per second of video.
PRESETS: dict[str, RefineSettings | None] = {
    "off": None,
    "fast": RefineSettings(samples=16, horizon=10, score_every=2),  # 1.25 restarts, 1.1 CPU s
    "balanced": RefineSettings(samples=16, horizon=8, iterations=2, score_every=2),  # 0.58, 1.6 (default)
    "balanced-h10": RefineSettings(samples=16, horizon=10, iterations=2, score_every=2),  # 0.58, 2.0 (default until 2026-11-29)
    "best": RefineSettings(samples=24, horizon=10, iterations=2),  # 0.58, 3.9 (refine_keypoints.json, before batched scoring)
}


@dataclass
class RefineStats:
    """What the refiner did: control steps planned, how often it overrode the policy, wall time."""

    steps: int = 0
    overridden: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0  # process CPU time (all threads): what the planning costs on an otherwise idle machine
    policy_s: float = 0.0  # of which: the policy's closed-loop plan
    rollout_s: float = 0.0  # candidate rollouts (mujoco.rollout)
    score_s: float = 0.0  # scoring the rolled-out states
    settings: dict[str, Any] = field(default_factory=dict)


def _critic_of(policy: Any) -> Any:
    """``observations (n, obs) -> values (n,)`` from an SB3 actor-critic checkpoint's value head (the
    return the policy expects from a state on), or None when ``policy`` has none."""
    net = getattr(policy, "policy", None)
    if not hasattr(net, "predict_values") or not hasattr(policy, "normalize"):
        return None
    import torch

    def values(observations: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            obs = torch.as_tensor(policy.normalize(observations))
            return net.predict_values(obs).numpy().ravel().astype(np.float64)

    return values


class Refiner:
    """A policy wrapper for ``Track-v0``: :meth:`predict` plans from the env's current state (see the
    module docstring) and returns the refined action. It must be given the env it will be run in."""

    def __init__(self, policy: Any, env: Any, settings: RefineSettings):
        self.policy, self.env, self.settings = policy, env, settings
        base = env.unwrapped
        if not isinstance(base, TrackEnv):
            raise TypeError(f"refinement needs a Track-v0 env, got {type(base).__name__}")
        self.base = base
        self.rng = np.random.default_rng(settings.seed)
        self.stats = RefineStats(settings=dataclasses.asdict(settings))
        self._pool = mujoco.rollout.Rollout(nthread=settings.threads if settings.threads > 1 else 0)
        self._model_id: int | None = None
        self._plan: np.ndarray | None = None  # chosen plan (H, act)
        self._delta: np.ndarray | None = None  # chosen plan minus the policy's plan
        self._last_t: int | None = None
        self._critic = _critic_of(policy)

    def close(self) -> None:
        self._pool.close()

    # ------------------------------------------------------------------ model-bound buffers
    def _bind_model(self) -> None:
        base = self.base
        if self._model_id == id(base.model):
            return
        self._model_id = id(base.model)
        self._scratch = mujoco.MjData(base.model)
        self._scratch.qacc_warmstart[:] = 0.0
        self._datas = [mujoco.MjData(base.model) for _ in range(max(self.settings.threads, 1))]
        self._force_limit = np.maximum(np.abs(base.model.actuator_forcerange).max(axis=1), 1e-6)
        _, self._force_at, _ = sensor_addresses(base.model)  # each actuator's force in the sensor data
        qpos_at = mujoco.mj_stateSize(base.model, mujoco.mjtState.mjSTATE_TIME)  # _STATE: time, qpos, qvel, ...
        self._qpos_at = slice(qpos_at, qpos_at + base.model.nq)
        self._qvel_at = slice(qpos_at + base.model.nq, qpos_at + base.model.nq + base.model.nv)

    # ------------------------------------------------------------------ policy API
    def predict(self, observation: np.ndarray, deterministic: bool = True) -> np.ndarray:
        tic, cpu = time.perf_counter(), time.process_time()
        self._bind_model()
        base = self.base
        if base.steps == 0 or self._last_t is None or base.t != self._last_t:
            self._plan = self._delta = None  # a new episode (reset or restart): no warm start
        nominal = self._policy_plan(observation)
        self.stats.policy_s += time.perf_counter() - tic
        candidates = self._candidates(nominal)
        returns = self._score(candidates)
        for _ in range(self.settings.iterations - 1):
            elite = candidates[np.argsort(returns)[-self.settings.elite :]].mean(axis=0)
            more = self._perturbed(elite, self.settings.samples - 1, self.settings.sigma * 0.5)
            more = np.concatenate([elite[None], more])
            candidates = np.concatenate([candidates, more])
            returns = np.concatenate([returns, self._score(more)])
        best = int(np.argmax(returns))
        plan = candidates[best]
        self._plan, self._delta = plan, plan - nominal
        self._last_t = base.t + 1
        self.stats.steps += 1
        self.stats.overridden += int(best != 0)
        self.stats.wall_s += time.perf_counter() - tic
        self.stats.cpu_s += time.process_time() - cpu
        return plan[0].astype(np.float32)

    # ------------------------------------------------------------------ steps of the planner
    def _policy_plan(self, observation: np.ndarray) -> np.ndarray:
        """The policy's actions over the horizon, closed loop from the current state (state restored). The
        planned steps record no step physics: the env's meter keeps the last real step's foot forces, from
        which the next real step's loading rate starts (and a planned env step costs 0.27 instead of 0.33 ms)."""
        base, d = self.base, self.base.data
        saved = get_state(base.model, d, _FULL)
        t, steps, warnings, recording = base.t, base.steps, list(base._warning_counts), base.record_physics
        actions, obs = [], observation
        base.record_physics = False
        try:
            for h in range(self.settings.horizon):
                actions.append(np.asarray(self._act(obs), dtype=np.float64))
                if h + 1 < self.settings.horizon:
                    obs, _, terminated, truncated, _ = base.step(actions[-1])
                    if terminated or truncated:
                        actions += [actions[-1]] * (self.settings.horizon - h - 1)
                        break
        finally:
            mujoco.mj_setState(base.model, d, saved, _FULL)
            mujoco.mj_forward(base.model, d)
            base.t, base.steps, base._warning_counts, base.record_physics = t, steps, warnings, recording
        return np.clip(np.array(actions), -1.0, 1.0)

    def _act(self, obs: np.ndarray) -> np.ndarray:
        a = self.policy.predict(obs, deterministic=True)
        return a[0] if isinstance(a, tuple) else a

    def _candidates(self, nominal: np.ndarray) -> np.ndarray:
        s = self.settings
        fixed = [nominal]
        if self._delta is not None:
            shifted_delta = np.concatenate([self._delta[1:], self._delta[-1:] * 0.0])
            warm = np.clip(nominal + shifted_delta, -1.0, 1.0)
            shifted_plan = np.concatenate([self._plan[1:], nominal[-1:]])
            fixed += [warm, shifted_plan]
        else:
            warm = nominal
        noisy = self._perturbed(warm, max(s.samples - len(fixed), 0), s.sigma)
        return np.concatenate([np.array(fixed), noisy])

    def _perturbed(self, mean: np.ndarray, n: int, sigma: float) -> np.ndarray:
        """``n`` copies of ``mean`` (H, act) plus smooth noise: Gaussian at knots, linear in between."""
        h, dim = mean.shape
        knots = np.arange(0, h + self.settings.knot_steps, self.settings.knot_steps)
        noise_knots = self.rng.normal(0.0, sigma, (n, len(knots), dim))
        steps = np.arange(h)
        idx = np.minimum(np.searchsorted(knots, steps, side="right") - 1, len(knots) - 2)
        frac = ((steps - knots[idx]) / self.settings.knot_steps)[None, :, None]
        noise = noise_knots[:, idx] * (1 - frac) + noise_knots[:, idx + 1] * frac
        return np.clip(mean[None] + noise, -1.0, 1.0)

    # ------------------------------------------------------------------ candidate rollouts
    def controls(self, actions: np.ndarray, start_t: int) -> np.ndarray:
        """Per-physics-step control vectors (``mjSTATE_CTRL | mjSTATE_XFRC_APPLIED``) that make an
        open-loop rollout of ``actions`` (n, H, act) from reference frame ``start_t`` step exactly as the
        env's ``step`` does."""
        base = self.base
        n, h, _ = actions.shape
        last = len(base.ref_qpos) - 1
        frames = np.minimum(start_t + 1 + np.arange(h), last)
        servo = base._servo_target(base.ref_qpos[frames, 7:], base.ref_qvel[frames, 6:])  # (H, 28)
        ctrl = np.clip(servo[None] + base.action_scale * actions[..., :NUM_JOINTS], base._ctrl_lo, base._ctrl_hi)
        xfrc = np.zeros((n, h, base.model.nbody, 6))
        if base.residual_force:
            rf = np.clip(actions[..., NUM_JOINTS:], -1.0, 1.0)
            weight = base._total_mass * 9.81
            xfrc[:, :, 1, :3] = rf[..., :3] * base.residual_force_scale * weight
            xfrc[:, :, 1, 3:] = rf[..., 3:] * base.residual_force_scale * weight * base.body.height
        per_step = np.concatenate([ctrl, xfrc.reshape(n, h, -1)], axis=2)
        return np.repeat(per_step, base.frame_skip, axis=1)

    def simulate(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Roll every candidate ``actions`` (n, H, act) out open-loop from the env's current state with
        :mod:`mujoco.rollout`. Returns the physics states (``mjSTATE_FULLPHYSICS``) before and after every
        physics step, (n, H * frame_skip + 1, nstate), and the sensor values of every physics step (n,
        H * frame_skip, nsensordata), computed at the state before it as ``mj_step`` does."""
        base, d = self.base, self.base.data
        self._bind_model()
        state0 = get_state(base.model, d, _STATE)
        control = self.controls(actions, base.t)
        states, sensors = self._pool.rollout(
            base.model, self._datas, state0[None], control,
            control_spec=_CONTROL, initial_warmstart=d.qacc_warmstart[None].copy(),
        )  # fmt: skip
        return np.concatenate([np.broadcast_to(state0, (len(states), 1, len(state0))), states], axis=1), sensors

    def _score(self, actions: np.ndarray) -> np.ndarray:
        """Discounted Track-v0 reward of each candidate minus the fall, residual-force and effort penalties,
        plus the critic's value of the final state of a candidate still up."""
        s = self.settings
        tic = time.perf_counter()
        states, sensors = self.simulate(actions)
        toc = time.perf_counter()
        self.stats.rollout_s += toc - tic
        h = actions.shape[1]
        scored = np.array(sorted({*range(s.score_every - 1, h, s.score_every), h - 1}))
        weights = np.diff([-1, *scored]) * s.discount**scored
        rewards, ended, final_obs = self.step_rewards(states, sensors, scored, actions[:, scored])
        first_end = np.where(ended.any(axis=1), ended.argmax(axis=1), len(scored))  # scoring stops there
        counted = np.arange(len(scored))[None] <= first_end[:, None]
        returns = np.where(counted, rewards * weights, 0.0).sum(axis=1)
        fell = first_end < len(scored)
        returns[fell] -= s.fall_penalty * s.discount ** scored[first_end[fell]]
        if s.value_weight and self._critic is not None and not fell.all():
            returns[~fell] += s.value_weight * s.discount**h * self._critic(final_obs[~fell])
        self.stats.score_s += time.perf_counter() - toc
        return returns

    def step_rewards(
        self, states: np.ndarray, sensors: np.ndarray, steps: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The objective of control steps ``steps`` (m,) of rolled-out candidates (:meth:`simulate`'s
        ``states`` and ``sensors``; ``actions`` (n, m, act) their actions at those steps), whether the env
        would end the episode there, and each candidate's observation after its last step.

        Each step is scored on the ``MjData`` that the env's ``step`` leaves: positions and velocities
        after the step's last physics step, kinematics, contacts and actuator forces of the state before
        it (MuJoCo computes them before integrating). Those are recomputed from the rolled-out states on a
        scratch ``MjData`` (kinematics and collision only) and the sensors; Track-v0's own reward code
        (:meth:`~motionlab.envs.track.TrackEnv.reward_terms_of`) scores all of them at once and its fall
        test reads the contacts. Plus ``keypoints_weight`` x the keypoints term, minus the extra
        residual-force and effort penalties."""
        s, base, model, scratch = self.settings, self.base, self.base.model, self._scratch
        ends = (steps + 1) * base.frame_skip  # index of the state after each scored control step
        before, after = states[:, ends - 1], states[:, ends]
        qpos, qvel = after[..., self._qpos_at], after[..., self._qvel_at]
        n, m = before.shape[:2]
        site_xpos, com_vel = np.empty((n, m, model.nsite, 3)), np.empty((n, m, 3))
        fallen = np.zeros((n, m), dtype=bool)
        final_obs = np.empty((n, base.observation_space.shape[0]))
        with self._on_scratch(base.t + steps[-1] + 1):
            for k in range(n):
                for i in range(m):
                    mujoco.mj_setState(model, scratch, before[k, i], _STATE)
                    for stage in (mujoco.mj_kinematics, mujoco.mj_comPos, mujoco.mj_comVel, mujoco.mj_collision):
                        stage(model, scratch)
                    mujoco.mj_subtreeVel(model, scratch)
                    scratch.qpos[:], scratch.qvel[:] = qpos[k, i], qvel[k, i]
                    site_xpos[k, i], com_vel[k, i] = scratch.site_xpos, scratch.subtree_linvel[1]
                    fallen[k, i] = base._fallen()
                final_obs[k] = base._obs()
        frames = np.minimum(base.t + 1 + steps, len(base.ref_qpos) - 1)
        with np.errstate(invalid="ignore", over="ignore"):
            terms, _, root_dist = base.reward_terms_of(qpos, qvel, site_xpos, com_vel, frames[None])
            reward = sum(base.reward_weights[k] * v for k, v in terms.items()) + s.keypoints_weight * terms["keypoints"]
            if base.residual_force:
                rf = actions[..., NUM_JOINTS:]
                reward -= (base.residual_force_penalty + s.residual_force_penalty) * (rf * rf).sum(axis=-1)
            effort = sensors[:, ends - 1][..., self._force_at] / self._force_limit
            reward -= s.effort_penalty * (effort * effort).mean(axis=-1)
        finite = np.isfinite(qpos).all(axis=-1) & np.isfinite(qvel).all(axis=-1)
        ended = fallen | ~finite | (root_dist > base.max_root_error)
        return np.where(finite, reward, 0.0), ended, final_obs

    @contextlib.contextmanager
    def _on_scratch(self, t: int) -> Iterator[None]:
        """Inside the block the env's own fall and observation code reads the scratch data at reference
        frame ``t``."""
        base = self.base
        data, t_saved = base.data, base.t
        base.data, base.t = self._scratch, min(t, len(base.ref_qpos) - 1)
        try:
            yield
        finally:
            base.data, base.t = data, t_saved


# ---------------------------------------------------------------------- running and reporting
@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block. A policy evaluated one observation at a time
    gains nothing from more, and on a loaded machine torch's thread pool makes each small forward pass
    up to ~100x slower (measured: 19 ms instead of 0.07 ms per linear layer at load 6 on 2 cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def settings_for(preset: str) -> RefineSettings | None:
    """The settings of a ``--refine`` preset (None for ``off``); a clear error for an unknown one."""
    if preset not in PRESETS:
        raise UserError(f"unknown refinement preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[preset]


def run_refined(
    env: Any, policy: Any, seconds: float, settings: RefineSettings, seed: int = 0, restart_on_fall: bool = True
) -> tuple[Rollout, RefineStats]:
    """:func:`~motionlab.inference.rollout.run_policy` with the refiner in charge; also its statistics."""
    refiner = Refiner(policy, env, settings)
    try:
        with one_torch_thread():
            run = run_policy(env, refiner, seconds, seed=seed, restart_on_fall=restart_on_fall)
    finally:
        refiner.close()
    return run, refiner.stats


def _mean(values: np.ndarray | None, scale: float = 1.0) -> float | None:
    return None if values is None or not len(values) else round(float(np.mean(values)) * scale, 2)


def refinement_summary(preset: str, policy_alone: Rollout, refined: Rollout, stats: RefineStats) -> dict[str, Any]:
    """The report's ``refinement`` block: what refinement changed against the same policy run alone on
    the same reference (a real second run, not an estimate). MPJPE is against the tracked reference."""
    video_s = max(refined.duration + refined.dt, 1e-9)
    before, after = len(policy_alone.restart_times), len(refined.restart_times)
    return {
        "used": True,
        "preset": preset,
        "method": "predictive sampling around the tracking policy's closed-loop plan (mujoco.rollout)",
        "settings": stats.settings,
        "restarts_policy_alone": before,
        "restarts_refined": after,
        "restarts_avoided": before - after,
        "residual_force_pct_bw_policy_alone": _mean(policy_alone.residual_force_bw, 100.0),
        "residual_force_pct_bw_refined": _mean(refined.residual_force_bw, 100.0),
        "mpjpe_mm_policy_alone": _mean(policy_alone.mpjpe, 1000.0),
        "mpjpe_mm_refined": _mean(refined.mpjpe, 1000.0),
        "mpjpe_reference": "the lifted reference the Closest run tracks (no ground truth in a video)",
        "steps_changed_pct": round(100.0 * stats.overridden / max(stats.steps, 1), 1),
        "wall_s": round(stats.wall_s, 2),
        "cpu_s": round(stats.cpu_s, 2),
        "wall_s_per_video_s": round(stats.wall_s / video_s, 2),
        "cpu_s_per_video_s": round(stats.cpu_s / video_s, 2),
    }


def video_note(summary: dict[str, Any]) -> str:
    """One line for the Closest panel: refinement was used, and what it changed."""
    rf_before, rf_after = summary["residual_force_pct_bw_policy_alone"], summary["residual_force_pct_bw_refined"]
    rf = f", residual force {rf_before:.0f} -> {rf_after:.0f}% BW" if rf_before is not None else ""
    return (
        f"MPC-refined ({summary['preset']}): restarts {summary['restarts_policy_alone']} -> "
        f"{summary['restarts_refined']} vs policy alone{rf}"
    )
