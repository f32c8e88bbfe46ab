"""What happens between two control steps, integrated over every physics step: actuator work per joint and
each foot's vertical ground reaction (peak, impulse, loading rate, time on the ground).

A control step spans ``frame_skip`` physics steps (6 x 5 ms in MotionLab's envs). The servos' power
swings within it and an impact peaks and fades within it, so values read once per control step miss most
of both (the shipped Ideal runner at 3.5 m/s: a mechanical cost of transport of 2.2 instead of 5.5 J/(kg m),
peak vertical force 3.6 instead of 4.7 body weights; ``tests/test_step_physics.py``). Envs record every
physics step with a :class:`StepPhysicsMeter` and report one :class:`StepPhysics` per control step
(``info["physics"]``); every consumer (the report's metrics, the evaluation, Ideal-v1's reward) reads these.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from motionlab.humanoid import sensor_addresses

CONTACT_THRESHOLD_BW = 0.03  # a foot is on the ground above 3 % body weight (~20 N), the usual force-plate threshold


@dataclass(frozen=True)
class StepPhysics:
    """One control step's physics, over its physics steps (``seconds`` long in all); stacked
    (:meth:`stack`), every field has a leading axis of control steps.

    ``positive_work`` and ``negative_work`` (J, per actuator, both >= 0): the actuator's work done and
    absorbed, ``sum(max(+-P, 0) h)`` over the physics steps with ``P`` the joint power of
    :class:`StepPhysicsMeter`; ``peak_grf`` (N, left and right foot):
    the largest vertical ground reaction force; ``grf_impulse`` (N s): its integral; ``peak_loading_rate``
    (N/s): the largest rise of vertical force from one physics step to the next (from the previous control
    step's last physics step on); ``contact_seconds`` (s): how long, physics step by physics step, the force
    was above :data:`CONTACT_THRESHOLD_BW` (where in the control step a foot landed or left: to 5 ms)."""

    positive_work: np.ndarray
    negative_work: np.ndarray
    peak_grf: np.ndarray
    grf_impulse: np.ndarray
    peak_loading_rate: np.ndarray
    seconds: float
    contact_seconds: np.ndarray

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


_FIELDS = (
    "positive_work", "negative_work", "peak_grf", "grf_impulse", "peak_loading_rate", "seconds", "contact_seconds",
)  # fmt: skip
_INFO_KEYS = (
    "positive_work_j", "negative_work_j", "peak_grf_n", "grf_impulse_ns", "peak_loading_rate_n_s", "seconds",
    "contact_seconds",
)  # fmt: skip


def _contiguous(indices: np.ndarray) -> slice:
    """``indices`` (consecutive integers) as a slice, so that reading them makes no copy."""
    start = int(indices[0])
    if not np.array_equal(indices, np.arange(start, start + len(indices))):
        raise RuntimeError(f"expected consecutive indices, got {indices}")
    return slice(start, start + len(indices))


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
    After :meth:`finish`, ``torques`` (as reported, without the implicit part), ``joint_speeds`` (after
    each step) and ``foot_forces`` hold the raw per-step values for energy models (Ideal-v1's metabolic
    cost, Ideal-v4's elastic ankles). Everything is
    read from the model's sensors (:func:`~motionlab.humanoid.sensor_addresses`), one copy per physics
    step. Usage: :meth:`reset` with the state after a reset, then per control step :meth:`begin`,
    :meth:`record` after each ``mj_step``, :meth:`finish`."""

    def __init__(self, model: mujoco.MjModel, substeps: int):
        self.timestep = float(model.opt.timestep)
        self.substeps = int(substeps)
        gear = model.actuator_gear[:, 0].copy()
        self._gear = gear
        self._dofs = model.jnt_dofadr[model.actuator_trnid[:, 0]]
        self.contact_n = (  # N: a foot is on the ground above this force
            CONTACT_THRESHOLD_BW * mujoco.mj_getTotalmass(model) * float(np.linalg.norm(model.opt.gravity))
        )
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
        # the block of sensordata recorded per physics step: foot forces, actuator forces, joint speeds
        grf, force, speed = sensor_addresses(model)
        self._lo = int(grf[0])
        self._grf, self._force, self._speed = (_contiguous(a - self._lo) for a in (grf, force, speed))
        self._hi = self._lo + self._speed.stop
        self._rows = np.zeros((self.substeps, self._hi - self._lo))
        self._after = np.zeros((self.substeps, model.nu))
        self._dofs = _contiguous(self._dofs)
        self.grf_before = np.zeros(2)  # the last physics step's foot forces: where the next loading rate starts
        self._k = 0
        self.torques = np.zeros((0, model.nu))  # (physics steps, actuators) N m, as MuJoCo reports them
        self.joint_speeds = np.zeros((0, model.nu))  # rad/s after each physics step
        self.foot_forces = np.zeros((0, 2))  # (physics steps, left/right) N, vertical, during each step

    def reset(self, data: mujoco.MjData) -> None:
        """Start from ``data`` (after ``mj_forward``): its foot forces are the first 'previous' forces."""
        self.grf_before = data.sensordata[self._lo : self._hi][self._grf].copy()
        self._k = 0

    def begin(self) -> None:
        """Start a control step."""
        self._k = 0

    def record(self, data: mujoco.MjData) -> None:
        """Call after each ``mj_step`` of the control step: one copy of the sensors the step computed (at
        its start state: foot forces, actuator forces, joint speeds before the step)."""
        self._rows[self._k] = data.sensordata[self._lo : self._hi]
        self._k += 1

    def finish(self, data: mujoco.MjData) -> StepPhysics:
        """The control step's :class:`StepPhysics` over the physics steps recorded since :meth:`begin`
        (``data`` at its end state); after none, e.g. right after a reset: no work, no impulse, the
        current forces as the peak."""
        k, h = self._k, self.timestep
        if k == 0:
            nothing = np.zeros(len(self._gear))
            return StepPhysics(
                nothing, nothing.copy(), self.grf_before.copy(), np.zeros(2), np.zeros(2), 0.0, np.zeros(2)
            )
        rows = self._rows[:k]
        force, before, grf = rows[:, self._force], rows[:, self._speed], rows[:, self._grf]
        after = self._after[:k]
        after[:-1] = before[1:]
        after[-1] = data.qvel[self._dofs]
        free = (force > self._force_lo) & (force < self._force_hi)  # a clamped servo's damping is explicit
        torque = force * self._gear
        power = (torque + free * self._damping * (after - before)) * (after + before)  # x 2
        positive = np.maximum(power, 0.0).sum(axis=0) * (0.5 * h)
        rise = grf[0] - self.grf_before
        if k > 1:
            rise = np.maximum(rise, (grf[1:] - grf[:-1]).max(axis=0))
        self.torques, self.joint_speeds, self.foot_forces = torque, after.copy(), grf.copy()
        self.grf_before = grf[-1].copy()
        return StepPhysics(
            positive_work=positive,
            negative_work=positive - power.sum(axis=0) * (0.5 * h),
            peak_grf=grf.max(axis=0),
            grf_impulse=grf.sum(axis=0) * h,
            peak_loading_rate=rise / h,
            seconds=k * h,
            contact_seconds=(grf > self.contact_n).sum(axis=0) * h,
        )
