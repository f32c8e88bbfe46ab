"""MotionLab/Ideal-v2: the gait clock starts from people's cadence at the speed, for the body."""

import gymnasium as gym
import numpy as np
import pytest

import motionlab  # noqa: F401  (registers the envs)
from motionlab.body import BodyParams
from motionlab.running_norms import HUMAN_RUNNING_CADENCE, body_cadence, human_cadence


def _clock_cadence(env_id: str, body: BodyParams, speed: float) -> float:
    env = gym.make(env_id, body=body, target_speed=speed)
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.zeros(env.action_space.shape))
    return float(info["cadence_spm"])


def test_the_human_relation_goes_through_the_published_cadences():
    for speed, cadence, _ in HUMAN_RUNNING_CADENCE:
        assert human_cadence(speed) == pytest.approx(cadence, rel=0.05)
    assert 150 < human_cadence(2.5) < 165 and human_cadence(5.5) > 180


@pytest.mark.parametrize("speed", [2.0, 2.5, 3.5, 5.0])
def test_the_clock_runs_at_peoples_cadence_where_v1_took_the_athletes_stride(speed):
    body = BodyParams().resolved()
    v2 = _clock_cadence("MotionLab/Ideal-v2", body, speed)
    assert v2 == pytest.approx(human_cadence(speed), rel=0.01)
    if speed <= 2.5:  # Ideal-v1: cadence proportional to speed, far below people's when jogging
        assert _clock_cadence("MotionLab/Ideal-v1", body, speed) < 0.8 * v2


def test_taller_runners_take_fewer_steps_at_the_same_speed():
    short, tall = BodyParams(height=1.6, mass=60).resolved(), BodyParams(height=1.9, mass=85).resolved()
    assert _clock_cadence("MotionLab/Ideal-v2", tall, 3.5) < _clock_cadence("MotionLab/Ideal-v2", short, 3.5)
    # dynamic similarity: the same Froude number, the same steps per leg length
    ratio = np.sqrt(short.leg_length / tall.leg_length)
    assert body_cadence(3.5 / ratio, tall.leg_length) == pytest.approx(ratio * body_cadence(3.5, short.leg_length))


def test_the_walking_relation_matches_the_bundled_cmu_walk():
    """The walk ratio's cadence agrees with a real walker's (CMU 07_01, measured on the capture) within 5 %."""
    from motionlab.assets import DEFAULT_WALK_REFERENCE
    from motionlab.reference import load_reference
    from motionlab.running_norms import human_walking_cadence

    source = load_reference(DEFAULT_WALK_REFERENCE).source
    assert human_walking_cadence(source["subject_speed_mps"]) == pytest.approx(source["cadence_spm"], rel=0.05)
    # people walk well below their running cadence, and quicken their steps as they walk faster
    assert human_walking_cadence(1.0) < human_walking_cadence(1.5) < human_walking_cadence(2.0) < human_cadence(2.4)


@pytest.mark.parametrize("speed", [0.8, 1.3, 2.0])
def test_the_walk_clock_starts_at_peoples_walking_cadence(speed):
    body = BodyParams(height=1.62, mass=58).resolved()
    env = gym.make("MotionLab/Ideal-v2", gait="walk", body=body, target_speed=speed)
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.zeros(env.action_space.shape))
    assert info["cadence_spm"] == pytest.approx(body_cadence(speed, body.leg_length, "walk"), rel=0.01)
    assert env.unwrapped.style_reference.source["file"] == "07_01.amc"  # the prior and style are the CMU walk


def test_an_unknown_gait_is_refused():
    with pytest.raises(ValueError, match="gait"):
        gym.make("MotionLab/Ideal-v2", gait="skip")
    with pytest.raises(ValueError, match="gait"):
        body_cadence(1.0, 0.9, "skip")
