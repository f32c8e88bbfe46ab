"""How much metabolic energy a body's joint torques cost: a muscle-like model per joint, and the elastic
return of the ankle's tendons.

Read by the Ideal envs' rewards (``envs/ideal.py``) and reported by ``benchmarks/eval_ideal.py``.
"""

from __future__ import annotations

import numpy as np

from motionlab.humanoid import JOINT_NAMES

# Muscle-like energy model (per joint, from joint torque tau and speed omega):
POSITIVE_WORK_EFFICIENCY = 0.25  # Margaria 1968 (Int Z angew Physiol 25:339): positive work at ~25 %
NEGATIVE_WORK_EFFICIENCY = 1.20  # ... negative work at -120 % (1 J metabolic per 1.2 J absorbed)
ACTIVATION_HEAT_W_PER_KG = 1.28 * 50.0 + 25.0  # Umberger et al. 2003 (CMBBE 6:99): 1.28 %FT + 25 W/kg, 50 % FT
MUSCLE_MASS_FRACTION = 0.38  # skeletal muscle ~38 % of body mass in men, ~31 % in women (Janssen et al. 2000)
# Series elasticity of the ankle: running at 4.5 m/s, a 70 kg man's Achilles tendon stores ~35 J and the arch
# of his foot ~17 J in each stance (Ker et al. 1987, Nature 325:147), and tendon returns ~93 % of it (Bennett
# et al. 1986, J Zool 209:537: 7 % hysteresis). Capacity per foot in body weight x leg length (leg ~0.9 m).
ANKLE_ELASTIC_CAPACITY_MGL = (35.0 + 17.0) / (70.0 * 9.81 * 0.9)
TENDON_ENERGY_RETURN = 0.93
ANKLE_JOINTS = ("left_ankle_y", "right_ankle_y")  # sagittal ankles, in the order of the feet (left, right)


def metabolic_power(
    torque: np.ndarray,
    joint_speed: np.ndarray,
    torque_limit: np.ndarray,
    mass: float,
    power: np.ndarray | None = None,
) -> np.ndarray:
    """Metabolic power (W) of joint torques ``torque`` (..., J) at ``joint_speed`` (..., J), summed over joints.

    Per joint: ``max(P, 0) / 0.25 + max(-P, 0) / 1.2 + h_j (tau / tau_max)^2`` with ``P = tau omega``: the
    positive and negative work efficiencies of muscle (Margaria 1968) plus a force-maintenance heat,
    Umberger et al.'s (2003) activation-maintenance heat rate (89 W per kg of muscle at full activation)
    for the muscle mass (38 % of body mass, Janssen et al. 2000) shared among joints in proportion to
    their torque limits, with activation taken as ``|tau| / tau_max`` squared (Anderson & Pandy 2001's
    activation-squared effort). ``power`` replaces ``tau omega`` with the muscles' power, e.g. with the
    ankles' tendons' share taken out (:class:`ElasticAnkles`); without it, no elastic energy storage
    (tendons return ~half the stance work in human running), so the estimate exceeds people's ~4 J/(kg m).
    """
    power = torque * joint_speed if power is None else power
    muscle_mass = MUSCLE_MASS_FRACTION * mass * torque_limit / torque_limit.sum()
    heat = ACTIVATION_HEAT_W_PER_KG * muscle_mass * (torque / torque_limit) ** 2
    work = np.clip(power, 0.0, None) / POSITIVE_WORK_EFFICIENCY + np.clip(-power, 0.0, None) / NEGATIVE_WORK_EFFICIENCY
    return (work + heat).sum(axis=-1)


class ElasticAnkles:
    """The Achilles tendon and the foot's arch as a spring in series with each ankle's plantarflexors.

    While a foot is on the ground, the work its ankle absorbs (sagittal ``P = tau omega < 0``) stretches the
    spring instead of the muscle, up to the spring's capacity (:data:`ANKLE_ELASTIC_CAPACITY_MGL` x body
    weight x leg length); the ankle's positive work is then paid from the spring first, at 93 % return.
    What the spring takes or gives is not muscle work, so it costs no metabolic energy; energy still
    stored when the foot leaves the ground is lost. :meth:`muscle_power` turns joint power into the
    muscles' power for :func:`metabolic_power`. Human running recovers about half its stance work this way
    (Ker et al. 1987; Alexander 1991, J Exp Biol 160:55); a model without it makes a bouncing stride
    needlessly dear and favours a flat, grounded one.
    """

    def __init__(self, joint_names: tuple[str, ...] = JOINT_NAMES):
        self.columns = np.array([joint_names.index(j) for j in ANKLE_JOINTS])
        self.store = np.zeros(2)  # J held in each foot's spring

    def reset(self) -> None:
        """Springs slack (a new episode)."""
        self.store[:] = 0.0

    def muscle_power(
        self, power: np.ndarray, foot_forces: np.ndarray, contact_n: float, capacity_j: float, h: float
    ) -> np.ndarray:
        """Muscle power (W, physics steps x joints): joint ``power`` with the ankles' spring's share taken
        out, physics step by physics step (``h`` s each); ``foot_forces`` (steps x 2, N) decide contact."""
        muscle = power.copy()
        for k in range(len(power)):
            for foot, col in enumerate(self.columns):
                if foot_forces[k, foot] <= contact_n:
                    self.store[foot] = 0.0  # in the air: the spring has let go
                    continue
                work = power[k, col] * h
                if work < 0.0:  # absorbed: into the spring, as far as it holds
                    taken = min(-work, capacity_j - self.store[foot])
                    self.store[foot] += taken
                    muscle[k, col] += taken / h
                else:  # done: from the spring first
                    given = min(work, TENDON_ENERGY_RETURN * self.store[foot])
                    self.store[foot] -= given / TENDON_ENERGY_RETURN
                    muscle[k, col] -= given / h
        return muscle
