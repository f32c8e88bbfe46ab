"""What the main job's results mean, with the shipped policies on the embedded sample.

One short run of the whole job (3.5 s of the sample, small video) is shared by the tests. Its two
rollouts are recorded as the job makes them (the real ``run_policy`` runs; it is only watched), so the
video's panels can be compared with renders of the runs they are labelled with. The bounds were set
from what the shipped policies achieve, with a modest margin, and zero-action policies fail them.

Ground truth: the embedded sample is the real running clip on the default body (1.75 m, 70 kg, Winter's
proportions) at ``source["speed_mps"]`` (3.69 m/s), projected to 2D (``scripts/make_default_reference.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import pytest

import motionlab.inference.rollout as rollout_module
from motionlab.assets import SAMPLE_INPUT
from motionlab.body import BodyParams
from motionlab.humanoid import build_model
from motionlab.inference.compose import facing_azimuth, panel_boxes
from motionlab.inference.pipeline import DEFAULT_IDEAL_CKPT, InferenceConfig, ideal_speed_range, run_inference
from motionlab.inference.rollout import Rollout, ZeroPolicy, run_policy
from motionlab.policy_io import load_policy
from motionlab.reference import load_reference
from motionlab.render import HumanoidRenderer

SECONDS = 3.5
SIZE = (800, 448)  # panels of 400 x 224: enough to tell two poses apart, cheap to render
# The shipped tracker on this run: mean tracking error 37 mm (max 54), no fall. Zero action: falls at ~1 s.
MAX_MEAN_TRACKING_ERROR_MM = 45.0
# The shipped ideal policy reaches 3.63 m/s for a 3.69 m/s target over these 3.5 s (1.5 % slow).
SPEED_TOLERANCE = 0.04
SAMPLE = load_reference(SAMPLE_INPUT)
TRUE_SPEED = float(SAMPLE.source["speed_mps"])
TRUE_BODY = BodyParams(height=1.75, mass=70.0).resolved()


@dataclass
class JobRun:
    """One run of the main job: its outputs and the rollouts (with their envs) it simulated."""

    out: Path
    report: dict[str, Any]
    runs: dict[str, tuple[Rollout, Any]]  # "closest" / "ideal" -> (rollout, env)


def run_job(out: Path, **cfg: Any) -> JobRun:
    """Run the main job on the embedded sample, watching every rollout it makes."""
    seen: list[tuple[Rollout, Any]] = []

    def watched(env: Any, *args: Any, **kwargs: Any) -> Rollout:
        rollout = run_policy(env, *args, **kwargs)
        seen.append((rollout, env))
        return rollout

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rollout_module, "run_policy", watched)
        # the shipped policies alone: the MPC refinement of the Closest run is tested in test_refine.py
        run_inference(InferenceConfig(out=out, size=SIZE, refine="off", **cfg))
    report = json.loads(out.with_suffix(".json").read_text())
    # Track-v0 rollouts carry a tracking error; Ideal-v0 rollouts have no reference to track
    runs = {("closest" if r.mpjpe is not None else "ideal"): (r, env) for r, env in seen}
    assert len(seen) == 2 and set(runs) == {"closest", "ideal"}, "the job should simulate one Closest and one Ideal run"
    return JobRun(out, report, runs)


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> JobRun:
    return run_job(tmp_path_factory.mktemp("job") / "result.mp4", seconds=SECONDS)


def tracking_problems(run: Rollout) -> list[str]:
    """Why a Closest run does not count as tracking the sample (empty when it does)."""
    problems = []
    if run.fell or run.restart_times:
        problems.append(f"fell at {run.fall_time:.2f} s ({len(run.restart_times)} restarts)")
    if run.duration < SECONDS - 2 * run.dt:
        problems.append(f"ran {run.duration:.2f} s of {SECONDS} s")
    error_mm = 1000.0 * float(np.mean(run.mpjpe))
    if error_mm > MAX_MEAN_TRACKING_ERROR_MM:
        problems.append(f"mean tracking error {error_mm:.0f} mm > {MAX_MEAN_TRACKING_ERROR_MM:.0f} mm")
    return problems


def test_closest_runs_the_sample_without_a_fall_and_tracks_it_closely(job: JobRun) -> None:
    closest, _ = job.runs["closest"]
    assert tracking_problems(closest) == []
    summary = job.report["extra"]["closest"]
    assert summary["fell"] is False and summary["restarts"] == 0
    assert job.report["closest"]["tracking_error"]["value"] == pytest.approx(1000.0 * np.mean(closest.mpjpe), abs=0.01)


def test_zero_action_fails_the_tracking_bound(job: JobRun) -> None:
    """The bound above means something: the PD servos alone, on the same lifted reference, fall within ~1 s."""
    _, env = job.runs["closest"]
    zero = run_policy(env, ZeroPolicy(env.action_space.shape[0]), SECONDS, restart_on_fall=True)
    problems = tracking_problems(zero)
    assert any(p.startswith("fell") for p in problems)
    assert zero.fall_time < 1.5


def test_residual_force_is_reported_and_a_fully_physical_closest_run_is_one_option_away(job: JobRun, tmp_path) -> None:
    closest, env = job.runs["closest"]
    trained_limit = env.unwrapped.residual_force_scale
    assert job.report["extra"]["closest_residual_force"] == {"mode": "on", "limit_bw": pytest.approx(trained_limit)}
    assert trained_limit > 0.0 and closest.residual_force_bw.max() > 0.0  # the default run uses it, visibly

    physical = run_job(tmp_path / "physical.mp4", seconds=1.5, residual_force=False)
    closest, env = physical.runs["closest"]
    assert physical.report["extra"]["closest_residual_force"] == {"mode": "off", "limit_bw": 0.0}
    assert env.unwrapped.residual_force_scale == 0.0 and not env.unwrapped.data.xfrc_applied.any()
    assert not closest.residual_force_bw.any() and physical.report["closest"]["residual_force"]["value"] == 0.0
    assert physical.report["extra"]["closest"]["restarts"] == len(closest.restart_times)  # falls stay reported


def test_ideal_is_asked_for_the_users_speed_and_reaches_it(job: JobRun) -> None:
    lo, hi = ideal_speed_range(load_policy(DEFAULT_IDEAL_CKPT))
    extra = job.report["extra"]
    # the user's speed is measured from the video, not assumed: the sample was made at 3.69 m/s
    assert extra["user_speed_mps"] == pytest.approx(TRUE_SPEED, rel=0.02)
    expected_target = float(np.clip(TRUE_SPEED, lo, hi))
    assert extra["ideal_target_speed_mps"] == pytest.approx(expected_target, rel=0.02)
    ideal, env = job.runs["ideal"]
    assert env.unwrapped.target_speed == pytest.approx(extra["ideal_target_speed_mps"])  # what the runner was asked
    assert not ideal.fell
    achieved = job.report["ideal"]["speed"]["value"]
    assert achieved == pytest.approx(expected_target, rel=SPEED_TOLERANCE)


def _panel(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return frame[y : y + h, x : x + w]


def test_each_panel_shows_the_run_it_is_labelled_with(job: JobRun) -> None:
    """Frames of the video, panel by panel, against renders of each run's pose at that time."""
    frames = iio.imread(job.out, index=None)
    fps = iio.immeta(job.out)["fps"]
    boxes = panel_boxes(SIZE, with_original=True)
    closest, ideal = job.runs["closest"][0], job.runs["ideal"][0]
    _, _, w, h = boxes["closest"]
    below_labels = slice(h // 3, None)  # the title and live numbers sit in the panel's top-left corner
    opts = dict(framing_height=closest.body.height, shadows=False, reflections=False, antialias=False)
    # filmed as the video films each run: side-on to its own mean heading (the sample runs to the right)
    with (
        HumanoidRenderer(build_model(closest.body), w, h, azimuth_deg=facing_azimuth(closest.qpos, True), **opts) as render_closest,
        HumanoidRenderer(build_model(ideal.body), w, h, azimuth_deg=facing_azimuth(ideal.qpos, True), **opts) as render_ideal,
    ):
        for t in (1.0, 2.0, 3.0):
            k = int(round(t * fps))
            expected = {
                "closest": render_closest.render(closest.qpos[np.argmin(np.abs(closest.times - k / fps))]),
                "ideal": render_ideal.render(ideal.qpos[np.argmin(np.abs(ideal.times - k / fps))]),
            }
            expected = {name: image[below_labels].astype(float) for name, image in expected.items()}
            # where the two runs' renders differ (the bodies), the panel must match its own run
            differs = np.abs(expected["closest"] - expected["ideal"]).max(axis=-1) > 40
            assert differs.mean() > 0.01, f"at {t} s the two runs look alike; pick another time"
            for name, other in (("closest", "ideal"), ("ideal", "closest")):
                shown = _panel(frames[k], boxes[name])[below_labels].astype(float)
                own = np.abs(shown - expected[name])[differs].mean()
                wrong = np.abs(shown - expected[other])[differs].mean()
                assert own < 0.3 * wrong, f"{name} panel at {t} s: {own:.1f} from its run, {wrong:.1f} from the {other} run"


def search_body(tmp_path: Path, height: float, mass: float) -> dict[str, Any]:
    """The body ``motionlab-infer --body-search 4`` picks on 1 s of the sample, started from (height, mass).
    A separate process: a second job in the process of the module's job hung in the parallel renderer."""
    out = tmp_path / "r.mp4"
    args = ["--out", str(out), "--seconds", "1", "--height", str(height), "--mass", str(mass)]
    args += ["--body-search", "4", "--body-search-seconds", "0.5", "--refine", "off"]
    subprocess.run([sys.executable, "-m", "motionlab.commands.infer", *args], check=True, capture_output=True, timeout=300)
    return json.loads(out.with_suffix(".json").read_text())["extra"]["body"]


def test_body_search_keeps_the_body_that_fits_best(tmp_path) -> None:
    """Started from the true body, the search must end on it: every other candidate reprojects worse."""
    body = search_body(tmp_path, TRUE_BODY.height, TRUE_BODY.mass)
    assert body["height"] == pytest.approx(TRUE_BODY.height, rel=0.005)
    for segment in BodyParams.SEGMENTS:
        assert body[segment] == pytest.approx(TRUE_BODY.segment(segment), rel=0.01), segment


@pytest.mark.xfail(
    strict=True,
    reason="known limitation: the search scores candidates by 2D reprojection error with the camera estimated per "
    "body, which cannot tell a body's size from its distance; from a wrong height guess it keeps the guess "
    "(from 1.60 m: 1.60 m, 0.38 px, against 0.6-1.0 px for candidates closer to the true 1.75 m)",
)
def test_body_search_recovers_the_height_from_a_wrong_guess(tmp_path) -> None:
    guess = BodyParams(height=1.60, mass=58.0)
    height = search_body(tmp_path, guess.height, guess.mass)["height"]
    assert abs(height - TRUE_BODY.height) < abs(guess.height - TRUE_BODY.height) / 2
