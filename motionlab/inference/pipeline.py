"""The main job: a video of a person running -> "Closest vs Ideal" MP4, JSON report and PNG summary.

Stages: keypoints (MediaPipe) -> lift (IK onto the user's body) -> optional body search -> Closest
(tracking policy in ``Track-v0``) -> Ideal (ideal policy in ``Ideal-v0``, same body, the user's speed)
-> gait metrics -> render and encode -> report. Each stage's wall time goes into the report.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from rich.console import Console

import motionlab  # noqa: F401  (registers the envs)
from motionlab.assets import CHECKPOINT_DIR, SAMPLE_INPUT
from motionlab.body import BodyParams, random_body
from motionlab.errors import InferenceError
from motionlab.footage import FootageOptions, lift_footage, speed_known
from motionlab.footage import messages as footage_messages
from motionlab.lift import LiftError, lift_reference
from motionlab.reference import Reference, load_reference

MIN_INPUT_SECONDS = 1.0
DEFAULT_TRACK_CKPT = CHECKPOINT_DIR / "track"
DEFAULT_IDEAL_CKPT = CHECKPOINT_DIR / "ideal"


@dataclass
class InferenceConfig:
    """What to run on. ``video=None`` uses the embedded sample (real mocap projected to 2D)."""

    out: Path
    video: Path | None = None
    ckpt_track: Path = DEFAULT_TRACK_CKPT
    ckpt_ideal: Path = DEFAULT_IDEAL_CKPT
    seconds: float = 10.0
    body: BodyParams = field(default_factory=BodyParams)
    body_search: int = 0
    body_search_seconds: float = 2.0
    roi: tuple[int, int, int, int] | None = None
    camera_speed: float | None = None
    time_scale: float | None = None  # the video plays this many times slower than real life; None: detected
    treadmill_speed: float | None = None
    seed: int = 0
    size: tuple[int, int] = (1280, 720)
    high_quality: bool = False  # shadows, reflections and anti-aliasing: about 5x the render time


class StageTimer:
    """Prints progress per stage and keeps each stage's wall time."""

    def __init__(self, total: int, console: Console):
        self.total, self.console, self.times, self._n = total, console, {}, 0

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self._n += 1
        start = time.perf_counter()
        with self.console.status(f"[{self._n}/{self.total}] {name} ..."):
            yield
        self.times[name] = time.perf_counter() - start
        self.console.print(f"[{self._n}/{self.total}] {name}: {self.times[name]:.2f} s")


def run_inference(cfg: InferenceConfig, console: Console | None = None) -> dict[str, Any]:
    """Run the whole job; returns the report dict (also written beside ``cfg.out``)."""
    from motionlab.inference.compose import compose_video
    from motionlab.inference.metrics import gait_metrics
    from motionlab.inference.report import write_report
    from motionlab.policy_io import load_policy

    console = console or Console(stderr=True)
    out = Path(cfg.out)
    if out.suffix.lower() != ".mp4":
        raise InferenceError(f"--out must be an .mp4 path, got {out}")
    stages = StageTimer(8, console)

    with stages("load policies"):
        track_policy, ideal_policy = load_policy(cfg.ckpt_track), load_policy(cfg.ckpt_ideal)
    with stages("keypoints"):
        ref2d, original = _keypoints(cfg)
    with stages("lift to 3D"):
        body = _search_body(ref2d, cfg) if cfg.body_search > 0 else cfg.body.resolved()
        try:
            options = FootageOptions(cfg.camera_speed, cfg.time_scale, cfg.treadmill_speed)
            lifted, lift_report = lift_footage(ref2d, body, cfg.video, options)
        except LiftError as exc:
            raise InferenceError(f"could not lift the keypoints to 3D: {exc}") from exc
    for line in footage_messages(lift_report):
        console.print(f"[yellow]note:[/] {line}")
    seconds = min(cfg.seconds, lifted.duration)
    user_speed = _speed(lifted)
    speed_range = _trained_speed_range(ideal_policy)
    target_speed = float(np.clip(user_speed, *speed_range))
    with stages("closest (tracking policy)"):
        closest = _simulate(
            track_policy, "MotionLab/Track-v0", seconds, cfg.seed, reference=lifted, body=body, reference_state_init=False
        )
    with stages("ideal (ideal policy)"):
        ideal = _simulate(ideal_policy, "MotionLab/Ideal-v0", seconds, cfg.seed, body=body, target_speed=target_speed)
    with stages("gait metrics"):
        closest_metrics, ideal_metrics = gait_metrics(closest), gait_metrics(ideal)
    with stages("render and encode"):
        compose_video(
            out,
            closest,
            ideal,
            original=original,
            original_fps=lifted.fps,  # real time: a slow-motion video is shown sped up
            size=cfg.size,
            seconds=seconds,
            shadows=cfg.high_quality,
            reflections=cfg.high_quality,
            antialias=cfg.high_quality,
        )
    with stages("report"):
        extra = {
            "input": str(cfg.video) if cfg.video else "embedded sample (real running mocap projected to 2D)",
            "seconds": seconds,
            "body": body.to_dict(),
            "body_search": {"candidates": cfg.body_search, "seconds": cfg.body_search_seconds} if cfg.body_search else None,
            "user_speed_mps": user_speed if speed_known(lift_report) else None,  # a treadmill without its speed
            "ideal_target_speed_mps": target_speed,
            "ideal_speed_range_mps": list(speed_range),
            "lift": {
                k: v
                for k, v in lift_report.to_dict().items()
                if k not in ("frame_errors_px", "camera_track", "camera_yaw_deg")
            },
            "keypoints": ref2d.source.get("summary", {}),
            "closest": _run_summary(closest),
            "ideal": _run_summary(ideal),
            "checkpoints": {"track": str(cfg.ckpt_track), "ideal": str(cfg.ckpt_ideal)},
            "stage_seconds": dict(stages.times),
        }
        tracking = (closest.times, closest.mpjpe) if closest.mpjpe is not None else None
        json_path, png_path = write_report(
            out.with_suffix(".json"), out.with_suffix(".png"), closest_metrics, ideal_metrics, extra, tracking,
            restarts=closest.restart_times,
        )
    console.print(f"wrote {out}, {json_path}, {png_path} in {sum(stages.times.values()):.1f} s")
    return {"closest": closest_metrics, "ideal": ideal_metrics, "extra": extra}


def _run_summary(run: Any) -> dict[str, Any]:
    """Falls and restarts of a rollout, for the report."""
    return {
        "fell": run.fell,
        "first_fall_s": run.fall_time,
        "restarts": len(run.restart_times),
        "restart_times_s": [round(t, 3) for t in run.restart_times],
        "end": run.end_reason,
    }


def _trained_speed_range(policy: Any) -> tuple[float, float]:
    """The target speeds the ideal policy was trained for; the user's speed is clipped into them."""
    kw = policy.env_kwargs or {}
    if kw.get("target_speed_range"):
        lo, hi = kw["target_speed_range"]
        return float(lo), float(hi)
    speed = float(kw.get("target_speed", 3.5))
    return speed, speed


# env settings a policy was trained with that change what its actions mean
_ACTION_SETTINGS = ("action_scale", "residual_force", "residual_force_scale")


def _simulate(policy: Any, env_id: str, seconds: float, seed: int, **env_kwargs: Any) -> Any:
    """Run ``policy`` for ``seconds`` in ``env_id`` (restarting after falls), after checking that the
    env's observation and action layout is the one the policy was trained on."""
    from motionlab.inference.rollout import run_policy

    trained = policy.env_kwargs or {}
    env_kwargs.update({k: trained[k] for k in _ACTION_SETTINGS if k in trained})
    env = gym.make(env_id, max_episode_seconds=seconds, **env_kwargs)
    policy.check_compatible(env.observation_space, env.action_space)
    return run_policy(env, policy, seconds, seed=seed, restart_on_fall=True)


def _keypoints(cfg: InferenceConfig) -> tuple[Reference, Iterator[np.ndarray]]:
    """2D keypoints of the input and the frames of the left panel (the video with the pose drawn)."""
    from motionlab.video.overlay import draw_pose, skeleton_2d_frame

    if cfg.video is None:
        ref = load_reference(SAMPLE_INPUT)
        ref = replace(ref, qpos=None, body=None)  # the sample stands for a video: keypoints only
        w, h = ref.image_size
        frames = (skeleton_2d_frame(ref, t, w, h) for t in range(ref.num_frames))
        return ref, frames
    from motionlab.video.pose import extract_keypoints
    from motionlab.video.reader import VideoReader

    ref, _ = extract_keypoints(cfg.video, cfg.roi, max_seconds=cfg.seconds, progress=True)
    if ref.duration < MIN_INPUT_SECONDS:
        raise InferenceError(
            f"{cfg.video}: the video is {ref.duration:.2f} s long; at least {MIN_INPUT_SECONDS:g} s of running is needed"
        )
    px, vis = ref.keypoints_px(), ref.keypoints2d[..., 2]

    def frames() -> Iterator[np.ndarray]:
        with VideoReader(cfg.video, max_frames=ref.num_frames) as video:
            for frame in video:
                t = frame.index
                yield draw_pose(frame.rgb, px[t], vis[t]) if ref.keypoints2d_valid[t] else frame.rgb

    return ref, frames()


def _speed(ref: Reference) -> float:
    """Mean forward speed of the lifted motion (m/s)."""
    q = ref.qpos
    return float(np.hypot(*(q[-1, :2] - q[0, :2])) / max(ref.duration, 1e-6))


def _search_body(ref: Reference, cfg: InferenceConfig) -> BodyParams:
    """Random search over bodies around ``cfg.body`` minimising the lift's reprojection error over the
    first ``cfg.body_search_seconds`` (no RL training involved)."""
    n = max(2, int(round(cfg.body_search_seconds * ref.fps)) + 1)
    head = replace(
        ref,
        keypoints2d=ref.keypoints2d[:n],
        keypoints2d_valid=ref.keypoints2d_valid[:n],
        world_keypoints=None if ref.world_keypoints is None else ref.world_keypoints[:n],
    )
    rng = np.random.default_rng(cfg.seed)
    candidates = [cfg.body.resolved()] + [random_body(rng, 0.12, cfg.body) for _ in range(cfg.body_search - 1)]
    scored = []
    for body in candidates:
        try:
            scored.append((lift_reference(head, body)[1].mean_reprojection_px, body))
        except LiftError:
            continue
    if not scored:
        raise InferenceError("body search: no candidate body could be fitted to the first seconds of the video")
    return min(scored, key=lambda s: s[0])[1]
