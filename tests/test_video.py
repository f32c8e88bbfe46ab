"""Tests for motionlab.video: reading, MediaPipe extraction, smoothing, overlays and the CLI commands.

Real components throughout: FFmpeg (OpenCV and imageio-ffmpeg), the bundled MediaPipe Pose model and the
real photos/video in ``../shared/data/media``. Expected pixel positions were read off the images by eye
(grid overlays, not MediaPipe output). About 12 s on 2 cores.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from conftest import require_shared_data
from scipy.signal import savgol_filter

from motionlab.assets import DEFAULT_REFERENCE
from motionlab.cli import main
from motionlab.humanoid import build_model
from motionlab.keypoints import BODY_LANDMARKS, INDEX, NUM_LANDMARKS
from motionlab.motion import resample_qpos
from motionlab.reference import load_reference
from motionlab.render import HumanoidRenderer
from motionlab.video.overlay import FADED_ALPHA, LEFT_RGB, RIGHT_RGB, draw_pose, draw_text_box, fit_lines
from motionlab.video.pose import NoPoseError, PoseSettings, clip_box, extract_keypoints, parse_roi
from motionlab.video.reader import (
    VideoReader,
    VideoReadError,
    effective_fps,
    frame_step,
    is_variable_rate,
    read_ahead,
)
from motionlab.video.smoothing import SmoothingParams, savgol, valid_runs
from motionlab.video.writer import VideoWriter

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

# Hand-checked joint positions (pixels), read off grid overlays of the photos.
MESSI = {  # messi5.jpg, 548x342, body ~280 px: tolerance 25 px
    "nose": (246, 118), "right_shoulder": (185, 128), "left_shoulder": (285, 132),
    "right_wrist": (95, 97), "left_wrist": (348, 165), "right_knee": (230, 280), "left_knee": (350, 252),
    "right_ankle": (268, 314), "left_ankle": (405, 262),
}  # fmt: skip
MESSI_HIP_CENTRE = (275, 240)
BASKETBALL = {  # basketball1.png, 640x480, the man on the left, body ~400 px: tolerance 20 px
    "nose": (92, 119), "right_shoulder": (50, 150), "left_shoulder": (118, 148), "right_elbow": (80, 206),
    "left_elbow": (140, 208), "right_wrist": (135, 165), "left_wrist": (150, 160), "right_knee": (70, 370),
    "left_knee": (118, 370), "right_ankle": (60, 458), "left_ankle": (122, 447),
}  # fmt: skip
BASKETBALL_HIP_CENTRE = (90, 284)
# vtest.avi (768x576, 10 fps): the pedestrian near the lamp post, ~85 px tall, in frames 0 and 16.
VTEST_ROI = (200, 190, 200, 140)
VTEST_FRAMES = {0: {"head": (267, 225), "hip": (267, 267), "feet": (268, 303)},
                16: {"head": (360, 204), "hip": (362, 247), "feet": (362, 279)}}  # fmt: skip


@pytest.fixture(scope="session")
def media() -> Path:
    return require_shared_data("media")


def _rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def _write_clip(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    with VideoWriter(path, fps=fps) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def _ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-y", "-loglevel", "error", *args], check=True)


@pytest.fixture(scope="session")
def clips(media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Short videos made from the photos (3 identical frames each)."""
    root = tmp_path_factory.mktemp("clips")
    return {
        name: _write_clip(root / f"{name}.mp4", [_rgb(media / file)] * 3)
        for name, file in (("messi", "messi5.jpg"), ("basketball", "basketball1.png"))
    }


@pytest.fixture(scope="session")
def messi_extraction(clips: dict[str, Path]):
    return extract_keypoints(clips["messi"])


def _px(reference, frame: int, name: str) -> np.ndarray:
    return reference.keypoints_px()[frame, INDEX[name]]


def _hip_centre(reference, frame: int) -> np.ndarray:
    return (_px(reference, frame, "left_hip") + _px(reference, frame, "right_hip")) / 2


def _jerk_px(reference) -> float:
    """Median size of the body landmarks' second frame difference (pixels)."""
    body = reference.keypoints_px()[:, list(BODY_LANDMARKS)]
    return float(np.median(np.linalg.norm(np.diff(body, 2, axis=0), axis=-1)))


def _assert_near(actual: np.ndarray, expected: tuple[float, float], tol: float, what: str) -> None:
    err = float(np.linalg.norm(np.asarray(actual) - np.asarray(expected)))
    assert err <= tol, f"{what}: landmark at {np.round(actual, 1)}, hand-checked {expected} ({err:.1f} px > {tol})"


# ------------------------------------------------------------------ reader
def test_reader_uses_container_timestamps_of_a_variable_rate_video(tmp_path: Path) -> None:
    path = tmp_path / "vfr.mp4"  # 10 frames at 10 fps, then 5 frames at 5 fps
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x90:rate=10", "-frames:v", "15",
            "-vf", r"setpts=(N*0.1+gte(N\,10)*(N-10)*0.1)/TB", "-fps_mode", "passthrough",
            "-video_track_timescale", "1000", "-pix_fmt", "yuv420p", str(path))  # fmt: skip
    expected = np.r_[np.arange(10) * 0.1, 1.0 + np.arange(5) * 0.2]
    with VideoReader(path) as video:
        frames = list(video)
    times = np.array([f.time_s for f in frames])
    np.testing.assert_allclose(times, expected, atol=1e-3)
    assert [f.index for f in frames] == list(range(15))
    assert frames[0].rgb.shape == (90, 160, 3) and frames[0].rgb.dtype == np.uint8
    assert effective_fps(times, fallback=0) == pytest.approx(14 / 1.8, rel=1e-3)
    assert is_variable_rate(times) and not is_variable_rate(expected[:10])

    with VideoReader(path, start_s=0.5, end_s=1.3) as video:
        np.testing.assert_allclose([f.time_s for f in video], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2], atol=1e-3)
    with VideoReader(path, start_s=0.95, max_frames=2) as video:
        np.testing.assert_allclose([f.time_s for f in video], [1.0, 1.2], atol=1e-3)
    with VideoReader(path, start_s=5.0) as video, pytest.raises(VideoReadError, match="no frames in the window"):
        list(video)


def test_reader_applies_rotation_metadata(tmp_path: Path) -> None:
    """A landscape stream with 90° display rotation (as phones write it) is read upright, i.e. portrait."""
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[:30, :30] = (255, 0, 0)  # red in the top-left corner of the stored picture
    plain = _write_clip(tmp_path / "plain.mp4", [frame] * 2)
    rotated = tmp_path / "rotated.mp4"
    _ffmpeg("-display_rotation:v:0", "90", "-i", str(plain), "-c", "copy", str(rotated))
    with VideoReader(rotated) as video:
        assert video.info.image_size == (90, 160)
        assert video.info.rotation_deg in (90, 270)
        upright = next(iter(video)).rgb
    # ffmpeg's display rotation is counter-clockwise: the stored top-left corner ends up bottom-left.
    assert upright.shape == (160, 90, 3)
    assert upright[-10:, :10, 0].mean() > 200 and upright[-10:, :10, 1:].mean() < 60
    assert upright[:10, :10, 0].mean() < 60


def test_reader_every_yields_each_kept_frame_with_its_own_timestamp(tmp_path: Path) -> None:
    """``every=2`` on a 60 fps video: frames 0, 2, 4, ... (their own pictures and times), counted 0, 1, 2, ..."""
    frames = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(12)]  # frame i has brightness 20 i
    path = _write_clip(tmp_path / "sixty.mp4", frames, fps=60.0)
    with VideoReader(path, every=2) as video:
        assert video.expected_frames == 6
        kept = list(video)
    assert [f.index for f in kept] == list(range(6))
    np.testing.assert_allclose([f.time_s for f in kept], np.arange(0, 12, 2) / 60.0, atol=1e-3)
    np.testing.assert_allclose([f.rgb.mean() for f in kept], np.arange(0, 12, 2) * 20.0, atol=4)


def test_read_ahead_decodes_while_the_caller_works_and_keeps_order_and_errors(tmp_path: Path) -> None:
    """``read_ahead`` over a real video yields its frames in order, unchanged, and decodes the next ones
    while the caller is busy (the reader runs ahead up to the depth); a producer's error arrives after
    the items before it; leaving early stops the thread."""
    import threading
    import time

    frames = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(8)]
    path = _write_clip(tmp_path / "clip.mp4", frames)
    with VideoReader(path) as video:
        plain = [f.rgb for f in video]
    decoded: list[int] = []

    def counted():
        with VideoReader(path) as video:
            for f in video:
                decoded.append(f.index)
                yield f

    seen = []
    for frame in read_ahead(counted(), depth=3):
        if frame.index == 0:
            time.sleep(0.3)  # the caller is busy with the first frame: the next ones are decoded meanwhile
            assert len(decoded) == 5  # the one being used, three in the queue, one waiting to be put
        seen.append(frame.rgb)
    assert len(seen) == len(plain) and all(np.array_equal(a, b) for a, b in zip(seen, plain))

    def failing():
        yield 1
        yield 2
        raise VideoReadError("truncated")

    got = []
    with pytest.raises(VideoReadError, match="truncated"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [1, 2]
    before = threading.active_count()
    endless = read_ahead(iter(lambda: 0, 1), depth=2)  # never ends by itself
    assert next(endless) == 0
    assert threading.active_count() == before + 1
    endless.close()
    assert threading.active_count() == before


def test_reader_shrinks_frames_to_max_short_side_after_rotating_them(tmp_path: Path) -> None:
    """``max_short_side`` shrinks the upright frame (a rotated phone video stays portrait); ``info`` keeps
    the video's own size."""
    frame = np.zeros((240, 320, 3), np.uint8)
    frame[:80, :80] = (255, 0, 0)
    plain = _write_clip(tmp_path / "plain.mp4", [frame] * 2)
    rotated = tmp_path / "rotated.mp4"
    _ffmpeg("-display_rotation:v:0", "90", "-i", str(plain), "-c", "copy", str(rotated))
    with VideoReader(rotated, max_short_side=120) as video:
        assert video.info.image_size == (240, 320) and video.frame_size == (120, 160)
        small = next(iter(video)).rgb
    assert small.shape == (160, 120, 3)
    assert small[-5:, :5, 0].mean() > 200 and small[:5, :5, 0].mean() < 60  # upright, as without shrinking
    with VideoReader(plain, max_short_side=480) as video:  # never enlarged
        assert next(iter(video)).rgb.shape == (240, 320, 3)


@pytest.mark.parametrize("fps, step", [(60.0, 2), (59.94, 2), (50.0, 2), (120.0, 4), (40.0, 1), (30.0, 1), (0.0, 1)])
def test_frame_step_brings_the_rate_nearest_30(fps: float, step: int) -> None:
    assert frame_step(fps, 30.0) == step
    assert frame_step(fps, None) == 1


def test_extraction_at_30_fps_from_a_60_fps_video_keeps_the_frame_times_and_the_frame_size(tmp_path: Path) -> None:
    """MediaPipe on every other frame of a 60 fps video, shrunk to 240 px on its short side: a 30 fps
    reference with the kept frames' own times, in units of the full 480x360 frame, landing where the
    full-size, full-rate extraction puts the landmarks."""
    ref = load_reference(DEFAULT_REFERENCE)
    times = np.arange(36) / 60.0
    path = tmp_path / "runner60.mp4"
    with HumanoidRenderer(build_model(ref.body), 480, 360, shadows=False, reflections=False) as r, VideoWriter(path, 60) as w:
        for q in resample_qpos(ref.qpos, ref.fps, times):
            w.write(r.render(q))
    full, _ = extract_keypoints(path)
    fast, summary = extract_keypoints(path, max_fps=30.0, max_short_side=240)
    assert summary["frame_step"] == 2 and fast.num_frames == 18 and fast.fps == pytest.approx(30.0)
    assert fast.image_size == full.image_size == (480, 360)
    np.testing.assert_allclose(fast.source["frame_times_s"], times[::2], atol=1e-3)
    both = fast.keypoints2d_valid & full.keypoints2d_valid[::2]
    assert both.sum() >= 15
    body = list(BODY_LANDMARKS)
    error = np.linalg.norm(fast.keypoints_px()[both][:, body] - full.keypoints_px()[::2][both][:, body], axis=-1)
    assert np.median(error) < 4.0  # px of the 480x360 frame; the figure is ~200 px tall


# ------------------------------------------------------------------ pose extraction on real images
def test_landmarks_land_on_the_player_in_messi_photo(messi_extraction) -> None:
    reference, summary = messi_extraction
    assert reference.image_size == (548, 342)
    assert summary["frames"] == summary["frames_with_pose"] == 3
    assert reference.keypoints2d_valid.all()
    for frame in range(3):
        for name, expected in MESSI.items():
            _assert_near(_px(reference, frame, name), expected, 25, name)
        _assert_near(_hip_centre(reference, frame), MESSI_HIP_CENTRE, 25, "hip centre")
    assert summary["mean_visibility"] > 0.8
    world = reference.world_keypoints[0]  # metres, hip-centred, y down
    hips = (world[INDEX["left_hip"]] + world[INDEX["right_hip"]]) / 2
    assert np.linalg.norm(hips) < 0.05
    assert world[INDEX["nose"], 1] < -0.3 and world[INDEX["right_ankle"], 1] > 0.3


def test_landmarks_follow_the_fully_visible_person_in_basketball_photo(clips: dict[str, Path]) -> None:
    reference, summary = extract_keypoints(clips["basketball"], smoothing=None)
    assert summary["frames_with_pose"] == 3
    for frame in range(3):
        for name, expected in BASKETBALL.items():
            _assert_near(_px(reference, frame, name), expected, 20, name)
        _assert_near(_hip_centre(reference, frame), BASKETBALL_HIP_CENTRE, 20, "hip centre")


def test_roi_finds_a_small_pedestrian_that_the_full_frame_misses(media: Path) -> None:
    video = media / "vtest.avi"
    reference, summary = extract_keypoints(video, roi=VTEST_ROI, max_frames=20)
    assert summary["frames"] == 20 and summary["frames_with_pose"] >= 18
    assert summary["roi"] == list(VTEST_ROI) and reference.source["roi"] == list(VTEST_ROI)
    assert summary["auto_crop"] == {"tried": False}  # --roi overrides the automatic crop
    assert reference.image_size == (768, 576)  # normalised to the full frame, not the crop
    x, y, w, h = VTEST_ROI
    body = reference.keypoints_px()[reference.keypoints2d_valid][:, list(BODY_LANDMARKS)]
    assert (body[..., 0] >= x).all() and (body[..., 0] <= x + w).all()
    assert (body[..., 1] >= y).all() and (body[..., 1] <= y + h).all()
    for frame, marks in VTEST_FRAMES.items():
        assert reference.keypoints2d_valid[frame]
        ankles = (_px(reference, frame, "left_ankle") + _px(reference, frame, "right_ankle")) / 2
        _assert_near(_px(reference, frame, "nose"), marks["head"], 10, f"frame {frame} head")
        _assert_near(_hip_centre(reference, frame), marks["hip"], 10, f"frame {frame} hip centre")
        _assert_near(ankles, marks["feet"], 10, f"frame {frame} feet")

    raw, _ = extract_keypoints(video, roi=VTEST_ROI, max_frames=20, smoothing=None)
    np.testing.assert_array_equal(raw.keypoints2d_valid, reference.keypoints2d_valid)
    shift = np.linalg.norm(raw.keypoints_px() - reference.keypoints_px(), axis=-1)[reference.keypoints2d_valid]
    assert 0 < np.median(shift) < 2.0  # smoothing does not move the person ...
    assert _jerk_px(reference) < 0.8 * _jerk_px(raw)  # ... it removes frame-to-frame jitter

    with pytest.raises(NoPoseError, match=r"no person found in any of the 10 frames.*--roi x,y,w,h"):
        extract_keypoints(video, max_frames=10, auto_crop=False)  # the full frame alone (tests/test_person_finder.py)


def test_tracking_rejects_a_jump_to_another_person(media: Path, tmp_path: Path) -> None:
    """Person A alone, then only person B (one frame), then both: the track stays on A."""
    a = cv2.resize(_rgb(media / "basketball1.png")[60:480, 0:200], (143, 300), interpolation=cv2.INTER_AREA)
    b = cv2.resize(_rgb(media / "messi5.jpg")[40:342, 60:470], (380, 280), interpolation=cv2.INTER_AREA)

    def canvas(with_a: bool, with_b: bool) -> np.ndarray:
        image = np.full((360, 800, 3), 128, np.uint8)
        if with_a:
            image[30:330, 60:203] = a
        if with_b:
            image[50:330, 400:780] = b
        return image

    frames = [canvas(True, False)] * 6 + [canvas(False, True)] + [canvas(True, True)] * 6
    clip = _write_clip(tmp_path / "two.mp4", frames)
    reference, summary = extract_keypoints(clip, smoothing=None)
    valid = reference.keypoints2d_valid
    assert not valid[6], "the frame showing only the other person must be a gap"
    assert valid[:6].all() and valid[7:].all()
    hip_x = np.array([_hip_centre(reference, i)[0] for i in range(13)])
    assert ((hip_x[valid] > 60) & (hip_x[valid] < 203)).all(), hip_x
    assert summary["track_rejections"] >= 1 and summary["redetections"] >= 6

    unchecked = PoseSettings(max_jump_torsos=1e6, max_appearance_distance=1.0)  # neither where nor who
    untracked, _ = extract_keypoints(clip, smoothing=None, settings=unchecked)
    hip_x = np.array([_hip_centre(untracked, i)[0] for i in range(7, 13)])
    assert (hip_x > 400).all(), "without the jump check MediaPipe follows the other person"
    by_clothes, summary = extract_keypoints(clip, smoothing=None, settings=PoseSettings(max_jump_torsos=1e6))
    valid = by_clothes.keypoints2d_valid  # no jump check, but B's clothes are not A's
    hip_x = np.array([_hip_centre(by_clothes, i)[0] for i in range(13)])
    assert not valid[6] and valid[7:].sum() >= 5 and (hip_x[valid] < 203).all(), hip_x
    assert summary["not_the_person"] >= 1


def test_parse_and_clip_roi() -> None:
    assert parse_roi(" 10, 20,30 ,40") == (10, 20, 30, 40)
    for bad in ("10,20,30", "a,b,c,d", "0,0,0,10", "-5,0,10,10"):
        with pytest.raises(ValueError, match="ROI"):
            parse_roi(bad)
    assert clip_box((600, 400, 100, 200), (640, 480)) == (600, 400, 40, 80)
    with pytest.raises(ValueError, match="less than 16 px inside the 640x480 frame"):
        clip_box((700, 10, 50, 50), (640, 480))


# ------------------------------------------------------------------ smoothing
def test_savgol_equals_scipy_inside_a_uniform_run_and_always_smooths() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, NUM_LANDMARKS, 2))
    out = savgol(x, np.arange(60) / 30, np.ones(60, bool), SmoothingParams(window_s=0.2, polyorder=3))
    np.testing.assert_allclose(out[3:-3], savgol_filter(x, 7, 3, axis=0)[3:-3], atol=1e-10)
    # At 10 fps 0.2 s is 3 frames, which a cubic would interpolate: the window widens to 5 frames.
    out = savgol(x, np.arange(60) / 10, np.ones(60, bool), SmoothingParams(window_s=0.2, polyorder=3))
    np.testing.assert_allclose(out[2:-2], savgol_filter(x, 5, 3, axis=0)[2:-2], atol=1e-10)


def test_savgol_reduces_noise_keeps_motion_and_uses_real_frame_times() -> None:
    rng = np.random.default_rng(1)
    times = np.cumsum(rng.uniform(1 / 36, 1 / 25, 300))  # jittery, variable frame rate
    truth = np.sin(2 * np.pi * 1.5 * times)  # a limb swinging at running cadence
    noisy = truth + rng.normal(0, 0.03, len(times))
    smooth = savgol(noisy, times, np.ones(len(times), bool), SmoothingParams())
    inner = slice(10, -10)
    error, noise = (float(np.sqrt(np.mean((x - truth)[inner] ** 2))) for x in (smooth, noisy))
    assert error < 0.8 * noise  # less noise, and no lag (a lag of one frame would be an error of ~0.2)
    amplitude = np.ptp(smooth[inner]) / np.ptp(truth[inner])
    assert 0.97 < amplitude < 1.05

    cubic = 2 * times**3 - times**2 + 0.5 * times  # a cubic is reproduced exactly at irregular times ...
    np.testing.assert_allclose(savgol(cubic, times, np.ones(len(times), bool), SmoothingParams()), cubic, atol=1e-9)
    assert np.abs(savgol_filter(cubic, 7, 3) - cubic).max() > 1e-3  # ... which index-based filtering does not


def test_savgol_restarts_after_gaps_and_never_fills_them() -> None:
    rng = np.random.default_rng(2)
    times = np.arange(40) / 30
    values = rng.normal(size=(40, 3))
    valid = np.ones(40, bool)
    valid[[0, 15, 16, 17, 30]] = False
    values[~valid] = 0.0
    out = savgol(values, times, valid, SmoothingParams())
    assert valid_runs(valid) == [(1, 15), (18, 30), (31, 40)]
    np.testing.assert_array_equal(out[~valid], 0.0)
    for start, stop in valid_runs(valid):  # each run is filtered as if the rest did not exist
        alone = savgol(values[start:stop], times[start:stop], np.ones(stop - start, bool), SmoothingParams())
        np.testing.assert_allclose(out[start:stop], alone, atol=1e-12)
    assert not np.allclose(out[valid], values[valid])
    single = np.array([False, True, False])
    lone = savgol(np.array([0.0, 7.0, 0.0]), np.arange(3.0), single, SmoothingParams())
    np.testing.assert_array_equal(lone, [0, 7, 0])
    with pytest.raises(ValueError, match="strictly increasing"):
        savgol(values, np.zeros(40), valid, SmoothingParams())


# ------------------------------------------------------------------ overlay
def test_draw_pose_colours_sides_and_fades_uncertain_landmarks() -> None:
    frame = np.zeros((200, 200, 3), np.uint8)
    points = np.full((NUM_LANDMARKS, 2), 100.0)
    visibility = np.ones(NUM_LANDMARKS)
    points[INDEX["left_shoulder"]] = (40, 40)
    points[INDEX["right_shoulder"]] = (160, 40)
    points[INDEX["left_knee"]] = (40, 170)
    visibility[INDEX["left_knee"]] = 0.1
    out = draw_pose(frame, points, visibility)
    assert out is not frame and not frame.any()
    np.testing.assert_allclose(out[40, 40], LEFT_RGB, atol=10)
    np.testing.assert_allclose(out[40, 160], RIGHT_RGB, atol=10)
    np.testing.assert_allclose(out[170, 40], FADED_ALPHA * np.asarray(LEFT_RGB), atol=10)
    with pytest.raises(ValueError, match="expected keypoints"):
        draw_pose(frame, points[:12], visibility)


# ------------------------------------------------------------------ command line
def _bad_video(kind: str, folder: Path) -> Path:
    path = folder / f"{kind}.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is a text file, not a video\n")
    elif kind == "header_only":  # a valid header whose frames were cut off
        full = folder / "full.mp4"
        _ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x90:rate=10", "-frames:v", "10", "-pix_fmt", "yuv420p",
                "-movflags", "+faststart", str(full))  # fmt: skip
        data = full.read_bytes()
        path.write_bytes(data[: data.index(b"mdat") + 4])
        full.unlink()
    elif kind == "sky":
        _write_clip(path, [np.full((240, 320, 3), (135, 190, 235), np.uint8)] * 5)
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "no such file"),
        ("empty", "the file is empty"),
        ("text", "not a readable video"),
        ("header_only", "no decodable frames"),
        ("sky", "no person found in any of the 5 frames; person too small\\? give --roi"),
    ],
)
def test_extract_bad_input_gives_one_clear_error_and_no_output(
    kind: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir()
    video = _bad_video(kind, inputs)
    assert main(["extract", "--video", str(video), "--out", str(outputs / "ref.npz")]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("motionlab extract: error:")]
    assert len(errors) == 1 and str(video) in errors[0]
    assert re.search(message, errors[0]), errors[0]
    assert list(outputs.iterdir()) == []


def test_extract_cli_round_trip_and_preview(
    clips: dict[str, Path], messi_extraction, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "refs" / "messi.npz"
    assert main(["extract", "--video", str(clips["messi"]), "--out", str(out)]) == 0
    assert "pose in 3/3 frames" in capsys.readouterr().out
    loaded = load_reference(out)
    expected, summary = messi_extraction
    np.testing.assert_allclose(loaded.keypoints2d, expected.keypoints2d, atol=1e-6)
    np.testing.assert_allclose(loaded.world_keypoints, expected.world_keypoints, atol=1e-6)
    assert loaded.fps == pytest.approx(10.0) and loaded.image_size == (548, 342)
    assert loaded.source["kind"] == "video" and loaded.source["file"] == "messi.mp4"
    assert loaded.source["roi"] is None and loaded.source["model"]["model_complexity"] == 1
    assert loaded.source["summary"]["frames_with_pose"] == summary["frames_with_pose"] == 3
    assert loaded.source["frame_times_s"] == pytest.approx([0.0, 0.1, 0.2])
    assert loaded.qpos is None

    preview = tmp_path / "preview.mp4"
    assert main(["preview", "--video", str(clips["messi"]), "--ref", str(out), "--out", str(preview)]) == 0
    with VideoReader(preview) as video, VideoReader(clips["messi"]) as original:
        pairs = list(zip(video, original, strict=True))
    assert len(pairs) == 3 and pairs[0][0].rgb.shape == (342, 548, 3)
    wrist = np.round(_px(loaded, 0, "left_wrist")).astype(int)
    patch = (slice(wrist[1] - 2, wrist[1] + 3), slice(wrist[0] - 2, wrist[0] + 3))
    for drawn, plain in pairs:  # the left wrist dot (orange) is drawn over the video
        diff = np.abs(drawn.rgb[patch].astype(int) - plain.rgb[patch].astype(int)).mean()
        assert diff > 30

    wrong = tmp_path / "wrong.mp4"  # a different video: clear error, no preview written
    assert main(["preview", "--video", str(clips["basketball"]), "--ref", str(out), "--out", str(wrong)]) == 2
    assert "is it the same video" in capsys.readouterr().err
    assert not wrong.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["preview.mp4", "refs"]


def test_extract_dir_continues_past_a_bad_video(
    clips: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    videos, outputs = tmp_path / "videos", tmp_path / "out"
    videos.mkdir()
    shutil.copy(clips["messi"], videos / "a_good.mp4")
    (videos / "b_broken.mp4").write_text("not a video")
    (videos / "notes.txt").write_text("ignored by the pattern")
    assert main(["extract-dir", "--videos-dir", str(videos), "--out-dir", str(outputs), "--pattern", "*.mp4"]) == 1
    captured = capsys.readouterr()
    assert "b_broken.mp4: FAILED: VideoReadError" in captured.err and "1/2 videos extracted" in captured.out
    assert sorted(p.name for p in outputs.iterdir()) == ["a_good.npz", "extract_summary.json"]
    assert load_reference(outputs / "a_good.npz").keypoints2d_valid.all()
    report = json.loads((outputs / "extract_summary.json").read_text())
    assert (report["ok"], report["failed"]) == (1, 1)
    status = {Path(v["video"]).name: v for v in report["videos"]}
    assert status["a_good.mp4"]["status"] == "ok" and status["a_good.mp4"]["summary"]["frames_with_pose"] == 3
    assert status["b_broken.mp4"]["status"] == "failed" and "not a readable video" in status["b_broken.mp4"]["error"]


def test_a_note_wider_than_its_panel_is_wrapped_not_cut() -> None:
    """The portrait layout's Closest panel (~430 px) cut its refinement note at the edge ("... vs policy
    alone, residual"): text boxes wrap a line at word breaks to fit the frame, keeping every word."""
    note = "MPC-refined (balanced): restarts 2 -> 0 vs policy alone, residual force 14 -> 15% BW"
    lines = fit_lines(["Closest: your run", note], width=430 - 8, scale=0.55, title=True)
    assert len(lines) > 2 and " ".join(lines[1:]).split() == note.split()
    for i, line in enumerate(lines):
        scale, weight = (0.55 * 1.35, 2) if i == 0 else (0.55, 1)
        assert cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, weight)[0][0] + 2 * 6 <= 430 - 8
    frame = np.zeros((200, 430, 3), np.uint8)
    draw_text_box(frame, ["Closest: your run", note], (8, 8), scale=0.55, title=True)
    assert frame[:, -3:].max() == 0  # nothing drawn into the last pixels: the box ends inside the frame
