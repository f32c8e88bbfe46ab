"""Automatic crop: a person too small for MediaPipe's full-frame detector is found on tiles and followed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motionlab.body import BodyParams
from motionlab.keypoints import INDEX
from motionlab.synthetic import Setup, render_test_video
from motionlab.video.person_finder import follow_box, tiles
from motionlab.video.pose import NoPoseError, extract_keypoints

HIPS = [INDEX["left_hip"], INDEX["right_hip"]]


def test_tiles_cover_the_frame_and_the_follow_box_stays_inside():
    boxes = np.array(tiles((640, 480)))
    assert boxes[:, 0].min() == 0 and (boxes[:, 0] + boxes[:, 2]).max() == 640
    assert boxes[:, 1].min() == 0 and (boxes[:, 1] + boxes[:, 3]).max() == 480
    assert sorted(set(boxes[:, 2].tolist())) == [160, 240]
    assert follow_box(np.array([630.0, 10.0]), 20.0, (640, 480)) == (480, 0, 160, 160)


def test_a_small_runner_is_found_and_followed(tmp_path):
    """A runner ~47 px tall in a 640x480 frame (16 m from a static camera): the full frame finds nobody."""
    video = tmp_path / "far.mp4"
    truth = render_test_video(Setup("far", camera="static", distance=16.0, seconds=0.5), video, BodyParams())
    assert np.ptp(truth.keypoints_px()[0, :, 1]) < 50
    with pytest.raises(NoPoseError, match="--roi"):
        extract_keypoints(video, auto_crop=False)
    reference, summary = extract_keypoints(video)
    assert summary["auto_crop"]["used"] and summary["auto_crop"]["usable_frames_full_frame"] == 0
    seen = reference.keypoints2d_valid
    assert seen.mean() >= 0.9 and summary["auto_crop"]["usable_frames_cropped"] >= 0.9 * truth.num_frames
    hips = np.linalg.norm(reference.keypoints_px()[seen][:, HIPS] - truth.keypoints_px()[seen][:, HIPS], axis=-1)
    assert np.median(hips) < 4.0  # pixels


def test_a_pedestrian_too_small_for_the_full_frame_is_followed_in_vtest(shared_data: Path):
    """vtest.avi (real pedestrians ~70 px tall in 768x576): nobody found in the full frame; the automatic
    crop follows one walking person, frame after frame, without jumping to another."""
    reference, summary = extract_keypoints(shared_data / "media" / "vtest.avi", max_frames=14, smoothing=None)
    assert summary["auto_crop"]["used"] and summary["auto_crop"]["usable_frames_full_frame"] == 0
    seen = reference.keypoints2d_valid
    assert seen.sum() >= 12
    px = reference.keypoints_px()[seen]
    hips = px[:, HIPS].mean(axis=1)
    assert np.linalg.norm(np.diff(hips, axis=0), axis=1).max() < 15  # px per frame: a walker at 10 fps
    heights = np.ptp(px[..., 1], axis=1)
    assert 50 < heights.min() and heights.max() < 1.2 * heights.min()  # one person, not a jump in size
    assert reference.keypoints2d[seen][:, HIPS, 2].mean() > 0.8
