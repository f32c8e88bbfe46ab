"""Coaching cues: the few largest, reliable differences between how you ran and the Ideal run, in plain words.

A difference counts when both figures are measured, physiologically plausible and not of low confidence,
the Ideal's figure is inside the typical human range (an Ideal outside it, e.g. 110 steps/min while
jogging, is no model to follow), and it is at least one "meaningful step" (:data:`STEPS`: about what a runner can feel and a coach would
change) apart; cues are ranked by the difference in steps. Your own motion (You) is compared when it is
reliable, else the Closest run; a column whose cadence is implausible (its timing is off) gives no cue,
nor one that walks where the Ideal runs (or the other way round). What is timed by or read at the foot
events (:data:`READ_AT_CONTACT`) is compared only between columns whose events are of one kind: You's are
kinematic, the simulated runs' come from their ground force, so those cues come from the Closest run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# metric -> (meaningful step, cue(you, ideal) -> text: "<what>: <advice>", the advice empty when there is none)
STEPS: dict[str, tuple[float, Callable[[float, float], str]]] = {
    "cadence": (6.0, lambda y, i: f"cadence {y:.0f} → {i:.0f} steps/min: "
                + ("shorter, quicker steps" if i > y else "longer, more relaxed steps")),
    "overstride": (4.0, lambda y, i: f"your foot lands {y:.0f} cm ahead of your centre of mass (Ideal {i:.0f} cm): "
                   + ("land closer under your hips" if y > i else "you may reach a little further")),
    "vertical_oscillation": (1.5, lambda y, i: f"you bounce {y:.1f} cm per step (Ideal {i:.1f} cm): "
                             + ("push forward, not up" if y > i else "a little more spring in each step")),
    "knee_flexion_contact": (5.0, lambda y, i: f"knee bent {y:.0f}° at landing (Ideal {i:.0f}°): "
                             + ("land with a softer knee" if i > y else "land with a straighter leg")),
    "knee_flexion_midstance": (6.0, lambda y, i: f"knee bends to {y:.0f}° under load (Ideal {i:.0f}°): "
                               + ("let the knee absorb more" if i > y else "stiffer leg, less sinking")),
    "trunk_lean": (3.0, lambda y, i: f"trunk lean {y:.0f}° (Ideal {i:.0f}°): "
                   + ("lean a little more forward from the ankles" if i > y else "run taller")),
    "foot_strike_angle": (6.0, lambda y, i: f"foot meets the ground at {y:.0f}° ({strike_pattern(y)}; Ideal {i:.0f}°, "
                          f"{strike_pattern(i)})"),
    "pelvic_drop": (2.0, lambda y, i: f"hip drops {y:.0f}° on each landing (Ideal {i:.0f}°): "
                    + ("keep the pelvis level: hip-abductor strength" if y > i else "")),
    "contact_time_left": (25.0, lambda y, i: f"left foot on the ground {y:.0f} ms (Ideal {i:.0f} ms): "
                          + ("quicker off the ground" if y > i else "")),
    "contact_time_right": (25.0, lambda y, i: f"right foot on the ground {y:.0f} ms (Ideal {i:.0f} ms): "
                           + ("quicker off the ground" if y > i else "")),
    "arm_swing": (15.0, lambda y, i: f"arm swing {y:.0f}° (Ideal {i:.0f}°): "
                  + ("swing the arms more" if i > y else "relax the arms, smaller swing")),
}  # fmt: skip


# Figures timed by, or read at, the foot events: a kinematic (You) and a force-plate (simulated) reading of
# the same run differ (the kinematic rule read simulated contacts 29-65 ms long, overstride ~4 cm longer),
# so these are only compared between columns whose events are of one kind
READ_AT_CONTACT = {"contact_time_left", "contact_time_right", "overstride", "knee_flexion_contact", "foot_strike_angle"}


def _events(m: dict[str, Any]) -> str | None:
    return m.get("confidence", {}).get("evidence", {}).get("foot_events")


def strike_pattern(angle_deg: float) -> str:
    """Foot-strike pattern from the foot-strike angle (Altman & Davis 2012, Gait Posture 35:298)."""
    return "rearfoot" if angle_deg > 8.0 else "midfoot" if angle_deg >= -1.6 else "forefoot"


def _usable(m: dict[str, Any] | None) -> bool:
    return bool(m) and m["value"] is not None and m["status"] != "implausible" and m["confidence"]["level"] != "low"


def coaching_cues(columns: dict[str, dict[str, dict[str, Any]]], limit: int = 3) -> list[dict[str, Any]]:
    """Up to ``limit`` cues ``{metric, text, compared, you, ideal, steps}``, largest difference first."""
    cues = []
    for name, (step, say) in STEPS.items():
        ideal = columns["ideal"].get(name)
        if not _usable(ideal) or ideal["status"] == "atypical":
            continue
        for who in ("you", "closest"):
            mine = columns.get(who, {}).get(name)
            if columns.get(who, {}).get("cadence", {}).get("status") == "implausible":
                continue  # its timing is off (slow or fast motion?): none of its figures can coach
            if _usable(mine) and mine.get("gait") != ideal.get("gait"):
                break  # a walk is not coached towards a run (nor a run towards a walk)
            if _usable(mine) and name in READ_AT_CONTACT and _events(mine) != _events(ideal):
                continue  # kinematic against force-plate events: not like with like (the Closest run may be)
            if _usable(mine):
                diff = abs(mine["value"] - ideal["value"]) / step
                said = say(mine["value"], ideal["value"])
                if diff >= 1.0 and not said.endswith(": "):  # a difference with nothing to advise is no cue
                    text = said if who == "you" else f"(Closest) {said}"
                    cues.append({"metric": name, "text": text, "compared": who, "you": mine["value"],
                                 "ideal": ideal["value"], "steps": round(diff, 2)})  # fmt: skip
                break
    return sorted(cues, key=lambda c: -c["steps"])[:limit]
