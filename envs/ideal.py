"""``MotionLab/Ideal-v0``: run at a target speed as stably and efficiently as the physics allows."""

from __future__ import annotations

import os
from typing import Any

import mujoco
import numpy as np
from gymnasium import spaces

from motionlab.assets import DEFAULT_REFERENCE
from motionlab.humanoid import FOOT_GEOMS, NUM_JOINTS, vertical_foot_forces
from motionlab.motion import qpos_velocities, resample_qpos, retarget_qpos
from motionlab.reference import Reference, load_reference

from .base import BODY_DIM, PROPRIO_DIM, HumanoidEnv, merge_reward_weights

REWARD_WEIGHTS = {  # defaults
    "speed": 0.35,
    "upright": 0.15,
    "heading": 0.1,
    "angular_momentum": 0.1,
    "style": 0.2,
    "alive": 0.1,
    "cost_of_transport": -0.05,
    "impact": -0.05,
}
IMPACT_THRESHOLD_BW = 2.5  # vertical ground reaction per foot above 2.5 x body weight is penalised
_PRIOR_SAMPLES = 120  # samples of the athlete's gait cycle in the prior table


class IdealEnv(HumanoidEnv):
    """Free running for a given body: no reference to follow, a gait that is fast, stable and cheap.

    ## Action space
    ``Box(-1, 1, (28,))``: PD targets ``prior(phase) + action_scale * a`` (rad), clipped to the joint
    ranges (plain set-points: unlike Track-v0's servos they do not lead by the prior's velocity, which
    did not speed up learning here: 45 vs 51 steps per training episode at 1 M samples). ``prior`` is
    the athlete's gait cycle (from the style reference) played at the gait clock, which runs
    ``target_speed / athlete_speed`` times the athlete's cadence: a gait prior that the policy is free to
    change (as in residual tracking, this makes learning to run far cheaper than from scratch).

    ## Observation space
    ``Box(-inf, inf, (96,))``, float64: the 81-dim proprioception of ``Track-v0`` (pelvis height,
    heading-frame orientation, joint angles, pelvis velocities, joint velocities x 0.1, wrists and ankles
    relative to the pelvis), a gait clock ``sin, cos(2 pi t / T)`` at the athlete's stride period T,
    the target speed (m/s), the 10 normalised body parameters, and the pelvis heading relative to the
    running direction +x as ``cos, sin`` (appended last, so a policy trained without it could be widened
    by ``init_from``).

    ## Reward
    Weighted sum of terms, each in ``info["reward_terms"]``:
    ``speed = exp(-2 ((v_x - v*)^2 + v_y^2))`` (0.35; pelvis velocity along and across the running
    direction +x: run straight ahead at the target speed); ``heading = exp(-2 yaw^2)`` (0.1; the pelvis
    faces the running direction, so the runner does not crab along it);
    ``upright = z_trunk . z_world`` (0.15); ``angular_momentum = exp(-|L_com| / (m h))`` (0.1; whole-body
    angular momentum about the centre of mass); ``style = exp(-0.5 min_i ||q - q_i||^2 / 28 * 28)``
    (0.2; nearest athlete pose, keeps the gait human); ``alive`` = 1 (0.1);
    ``cost_of_transport`` = positive actuator work / (m g distance) over the step (-0.05);
    ``impact`` = vertical ground reaction force per foot above 2.5 body weights, in body weights (-0.05).

    ## Episode
    ``target_speed_range=(lo, hi)`` draws a new target speed per episode (the policy sees it), so one
    policy serves every speed in the range. Starts from an athlete pose at a random phase with its
    velocity, at the origin or at ``reset(options={"start_xy": (x, y)})``; terminates on a fall (anything
    but feet, shins and hands touching the ground); truncated after ``max_episode_seconds`` (default 20 s)
    or on divergence (``info["diverged"]``).

    ## Arguments
    ``gym.make("MotionLab/Ideal-v0", **kwargs)`` (Hydra: ``task.env_kwargs`` in ``configs/task/ideal.yaml``):

    ==========================  =========  ========================================================
    argument                    default    meaning
    ==========================  =========  ========================================================
    ``target_speed``            3.5        m/s to run at, in [0.5, 10]
    ``target_speed_range``      ``None``   ``(low, high)`` m/s: a new target speed each episode
    ``style_reference``         bundled    reference with ``qpos``: the athlete's gait (prior, style,
                                run clip   initial states)
    ``action_scale``            0.4        rad of PD-target offset from the gait prior per unit action
    ``reward_weights``          ``None``   weights of the reward terms replacing the defaults above
                                           (any subset of ``speed``, ``upright``, ``heading``,
                                           ``angular_momentum``, ``style``, ``alive``,
                                           ``cost_of_transport``, ``impact``; penalties negative)
    ``max_episode_seconds``     20.0       truncate episodes after this long
    ``body``                    1.75 m, 70 kg  :class:`~motionlab.body.BodyParams` or dict (height, mass, segments)
    ``randomize_body``          ``False``  draw a new body around ``body`` at every reset
    ``body_spread``             0.1        relative spread of the random bodies
    ``frame_skip``              6          5 ms MuJoCo steps per control step (33.3 Hz control)
    ``early_termination``       ``True``   end the episode on a fall
    ``render_mode``             ``None``   ``"rgb_array"`` for :meth:`render`
    ``width``, ``height``       640, 480   rendered image size (px)
    ``camera``                  ``"side"`` ``"side"`` or ``"front"``
    ==========================  =========  ========================================================

    ## Version History
    * v0: speed term on the world velocity along +x, heading term and the heading in the observation
      (appended last), gait prior at a clock scaled to the target speed, per-episode target speeds.
      The reward weights became an argument (``reward_weights``) with unchanged defaults.
    """

    def __init__(
        self,
        target_speed: float = 3.5,
        target_speed_range: tuple[float, float] | None = None,
        style_reference: str | os.PathLike | Reference | None = None,
        action_scale: float = 0.4,
        max_episode_seconds: float = 20.0,
        reward_weights: dict[str, float] | None = None,
        **kwargs: Any,
    ):
        self.reward_weights = merge_reward_weights(REWARD_WEIGHTS, reward_weights)
        for speed in (target_speed, *(target_speed_range or ())):
            if not 0.5 <= speed <= 10.0:
                raise ValueError(f"target speed {speed} m/s is outside the human range [0.5, 10] m/s")
        if target_speed_range is not None and not target_speed_range[0] <= target_speed_range[1]:
            raise ValueError(f"target_speed_range={target_speed_range} must be (low, high)")
        self.target_speed_range = None if target_speed_range is None else tuple(map(float, target_speed_range))
        ref = style_reference if isinstance(style_reference, Reference) else load_reference(style_reference or DEFAULT_REFERENCE)
        if ref.qpos is None:
            raise ValueError("the style reference needs a qpos trajectory")
        self.style_reference = ref
        self.target_speed = float(target_speed)
        self.action_scale = action_scale
        super().__init__(max_episode_seconds=max_episode_seconds, **kwargs)
        self.style_poses = ref.qpos[:, 7:].copy()
        self.stride_period = float(ref.source.get("stride_period_s", 0.8))
        self.athlete_speed = float(ref.source.get("speed_mps", self.target_speed))
        self._set_target_speed(self.target_speed)
        cycle_times = np.arange(_PRIOR_SAMPLES) * self.stride_period / _PRIOR_SAMPLES
        self._prior = resample_qpos(ref.qpos, ref.fps, cycle_times)[:, 7:]
        self.action_space = spaces.Box(-1.0, 1.0, (NUM_JOINTS,), dtype=np.float32)
        obs_dim = PROPRIO_DIM + 2 + 1 + BODY_DIM + 2
        self.observation_space = spaces.Box(-np.inf, np.inf, (obs_dim,), dtype=np.float64)
        self._init_body = None

    def _set_target_speed(self, speed: float) -> None:
        self.target_speed = float(speed)
        self.clock_rate = float(np.clip(self.target_speed / self.athlete_speed, 0.6, 1.6))

    def _prepare_initial_states(self) -> None:
        if self._init_body == self.body:
            return
        ref = self.style_reference
        qpos = ref.qpos if ref.body is None or ref.body.resolved() == self.body else retarget_qpos(ref.qpos, ref.body, self.body, hm=self.hm)
        times = np.arange(0.0, self.stride_period + 2 * self.dt, self.dt)  # one cycle
        self._init_qpos = resample_qpos(qpos, ref.fps, times)
        self._init_qvel = qpos_velocities(self.model, self._init_qpos, self.dt)
        self._foot_ids = [self.model.geom(g).id for g in FOOT_GEOMS]
        self._init_body = self.body

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._maybe_new_body()
        if self.target_speed_range is not None:
            self._set_target_speed(self.np_random.uniform(*self.target_speed_range))
        self._prepare_initial_states()
        i = int(self.np_random.integers(0, len(self._init_qpos) - 2))
        qpos = self._init_qpos[i].copy()
        qpos[:2] = options["start_xy"] if options and "start_xy" in options else 0.0
        self._set_state(qpos, self._init_qvel[i] * self.clock_rate)  # time scaling scales every velocity
        self._phase0 = i * self.dt / self.stride_period
        self.steps = 0
        return self._obs(), self._base_info()

    def step(self, action: np.ndarray):
        action = np.asarray(action, dtype=np.float64)
        x_before = float(self.data.qpos[0])
        diverged = self._simulate(self._prior_pose(self.data.time + self.dt) + self.action_scale * action)
        self.steps += 1
        if diverged:
            return np.zeros(self.observation_space.shape), 0.0, False, True, {**self._base_info(), "diverged": diverged}
        terms, speed = self._reward_terms(x_before)
        reward = sum(self.reward_weights[k] * v for k, v in terms.items())
        fell = self._fallen()
        terminated = self.early_termination and fell
        truncated = self.steps >= self.max_episode_steps
        info = {**self._base_info(), "reward_terms": terms, "fall": fell, "speed": speed}
        return self._obs(), float(reward), bool(terminated), bool(truncated), info

    def _phase(self, time: float) -> float:
        """Gait phase in cycles at simulation ``time``."""
        return self._phase0 + time * self.clock_rate / self.stride_period

    def _prior_pose(self, time: float) -> np.ndarray:
        """The athlete's joint angles at the gait clock (linear interpolation in the cycle table)."""
        x = (self._phase(time) % 1.0) * _PRIOR_SAMPLES
        i = int(x)
        w = x - i
        return (1 - w) * self._prior[i] + w * self._prior[(i + 1) % _PRIOR_SAMPLES]

    def _obs(self) -> np.ndarray:
        phase = 2 * np.pi * self._phase(self.data.time)
        heading = self._heading()
        return np.concatenate(
            [
                self._proprioception(heading),
                [np.sin(phase), np.cos(phase), self.target_speed],
                self._body_vec,
                heading[0, :2],  # cos, sin of the pelvis yaw from +x
            ]
        )

    def _reward_terms(self, x_before: float) -> tuple[dict[str, float], float]:
        m, d = self.model, self.data
        v_x, v_y = float(d.qvel[0]), float(d.qvel[1])  # along and across the running direction
        cos_yaw, sin_yaw = self._heading()[0, :2]
        yaw = float(np.arctan2(sin_yaw, cos_yaw))  # pelvis yaw from the running direction
        trunk_up = float(d.xmat[m.body("chest").id][8])
        mujoco.mj_subtreeVel(m, d)
        ang_mom = float(np.linalg.norm(d.subtree_angmom[1]))
        weight = self._total_mass * 9.81
        power = d.actuator_force * d.qvel[6:]
        work = float(np.clip(power, 0.0, None).sum()) * self.dt
        distance = max(float(d.qpos[0]) - x_before, 0.01 * self.dt)
        pose_d2 = ((self.style_poses - d.qpos[7:]) ** 2).sum(axis=1).min()
        terms = {
            "speed": float(np.exp(-2.0 * ((v_x - self.target_speed) ** 2 + v_y**2))),
            "upright": trunk_up,
            "heading": float(np.exp(-2.0 * yaw**2)),
            "angular_momentum": float(np.exp(-ang_mom / (self._total_mass * self.body.height))),
            "style": float(np.exp(-0.5 * pose_d2)),
            "alive": 1.0,
            "cost_of_transport": min(work / (weight * distance), 5.0),
            "impact": self._impact_excess(weight),
        }
        return terms, v_x

    def _impact_excess(self, weight: float) -> float:
        """Vertical ground reaction above the threshold, per foot, in body weights."""
        forces = vertical_foot_forces(self.model, self.data, self._foot_ids)
        return float(np.clip(forces / weight - IMPACT_THRESHOLD_BW, 0.0, None).sum())
