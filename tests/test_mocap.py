import numpy as np
import pytest

from motionlab.assets import RUN_CLIP
from motionlab.body import BodyParams
from motionlab.camera import Camera
from motionlab.humanoid import JOINT_NAMES, build_model, standing_qpos
from motionlab.mocap import MocapFormatError, PeriodicMotion, load_deepmimic, mocap_reference
from motionlab.motion import Kinematics, mirror_qpos, retarget_kinematics


def test_bundled_clip_matches_shared_original(shared_data):
    assert RUN_CLIP.read_bytes() == (shared_data / "mocap" / "humanoid3d_run.txt").read_bytes()


def test_clip_converts_to_z_up_running_pose():
    clip = load_deepmimic(RUN_CLIP)
    q = clip.qpos
    assert q.shape == (25, 35) and clip.frame_dt == pytest.approx(0.033332)
    assert q[-1, 0] - q[0, 0] == pytest.approx(2.845, abs=0.01)  # forward along +x
    assert 0.7 < q[:, 2].mean() < 0.85  # pelvis height of the 1.62 m character, z up
    knee = q[:, 7 + JOINT_NAMES.index("right_knee")]
    hip = q[:, 7 + JOINT_NAMES.index("right_hip_y")]
    assert knee.max() > np.radians(90) and knee.min() > np.radians(-5)  # flexion positive
    assert hip.min() < np.radians(-60)  # hip flexion (thigh forward) negative


def test_loop_is_seamless_and_carries_root_displacement():
    motion = PeriodicMotion(load_deepmimic(RUN_CLIP))
    dt = 1 / 120
    t = np.arange(0, 3 * motion.period, dt)
    q = motion.qpos(t)
    joint_step = np.abs(np.diff(q[:, 7:], axis=0)).max(axis=1)
    boundaries = [int(round(k * motion.period / dt)) for k in (1, 2)]
    typical = np.median(joint_step)
    for b in boundaries:  # no jump at the wrap: the step across a cycle boundary is ordinary
        assert joint_step[b - 1] < 3 * typical + 1e-3
    x = q[:, 0]
    assert (np.diff(x) > 0).all()
    per_cycle = [x[b] - x[b - boundaries[0]] for b in boundaries]
    assert per_cycle[0] == pytest.approx(per_cycle[1], rel=1e-6)
    assert abs(q[:, 1]).max() < 0.05  # no lateral drift


def test_reference_on_another_body_keeps_feet_on_the_ground():
    body = BodyParams(height=1.9, mass=85)
    ref = mocap_reference(RUN_CLIP, body=body, cycles=2)
    soles = Kinematics(build_model(body)).sole_heights(ref.qpos)
    assert soles.min() == pytest.approx(0.002, abs=1e-4)  # on, not under, the ground
    assert ref.body == body.resolved()
    speed = ref.source["speed_mps"]
    assert 3.5 < speed < 4.5  # longer legs, proportionally faster at the same cadence


def test_feet_on_the_floor_keeps_a_low_flight_phase():
    """Known answer: a standing body hopping 4 cm (flight soles 0.5-4 cm up, as in a run's flight) on the
    floor already: putting its feet on the floor must leave the hop alone, not pull flight frames down."""
    body = BodyParams(height=1.75, mass=70).resolved()
    hm = build_model(body)
    stand = standing_qpos(hm)
    phase = np.linspace(0.0, 4.0, 121) % 1.0  # 4 hops: 0.5 s on the floor, 0.5 s in the air
    hop = np.where(phase < 0.5, 0.0, 0.04 * np.sin(2 * np.pi * (phase - 0.5)))
    qpos = np.tile(stand, (len(hop), 1))
    qpos[:, 2] = stand[2] - Kinematics(hm).sole_heights(stand[None])[0] + 0.002 + hop
    out, kin = retarget_kinematics(qpos, body, body, hm)
    np.testing.assert_allclose(out[:, 2] - qpos[:, 2], 0.0, atol=0.01)  # take-off/landing within 1 cm
    assert kin.soles.max() == pytest.approx(0.042, abs=1e-3)


def test_projection_lands_in_the_image_and_time_scaling_changes_speed():
    cam = Camera.side_on(distance=6.0, speed=3.7)
    ref = mocap_reference(RUN_CLIP, cycles=2, camera=cam)
    px = ref.keypoints_px()
    assert (px[..., 0] > 0).all() and (px[..., 0] < cam.width).all()
    assert (px[..., 1] > 0).all() and (px[..., 1] < cam.height).all()
    head_y, ankle_y = px[:, 0, 1].mean(), px[:, 27:29, 1].mean()
    assert head_y < ankle_y  # image y points down
    fast = mocap_reference(RUN_CLIP, cycles=2, speed_scale=1.2)
    assert fast.source["speed_mps"] == pytest.approx(1.2 * ref.source["speed_mps"], rel=0.02)


def test_mirror_swaps_sides():
    q = load_deepmimic(RUN_CLIP).qpos
    m = mirror_qpos(q)
    r, l = JOINT_NAMES.index("right_knee"), JOINT_NAMES.index("left_knee")
    np.testing.assert_allclose(m[:, 7 + r], q[:, 7 + l])
    np.testing.assert_allclose(mirror_qpos(m), q, atol=1e-9)


def test_bad_mocap_file_gives_clear_error(tmp_path):
    bad = tmp_path / "run.txt"
    bad.write_text('{"Frames": [[1, 2, 3]]}')
    with pytest.raises(MocapFormatError, match="expected"):
        load_deepmimic(bad)
    bad.write_text("not json")
    with pytest.raises(MocapFormatError, match="not a DeepMimic motion file"):
        load_deepmimic(bad)
