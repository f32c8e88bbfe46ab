import json

import numpy as np
import pytest

from motionlab.assets import DEFAULT_REFERENCE
from motionlab.body import BodyParams
from motionlab.humanoid import NQ
from motionlab.reference import Reference, ReferenceFormatError, load_reference, save_reference


def make_arrays(T=5, **over):
    arrays = {
        "schema_version": np.asarray(1),
        "fps": np.asarray(30.0),
        "keypoints2d": np.random.default_rng(0).uniform(0, 1, (T, 33, 3)).astype(np.float32),
        "keypoints2d_valid": np.ones(T, bool),
        "image_size": np.asarray([640, 480]),
        "source": np.asarray(json.dumps({"kind": "test"})),
    }
    arrays.update(over)
    return {k: v for k, v in arrays.items() if v is not None}


def write(tmp_path, arrays, name="ref.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_round_trip_keeps_everything(tmp_path):
    ref = load_reference(DEFAULT_REFERENCE)
    out = save_reference(ref, tmp_path / "copy.npz")
    back = load_reference(out)
    np.testing.assert_array_equal(back.keypoints2d, ref.keypoints2d)
    np.testing.assert_array_equal(back.qpos, ref.qpos)
    assert back.body == ref.body and back.fps == ref.fps and back.source == ref.source
    assert back.world_keypoints.shape == (ref.num_frames, 33, 3)
    assert list(tmp_path.iterdir()) == [out]  # no temporary files left


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"keypoints2d": None}, "missing required key"),
        ({"fps": np.asarray(0.0)}, "fps must be a positive number"),
        ({"fps": np.asarray(np.nan)}, "fps must be a positive number"),
        ({"keypoints2d": np.full((5, 33, 3), np.nan, np.float32)}, "NaN"),
        ({"keypoints2d": np.zeros((5, 17, 3), np.float32)}, "shape (T, 33, 3)"),
        ({"keypoints2d": np.zeros((1, 33, 3), np.float32), "keypoints2d_valid": np.ones(1, bool)}, "at least 2 frames"),
        ({"image_size": np.asarray([640.0, -1.0])}, "image_size"),
        ({"schema_version": np.asarray(7)}, "schema_version"),
        ({"qpos": np.zeros((5, NQ))}, "joint_names"),
        ({"source": np.asarray("{not json")}, "source is not valid JSON"),
    ],
)
def test_each_problem_gets_a_clear_error(tmp_path, over, expected):
    path = write(tmp_path, make_arrays(**over))
    with pytest.raises(ReferenceFormatError) as err:
        load_reference(path)
    assert expected in str(err.value) and str(path) in str(err.value)


def test_several_problems_are_all_listed(tmp_path):
    path = write(tmp_path, make_arrays(fps=np.asarray(-1.0), image_size=np.asarray([0, 0])))
    message = str(pytest.raises(ReferenceFormatError, load_reference, path).value)
    assert "fps" in message and "image_size" in message


def test_unreadable_files_are_named(tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"this is not a zip archive")
    with pytest.raises(ReferenceFormatError, match="not a readable .npz"):
        load_reference(bad)
    with pytest.raises(ReferenceFormatError, match="no such reference file"):
        load_reference(tmp_path / "missing.npz")


def test_failed_save_leaves_existing_file_untouched(tmp_path):
    ref = load_reference(DEFAULT_REFERENCE)
    target = save_reference(ref, tmp_path / "ref.npz")
    before = target.read_bytes()
    ref.source = {"unserialisable": object()}
    with pytest.raises(TypeError):
        save_reference(ref, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref.npz"]


def test_reference_object_validates_on_construction():
    with pytest.raises(ReferenceFormatError, match="NaN"):
        Reference(fps=30, keypoints2d=np.full((4, 33, 3), np.nan), image_size=(640, 480))
    qpos = np.zeros((4, NQ))
    qpos[:, 3] = 1.0  # identity root quaternion
    ref = Reference(fps=30, keypoints2d=np.zeros((4, 33, 3)), image_size=(640, 480), qpos=qpos, body=BodyParams())
    assert ref.duration == pytest.approx(0.1)
