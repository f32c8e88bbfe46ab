"""Body parameters of the simulated runner.

`BodyParams` holds height, total mass and the segment lengths the humanoid is built from. Segments
left unset follow published anthropometric proportions of stature (Winter, *Biomechanics and Motor
Control of Human Movement*, 4th ed., table 4.1) and segment masses follow de Leva (1996) fractions of
total body mass. Every value is validated: absurd bodies are rejected with an error that names the
field and the allowed range.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from motionlab.errors import BodyParamsError

# Segment length as a fraction of stature (Winter 2009, table 4.1; joint-centre to joint-centre).
LENGTH_FRACTIONS: dict[str, float] = {
    "pelvis_width": 0.105,  # distance between the two hip joint centres
    "torso": 0.288,  # hip joint centre height (0.530 H) to shoulder / neck base (0.818 H)
    "neck_head": 0.182,  # neck base to top of head
    "upper_arm": 0.186,
    "forearm": 0.146,  # elbow to wrist
    "thigh": 0.245,
    "shank": 0.246,
    "foot": 0.152,  # heel to toe
}
ANKLE_HEIGHT_FRACTION = 0.039  # sole to ankle joint centre
SHOULDER_WIDTH_FRACTION = 0.226  # between shoulder joint centres

# Segment mass as a fraction of total body mass (de Leva 1996, male).
MASS_FRACTIONS: dict[str, float] = {
    "pelvis": 0.1117,
    "chest": 0.3229,  # middle + upper trunk
    "head": 0.0694,
    "upper_arm": 0.0271,
    "forearm": 0.0162 + 0.0061,  # forearm + hand
    "thigh": 0.1416,
    "shank": 0.0433,
    "foot": 0.0137,
}

# Allowed ranges. Lengths are checked both in metres and as a fraction of height.
HEIGHT_RANGE = (1.0, 2.3)  # m
MASS_RANGE = (20.0, 200.0)  # kg
BMI_RANGE = (12.0, 50.0)  # kg / m^2
FRACTION_TOLERANCE = 0.35  # a segment may differ from its anthropometric fraction by +-35 %
STATURE_TOLERANCE = 0.10  # sum of the vertical segments must match height within 10 %



@dataclass(frozen=True)
class BodyParams:
    """Height (m), total mass (kg) and segment lengths (m) of a humanoid runner.

    Segments given as ``None`` are filled from anthropometric proportions of ``height``. Use
    :meth:`resolved` to obtain a copy with every segment set; construction validates the result.
    """

    height: float = 1.75
    mass: float = 70.0
    pelvis_width: float | None = None
    torso: float | None = None
    neck_head: float | None = None
    upper_arm: float | None = None
    forearm: float | None = None
    thigh: float | None = None
    shank: float | None = None
    foot: float | None = None

    SEGMENTS: ClassVar[tuple[str, ...]] = tuple(LENGTH_FRACTIONS)

    def __post_init__(self) -> None:
        self._validate()

    # ------------------------------------------------------------------ derived values
    def segment(self, name: str) -> float:
        """Length of segment ``name`` in metres (given or from proportions)."""
        value = getattr(self, name)
        return float(value) if value is not None else LENGTH_FRACTIONS[name] * self.height

    def resolved(self) -> BodyParams:
        """A copy with every segment length filled in."""
        return dataclasses.replace(self, **{s: self.segment(s) for s in self.SEGMENTS})

    @property
    def ankle_height(self) -> float:
        return ANKLE_HEIGHT_FRACTION * self.height

    @property
    def shoulder_width(self) -> float:
        return SHOULDER_WIDTH_FRACTION * self.height

    @property
    def leg_length(self) -> float:
        """Hip joint centre to sole, standing straight."""
        return self.segment("thigh") + self.segment("shank") + self.ankle_height

    def segment_mass(self, name: str) -> float:
        return MASS_FRACTIONS[name] * self.mass

    def as_vector(self) -> np.ndarray:
        """Normalised parameters (1.0 = default adult) for policy observations, shape (10,)."""
        ref = BodyParams()
        values = [self.height / ref.height, self.mass / ref.mass]
        values += [self.segment(s) / ref.segment(s) for s in self.SEGMENTS]
        return np.asarray(values, dtype=np.float32)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in dataclasses.asdict(self.resolved()).items()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> BodyParams:
        data = dict(data or {})
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise BodyParamsError(
                f"unknown body parameter(s) {sorted(unknown)}; known: height, mass, {', '.join(cls.SEGMENTS)}"
            )
        return cls(**{k: (None if v is None else float(v)) for k, v in data.items()})

    @classmethod
    def from_json(cls, text: str) -> BodyParams:
        return cls.from_dict(json.loads(text))

    @classmethod
    def coerce(cls, body: BodyParams | dict[str, Any] | None) -> BodyParams:
        """Accept a BodyParams, a plain mapping (e.g. a Hydra config) or None (default body)."""
        if isinstance(body, cls):
            return body
        if body is None:
            return cls()
        return cls.from_dict(dict(body))

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        def check_range(name: str, value: float, lo: float, hi: float, unit: str) -> None:
            if not np.isfinite(value) or not lo <= value <= hi:
                raise BodyParamsError(f"{name}={value!r} {unit} is outside the allowed range [{lo}, {hi}] {unit}")

        check_range("height", self.height, *HEIGHT_RANGE, "m")
        check_range("mass", self.mass, *MASS_RANGE, "kg")
        bmi = self.mass / self.height**2
        if not BMI_RANGE[0] <= bmi <= BMI_RANGE[1]:
            lo, hi = BMI_RANGE[0] * self.height**2, BMI_RANGE[1] * self.height**2
            raise BodyParamsError(
                f"mass={self.mass} kg for height={self.height} m gives BMI {bmi:.1f}; "
                f"allowed mass range for this height is [{lo:.1f}, {hi:.1f}] kg"
            )
        for name in self.SEGMENTS:
            value = getattr(self, name)
            if value is None:
                continue
            nominal = LENGTH_FRACTIONS[name] * self.height
            lo, hi = nominal * (1 - FRACTION_TOLERANCE), nominal * (1 + FRACTION_TOLERANCE)
            check_range(name, float(value), round(lo, 3), round(hi, 3), "m")
        stature = self.ankle_height + self.segment("shank") + self.segment("thigh")
        stature += self.segment("torso") + self.segment("neck_head")
        if abs(stature - self.height) > STATURE_TOLERANCE * self.height:
            raise BodyParamsError(
                f"segments add up to a stature of {stature:.3f} m (ankle height + shank + thigh + torso + "
                f"neck_head) but height={self.height} m; they must agree within {STATURE_TOLERANCE:.0%}"
            )


RANDOM_BODY_TRIES = 20


def random_body(rng: np.random.Generator, spread: float = 0.1, base: BodyParams | None = None) -> BodyParams:
    """A plausible body around ``base``: height and mass scaled by up to ``spread`` (uniform), and
    each segment scaled by up to ``spread / 2`` independently.

    Every draw stays inside the validated ranges, even around a base body at their edge (e.g. 2.2 m):
    height, mass and segment lengths are clipped into their allowed ranges, and a draw whose segments
    do not add up to the height is redrawn (after :data:`RANDOM_BODY_TRIES` draws the base body's
    proportions are scaled to the drawn height, which is always valid)."""
    base = (base or BodyParams()).resolved()
    height = float(np.clip(base.height * rng.uniform(1 - spread, 1 + spread), *HEIGHT_RANGE))
    mass = base.mass * (height / base.height) ** 2 * rng.uniform(1 - spread, 1 + spread)
    mass_lo, mass_hi = max(MASS_RANGE[0], BMI_RANGE[0] * height**2), min(MASS_RANGE[1], BMI_RANGE[1] * height**2)
    mass = float(np.clip(mass, mass_lo, mass_hi))
    scale = height / base.height
    margin = 1 - 1e-3  # stay clear of the rounding of the range in the validation
    for _ in range(RANDOM_BODY_TRIES):
        segments = {}
        for s in BodyParams.SEGMENTS:
            nominal = LENGTH_FRACTIONS[s] * height
            drawn = base.segment(s) * scale * rng.uniform(1 - spread / 2, 1 + spread / 2)
            segments[s] = float(np.clip(drawn, nominal * (1 - margin * FRACTION_TOLERANCE), nominal * (1 + margin * FRACTION_TOLERANCE)))
        try:
            return BodyParams(height=height, mass=mass, **segments)
        except BodyParamsError:
            continue
    return BodyParams(height=height, mass=mass, **{s: base.segment(s) * scale for s in BodyParams.SEGMENTS})
