"""The one estimator of step timing from the body's bounce (:func:`motionlab.gait.bounce_period`): a
synthetic bounce of known period, and real CMU runs and walks through the project's importer, where the
centre of mass (the report's check of foot events) and the image trunk (the slow-motion check) must both
give the clip's own step period."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import require_shared_data

from motionlab.body import BodyParams
from motionlab.gait import bounce_period, step_period
from motionlab.humanoid import build_model
from motionlab.mocap import mocap_reference
from motionlab.motion import Kinematics
from motionlab.reference import Reference

BODY = BodyParams(height=1.75, mass=70.0)


@pytest.mark.parametrize("period_s", [0.33, 0.37, 0.55, 0.74])  # sprint, run, walk, a run in 2x slow motion
def test_a_synthetic_bounce_gives_its_period(period_s: float) -> None:
    fps = 30.0
    t = np.arange(int(6 * period_s * fps) + 1) / fps
    rng = np.random.default_rng(0)
    height = 0.95 + 0.04 * np.sin(2 * np.pi * t / period_s) + 0.02 * t + rng.normal(0, 0.004, len(t))  # drift, noise
    period, correlation = bounce_period(height, fps)
    assert period == pytest.approx(period_s, rel=0.02) and correlation > 0.5


def test_a_limp_s_bounce_is_timed_by_the_step_not_the_stride() -> None:
    """Every other step bounces higher: the first clear repeat is the stride; its half, the step, is taken."""
    fps, step = 60.0, 0.36
    t = np.arange(int(5 * fps)) / fps
    height = np.abs(np.sin(np.pi * t / step)) * np.where(np.sin(np.pi * t / step / 2) > 0, 0.10, 0.05)
    assert bounce_period(height, fps)[0] == pytest.approx(step, rel=0.02)


def test_no_bounce_no_period() -> None:
    t = np.arange(120) / 30.0
    assert bounce_period(0.9 + 0.001 * t, 30.0)[0] is None
    assert bounce_period(np.random.default_rng(1).normal(0, 1e-3, 120), 30.0)[0] is None
    assert bounce_period(np.full(5, 0.9), 30.0) == (None, 0.0)  # too short to tell


@functools.cache
def _cmu(clip: str) -> Reference:
    return mocap_reference(require_shared_data("mocap", "cmu") / clip, BODY, cycles=5, fps=30.0)


@pytest.mark.parametrize("clip", ["09/09_01.amc", "16/16_35.amc", "07/07_01.amc", "39/39_13.amc"])
def test_real_runs_and_walks_bounce_once_per_step(clip: str) -> None:
    """CMU runs (3.4, 2.8 m/s) and walks (1.5, 1.6 m/s) imported on one body: their centre of mass and
    their trunk in the image both repeat at the clip's step period (half its gait cycle)."""
    ref = _cmu(clip)
    step_s = ref.source["stride_period_s"] / 2
    com = Kinematics(build_model(ref.body)).run(ref.qpos).com[:, 2]
    assert bounce_period(com, ref.fps)[0] == pytest.approx(step_s, rel=0.01)
    assert step_period(ref)[0] == pytest.approx(step_s, rel=0.01)
