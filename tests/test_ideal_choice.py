"""The main job picks the Ideal's gait (walk or run) and speed from how the user moves."""

import copy
from pathlib import Path

import pytest

from motionlab.inference.pipeline import DEFAULT_IDEAL_CKPT, choose_ideal
from motionlab.policy_io import load_policy


@pytest.fixture(scope="module")
def policies():
    run = load_policy(DEFAULT_IDEAL_CKPT)  # the shipped running policy
    walk = load_policy(DEFAULT_IDEAL_CKPT)
    walk.env_kwargs["target_speed_range"] = [0.8, 2.0]  # stands in for a walk policy
    walk.meta = {k: v for k, v in walk.meta.items() if k != "held_speed_range_mps"}  # trained range only
    return (Path("run"), run), (Path("walk"), walk)


def test_a_runner_gets_the_running_ideal_at_their_speed(policies):
    run, walk = policies
    choice = choose_ideal(3.3, 0.35, run, walk)
    assert (choice.gait, choice.checkpoint, choice.target_speed) == ("run", Path("run"), 3.3)


def test_a_walker_gets_the_walk_policy_when_one_is_installed(policies):
    run, walk = policies
    choice = choose_ideal(1.3, 0.62, run, walk)
    assert (choice.gait, choice.checkpoint, choice.target_speed) == ("walk", Path("walk"), 1.3)
    # no flight phase decides, not speed: a fast walker (2.2 m/s, duty factor 0.55) still walks
    assert choose_ideal(2.2, 0.55, run, walk).gait == "walk"
    # without a duty factor (no complete step in the Closest run) the speed decides
    assert choose_ideal(1.5, None, run, walk).gait == "walk" and choose_ideal(2.5, None, run, walk).gait == "run"


def test_without_a_walk_policy_the_ideal_runs_and_says_so(policies):
    run, _ = policies
    choice = choose_ideal(1.3, 0.62, run, None)
    assert (choice.gait, choice.target_speed) == ("run", choice.speed_range[0])
    assert "no Ideal walk policy" in choice.note and "walks at 1.30 m/s" in choice.note


def test_the_verdict_says_when_the_ideal_is_not_at_the_users_speed_or_gait(policies):
    """A jogger below the policy's speeds, or a walker without a walk policy, gets a warning in the verdict
    (the Ideal's figures compare with another speed or gait); a runner inside its speeds gets none."""
    import dataclasses

    from motionlab.inference.reliability import verdict
    from tests.test_metrics import _evidence

    run, walk = policies
    lo, hi = choose_ideal(3.3, 0.35, run, walk).speed_range
    jogger = choose_ideal(lo - 0.8, 0.38, run, walk)
    warning = jogger.finding(speed_known=True)
    assert warning.severity == "warning" and f"not your {lo - 0.8:.1f} m/s" in warning.what
    assert f" {lo:g}-{hi:g} m/s only" in warning.cause
    assert jogger.finding(speed_known=False) is None  # an unmeasured speed is the camera warning's business
    assert choose_ideal(3.3, 0.35, run, walk).finding(speed_known=True) is None
    walker = choose_ideal(1.3, 0.62, run, None).finding(speed_known=True)
    assert walker.what.endswith("while you walk at 1.3 m/s") and "no Ideal walk policy" in walker.cause
    assert choose_ideal(1.3, 0.62, run, walk).finding(speed_known=True) is None  # the walk policy covers 1.3
    judged = verdict(_evidence(extra_findings=[warning]))
    assert judged["level"] == "use with care" and judged["findings"][0]["what"] == warning.what
    assert dataclasses.replace(jogger, target_speed=jogger.user_speed).finding(speed_known=True) is None
    assert jogger.panel_note(speed_known=True) == f"asked {lo:.1f} m/s, not your {lo - 0.8:.1f}"
    assert choose_ideal(1.3, 0.62, run, None).panel_note(speed_known=True) == "runs: no walk policy installed"
    assert choose_ideal(3.3, 0.35, run, walk).panel_note(speed_known=True) is None


def test_a_measured_speed_range_replaces_the_trained_one(policies):
    """A policy whose meta.json holds the speeds it ran without a fall (eval_ideal.py --record-range) is
    asked only for those, and the report says the range was measured."""
    import copy

    from motionlab.inference.pipeline import ideal_speed_range

    (_, run), _ = policies
    held = copy.copy(run)
    held.meta = {**run.meta, "held_speed_range_mps": [2.2, 4.0]}
    assert ideal_speed_range(held) == (2.2, 4.0)
    choice = choose_ideal(4.8, 0.3, (Path("run"), held), None)
    assert choice.target_speed == 4.0 and "measured to run without a fall at 2.2-4 m/s" in choice.note
    assert "measured to run without a fall at 2.2-4 m/s only" in choice.finding(speed_known=True).cause


def test_the_ideal_env_gets_the_gait_its_policy_was_trained_on(policies):
    """A walk checkpoint (env_kwargs gait=walk) runs in a walking env: its actions are offsets from the walk."""
    from motionlab.inference.pipeline import _make_env

    _, (_, walk) = policies
    walk = copy.copy(walk)
    walk.env_kwargs = {**walk.env_kwargs, "gait": "walk"}
    env = _make_env(walk, walk.env_id, 2.0, target_speed=1.3)
    assert env.unwrapped.gait == "walk" and env.unwrapped.stride_period > 1.0  # the CMU walk's 1.07 s stride
