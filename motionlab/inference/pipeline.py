"""The main job: a video of a person running -> "Closest vs Ideal" MP4, JSON report and PNG summary.

Stages: keypoints (MediaPipe) -> lift (IK onto the user's body) -> optional body search -> Closest
(tracking policy in ``Track-v0``) -> Ideal (the ideal policy's env, same body, the user's speed; the
walk policy when the user walks and one is installed)
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
from motionlab.lift import LiftError, estimate_camera, lift_reference
from motionlab.reference import Reference, load_reference

MIN_INPUT_SECONDS = 1.0
DEFAULT_TRACK_CKPT = CHECKPOINT_DIR / "track"
DEFAULT_IDEAL_CKPT = CHECKPOINT_DIR / "ideal"
DEFAULT_IDEAL_WALK_CKPT = CHECKPOINT_DIR / "ideal_walk"  # used when present
# Adults switch from walking to running near 2 m/s (preferred transition speed ~2.0 m/s, e.g.
# Hreljac 1993, Med Sci Sports Exerc 25:1158); walking has no flight phase (duty factor above 0.5).
WALK_BELOW_MPS = 2.0


@dataclass
class InferenceConfig:
    """What to run on. ``video=None`` uses the embedded sample (real mocap projected to 2D)."""

    out: Path
    video: Path | None = None
    ckpt_track: Path = DEFAULT_TRACK_CKPT
    ckpt_ideal: Path = DEFAULT_IDEAL_CKPT
    ckpt_ideal_walk: Path | None = DEFAULT_IDEAL_WALK_CKPT  # the Ideal for a user who walks (skipped if absent)
    seconds: float = 10.0
    body: BodyParams = field(default_factory=BodyParams)
    body_search: int = 0
    body_search_seconds: float = 2.0
    roi: tuple[int, int, int, int] | None = None
    camera_speed: float | None = None
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
        walk_path = cfg.ckpt_ideal_walk
        use_walk = walk_path is not None and (walk_path != DEFAULT_IDEAL_WALK_CKPT or walk_path.is_dir())
        walk = (walk_path, load_policy(walk_path)) if use_walk else None
    with stages("keypoints"):
        ref2d, original = _keypoints(cfg)
    with stages("lift to 3D"):
        body = _search_body(ref2d, cfg) if cfg.body_search > 0 else cfg.body.resolved()
        try:
            camera = estimate_camera(ref2d, body, speed=cfg.camera_speed) if cfg.camera_speed is not None else None
            lifted, lift_report = lift_reference(ref2d, body, camera)
        except LiftError as exc:
            raise InferenceError(f"could not lift the keypoints to 3D: {exc}") from exc
    seconds = min(cfg.seconds, lifted.duration)
    user_speed = _speed(lifted)
    with stages("closest (tracking policy)"):
        closest = _simulate(
            track_policy, "MotionLab/Track-v0", seconds, cfg.seed, reference=lifted, body=body, reference_state_init=False
        )
    with stages("ideal (ideal policy)"):
        closest_metrics = gait_metrics(closest)
        choice = choose_ideal(user_speed, closest_metrics["duty_factor"]["value"], (cfg.ckpt_ideal, ideal_policy), walk)
        ideal = _simulate(choice.policy, choice.policy.env_id, seconds, cfg.seed, body=body, target_speed=choice.target_speed)
    with stages("gait metrics"):
        ideal_metrics = gait_metrics(ideal)
    with stages("render and encode"):
        compose_video(
            out,
            closest,
            ideal,
            original=original,
            original_fps=ref2d.fps,
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
            "user_speed_mps": user_speed,
            "ideal_gait": choice.gait,
            "ideal_gait_note": choice.note,
            "ideal_target_speed_mps": choice.target_speed,
            "ideal_speed_range_mps": list(choice.speed_range),
            "lift": {k: v for k, v in lift_report.to_dict().items() if k != "frame_errors_px"},
            "keypoints": ref2d.source.get("summary", {}),
            "closest": _run_summary(closest),
            "ideal": _run_summary(ideal),
            "checkpoints": {"track": str(cfg.ckpt_track), "ideal": str(choice.checkpoint)},
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


@dataclass(frozen=True)
class IdealChoice:
    """Which Ideal policy runs for the user (``gait``: walk or run), at what speed, and why (``note``)."""

    policy: Any
    checkpoint: Path
    gait: str
    target_speed: float
    speed_range: tuple[float, float]
    note: str


def choose_ideal(
    user_speed: float, duty_factor: float | None, run: tuple[Path, Any], walk: tuple[Path, Any] | None
) -> IdealChoice:
    """The Ideal for the user: the walk policy when the user walks (no flight phase: duty factor above
    0.5, or, where the Closest run gives none, a speed below :data:`WALK_BELOW_MPS`) and one is
    installed, else the running policy; the user's speed is clipped into the chosen policy's speeds.
    ``run`` and ``walk`` are (checkpoint path, loaded policy)."""
    walking = duty_factor > 0.5 if duty_factor is not None else user_speed < WALK_BELOW_MPS
    (checkpoint, policy), gait = (walk, "walk") if walking and walk is not None else (run, "run")
    speed_range = _trained_speed_range(policy)
    target = float(np.clip(user_speed, *speed_range))
    note = f"the user {'walks' if walking else 'runs'} at {user_speed:.2f} m/s; the Ideal {gait}s at {target:.2f} m/s"
    if walking and walk is None:
        note += " (no Ideal walk policy is installed, so the Ideal runs)"
    elif target != user_speed:
        note += f" (its policy was trained for {speed_range[0]:g}-{speed_range[1]:g} m/s)"
    return IdealChoice(policy, checkpoint, gait, target, speed_range, note)


# env settings a policy was trained with that change what its actions mean
_ACTION_SETTINGS = ("action_scale", "clock_scale", "residual_force", "residual_force_scale")


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
