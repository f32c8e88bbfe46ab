"""``MotionLab/Ideal-v0``: run at a target speed as stably and efficiently as the physics allows."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import mujoco
import numpy as np
from gymnasium import spaces

from motionlab.assets import DEFAULT_REFERENCE, DEFAULT_WALK_REFERENCE
from motionlab.energy import ANKLE_ELASTIC_CAPACITY_MGL, ElasticAnkles, metabolic_power
from motionlab.errors import UserError
from motionlab.humanoid import FOOT_GEOMS, NUM_JOINTS, vertical_foot_forces
from motionlab.motion import qpos_velocities, resample_qpos, retarget_qpos
from motionlab.reference import Reference, load_reference
from motionlab.running_norms import REFERENCE_LEG_LENGTH_M, body_cadence

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
STYLE_REFERENCES = {"run": DEFAULT_REFERENCE, "walk": DEFAULT_WALK_REFERENCE}  # default style reference per gait


def _checked_speed(speed: float) -> float:
    """``speed`` (m/s) if it is a human running or walking speed, else ValueError."""
    if not 0.5 <= float(speed) <= 10.0:
        raise ValueError(f"target speed {speed} m/s is outside the human range [0.5, 10] m/s")
    return float(speed)


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
    policy serves every speed in the range; ``reset(options={"target_speed": v})`` sets this episode's
    target speed instead (a training curriculum's choice). Starts from an athlete pose at a random phase with its
    velocity, at the origin or at ``reset(options={"start_xy": (x, y)})``; terminates on a fall (anything
    but feet, shins and hands touching the ground); truncated after ``max_episode_seconds`` (default 20 s)
    or on divergence or a NaN/Inf action (``info["diverged"]``); an action of another shape raises ValueError.

    ## Arguments
    ``gym.make("MotionLab/Ideal-v0", **kwargs)`` (Hydra: ``task.env_kwargs`` in ``configs/task/ideal.yaml``):

    ==========================  =========  ========================================================
    argument                    default    meaning
    ==========================  =========  ========================================================
    ``target_speed``            3.5        m/s to run at, in [0.5, 10]
    ``target_speed_range``      ``None``   ``(low, high)`` m/s: a new target speed each episode
    ``gait``                    ``"run"``  ``"run"`` or ``"walk"``: which bundled gait is the default style
                                           reference (DeepMimic's run; CMU 07_01's walk) and, in
                                           Ideal-v2, which human cadence relation sets the gait clock
    ``style_reference``         bundled    reference with ``qpos``: the athlete's gait (prior, style,
                                ``gait``   initial states)
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
    ``reset_noise_scale``       0.0        start state's joint angles (rad) and velocities (rad/s, m/s) perturbed
                                           by uniform noise of this half-width, as Gymnasium's
                                           Humanoid-v5 does (training: a policy robust to its first state)
    ``render_mode``             ``None``   ``"rgb_array"`` for :meth:`render`
    ``width``, ``height``       640, 480   rendered image size (px)
    ``camera``                  ``"side"`` ``"side"`` or ``"front"``
    ``record_physics``          ``True``   record actuator work and foot forces over every physics step
                                           (``info["physics"]``); off: ~20 % less CPU per step
    ==========================  =========  ========================================================

    ## Version History
    * v0: speed term on the world velocity along +x, heading term and the heading in the observation
      (appended last), gait prior at a clock scaled to the target speed, per-episode target speeds.
      The reward weights became an argument (``reward_weights``) with unchanged defaults. A NaN/Inf
      action ends the episode as diverged (MuJoCo used to zero the controls silently).
      Every step's info adds ``info["physics"]`` (observation and reward unchanged): actuator work per
      joint and each foot's peak vertical force, impulse and loading rate over the control step's
      physics steps (:class:`~motionlab.step_physics.StepPhysics`).
      ``gait="walk"`` (a new argument; default ``"run"``, unchanged) takes a bundled CMU walk as the
      default style reference. ``reset_noise_scale`` (new; default 0, unchanged) perturbs the start state.
    """

    DEFAULT_REWARD_WEIGHTS = REWARD_WEIGHTS

    def __init__(
        self,
        target_speed: float = 3.5,
        target_speed_range: tuple[float, float] | None = None,
        style_reference: str | os.PathLike | Reference | None = None,
        action_scale: float = 0.4,
        max_episode_seconds: float = 20.0,
        reward_weights: dict[str, float] | None = None,
        gait: str = "run",
        reset_noise_scale: float = 0.0,
        **kwargs: Any,
    ):
        if not 0.0 <= float(reset_noise_scale) <= 0.5:
            raise ValueError(f"reset_noise_scale={reset_noise_scale} must be in [0, 0.5]")
        self.reset_noise_scale = float(reset_noise_scale)
        if gait not in STYLE_REFERENCES:
            raise ValueError(f"gait={gait!r}: expected one of {sorted(STYLE_REFERENCES)}")
        self.gait = gait
        self.reward_weights = merge_reward_weights(self.DEFAULT_REWARD_WEIGHTS, reward_weights)
        for speed in (target_speed, *(target_speed_range or ())):
            _checked_speed(speed)
        if target_speed_range is not None and not target_speed_range[0] <= target_speed_range[1]:
            raise ValueError(f"target_speed_range={target_speed_range} must be (low, high)")
        self.target_speed_range = None if target_speed_range is None else tuple(map(float, target_speed_range))
        ref = style_reference if isinstance(style_reference, Reference) else load_reference(style_reference or STYLE_REFERENCES[gait])
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
        self._init_body = self.body

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._maybe_new_body()
        if options and "target_speed" in options:
            self._set_target_speed(_checked_speed(options["target_speed"]))
        elif self.target_speed_range is not None:
            self._set_target_speed(self.np_random.uniform(*self.target_speed_range))
        else:  # the same speed, perhaps a new body (Ideal-v2's clock depends on its legs)
            self._set_target_speed(self.target_speed)
        self._prepare_initial_states()
        i = int(self.np_random.integers(0, len(self._init_qpos) - 2))
        qpos = self._init_qpos[i].copy()
        qpos[:2] = options["start_xy"] if options and "start_xy" in options else 0.0
        qvel = self._init_qvel[i] * self.clock_rate  # time scaling scales every velocity
        if self.reset_noise_scale > 0:
            noise = self.reset_noise_scale
            qpos[7:] += self.np_random.uniform(-noise, noise, qpos.shape[0] - 7)
            qvel = qvel + self.np_random.uniform(-noise, noise, qvel.shape)
        self._set_state(qpos, qvel)
        self._clock_phase = i * self.dt / self.stride_period  # gait phase in cycles
        self.steps = 0
        return self._obs(), self._base_info()

    def step(self, action: np.ndarray):
        action, diverged = self._action(action)
        x_before = float(self.data.qpos[0])
        if not diverged:
            diverged = self._simulate(self._control(action))
        self.steps += 1
        if diverged:
            return self._diverged_step({**self._base_info(), "diverged": diverged})
        terms, speed = self._reward_terms(x_before)
        reward = sum(self.reward_weights[k] * v for k, v in terms.items())
        fell = self._fallen()
        terminated = self.early_termination and fell
        truncated = self.steps >= self.max_episode_steps
        info = {**self._base_info(), "reward_terms": terms, "fall": fell, "speed": speed, **self._step_info()}
        return self._obs(), float(reward), bool(terminated), bool(truncated), info

    def _step_info(self) -> dict[str, Any]:
        return {}

    def _control(self, action: np.ndarray) -> np.ndarray:
        """Advance the gait clock by one control step; PD targets around the prior there."""
        self._clock_phase += self.clock_rate * self.dt / self.stride_period
        return self._prior_pose(self._clock_phase) + self.action_scale * action

    def _prior_pose(self, phase: float) -> np.ndarray:
        """The athlete's joint angles at gait ``phase`` (cycles; linear interpolation in the cycle table)."""
        x = (phase % 1.0) * _PRIOR_SAMPLES
        i = int(x)
        w = x - i
        return (1 - w) * self._prior[i] + w * self._prior[(i + 1) % _PRIOR_SAMPLES]

    def _obs(self) -> np.ndarray:
        phase = 2 * np.pi * self._clock_phase
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
        forces = vertical_foot_forces(self.model, self.data)
        return float(np.clip(forces / weight - IMPACT_THRESHOLD_BW, 0.0, None).sum())


# ---------------------------------------------------------------------------------------------- Ideal-v1
REWARD_WEIGHTS_V1 = {  # v0's task and style terms; its energy and impact penalties replaced
    **{k: w for k, w in REWARD_WEIGHTS.items() if k not in ("cost_of_transport", "impact")},
    "metabolic": -0.004,
    "peak_force": -0.1,
    "loading_rate": -0.05,
}
PEAK_FORCE_THRESHOLD_BW = 2.5  # running's active peak is 2-3 BW (Cavanagh & Lafortune 1980; Munro et al. 1987)
# Instantaneous vertical loading rate: ~70-110 BW/s in rearfoot runners at 3-4 m/s (Milner et al. 2006,
# MSSE 38:323; Davis et al. 2016, BJSM 50:887); above 100 BW/s is penalised, per 100 BW/s.
LOADING_RATE_THRESHOLD_BW_S = 100.0
CLOCK_BOUNDS = (0.5, 2.0)  # gait clock rate, in athlete cadences


class IdealV1Env(IdealEnv):
    """Free running for a given body at a cadence the policy chooses, for efficient and safe running.

    Differences from ``Ideal-v0`` (everything not listed is the same):

    ## Action space
    ``Box(-1, 1, (29,))``: Ideal-v0's 28 PD-target offsets, then ``a_clock``: the gait clock runs at
    ``base_rate * exp(clock_scale * a_clock)`` athlete cadences, clipped to [0.5, 2.0], where
    ``base_rate = clip(target_speed / athlete_speed, 0.6, 1.6)`` is Ideal-v0's fixed clock. The policy sets
    its own cadence, step by step; with ``a_clock = 0`` the env is Ideal-v0's, so a v0 policy widened with
    a zero clock output (``init_from``) starts out acting as before.

    ## Observation space
    Ideal-v0's 96 dims; the gait clock ``sin, cos`` is the phase the policy's clock has reached.

    ## Reward
    Weighted sum (weights: ``reward_weights``, defaults in ``REWARD_WEIGHTS_V1``) of Ideal-v0's speed (0.35),
    upright trunk (0.15), heading (0.1), whole-body angular momentum (0.1), nearest-athlete-pose style
    (0.2) and alive (0.1) terms, minus:
    ``metabolic`` (-0.004): the muscle-like energy model of :func:`metabolic_power` (positive and negative
    work with muscle efficiencies plus torque squared per joint), integrated over the physics steps and
    divided by ``m v* dt``: the metabolic cost of transport at the target speed, J/(kg m);
    ``peak_force`` (-0.1): each foot's peak vertical ground reaction over the physics steps above 2.5 body
    weights, in body weights; ``loading_rate`` (-0.05): each foot's peak rise of vertical force between
    physics steps above 100 BW/s, per 100 BW/s. ``info`` adds ``cadence_spm`` (the gait clock's),
    ``metabolic_power_w`` and ``mechanical_power_w`` (positive joint power).

    ## Arguments
    Ideal-v0's, plus ``clock_scale`` (0.5: ``a_clock = +-1`` speeds the clock up or slows it down by
    ``e^0.5 = 1.65x``), ``reward_weights`` (a dict overriding some of ``REWARD_WEIGHTS_V1``) and
    ``style_set`` (references, e.g. CMU runs imported with ``motionlab import-mocap``, whose poses join
    the style reference's in the style term: the nearest pose of many runners instead of one athlete;
    the gait prior and start states stay the style reference's). For an Ideal walk, give a walking
    ``style_reference`` and a walking ``target_speed_range`` (``configs/task/ideal_walk.yaml``).

    ## Version History
    * v1: the policy controls its gait clock's rate (an action); reward with a muscle-like energy model,
      peak vertical force and loading rate instead of positive work and end-of-step foot force.
      ``info["mechanical_power_w"]`` is the positive work of ``info["physics"]`` per second (the joint's
      mean speed over each physics step and the servos' implicit damping: ~25 % below the earlier
      torque x speed-after-the-step); the reward is unchanged.
    * v0: gait clock imposed at ``target_speed / athlete_speed`` times the athlete's cadence.
    """

    DEFAULT_REWARD_WEIGHTS = REWARD_WEIGHTS_V1

    def __init__(
        self,
        clock_scale: float = 0.5,
        style_set: Sequence[str | os.PathLike | Reference] = (),
        **kwargs: Any,
    ):
        self.clock_scale = float(clock_scale)
        if not kwargs.get("record_physics", True):
            raise UserError("record_physics=False: Ideal-v1's reward needs the forces and work of every physics step")
        super().__init__(**kwargs)
        extra = [r if isinstance(r, Reference) else load_reference(r) for r in style_set]
        missing = [f"style_set[{i}]" for i, r in enumerate(extra) if r.qpos is None]
        if missing:
            raise UserError(f"{', '.join(missing)} has no qpos trajectory; the style term compares joint angles")
        self.style_poses = np.concatenate([self.style_poses, *(r.qpos[:, 7:] for r in extra)])
        self.action_space = spaces.Box(-1.0, 1.0, (NUM_JOINTS + 1,), dtype=np.float32)
        self.clock_multiplier = 1.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = super().reset(seed=seed, options=options)
        self.clock_multiplier = 1.0
        self._torque_limit = self.model.actuator_forcerange[:, 1].copy()
        return obs, info

    def _control(self, action: np.ndarray) -> np.ndarray:
        lo, hi = CLOCK_BOUNDS
        rate = float(np.clip(self.clock_rate * np.exp(self.clock_scale * np.clip(action[-1], -1.0, 1.0)), lo, hi))
        self.clock_multiplier = rate / self.clock_rate
        self._clock_phase += rate * self.dt / self.stride_period
        return self._prior_pose(self._clock_phase) + self.action_scale * action[:-1]

    def _step_physics(self) -> None:
        """Metabolic energy of the last control step, over its physics steps (the env's meter)."""
        meter = self._meter
        power = metabolic_power(meter.torques, meter.joint_speeds, self._torque_limit, self._total_mass)
        self._energy = float(power.sum()) * meter.timestep

    def _reward_terms(self, x_before: float) -> tuple[dict[str, float], float]:
        self._step_physics()
        terms, speed = super()._reward_terms(x_before)
        del terms["cost_of_transport"], terms["impact"]
        weight = self._total_mass * 9.81
        terms["metabolic"] = min(self._energy / (self._total_mass * self.target_speed * self.dt), 50.0)
        physics = self.step_physics
        terms["peak_force"] = float(np.clip(physics.peak_grf / weight - PEAK_FORCE_THRESHOLD_BW, 0.0, None).sum())
        excess = np.clip(physics.peak_loading_rate / weight - LOADING_RATE_THRESHOLD_BW_S, 0.0, None)
        terms["loading_rate"] = min(float(excess.sum()) / 100.0, 20.0)
        return terms, speed

    def _step_info(self) -> dict[str, Any]:
        return {
            "cadence_spm": 120.0 * self.clock_rate * self.clock_multiplier / self.stride_period,
            "metabolic_power_w": self._energy / self.dt,
            "mechanical_power_w": float(self.step_physics.positive_work.sum()) / self.dt,
        }


class IdealV2Env(IdealV1Env):
    """``Ideal-v1`` with its gait clock starting from people's cadence at the target speed.

    Differences from ``Ideal-v1`` (everything not listed is the same):

    ## Action space
    ``a_clock`` scales a base rate that is the published human running cadence at the target speed
    (walking cadence with ``gait="walk"``), scaled to the body's leg length by dynamic similarity
    (:func:`motionlab.running_norms.body_cadence`), in athlete cadences, clipped to [0.5, 2.0]; Ideal-v1's
    base rate was ``target_speed / athlete_speed`` (cadence proportional to speed, the athlete's stride
    at every speed: 94 steps/min at 2 m/s, where people take ~152). The policy still sets its own
    cadence around it (``clock_scale``).

    ## Version History
    * v2: the gait clock's base rate follows the human cadence-speed relation for the body instead of
      being proportional to the target speed. Observation, reward and arguments as Ideal-v1's, so an
      Ideal-v1 policy loads as it is (``init_from``). With ``gait="walk"`` (default ``"run"``) the base
      rate is people's walking cadence (the walk ratio) and the style reference a CMU walk.
    * v1, v0: see :class:`IdealV1Env`.
    """

    def _set_target_speed(self, speed: float) -> None:
        self.target_speed = float(speed)
        athlete_cadence = 120.0 / self.stride_period
        self.people_cadence = float(body_cadence(self.target_speed, self.body.leg_length, self.gait))  # steps/min
        self.clock_rate = float(np.clip(self.people_cadence / athlete_cadence, *CLOCK_BOUNDS))


# ---------------------------------------------------------------------------------------------- Ideal-v3
PRIOR_AMPLITUDE_BOUNDS = (0.5, 1.3)  # the gait prior's joint excursions, in athlete excursions


class IdealV3Env(IdealV2Env):
    """``Ideal-v2`` whose gait prior also takes people's stride length at the target speed.

    Differences from ``Ideal-v2`` (everything not listed is the same):

    ## Action space
    The 28 PD-target offsets are added to a prior whose joint excursions about the athlete's mean pose are
    scaled by ``prior_amplitude = people's stride / the athlete's stride`` (clipped to [0.5, 1.3]):
    people's stride at the target speed is ``120 v / cadence`` with Ideal-v2's human cadence for the body
    (:func:`motionlab.running_norms.body_cadence`), the athlete's is its speed times its stride period,
    scaled to the body's leg length. Ideal-v2 played the athlete's full excursions at people's cadence,
    i.e. the athlete's 2.9 m stride at every speed: too fast a gait below ~3.5 m/s (asked for 2.0-3.0
    m/s, a policy ran 3.0-3.3) and too slow above, which its policies corrected by turning the clock
    back down to the athlete's cadence. With both the cadence and the stride of people, the prior's
    stride x cadence is the target speed; the policy still sets its own cadence (``a_clock``) and stride.

    ## Episode
    Starts from the athlete's pose at a random phase with its excursions and velocities scaled the same
    way (the root lowered or raised so that the lowest foot is where it was in the athlete's pose).
    ``info["prior_amplitude"]`` gives the scale.

    ## Version History
    * v3: the gait prior's joint excursions follow people's stride length at the target speed.
      Observation, action layout and reward as Ideal-v2's, so an Ideal-v1/v2 policy loads as it is.
    * v2, v1, v0: see :class:`IdealV2Env`.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._prior_mean = self._prior.mean(axis=0)

    def _set_target_speed(self, speed: float) -> None:
        super()._set_target_speed(speed)
        leg = self.body.leg_length
        people_stride = 120.0 * self.target_speed / self.people_cadence
        ref_body = self.style_reference.body
        ref_leg = ref_body.resolved().leg_length if ref_body is not None else REFERENCE_LEG_LENGTH_M
        athlete_stride = self.athlete_speed * self.stride_period * leg / ref_leg
        self.prior_amplitude = float(np.clip(people_stride / athlete_stride, *PRIOR_AMPLITUDE_BOUNDS))

    def _prior_pose(self, phase: float) -> np.ndarray:
        return self._prior_mean + self.prior_amplitude * (super()._prior_pose(phase) - self._prior_mean)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed, options=options)
        m, d = self.model, self.data
        feet = [m.geom(name).id for name in FOOT_GEOMS]
        lowest = float(d.geom_xpos[feet, 2].min())
        qpos, qvel = d.qpos.copy(), d.qvel.copy()
        qpos[7:] = self._prior_mean + self.prior_amplitude * (qpos[7:] - self._prior_mean)
        d.qpos[:] = qpos
        mujoco.mj_kinematics(m, d)  # where the scaled pose puts the feet
        qpos[2] += lowest - float(d.geom_xpos[feet, 2].min())
        self._set_state(qpos, qvel * self.prior_amplitude)
        return self._obs(), self._base_info()

    def _base_info(self) -> dict[str, Any]:
        return {**super()._base_info(), "prior_amplitude": self.prior_amplitude}


# ---------------------------------------------------------------------------------------------- Ideal-v4
class IdealV4Env(IdealV3Env):
    """``Ideal-v3`` whose energy model has elastic ankles: the Achilles tendon and the foot's arch.

    Differences from ``Ideal-v3`` (everything not listed is the same):

    ## Reward
    ``metabolic`` prices the muscles' work, not the joints': while a foot is on the ground, the work its
    sagittal ankle absorbs is stored in a series spring (up to 52 J for a 70 kg body with 0.9 m legs, in
    proportion to body weight x leg length; Ker et al. 1987) and its positive work is paid from that spring
    first, at 93 % return (:class:`motionlab.energy.ElasticAnkles`). In Ideal-v1 to v3 every joule of
    push-off cost 4 J of metabolic energy, so a bouncing run with flight phases, which people choose for
    its elastic return, cost far more than a flat, grounded shuffle (what those policies learnt below 3.5
    m/s). ``info["elastic_power_w"]``: the power the springs returned over the control step.

    ## Version History
    * v4: the metabolic term with elastic ankles. Observation, action layout and the other reward terms
      as Ideal-v3's, so an Ideal-v1/v2/v3 policy loads as it is.
    * v3, v2, v1, v0: see :class:`IdealV3Env`.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        m = self.model
        self._ankles = ElasticAnkles(tuple(m.joint(m.actuator_trnid[i, 0]).name for i in range(m.nu)))
        self._elastic_w = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self._ankles.reset()
        return super().reset(seed=seed, options=options)

    def _step_physics(self) -> None:
        meter = self._meter
        power = meter.torques * meter.joint_speeds
        capacity = ANKLE_ELASTIC_CAPACITY_MGL * self._total_mass * 9.81 * self.body.leg_length
        muscle = self._ankles.muscle_power(power, meter.foot_forces, meter.contact_n, capacity, meter.timestep)
        watts = metabolic_power(meter.torques, meter.joint_speeds, self._torque_limit, self._total_mass, power=muscle)
        self._energy = float(watts.sum()) * meter.timestep
        returned = np.clip(power - muscle, 0.0, None)  # positive work the springs paid
        self._elastic_w = float(returned.sum()) * meter.timestep / self.dt

    def _step_info(self) -> dict[str, Any]:
        return {**super()._step_info(), "elastic_power_w": self._elastic_w}
