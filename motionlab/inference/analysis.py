"""From the main job's results to what the report says: the three columns (You, Closest, Ideal) with
their confidence, the verdict, coaching cues and the timeline of events.

You is the lifted kinematics on the frames where the video showed a pose; Closest is analysed only where
the reference it tracked was seen (not where the lift invented frames to bridge a gap) and between its
restarts; Ideal between its restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from motionlab.footage import speed_known
from motionlab.ground_plane import MAX_STANCE_SPREAD_M
from motionlab.inference.coaching import coaching_cues, strike_pattern
from motionlab.inference.metrics import GaitInput, gait_metrics, rollout_input, speed_over_ground_confidence
from motionlab.inference.reliability import (
    Evidence,
    Finding,
    out_of_view_spans,
    run_confidence,
    verdict,
    you_confidence,
)
from motionlab.inference.rollout import FALL, Rollout
from motionlab.keypoints import BODY_LANDMARKS
from motionlab.lift import VISIBLE, LiftReport, detected_frames
from motionlab.reference import Reference


@dataclass
class Analysis:
    """Everything the report, the console and the video show about how far to trust the result."""

    columns: dict[str, dict[str, dict[str, Any]]]
    verdict: dict[str, Any]
    cues: list[dict[str, Any]]
    events: dict[str, Any]
    detected: np.ndarray  # (T,) input frames with a usable pose
    camera_motion_known: bool


def camera_motion_known(lifted: Reference, report: LiftReport, camera_speed: float | None) -> bool:
    """Whether the lift knew how the camera moved: given on the command line, carried by the reference
    (e.g. a mocap projection), or flagged by a camera-motion estimate in the lift's or the reference's
    metadata (``source["camera_motion"] = {"known": bool, ...}``, also looked for under ``source["lift"]``)."""
    if camera_speed is not None or report.camera_source in ("argument", "reference"):
        return True
    for where in (lifted.source.get("lift", {}), lifted.source):
        flag = where.get("camera_motion") if isinstance(where, dict) else None
        if isinstance(flag, dict) and "known" in flag:
            return bool(flag["known"])
    return False


def speed_over_ground_known(lifted: Reference, report: LiftReport, camera_speed: float | None) -> bool:
    """Whether the lifted positions give the speed over ground: the camera's motion is known and the
    runner is not on a treadmill whose belt speed nobody gave."""
    return camera_motion_known(lifted, report, camera_speed) and speed_known(report)


def speed_over_ground_trusted(lifted: Reference, report: LiftReport, camera_speed: float | None) -> bool:
    """:func:`speed_over_ground_known`, and not of low confidence (``speed_confidence`` in the lift's notes,
    :mod:`motionlab.speed_confidence`): a speed the job may name as the user's (the Ideal's target, the
    report's ``user_speed_mps``) rather than show only as an uncertain figure."""
    doubtful = (report.notes.get("speed_confidence") or {}).get("level") == "low"
    return speed_over_ground_known(lifted, report, camera_speed) and not doubtful


def person_height_px(ref: Reference, detected: np.ndarray) -> float | None:
    """Median height (px) of the box around the visible landmarks, over the first ``len(detected)`` frames
    where ``detected``; None where no pose model found the keypoints (e.g. the embedded sample, projected
    from motion capture), whose accuracy does not depend on the runner's size in the image."""
    if not detected.any() or "model" not in ref.source:
        return None
    n = len(detected)
    px, vis = ref.keypoints_px()[:n][detected], ref.keypoints2d[:n][detected, :, 2] >= VISIBLE
    y = np.where(vis, px[..., 1], np.nan)
    return float(np.nanmedian(np.nanmax(y, axis=1) - np.nanmin(y, axis=1)))


def _frame_of(times: np.ndarray, fps: float, n: int) -> np.ndarray:
    return np.clip(np.round(times * fps).astype(int), 0, n - 1)


def ground_plane_findings(note: dict[str, Any] | None) -> list[Finding]:
    """A warning when the static camera's tilt was found from the feet alone (uncertain) or the lifted
    stance feet do not stay on one floor (:mod:`motionlab.ground_plane`): the body's height above the
    floor and its distance are then uncertain, not facts."""
    if not note or not (note.get("source") == "feet" or note.get("stance_spread_m", 0.0) > MAX_STANCE_SPREAD_M):
        return []
    if note.get("source") == "feet" and note.get("used"):
        what = f"camera tilt uncertain: {note['pitch_deg']:+.0f} deg, read from your steps and pose alone"
    else:
        what = f"camera tilt uncertain: your lifted feet spread {note['stance_spread_m']:.2f} m in height on one floor"
    return [Finding(
        "warning", what, "a static camera looking down whose tilt your size and steps barely show",
        "your height above the floor and your distance from the camera are uncertain; film at about hip height",
    )]  # fmt: skip


def lost_person_findings(keypoints_summary: dict[str, Any] | None, seconds: float) -> list[Finding]:
    """A warning when the person followed was hidden before ``seconds`` and not found again
    (:func:`motionlab.video.pose.extract_keypoints`' ``lost``): the frames after are gaps, not someone else."""
    lost = (keypoints_summary or {}).get("lost")
    if not lost or lost["last_seen_s"] >= seconds:
        return []
    frame, box = lost["last_seen_frame"], ",".join(map(str, lost["box"]))
    return [Finding(
        "warning",
        f"the person followed was lost after {lost['last_seen_s']:.1f} s (frame {frame}) and not found again: "
        "the rest is not analysed (nobody else was taken in their place)",
        "they left the view, or stayed hidden behind something or someone, or their clothes looked different",
        f"they were last seen in the box {box} at frame {frame}; if that was not the runner, give --roi x,y,w,h "
        "around the runner (a box that holds them for the whole clip), else trim the video to where they are in view",
    )]  # fmt: skip


def analyse(
    ref2d: Reference,
    lifted: Reference,
    lift_report: LiftReport,
    closest: Rollout,
    ideal: Rollout,
    seconds: float,
    camera_speed: float | None = None,
    video_seconds: float | None = None,
    extra_findings: list[Finding] | None = None,
) -> Analysis:
    """The columns, verdict, cues and events of one run of the main job (``extra_findings``: the
    caller's own, e.g. about the Ideal's speed, join the verdict's)."""
    n = min(lifted.num_frames, int(np.floor(seconds * lifted.fps + 1e-9)) + 1)
    detected = detected_frames(ref2d)[:n]
    known = camera_motion_known(lifted, lift_report, camera_speed)
    person_px = person_height_px(ref2d, detected)
    seen = ref2d.keypoints2d[:n][detected][:, list(BODY_LANDMARKS), 2]
    errors = lift_report.frame_errors_px[:n]
    base = Evidence(
        seconds=seconds, fps=ref2d.fps, detected=detected, person_px=person_px,
        mean_visibility=float(seen.mean()) if seen.size else None,
        reprojection_px=float(np.nanmean(errors)) if np.isfinite(errors).any() else None,
        camera_motion_known=known, closest=closest, ideal=ideal, you_metrics={}, video_seconds=video_seconds,
        extra_findings=[
            *(extra_findings or []), *ground_plane_findings(lift_report.notes.get("ground_plane")),
            *lost_person_findings(ref2d.source.get("summary"), seconds),
        ],
    )  # fmt: skip
    conf_you = you_confidence(base)
    speed_conf = speed_over_ground_confidence(lift_report.notes.get("speed_confidence"))
    base.speed_confidence = speed_conf
    you = GaitInput(
        np.arange(n) / lifted.fps, lifted.qpos[:n], lifted.body, detected,
        speed_known=speed_over_ground_known(lifted, lift_report, camera_speed), confidence=conf_you,
        speed_confidence=speed_conf,
    )  # fmt: skip
    closest_valid = detected[_frame_of(closest.times, lifted.fps, n)]
    closest_conf = run_confidence(closest, seconds, conf_you)
    columns = {
        "you": gait_metrics(you),
        "closest": gait_metrics(rollout_input(closest, closest_valid, closest_conf, speed_confidence=speed_conf)),
        "ideal": gait_metrics(rollout_input(ideal, confidence=run_confidence(ideal, seconds))),
    }
    for col in columns.values():  # the foot-strike pattern beside its angle
        m = col["foot_strike_angle"]
        m["pattern"] = strike_pattern(m["value"]) if m["value"] is not None and m["status"] != "implausible" else None
    base.you_metrics = columns["you"]
    events = {
        "seconds": seconds,
        "out_of_view_s": [[round(a, 3), round(b, 3)] for a, b in out_of_view_spans(detected, ref2d.fps)],
        **{
            name: [{"time_s": round(t, 3), "kind": k} for t, k in zip(run.restart_times, _kinds(run))]
            for name, run in (("closest", closest), ("ideal", ideal))
        },
    }
    judged = verdict(base)
    cues = coaching_cues(columns) if judged["level"] != "unreliable" else []  # no advice from a doubtful result
    return Analysis(columns, judged, cues, events, detected, known)


def _kinds(run: Rollout) -> list[str]:
    return run.restart_kinds if len(run.restart_kinds) == len(run.restart_times) else [FALL] * len(run.restart_times)
