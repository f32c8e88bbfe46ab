import dataclasses

import numpy as np
import pytest
from conftest import require_shared_data

from motionlab.assets import RUN_CLIP
from motionlab.inference.metrics import GaitInput, gait_metrics
from motionlab.keypoints import INDEX
from motionlab.lift import lift_reference
from motionlab.mocap import mocap_reference
from motionlab.reference import Reference
from motionlab.synthetic import legs_swapped
from motionlab.video.smoothing import SmoothingParams, savgol, valid_runs
from motionlab.video.swaps import (
    _ALL_SWAP,
    _LEG_SWAP,
    LABELLINGS,
    _torso_px,
    fix_left_right_swaps,
    foot_speed_band,
)


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


_LEFT_LEG = [INDEX[f"left_{p}"] for p in ("knee", "ankle", "heel", "foot_index")]


def mediapipe_walk_swaps(px: np.ndarray, direction: int = 1) -> np.ndarray:
    """``px`` (T, 33, 2) of a walk seen side-on (walking towards +x in the image, or -x with ``direction``
    -1) with MediaPipe's half-stride swaps as it makes them on the
    rendered CMU 07_01 walk (``benchmarks/bench_swaps.py``): once a stride, from just after the legs cross
    (the right foot half a torso ahead) until the right foot is back within 0.9 torso of the left after its
    landing, it calls the leading leg left; in the last two of those frames its left leg slides part of the
    way back to the trailing foot, then both labels jump back."""
    torso = _torso_px(px, np.ones(len(px), bool))
    ahead = (px[:, INDEX["right_ankle"], 0] - px[:, INDEX["left_ankle"], 0]) / torso
    ahead *= direction
    seen = px.copy()
    for start, stop in valid_runs(ahead > 0.45):
        peak = start + int(np.argmax(ahead[start:stop]))
        back = np.flatnonzero(ahead[peak:stop] < 0.9)
        end = peak + int(back[0]) if len(back) else stop
        seen[start:end] = px[start:end][:, _LEG_SWAP]
        for t, towards_truth in zip(range(end - 2, end), (0.4, 0.6)):
            seen[t, _LEFT_LEG] += towards_truth * (px[t, _LEFT_LEG] - seen[t, _LEFT_LEG])
    return seen


def walk_gait(ref: Reference, px: np.ndarray) -> dict:
    """Cadence and gait read from ``px`` (T, 33, 2) as the pipeline reads them: smoothed as extraction
    smooths, lifted with ``ref``'s camera, then the report's gait metrics."""
    size = np.asarray(ref.image_size, dtype=float)
    valid = np.ones(len(px), bool)
    kp = ref.keypoints2d.copy()
    kp[..., :2] = savgol(px, np.arange(len(px)) / ref.fps, valid, SmoothingParams()) / size
    lifted, _ = lift_reference(dataclasses.replace(ref, keypoints2d=kp, qpos=None, body=None), ref.body)
    times = np.arange(len(lifted.qpos)) / lifted.fps
    return gait_metrics(GaitInput(times, lifted.qpos, ref.body, np.ones(len(times), bool)))["cadence"]


@pytest.fixture(scope="module")
def walk() -> Reference:
    """CMU 07_01, a walk at 1.4 m/s, five strides seen side-on by a camera following the walker."""
    return mocap_reference(require_shared_data("mocap", "cmu") / "07" / "07_01.amc", cycles=5)


def repaired(seen: np.ndarray) -> np.ndarray:
    """``seen`` (T, 33, 2) relabelled by :func:`fix_left_right_swaps`."""
    perms, _ = fix_left_right_swaps(seen, np.ones(len(seen), bool))
    return np.take_along_axis(seen, perms[..., None], axis=1)


@pytest.mark.parametrize("direction", [1, -1], ids=["left_to_right", "right_to_left"])
def test_a_walks_half_stride_swaps_are_relabelled(walk, direction):
    """A walk's half-stride swaps begin and end where only the legs' velocities change, so smoothness
    alone left them; the feet's speed band (a label jumping back from the leading foot to the trailing
    one moves back faster than any foot) undoes them, walking either way across the image."""
    px = walk.keypoints_px().astype(float)
    if direction < 0:  # the walk mirrored: walking right to left
        px[..., 0] = walk.image_size[0] - px[..., 0]
    seen = mediapipe_walk_swaps(px, direction) + np.random.default_rng(0).normal(0.0, 1.5, px.shape)
    assert legs_swapped(px, seen).sum() >= 40  # the defect as injected: a third of every stride
    assert legs_swapped(px, repaired(seen)).sum() <= 2


def test_a_walk_with_mediapipes_swaps_reads_as_a_walk(walk):
    """Issue #12: through MediaPipe the CMU walk read as a run at twice its cadence (each label landed once
    a step). Relabelled, it reads as a walk near its cadence."""
    px = walk.keypoints_px().astype(float)
    seen = mediapipe_walk_swaps(px) + np.random.default_rng(0).normal(0.0, 1.5, px.shape)
    truth, as_detected, after = (walk_gait(walk, p) for p in (px, seen, repaired(seen)))
    assert truth["gait"] == "walking" and truth["value"] == pytest.approx(walk.source["cadence_spm"], abs=2)
    assert as_detected["gait"] == "running" or as_detected["value"] > 1.5 * truth["value"]
    assert after["gait"] == "walking"
    # the two slid frames a stride stay (no relabelling undoes them): within 20 %, not doubled
    assert after["value"] == pytest.approx(truth["value"], rel=0.2)


def test_the_feet_say_nothing_when_the_face_is_not_seen_from_the_side(walk):
    """The foot cue needs the walking direction, read from the nose ahead of the ears: someone walking
    towards the camera (nose between the ears) gets no foot cost, so no relabelling comes from it."""
    px = walk.keypoints_px().astype(float) / _torso_px(walk.keypoints_px(), np.ones(walk.num_frames, bool))
    seen = mediapipe_walk_swaps(px)
    labelled = np.stack([seen[:, perm] for perm in LABELLINGS.values()], axis=1)
    assert foot_speed_band(labelled).max() > 1.0  # side-on: the swaps' jumps cost
    ears = seen[:, [INDEX["left_ear"], INDEX["right_ear"]], 0].mean(axis=1)
    labelled[:, :, INDEX["nose"], 0] = ears[:, None]
    assert not foot_speed_band(labelled).any()
    # smoothness still undoes a short swap there
    truth = px.copy()
    truth[:, INDEX["nose"], 0] = ears
    seen = truth.copy()
    seen[40:42] = seen[40:42][:, _LEG_SWAP]
    assert legs_swapped(truth, repaired(seen)).sum() == 0
