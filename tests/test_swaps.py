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
