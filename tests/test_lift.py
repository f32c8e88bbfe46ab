"""Lifting 2D keypoints to qpos: round trips through projected mocap with known ground truth."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.ndimage import minimum_filter1d

from motionlab.assets import RUN_CLIP
from motionlab.body import BodyParams
from motionlab.camera import Camera
from motionlab.cli import main
from motionlab.humanoid import JOINT_NAMES, build_model
from motionlab.ik import IKWeights
from motionlab.keypoints import BODY_LANDMARKS, INDEX
from motionlab.lift import (
    STEP_WINDOW_S,
    LiftError,
    _depth_from_the_floor,
    estimate_camera,
    joint_position_errors,
    lift_reference,
    trunk_lean_deg,
)
from motionlab.mocap import mocap_reference, project_qpos
from motionlab.motion import Kinematics
from motionlab.reference import Reference, load_reference, save_reference

PA_MPJPE_TARGET_M = 0.040
MPJPE_TARGET_M = 0.060


@pytest.fixture(scope="module")
def truth() -> Reference:
    """About 1 s of the real mocap run (one stride cycle, 25 frames) projected through a side-on camera
    that follows the runner, with its ground-truth qpos."""
    return mocap_reference(RUN_CLIP, cycles=1)


def keypoints_only(ref: Reference, **changes) -> Reference:
    return dataclasses.replace(ref, qpos=None, body=None, **changes)


def errors(truth: Reference, lifted: Reference) -> tuple[float, float]:
    mpjpe, pa = joint_position_errors(build_model(truth.body), truth.qpos, lifted.qpos)
    return float(mpjpe.mean()), float(pa.mean())


def test_round_trip_meets_error_targets(truth, tmp_path):
    lifted, report = lift_reference(keypoints_only(truth), body=truth.body)
    mpjpe, pa = errors(truth, lifted)
    assert pa <= PA_MPJPE_TARGET_M and mpjpe <= MPJPE_TARGET_M, (mpjpe, pa)
    assert report.mean_reprojection_px < 1.0
    assert report.camera_source == "reference" and report.camera == Camera.from_dict(truth.source["camera"])
    assert report.interpolated_frames == [] and np.isfinite(report.frame_errors_px).all()
    # the keypoints are kept, qpos and body added, and the lift is described in the source
    np.testing.assert_array_equal(lifted.keypoints2d, truth.keypoints2d)
    np.testing.assert_array_equal(lifted.world_keypoints, truth.world_keypoints)
    assert lifted.body == truth.body and lifted.source["lift"]["camera_source"] == "reference"
    saved = load_reference(save_reference(lifted, tmp_path / "lifted.npz"))
    np.testing.assert_allclose(saved.qpos, lifted.qpos)


def test_noise_degrades_gracefully(truth):
    rng = np.random.default_rng(0)
    kp = truth.keypoints2d.copy()
    kp[..., :2] += rng.normal(0.0, 3.0, kp[..., :2].shape) / np.asarray(truth.image_size)  # 3 px
    lifted, report = lift_reference(keypoints_only(truth, keypoints2d=kp), body=truth.body)
    mpjpe, pa = errors(truth, lifted)
    assert pa <= PA_MPJPE_TARGET_M and mpjpe <= MPJPE_TARGET_M, (mpjpe, pa)
    # the fit follows the keypoints to about the noise level, not beyond it and not far from it
    assert 1.5 < report.mean_reprojection_px < 4.5


def test_unknown_camera_is_estimated(truth):
    source = {k: v for k, v in truth.source.items() if k != "camera"}
    lifted, report = lift_reference(keypoints_only(truth, source=source), body=truth.body)
    mpjpe, pa = errors(truth, lifted)
    assert report.camera_source == "estimated"
    assert pa <= PA_MPJPE_TARGET_M and mpjpe <= MPJPE_TARGET_M, (mpjpe, pa)
    assert report.mean_reprojection_px < 1.5
    # the estimated camera is moved with the motion so the stance feet stand on the floor
    soles = Kinematics(build_model(truth.body)).sole_heights(lifted.qpos)
    stance = minimum_filter1d(soles, int(round(STEP_WINDOW_S * truth.fps)), mode="nearest")
    assert np.median(stance) == pytest.approx(0.002, abs=1e-4) and soles.min() > -0.01


def test_estimated_camera_distance_and_height(truth):
    camera = estimate_camera(truth, truth.body, focal_px=700.0)  # the true camera: 6 m away, 1 m high
    assert camera.position[1] == pytest.approx(-6.0, rel=0.1)
    assert camera.position[2] == pytest.approx(1.0, abs=0.25)


def test_joint_limits_respected(truth):
    """Keypoints of a right knee bent 20 deg backwards: the lift stops the knee at its limit."""
    knee = 7 + JOINT_NAMES.index("right_knee")
    qpos = truth.qpos.copy()
    straight = qpos[:, knee] < np.deg2rad(20)
    qpos[straight, knee] -= np.deg2rad(20)
    hm = build_model(truth.body)
    lo = hm.joint_ranges[knee - 7, 0]
    assert (qpos[:, knee] < lo).sum() >= 3
    camera = Camera.from_dict(truth.source["camera"])
    lifted, _ = lift_reference(keypoints_only(project_qpos(qpos, truth.body, truth.fps, camera)), body=truth.body)
    hinges = lifted.qpos[:, 7:]
    assert (hinges >= hm.joint_ranges[:, 0] - 1e-9).all() and (hinges <= hm.joint_ranges[:, 1] + 1e-9).all()
    np.testing.assert_allclose(lifted.qpos[qpos[:, knee] < lo, knee], lo, atol=np.deg2rad(0.5))


def test_feet_kept_above_ground(truth):
    """Keypoints moved 15 px down the image would put the soles under the floor; they stay on it."""
    kp = truth.keypoints2d.copy()
    kp[..., 1] += 15.0 / truth.image_size[1]
    soles = Kinematics(build_model(truth.body)).sole_heights
    lifted, _ = lift_reference(keypoints_only(truth, keypoints2d=kp), body=truth.body)
    assert soles(lifted.qpos).min() > -0.005
    # without the floor term the same keypoints do push the feet well under it
    no_floor = IKWeights(floor_sigma_m=1e3)
    loose, _ = lift_reference(keypoints_only(truth, keypoints2d=kp), body=truth.body, weights=no_floor)
    assert soles(loose.qpos).min() < -0.05


def test_missing_frames_interpolated(truth):
    missing = [0, 8, 9, 10, 11]
    kp, valid = truth.keypoints2d.copy(), np.ones(truth.num_frames, dtype=bool)
    kp[missing], valid[missing] = 0.0, False
    lifted, report = lift_reference(keypoints_only(truth, keypoints2d=kp, keypoints2d_valid=valid), body=truth.body)
    assert report.interpolated_frames == missing
    assert np.isnan(report.frame_errors_px[missing]).all()
    assert np.isfinite(np.delete(report.frame_errors_px, missing)).all()
    q = lifted.qpos
    np.testing.assert_allclose(q[0], q[1])  # held at the start
    np.testing.assert_allclose(q[9, 7:], q[7, 7:] + (q[12, 7:] - q[7, 7:]) * 2 / 5)  # linear in between
    mpjpe, pa = errors(truth, lifted)
    assert pa <= PA_MPJPE_TARGET_M and mpjpe <= MPJPE_TARGET_M, (mpjpe, pa)


def test_too_few_valid_frames_is_a_clear_error(truth):
    valid = np.zeros(truth.num_frames, dtype=bool)
    valid[3] = True
    kp = truth.keypoints2d.copy()
    kp[5, :, 2] = 0.0  # flagged valid but nothing visible: not a usable detection either
    valid[5] = True
    with pytest.raises(LiftError, match=f"only 1 of {truth.num_frames} frames have a usable detection"):
        lift_reference(keypoints_only(truth, keypoints2d=kp, keypoints2d_valid=valid))


def test_camera_must_match_the_images(truth):
    with pytest.raises(LiftError, match="1280x720 px but the reference's images are 640x480"):
        lift_reference(keypoints_only(truth), camera=Camera(width=1280, height=720))


def test_lift_command(truth, tmp_path, capsys):
    source = {k: v for k, v in truth.source.items() if k != "camera"}
    save_reference(keypoints_only(truth, source=source), tmp_path / "in.npz")
    speed = truth.source["speed_mps"]
    code = main(
        ["lift", "--ref", str(tmp_path / "in.npz"), "--out", str(tmp_path / "out.npz"), "--height", "1.75",
         "--focal-px", "700", "--camera-distance", "6", "--camera-height", "1", "--camera-speed", str(speed)]
    )  # fmt: skip
    assert code == 0
    assert "reprojection error: mean" in capsys.readouterr().out
    lifted = load_reference(tmp_path / "out.npz")
    assert lifted.qpos.shape == (truth.num_frames, 35)
    lift = lifted.source["lift"]
    assert lift["camera_source"] == "argument" and lift["camera"]["focal_px"] == 700.0
    assert lift["camera"]["velocity"][0] == pytest.approx(speed)
    mpjpe, pa = errors(truth, lifted)
    assert pa <= PA_MPJPE_TARGET_M and mpjpe <= MPJPE_TARGET_M, (mpjpe, pa)


def test_real_mediapipe_detection(shared_data):
    """A real photo through the real MediaPipe model: the lift with an estimated camera fits the 2D
    landmarks to a few pixels and stays close to MediaPipe's own 3D (world) landmarks."""
    cv2 = pytest.importorskip("cv2")
    mp = pytest.importorskip("mediapipe")
    rgb = np.ascontiguousarray(cv2.imread(str(shared_data / "media" / "basketball1.png"))[..., ::-1])
    with mp.solutions.pose.Pose(static_image_mode=True) as pose:
        result = pose.process(rgb)
    kp = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark])
    world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark])
    ref = Reference(
        fps=30.0, keypoints2d=np.stack([kp, kp]), image_size=rgb.shape[1::-1], world_keypoints=np.stack([world, world])
    )
    lifted, report = lift_reference(ref)
    assert report.camera_source == "estimated"
    assert report.mean_reprojection_px < 6.0  # the image is 480 px tall
    hm = build_model(lifted.body)
    sites = Kinematics(hm).sites(lifted.qpos[:1])[0]
    body = list(BODY_LANDMARKS)
    hip_relative = (sites - sites[[INDEX["left_hip"], INDEX["right_hip"]]].mean(axis=0)) @ report.camera.rotation().T
    assert np.linalg.norm(hip_relative[body] - world[body], axis=1).mean() < 0.12


def test_one_bad_frame_does_not_start_a_runaway_prediction():
    """A frame solved 1.8 m off (as happened when MediaPipe lost the legs for a few frames) must not be
    extrapolated at 54 m/s: the constant-velocity prediction caps the root at a sprinter's speed."""
    from motionlab.humanoid import standing_qpos
    from motionlab.lift import MAX_ROOT_SPEED_MPS, _temporal_prior

    hm = build_model()
    qpos = np.repeat(standing_qpos(hm)[None], 3, axis=0)
    qpos[1, 1] += 1.8  # one frame, 1/30 s later, 1.8 m further away
    prior = _temporal_prior(hm, qpos, [0, 1], 2, 1 / 30, IKWeights())
    step = np.linalg.norm(prior.qpos[:3] - qpos[1, :3])
    assert step == pytest.approx(MAX_ROOT_SPEED_MPS / 30, rel=1e-6)
    qpos[1, 1] = qpos[0, 1] + 0.1  # 3 m/s: predicted as it is
    prior = _temporal_prior(hm, qpos, [0, 1], 2, 1 / 30, IKWeights())
    assert prior.qpos[1] == pytest.approx(qpos[1, 1] + 0.1)


def test_the_heading_prior_turns_the_pelvis_and_its_jacobian_is_exact():
    """The IK's heading prior (a forward gait faces where it travels): its analytic Jacobian matches finite
    differences on a turned, bent pose, and a solve with only that prior turns a body facing 40 deg off to it."""
    import mujoco
    from scipy.spatial.transform import Rotation

    from motionlab.humanoid import NV, standing_qpos
    from motionlab.ik import FrameIK, FrameObservation
    from motionlab.motion import pelvis_forward, rotation_to_quat_wxyz

    hm = build_model()
    ik = FrameIK(hm, Camera(), IKWeights(), pixel_sigma=3.0)
    heading = np.array([np.cos(0.3), np.sin(0.3)])
    obs = FrameObservation(np.zeros((33, 2)), np.zeros(33), np.array(Camera().position), heading=heading)
    q = standing_qpos(hm)
    q[3:7] = rotation_to_quat_wxyz(Rotation.from_euler("zyx", [1.0, 0.2, -0.1]))
    q[7:] = np.clip(np.random.default_rng(0).normal(0, 0.3, len(q) - 7), *hm.joint_ranges.T)
    sigma = IKWeights().posture_sigmas()
    r0, jac = ik._residuals(q, obs, None, sigma)  # the heading row is the last one without a temporal prior
    numeric = np.zeros(NV)
    for k in range(NV):
        step = np.zeros(NV)
        step[k] = 1e-6
        moved = q.copy()
        mujoco.mj_integratePos(hm.model, moved, step, 1.0)
        numeric[k] = (ik._residuals(moved, obs, None, sigma)[0][-1] - r0[-1]) / 1e-6
    assert np.abs(jac[-1] - numeric).max() < 1e-3 * np.abs(numeric).max()
    q = standing_qpos(hm)
    q[3:7] = rotation_to_quat_wxyz(Rotation.from_euler("z", 0.3 + np.radians(40)))
    solved, _ = ik.solve(q, obs, None)
    forward = pelvis_forward(solved[None])[0, :2]
    assert np.degrees(np.arccos(forward @ heading / np.linalg.norm(forward))) < 2.0


@pytest.mark.parametrize("camera_height, moved", [(6.0, True), (0.93, False)])
def test_depth_is_drawn_to_where_the_foot_meets_the_floor_as_far_as_the_floor_tells_it(truth, camera_height, moved):
    """The running clip's frames pushed 10 % nearer or further along the rays from a static camera 12 m away
    (a small person's depth from its image size): seen from 6 m up, the stance soles then float or sink
    up to 0.5 m and the root is 1.2 m off; drawn along the rays until each step's lowest sole meets the
    floor, every frame's lowest sole is within 3 cm of it (the flight, 0.15 m, is lost: the size's depth
    could not tell it from noise there) and the root within 0.4 m. Seen from the hips' height the ray
    grazes the floor and tells nothing: the frames stay where the size put them."""
    hm = build_model(truth.body)
    camera = Camera(position=(0.0, -12.0, camera_height), target=(0.0, 0.0, 0.9))
    track = np.repeat(np.asarray(camera.position)[None], truth.num_frames, axis=0)
    wrong = truth.qpos.copy()
    wrong[:, :3] = track + (1 + 0.1 * np.sign(np.sin(np.arange(truth.num_frames))))[:, None] * (wrong[:, :3] - track)
    drawn = _depth_from_the_floor(hm, wrong, camera, track, truth.fps)
    rays = lambda q: (q[:, :3] - track) / np.linalg.norm(q[:, :3] - track, axis=1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(rays(drawn), rays(wrong), atol=1e-9)  # moved along the rays only: same image
    window = int(round(STEP_WINDOW_S * truth.fps))
    stance = lambda q: minimum_filter1d(Kinematics(hm).sole_heights(q), window, mode="nearest")  # noqa: E731
    root_error = lambda q: np.abs(q[:, :3] - truth.qpos[:, :3]).max()  # noqa: E731
    if moved:
        assert np.abs(stance(wrong)).max() > 0.4 and root_error(wrong) > 1.0  # the defect
        assert np.abs(Kinematics(hm).sole_heights(drawn)).max() < 0.03 and root_error(drawn) < 0.4
    else:
        np.testing.assert_allclose(drawn, wrong, atol=0.02)


def test_a_runner_leaning_towards_a_level_camera_keeps_its_lean(shared_data):
    """A CMU runner (16_55, ~3 m/s) filmed at 45 deg by a level camera leans ~22 deg towards it along the line
    of sight: that is the runner's own forward lean, not a camera tilt, and the lift keeps it (standing the
    world landmarks upright there made the lifted body 120 mm off the mocap instead of ~25)."""
    body = BodyParams(height=1.68, mass=61.0)
    camera = Camera.side_on(azimuth_deg=45.0)
    truth = mocap_reference(shared_data / "mocap" / "cmu" / "16" / "16_55.amc", body, cycles=1, camera=camera)
    assert trunk_lean_deg(truth.world_keypoints.astype(float) @ camera.rotation(), np.ones(truth.num_frames, bool), camera) < -15
    lifted, _ = lift_reference(dataclasses.replace(truth, qpos=None, body=None), body=body)
    mpjpe, _ = joint_position_errors(build_model(body), truth.qpos, lifted.qpos)
    assert mpjpe.mean() < 0.05
