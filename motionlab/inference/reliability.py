"""How far a result can be trusted: a confidence per column (You, Closest, Ideal) and one verdict for the
whole run, with the likely cause of each problem and what to do about it.

The verdict is ``reliable``, ``use with care`` (warnings) or ``unreliable`` (problems); it heads the
console output, the JSON, the PNG and the video.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from motionlab.inference.metrics import Confidence, contact_runs, lowest
from motionlab.inference.rollout import DIVERGED, FALL, LOST, Rollout

RESTARTS_PER_S_PROBLEM = 0.2  # the tracker restarting more often than every 5 s: it could not follow
SMALL_PERSON_PX = 250  # MediaPipe's landmarks get coarse below this person height
OUT_OF_VIEW_MIN_S = 0.1  # shorter gaps are single dropped detections
SLOW_MOTION_CADENCE = 120.0  # steps/min: nobody runs (with flight phases) this slowly
LOW_VISIBILITY = 0.6
HIGH_REPROJECTION = 0.05  # of the person's height in the image


@dataclass(frozen=True)
class Finding:
    """One thing that limits the result: ``severity`` (``problem``, ``warning`` or ``note``), what was
    seen, its likely cause and what to do."""

    severity: str
    what: str
    cause: str = ""
    action: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "what": self.what, "cause": self.cause, "action": self.action}

    def line(self) -> str:
        parts = [self.what] + ([f"likely cause: {self.cause}"] if self.cause else []) + ([self.action] if self.action else [])
        return " — ".join(parts)


@dataclass
class Evidence:
    """What the verdict is based on. ``detected``: (T,) frames of the input with a usable pose at
    ``fps``; ``person_px``: median person height in the image; ``camera_motion_known``: False when the
    lift assumed a static camera it could not check; ``you_metrics``: the You column."""

    seconds: float
    fps: float
    detected: np.ndarray
    person_px: float | None
    mean_visibility: float | None
    reprojection_px: float | None
    camera_motion_known: bool
    closest: Rollout
    ideal: Rollout
    you_metrics: dict[str, dict[str, Any]]
    video_seconds: float | None = None  # the input's full length when it was cut to ``seconds``
    extra_findings: list[Finding] = field(default_factory=list)
    speed_confidence: Confidence | None = None  # of the speed over ground (None: given, or not measured)


def out_of_view_spans(detected: np.ndarray, fps: float, start_s: float = 0.0) -> list[tuple[float, float]]:
    """``(start, end)`` seconds of the runs of frames without a usable pose, at least :data:`OUT_OF_VIEW_MIN_S` long."""
    spans = [(start_s + s / fps, start_s + e / fps) for s, e in contact_runs(~np.asarray(detected, bool))]
    return [(a, b) for a, b in spans if b - a >= OUT_OF_VIEW_MIN_S]


def restart_summary(run: Rollout, until: float | None = None) -> str:
    """``"9 restarts (7 falls, 2 lost the reference)"``, counting those up to time ``until`` if given."""
    kinds = run.restart_kinds if len(run.restart_kinds) == len(run.restart_times) else [FALL] * len(run.restart_times)
    if until is not None:
        kinds = [k for k, t in zip(kinds, run.restart_times) if t <= until]
    counts = {k: kinds.count(k) for k in (FALL, LOST, DIVERGED) if k in kinds}
    words = {FALL: ("fall", "falls"), LOST: ("lost the reference", "lost the reference"), DIVERGED: ("simulation diverged", "simulation diverged")}
    parts = ", ".join(f"{n} {words[k][n > 1]}" for k, n in counts.items())
    n = len(kinds)
    return f"{n} restart{'s' * (n != 1)}" + (f" ({parts})" if parts else "")


def you_confidence(ev: Evidence) -> Confidence:
    """Keypoint visibility, lift reprojection error (relative to the person's size) and invented frames."""
    rel = ev.reprojection_px / ev.person_px if ev.reprojection_px is not None and ev.person_px else None
    invented = float(1.0 - np.mean(ev.detected)) if len(ev.detected) else 1.0
    evidence = {
        "mean_visibility": _round(ev.mean_visibility),
        "lift_reprojection_px": _round(ev.reprojection_px),
        "lift_reprojection_pct_of_height": _round(None if rel is None else 100 * rel),
        "frames_without_pose_pct": round(100 * invented, 1),
        "frames_without_pose_in_metrics": 0,
    }
    notes, level = [], "high"
    if ev.mean_visibility is not None and ev.mean_visibility < LOW_VISIBILITY:
        level, notes = "low", [*notes, f"keypoint visibility {ev.mean_visibility:.2f}"]
    if rel is not None and rel > HIGH_REPROJECTION:
        level, notes = "low", [*notes, f"lift error {100 * rel:.1f} % of body height"]
    elif rel is not None and rel > HIGH_REPROJECTION / 2:
        level, notes = lowest(level, "medium"), [*notes, f"lift error {100 * rel:.1f} % of body height"]
    if invented > 0.3:
        level, notes = lowest(level, "medium"), [*notes, f"{100 * invented:.0f} % of frames without a pose (excluded)"]
    return Confidence(level, evidence, tuple(notes))


def run_confidence(run: Rollout, seconds: float, follows: Confidence | None = None) -> Confidence:
    """A simulated run: restarts per second, tracking error; Closest also inherits You's confidence."""
    rate = len(run.restart_times) / max(seconds, 1e-6)
    mpjpe = float(np.mean(run.mpjpe)) * 1000 if run.mpjpe is not None else None
    evidence = {"restarts": len(run.restart_times), "restarts_per_s": round(rate, 3), "restart_kinds": list(run.restart_kinds)}
    if mpjpe is not None:
        evidence["tracking_error_mm"] = round(mpjpe, 1)
    level, notes = "high", []
    if rate > RESTARTS_PER_S_PROBLEM or (mpjpe is not None and mpjpe > 150):
        level, notes = "low", [restart_summary(run)] + ([f"tracking error {mpjpe:.0f} mm"] if mpjpe is not None else [])
    elif run.restart_times or (mpjpe is not None and mpjpe > 80):
        level, notes = "medium", [restart_summary(run)] + ([f"tracking error {mpjpe:.0f} mm"] if mpjpe is not None else [])
    if follows is not None:
        evidence["input"] = follows.level
        if lowest(level, follows.level) != level:
            level, notes = follows.level, [*notes, f"follows a {follows.level}-confidence input"]
    return Confidence(level, evidence, tuple(notes))


def verdict(ev: Evidence) -> dict[str, Any]:
    """``{level, headline, findings}`` (see the module docstring)."""
    findings = _input_findings(ev) + _run_findings(ev) + list(ev.extra_findings)
    order = {"problem": 0, "warning": 1, "note": 2}
    findings.sort(key=lambda f: order[f.severity])
    severities = {f.severity for f in findings}
    level = "unreliable" if "problem" in severities else "use with care" if "warning" in severities else "reliable"
    serious = [f for f in findings if f.severity != "note"]
    headline = f"{level.upper()}: " + (serious[0].what if serious else "the keypoints, lift and both runners held up")
    return {"level": level, "headline": headline, "findings": [f.to_dict() for f in findings]}


def _input_findings(ev: Evidence) -> list[Finding]:
    out = []
    spans = out_of_view_spans(ev.detected, ev.fps)
    if spans:
        gone = sum(b - a for a, b in spans)
        share = gone / max(ev.seconds, 1e-6)
        where = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in spans[:4]) + (" …" if len(spans) > 4 else "")
        out.append(Finding(
            "problem" if share > 0.3 else "warning",
            f"person out of view {where} ({100 * share:.0f} % of the clip): not analysed",
            "the runner left the frame or was hidden",
            "keep the whole runner in frame; --roi x,y,w,h if someone else was followed",
        ))  # fmt: skip
    if ev.person_px is not None and ev.person_px < SMALL_PERSON_PX:
        out.append(Finding("warning", f"runner small in the frame (~{ev.person_px:.0f} px tall)",
                           "MediaPipe's landmarks are coarse on small people",
                           "film closer, or give --roi x,y,w,h around the runner"))  # fmt: skip
    if ev.mean_visibility is not None and ev.mean_visibility < LOW_VISIBILITY:
        out.append(Finding("warning", f"keypoints poorly visible (mean visibility {ev.mean_visibility:.2f})",
                           "occlusion, blur or low light", "film in good light with the whole body in view"))  # fmt: skip
    if ev.reprojection_px is not None and ev.person_px and ev.reprojection_px / ev.person_px > HIGH_REPROJECTION:
        out.append(Finding("warning", f"the 3D fit misses the 2D pose by {ev.reprojection_px:.0f} px on average",
                           "wrong body size or a moving/tilted camera", "give --height/--mass, or --camera-speed"))  # fmt: skip
    if not ev.camera_motion_known:
        out.append(Finding("warning", "camera motion unknown: speed and stride length not measured",
                           "a camera that pans or follows the runner cannot be told from a static one here",
                           "pass --camera-speed M/S for a tracking shot or treadmill (0 for a tripod)"))  # fmt: skip
    cadence = ev.you_metrics.get("cadence", {})
    flight = ev.you_metrics.get("flight_time", {}).get("value")
    if cadence.get("value") is not None and cadence["value"] < SLOW_MOTION_CADENCE and flight:
        out.append(Finding("problem", f"slow motion suspected: {cadence['value']:.0f} steps/min with flight phases",
                           "a running gait this slow is not humanly possible: the video plays slower than real time",
                           "export the clip at real speed (or at its capture frame rate) and run again"))  # fmt: skip
    elif cadence.get("status") == "implausible":
        out.append(Finding("problem", f"cadence {cadence['value']:.0f} steps/min is outside what a human produces",
                           "slow or fast motion, or steps mis-detected", "check the frame rate of the video"))  # fmt: skip
    speed = ev.you_metrics.get("speed", {})
    if speed.get("status") == "implausible":
        out.append(Finding("warning", f"your speed could not be measured: {speed['value']:.1f} m/s, {speed['reason']}",
                           "the camera's own motion was misread (e.g. a low camera looking up at a grazing view "
                           "of the ground), so speed, stride and step length are not shown as figures",
                           "pass --camera-speed M/S for a tracking shot (0 for a tripod)"))  # fmt: skip
    out += _speed_findings(ev, speed)
    mismatch = cadence.get("confidence", {}).get("evidence", {}).get("events_vs_bounce_spm")
    if mismatch:
        out.append(Finding("warning", f"your steps could not be timed: the feet give {mismatch[0]:.0f} steps/min, "
                           f"the body's bounce {mismatch[1]:.0f}",
                           "the pose model misplaced the legs (they look alike from the side, or cross)",
                           "film with the legs clearly apart (a 30-45 deg angle from the side, good light); "
                           "your step timing, contact times and landing figures are low confidence"))  # fmt: skip
    strides = cadence.get("n_strides", 0)
    if cadence.get("value") is None and cadence.get("status") == "not enough data":
        out.append(Finding("problem", f"not enough running to measure: {strides} full stride(s) of your own motion",
                           "a short clip or long gaps in the detection", "film at least 4 s of steady running"))  # fmt: skip
    if ev.video_seconds is not None and ev.video_seconds > ev.seconds + 0.05:
        out.append(Finding("note", f"analysed the first {ev.seconds:.1f} s of a {ev.video_seconds:.1f} s video",
                           "", f"--seconds {np.ceil(ev.video_seconds):.0f} analyses all of it (slower)"))  # fmt: skip
    return out


def _speed_findings(ev: Evidence, speed: dict[str, Any]) -> list[Finding]:
    """The speed over ground measured but uncertain (its own confidence, not the column's): low -> a
    warning, medium -> a note; nothing when it is already shown as implausible. Said even when too few
    strides give the figure: the speed the lift read over the whole clip is then named."""
    conf = ev.speed_confidence
    if conf is None or conf.level == "high" or speed.get("status") == "implausible":
        return []
    value, interval = speed.get("value"), speed.get("interval")
    if value is None:
        value, interval = conf.evidence.get("speed_mps"), conf.evidence.get("interval_mps")
    if value is None:
        return []
    if interval:
        what = f"your speed is {conf.level} confidence: {value:.1f} m/s, likely {interval[0]:.1f}–{interval[1]:.1f} m/s"
    else:
        what = f"your speed could not be measured reliably: read as {value:.1f} m/s, not trusted"
    cause = "; ".join(conf.notes) or "the camera's own motion could not be read consistently"
    action = "pass --camera-speed M/S for a tracking shot (0 for a tripod) to measure it exactly"
    return [Finding("warning" if conf.level == "low" else "note", what + " (stride and step length with it)", cause, action)]


def _run_findings(ev: Evidence) -> list[Finding]:
    out = []
    c = ev.closest
    if c.restart_times:
        rate = len(c.restart_times) / max(ev.seconds, 1e-6)
        small = ev.person_px is not None and ev.person_px < SMALL_PERSON_PX
        if DIVERGED in c.restart_kinds:
            cause, action = "the simulation became numerically unstable", "report it with the video; figures exclude those moments"
        elif small:
            cause, action = f"the runner is small in the frame (~{ev.person_px:.0f} px)", "try --roi x,y,w,h around the runner"
        elif not ev.camera_motion_known:
            cause, action = "the lift guessed the camera; a moving camera bends the 3D motion", "pass --camera-speed if the camera moved"
        else:
            cause, action = "a motion unlike what the tracker was trained on, or a poor 3D fit", "check the 2D pose in the video; try --roi"
        out.append(Finding(
            "problem" if rate > RESTARTS_PER_S_PROBLEM else "warning",
            f"Closest could not follow all of this video: {restart_summary(c)} in {ev.seconds:.1f} s",
            cause, action,
        ))  # fmt: skip
    if ev.ideal.restart_times:
        out.append(Finding("warning", f"Ideal runner: {restart_summary(ev.ideal)} in {ev.seconds:.1f} s",
                           "the ideal policy is not robust on this body and speed", "read the Ideal figures with care"))  # fmt: skip
    return out


def _round(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)
