"""Rollouts, gait metrics and the report: a real zero-policy Track run, and synthetic runs with known gaits."""

from __future__ import annotations

import dataclasses
import json

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest
from conftest import standing_reference

from motionlab.assets import DEFAULT_REFERENCE
from motionlab.body import BodyParams
from motionlab.inference.metrics import METRICS, gait_events, gait_metrics, live_gait
from motionlab.inference.report import REPORT_SCHEMA, write_report
from motionlab.inference.rollout import Rollout, run_policy, zero_policy
from motionlab.reference import load_reference

G = 9.81


def synthetic_run(
    seconds: float = 3.0, dt: float = 0.01, step_s: float = 0.35, contact_s: float = 0.24, speed: float = 3.5,
    power_w: float = 367.5, peak_bw: float = 2.5, mass: float = 70.0,
) -> Rollout:  # fmt: skip
    """A run with a known gait: alternating feet every ``step_s``, each down ``contact_s`` with a half-sine
    vertical force peaking at ``peak_bw``; constant speed; ``power_w`` of positive actuator power."""
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
    return Rollout(
        times=times, qpos=qpos, qvel=qvel, actuator_force=force, foot_contact=contact, foot_grf=grf,
        reward_terms={}, mpjpe=np.full(n, 0.03), residual_force_bw=np.full(n, 0.02), fell=False, fall_time=None, restart_times=[], diverged=None,
        body=BodyParams(mass=mass), dt=dt, end_reason="time limit",
    )  # fmt: skip


def test_metrics_of_a_known_gait() -> None:
    run = synthetic_run()
    m = gait_metrics(run)
    assert set(m) == set(METRICS)
    assert m["speed"]["value"] == pytest.approx(3.5)
    assert m["cadence"]["value"] == pytest.approx(60 / 0.35)
    assert m["stride_length"]["value"] == pytest.approx(2 * 0.35 * 3.5)
    assert m["contact_time"]["value"] == pytest.approx(240.0)
    assert m["duty_factor"]["value"] == pytest.approx(0.24 / 0.70)
    assert m["flight_time"]["value"] == pytest.approx(110.0)
    n = run.num_steps  # power summed over n samples, distance over n - 1 intervals
    assert m["cost_of_transport"]["value"] == pytest.approx(1.5 * n / (n - 1))
    assert m["peak_vgrf"]["value"] == pytest.approx(2.5, rel=0.01)
    assert m["tracking_error"]["value"] == pytest.approx(30.0)
    assert m["residual_force"]["value"] == pytest.approx(2.0)  # % of body weight
    assert all(v["ok"] is True and v["reason"] is None for v in m.values())
    assert m["cadence"]["unit"] == "steps/min" and m["cadence"]["range"] == [150.0, 190.0]


def test_out_of_range_values_are_flagged() -> None:
    m = gait_metrics(synthetic_run(step_s=0.25, contact_s=0.22, power_w=1000.0))
    assert m["cadence"]["value"] == pytest.approx(240.0) and m["cadence"]["ok"] is False
    assert m["flight_time"]["ok"] is False and m["cost_of_transport"]["ok"] is False


def test_a_bouncing_foot_is_not_a_new_step() -> None:
    run = synthetic_run()
    contact = run.foot_contact.copy()
    first = np.flatnonzero(contact[:, 0])[5]
    contact[first, 0] = False  # one-sample dropout inside a stance
    bounced = dataclasses.replace(run, foot_contact=contact)
    assert gait_metrics(bounced)["cadence"]["value"] == pytest.approx(60 / 0.35)
    assert len(gait_events(bounced).strike_times) == len(gait_events(run).strike_times)


def test_only_the_part_before_a_fall_counts() -> None:
    run = synthetic_run()
    qpos = run.qpos.copy()
    qpos[150:, 0] = qpos[149, 0]  # lying on the ground after the fall at 1.5 s
    fallen = dataclasses.replace(run, qpos=qpos, fell=True, fall_time=float(run.times[150]))
    m = gait_metrics(fallen)
    assert m["speed"]["value"] == pytest.approx(3.5) and m["cadence"]["value"] == pytest.approx(60 / 0.35)


@pytest.mark.parametrize("seconds", [0.01, 0.05, 0.3])
def test_short_clips_give_reasons_not_crashes(seconds: float) -> None:
    m = gait_metrics(synthetic_run(seconds=seconds))
    assert m["cadence"]["value"] is None and "foot strike" in m["cadence"]["reason"]
    assert (m["contact_time"]["value"] is None) == (seconds < 0.29)  # the first stance ends at 0.29 s
    assert (m["cost_of_transport"]["value"] is None) == (seconds < 0.15)  # needs 0.5 m of travel
    assert all((v["value"] is None) == (v["ok"] is None) == (v["reason"] is not None) for v in m.values())
    live = live_gait(synthetic_run(seconds=seconds))
    assert np.isnan(live["cadence"]).all() and live["speed"] == pytest.approx(3.5)


def test_live_numbers_follow_the_run() -> None:
    live = live_gait(synthetic_run())
    assert live["speed"] == pytest.approx(3.5)
    assert np.isnan(live["cadence"][:30]).all()  # one strike seen so far
    assert live["cadence"][100:] == pytest.approx(60 / 0.35)


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
    m = gait_metrics(r)
    assert m["speed"]["value"] == pytest.approx(ref.source["speed_mps"], rel=0.2)
    assert 0 < m["tracking_error"]["value"] < 300
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
    closest, ideal = gait_metrics(track_run), gait_metrics(synthetic_run())
    js, png = write_report(
        tmp_path / "report.json", tmp_path / "report.png", closest, ideal,
        extra={"body": track_run.body.to_dict(), "fell": track_run.fell, "fall_time": np.float64(0.7)},
        tracking_error=(track_run.times, track_run.mpjpe),
    )  # fmt: skip
    data = json.loads(js.read_text())
    assert data["schema"] == REPORT_SCHEMA and set(data["closest"]) == set(METRICS) == set(data["ideal"])
    assert data["ideal"]["cadence"]["value"] == pytest.approx(60 / 0.35) and data["extra"]["fall_time"] == 0.7
    assert len(data["tracking_error_series"]["mpjpe_mm"]) == track_run.num_steps
    image = imageio.imread(png)
    assert image.ndim == 3 and image.shape[0] > 600 and image.shape[1] > 1000
    assert image[..., :3].std() > 20  # a drawn chart, not a blank page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.png"]
    with pytest.raises(ValueError, match="different metrics"):
        write_report(tmp_path / "r.json", tmp_path / "r.png", closest, {"speed": ideal["speed"]})


def test_restarted_run_is_analysed_on_its_longest_stretch_between_falls() -> None:
    run = synthetic_run()
    t = run.times
    restarts = [float(t[len(t) // 5]), float(t[len(t) // 4])]  # short stretches first, the longest last
    restarted = dataclasses.replace(run, fell=True, fall_time=restarts[0], restart_times=restarts)
    m = gait_metrics(restarted)
    assert m["cadence"]["value"] == pytest.approx(60 / 0.35, rel=0.02)
    whole = gait_metrics(run)
    assert m["speed"]["value"] == pytest.approx(whole["speed"]["value"], rel=1e-6)


def test_track_rollout_restarts_after_falls_and_keeps_time_running() -> None:
    env = gym.make("MotionLab/Track-v0", reference_state_init=False)
    run = run_policy(env, zero_policy, seconds=3.0, restart_on_fall=True)
    assert run.restart_times, "the PD servos alone fall within a second; the run must restart"
    assert run.duration == pytest.approx(3.0 - run.dt, abs=1e-6)
    assert (np.diff(run.times) > 0).all()
    assert run.fell and run.fall_time in run.restart_times  # a restart follows a fall or a drift off the reference
    # a restart continues from the reference where it stopped: the runner keeps moving forward
    assert run.qpos[-1, 0] > 5.0


def test_restarted_run_is_measured_on_its_longest_stretch_only() -> None:
    """Three stretches between falls, each with its own gait; the metrics must be the longest one's."""
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
    run = dataclasses.replace(
        parts[0], **{k: np.concatenate(v) for k, v in pieces.items()}, fell=True, fall_time=restarts[0],
        restart_times=restarts[:-1],
    )  # fmt: skip
    m = gait_metrics(run)
    _, step, contact, speed = stretches[1]
    assert m["speed"]["value"] == pytest.approx(speed)
    assert m["cadence"]["value"] == pytest.approx(60 / step)
    assert m["contact_time"]["value"] == pytest.approx(1000 * contact)
    assert m["stride_length"]["value"] == pytest.approx(2 * step * speed)


def test_feet_carry_body_weight_in_quiet_standing() -> None:
    """Real MuJoCo: a body held upright by its servos; its feet's vertical forces must sum to its weight."""
    body = BodyParams(height=1.68, mass=61.0)
    env = gym.make("MotionLab/Track-v0", reference=standing_reference(body), body=body, reference_state_init=False)
    run = run_policy(env, zero_policy, 1.5)
    assert not run.fell and run.foot_contact.all()
    settled = run.foot_grf[15:] / (61.0 * G)  # after 0.45 s
    assert settled.sum(axis=1) == pytest.approx(1.0, abs=0.01)
    assert settled.mean(axis=0) == pytest.approx([0.5, 0.5], abs=0.02)  # a symmetric stance
    assert gait_metrics(run)["contact_time"]["value"] is None  # no strike, no toe-off: no complete stance


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
    assert gait_events(run).strike_times == pytest.approx([first_sample_down] * 2)
    assert run.foot_grf[-5:].sum(axis=1) / (body.mass * G) == pytest.approx(1.0, abs=0.01)
