"""Shared machinery of MotionLab's humanoid envs (modelled on Gymnasium's ``MujocoEnv``).

The model is built from :class:`~motionlab.body.BodyParams` (optionally a new random body each episode),
physics runs ``frame_skip`` MuJoCo steps per control step, recorded by a
:class:`~motionlab.step_physics.StepPhysicsMeter` (actuator work per joint, each foot's peak force,
impulse, loading rate and time on the ground over the physics steps: ``info["physics"]`` of every step; ``record_physics=False``
skips this, ~20 % less CPU per step, for training an env whose reward does not need it), and a diverging
simulation ends the
episode with ``truncated=True`` and ``info["diverged"]`` naming the reason instead of raising; so does
an action holding NaN/Inf. An action of the wrong shape or type (None, a scalar, extra dims) raises
ValueError, as do constructor arguments out of range (``frame_skip``, ``max_episode_seconds``,
``body_spread``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from motionlab.body import BodyParams, random_body
from motionlab.errors import UserError
from motionlab.humanoid import GROUND_CONTACT_GEOMS, NUM_JOINTS, HumanoidModel, build_model
from motionlab.step_physics import StepPhysics, StepPhysicsMeter
from motionlab.validation import check_range, checked_action

PROPRIO_DIM = 1 + 6 + NUM_JOINTS + 3 + 3 + NUM_JOINTS + 12
BODY_DIM = 10
MAX_JOINT_SPEED = 100.0  # rad/s; beyond this the state is treated as diverged
MAX_FRAME_SKIP = 100  # physics steps per control step (0.5 s at the 5 ms timestep)
MAX_EPISODE_SECONDS = 3600.0
MAX_BODY_SPREAD = 0.3
NON_FINITE_ACTION = "non-finite (NaN/Inf) action"
DEFAULT_CAMERA = "side"
_INSTABILITY_WARNINGS = (mujoco.mjtWarning.mjWARN_BADQACC, mujoco.mjtWarning.mjWARN_BADQVEL, mujoco.mjtWarning.mjWARN_BADQPOS)


def merge_reward_weights(defaults: Mapping[str, float], given: Mapping[str, float] | None) -> dict[str, float]:
    """``defaults`` with the weights in ``given`` replaced (an env's ``reward_weights`` argument); an
    unknown term or a weight that is not a finite number is a :class:`~motionlab.errors.UserError`."""
    weights = dict(defaults)
    for term, weight in (given or {}).items():
        if term not in defaults:
            raise UserError(f"reward_weights: unknown term {term!r}; the terms are {', '.join(defaults)}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
            raise UserError(f"reward_weights.{term}={weight!r}: give a finite number")
        weights[term] = float(weight)
    return weights


class HumanoidEnv(gym.Env):
    """Base class: body, physics stepping, proprioception, fall and divergence checks, rendering."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(
        self,
        body: BodyParams | dict | None = None,
        randomize_body: bool = False,
        body_spread: float = 0.1,
        frame_skip: int = 6,
        max_episode_seconds: float = 10.0,
        early_termination: bool = True,
        render_mode: str | None = None,
        width: int = 640,
        height: int = 480,
        camera: str = DEFAULT_CAMERA,
        record_physics: bool = True,
    ):
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode={render_mode!r}; supported: {self.metadata['render_modes']}")
        self.base_body = BodyParams.coerce(body).resolved()
        self.randomize_body = randomize_body
        self.body_spread = check_range("body_spread", body_spread, 0.0, MAX_BODY_SPREAD)
        if not isinstance(frame_skip, (int, np.integer)) or isinstance(frame_skip, bool) or not 1 <= frame_skip <= MAX_FRAME_SKIP:
            raise ValueError(f"frame_skip={frame_skip!r} must be an integer in [1, {MAX_FRAME_SKIP}]")
        self.frame_skip = int(frame_skip)
        self.record_physics = bool(record_physics)
        self.max_episode_seconds = check_range("max_episode_seconds", max_episode_seconds, 1e-3, MAX_EPISODE_SECONDS, "s")
        self.early_termination = early_termination
        self.render_mode = render_mode
        self.width, self.height, self.camera = width, height, camera
        self._renderer: mujoco.Renderer | None = None
        self._load_body(self.base_body)
        self.metadata = {**self.metadata, "render_fps": int(round(1.0 / self.dt))}

    # ------------------------------------------------------------------ model
    def _load_body(self, body: BodyParams) -> None:
        self.hm: HumanoidModel = build_model(body)
        self.body = self.hm.body
        self.model = self.hm.model
        self.data = mujoco.MjData(self.model)
        self._body_vec = self.body.as_vector()
        self._body_info = self.body.to_dict()
        self._ee_ids = self.hm.end_effector_site_ids
        self._ctrl_lo, self._ctrl_hi = self.model.actuator_ctrlrange.T.copy()
        # kv / kp of each position servo (s): how far ahead of a moving target its set-point must lead
        self._servo_lead = -self.model.actuator_biasprm[:, 2] / self.model.actuator_gainprm[:, 0]
        allowed = {self.model.geom(g).id for g in GROUND_CONTACT_GEOMS}
        self._fall_geom = np.array([i not in allowed for i in range(self.model.ngeom)])
        self._floor_id = self.model.geom("floor").id
        self._total_mass = float(self.model.body_subtreemass[1])
        self._meter = StepPhysicsMeter(self.model, self.frame_skip)
        self.step_physics: StepPhysics | None = None  # the last control step's, over its physics steps
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    @property
    def dt(self) -> float:
        return self.model.opt.timestep * self.frame_skip

    @property
    def max_episode_steps(self) -> int:
        return int(round(self.max_episode_seconds / self.dt))

    def _maybe_new_body(self) -> None:
        if self.randomize_body:
            self._load_body(random_body(self.np_random, self.body_spread, self.base_body))

    # ------------------------------------------------------------------ physics
    def _action(self, action: Any) -> tuple[np.ndarray, str | None]:
        """``action`` checked against the action space's shape (ValueError otherwise), and the reason to
        end the episode when it holds NaN/Inf (MuJoCo would silently zero every control)."""
        array = checked_action(action, self.action_space.shape, type(self).__name__)
        return array, None if np.isfinite(array).all() else NON_FINITE_ACTION

    def _diverged_step(self, info: dict[str, Any]) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """The step result that ends a diverged episode: truncated, ``info["diverged"]`` says why."""
        return np.zeros(self.observation_space.shape), 0.0, False, True, info

    def _set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        mujoco.mj_forward(self.model, self.data)
        self._meter.reset(self.data)
        self.step_physics = self._meter.finish(self.data)  # none yet: zero work and impulse
        self._warning_counts = [int(self.data.warning[w].number) for w in _INSTABILITY_WARNINGS]

    def _servo_target(self, angles: np.ndarray, velocities: np.ndarray) -> np.ndarray:
        """Position-servo set-points that track joint ``angles`` moving at ``velocities`` (rad/s).

        MuJoCo's position actuator applies ``kp (ctrl - q) - kv qdot``: with ``ctrl = angles`` its damping
        brakes every moving joint towards rest (at 10 rad/s, more torque than a knee has). Leading the
        set-point by ``kv / kp * velocities`` turns it into the PD law ``kp (q* - q) + kv (qdot* - qdot)``
        that motion tracking needs (DeepMimic's PD servos track target velocities the same way)."""
        return angles + self._servo_lead * velocities

    def _simulate(self, ctrl: np.ndarray) -> str | None:
        """Run ``frame_skip`` physics steps, recording each (``self.step_physics``) unless
        ``record_physics`` is off; returns a divergence reason or None."""
        np.clip(ctrl, self._ctrl_lo, self._ctrl_hi, out=self.data.ctrl)
        if self.record_physics:
            self._meter.begin()
            for _ in range(self.frame_skip):
                mujoco.mj_step(self.model, self.data)
                self._meter.record(self.data)
            self.step_physics = self._meter.finish(self.data)
        else:
            mujoco.mj_step(self.model, self.data, nstep=self.frame_skip)
        d = self.data
        for w, before in zip(_INSTABILITY_WARNINGS, self._warning_counts):
            if d.warning[w].number > before:
                return f"MuJoCo reported an unstable simulation ({w.name}) and reset the state"
        if not (np.isfinite(d.qpos).all() and np.isfinite(d.qvel).all()):
            return "non-finite (NaN/Inf) qpos or qvel"
        if np.abs(d.qvel).max() > MAX_JOINT_SPEED:
            return f"velocity above {MAX_JOINT_SPEED} (rad or m)/s"
        return None

    def _fallen(self) -> bool:
        """True when a body part other than feet, shins or hands touches the floor."""
        d = self.data
        for i in range(d.ncon):
            c = d.contact[i]
            other = c.geom2 if c.geom1 == self._floor_id else c.geom1 if c.geom2 == self._floor_id else -1
            if other >= 0 and self._fall_geom[other]:
                return True
        return d.qpos[2] < 0.45 * self.body.leg_length

    # ------------------------------------------------------------------ observation helpers
    def _heading(self) -> np.ndarray:
        """3x3 world->heading rotation: the pelvis yaw removed, z stays up."""
        xmat = self.data.xmat[1]
        norm = np.hypot(xmat[0], xmat[3]) or 1.0
        c, s = xmat[0] / norm, xmat[3] / norm
        return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])

    def _proprioception(self, heading: np.ndarray) -> np.ndarray:
        """Body-frame proprioception (see the env docstrings for the layout)."""
        d = self.data
        root_mat = d.xmat[1].reshape(3, 3)
        local_mat = heading @ root_mat  # pelvis orientation in the heading frame
        lin_vel = heading @ d.qvel[:3]
        ang_vel = heading @ (root_mat @ d.qvel[3:6])  # MuJoCo's free-joint angular velocity is local
        ee = (d.site_xpos[self._ee_ids] - d.qpos[:3]) @ heading.T
        return np.concatenate(
            [d.qpos[2:3], local_mat[:, :2].ravel(), d.qpos[7:], lin_vel, ang_vel, 0.1 * d.qvel[6:], ee.ravel()]
        )

    # ------------------------------------------------------------------ rendering
    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            from motionlab.gl import ensure_gl

            ensure_gl()
            self._renderer = mujoco.Renderer(self.model, self.height, self.width)
        self._renderer.update_scene(self.data, camera=self.camera)
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ------------------------------------------------------------------ info
    def _base_info(self) -> dict[str, Any]:
        info = {"time": float(self.data.time), "body": dict(self._body_info)}
        if self.record_physics and self.step_physics is not None and self.step_physics.seconds > 0:  # not on reset
            info["physics"] = self.step_physics.to_info()
        return info
