"""benchmarks/eval_ideal.py: one short run of the shipped Ideal policy measured as the benchmark does."""

import importlib.util

import pytest
from conftest import REPO_ROOT

from motionlab.body import BodyParams
from motionlab.inference.pipeline import DEFAULT_IDEAL_CKPT
from motionlab.policy_io import load_policy

spec = importlib.util.spec_from_file_location("eval_ideal", REPO_ROOT / "benchmarks" / "eval_ideal.py")
eval_ideal = importlib.util.module_from_spec(spec)
spec.loader.exec_module(eval_ideal)


def test_a_run_is_measured_over_physics_steps_before_any_fall():
    """The shipped Ideal-v0 policy in Ideal-v1 (zero clock action) at 3.5 m/s for 4 s on the default body."""
    row = eval_ideal.run_one(load_policy(DEFAULT_IDEAL_CKPT), BodyParams(), 3.5, 4.0, seed=0)
    assert not row["fell"] and row["seconds_before_fall"] == pytest.approx(4.0, abs=0.05)
    assert 3.0 < row["speed"] < 4.0 and 120 < row["cadence"] < 200 and 2.0 < row["stride_length"] < 3.5
    assert 0.0 < row["duty_factor"] < 0.5 and row["flight_time"] > 0  # running: both feet off the ground
    assert 2.0 < row["vertical_oscillation_cm"] < 20.0
    assert 1.5 < row["peak_vgrf_bw"] < 6.0 and row["loading_rate_bw_s"] > 10.0
    # the run's work over its distance and the report's median over strides: one measurement of the same work
    assert row["mechanical_cot"] == pytest.approx(row["mechanical_cot_strides"], rel=0.15)
    assert row["metabolic_cot"] > 4 * row["mechanical_cot"] > 0  # 25 % efficiency of positive work, plus heat


def test_the_held_speed_range_is_the_widest_run_of_running_speeds_without_a_fall(tmp_path):
    import json
    import shutil

    summary = {s: {"falls": f} for s, f in (("1", 0), ("1.5", 0), ("2", 1), ("2.5", 0), ("3", 0), ("3.5", 0), ("5", 0), ("6", 2))}
    assert eval_ideal.held_speed_range(summary) == [2.5, 5.0]  # walking speeds do not count
    assert eval_ideal.held_speed_range({"2.5": {"falls": 3}, "3": {"falls": 1}}) is None
    ckpt = tmp_path / "ideal"
    shutil.copytree(DEFAULT_IDEAL_CKPT, ckpt)
    eval_ideal.record_held_range(ckpt, [2.5, 5.0], "label|10s|x1|3 bodies")
    meta = json.loads((ckpt / "meta.json").read_text())
    assert meta["held_speed_range_mps"] == [2.5, 5.0] and "label|10s" in meta["held_speed_range_source"]
    assert load_policy(ckpt).meta["held_speed_range_mps"] == [2.5, 5.0]  # still a loadable checkpoint


def test_a_walk_policy_is_held_to_walking_norms():
    """Walking speeds count for a walk policy's speed range, and its cadence is checked against walking's."""
    summary = {s: {"falls": f} for s, f in (("0.8", 1), ("1", 0), ("1.5", 0), ("2", 0), ("2.5", 0))}
    assert eval_ideal.held_speed_range(summary, "walk") == [1.0, 2.0]  # 2.5 m/s is no walk
    walker = {"target_speed_mps": 1.4, "height_m": 1.75, "mass_kg": 70.0, "fell": False, "speed": 1.4,
              "cadence": 112.0, "peak_vgrf_bw": 1.2, "duty_factor": 0.62}  # fmt: skip  (CMU 07_01's walk)
    row = eval_ideal.summarise([walker], "walk")["1.4"]
    assert row["cadence_within_5pct"] == row["peak_vgrf_in_range"] == row["duty_factor_in_range"] == 1
    assert eval_ideal.summarise([walker], "run")["1.4"].get("cadence_within_5pct") is None  # not a run
