"""What happens between two control steps, integrated over every physics step: actuator work per joint and
each foot's vertical ground reaction (peak, impulse, loading rate).

A control step spans ``frame_skip`` physics steps (6 x 5 ms in MotionLab's envs). The servos' power
swings within it and an impact peaks and fades within it, so values read once per control step miss most
of both (the shipped Ideal runner at 3.5 m/s: a mechanical cost of transport of 2.2 instead of 5.5 J/(kg m),
peak vertical force 3.6 instead of 4.7 body weights; ``tests/test_step_physics.py``). Envs record every physics step with a :class:`StepPhysicsMeter` and report one
:class:`StepPhysics` per control step (``info["physics"]``); every consumer (the report's metrics, the
evaluation, Ideal-v1's reward) reads these.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from motionlab.humanoid import foot_force_addresses


@dataclass(frozen=True)
class StepPhysics:
    """One control step's physics, over its physics steps (``seconds`` long in all); stacked
    (:meth:`stack`), every field has a leading axis of control steps.

    ``positive_work`` and ``negative_work`` (J, per actuator, both >= 0): the actuator's work done and
    absorbed, ``sum(max(+-tau omega, 0) h)`` over the physics steps; ``peak_grf`` (N, left and right foot):
    the largest vertical ground reaction force; ``grf_impulse`` (N s): its integral; ``peak_loading_rate``
    (N/s): the largest rise of vertical force from one physics step to the next (from the previous control
    step's last physics step on)."""

    positive_work: np.ndarray
    negative_work: np.ndarray
    peak_grf: np.ndarray
    grf_impulse: np.ndarray
    peak_loading_rate: np.ndarray
    seconds: float

    def to_info(self) -> dict[str, np.ndarray | float]:
        """The fields as ``info["physics"]`` holds them (names with units)."""
        return {key: getattr(self, f) for key, f in zip(_INFO_KEYS, _FIELDS)}

    @classmethod
    def from_info(cls, info: dict[str, np.ndarray | float]) -> StepPhysics:
        """The inverse of :meth:`to_info`."""
        return cls(*(info[key] for key in _INFO_KEYS))

    @classmethod
    def stack(cls, steps: list[StepPhysics]) -> StepPhysics:
        """Control steps stacked along a new first axis."""
        return cls(*(np.array([getattr(s, f) for s in steps]) for f in _FIELDS))

    def __getitem__(self, index: slice | np.ndarray) -> StepPhysics:
        """The stacked control steps at ``index``."""
        return StepPhysics(*(getattr(self, f)[index] for f in _FIELDS))


_FIELDS = ("positive_work", "negative_work", "peak_grf", "grf_impulse", "peak_loading_rate", "seconds")
_INFO_KEYS = ("positive_work_j", "negative_work_j", "peak_grf_n", "grf_impulse_ns", "peak_loading_rate_n_s", "seconds")


class StepPhysicsMeter:
    """Records actuator work and foot forces after each physics step of a control step.

    The work of a physics step is ``tau_eff * (qdot_k + qdot_{k+1}) / 2 * h`` per actuated joint: the
    torque that acted during the step times the joint's mean speed over it. ``tau_eff`` is the actuator
    force MuJoCo reports plus its implicit damping, ``d tau / d qdot * (qdot_{k+1} - qdot_k)``, which the
    ``implicit``/``implicitfast`` integrators apply at the new velocity (not for a servo clamped at its
    force limit). So defined, net actuator work plus passive joint work equals the change of kinetic and
    potential energy of a body in flight (``tests/test_step_physics.py``). The servos' step-to-step chatter
    makes the simpler products differ: on the Ideal runner at 3.5 m/s ``tau_k qdot_{k+1}`` gives a
    positive-work cost of transport of 7.4, ``tau_k qdot_k`` 5.3, this one 5.4 J/(kg m) (a control-step
    sample 2.2). Foot forces are the feet's touch sensors (the forces of the step just taken).
    ``torques`` (as reported, without the implicit part) and ``joint_speeds`` (after each step) keep the
    raw per-step values for energy models (Ideal-v1's metabolic cost). Usage: :meth:`reset` with the state
    after a reset, then per control step :meth:`begin`, :meth:`record` after each ``mj_step``, :meth:`finish`."""

    def __init__(self, model: mujoco.MjModel, substeps: int):
        self.timestep = float(model.opt.timestep)
        self.substeps = int(substeps)
        gear = model.actuator_gear[:, 0].copy()
        self._gear = gear
        self._dofs = model.jnt_dofadr[model.actuator_trnid[:, 0]]
        implicit = model.opt.integrator in (
            mujoco.mjtIntegrator.mjINT_IMPLICIT,
            mujoco.mjtIntegrator.mjINT_IMPLICITFAST,
        )
        affine = model.actuator_biastype == mujoco.mjtBias.mjBIAS_AFFINE
        # d(joint torque)/d(joint speed) of each actuator's velocity term, applied implicitly
        self._damping = (
            np.where(affine, model.actuator_biasprm[:, 2], 0.0) * gear**2 if implicit else np.zeros(model.nu)
        )
        limited = model.actuator_forcelimited.astype(bool)
        self._force_lo = np.where(limited, model.actuator_forcerange[:, 0], -np.inf)
        self._force_hi = np.where(limited, model.actuator_forcerange[:, 1], np.inf)
        self._force_adr = foot_force_addresses(model)
        self.torques = np.zeros((self.substeps, model.nu))  # (substeps, actuators) N m, as MuJoCo reports them
        self.joint_speeds = np.zeros((self.substeps, model.nu))  # rad/s after each physics step
        self.power = np.zeros((self.substeps, model.nu))  # W over each physics step (see above)
        self.grf = np.zeros((self.substeps + 1, 2))  # the previous step's last forces, then each substep's
        self._speed_before = np.zeros(model.nu)
        self._k = 0

    def reset(self, data: mujoco.MjData) -> None:
        """Start from ``data`` (after ``mj_forward``): its foot forces are the first 'previous' forces."""
        for array in (self.torques, self.joint_speeds, self.power):
            array[:] = 0.0
        self.grf[:] = data.sensordata[self._force_adr]
        self._speed_before = data.qvel[self._dofs].copy()
        self._k = 0

    def begin(self) -> None:
        """Start a control step: the last recorded forces become the 'previous' ones."""
        if self._k:
            self.grf[0] = self.grf[self._k]
        self._k = 0

    def record(self, data: mujoco.MjData) -> None:
        """Call after each ``mj_step`` of the control step."""
        k = self._k
        force = data.actuator_force
        speed = data.qvel[self._dofs]
        free = (force > self._force_lo) & (force < self._force_hi)  # a clamped servo's damping is explicit
        effective = force * self._gear + np.where(free, self._damping, 0.0) * (speed - self._speed_before)
        self.power[k] = effective * 0.5 * (speed + self._speed_before)
        self.torques[k] = force * self._gear
        self.joint_speeds[k] = speed
        self.grf[k + 1] = data.sensordata[self._force_adr]
        self._speed_before = speed.copy()
        self._k = k + 1

    def finish(self) -> StepPhysics:
        """The control step's :class:`StepPhysics` over the physics steps recorded since :meth:`begin`
        (after none, e.g. right after a reset: no work, no impulse, the current forces as the peak)."""
        k, h = self._k, self.timestep
        power = self.power[:k]
        grf = self.grf[: k + 1]
        return StepPhysics(
            positive_work=np.clip(power, 0.0, None).sum(axis=0) * h,
            negative_work=np.clip(-power, 0.0, None).sum(axis=0) * h,
            peak_grf=grf[1:].max(axis=0) if k else grf[0].copy(),
            grf_impulse=grf[1:].sum(axis=0) * h,
            peak_loading_rate=np.diff(grf, axis=0).max(axis=0) / h if k else np.zeros(2),
            seconds=k * h,
        )
