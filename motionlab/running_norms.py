"""What people do when they run and walk: published cadences against speed, scaled to a body.

The Ideal's gait clock starts from these (``MotionLab/Ideal-v2``, ``gait="run"`` or ``"walk"``) and the
Ideal benchmark (``benchmarks/eval_ideal.py``) compares with them.
"""

from __future__ import annotations

import numpy as np

from motionlab.body import BodyParams

# Published running cadences (speed m/s, steps/min, source). Dorn et al.'s are approximate: stride
# frequency ~1.4 Hz at 3.5 m/s, then +10 % at 5.2 and +12 % more at 7.0 m/s, read from their Fig. 2.
HUMAN_RUNNING_CADENCE = (
    (2.4, 154.0, "van Oeveren et al. 2017, PLoS ONE 12:e0184273 (self-selected, 77 strides/min)"),
    (2.6, 158.0, "van Oeveren et al. 2017 (79 strides/min)"),
    (2.9, 160.0, "van Oeveren et al. 2017 (80 strides/min)"),
    (3.0, 169.6, "Lieberman et al. 2015, J Exp Biol 218:3406 (metabolic optimum, 84.8 strides/min)"),
    (3.5, 168.0, "Dorn et al. 2012, J Exp Biol 215:1944, Fig. 2 (approx. 1.4 Hz strides)"),
    (5.2, 185.0, "Dorn et al. 2012, Fig. 2 (approx.)"),
    (7.0, 207.0, "Dorn et al. 2012, Fig. 2 (approx.)"),
)
# The studies' runners were adults of about the default body's size: its leg length is the reference
# of the dynamic-similarity scaling in body_cadence
REFERENCE_LEG_LENGTH_M = BodyParams().resolved().leg_length


def human_cadence(speed: np.ndarray | float) -> np.ndarray:
    """Least-squares line through :data:`HUMAN_RUNNING_CADENCE` (steps/min at ``speed`` m/s; measured
    over 2.4-7.0 m/s, extrapolated outside)."""
    v, c = np.array([(p[0], p[1]) for p in HUMAN_RUNNING_CADENCE]).T
    slope, intercept = np.polyfit(v, c, 1)
    return intercept + slope * np.asarray(speed, dtype=float)


# Walking: adults keep their step length in proportion to their step rate over the usual walking speeds,
# the "walk ratio" (step length / cadence) of ~0.0065 m per step/min in young adults (Sekiya & Nagasaki
# 1998, Gait Posture 7:225; Rota et al. 2011, Gait Posture 33:195, ~0.0062-0.0067). Speed = step length x
# cadence / 60 then gives cadence = sqrt(60 v / walk ratio): 96 steps/min at 1.0 m/s, 118 at 1.5.
HUMAN_WALK_RATIO_M_PER_SPM = 0.0065
WALKING_SPEEDS_MPS = (0.6, 2.2)  # where the walk ratio was measured (slow to fast walking)


def human_walking_cadence(speed: np.ndarray | float) -> np.ndarray:
    """People's walking cadence (steps/min) at ``speed`` m/s from the walk ratio
    (:data:`HUMAN_WALK_RATIO_M_PER_SPM`; measured over :data:`WALKING_SPEEDS_MPS`, extrapolated outside)."""
    return np.sqrt(60.0 * np.clip(np.asarray(speed, dtype=float), 0.0, None) / HUMAN_WALK_RATIO_M_PER_SPM)


def body_cadence(speed: np.ndarray | float, leg_length: float, gait: str = "run") -> np.ndarray:
    """:func:`human_cadence` (``gait="run"``) or :func:`human_walking_cadence` (``"walk"``) for a body with
    legs ``leg_length`` m long, by dynamic similarity (Alexander & Jayes 1983, J Zool 201:135): people
    at the same Froude number ``v^2 / (g L)`` take the same steps per leg length, so cadence scales with
    ``sqrt(L0 / L)`` at speed ``v sqrt(L0 / L)``."""
    norms = {"run": human_cadence, "walk": human_walking_cadence}
    if gait not in norms:
        raise ValueError(f"gait={gait!r}: expected 'run' or 'walk'")
    ratio = np.sqrt(REFERENCE_LEG_LENGTH_M / float(leg_length))
    return ratio * norms[gait](np.asarray(speed, dtype=float) * ratio)
