"""CMU AMC/ASF import on the real clips in ../shared/data/mocap/cmu (PROVENANCE.md there)."""

from pathlib import Path

import numpy as np
import pytest
from conftest import require_shared_data

from motionlab.body import BodyParams
from motionlab.cli import main
from motionlab.cmu import load_cmu, read_asf, steady_stride
from motionlab.errors import MocapFormatError
from motionlab.humanoid import JOINT_NAMES, build_model
from motionlab.inference.metrics import contact_runs
from motionlab.mocap import mocap_reference
from motionlab.motion import Kinematics
from motionlab.reference import load_reference


@pytest.fixture(scope="module")
def cmu() -> Path:
    """The CMU clips: a skip locally when absent, a failure under CI (conftest.require_shared_data)."""
    return require_shared_data("mocap", "cmu")


def test_run_with_asf_keeps_speed_and_cadence(cmu):
    ref = mocap_reference(cmu / "35" / "35_17.amc", BodyParams(height=1.75, mass=70), cycles=3)
    src = ref.source
    assert src["asf"] == "35.asf" and src["leg_length_source"] == "asf"
    assert src["subject_speed_mps"] == pytest.approx(3.18, rel=0.05)  # PROVENANCE: 3.18 m/s over the clip
    assert 150 < src["cadence_spm"] < 180
    assert src["fit_error_mm"] < 40
    q = ref.qpos
    assert (np.diff(q[:, 0]) > 0).all() and abs(q[:, 1]).max() < 0.05  # runs straight along +x
    knee = q[:, 7 + JOINT_NAMES.index("right_knee")]
    assert np.degrees(knee.max()) > 80  # a running swing, not a shuffle
    assert 0.85 < q[:, 2].mean() < 1.0  # pelvis height of a 1.75 m runner, z up


def test_imported_run_has_a_flight_phase_and_stance_soles_on_the_floor(cmu):
    """CMU 09_01 (3.56 m/s, 165 steps/min): in the raw AMC on dm_control's humanoid_CMU feet both soles
    are off the floor ~1/3 of the time and each contact lasts ~150-230 ms; the imported reference keeps
    that (it had no flight and ~410 ms contacts when every frame with a sole within 5 cm of the floor was
    pulled down onto it)."""
    body = BodyParams(height=1.75, mass=70)
    ref = mocap_reference(cmu / "09" / "09_01.amc", body, cycles=2, fps=120.0)
    soles = Kinematics(build_model(body.resolved())).run(ref.qpos).foot_soles  # (T, 2) left, right
    down = soles <= 0.02
    assert (~down).all(axis=1).mean() > 0.15  # flight: both soles 2+ cm up
    for foot in range(2):
        steps = [(a, b) for a, b in contact_runs(down[:, foot]) if 0 < a and b < len(soles)]  # whole contacts
        assert len(steps) >= 1
        for a, b in steps:
            assert 0.12 < (b - a) / ref.fps < 0.32  # contact time of a run at this speed
            assert 0.0 <= soles[a:b, foot].min() <= 0.01  # the stance sole rests on the floor


def test_walk_without_asf_beside_it_is_slower_and_mirrors(cmu, tmp_path):
    amc = tmp_path / "07_01.amc"  # no 07.asf here: the subject's size comes from the motion itself
    amc.write_bytes((cmu / "07" / "07_01.amc").read_bytes())
    ref = mocap_reference(amc, cycles=1, mirror=True)
    assert ref.source["leg_length_source"] == "stance-foot fit" and ref.source["mirror"]
    assert 1.2 < ref.source["speed_mps"] < 1.6 and 95 < ref.source["cadence_spm"] < 125


def test_cli_writes_reference_and_reports(cmu, tmp_path, capsys):
    out = tmp_path / "walk.npz"
    assert main(["import-mocap", "--clip", str(cmu / "39" / "39_13.amc"), "--out", str(out), "--cycles", "1"]) == 0
    assert load_reference(out).qpos is not None
    assert "spm" in capsys.readouterr().out


def _amc_lines(cmu: Path) -> list[str]:
    return (cmu / "35" / "35_17.amc").read_text().splitlines()


def test_corrupt_amc_is_one_clear_error(cmu, tmp_path, capsys):
    lines = _amc_lines(cmu)
    bad = tmp_path / "35_99.amc"
    bad.write_text("\n".join(lines[:200] + ["rtibia abc"] + lines[201:]))
    with pytest.raises(MocapFormatError, match="frame"):
        load_cmu(bad)
    out = tmp_path / "x.npz"
    assert main(["import-mocap", "--clip", str(bad), "--out", str(out)]) == 2
    assert "error" in capsys.readouterr().err and not out.exists()
    cut = tmp_path / "35_98.amc"
    cut.write_text("\n".join(lines[:-5]))
    with pytest.raises(MocapFormatError, match="cut short"):
        load_cmu(cut)


def test_skeleton_that_does_not_match_its_motion(cmu, tmp_path):
    asf = (cmu / "35" / "35.asf").read_text()
    bad = tmp_path / "35.asf"
    bad.write_text(asf.replace("dof rx\n", "dof rx ry\n", 1))  # ltibia: 2 dofs, the AMC has 1 value
    assert read_asf(bad).dofs["ltibia"] == ("rx", "ry")
    with pytest.raises(MocapFormatError, match="does not match"):
        load_cmu(cmu / "35" / "35_17.amc", bad)


def test_clip_without_locomotion(cmu, tmp_path):
    lines = _amc_lines(cmu)
    first_root = next(ln for ln in lines if ln.startswith("root"))
    still = tmp_path / "35_97.amc"
    still.write_text("\n".join(first_root if ln.startswith("root") else ln for ln in lines))
    with pytest.raises(MocapFormatError, match="not locomotion"):
        load_cmu(still)


def test_stride_needs_a_repeating_cycle():
    t = np.arange(200) / 120
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(0, 0.02, (200, 14, 3)), axis=0)  # a random drift, nothing repeats
    walk[..., 0] += 1.5 * t[:, None]
    with pytest.raises(MocapFormatError, match="no repeating gait cycle"):
        steady_stride(walk)
