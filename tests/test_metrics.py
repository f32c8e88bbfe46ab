"""Rollouts, gait metrics and the report: a real zero-policy Track run, and synthetic runs with known gaits."""

from __future__ import annotations

import dataclasses
import json
import warnings

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest
from conftest import require_shared_data, standing_reference

from motionlab.assets import DEFAULT_REFERENCE, DEFAULT_WALK_REFERENCE
from motionlab.body import BodyParams
from motionlab.gait import bounce_period
from motionlab.humanoid import build_model
from motionlab.inference.coaching import coaching_cues
from motionlab.inference.metrics import (
    FORCE_EVENTS,
    KINEMATIC_EVENTS,
    METRICS,
    FootContact,
    GaitInput,
    _frames,
    contact_runs,
    foot_velocity,
    gait_events,
    gait_metrics,
    kinematic_contact,
    live_gait,
    rollout_input,
)
from motionlab.inference.reliability import Evidence, verdict
from motionlab.inference.report import REPORT_SCHEMA, format_value, range_text, write_report
from motionlab.inference.rollout import DIVERGED, FALL, LOST, Rollout, run_policy, zero_policy
from motionlab.mocap import mocap_reference
from motionlab.motion import Kinematics
from motionlab.reference import load_reference
from motionlab.step_physics import StepPhysics

G = 9.81


def synthetic_run(
    seconds: float = 3.0, dt: float = 0.01, step_s: float = 0.35, contact_s: float = 0.24, speed: float = 3.5,
    power_w: float = 367.5, peak_bw: float = 2.5, mass: float = 70.0,
) -> Rollout:  # fmt: skip
    """A run with a known gait: alternating feet every ``step_s``, each down ``contact_s`` with a half-sine
    vertical force peaking at ``peak_bw``; constant speed; ``power_w`` of positive actuator power (its
    physics, as if every control step were one physics step)."""
    n = int(round(seconds / dt))
    times = dt * np.arange(1, n + 1)
    contact = np.zeros((n, 2), dtype=bool)
    grf = np.zeros((n, 2))
    m = int(round(contact_s / dt))
    for k, strike in enumerate(np.arange(0.05, seconds, step_s)):
        i0 = int(round(strike / dt))
        idx = np.arange(i0, min(i0 + m, n))
        contact[idx, k % 2] = True
        grf[idx, k % 2] = peak_bw * mass * G * np.sin(np.pi * (idx - i0 + 0.5) / m)
    qpos = np.zeros((n, 35))
    qpos[:, 0] = speed * times
    qpos[:, 2] = 0.95
    qpos[:, 3] = 1.0
    qvel = np.zeros((n, 34))
    qvel[:, 0] = speed
    qvel[:, 6:8] = 1.0
    force = np.zeros((n, 28))
    force[:, 0] = power_w
    force[:, 1] = -200.0  # negative work (braking) does not count
    power = force * qvel[:, 6:]
    physics = StepPhysics(
        positive_work=np.clip(power, 0, None) * dt, negative_work=np.clip(-power, 0, None) * dt, peak_grf=grf,
        grf_impulse=grf * dt, peak_loading_rate=np.diff(grf, axis=0, prepend=0.0) / dt, seconds=np.full(n, dt),
        contact_seconds=contact * dt,
    )  # fmt: skip
    return Rollout(
        times=times, qpos=qpos, qvel=qvel, actuator_force=force, foot_contact=contact, foot_grf=grf,
        reward_terms={}, mpjpe=np.full(n, 0.03), residual_force_bw=np.full(n, 0.02), fell=False, fall_time=None, restart_times=[], diverged=None,
        body=BodyParams(mass=mass), dt=dt, end_reason="time limit", physics=physics,
    )  # fmt: skip


def measured(run: Rollout) -> dict:
    """Metrics of a synthetic run (its feet never leave the floor: contact from its force, as a force plate)."""
    return gait_metrics(rollout_input(run, measured_contact=True))


def test_metrics_of_a_known_gait() -> None:
    run = synthetic_run()
    m = measured(run)
    assert set(m) == set(METRICS)
    assert m["speed"]["value"] == pytest.approx(3.5)
    assert m["cadence"]["value"] == pytest.approx(60 / 0.35)
    assert m["stride_length"]["value"] == pytest.approx(2 * 0.35 * 3.5)
    assert m["step_length"]["value"] == pytest.approx(0.35 * 3.5)
    assert m["contact_time_left"]["value"] == pytest.approx(240.0)
    assert m["contact_time_right"]["value"] == pytest.approx(240.0)
    assert m["duty_factor"]["value"] == pytest.approx(0.24 / 0.70, abs=1e-4)
    assert m["flight_time"]["value"] == pytest.approx(110.0)
    assert m["cost_of_transport"]["value"] == pytest.approx(1.5, rel=0.02)
    assert m["peak_vgrf"]["value"] == pytest.approx(2.5, rel=0.01)
    assert m["tracking_error"]["value"] == pytest.approx(30.0)
    assert m["residual_force"]["value"] == pytest.approx(2.0)  # % of body weight
    for name in ("speed", "cadence", "contact_time_left", "duty_factor", "flight_time", "peak_vgrf"):
        assert m[name]["status"] == "typical" and m[name]["ok"] is True and m[name]["reason"] is None
    # every figure carries its window, the strides it rests on and a confidence
    strides = m["cadence"]["n_strides"]
    assert strides == 6  # 9 strikes; a stride ends at the same foot's next strike, whose stance ends in the clip
    assert m["cadence"]["window"]["spans_s"][0][0] == pytest.approx(0.05, abs=0.011)
    # left and right strides overlap in time: the window's length is the time they cover, not their sum
    (start, end), = m["cadence"]["window"]["spans_s"]
    assert m["cadence"]["window"]["seconds"] == pytest.approx(end - start, abs=0.011)
    assert m["cadence"]["window"]["seconds"] <= run.times[-1]
    assert m["cadence"]["confidence"]["level"] == "high"
    assert m["cadence"]["unit"] == "steps/min" and m["cadence"]["range"] == [150.0, 190.0]


def test_the_lifted_kinematics_of_real_mocap_give_its_gait() -> None:
    """You: no forces, contact from the foot heights. The real run clip: ~150 steps/min at 3.7 m/s."""
    ref = load_reference(DEFAULT_REFERENCE)
    times = np.arange(ref.num_frames) / ref.fps
    m = gait_metrics(GaitInput(times, ref.qpos, ref.body, np.ones(ref.num_frames, bool)))
    assert m["cadence"]["value"] == pytest.approx(150, abs=3)
    assert m["speed"]["value"] == pytest.approx(ref.source["speed_mps"], rel=0.03)
    assert 200 <= m["contact_time_left"]["value"] <= 350 and 60 <= m["flight_time"]["value"] <= 180
    assert 10 < m["trunk_lean"]["value"] < 35  # DeepMimic's runner leans forward (~25-30 deg)
    assert m["cadence"]["n_strides"] >= 20
    for name in ("tracking_error", "peak_vgrf"):
        assert m[name]["value"] is None and m[name]["status"] == "not measured"


def test_the_body_s_bounce_gives_the_cadence_without_foot_events() -> None:
    """The real run clip's centre of mass rises and falls once per step: 150 steps/min, its cadence."""
    ref = load_reference(DEFAULT_REFERENCE)
    times = np.arange(ref.num_frames) / ref.fps
    com = Kinematics(build_model(ref.body)).run(ref.qpos).com
    assert 60.0 / bounce_period(com[:, 2], ref.fps)[0] == pytest.approx(150.0, abs=1.0)
    assert bounce_period(0.9 + 0.001 * times, ref.fps)[0] is None  # no periodic bounce


def test_foot_events_out_of_step_with_the_body_lower_the_confidence() -> None:
    """What MediaPipe does to a side view when it misplaces the legs: foot events that do not match the
    body's bounce. Here the legs of the real run clip play 15 % faster than its trunk: the events say
    ~164 steps/min, the bounce 150, so the column's confidence is low, with the reason; the clip as
    captured stays high."""
    ref = load_reference(DEFAULT_REFERENCE)
    n = int(ref.num_frames / 1.15)
    times = np.arange(n) / ref.fps
    qpos = ref.qpos[:n].copy()
    for j in range(21, 35):  # hips, knees and ankles (qpos order: right leg, then left leg)
        qpos[:, j] = np.interp(np.arange(n) * 1.15, np.arange(ref.num_frames), ref.qpos[:, j])
    m = gait_metrics(GaitInput(times, qpos, ref.body, np.ones(n, bool)))
    assert m["cadence"]["value"] > 160
    assert m["cadence"]["confidence"]["level"] == m["overstride"]["confidence"]["level"] == "low"
    assert "the body bounces at 150" in " ".join(m["cadence"]["confidence"]["notes"])
    clean = gait_metrics(GaitInput(times, ref.qpos[:n], ref.body, np.ones(n, bool)))
    assert clean["cadence"]["confidence"]["level"] == "high"
    run = synthetic_run()  # the verdict says so, with the cause and what to do
    evidence = Evidence(
        seconds=times[-1], fps=ref.fps, detected=np.ones(n, bool), person_px=600.0, mean_visibility=0.9,
        reprojection_px=4.0, camera_motion_known=True, closest=run, ideal=run, you_metrics=m,
    )  # fmt: skip
    finding = next(f for f in verdict(evidence)["findings"] if "could not be timed" in f["what"])
    assert "bounce 150" in finding["what"] and "misplaced the legs" in finding["cause"]


def test_frames_without_a_pose_are_excluded_and_unknown_camera_motion_hides_speed() -> None:
    ref = load_reference(DEFAULT_REFERENCE)
    times = np.arange(ref.num_frames) / ref.fps
    valid = np.ones(ref.num_frames, bool)
    valid[100:200] = False  # out of view
    m = gait_metrics(GaitInput(times, ref.qpos, ref.body, valid, speed_known=False))
    for a, b in m["cadence"]["window"]["spans_s"]:
        assert b <= times[99] + 1e-9 or a >= times[200] - 1e-9  # no stride reaches into the gap
    assert m["cadence"]["value"] == pytest.approx(150, abs=3)
    assert m["speed"]["value"] is None and "camera motion unknown" in m["speed"]["reason"]
    assert m["stride_length"]["value"] is None and m["cadence"]["window"]["usable_seconds"] < times[-1] - 3


def test_out_of_range_values_are_flagged() -> None:
    m = measured(synthetic_run(step_s=0.25, contact_s=0.22, power_w=1000.0))
    assert m["cadence"]["value"] == pytest.approx(240.0) and m["cadence"]["status"] == "atypical"
    assert m["cadence"]["ok"] is False and m["flight_time"]["ok"] is False and m["cost_of_transport"]["ok"] is False


def test_values_outside_physiological_bounds_are_implausible_never_in_range() -> None:
    """The issue's 2000 spm: strikes every 30 ms (a jittering foot) must not be shown as a cadence."""
    m = measured(synthetic_run(step_s=0.15, contact_s=0.05, dt=0.005))
    assert m["cadence"]["value"] == pytest.approx(400.0)
    assert m["cadence"]["status"] == "implausible" and m["cadence"]["ok"] is False and "artefact" in m["cadence"]["reason"]


def test_a_speed_the_steps_cannot_produce_is_implausible_with_its_step_and_stride() -> None:
    """9 m/s at 171 steps/min needs 3.2 m steps (the camera's motion misread: the pitch-up test shot gave
    3.4x the true speed): within the speed's own bounds, but the step length is not, and the speed is
    the same measurement, so none of the three is shown as a figure."""
    m = measured(synthetic_run(speed=9.0))
    assert m["step_length"]["value"] == pytest.approx(9.0 * 0.35, rel=0.02)
    for name in ("speed", "stride_length", "step_length"):
        assert m[name]["status"] == "implausible" and m[name]["ok"] is False, (name, m[name])
    assert "steps" in m["speed"]["reason"]
    v = verdict(_evidence(you_metrics=m))
    found = [f for f in v["findings"] if f["what"].startswith("your speed could not be measured")]
    assert v["level"] != "reliable" and found and "--camera-speed" in found[0]["action"], v
    fine = measured(synthetic_run(speed=3.5))
    assert all(fine[n]["status"] != "implausible" for n in ("speed", "stride_length", "step_length"))


def test_a_bouncing_foot_is_not_a_new_step() -> None:
    run = synthetic_run()
    contact = run.foot_contact.copy()
    first = np.flatnonzero(contact[:, 0])[5]
    contact[first, 0] = False  # one-sample dropout inside a stance
    bounced = dataclasses.replace(run, foot_contact=contact)
    assert measured(bounced)["cadence"]["value"] == pytest.approx(60 / 0.35)
    assert measured(bounced)["cadence"]["n_strides"] == measured(run)["cadence"]["n_strides"]


@pytest.mark.parametrize("seconds", [0.01, 0.05, 0.3, 1.2])
def test_short_clips_say_not_enough_data_never_a_number(seconds: float) -> None:
    m = measured(synthetic_run(seconds=seconds))  # 1.2 s holds two full strides: still too few
    for name in ("cadence", "speed", "contact_time_left", "flight_time", "vertical_oscillation", "knee_flexion_contact"):
        assert m[name]["value"] is None and m[name]["status"] == "not enough data", name
        assert m[name]["reason"].startswith("not enough data")
    assert all((v["value"] is None) == (v["ok"] is None) == (v["reason"] is not None) for v in m.values())
    live = live_gait(synthetic_run(seconds=min(seconds, 0.3)))
    assert np.isnan(live["cadence"]).all() and live["speed"] == pytest.approx(3.5)


def test_live_numbers_follow_the_run_and_hide_what_cannot_be_trusted() -> None:
    live = live_gait(synthetic_run())
    assert live["speed"] == pytest.approx(3.5)
    assert np.isnan(live["cadence"][:30]).all()  # one strike seen so far
    assert live["cadence"][100:] == pytest.approx(60 / 0.35)
    restarted = dataclasses.replace(synthetic_run(), restart_times=[1.5], restart_kinds=["fall"], fell=True, fall_time=1.5)
    live = live_gait(restarted)
    after = (restarted.times > 1.5) & (restarted.times < 2.0)
    assert np.isnan(live["cadence"][after]).all() and np.isnan(live["speed"][after]).all()
    jitter = live_gait(synthetic_run(step_s=0.03, contact_s=0.01, dt=0.005))
    assert np.isnan(jitter["cadence"]).all()  # 2000 spm is never shown


def test_live_cadence_of_two_feet_landing_together_is_not_a_division_by_zero() -> None:
    """A body dropped onto both feet (a restart) strikes twice in one sample: no step time, no cadence."""
    run = synthetic_run(seconds=1.0)
    both = run.foot_contact.copy()
    both[:] = False
    both[40:60] = True  # both feet land at 0.41 s, the only strikes of the run
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        live = live_gait(dataclasses.replace(run, foot_contact=both))
    assert np.isnan(live["cadence"]).all()


@pytest.fixture(scope="module")
def track_run() -> Rollout:
    """About a second of the default reference replayed through the PD servos (zero residual)."""
    env = gym.make("MotionLab/Track-v0", reference_state_init=False)
    return run_policy(env, zero_policy, 1.5, start_frame=8)


def test_zero_policy_track_rollout(track_run: Rollout) -> None:
    r = track_run
    ref = load_reference(DEFAULT_REFERENCE)
    T = r.num_steps
    assert r.qpos.shape == (T, 35) and r.qvel.shape == (T, 34) and r.actuator_force.shape == (T, 28)
    assert r.foot_contact.shape == r.foot_grf.shape == (T, 2) and r.mpjpe.shape == (T,)
    assert np.diff(r.times) == pytest.approx(r.dt) and r.times[0] == pytest.approx(r.dt)
    assert set(r.reward_terms) >= {"pose", "root", "end_effector"} and all(len(v) == T for v in r.reward_terms.values())
    # the PD servos alone follow the reference for a while (without corrections the runner soon falls)
    assert r.duration > 0.3 and r.end_reason == ("fell" if r.fell else "time limit")
    assert not r.fell or r.fall_time == pytest.approx(r.times[-1])  # early termination ends it at the fall
    m = gait_metrics(r)  # under a second before the fall: no full strides, so no figures
    assert m["speed"]["status"] == m["cadence"]["status"] == "not enough data"
    assert 0 < r.mpjpe.mean() < 0.3 and np.linalg.norm(r.qvel[:, :2], axis=1).mean() == pytest.approx(ref.source["speed_mps"], rel=0.2)
    assert r.foot_contact.any(axis=0).all()  # both feet touched the ground
    assert 0.5 < r.foot_grf.max() / (r.body.mass * G) < 10
    assert all((v["value"] is None) == (v["reason"] is not None) for v in m.values())


def test_ideal_rollout_and_sb3_style_predict() -> None:
    class TuplePolicy:  # SB3's predict returns (action, state)
        def predict(self, obs, deterministic=True):
            return np.zeros(28, dtype=np.float32), None

    r = run_policy(gym.make("MotionLab/Ideal-v0"), TuplePolicy(), 0.3)
    assert r.mpjpe is None and "speed" in r.reward_terms and r.num_steps >= 1
    assert gait_metrics(r)["tracking_error"]["reason"].startswith("no reference")
    with pytest.raises(ValueError, match="positive"):
        run_policy(gym.make("MotionLab/Ideal-v0"), zero_policy, 0.0)


def test_report_writes_json_and_png(tmp_path, track_run: Rollout) -> None:
    columns = {"you": measured(synthetic_run()), "closest": gait_metrics(track_run), "ideal": measured(synthetic_run())}
    verdict = {"level": "use with care", "headline": "USE WITH CARE: x", "findings": [{"severity": "warning", "what": "x", "cause": "y", "action": "z"}]}
    events = {"seconds": 3.0, "out_of_view_s": [[1.0, 1.5]], "closest": [{"time_s": 0.7, "kind": FALL}], "ideal": []}
    js, png = write_report(
        tmp_path / "report.json", tmp_path / "report.png", columns, verdict, [], events,
        extra={"body": track_run.body.to_dict(), "fall_time": np.float64(0.7)},
        tracking_error=(track_run.times, track_run.mpjpe),
    )  # fmt: skip
    data = json.loads(js.read_text())
    assert data["schema"] == REPORT_SCHEMA and set(data["closest"]) == set(METRICS) == set(data["you"])
    assert data["verdict"]["level"] == "use with care" and data["events"]["closest"][0]["kind"] == "fall"
    assert data["ideal"]["cadence"]["value"] == pytest.approx(60 / 0.35) and data["extra"]["fall_time"] == 0.7
    assert len(data["tracking_error_series"]["mpjpe_mm"]) == track_run.num_steps
    image = imageio.imread(png)
    assert image.ndim == 3 and image.shape[0] > 600 and image.shape[1] > 1000
    assert image[..., :3].std() > 20  # a drawn chart, not a blank page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.png"]
    with pytest.raises(ValueError, match="different metrics"):
        write_report(tmp_path / "r.json", tmp_path / "r.png", {**columns, "ideal": {"speed": columns["ideal"]["speed"]}}, verdict)


def test_restarted_run_is_analysed_between_restarts_only() -> None:
    run = synthetic_run()
    t = run.times
    restarts = [float(t[len(t) // 5]), float(t[len(t) // 4])]
    restarted = dataclasses.replace(run, fell=True, fall_time=restarts[0], restart_times=restarts, restart_kinds=[FALL, LOST])
    m = measured(restarted)
    assert m["cadence"]["value"] == pytest.approx(60 / 0.35, rel=0.02)
    for a, b in m["cadence"]["window"]["spans_s"]:
        assert all(not (a < r < b) for r in restarts)  # no stride spans a restart
    assert m["cadence"]["n_strides"] < measured(run)["cadence"]["n_strides"]


def test_track_rollout_restarts_after_falls_and_keeps_time_running() -> None:
    env = gym.make("MotionLab/Track-v0", reference_state_init=False)
    run = run_policy(env, zero_policy, seconds=3.0, restart_on_fall=True)
    assert run.restart_times, "the PD servos alone fall within a second; the run must restart"
    assert run.duration == pytest.approx(3.0 - run.dt, abs=1e-6)
    assert (np.diff(run.times) > 0).all()
    assert run.fell and run.fall_time in run.restart_times  # a restart follows a fall or a drift off the reference
    assert len(run.restart_kinds) == len(run.restart_times) and set(run.restart_kinds) <= {FALL, LOST, DIVERGED}
    # a restart continues from the reference where it stopped: the runner keeps moving forward
    assert run.qpos[-1, 0] > 5.0


def test_kinematic_contact_keeps_a_rising_heel_in_stance() -> None:
    """Hysteresis: a planted foot lands within 3 cm of the ground and leaves above 6 cm, so a sole rising
    3-5 cm late in stance (the real run clip's right foot) is not a toe-off and a new strike."""
    times = np.arange(12) / 30.0
    soles = np.zeros((12, 2))
    soles[:, 0] = [0.2, 0.1, 0.0, 0.0, 0.035, 0.028, 0.045, 0.05, 0.1, 0.2, 0.3, 0.2]
    velocity = np.full((12, 2), -3.5)  # both feet move back under the body at its speed: planted
    contact = kinematic_contact(times, soles, velocity).down
    assert contact[:, 0].tolist() == [False, False, True, True, True, True, True, True, False, False, False, False]


def test_a_low_foot_swinging_forward_is_not_on_the_ground() -> None:
    """A walk's swinging sole passes 1-5 cm over the floor (CMU 07_01, imported): by height alone it never
    left. It moves forward relative to the body (+2 m/s) while the planted foot moves back at the body's
    speed (-1.4 m/s): only the planted one is down."""
    times = np.arange(10) / 30.0
    soles = np.array([[0.0, 0.02, 0.045, 0.05, 0.04, 0.025, 0.015, 0.02, 0.01, 0.0], np.zeros(10)]).T
    velocity = np.array([[-1.4, 0.5, 2.5, 3.5, 3.5, 3.0, 2.0, 0.5, -1.0, -1.4], np.full(10, -1.4)]).T
    contact = kinematic_contact(times, soles, velocity).down
    assert contact[:, 0].tolist() == [True, False, False, False, False, False, False, False, True, True]
    assert contact[:, 1].all()


def _contact_with_jittering_stances(path) -> tuple[GaitInput, dict[tuple[str, str], FootContact]]:
    """A bundled mocap clip (30 fps) and its contact by the kinematic rule (``"rule"``) and by the rule
    without ``min_step_m`` (``"without_min_step"``), on the ``"clean"`` motion and ``"jittered"``: each
    stance foot's velocity jittered as MediaPipe's are on a rendered walk (CMU 07_01: a planted foot read
    at -0.5 to +0.2 m/s for 2-3 frames while the body walks at 1.5 m/s), +1.5 m/s for 3 frames mid-stance."""
    ref = load_reference(path)
    g = GaitInput(np.arange(ref.num_frames) / ref.fps, ref.qpos, ref.body, np.ones(ref.num_frames, bool))
    kin = Kinematics(build_model(ref.body)).run(ref.qpos)
    velocity = {"clean": foot_velocity(g.times, _frames(ref.qpos, ref.body, kin))}
    velocity["jittered"] = velocity["clean"].copy()
    for k in range(2):
        for start, end in contact_runs(kinematic_contact(g.times, kin.foot_soles, velocity["clean"]).down[:, k]):
            mid = (start + end) // 2
            velocity["jittered"][mid - 1 : mid + 2, k] += 1.5 if end - start >= 6 else 0.0
    rules = {"rule": {}, "without_min_step": {"min_step_m": -np.inf}}
    return g, {
        (motion, rule): kinematic_contact(g.times, kin.foot_soles, velocity[motion], **kw)
        for motion in velocity
        for rule, kw in rules.items()
    }


def test_a_jittering_planted_foot_does_not_make_steps() -> None:
    """The bundled CMU walk (112 steps/min at 1.5 m/s) with each planted foot jittering for 3 frames (it
    leaves the "planted" leeway): the foot neither rose nor moved forward a step's length, so the stance
    goes on. Counting each break as a landing (the rule without ``min_step_m``) left no full stride (each
    stride had two of the other foot's landings in it): no cadence at all."""
    g, contact = _contact_with_jittering_stances(DEFAULT_WALK_REFERENCE)
    m = {key: gait_metrics(dataclasses.replace(g, contact=c)) for key, c in contact.items()}
    clean = m["clean", "rule"]
    assert clean["cadence"]["value"] == pytest.approx(111.6, abs=1.0)
    assert m["jittered", "without_min_step"]["cadence"]["value"] is None  # the defect
    for name in ("cadence", "contact_time_left", "contact_time_right", "double_support"):
        assert m["jittered", "rule"][name]["value"] == pytest.approx(clean[name]["value"], abs=20.0), name


def test_a_run_keeps_its_contact_times() -> None:
    """The bundled run (3.7 m/s): its swings rise and travel 2-3 m, so the rule that keeps a walk's
    jittering stance changes none of a run's events; with the same jitter its contact times and flight
    stay within the 20 ms target of the clean run's."""
    g, contact = _contact_with_jittering_stances(DEFAULT_REFERENCE)
    for field in ("down", "lead_s"):
        assert np.array_equal(
            getattr(contact["clean", "rule"], field), getattr(contact["clean", "without_min_step"], field)
        )
    clean, jittered = (
        gait_metrics(dataclasses.replace(g, contact=contact[motion, "rule"])) for motion in ("clean", "jittered")
    )
    for name in ("cadence", "contact_time_left", "contact_time_right", "flight_time"):
        assert jittered[name]["value"] == pytest.approx(clean[name]["value"], abs=20.0), name


@pytest.mark.parametrize(
    ("clip", "speed"), [("07/07_01.amc", 1.48), ("35/35_01.amc", 1.27), ("39/39_13.amc", 1.63), ("07/07_04.amc", 1.02)]
)
def test_real_walks_have_a_walk_s_contact_and_double_support(clip: str, speed: float) -> None:
    """CMU walks at 1.0-1.6 m/s imported on one body: stance ~60-65 % of the stride (people: 58-65 %, 550-750 ms
    at 1.1-1.6 m/s, longer when slower), both feet down between steps, never both off; the flight time is
    shown as a walk's (not a figure judged against running), and the walking ranges judge the rest."""
    ref = mocap_reference(require_shared_data("mocap", "cmu") / clip, BodyParams(1.75, 70.0), cycles=4, fps=30.0)
    assert ref.source["speed_mps"] == pytest.approx(speed, abs=0.05)
    m = gait_metrics(GaitInput(np.arange(ref.num_frames) / ref.fps, ref.qpos, ref.body, np.ones(ref.num_frames, bool)))
    assert m["cadence"]["value"] == pytest.approx(ref.source["cadence_spm"], abs=2.0)
    stride_ms = 120_000.0 / ref.source["cadence_spm"]
    for side in ("left", "right"):
        assert 0.56 * stride_ms <= m[f"contact_time_{side}"]["value"] <= 0.67 * stride_ms
    assert 0.55 <= m["duty_factor"]["value"] <= 0.67
    assert m["flight_time"]["value"] == 0.0 and m["flight_time"]["note"] == "walking: no flight phase"
    assert m["flight_time"]["status"] == "n/a" and m["flight_time"]["gait"] == "walking"
    assert format_value(m["flight_time"]) == "0 ms (walking: no flight phase)"
    assert 0.04 * stride_ms <= m["double_support"]["value"] <= 0.15 * stride_ms
    assert m["duty_factor"]["range"] == [0.58, 0.65]  # judged as a walk


def test_real_runs_have_a_flight_and_no_double_support() -> None:
    ref = mocap_reference(require_shared_data("mocap", "cmu") / "09/09_01.amc", BodyParams(1.75, 70.0), cycles=4)
    m = gait_metrics(GaitInput(np.arange(ref.num_frames) / ref.fps, ref.qpos, ref.body, np.ones(ref.num_frames, bool)))
    assert m["flight_time"]["value"] > 60 and m["flight_time"]["gait"] == "running" and m["flight_time"]["note"] is None
    assert m["double_support"]["value"] == 0.0 and m["double_support"]["note"] == "running: no double support"
    assert 200 <= m["contact_time_left"]["value"] <= 300 and m["duty_factor"]["range"] == [0.30, 0.45]


def _evidence(**kw) -> Evidence:
    run = synthetic_run()
    base = dict(seconds=3.0, fps=30.0, detected=np.ones(90, bool), person_px=600.0, mean_visibility=0.9,
                reprojection_px=4.0, camera_motion_known=True, closest=run, ideal=run, you_metrics=measured(run))  # fmt: skip
    return Evidence(**{**base, **kw})


def test_verdict_names_the_problem_its_cause_and_what_to_do() -> None:
    assert verdict(_evidence())["level"] == "reliable"
    run = synthetic_run()
    falling = dataclasses.replace(run, restart_times=[0.5, 1.0, 1.5, 2.0], restart_kinds=[FALL, FALL, LOST, FALL], fell=True, fall_time=0.5)
    v = verdict(_evidence(closest=falling, person_px=150.0))
    assert v["level"] == "unreliable" and v["headline"].startswith("UNRELIABLE: Closest could not follow")
    first = v["findings"][0]
    assert "4 restarts (3 falls, 1 lost the reference) in 3.0 s" in first["what"] and "--roi" in first["action"]
    gap = np.ones(90, bool)
    gap[30:75] = False
    v = verdict(_evidence(detected=gap, camera_motion_known=False))
    whats = " | ".join(f["what"] for f in v["findings"])
    assert "person out of view 1.0–2.5 s (50 % of the clip): not analysed" in whats and v["level"] == "unreliable"
    assert "camera motion unknown: speed and stride length not measured" in whats
    slow = measured(synthetic_run(seconds=6.0, step_s=0.7, contact_s=0.5))  # 86 steps/min with flight phases
    v = verdict(_evidence(you_metrics=slow))
    assert v["findings"][0]["what"].startswith("slow motion suspected: 86 steps/min")


def test_coaching_cues_use_reliable_differences_only() -> None:
    you, ideal = measured(synthetic_run(step_s=0.40)), measured(synthetic_run(step_s=0.35))
    cues = coaching_cues({"you": you, "closest": you, "ideal": ideal})
    assert cues[0]["metric"] == "cadence" and cues[0]["text"] == "cadence 150 → 171 steps/min: shorter, quicker steps"
    low = {k: {**m, "confidence": {"level": "low"}} for k, m in you.items()}
    assert coaching_cues({"you": low, "closest": low, "ideal": ideal}) == []
    slow_ideal = measured(synthetic_run(step_s=0.55))  # 109 steps/min: no runner's cadence to copy
    assert slow_ideal["cadence"]["status"] == "atypical"
    assert "cadence" not in [c["metric"] for c in coaching_cues({"you": you, "closest": you, "ideal": slow_ideal})]
    fast = measured(synthetic_run(step_s=0.15, contact_s=0.05, dt=0.005))  # 400 steps/min: timing is off
    assert fast["cadence"]["status"] == "implausible"
    assert coaching_cues({"you": fast, "closest": fast, "ideal": ideal}) == []
    walking = {k: {**m, "gait": "walking"} for k, m in you.items()}  # a walk is not coached towards a run
    assert coaching_cues({"you": walking, "closest": walking, "ideal": ideal}) == []


def test_restarted_run_is_measured_on_strides_between_restarts() -> None:
    """Three stretches between falls, each with its own gait; no stride spans a restart, and the median
    over the strides is the longest stretch's gait (it holds most of them)."""
    stretches = [  # (seconds, step time, contact time, speed): the middle one is the longest
        (0.9, 0.30, 0.20, 4.2),
        (1.8, 0.35, 0.24, 3.5),
        (0.6, 0.28, 0.18, 2.6),
    ]
    parts = [synthetic_run(seconds=s, step_s=step, contact_s=c, speed=v) for s, step, c, v in stretches]
    offset, restarts, x0 = 0.0, [], 0.0
    per_step = ("times", "qpos", "qvel", "actuator_force", "foot_contact", "foot_grf", "mpjpe", "residual_force_bw")
    pieces: dict[str, list[np.ndarray]] = {k: [] for k in per_step}
    for part in parts:
        qpos = part.qpos.copy()
        qpos[:, 0] += x0 - qpos[0, 0]  # each restart continues where the runner fell
        for key in pieces:
            pieces[key].append(qpos if key == "qpos" else getattr(part, key))
        pieces["times"][-1] = part.times + offset
        offset, x0 = offset + part.times[-1], qpos[-1, 0]
        restarts.append(offset)
    physics = StepPhysics(*(np.concatenate([getattr(p.physics, f.name) for p in parts]) for f in dataclasses.fields(StepPhysics)))
    run = dataclasses.replace(
        parts[0], **{k: np.concatenate(v) for k, v in pieces.items()}, fell=True, fall_time=restarts[0],
        restart_times=restarts[:-1], physics=physics,
    )  # fmt: skip
    m = measured(run)
    _, step, contact, speed = stretches[1]
    assert m["speed"]["value"] == pytest.approx(speed)
    assert m["cadence"]["value"] == pytest.approx(60 / step)
    assert m["contact_time_left"]["value"] == pytest.approx(1000 * contact)
    assert m["stride_length"]["value"] == pytest.approx(2 * step * speed)
    for a, b in m["cadence"]["window"]["spans_s"]:
        assert not any(a < r < b for r in run.restart_times)


def test_feet_carry_body_weight_in_quiet_standing() -> None:
    """Real MuJoCo: a body held upright by its servos; its feet's vertical forces must sum to its weight."""
    body = BodyParams(height=1.68, mass=61.0)
    env = gym.make("MotionLab/Track-v0", reference=standing_reference(body), body=body, reference_state_init=False)
    run = run_policy(env, zero_policy, 1.5)
    assert not run.fell and run.foot_contact.all()
    settled = run.foot_grf[15:] / (61.0 * G)  # after 0.45 s
    assert settled.sum(axis=1) == pytest.approx(1.0, abs=0.01)
    assert settled.mean(axis=0) == pytest.approx([0.5, 0.5], abs=0.02)  # a symmetric stance
    m = gait_metrics(run)
    assert m["contact_time_left"]["value"] is None and m["contact_time_left"]["status"] == "not enough data"


@pytest.mark.parametrize("drop_m", [0.1, 0.2])
def test_a_dropped_body_lands_when_free_fall_says(drop_m: float) -> None:
    """Real MuJoCo: released with its soles ``drop_m`` up, both feet touch down after sqrt(2 h / g)."""
    body = BodyParams()
    env = gym.make("MotionLab/Track-v0", reference=standing_reference(body, drop_m), body=body, reference_state_init=False)
    run = run_policy(env, zero_policy, 0.8)
    landing = np.sqrt(2 * drop_m / G)
    first_sample_down = run.times[run.times >= landing][0]  # contact is sampled once per control step
    for foot in range(2):
        down = np.flatnonzero(run.foot_contact[:, foot])
        assert run.times[down[0]] == pytest.approx(first_sample_down)
        assert (np.diff(down) == 1).all() and down[-1] == run.num_steps - 1  # then stays down
    assert [run.times[stances[0][0]] for stances in gait_events(run)] == pytest.approx([first_sample_down] * 2)
    assert run.foot_grf[-5:].sum(axis=1) / (body.mass * G) == pytest.approx(1.0, abs=0.01)


def test_runner_size_is_judged_only_for_keypoints_a_pose_model_found() -> None:
    from motionlab.assets import SAMPLE_INPUT
    from motionlab.inference.analysis import person_height_px
    from motionlab.lift import detected_frames

    sample = load_reference(SAMPLE_INPUT)  # projected from mocap: exact at any size
    detected = detected_frames(sample)
    assert person_height_px(sample, detected) is None
    as_if_detected = dataclasses.replace(sample, source={**sample.source, "model": {"name": "mediapipe.solutions.pose"}})
    assert 100 < person_height_px(as_if_detected, detected) < 300  # the sample's runner is ~170 px tall


def test_events_between_frames_give_at_30_fps_what_the_capture_rate_gives() -> None:
    """A CMU run (3.4 m/s) analysed at 30 fps and at its 120 Hz capture rate: events placed between the
    frames give the same cadence, contact time, overstride and knee at contact. On the frame after the
    event, 30 fps read the stride 1/4 frame long (-1.9 steps/min) and the foot 3.4 cm further under the body."""
    clip, body = require_shared_data("mocap", "cmu") / "09/09_01.amc", BodyParams(1.75, 70.0)
    m = {}
    for fps in (30.0, 120.0):
        ref = mocap_reference(clip, body, cycles=5, fps=fps)
        m[fps] = gait_metrics(GaitInput(np.arange(ref.num_frames) / fps, ref.qpos, ref.body, np.ones(ref.num_frames, bool)))
    for name, tol in (("cadence", 0.5), ("contact_time_left", 10.0), ("contact_time_right", 10.0),
                      ("flight_time", 10.0), ("overstride", 1.5), ("knee_flexion_contact", 2.0)):  # fmt: skip
        assert m[30.0][name]["value"] == pytest.approx(m[120.0][name]["value"], abs=tol), name


def test_a_walk_beside_a_run_shows_each_gait_s_range() -> None:
    """A walking You beside a running Ideal: each is judged against its own gait's published range, and
    the range column says which is which (it showed the You column's range for all three)."""
    walk, run = measured(synthetic_run()), measured(synthetic_run())
    walk = {k: {**m, "gait": "walking", "range": list(METRICS[k].walking) if METRICS[k].walking else None} for k, m in walk.items()}
    assert range_text([walk["cadence"], walk["cadence"], run["cadence"]]) == "walking 100–125 · running 150–190 steps/min"
    assert range_text([walk["overstride"], run["overstride"]]) == "5–15 cm"  # only the run has one
    assert range_text([run["cadence"], run["cadence"]]) == "150–190 steps/min"
    assert range_text([run["double_support"]]) == ""  # no published range for a run


def test_figures_read_at_foot_contact_are_coached_only_against_the_same_kind_of_events() -> None:
    """You's foot events are kinematic, the Ideal's come from its ground force (the kinematic rule read a
    simulated run's contacts 29-65 ms long and its overstride ~4 cm longer): a contact time or what is read
    at contact is compared with the Closest run (force events too), never across the two kinds."""
    you, ideal = measured(synthetic_run(contact_s=0.30)), measured(synthetic_run(contact_s=0.24))

    def events(column: dict, source: str) -> dict:
        return {k: {**m, "confidence": {**m["confidence"], "evidence": {**m["confidence"]["evidence"], "foot_events": source}}}
                for k, m in column.items()}  # fmt: skip

    same = coaching_cues({"you": events(you, KINEMATIC_EVENTS), "closest": events(you, FORCE_EVENTS), "ideal": events(ideal, KINEMATIC_EVENTS)})
    assert {c["compared"] for c in same if c["metric"].startswith("contact_time")} == {"you"}
    mixed = coaching_cues({"you": events(you, KINEMATIC_EVENTS), "closest": events(you, FORCE_EVENTS), "ideal": events(ideal, FORCE_EVENTS)})
    contact = [c for c in mixed if c["metric"].startswith("contact_time")]
    assert contact and {c["compared"] for c in contact} == {"closest"}
    assert all(c["text"].startswith("(Closest)") for c in contact)


def test_a_difference_with_nothing_to_advise_is_not_a_cue() -> None:
    """The sample's report coached "(Closest) left foot on the ground 240 ms (Ideal 268 ms)" with no advice:
    a shorter contact than the Ideal's (or a smaller hip drop) asks nothing of the runner."""
    you, ideal = measured(synthetic_run(contact_s=0.20)), measured(synthetic_run(contact_s=0.26))
    cues = coaching_cues({"you": you, "closest": you, "ideal": ideal})
    assert not [c for c in cues if c["metric"].startswith("contact_time")]
    longer = coaching_cues({"you": ideal, "closest": ideal, "ideal": you})  # the other way round: advice
    assert any(c["text"].endswith("quicker off the ground") for c in longer if c["metric"].startswith("contact_time"))
