"""Gait metrics of one motion (You: the lifted kinematics; Closest and Ideal: simulated runs), stride by stride.

Any motion is a :class:`GaitInput`: a ``qpos`` trajectory on a body, the frames that may be analysed
(``valid``: seen in the video, between restarts) and, for simulated runs, the measured foot contact
(:func:`force_contact`: the simulated vertical ground reaction force above
:data:`~motionlab.step_physics.CONTACT_THRESHOLD_BW`, the events placed to the 5 ms physics step).
Without measured contact (You: the lifted motion has no forces) a foot is on the ground while its sole is
within :data:`CONTACT_HEIGHT_M` of the lowest it gets nearby and it is planted: moving over the ground at
under :data:`PLANTED_FRACTION` of the body's speed (:func:`kinematic_contact`). Each column's
confidence evidence says which (``foot_events``). A stride with both feet down at once and no flight is a walk's: its flight time is not a figure
(a walk has none) and its double support is; a run's double support likewise.

Only **full strides** count: from one foot's initial contact to its next, with one contact of the other
foot in between, all inside one stretch of usable frames; left and right strides are both counted (they
overlap by half), so :data:`MIN_STRIDES` = 3 means at least two of one foot. Each metric is the median over those strides,
and carries its window (which strides, how many seconds), the number of strides it rests on and the
column's confidence. Fewer than :data:`MIN_STRIDES` full strides gives "not enough data", never a
number. A value outside the physiological bounds is ``implausible`` (flagged, never presented as in
range); inside them it is ``typical`` or ``atypical`` against the published range for recreational
running at 3-4 m/s. A column whose foot events' cadence is more than :data:`BOUNCE_MISMATCH` off the
cadence of its own bounce (:func:`motionlab.gait.bounce_period`, from the centre of mass's height alone) gets
confidence ``low`` with the reason: a pose model that misplaced the feet. Simulated runs' energy and
forces come from every physics step (``Rollout.physics``), never from the frames. Nothing here raises on
short or odd input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from motionlab.body import BodyParams
from motionlab.gait import bounce_period
from motionlab.humanoid import build_model, standing_qpos
from motionlab.inference.rollout import Rollout
from motionlab.keypoints import INDEX
from motionlab.motion import Kinematics, TrajectoryKinematics, pelvis_forward
from motionlab.speed_confidence import speed_interval
from motionlab.step_physics import CONTACT_THRESHOLD_BW, StepPhysics

G = 9.81
MIN_SWING_S = 0.1  # a swing phase lasts ~0.4-0.5 s in running; shorter off-ground gaps are bounces
MIN_STRIDES = 3  # fewer full strides (either foot) than this: "not enough data" (two of one foot at least)
MIN_STRIDES_PER_FOOT = 2  # for the per-foot figures (contact time left / right)
CONTACT_HEIGHT_M = 0.03  # kinematic contact: a foot lands within 3 cm of its local lowest ...
LIFT_OFF_HEIGHT_M = 0.06  # ... and leaves above 6 cm
GROUND_WINDOW_S = 1.0  # ... the lowest over +-1 s ...
PLANTED_FRACTION = 0.5  # ... while its lowest point moves over the ground at under half the body's speed
PLANTED_MIN_MPS = 0.2  # ... (at least this much leeway: standing, or walking on the spot) ...
PLANTED_WINDOW_S = 0.3  # ... the ground's velocity from the feet within +-0.3 s
MIN_PER_FRAME_S = 1.0  # tracking error and residual force: means over at least this much usable motion
MIN_BOUNCE_S = 2.0  # the body's bounce gives a cadence over at least this long a stretch ...
BOUNCE_MISMATCH = 0.05  # ... and foot events whose cadence is more than 5 % off it are not trusted
NOT_ENOUGH = "not enough data"
NOT_MEASURED = "not measured"
WALKING, RUNNING = "walking", "running"


@dataclass(frozen=True)
class MetricSpec:
    """How a metric is shown and judged.

    ``typical``: the range published for recreational running at 3-4 m/s (None: no human range, e.g. a
    simulation quantity); ``walking``: the range published for walking at 1.1-1.6 m/s, against which a
    walking column is judged (None: none, the figure is shown unjudged); ``bounds``: what a human body can
    produce at all (running or walking), outside which a value is an artefact; ``needs_speed``: needs the
    camera's motion to be known."""

    label: str
    unit: str
    typical: tuple[float, float] | None
    bounds: tuple[float, float]
    needs_speed: bool = False
    simulation_only: bool = False
    walking: tuple[float, float] | None = None

    def range_for(self, gait: str | None) -> tuple[float, float] | None:
        """The published range a ``gait`` ("walking", "running"; None: running) is judged against."""
        return self.walking if gait == WALKING else self.typical


METRICS: dict[str, MetricSpec] = {
    # Recreational / training running speeds (easy running to ~4:00 min/km); sprinting tops out ~12 m/s.
    # Walking: comfortable speed 1.27-1.46 m/s at ages 20-59 (Bohannon 1997, Age Ageing 26:15).
    "speed": MetricSpec("Speed", "m/s", (2.5, 4.5), (0.3, 12.0), needs_speed=True, walking=(1.1, 1.6)),
    # 150-190 steps/min at 3-4 m/s (Cavanagh & Kram 1989, MSSE 21:467; Heiderscheit et al. 2011, MSSE
    # 43:296, mean ~170). Slow walking ~80, sprinting ~260 (Weyand et al. 2000, J Appl Physiol 89:1991).
    # Free walking ~100-125 (mean ~113; Perry & Burnfield 2010, Gait Analysis, 2nd ed., ch. 1).
    "cadence": MetricSpec("Cadence", "steps/min", (150.0, 190.0), (60.0, 260.0), walking=(100.0, 125.0)),
    # Stride (two steps) ~2-3 m at 3-4 m/s (Cavanagh & Kram 1989; Dorn et al. 2012, JEB 215:1944).
    # Walking: stride ~1.2-1.6 m (Perry & Burnfield 2010: ~1.4 m at free speed).
    "stride_length": MetricSpec("Stride length", "m", (2.0, 3.0), (0.4, 5.5), needs_speed=True, walking=(1.2, 1.6)),
    "step_length": MetricSpec("Step length", "m", (1.0, 1.5), (0.2, 2.8), needs_speed=True, walking=(0.6, 0.8)),
    # 200-300 ms at 3-4 m/s (Nummela et al. 2007, EJAP 101:297; Di Michele & Merni 2014, J Sports Sci
    # 32:1777); sprinters ~90 ms, slow walking ~900 ms. Walking: stance ~60-62 % of a ~1.0-1.1 s gait
    # cycle, 550-750 ms (Perry & Burnfield 2010).
    "contact_time_left": MetricSpec(
        "Ground contact time, left", "ms", (200.0, 300.0), (70.0, 1200.0), walking=(550.0, 750.0)
    ),
    "contact_time_right": MetricSpec(
        "Ground contact time, right", "ms", (200.0, 300.0), (70.0, 1200.0), walking=(550.0, 750.0)
    ),
    # Both feet off the ground 50-150 ms per step at 3-4 m/s (step time ~330-400 ms minus contact);
    # 0 for walking (shown as "walking", not judged).
    "flight_time": MetricSpec("Flight time", "ms", (50.0, 150.0), (0.0, 300.0)),
    # Both feet on the ground per step: each double stance ~10-12 % of the walking cycle, ~80-150 ms
    # (Perry & Burnfield 2010); 0 for running (shown as "running", not judged).
    "double_support": MetricSpec("Double support", "ms", None, (0.0, 600.0), walking=(80.0, 150.0)),
    # Contact / stride time: 0.30-0.45 in running, < 0.5 by definition, > 0.5 walking (Alexander 1989,
    # Physiol Rev 69:1199; van Oeveren et al. 2021, Sports Biomech).
    "duty_factor": MetricSpec("Duty factor", "", (0.30, 0.45), (0.15, 0.85), walking=(0.58, 0.65)),
    # Centre-of-mass vertical excursion per step: ~6-10 cm at 3-4 m/s (Cavanagh et al. 1977, Ann NY Acad
    # Sci 301:328; Folland et al. 2017, MSSE 49:1412); a walk ~2.5-5 cm (Gard, Miff & Kuo 2004, Hum Mov
    # Sci 22:597).
    "vertical_oscillation": MetricSpec("Vertical oscillation", "cm", (6.0, 10.0), (0.5, 25.0), walking=(2.5, 5.0)),
    # Horizontal distance the landing foot (ankle) is ahead of the centre of mass at initial contact:
    # ~5-15 cm in recreational runners, more with overstriding (Lieberman et al. 2015, JEB 218:3406;
    # Heiderscheit et al. 2011).
    "overstride": MetricSpec("Overstride (foot ahead of COM at contact)", "cm", (5.0, 15.0), (-30.0, 80.0)),
    # Foot angle to the ground at contact relative to standing: > 8 deg rearfoot, -1.6 to 8 midfoot, below
    # that forefoot (Altman & Davis 2012, Gait Posture 35:298); most recreational runners land rearfoot.
    "foot_strike_angle": MetricSpec("Foot-strike angle (toe up +)", "deg", (-1.6, 20.0), (-40.0, 50.0)),
    # Knee flexion ~10-25 deg at initial contact and ~35-50 deg at midstance (peak in stance) (Novacheck
    # 1998, Gait Posture 7:77; Heiderscheit et al. 2011). Walking: ~5 deg at initial contact, ~15-20 deg
    # peak in loading response (Perry & Burnfield 2010).
    "knee_flexion_contact": MetricSpec(
        "Knee flexion at contact", "deg", (10.0, 25.0), (-5.0, 70.0), walking=(0.0, 10.0)
    ),
    "knee_flexion_midstance": MetricSpec(
        "Knee flexion at midstance", "deg", (35.0, 50.0), (5.0, 100.0), walking=(10.0, 25.0)
    ),
    # Forward trunk lean from vertical, mean over the stride: ~2-13 deg (Teng & Powers 2014, MSSE 46:1557;
    # Folland et al. 2017).
    "trunk_lean": MetricSpec("Trunk lean (forward +)", "deg", (2.0, 13.0), (-30.0, 60.0)),
    # Peak contralateral pelvic drop in stance: ~3-7 deg; > 7 deg is associated with injury (Bramah et al.
    # 2018, AJSM 46:3406).
    "pelvic_drop": MetricSpec("Pelvic drop", "deg", (3.0, 7.0), (-5.0, 25.0)),
    # Fore-aft excursion of the upper arm per stride: ~40-80 deg in distance running (Hinrichs 1987,
    # Int J Sport Biomech 3:242).
    "arm_swing": MetricSpec("Arm swing (upper arm)", "deg", (40.0, 80.0), (0.0, 180.0)),
    # Positive mechanical work per kg and metre: ~1-2 J/(kg m) (Cavagna & Kaneko 1977, J Physiol 268:467).
    "cost_of_transport": MetricSpec(
        "Mechanical cost of transport", "J/(kg m)", (1.0, 2.0), (0.1, 20.0), simulation_only=True
    ),
    # Active peak 2.0-3.0 body weights at 3-5 m/s (Cavanagh & Lafortune 1980, J Biomech 13:397).
    "peak_vgrf": MetricSpec("Peak vertical GRF", "BW", (2.0, 3.0), (0.5, 8.0), simulation_only=True),
    # Instantaneous vertical loading rate (largest rise between 5 ms physics steps): ~70-110 BW/s in
    # rearfoot runners at 3-4 m/s (Milner et al. 2006, MSSE 38:323; Davis et al. 2016, BJSM 50:887); the
    # lower end, 40, is our allowance for midfoot and forefoot strikes, which have no impact transient.
    "loading_rate": MetricSpec(
        "Peak vertical loading rate", "BW/s", (40.0, 110.0), (1.0, 2000.0), simulation_only=True
    ),
    # Not a human range: the error band physics-based motion tracking reaches (e.g. Luo et al. 2021, UHC).
    "tracking_error": MetricSpec("Tracking error (MPJPE)", "mm", (0.0, 50.0), (0.0, 1e4), simulation_only=True),
    # Not a human range: the non-physical residual root force of residual force control (Yuan & Kitani
    # 2020), 0 for fully physical motion; a few per cent of body weight is a small correction.
    "residual_force": MetricSpec("Residual root force", "% BW", (0.0, 5.0), (0.0, 1e4), simulation_only=True),
}


@dataclass(frozen=True)
class Confidence:
    """How far a column's figures can be trusted: ``high``, ``medium`` or ``low``, with the evidence."""

    level: str
    evidence: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "evidence": self.evidence, "notes": list(self.notes)}


LEVELS = ("low", "medium", "high")


def lowest(*levels: str) -> str:
    return min(levels, key=LEVELS.index)


@dataclass
class GaitInput:
    """One column to analyse: ``qpos`` (T, 35) at ``times`` (T,) on ``body``; ``valid`` (T,) frames that may
    be analysed; ``breaks`` frame indices where the motion restarts (a new stretch begins); ``contact``
    (:class:`FootContact`, or (T, 2) booleans: left, right) measured foot contact or None (from the kinematics:
    :func:`kinematic_contact`); ``physics`` (T stacked
    control steps) a simulation's actuator work and foot forces over the physics steps that ended at each
    frame (:class:`~motionlab.step_physics.StepPhysics`; None for a video); ``per_frame`` other
    per-frame quantities averaged over the analysed frames (``tracking_error`` mm, ``residual_force`` %
    BW); ``speed_known``: whether positions are in a frame that does not move with the camera;
    ``speed_confidence``: how far the speed over ground can be trusted (its evidence may hold
    ``uncertainty_rel``), which speed, stride and step length (one measurement) then carry."""

    times: np.ndarray
    qpos: np.ndarray
    body: BodyParams
    valid: np.ndarray
    breaks: tuple[int, ...] = ()
    contact: FootContact | np.ndarray | None = None
    physics: StepPhysics | None = None
    per_frame: dict[str, np.ndarray] = field(default_factory=dict)
    speed_known: bool = True
    confidence: Confidence = Confidence("high")
    speed_confidence: Confidence | None = None  # of the speed over ground (:func:`speed_over_ground_confidence`)


def rollout_input(
    r: Rollout,
    valid: np.ndarray | None = None,
    confidence: Confidence = Confidence("high"),
    measured_contact: bool = True,
    speed_confidence: Confidence | None = None,
) -> GaitInput:
    """A simulated run as a :class:`GaitInput`, split at its restarts; ``valid`` (T,) may exclude more
    frames (e.g. where the tracked reference was invented, not seen). Foot contact comes from the run's own
    vertical ground reaction force (:func:`force_contact`): a simulation has the physical truth, and the
    kinematic rule reads its contacts 22-58 ms long (after toe-off a simulated foot drags within 1-2 cm
    of the floor, nearly planted; ``tests/test_step_physics.py``). ``measured_contact=False`` times them
    from the kinematics as for You (:func:`kinematic_contact`; the benchmark scores that rule against the
    forces). Energy and forces come from every physics step (``r.physics``), not from the frames;
    ``speed_confidence``: that of the speed over ground of the reference it tracked (a tracker follows a
    misread speed as faithfully as a right one)."""
    breaks = tuple(int(np.searchsorted(r.times, t, side="right")) for t in r.restart_times)
    per_frame = {}
    if r.mpjpe is not None:
        per_frame["tracking_error"] = r.mpjpe * 1000.0
    per_frame["residual_force"] = (
        r.residual_force_bw * 100.0 if r.residual_force_bw is not None else np.zeros(r.num_steps)
    )
    return GaitInput(
        times=r.times, qpos=r.qpos, body=r.body, valid=np.ones(r.num_steps, bool) if valid is None else valid,
        breaks=breaks, contact=force_contact(r) if measured_contact else None, physics=r.physics,
        per_frame=per_frame, confidence=confidence, speed_confidence=speed_confidence,
    )  # fmt: skip


def force_contact(r: Rollout) -> FootContact:
    """Each foot's contact from the run's simulated vertical ground reaction force: down at a sample while
    its force is above :data:`~motionlab.step_physics.CONTACT_THRESHOLD_BW` (``r.foot_contact``, the usual
    force-plate threshold), each landing and toe-off placed inside its control step by how long the force
    was above the threshold there, physics step by physics step (``r.physics.contact_seconds``): a foot
    that lands is down for the last ``contact_seconds`` of the step, one that leaves for the first. Bounces
    and short touches are merged into their stance where strides are found (:data:`MIN_SWING_S`), as
    :func:`gait_events` does."""
    down = np.asarray(r.foot_contact, bool)
    lead = np.zeros(down.shape)
    if r.physics is None or len(down) < 2:
        return FootContact(down, lead)
    step_s = np.diff(r.times, prepend=r.times[0] - r.dt)[:, None]
    on = np.clip(np.asarray(r.physics.contact_seconds, float), 0.0, step_s)
    changed = np.zeros(down.shape, bool)
    changed[1:] = down[1:] != down[:-1]
    # a landing seen first at sample i: down for the last ``on`` of its step; a toe-off: for the first ``on``
    lead[changed] = np.where(down, on, step_s - on)[changed]
    return FootContact(down, lead)


def contact_runs(contact: np.ndarray, min_gap: int = 0) -> list[tuple[int, int]]:
    """``[start, end)`` index runs where ``contact`` (T,) is True; gaps of at most ``min_gap`` samples
    inside a run are closed first."""
    c = np.asarray(contact, dtype=bool)
    edges = np.flatnonzero(np.diff(np.r_[0, c.astype(np.int8), 0]))
    merged: list[list[int]] = []
    for start, end in zip(edges[::2], edges[1::2]):
        if merged and start - merged[-1][1] <= min_gap:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(int(s), int(e)) for s, e in merged]


def segments(g: GaitInput) -> list[tuple[int, int]]:
    """``[start, end)`` stretches of usable frames: valid, not across a restart."""
    ok = np.asarray(g.valid, bool).copy()
    out = []
    for s, e in contact_runs(ok):
        cuts = [s, *[b for b in g.breaks if s < b < e], e]
        out += [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b - a >= 2]
    return out


@dataclass(frozen=True)
class Stride:
    """One full stride of ``foot`` (0 left, 1 right): initial contact ``start``, toe-off ``toe_off``, next
    initial contact ``end`` (frame indices), the other foot's contact ``other`` in between."""

    foot: int
    start: int
    toe_off: int
    end: int
    other: tuple[int, int]


def find_strides(g: GaitInput, contact: np.ndarray) -> list[Stride]:
    """Every full stride inside one usable stretch (see the module docstring)."""
    dt = float(np.median(np.diff(g.times))) if len(g.times) > 1 else 1.0
    gap = int(np.floor(MIN_SWING_S / dt - 1e-9))
    strides = []
    for s, e in segments(g):
        stances = [
            [(a + s, b + s) for a, b in contact_runs(contact[s:e, k], gap) if a > 0 and b < e - s] for k in range(2)
        ]
        for k in range(2):
            for (a, to), (b, _) in zip(stances[k][:-1], stances[k][1:]):
                others = [st for st in stances[1 - k] if a < st[0] < b]
                if len(others) == 1:
                    strides.append(Stride(k, a, to, b, others[0]))
    return sorted(strides, key=lambda st: st.start)


_SIDE = ("left", "right")


@dataclass(frozen=True)
class _Frames:
    """What the per-stride metrics read from forward kinematics."""

    com: np.ndarray
    forward: np.ndarray  # (T, 2) horizontal unit vector the pelvis faces
    site: Any  # name -> (T, 3)


def _frames(qpos: np.ndarray, body: BodyParams, kin: TrajectoryKinematics) -> _Frames:
    ids = build_model(body).keypoint_site_ids
    names = [
        f"{side}_{part}"
        for side in _SIDE
        for part in ("hip", "shoulder", "knee", "ankle", "heel", "foot_index", "elbow")
    ]
    fwd = pelvis_forward(qpos)[:, :2]
    fwd /= np.maximum(np.linalg.norm(fwd, axis=1, keepdims=True), 1e-9)
    return _Frames(kin.com, fwd, {n: kin.site_xpos[:, ids[INDEX[n]]] for n in names})


@dataclass(frozen=True)
class FootContact:
    """Each foot's contact, frame by frame: ``down`` (T, 2), and ``lead_s`` (T, 2) how long before a
    frame its foot's state changed to that frame's (0 where it did not change, or where the contact was
    measured, not interpolated): the events fall between frames, not on them."""

    down: np.ndarray
    lead_s: np.ndarray


def kinematic_contact(
    times: np.ndarray, foot_soles: np.ndarray, foot_velocity: np.ndarray, planted_fraction: float = PLANTED_FRACTION
) -> FootContact:
    """Contact of each foot from its sole height (T, 2) and ``foot_velocity`` (T, 2): the forward velocity
    of its lowest point relative to the centre of mass (:func:`foot_velocity`); ``planted_fraction``: the
    leeway of "planted" as a fraction of the body's speed (a benchmark measures others).

    A foot is down while it is **low** and **planted**. Low: its sole within :data:`CONTACT_HEIGHT_M` of
    the lowest it gets within :data:`GROUND_WINDOW_S` (a floor estimate that drifts a little does not
    matter) to land, and within :data:`LIFT_OFF_HEIGHT_M` to stay (hysteresis: a fit that lifts a stance
    foot a few cm, or noise, does not make steps). Planted: it moves with the ground, within
    :data:`PLANTED_FRACTION` of the body's speed (at least :data:`PLANTED_MIN_MPS`). The ground's velocity
    relative to the body is read off the feet themselves: the median, within :data:`PLANTED_WINDOW_S`, of
    the low foot moving back the fastest (a planted foot moves back under the body at its speed; a
    swinging or scuffing one moves forward of it). No frame fixed to the ground is needed (a camera that
    follows the runner, a treadmill, a lift that lets the feet skate all give the same events), and a
    runner who slows down or stops changes it within the window. Height alone cannot tell a walk's swing
    (the sole passes 1-5 cm over the floor, never higher than the lift-off height: contacts read 770-870
    ms, or never ended) from its stance; the swinging foot moves forward at 1-3x the body's speed, the
    planted one stays. Each change of state is placed between its two frames where the binding margin
    (height under its limit, or speed under its leeway, each as a fraction) crosses zero, linearly: at
    30 fps an event on the frame after it is 17 ms late on average, the foot 6 cm further under a body
    moving at 3.5 m/s."""
    height = np.empty(foot_soles.shape)
    for i, t in enumerate(times):
        near = np.abs(times - t) <= GROUND_WINDOW_S
        height[i] = foot_soles[i] - foot_soles[near].min(axis=0)
    low = height <= CONTACT_HEIGHT_M
    rearmost = np.where(low, foot_velocity, np.inf).min(axis=1)  # the low foot moving back the fastest
    ground = np.zeros(len(times))  # the ground's forward velocity seen from the body, from the nearby steps
    for i, t in enumerate(times):
        near = rearmost[(np.abs(times - t) <= PLANTED_WINDOW_S) & np.isfinite(rearmost)]
        ground[i] = np.median(near) if len(near) else 0.0
    leeway = np.maximum(planted_fraction * np.abs(ground), PLANTED_MIN_MPS)[:, None]
    planted = 1.0 - np.abs(foot_velocity - ground[:, None]) / leeway  # >= 0: planted
    down = np.zeros(foot_soles.shape, bool)
    lead = np.zeros(foot_soles.shape)
    for k in range(foot_soles.shape[1]):
        for i in range(len(times)):
            limit = LIFT_OFF_HEIGHT_M if i and down[i - 1, k] else CONTACT_HEIGHT_M
            margin = np.minimum(1.0 - height[i - 1 : i + 1, k] / limit, planted[i - 1 : i + 1, k]) if i else None
            down[i, k] = planted[i, k] >= 0 and height[i, k] <= limit
            if i and down[i, k] != down[i - 1, k]:  # the margin crossed zero between the frames: where
                before, now = margin
                lead[i, k] = (times[i] - times[i - 1]) * float(np.clip(now / (now - before), 0.0, 1.0))
    return FootContact(down, lead)


def foot_velocity(times: np.ndarray, f: _Frames) -> np.ndarray:
    """(T, 2) forward velocity (m/s) of each foot's lowest point (heel or toe) relative to the centre of
    mass: about minus the body's speed while the foot is planted, whatever frame the positions are in."""

    def rate(p: np.ndarray) -> np.ndarray:
        return np.gradient(p[:, :2], times, axis=0) if len(times) > 1 else np.zeros((len(times), 2))

    com = rate(f.com)
    out = np.empty((len(times), 2))
    for k, side in enumerate(_SIDE):
        heel, toe = f.site[f"{side}_heel"], f.site[f"{side}_foot_index"]
        lowest = np.where((heel[:, 2] <= toe[:, 2])[:, None], rate(heel), rate(toe))
        out[:, k] = ((lowest - com) * f.forward).sum(axis=1)
    return out


def motion_contact(
    g: GaitInput, kin: TrajectoryKinematics, f: _Frames | None = None, planted_fraction: float = PLANTED_FRACTION
) -> FootContact:
    """Foot contact of ``g``: measured (``g.contact``) or from its kinematics (:func:`kinematic_contact`
    with ``planted_fraction``)."""
    if isinstance(g.contact, FootContact):
        return g.contact
    if g.contact is not None:
        return FootContact(np.asarray(g.contact, bool), np.zeros(np.shape(g.contact)))
    velocity = foot_velocity(g.times, f or _frames(g.qpos, g.body, kin))
    return kinematic_contact(g.times, kin.foot_soles, velocity, planted_fraction)


def _standing_foot_angles(body: BodyParams) -> np.ndarray:
    """(2,) foot angle (deg) of the standing pose: the zero of the foot-strike angle."""
    hm = build_model(body)
    q = standing_qpos(hm)[None]
    f = _frames(q, body, Kinematics(hm).run(q))
    return np.array([_foot_angle(f, side, 0) for side in _SIDE])


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle at ``b`` (deg) of the triangle a-b-c, per frame."""
    u, v = a - b, c - b
    cos = (u * v).sum(-1) / np.maximum(np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _sagittal(v: np.ndarray, forward: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Components of vectors ``v`` (..., 3) along the forward direction and up."""
    return (v[..., :2] * forward).sum(-1), v[..., 2]


def _foot_angle(f: _Frames, side: str, i: np.ndarray | int) -> np.ndarray:
    heel, toe = f.site[f"{side}_heel"][i], f.site[f"{side}_foot_index"][i]
    along, up = _sagittal(toe - heel, f.forward[i])
    return np.degrees(np.arctan2(up, along))


def _knee_flexion(f: _Frames, side: str, i: Any) -> np.ndarray:
    return 180.0 - _angle(f.site[f"{side}_hip"][i], f.site[f"{side}_knee"][i], f.site[f"{side}_ankle"][i])


def per_stride(
    g: GaitInput, strides: list[Stride], contact: FootContact, f: _Frames, standing_foot: np.ndarray
) -> dict[str, list[float]]:
    """Each metric's value per stride (a stride may lack a value, e.g. contact time of a foot). Event
    times and what is read at initial contact fall between frames (``contact.lead_s``); flight and double
    support per step are the stride less both feet's contacts, halved (> 0: flight; < 0: double support)."""
    t = g.times

    def when(i: int, foot: int) -> float:  # the time of the event seen first at frame i
        return float(t[i] - contact.lead_s[i, foot])

    out: dict[str, list[float]] = {name: [] for name in METRICS}
    for st in strides:
        side, other = _SIDE[st.foot], _SIDE[1 - st.foot]
        span = slice(st.start, st.end + 1)
        stride_time = when(st.end, st.foot) - when(st.start, st.foot)
        disp = f.com[st.end, :2] - f.com[st.start, :2]
        length = float(abs(disp @ f.forward[st.start : st.end + 1].mean(0)))
        out["cadence"].append(120.0 / stride_time)
        out["speed"].append(length / (t[st.end] - t[st.start]))
        out["stride_length"].append(length)
        out["step_length"].append(length / 2)
        contact_s = when(st.toe_off, st.foot) - when(st.start, st.foot)
        out[f"contact_time_{side}"].append(1000.0 * contact_s)
        other_s = when(st.other[1], 1 - st.foot) - when(st.other[0], 1 - st.foot)
        gap = (stride_time - contact_s - other_s) / 2
        out["flight_time"].append(1000.0 * max(gap, 0.0))  # per step
        out["double_support"].append(1000.0 * max(-gap, 0.0))
        out["duty_factor"].append(contact_s / stride_time)
        out["vertical_oscillation"].append(100.0 * float(np.ptp(f.com[span, 2])))
        # what is read at initial contact: between the frame before the strike and the strike's frame
        pair = np.array([st.start - 1, st.start])
        w = np.array([1.0, -1.0]) * contact.lead_s[st.start, st.foot] / (t[st.start] - t[st.start - 1]) + [0.0, 1.0]
        ahead = ((f.site[f"{side}_ankle"][pair, :2] - f.com[pair, :2]) * f.forward[pair]).sum(axis=1)
        out["overstride"].append(100.0 * float(w @ ahead))
        out["foot_strike_angle"].append(float(w @ _foot_angle(f, side, pair)) - float(standing_foot[st.foot]))
        out["knee_flexion_contact"].append(float(w @ _knee_flexion(f, side, pair)))
        stance = np.arange(st.start, st.toe_off)
        out["knee_flexion_midstance"].append(float(_knee_flexion(f, side, stance).max()))
        along, up = _sagittal(
            (f.site["left_shoulder"][span] + f.site["right_shoulder"][span]) / 2
            - (f.site["left_hip"][span] + f.site["right_hip"][span]) / 2,
            f.forward[span],
        )
        out["trunk_lean"].append(float(np.degrees(np.arctan2(along, up)).mean()))
        hips = f.site[f"{side}_hip"][stance] - f.site[f"{other}_hip"][stance]
        drop = np.degrees(np.arcsin(np.clip(hips[:, 2] / np.maximum(np.linalg.norm(hips, axis=1), 1e-9), -1, 1)))
        out["pelvic_drop"].append(float(drop.max()))
        swings = []
        for arm in _SIDE:
            along, up = _sagittal(f.site[f"{arm}_elbow"][span] - f.site[f"{arm}_shoulder"][span], f.forward[span])
            swings.append(float(np.ptp(np.degrees(np.arctan2(along, -up)))))
        out["arm_swing"].append(float(np.mean(swings)))
        if g.physics is not None:  # over the physics steps: this foot's stance lies in (t[start - 1], t[end - 1]]
            weight = g.body.mass * G
            out["peak_vgrf"].append(float(g.physics.peak_grf[st.start : st.end, st.foot].max() / weight))
            out["loading_rate"].append(float(g.physics.peak_loading_rate[st.start : st.end, st.foot].max() / weight))
            if length > 0.05:  # work over (t[start], t[end]]: the control steps ending at start + 1 ... end
                work = float(g.physics.positive_work[st.start + 1 : st.end + 1].sum())
                out["cost_of_transport"].append(work / (g.body.mass * length))
    return out


def _status(spec: MetricSpec, value: float, gait: str | None) -> str:
    lo, hi = spec.bounds
    if not lo <= value <= hi:
        return "implausible"
    typical = spec.range_for(gait)
    if typical is None:
        return "n/a"
    return "typical" if typical[0] <= value <= typical[1] else "atypical"


# A figure the gait makes meaningless: shown with this note, never judged against the other gait's range.
NOT_IN_GAIT = {
    ("flight_time", WALKING): "walking: no flight phase",
    ("double_support", RUNNING): "running: no double support",
}


def column_gait(values: dict[str, list[float]]) -> str | None:
    """``walking`` when the strides' median double support exceeds their median flight (both feet down
    together, never both off), ``running`` otherwise; None without strides."""
    if not values["double_support"]:
        return None
    return WALKING if np.median(values["double_support"]) > np.median(values["flight_time"]) else RUNNING


def metric(
    name: str,
    value: float | None,
    reason: str | None,
    window: dict[str, Any],
    confidence: Confidence,
    gait: str | None = None,
) -> dict[str, Any]:
    """One figure as the report stores it (see the module docstring); ``gait`` (walking, running; None:
    unknown, judged as running) picks the published range and marks what the gait makes meaningless."""
    spec = METRICS[name]
    note = NOT_IN_GAIT.get((name, gait))
    if value is None:
        status = NOT_ENOUGH if (reason or NOT_ENOUGH).startswith(NOT_ENOUGH) else NOT_MEASURED
    else:
        status = "n/a" if note and spec.bounds[0] <= value <= spec.bounds[1] else _status(spec, value, gait)
    typical = spec.range_for(gait)
    return {
        "label": spec.label,
        "unit": spec.unit,
        "value": None if value is None else round(float(value), 4),
        "status": status,
        "ok": None if value is None else status == "typical",
        "reason": reason if value is None else ("outside what a human body produces: an artefact" if status == "implausible" else None),
        "range": list(typical) if typical else None,
        "gait": gait,
        "note": note if value is not None else None,
        "bounds": list(spec.bounds),
        "n_strides": window["strides"],
        "window": window,
        "confidence": confidence.to_dict(),
    }  # fmt: skip


def gait_metrics(g: GaitInput | Rollout) -> dict[str, dict[str, Any]]:
    """Every metric of :data:`METRICS` for ``g`` (a :class:`GaitInput`, or a Rollout taken whole)."""
    if isinstance(g, Rollout):
        g = rollout_input(g)
    n = len(g.times)
    kin = Kinematics(build_model(g.body)).run(g.qpos) if n else None
    frames = _frames(g.qpos, g.body, kin) if kin is not None else None
    contact = motion_contact(g, kin, frames) if kin is not None else None
    strides = find_strides(g, contact.down) if n >= 2 else []
    usable = sum(float(g.times[e - 1] - g.times[s]) for s, e in segments(g)) if n else 0.0
    values: dict[str, list[float]] = {name: [] for name in METRICS}
    if strides:
        values = per_stride(g, strides, contact, frames, _standing_foot_angles(g.body))
    gait = column_gait(values)
    spans = _spans([(g.times[st.start], g.times[st.end]) for st in strides])
    window = {
        "strides": len(strides),  # left and right strides (each foot strike to its next), which overlap in time
        "seconds": round(sum(b - a for a, b in spans), 3),  # the time they cover
        "spans_s": spans,
        "usable_seconds": round(usable, 3),
    }
    usable_frames = np.zeros(n, bool)
    for s, e in segments(g) if n else []:
        usable_frames[s:e] = True
    conf = g.confidence
    conf = Confidence(conf.level, {**conf.evidence, "foot_events": foot_events_source(g)}, conf.notes)
    if MIN_STRIDES <= len(strides) < 4 and conf.level == "high":
        conf = Confidence("medium", conf.evidence, (*conf.notes, f"only {len(strides)} strides"))
    mismatch = _events_check(g, kin.com[:, 2], values["cadence"]) if strides else None
    if mismatch:
        evidence = {**conf.evidence, "events_vs_bounce_spm": [round(v, 1) for v in mismatch]}
        conf = Confidence("low", evidence, (*conf.notes, events_mismatch_note(*mismatch)))
    out = {}
    for name, spec in METRICS.items():
        v, win = values[name], dict(window, strides=len(values[name]))
        reason = None
        if name in g.per_frame:  # a per-frame quantity: its mean over every usable frame
            v = [float(g.per_frame[name][usable_frames].mean())] if usable >= MIN_PER_FRAME_S else []
            win = dict(window, spans_s=_spans([(g.times[s], g.times[e - 1]) for s, e in segments(g)]))
            if not v:
                reason = f"{NOT_ENOUGH}: {usable:.1f} s of usable motion, {MIN_PER_FRAME_S:g} s needed"
        if spec.simulation_only and g.physics is None:
            reason = "simulation only: not measurable from a video"
        elif name == "tracking_error" and name not in g.per_frame:
            reason = "no reference to track (an Ideal run)"
        elif spec.needs_speed and not g.speed_known:
            reason = "camera motion unknown: speed not measured"
        elif reason is not None or name in g.per_frame:
            pass
        elif len(strides) < MIN_STRIDES:
            reason = (
                f"{NOT_ENOUGH}: {len(strides)} full stride(s) in {usable:.1f} s of usable motion, {MIN_STRIDES} needed"
            )
        elif len(v) < (MIN_STRIDES_PER_FOOT if name.startswith("contact_time") else MIN_STRIDES):
            reason = f"{NOT_ENOUGH}: {len(v)} stride(s) of this foot"
        value = float(np.median(v)) if reason is None else None
        out[name] = metric(name, value, reason, win, conf, gait)
        if spec.needs_speed and g.speed_confidence is not None:
            out[name] = with_speed_confidence(out[name], g.speed_confidence)
    return _speed_consistent_with_steps(out)


FORCE_EVENTS = (
    f"simulated vertical ground reaction force (over {100 * CONTACT_THRESHOLD_BW:g} % body weight, to the physics step)"
)
KINEMATIC_EVENTS = "kinematics (foot low and planted, between frames)"


def foot_events_source(g: GaitInput) -> str:
    """Where ``g``'s foot events come from, as its figures' evidence says (``foot_events``)."""
    if isinstance(g.contact, FootContact) and g.physics is not None:
        return FORCE_EVENTS
    return "measured foot contact" if g.contact is not None else KINEMATIC_EVENTS


def speed_over_ground_confidence(note: dict[str, Any] | None) -> Confidence | None:
    """The lift's ``speed_confidence`` note (:func:`motionlab.speed_confidence.assess_speed`) as a
    :class:`Confidence`; None without one (the speed was given, or not measured)."""
    if not note:
        return None
    evidence = {k: note.get(k) for k in ("speed_mps", "uncertainty_rel", "interval_mps")}
    reasons = tuple(note.get("reasons") or ())
    if note["level"] != "high" and not reasons:
        reasons = (f"speed over ground uncertain (+-{100 * note.get('uncertainty_rel', 0):.0f} %)",)
    return Confidence(note["level"], evidence, reasons)


def with_speed_confidence(m: dict[str, Any], speed: Confidence) -> dict[str, Any]:
    """A figure made from the speed over ground (speed, stride or step length) with that speed's own
    confidence joined to its column's (the lower level wins, both reasons kept), and its likely interval
    (``interval``: the value +- 2 relative uncertainties; none when the speed's error is no scatter)."""
    column = m["confidence"]
    level = lowest(column["level"], speed.level)
    notes = [*column["notes"], *(speed.notes if speed.level != "high" else ())]
    evidence = {**column["evidence"], "speed_over_ground": speed.evidence}
    out = {**m, "confidence": {"level": level, "evidence": evidence, "notes": notes}}
    rel, interval = speed.evidence.get("uncertainty_rel"), speed.evidence.get("interval_mps")
    if m["value"] is not None and rel is not None and interval is not None:
        out["interval"] = speed_interval(m["value"], rel)
    return out


def _speed_consistent_with_steps(out: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The figures made from the speed over ground (speed, stride and step length) are one measurement
    divided differently: when the steps it implies are beyond a human body (a camera's motion misread), none
    of them is a figure, even where the speed alone would still look possible."""
    from_speed = [name for name, spec in METRICS.items() if spec.needs_speed and out[name]["value"] is not None]
    wrong = [name for name in from_speed if out[name]["status"] == "implausible"]
    if not wrong:
        return out
    step = out.get("step_length", {}).get("value")
    why = (
        f"the speed over ground and the steps disagree ({step:.2f} m steps): an artefact of the speed measurement"
        if step is not None
        else "the speed over ground and the steps disagree: an artefact of the speed measurement"
    )
    for name in from_speed:
        out[name] = {**out[name], "status": "implausible", "ok": False, "reason": why}
    return out


def _events_check(g: GaitInput, com_height: np.ndarray, cadence: list[float]) -> tuple[float, float] | None:
    """``(events, bounce)`` steps/min when the foot events' cadence disagrees with the body's bounce over
    the longest usable stretch (:func:`motionlab.gait.bounce_period` of the centre of mass's height) by more than :data:`BOUNCE_MISMATCH`; None when
    they agree or it cannot tell."""
    stretches = [(s, e) for s, e in segments(g) if g.times[e - 1] - g.times[s] >= MIN_BOUNCE_S]
    if not cadence or not stretches:
        return None
    s, e = max(stretches, key=lambda se: se[1] - se[0])
    period, _ = bounce_period(com_height[s:e], 1.0 / float(np.median(np.diff(g.times[s:e]))))
    events = float(np.median(cadence))
    if period is None or abs(events * period / 60.0 - 1) <= BOUNCE_MISMATCH:
        return None
    return events, 60.0 / period


def events_mismatch_note(events: float, bounce: float) -> str:
    """The confidence note of a column whose foot events disagree with its bounce."""
    return (
        f"foot events give {events:.0f} steps/min but the body bounces at {bounce:.0f}: "
        "the feet were probably misplaced (e.g. the pose model confused the legs)"
    )


def _spans(spans: list[tuple[float, float]]) -> list[list[float]]:
    """Overlapping or touching ``(start, end)`` spans merged, rounded to ms."""
    merged: list[list[float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1e-6:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [[round(float(a), 3), round(float(b), 3)] for a, b in merged]


def gait_events(rollout: Rollout) -> tuple[list[tuple[int, int]], ...]:
    """Stances per foot of a simulated run (``[start, end)`` runs, bounces merged)."""
    gap = int(np.floor(MIN_SWING_S / rollout.dt - 1e-9))
    return tuple(contact_runs(rollout.foot_contact[:, k], gap) for k in range(2))


def live_gait(rollout: Rollout, window_s: float = 2.0) -> dict[str, np.ndarray]:
    """Per-sample ``speed`` (m/s, mean horizontal pelvis speed over the last second) and ``cadence``
    (steps/min from the strikes of the last ``window_s``), NaN where they cannot be trusted: until two
    strikes are in the window, across a restart, or outside the physiological bounds."""
    r = rollout
    speed_now = np.linalg.norm(r.qvel[:, :2], axis=1)
    k = max(int(round(1.0 / r.dt)), 1)
    csum = np.r_[0.0, np.cumsum(speed_now)]
    idx = np.arange(r.num_steps)
    lo = np.maximum(idx + 1 - k, 0)
    speed = (csum[idx + 1] - csum[lo]) / (idx + 1 - lo)
    # both feet landing in one sample (a body dropped at a restart) is one event, not a step of no time
    strikes = np.unique([r.times[s] for runs in gait_events(r) for s, _ in runs if s > 0])
    restarts = np.asarray(r.restart_times)
    cadence = np.full(r.num_steps, np.nan)
    for i, t in enumerate(r.times):
        since = max([t - window_s, *restarts[restarts <= t]])
        recent = strikes[(strikes > since) & (strikes <= t)]
        if len(recent) >= 2:
            cadence[i] = 60.0 * (len(recent) - 1) / (recent[-1] - recent[0])
        if (restarts <= t).any() and t - restarts[restarts <= t].max() < 1.0:
            speed[i] = np.nan
    lo_c, hi_c = METRICS["cadence"].bounds
    cadence[(cadence < lo_c) | (cadence > hi_c)] = np.nan
    speed[speed > METRICS["speed"].bounds[1]] = np.nan
    return {"speed": speed, "cadence": cadence}
