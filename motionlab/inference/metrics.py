"""Gait metrics of a simulated run, each next to the range typical for human running.

Foot strikes and toe-offs come from the recorded vertical ground reaction force (``Rollout.foot_contact``);
off-ground gaps shorter than :data:`MIN_SWING_S` are treated as a bouncing foot, not a new step. Only
the part of a run before a fall is analysed (for a run restarted after falls, its longest stretch between
restarts). A metric that a clip is too short for is ``None`` with a
``reason``; nothing here raises on short or odd input.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from motionlab.inference.rollout import Rollout

G = 9.81
MIN_SWING_S = 0.1  # a swing phase lasts ~0.4-0.5 s in running; shorter off-ground gaps are bounces
MIN_DISTANCE_M = 0.5  # cost of transport needs at least this much forward travel


@dataclass(frozen=True)
class MetricSpec:
    """How a metric is shown: label, unit and the typical range for recreational running at 3-4 m/s."""

    label: str
    unit: str
    range: tuple[float, float]


METRICS: dict[str, MetricSpec] = {
    # Recreational / training running speeds (easy running to ~4:00 min/km).
    "speed": MetricSpec("Mean speed", "m/s", (2.5, 4.5)),
    # 150-190 steps/min for recreational runners at 3-4 m/s (Cavanagh & Kram 1989, MSSE 21:467;
    # Heiderscheit et al. 2011, MSSE 43:296 report a mean ~170 spm).
    "cadence": MetricSpec("Cadence", "steps/min", (150.0, 190.0)),
    # Stride (two steps) ~2-3 m at 3-4 m/s (Cavanagh & Kram 1989; Dorn et al. 2012, JEB 215:1944).
    "stride_length": MetricSpec("Stride length", "m", (2.0, 3.0)),
    # 200-300 ms at 3-4 m/s (Nummela et al. 2007, EJAP 101:297; Di Michele & Merni 2014, J Sports Sci).
    "contact_time": MetricSpec("Ground contact time", "ms", (200.0, 300.0)),
    # Contact / stride time: 0.30-0.45 in running, < 0.5 by definition (Alexander 1989, Physiol Rev 69:1199;
    # van Oeveren et al. 2021, Sports Biomech).
    "duty_factor": MetricSpec("Duty factor", "", (0.30, 0.45)),
    # Both feet off the ground 50-150 ms per step at 3-4 m/s (step time ~330-400 ms minus contact).
    "flight_time": MetricSpec("Flight time", "ms", (50.0, 150.0)),
    # Positive mechanical work per kg and metre: ~1-2 J/(kg m) (Cavagna & Kaneko 1977, J Physiol 268:467),
    # against a metabolic cost of ~4 J/(kg m) (Margaria et al. 1963).
    "cost_of_transport": MetricSpec("Mechanical cost of transport", "J/(kg m)", (1.0, 2.0)),
    # Active peak 2.0-3.0 body weights at 3-5 m/s (Cavanagh & Lafortune 1980, J Biomech 13:397;
    # Munro et al. 1987, J Biomech 20:147).
    "peak_vgrf": MetricSpec("Peak vertical GRF", "BW", (2.0, 3.0)),
    # Not a human range: the error band physics-based motion tracking reaches (e.g. Luo et al. 2021, UHC).
    "tracking_error": MetricSpec("Tracking error (MPJPE)", "mm", (0.0, 50.0)),
    # Not a human range: the non-physical residual root force of residual force control (Yuan & Kitani
    # 2020), 0 for fully physical motion; a few per cent of body weight is a small correction.
    "residual_force": MetricSpec("Residual root force", "% BW", (0.0, 5.0)),
}


def contact_runs(contact: np.ndarray, min_gap: int = 0) -> list[tuple[int, int]]:
    """``[start, end)`` index runs where ``contact`` (T,) is True; gaps of at most ``min_gap`` samples
    inside a run are closed first."""
    c = np.asarray(contact, dtype=bool)
    edges = np.flatnonzero(np.diff(np.r_[0, c.astype(np.int8), 0]))
    runs = list(zip(edges[::2], edges[1::2]))
    merged: list[list[int]] = []
    for start, end in runs:
        if merged and start - merged[-1][1] <= min_gap:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(int(s), int(e)) for s, e in merged]


@dataclass(frozen=True)
class GaitEvents:
    """Stances per foot (``[start, end)`` sample runs, bounces merged), strikes and flights."""

    stances: tuple[list[tuple[int, int]], list[tuple[int, int]]]
    strike_times: np.ndarray  # sorted, both feet; only strikes seen inside the clip (start > 0)
    flights: list[tuple[int, int]]  # runs with neither foot down


def gait_events(rollout: Rollout) -> GaitEvents:
    """Foot strikes, stances and flight phases of ``rollout``."""
    gap = int(np.floor(MIN_SWING_S / rollout.dt - 1e-9))
    stances = tuple(contact_runs(rollout.foot_contact[:, k], gap) for k in range(2))
    on_ground = np.zeros(rollout.num_steps, dtype=bool)
    for runs in stances:
        for s, e in runs:
            on_ground[s:e] = True
    strikes = sorted(rollout.times[s] for runs in stances for s, _ in runs if s > 0)
    return GaitEvents(stances=stances, strike_times=np.array(strikes), flights=contact_runs(~on_ground))


def _longest_clean_segment(r: Rollout) -> Rollout:
    """The part of the run that gait analysis may use: before the first fall when the run was not
    restarted, else the longest stretch between restarts (a fall's last sample belongs to it)."""
    if r.restart_times:
        bounds = [r.times[0] - 1e-9, *r.restart_times, r.times[-1] + 1e-9]
        lo, hi = max(zip(bounds[:-1], bounds[1:]), key=lambda b: b[1] - b[0])
        keep = (r.times > lo) & (r.times <= hi)
    elif r.fall_time is not None:
        keep = r.times < r.fall_time
    else:
        return r
    per_step = ("times", "qpos", "qvel", "actuator_force", "foot_contact", "foot_grf")
    return dataclasses.replace(
        r,
        **{k: getattr(r, k)[keep] for k in per_step},
        mpjpe=r.mpjpe[keep] if r.mpjpe is not None else None,
        residual_force_bw=r.residual_force_bw[keep] if r.residual_force_bw is not None else None,
        reward_terms={k: v[keep] for k, v in r.reward_terms.items()},
        restart_times=[],
        fall_time=None,
    )


def _metric(name: str, value: float | None, reason: str | None = None) -> dict[str, Any]:
    spec = METRICS[name]
    lo, hi = spec.range
    ok = None if value is None else bool(lo <= value <= hi)
    return {
        "label": spec.label,
        "value": None if value is None else float(value),
        "unit": spec.unit,
        "range": [lo, hi],
        "ok": ok,
        "reason": reason if value is None else None,
    }


def gait_metrics(rollout: Rollout) -> dict[str, dict[str, Any]]:
    """Every metric of :data:`METRICS` as ``{label, value, unit, range, ok, reason}``; ``value`` and ``ok``
    are None (with a ``reason``) where the clip does not allow the computation."""
    r = _longest_clean_segment(rollout)
    out: dict[str, tuple[float | None, str | None]] = {}
    n = r.num_steps
    duration = r.duration
    distance = float(np.linalg.norm(r.qpos[-1, :2] - r.qpos[0, :2])) if n else 0.0
    speed = distance / duration if duration > 0 else None
    out["speed"] = (speed, None if speed is not None else "fewer than two samples before the end or a fall")

    ev = gait_events(r) if n else GaitEvents(([], []), np.array([]), [])
    step_time = float(np.mean(np.diff(ev.strike_times))) if len(ev.strike_times) >= 2 else None
    no_steps = f"fewer than two foot strikes in {duration:.2f} s"
    out["cadence"] = (60.0 / step_time, None) if step_time else (None, no_steps)
    if step_time and speed is not None:
        out["stride_length"] = (2.0 * step_time * speed, None)
    else:
        out["stride_length"] = (None, no_steps)

    complete = [(k, s, e) for k in range(2) for s, e in ev.stances[k] if s > 0 and e < n]
    contact = float(np.mean([(e - s) * r.dt for _, s, e in complete])) if complete else None
    no_stance = "no complete stance (strike and toe-off) inside the clip"
    out["contact_time"] = (contact * 1000.0, None) if contact else (None, no_stance)
    if contact and step_time:
        out["duty_factor"] = (contact / (2.0 * step_time), None)
    else:
        out["duty_factor"] = (None, no_stance if not contact else no_steps)
    flights = [(e - s) * r.dt for s, e in ev.flights if s > 0 and e < n]
    if flights:
        out["flight_time"] = (float(np.mean(flights)) * 1000.0, None)
    elif complete and step_time:
        out["flight_time"] = (0.0, None)  # steps without an airborne phase: walking-like
    else:
        out["flight_time"] = (None, "no complete step inside the clip")

    if distance >= MIN_DISTANCE_M:
        power = np.clip(r.actuator_force * r.qvel[:, 6:], 0.0, None).sum(axis=1)
        out["cost_of_transport"] = (float(power.sum() * r.dt) / (r.body.mass * distance), None)
    else:
        out["cost_of_transport"] = (None, f"travelled {distance:.2f} m, less than {MIN_DISTANCE_M} m")

    weight = r.body.mass * G
    peaks = [r.foot_grf[s:e, k].max() / weight for k, s, e in complete]
    out["peak_vgrf"] = (float(np.mean(peaks)), None) if peaks else (None, no_stance)

    if r.mpjpe is not None and len(r.mpjpe):
        out["tracking_error"] = (float(np.mean(r.mpjpe)) * 1000.0, None)
    else:
        out["tracking_error"] = (None, "no reference to track (an Ideal-v0 run)")
    if r.residual_force_bw is not None and len(r.residual_force_bw):
        out["residual_force"] = (float(np.mean(r.residual_force_bw)) * 100.0, None)
    else:
        out["residual_force"] = (0.0, None)  # Ideal-v0 applies no external force: fully physical
    return {name: _metric(name, *out[name]) for name in METRICS}


def live_gait(rollout: Rollout, window_s: float = 2.0) -> dict[str, np.ndarray]:
    """Per-sample ``speed`` (m/s, mean horizontal pelvis speed over the last second) and ``cadence``
    (steps/min from the strikes of the last ``window_s``; NaN until two strikes are in the window)."""
    r = rollout
    speed_now = np.linalg.norm(r.qvel[:, :2], axis=1)
    k = max(int(round(1.0 / r.dt)), 1)
    csum = np.r_[0.0, np.cumsum(speed_now)]
    idx = np.arange(r.num_steps)
    lo = np.maximum(idx + 1 - k, 0)
    speed = (csum[idx + 1] - csum[lo]) / (idx + 1 - lo)
    strikes = gait_events(r).strike_times
    cadence = np.full(r.num_steps, np.nan)
    for i, t in enumerate(r.times):
        recent = strikes[(strikes > t - window_s) & (strikes <= t)]
        if len(recent) >= 2:
            cadence[i] = 60.0 * (len(recent) - 1) / (recent[-1] - recent[0])
    return {"speed": speed, "cadence": cadence}
