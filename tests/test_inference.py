"""The main job end to end, with the bundled checkpoints, real MediaPipe, MuJoCo rendering and ffmpeg."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from motionlab.assets import DEFAULT_REFERENCE, SAMPLE_INPUT
from motionlab.commands.infer import main
from motionlab.humanoid import build_model
from motionlab.inference.pipeline import DEFAULT_IDEAL_CKPT
from motionlab.motion import resample_qpos
from motionlab.reference import Reference, load_reference, save_reference
from motionlab.render import HumanoidRenderer
from motionlab.video.writer import VideoWriter


def decode(path: Path) -> tuple[np.ndarray, float]:
    frames = iio.imread(path, index=None)
    fps = iio.immeta(path)["fps"]
    return frames, fps


@pytest.fixture(scope="module")
def runner_video(tmp_path_factory) -> Path:
    """A real 60 fps video of a running figure: the MuJoCo humanoid replaying the real mocap run, filmed
    by a camera that follows it (MediaPipe finds a person in every frame)."""
    ref = load_reference(DEFAULT_REFERENCE)
    path = tmp_path_factory.mktemp("video") / "runner.mp4"
    with HumanoidRenderer(build_model(ref.body), 480, 360, shadows=False, reflections=False) as r, VideoWriter(path, 60) as w:
        for q in resample_qpos(ref.qpos, ref.fps, np.arange(90) / 60.0):
            w.write(r.render(q))
    return path


def test_main_job_on_the_embedded_sample_writes_video_and_report(tmp_path):
    out = tmp_path / "closest_vs_ideal.mp4"
    assert main(["--out", str(out), "--seconds", "1.5"]) == 0
    frames, fps = decode(out)
    assert fps == pytest.approx(30.0)
    assert frames.shape == (46, 720, 1280, 3)
    # three panels with content: the 2D skeleton on top, two humanoids below
    assert frames[:, 380:, :640].std() > 20 and frames[:, 380:, 640:].std() > 20
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["verdict"]["level"] in ("reliable", "use with care", "unreliable") and report["verdict"]["headline"]
    for run in ("you", "closest", "ideal"):
        assert {"speed", "cadence", "stride_length", "contact_time_left", "duty_factor", "overstride"} <= set(report[run])
        assert all({"window", "n_strides", "confidence", "status"} <= set(m) for m in report[run].values())
        # 1.5 s holds fewer than three full strides: never a number
        assert report[run]["cadence"]["value"] is None and report[run]["cadence"]["status"] == "not enough data"
    assert "not enough running" in json.dumps(report["verdict"])
    assert report["extra"]["lift"]["mean_reprojection_px"] < 5
    assert [e["time_s"] for e in report["events"]["closest"]] == report["extra"]["closest"]["restart_times_s"]
    assert set(report["extra"]["stage_seconds"]) >= {"keypoints", "lift to 3D", "render and encode"}
    assert out.with_suffix(".png").stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, out.with_suffix(".json").name, out.with_suffix(".png").name])


def test_main_job_on_a_real_video_draws_the_pose_over_it(tmp_path, runner_video):
    """A 60 fps video with --pose-fps 30: MediaPipe runs at 30 fps (every other frame, at its own time), the
    video is written at 30 fps and its input panel shows, at each moment, the input frame of that moment."""
    out = tmp_path / "result.mp4"
    assert main(["--video", str(runner_video), "--out", str(out), "--seconds", "1.4", "--camera-speed", "3.7", "--pose-fps", "30"]) == 0
    frames, fps = decode(out)
    assert frames.shape == (42, 720, 1280, 3) and fps == pytest.approx(30.0)
    report = json.loads(out.with_suffix(".json").read_text())
    keypoints = report["extra"]["keypoints"]
    assert keypoints["frame_step"] == 2 and keypoints["fps"] == pytest.approx(30.0) and keypoints["frames"] == 42
    assert keypoints["frames_with_pose"] >= 40
    assert 3.0 < report["extra"]["user_speed_mps"] < 4.5
    inputs = iio.imread(runner_video, index=None)  # 480x360, shown fitted into the 1280x360 top panel: 480x360 at x=400
    for k in (5, 20, 40):
        shown = frames[k, 40:360, 400:880].astype(float)  # below the banner
        same, other = (np.abs(shown - inputs[i, 40:360].astype(float)).mean() for i in (2 * k, 2 * k + 6))
        assert same < 0.6 * other, (k, same, other)


def test_main_job_from_a_keypoint_reference_portrait_60fps(tmp_path):
    """--ref runs the job from keypoints; a 60 fps input gives a <= 30 fps video; a portrait input gets a
    full-height column; 3.5 s of running give figures with their strides and confidence."""
    ref = load_reference(SAMPLE_INPUT)
    fast = Reference(  # the sample's keypoints re-timed to 60 fps (a runner twice as fast) in a portrait frame
        fps=60.0, keypoints2d=ref.keypoints2d, keypoints2d_valid=ref.keypoints2d_valid, image_size=(480, 854),
    )
    fast.keypoints2d[..., 1] = 0.2 + 0.6 * fast.keypoints2d[..., 1]
    save_reference(fast, tmp_path / "kp.npz")
    out = tmp_path / "r.mp4"
    assert main(["--ref", str(tmp_path / "kp.npz"), "--out", str(out), "--seconds", "3.5"]) == 0
    frames, fps = decode(out)
    assert fps == pytest.approx(30.0) and len(frames) == 106
    assert frames[:, 100:700, :400].std() > 10 and frames[:, 100:700, 404:].std() > 20  # skeleton column, runners
    report = json.loads(out.with_suffix(".json").read_text())
    cad = report["you"]["cadence"]
    assert cad["value"] == pytest.approx(300, rel=0.05) and cad["status"] == "implausible" or cad["n_strides"] >= 3
    assert "camera motion unknown" in report["you"]["speed"]["reason"]
    assert any("slow motion" in f["what"] or "cadence" in f["what"] for f in report["verdict"]["findings"])


def test_help_shows_the_seconds_default(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "default: 10 s" in " ".join(capsys.readouterr().out.split())  # argparse wraps lines by width


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda d: d.joinpath("corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video"), "video"),
        (lambda d: d.joinpath("empty.mp4").write_bytes(b""), "empty"),
    ],
)
def test_bad_video_gives_a_clear_error_and_no_partial_output(tmp_path, capsys, make_input, message):
    make_input(tmp_path)
    video = next(tmp_path.iterdir())
    out = tmp_path / "out" / "result.mp4"
    assert main(["--video", str(video), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_too_short_video_and_no_person(tmp_path, capsys, runner_video):
    short = tmp_path / "short.mp4"
    frames = iio.imread(runner_video, index=None)
    with VideoWriter(short, 30) as w:
        for f in frames[:6]:  # 0.2 s
            w.write(f)
    out = tmp_path / "out" / "a.mp4"
    assert main(["--video", str(short), "--out", str(out)]) == 2
    assert "at least 1 s" in capsys.readouterr().err
    sky = tmp_path / "sky.mp4"
    with VideoWriter(sky, 30) as w:
        for _ in range(40):
            w.write(np.full((240, 320, 3), (135, 180, 235), np.uint8))
    assert main(["--video", str(sky), "--out", str(out)]) == 2
    assert "no person" in capsys.readouterr().err
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_checkpoint_for_another_observation_layout_is_refused(tmp_path, capsys):
    out = tmp_path / "x.mp4"
    assert main(["--out", str(out), "--seconds", "1", "--ckpt-track", str(DEFAULT_IDEAL_CKPT)]) == 2
    err = capsys.readouterr().err
    assert "(96,)" in err and "(203,)" in err
    assert not out.exists()


def test_missing_checkpoint_is_named(tmp_path, capsys):
    broken = tmp_path / "ckpt"
    shutil.copytree(DEFAULT_IDEAL_CKPT, broken)
    (broken / "policy.pt").unlink()
    assert main(["--out", str(tmp_path / "x.mp4"), "--ckpt-ideal", str(broken)]) == 2
    assert "policy.pt" in capsys.readouterr().err


def test_the_env_a_checkpoint_was_trained_on_is_built_without_an_upgrade_warning():
    import warnings

    from motionlab.inference.pipeline import DEFAULT_IDEAL_CKPT, _make_env
    from motionlab.policy_io import load_policy

    policy = load_policy(DEFAULT_IDEAL_CKPT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = _make_env(policy, policy.env_id, 1.0, target_speed=3.5)
    env.close()
    assert not [w for w in caught if "out of date" in str(w.message)]


def test_input_panel_frames_are_kept_at_the_size_shown_within_a_memory_budget():
    """The keypoint pass keeps each frame at the size the result video shows it (a 1080p frame in the
    640x360 half of a 1280x720 landscape layout, a portrait one in its full-height column) until the
    budget is spent; then it keeps none, and the job decodes the video again."""
    from motionlab.inference.compose import InputPanelFrames
    from motionlab.video.reader import Frame

    panel = InputPanelFrames((1920, 1080), (1280, 720), budget_bytes=3 * 640 * 360 * 3)
    frame = Frame(0, 0.0, np.full((1080, 1920, 3), 200, np.uint8))
    for _ in range(3):
        panel(frame)
    assert panel.complete and panel.size == (640, 360) and panel.scale == pytest.approx(1 / 3)
    assert [f.shape for f in panel.frames] == [(360, 640, 3)] * 3 and panel.frames[0].mean() == pytest.approx(200)
    panel(frame)
    assert not panel.complete and panel.frames == []
    assert panel.shrink(frame.rgb).shape == (360, 640, 3)
    assert InputPanelFrames((1080, 1920), (1280, 720)).size == (404, 718)


def test_an_ideal_v1_checkpoint_given_as_the_tracker_is_refused_by_its_layout():
    """Its action settings (clock_scale) belong to Ideal-v1: they are not passed to Track-v0, whose
    constructor would fail with a TypeError; the layout check names the mismatch instead."""
    from motionlab.errors import CheckpointError
    from motionlab.inference.pipeline import _make_env
    from motionlab.policy_io import load_policy

    policy = load_policy(DEFAULT_IDEAL_CKPT)
    policy.env_id, policy.env_kwargs = "MotionLab/Ideal-v1", {**policy.env_kwargs, "clock_scale": 0.5}
    with pytest.raises(CheckpointError, match=r"\(96,\)"):
        _make_env(policy, "MotionLab/Track-v0", 1.0)
