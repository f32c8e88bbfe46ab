import numpy as np
import pytest

from motionlab.body import LENGTH_FRACTIONS, BodyParams, BodyParamsError, random_body


def test_defaults_follow_anthropometric_proportions():
    b = BodyParams(height=1.8, mass=75).resolved()
    for name, frac in LENGTH_FRACTIONS.items():
        assert b.segment(name) == pytest.approx(frac * 1.8)
    stature = b.ankle_height + b.shank + b.thigh + b.torso + b.neck_head
    assert stature == pytest.approx(1.8, rel=0.01)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"height": -1.7}, "height"),
        ({"height": 0.0}, "height"),
        ({"mass": 0.0}, "mass"),
        ({"mass": 1.0}, "mass"),  # a 1 kg adult
        ({"shank": 5.0}, "shank"),  # a 5 m shank
        ({"thigh": -0.4}, "thigh"),
        ({"height": float("nan")}, "height"),
        ({"height": 1.8, "mass": 400.0}, "mass"),
    ],
)
def test_absurd_values_are_rejected_with_field_and_range(kwargs, field):
    with pytest.raises(BodyParamsError) as err:
        BodyParams(**kwargs)
    message = str(err.value)
    assert field in message and "[" in message and "]" in message


def test_inconsistent_segments_are_rejected():
    with pytest.raises(BodyParamsError, match="stature"):
        BodyParams(height=1.75, thigh=0.55, shank=0.55, torso=0.6)


def test_dict_and_json_round_trip():
    b = BodyParams(height=1.62, mass=55, thigh=0.41)
    assert BodyParams.from_json(b.to_json()) == b.resolved()
    assert BodyParams.coerce({"height": 1.62, "mass": 55, "thigh": 0.41}) == b
    assert BodyParams.coerce(None) == BodyParams()
    with pytest.raises(BodyParamsError, match="unknown body parameter"):
        BodyParams.from_dict({"heigth": 1.7})


def test_random_bodies_are_valid_and_varied():
    rng = np.random.default_rng(0)
    bodies = [random_body(rng, 0.15) for _ in range(50)]
    heights = [b.height for b in bodies]
    assert max(heights) - min(heights) > 0.2
    assert len({b.thigh for b in bodies}) == 50
