import numpy as np

from motionlab.assets import RUN_CLIP
from motionlab.keypoints import INDEX
from motionlab.mocap import mocap_reference
from motionlab.video.swaps import _ALL_SWAP, _LEG_SWAP, fix_left_right_swaps


def side_view_keypoints(noise_px: float = 1.5) -> np.ndarray:
    px = mocap_reference(RUN_CLIP, cycles=3).keypoints_px().astype(float)
    return px + np.random.default_rng(0).normal(0, noise_px, px.shape)


def test_swapped_legs_and_mirrored_bodies_are_relabelled():
    truth = side_view_keypoints()
    injected = {5: "legs", 6: "legs", 30: "body", 50: "legs"}
    seen = truth.copy()
    for t, kind in injected.items():
        seen[t] = seen[t][_LEG_SWAP if kind == "legs" else _ALL_SWAP]
    perms, repairs = fix_left_right_swaps(seen, np.ones(len(seen), bool))
    assert repairs == sorted(injected.items())
    np.testing.assert_array_equal(np.take_along_axis(seen, perms[..., None], axis=1), truth)


def test_correct_labels_and_gaps_are_left_alone():
    truth = side_view_keypoints()
    valid = np.ones(len(truth), bool)
    assert fix_left_right_swaps(truth, valid)[1] == []
    valid[20:23] = False  # a gap: no prediction across it, no repair after it from stale frames
    seen = truth.copy()
    seen[21] = seen[21][_LEG_SWAP]  # inside the gap: not a detection, untouched
    perms, repairs = fix_left_right_swaps(seen, valid)
    assert repairs == []
    assert perms[21, INDEX["left_knee"]] == INDEX["left_knee"]


def test_long_swaps_and_a_swap_from_the_first_frame_are_relabelled():
    """MediaPipe keeps a wrong labelling for a run of frames, from the first frame or for a whole half
    stride: continuous in 2D inside the run, so only the clip as a whole tells which labelling is right."""
    truth = side_view_keypoints()
    seen = truth.copy()
    swapped = [*range(0, 10), *range(30, 42)]  # from frame 0; a half stride (0.4 s at 30 fps)
    seen[swapped] = seen[swapped][:, _LEG_SWAP]
    perms, repairs = fix_left_right_swaps(seen, np.ones(len(seen), bool))
    assert repairs == [(t, "legs") for t in swapped]
    np.testing.assert_array_equal(np.take_along_axis(seen, perms[..., None], axis=1), truth)


def test_mediapipe_on_a_rendered_clip_keeps_its_legs_labelled(tmp_path):
    """A rendered runner (wide lens, side-on) through the real MediaPipe: it swaps the legs for a few
    frames where they cross; the repair must undo them, not carry one wrong decision on for many frames."""
    from motionlab.body import BodyParams
    from motionlab.synthetic import SETUPS, legs_swapped, render_test_video
    from motionlab.video.pose import extract_keypoints

    video = tmp_path / "fov_90.mp4"
    truth = render_test_video(SETUPS["fov_90"], video, BodyParams(height=1.75, mass=70.0).resolved())
    keypoints, _ = extract_keypoints(video)
    swapped = legs_swapped(truth.keypoints_px(), keypoints.keypoints_px())[keypoints.keypoints2d_valid]
    assert swapped.sum() <= 2, f"{swapped.sum()} of {len(swapped)} frames with the legs swapped"
