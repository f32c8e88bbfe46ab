"""Lifted references: mocap through phone shots with detection errors, then the project's lift."""

import numpy as np
import pytest

from motionlab.assets import RUN_CLIP
from motionlab.body import BodyParams
from motionlab.humanoid import build_model
from motionlab.keypoints import BODY_LANDMARKS, INDEX
from motionlab.lift import joint_position_errors
from motionlab.mocap import mocap_reference
from motionlab.mocap_lifted import Shot, detection_errors, in_view_span, lifted_reference, project_shot, random_shot
from motionlab.motion import pelvis_forward


@pytest.fixture(scope="module")
def truth():
    return mocap_reference(RUN_CLIP, BodyParams(height=1.7, mass=62), cycles=4)  # 3.2 s at 3.6 m/s


def test_static_shot_sees_the_runner_pass_and_following_keeps_them(truth):
    static = project_shot(truth, Shot("static", azimuth_deg=0, pitch_deg=0, fov_deg=60, distance_m=5))
    start, stop = in_view_span(static.keypoints2d_valid, truth.fps)
    assert 0 < start and stop < truth.num_frames  # enters and leaves the frame
    assert static.keypoints2d_valid[start:stop].all() and not static.keypoints2d_valid[:start].any()
    follow = project_shot(truth, Shot("following", azimuth_deg=45, pitch_deg=10, fov_deg=70, distance_m=5))
    assert follow.keypoints2d_valid.all()
    hips_x = follow.keypoints2d[:, [INDEX["left_hip"], INDEX["right_hip"]], 0].mean(axis=1)
    assert np.ptp(hips_x) < 0.1  # stays near the same place in the image
    assert "camera" not in follow.source  # the lift must estimate it, as for a real video


def test_detection_errors_drop_swap_and_jitter(truth):
    seen = project_shot(truth, Shot("following", azimuth_deg=0, pitch_deg=0, fov_deg=65, distance_m=5))
    kept = [detection_errors(seen, np.random.default_rng(s), 3.0).keypoints2d_valid.mean() for s in range(6)]
    assert 0.85 < np.mean(kept) < 0.995  # some frames dropped, most kept
    noisy = detection_errors(seen, np.random.default_rng(3), jitter_px=3.0)
    both = noisy.keypoints2d_valid & seen.keypoints2d_valid
    err = np.linalg.norm((noisy.keypoints_px() - seen.keypoints_px())[both][:, list(BODY_LANDMARKS)], axis=-1)
    assert 2.0 < np.median(err) < 10.0  # a few pixels, plus the occasional swapped limb
    assert np.abs(noisy.world_keypoints - seen.world_keypoints).mean() > 0.02


def test_lifted_reference_is_close_but_not_the_truth(truth):
    rng = np.random.default_rng(0)
    shot = Shot("following", azimuth_deg=20, pitch_deg=5, fov_deg=65, distance_m=5)
    lifted, cut = lifted_reference(truth, rng, shot, jitter_px=3.0)
    assert lifted.source["kind"] == "lifted-mocap" and lifted.qpos.shape == cut.qpos.shape
    assert lifted.source["speed_mps"] == pytest.approx(lifted.source["truth_speed_mps"], rel=0.1)
    mpjpe, _ = joint_position_errors(build_model(truth.body), cut.qpos, lifted.qpos)
    assert 0.01 < mpjpe.mean() < 0.12  # what the lift gets from a noisy phone view: imperfect, not absurd
    shots = {random_shot(rng).kind for _ in range(30)}
    assert shots == {"static", "panning", "following"}


@pytest.mark.parametrize("azimuth", [-45.0, 45.0])
def test_a_following_camera_travels_the_way_the_runner_runs(truth, azimuth):
    """An oblique tracking shot: the camera moves with the runner, who runs at ``azimuth`` to the image
    plane. Lifted with the camera moving sideways in the image, the body ran crabwise (heading 42-51 deg
    off its travel on the held-out CMU clips): the tracker was given a runner it cannot follow."""
    lifted, cut = lifted_reference(truth, np.random.default_rng(1), Shot("following", azimuth, 3.0, 65.0, 5.0), 1.0)
    travel = lifted.qpos[-1, :2] - lifted.qpos[0, :2]
    facing = pelvis_forward(lifted.qpos)[:, :2].mean(axis=0)
    offset = np.degrees(np.angle(complex(*facing) / complex(*travel)))
    assert abs(offset) < 10.0
    assert lifted.source["speed_mps"] == pytest.approx(lifted.source["truth_speed_mps"], rel=0.1)
    _, pa_mpjpe = joint_position_errors(build_model(truth.body), cut.qpos, lifted.qpos)
    assert pa_mpjpe.mean() < 0.08  # the pose is as before: only where the camera went changed
