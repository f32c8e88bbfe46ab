import json

import numpy as np
import pytest

from motionlab.dataset import SPEED_SCALE_RANGE, build_dataset
from motionlab.humanoid import JOINT_NAMES
from motionlab.reference import load_reference


def test_teacher_dataset_varies_bodies_cameras_speeds_and_mirrors(tmp_path):
    paths = build_dataset(tmp_path / "ds", n_variants=3, cycles=2, seed=1)
    assert len(paths) == 6
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert [e["file"] for e in manifest["references"]] == [p.name for p in paths]
    refs = [load_reference(p) for p in paths]
    assert len({r.body.height for r in refs}) == 3
    assert len({json.dumps(r.source["camera"]) for r in refs}) == 6
    scales = [r.source["speed_scale"] for r in refs]
    assert all(SPEED_SCALE_RANGE[0] <= s <= SPEED_SCALE_RANGE[1] for s in scales) and len(set(scales)) == 3
    plain, mirrored = refs[2], refs[3]
    r, l = JOINT_NAMES.index("right_knee"), JOINT_NAMES.index("left_knee")
    np.testing.assert_allclose(mirrored.qpos[:, 7 + r], plain.qpos[:, 7 + l], atol=1e-9)
    assert mirrored.source["mirror"] and not plain.source["mirror"]
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == sorted([p.name for p in paths] + ["manifest.json"])


def test_cli_import_mocap_writes_a_reference(tmp_path):
    from motionlab.cli import main

    out = tmp_path / "ref.npz"
    assert main(["import-mocap", "--out", str(out), "--height", "1.6", "--mass", "55", "--cycles", "2"]) == 0
    ref = load_reference(out)
    assert ref.body.height == pytest.approx(1.6) and ref.qpos is not None
