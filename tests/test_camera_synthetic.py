"""Rendered test videos: MediaPipe sees the figure where the ground truth says it is."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from motionlab.body import BodyParams
from motionlab.keypoints import BODY_LANDMARKS
from motionlab.synthetic import SETUPS, Setup, camera_path, render_test_video, runner_motion

BODY = BodyParams(height=1.75, mass=70.0).resolved()


def short(name: str, seconds: float = 0.7) -> Setup:
    return dataclasses.replace(SETUPS[name], seconds=seconds)


@pytest.mark.parametrize("name", ["oblique_45"])
def test_mediapipe_finds_the_figure_where_the_ground_truth_projects_it(name, tmp_path):
    from motionlab.video.pose import extract_keypoints

    truth = render_test_video(short(name), tmp_path / f"{name}.mp4", BODY)
    ref, summary = extract_keypoints(tmp_path / f"{name}.mp4")
    assert ref.num_frames == truth.num_frames and ref.fps == pytest.approx(30.0, rel=1e-3)
    assert summary["detection_rate"] >= 0.9
    seen = ref.keypoints2d_valid
    body = list(BODY_LANDMARKS)
    err = np.linalg.norm(ref.keypoints_px()[seen][:, body] - truth.keypoints_px()[seen][:, body], axis=-1)
    assert np.median(err) < 8.0, np.median(err)  # pixels, on a figure ~250 px tall


def test_ground_truth_describes_each_shot(repo_root):
    mocap_dir = repo_root.parent / "shared" / "data" / "mocap"
    for name, setup in SETUPS.items():
        if setup.clip and not (mocap_dir / setup.clip).is_file():
            continue  # the CMU clips live beside the repository
        qpos, real_t, running = runner_motion(setup, BODY, mocap_dir)
        cams = camera_path(setup, qpos)
        moved = np.linalg.norm(cams.positions[-1] - cams.positions[0])
        turned = np.linalg.norm(cams.targets[-1] - cams.positions[-1] - (cams.targets[0] - cams.positions[0]))
        if setup.camera == "follow":  # a dolly at the runner's mean speed
            assert moved == pytest.approx(np.linalg.norm(qpos[-1, :2] - qpos[0, :2]), rel=1e-6), name
        else:
            assert moved == 0.0, name
        assert (turned > 0.1) == (setup.camera == "pan"), name
        over_ground = (qpos[-1, 0] - qpos[0, 0]) / (real_t[-1] - real_t[0])
        if setup.treadmill:
            assert abs(over_ground) < 0.05 and running > 2.0, name
        else:  # runs along +x or -x as the setup says, at the clip's speed
            assert over_ground * setup.direction == pytest.approx(running, rel=1e-6) and running > 1.0, name
        assert np.diff(real_t).mean() == pytest.approx(1 / 30 / setup.slow_motion), name
        # the runner stays in the picture
        px = cams.project(np.c_[qpos[:, :3]][:, None])[:, 0]
        assert ((px > 0) & (px < [setup.width, setup.height_px])).all(), name
