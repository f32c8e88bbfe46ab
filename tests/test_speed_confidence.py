"""The speed over ground's own confidence: rendered shots whose camera motion is read right or misread,
through the real lift, metrics and verdict."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from motionlab.assets import DEFAULT_REFERENCE
from motionlab.body import BodyParams
from motionlab.footage import lift_footage, messages
from motionlab.inference.analysis import speed_over_ground_trusted
from motionlab.inference.metrics import (
    GaitInput,
    gait_metrics,
    speed_over_ground_confidence,
    with_speed_confidence,
)
from motionlab.inference.reliability import Evidence, verdict
from motionlab.inference.report import format_value
from motionlab.inference.rollout import Rollout
from motionlab.lift import detected_frames
from motionlab.reference import load_reference
from motionlab.speed_confidence import SLIP_LIMIT, SLIP_ROLL, stance_slip
from motionlab.synthetic import SETUPS, CameraPath, ground_truth, render_test_video, score_lift
from motionlab.video.pose import extract_keypoints

BODY = BodyParams(height=1.75, mass=70.0).resolved()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> dict:
    """A following shot read right, and the low camera looking up 15 deg whose grazing view of the ground
    is misread (2 s each, through MediaPipe as in ``bench_lift.py --part videos``)."""
    out = {}
    for name in ("follow", "pitch_up_15"):
        path = tmp_path_factory.mktemp(name) / f"{name}.mp4"
        truth = render_test_video(dataclasses.replace(SETUPS[name], seconds=2.0), path, BODY)
        keypoints, _ = extract_keypoints(path)
        lifted, report = lift_footage(keypoints, BODY, path)
        out[name] = (truth, lifted, report)
    return out


# With the legs' left/right labels decided over the whole clip (motionlab/video/swaps.py), the 2 s pitch-up
# shot's ground no longer reads as inconsistent (the horizon-spread check depends on the feet after
# smoothing), yet its speed is 37 % off at "medium" confidence with an interval that misses the truth
# (2.1-2.6 m/s against 3.7; with MediaPipe's own labels 3 % off, "low"). A defect of the speed's confidence
# on grazing ground views, shown here until it is fixed.
GRAZING_VIEW_MISSED = pytest.mark.xfail(
    strict=True, reason="pitch_up_15's misread ground is no longer flagged once the legs keep their labels"
)


@GRAZING_VIEW_MISSED
def test_a_misread_camera_motion_makes_the_speed_low_confidence_and_a_clean_one_stays_high(shots):
    truth, lifted, report = shots["follow"]
    clean = report.notes["speed_confidence"]
    error = score_lift(truth, lifted)["speed_error_rel"]
    assert error < 0.05 and clean["level"] == "high" and not clean["warn"], clean
    lo, hi = clean["interval_mps"]
    assert lo <= score_lift(truth, lifted)["speed_true_mps"] <= hi and hi - lo < 0.5, clean  # truth inside, narrow

    truth, lifted, report = shots["pitch_up_15"]
    wrong = report.notes["speed_confidence"]
    assert score_lift(truth, lifted)["speed_error_rel"] > 0.5  # the defect: read far too fast
    assert wrong["level"] == "low" and wrong["interval_mps"] is None, wrong  # a bias: no likely interval
    assert any("slides" in r for r in wrong["reasons"]) and any("one moving plane" in r for r in wrong["reasons"])
    assert "--camera-speed" in wrong["message"] and wrong["message"] in messages(report)  # said on the console
    assert report.to_dict()["speed_confidence"] == wrong  # reaches the job's JSON report (extra.lift)
    # the job does not name it as the user's speed (the Ideal's target, user_speed_mps); the clean one it does
    assert not speed_over_ground_trusted(lifted, report, None)
    assert speed_over_ground_trusted(*shots["follow"][1:], None)


@GRAZING_VIEW_MISSED
def test_an_uncertain_speed_is_shown_as_uncertain_in_the_figures_and_the_verdict(shots):
    """You's speed, stride and step length (one measurement) carry the speed's own confidence with its
    reason; the rest of the column (cadence, contact times) keeps its own; the verdict warns. The motion is
    the real run clip's (2 s of a rendered shot give too few strides), analysed with each shot's speed
    confidence."""
    ref = load_reference(DEFAULT_REFERENCE)
    times = np.arange(ref.num_frames) / ref.fps
    columns = {}
    for name, (_, _, report) in shots.items():
        speed = speed_over_ground_confidence(report.notes["speed_confidence"])
        valid = np.ones(ref.num_frames, bool)
        columns[name] = gait_metrics(GaitInput(times, ref.qpos, ref.body, valid, speed_confidence=speed))
    wrong, clean = columns["pitch_up_15"], columns["follow"]
    for name in ("speed", "stride_length", "step_length"):
        assert wrong[name]["value"] is not None and wrong[name]["confidence"]["level"] == "low", wrong[name]
        assert any("slides" in n for n in wrong[name]["confidence"]["notes"])
        assert clean[name]["confidence"]["level"] == clean["cadence"]["confidence"]["level"]
        assert clean[name]["interval"][0] <= clean[name]["value"] <= clean[name]["interval"][1]
    assert wrong["cadence"]["confidence"]["level"] == clean["cadence"]["confidence"]["level"]  # not the speed's
    assert "(" not in format_value(clean["speed"])  # a high-confidence figure is shown plain

    n = ref.num_frames
    run = Rollout(  # the simulated runs' findings are not under test: a run without restarts
        times=times, qpos=ref.qpos, qvel=np.zeros((n, 34)), actuator_force=np.zeros((n, 28)),
        foot_contact=np.zeros((n, 2), bool), foot_grf=np.zeros((n, 2)), reward_terms={}, mpjpe=None,
        residual_force_bw=None, fell=False, fall_time=None, restart_times=[], diverged=None, body=ref.body,
        dt=1 / ref.fps, end_reason="time limit",
    )  # fmt: skip
    base = dict(seconds=times[-1], fps=ref.fps, detected=np.ones(n, bool), person_px=None, mean_visibility=0.9,
                reprojection_px=2.0, camera_motion_known=True, closest=run, ideal=run)  # fmt: skip
    note = shots["pitch_up_15"][2].notes["speed_confidence"]
    judged = verdict(Evidence(**base, you_metrics=wrong, speed_confidence=speed_over_ground_confidence(note)))
    found = [f for f in judged["findings"] if f["what"].startswith("your speed could not be measured reliably")]
    assert found and found[0]["severity"] == "warning" and judged["level"] != "reliable", judged
    assert "--camera-speed" in found[0]["action"] and "slides" in found[0]["cause"]
    # the misread shot's own 2 s give too few strides for a speed figure: the verdict still warns, naming
    # the speed the lift read (not as fact)
    truth, lifted, report = shots["pitch_up_15"]
    times = np.arange(lifted.num_frames) / lifted.fps
    own = gait_metrics(GaitInput(times, lifted.qpos, lifted.body, lifted.qpos_observed, speed_confidence=speed_over_ground_confidence(note)))
    assert own["speed"]["value"] is None
    judged = verdict(Evidence(**base, you_metrics=own, speed_confidence=speed_over_ground_confidence(note)))
    found = [f for f in judged["findings"] if f["what"].startswith("your speed could not be measured reliably")]
    assert found and f"read as {score_lift(truth, lifted)['speed_mps']:.1f} m/s, not trusted" in found[0]["what"]
    note = shots["follow"][2].notes["speed_confidence"]
    judged = verdict(Evidence(**base, you_metrics=clean, speed_confidence=speed_over_ground_confidence(note)))
    assert not [f for f in judged["findings"] if "your speed" in f["what"]], judged


def test_a_medium_confidence_speed_is_shown_with_its_likely_interval():
    m = {"label": "Speed", "unit": "m/s", "value": 3.6, "status": "typical", "confidence": {"level": "high", "evidence": {}, "notes": []}}
    medium = speed_over_ground_confidence({"level": "medium", "uncertainty_rel": 0.1, "interval_mps": [2.9, 4.3], "reasons": []})
    shown = with_speed_confidence(m, medium)
    assert shown["confidence"]["level"] == "medium" and shown["interval"] == pytest.approx([2.88, 4.32])
    assert format_value(shown) == "3.60 m/s (2.9–4.3)" and shown["confidence"]["notes"]


def test_the_stance_foot_stands_still_on_the_ground_only_when_its_motion_is_read_right():
    """The scene's own keypoints of a following shot and the ground's true image motion under the
    runner: the stance foot moves with it (within a foot's roll). Half or 1.5 times that motion (a
    camera's motion misread by 50 %) makes the foot slide."""
    truth = ground_truth(dataclasses.replace(SETUPS["follow"], seconds=2.0), BODY)
    cams = CameraPath.from_dict(truth.source["synthetic"]["camera_path"])
    under = np.c_[truth.qpos[:, :2], np.zeros(truth.num_frames)][:, None]  # the ground under the runner
    here = cams.project(under)[:, 0, 0]  # frame t's point through camera t
    later = cams.project(np.roll(under, 1, axis=0))[:, 0, 0]  # frame t-1's point through camera t
    flow = later - np.roll(here, 1)  # how the ground at the runner moved in the image from t-1 to t
    flow[0] = 0.0
    px, valid = truth.keypoints_px(), detected_frames(truth)
    assert abs(stance_slip(px, valid, flow) - SLIP_ROLL) < SLIP_LIMIT
    for misread in (0.5, 1.5):
        assert abs(stance_slip(px, valid, misread * flow) - SLIP_ROLL) > SLIP_LIMIT, misread
