"""The main job: a video of a person running -> "Closest vs Ideal" MP4, JSON report and PNG summary.

Stages: keypoints (MediaPipe at up to ``pose_fps``, 60 by default, on frames at most 1080 px on their
short side; the frames for the result video are kept from this pass) -> lift (IK onto the user's body) -> optional body
search -> Closest (tracking policy in ``Track-v0``) -> Ideal (the ideal policy's env, same body, the
user's speed; the walk policy when the user walks and one is installed) -> gait metrics -> render and
encode -> report. Each stage's wall time and CPU time go into the report.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
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
from motionlab.footage import FootageOptions, lift_footage
from motionlab.footage import messages as footage_messages
from motionlab.inference.analysis import speed_over_ground_trusted
from motionlab.inference.refine import one_torch_thread, refinement_summary, run_refined, settings_for, video_note
from motionlab.inference.reliability import Finding
from motionlab.io_utils import check_outputs, output_set
from motionlab.lift import LiftError, LiftReport, lift_reference
from motionlab.reference import Reference, load_reference

MIN_INPUT_SECONDS = 1.0
# MediaPipe runs on every k-th frame of a faster video (see frame_step): 60 fps keeps contact and flight times
# to 17 ms steps (runners film at 60-240 fps for them); 30 halves the keypoint stage at 33 ms steps.
POSE_MAX_FPS = 60.0
POSE_MAX_SHORT_SIDE = 1080  # and on frames shrunk to at most 1080 px on their short side (4K -> 1080p)
DEFAULT_TRACK_CKPT = CHECKPOINT_DIR / "track"
DEFAULT_IDEAL_CKPT = CHECKPOINT_DIR / "ideal"
DEFAULT_IDEAL_WALK_CKPT = CHECKPOINT_DIR / "ideal_walk"  # used when present
# Adults switch from walking to running near 2 m/s (preferred transition speed ~2.0 m/s, e.g.
# Hreljac 1993, Med Sci Sports Exerc 25:1158); walking has no flight phase (duty factor above 0.5).
WALK_BELOW_MPS = 2.0
SPEED_MATCH_MPS = 0.1  # an Ideal asked for a speed further than this from the user's is pointed out


@dataclass
class InferenceConfig:
    """What to run on. ``video=None`` uses the embedded sample (real mocap projected to 2D)."""

    out: Path
    video: Path | None = None
    ref: Path | None = None  # a keypoint reference (the project's .npz schema) instead of a video
    ckpt_track: Path = DEFAULT_TRACK_CKPT
    ckpt_ideal: Path = DEFAULT_IDEAL_CKPT
    ckpt_ideal_walk: Path | None = DEFAULT_IDEAL_WALK_CKPT  # the Ideal for a user who walks (skipped if absent)
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
    refine: str = "balanced"  # MPC refinement of the Closest run: off, fast, balanced, best (inference.refine)
    residual_force: bool = True  # False: the Closest run gets no residual root force (fully physical)
    pose_fps: float = POSE_MAX_FPS  # highest rate MediaPipe runs at; a faster video is read every k-th frame


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (render workers, ffmpeg), user + system."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class StageTimer:
    """Prints progress per stage and keeps each stage's wall time (``times``) and CPU time (``cpu``: all
    threads, and child processes that ended within the stage)."""

    def __init__(self, total: int, console: Console):
        self.total, self.console, self.times, self.cpu, self._n = total, console, {}, {}, 0

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self._n += 1
        start, cpu = time.perf_counter(), _cpu_seconds()
        with self.console.status(f"[{self._n}/{self.total}] {name} ..."):
            yield
        self.times[name] = time.perf_counter() - start
        self.cpu[name] = _cpu_seconds() - cpu
        self.console.print(f"[{self._n}/{self.total}] {name}: {self.times[name]:.2f} s")


def run_inference(cfg: InferenceConfig, console: Console | None = None) -> dict[str, Any]:
    """Run the whole job; returns the report dict. The video, its JSON report and PNG summary (same
    name as ``cfg.out``) are checked before the work starts and appear together at the end."""
    console = console or Console(stderr=True)
    out = Path(cfg.out)
    if out.suffix.lower() != ".mp4":
        raise InferenceError(f"--out must be an .mp4 path, got {out}")
    if cfg.video is not None and cfg.ref is not None:
        raise InferenceError("give either --video or --ref, not both")
    outputs = [out, out.with_suffix(".json"), out.with_suffix(".png")]
    ckpt_files = [f for d in (cfg.ckpt_track, cfg.ckpt_ideal) if Path(d).is_dir() for f in Path(d).iterdir()]
    check_outputs(outputs, [cfg.video, cfg.ref, *ckpt_files])  # before any work: a directory, an input, read-only
    from motionlab.inference.report import COLUMNS

    with output_set(outputs) as (tmp_mp4, tmp_json, tmp_png):
        result = _run(cfg, console, tmp_mp4, tmp_json, tmp_png)
    print_summary(console, {c: result[c] for c in COLUMNS if c in result}, result["verdict"], result["cues"])
    console.print(f"wrote {', '.join(map(str, outputs))} in {sum(result['extra']['stage_seconds'].values()):.1f} s")
    return result


def _run(cfg: InferenceConfig, console: Console, out: Path, json_path: Path, png_path: Path) -> dict[str, Any]:
    """The stages of :func:`run_inference`, writing the video, report and summary to the given paths."""
    from motionlab.inference.analysis import analyse
    from motionlab.inference.compose import compose_video
    from motionlab.inference.metrics import gait_metrics
    from motionlab.inference.report import write_report
    from motionlab.policy_io import load_policy

    refine_settings = settings_for(cfg.refine)
    stages = StageTimer(8 + (refine_settings is not None), console)

    with stages("load policies"):
        track_policy, ideal_policy = load_policy(cfg.ckpt_track), load_policy(cfg.ckpt_ideal)
        walk_path = cfg.ckpt_ideal_walk
        use_walk = walk_path is not None and (walk_path != DEFAULT_IDEAL_WALK_CKPT or walk_path.is_dir())
        walk = (walk_path, load_policy(walk_path)) if use_walk else None
    with stages("keypoints"):
        ref2d, original, video_seconds = _keypoints(cfg)
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
    closest_env = dict(reference=lifted, body=body, reference_state_init=False)
    residual = _residual_force_setting(track_policy, cfg.residual_force)
    if not cfg.residual_force:
        closest_env["residual_force_scale"] = 0.0
    with stages("closest (tracking policy)"):
        closest = _simulate(track_policy, "MotionLab/Track-v0", seconds, cfg.seed, **closest_env)
    refinement: dict[str, Any] = {"used": False, "preset": "off"}
    if refine_settings is not None:
        with stages(f"closest, refined ({cfg.refine})"):
            env = _make_env(track_policy, "MotionLab/Track-v0", seconds, **closest_env)
            refined, refine_stats = run_refined(env, track_policy, seconds, refine_settings, seed=cfg.seed)
        refinement = refinement_summary(cfg.refine, closest, refined, refine_stats)
        closest = refined
    with stages("ideal (ideal policy)"):
        closest_metrics = gait_metrics(closest)
        choice = choose_ideal(user_speed, closest_metrics["duty_factor"]["value"], (cfg.ckpt_ideal, ideal_policy), walk)
        ideal = _simulate(choice.policy, choice.policy.env_id, seconds, cfg.seed, body=body, target_speed=choice.target_speed)
    speed_known = speed_over_ground_trusted(lifted, lift_report, cfg.camera_speed)
    choice_finding = choice.finding(speed_known)
    with stages("gait metrics"):
        result = analyse(
            ref2d, lifted, lift_report, closest, ideal, seconds, cfg.camera_speed, video_seconds,
            extra_findings=[choice_finding] if choice_finding else [],
        )  # fmt: skip
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
            closest_notes=[*([video_note(refinement)] if refinement["used"] else ()), *residual["video_notes"]],
            ideal_notes=[note] if (note := choice.panel_note(speed_known)) else (),
            verdict=(result.verdict["level"], result.verdict["headline"]),
            detected=result.detected,
            input_camera=lift_report.camera,
            you_qpos=lifted.qpos,
            cut_note=f"first {seconds:.1f} s of {video_seconds:.1f} s" if video_seconds and video_seconds > seconds + 0.05 else None,
            progress=True,
        )
    with stages("report"):
        extra = {
            "input": str(cfg.video or cfg.ref or "embedded sample (real running mocap projected to 2D)"),
            "seconds": seconds,
            "video_seconds": video_seconds,
            "camera_motion_known": result.camera_motion_known,
            "body": body.to_dict(),
            "body_search": {"candidates": cfg.body_search, "seconds": cfg.body_search_seconds} if cfg.body_search else None,
            "user_speed_mps": user_speed if speed_known else None,
            "user_speed_confidence": _speed_confidence_summary(lift_report),
            "ideal_gait": choice.gait,
            "ideal_gait_note": choice.note,
            "ideal_target_speed_mps": choice.target_speed,
            "ideal_speed_range_mps": list(choice.speed_range),
            "lift": {
                k: v
                for k, v in lift_report.to_dict().items()
                if k not in ("frame_errors_px", "camera_track", "camera_yaw_deg")
            },
            "keypoints": ref2d.source.get("summary", {}),
            "closest": _run_summary(closest),
            "refinement": refinement,
            "closest_residual_force": {k: v for k, v in residual.items() if k != "video_notes"},
            "ideal": _run_summary(ideal),
            "checkpoints": {"track": str(cfg.ckpt_track), "ideal": str(choice.checkpoint)},
            "stage_seconds": dict(stages.times),
            "stage_cpu_seconds": {k: round(v, 3) for k, v in stages.cpu.items()},
        }
        tracking = (closest.times, closest.mpjpe) if closest.mpjpe is not None else None
        write_report(json_path, png_path, result.columns, result.verdict, result.cues, result.events, extra, tracking)
    return {**result.columns, "verdict": result.verdict, "cues": result.cues, "events": result.events, "extra": extra}


def _residual_force_setting(policy: Any, allowed: bool) -> dict[str, Any]:
    """What the report and video say about the Closest run's non-physical residual root force: ``mode``
    (``on``: up to the limit the policy was trained with, ``off``: switched off by the user, ``none``:
    the policy has none), ``limit_bw`` (the force per unit action, x body weight) and the video's note."""
    trained = policy.env_kwargs or {}
    if not trained.get("residual_force", False):
        return {"mode": "none", "limit_bw": 0.0, "video_notes": []}
    if not allowed:
        return {"mode": "off", "limit_bw": 0.0, "video_notes": ["fully physical: residual force off"]}
    return {"mode": "on", "limit_bw": float(trained.get("residual_force_scale", 0.3)), "video_notes": []}


def _run_summary(run: Any) -> dict[str, Any]:
    """Falls and restarts (each with its kind) of a rollout, for the report."""
    from motionlab.inference.rollout import FALL

    falls = [t for t, k in zip(run.restart_times, run.restart_kinds) if k == FALL]
    return {
        "fell": run.fell,
        "first_fall_s": falls[0] if falls else (run.fall_time if not run.restart_times else None),
        "restarts": len(run.restart_times),
        "restart_times_s": [round(t, 3) for t in run.restart_times],
        "restart_kinds": list(run.restart_kinds),
        "end": run.end_reason,
    }


def ideal_speed_range(policy: Any) -> tuple[float, float]:
    """The target speeds of the ideal policy, which the user's speed is clipped into: those it was measured
    to run without a fall (``held_speed_range_mps`` in its meta.json, written by ``benchmarks/eval_ideal.py
    --record-range``) when known, else those it was trained for."""
    held = _held_speed_range(policy)
    if held:
        return float(held[0]), float(held[1])
    kw = policy.env_kwargs or {}
    if kw.get("target_speed_range"):
        lo, hi = kw["target_speed_range"]
        return float(lo), float(hi)
    speed = float(kw.get("target_speed", 3.5))
    return speed, speed


def _held_speed_range(policy: Any) -> list[float] | None:
    """The speeds the policy was measured to run without a fall (its meta.json), if recorded."""
    return (getattr(policy, "meta", None) or {}).get("held_speed_range_mps")


def _range_words(policy: Any) -> str:
    """How the policy's speed range is known, for the report."""
    return "was measured to run without a fall at" if _held_speed_range(policy) else "was trained for"


@dataclass(frozen=True)
class IdealChoice:
    """Which Ideal policy runs for the user (``gait``: walk or run), at what speed, and why (``note``)."""

    policy: Any
    checkpoint: Path
    gait: str
    target_speed: float
    speed_range: tuple[float, float]
    note: str
    user_speed: float
    walking: bool

    def panel_note(self, speed_known: bool) -> str | None:
        """A short line for the Ideal's video panel when :meth:`finding` has a warning, else None."""
        if self.finding(speed_known) is None:
            return None
        if self.walking and self.gait == "run":
            return "runs: no walk policy installed"
        return f"asked {self.target_speed:.1f} m/s, not your {self.user_speed:.1f}"

    def finding(self, speed_known: bool) -> Finding | None:
        """A warning for the verdict when the Ideal is not the user's gait or speed (so its figures compare
        with another gait or speed); None when it is. ``speed_known``: the user's speed was measured."""
        if self.walking and self.gait == "run":
            yours = f" at {self.user_speed:.1f} m/s" if speed_known else ""
            return Finding("warning", f"the Ideal runs at {self.target_speed:.1f} m/s while you walk{yours}",
                           "no Ideal walk policy is installed", "compare cadence, stride and contact with care")  # fmt: skip
        if speed_known and abs(self.target_speed - self.user_speed) > SPEED_MATCH_MPS:
            lo, hi = self.speed_range
            return Finding("warning", f"the Ideal {self.gait}s at {self.target_speed:.1f} m/s, not your {self.user_speed:.1f} m/s",
                           f"its policy {_range_words(self.policy)} {lo:g}-{hi:g} m/s only",
                           "compare speed-dependent figures (cadence, stride, contact) with care")  # fmt: skip
        return None


def choose_ideal(
    user_speed: float, duty_factor: float | None, run: tuple[Path, Any], walk: tuple[Path, Any] | None
) -> IdealChoice:
    """The Ideal for the user: the walk policy when the user walks (no flight phase: duty factor above
    0.5, or, where the Closest run gives none, a speed below :data:`WALK_BELOW_MPS`) and one is
    installed, else the running policy; the user's speed is clipped into the chosen policy's speeds.
    ``run`` and ``walk`` are (checkpoint path, loaded policy)."""
    walking = duty_factor > 0.5 if duty_factor is not None else user_speed < WALK_BELOW_MPS
    (checkpoint, policy), gait = (walk, "walk") if walking and walk is not None else (run, "run")
    speed_range = ideal_speed_range(policy)
    target = float(np.clip(user_speed, *speed_range))
    note = f"the user {'walks' if walking else 'runs'} at {user_speed:.2f} m/s; the Ideal {gait}s at {target:.2f} m/s"
    if walking and walk is None:
        note += " (no Ideal walk policy is installed, so the Ideal runs)"
    elif target != user_speed:
        note += f" (its policy {_range_words(policy)} {speed_range[0]:g}-{speed_range[1]:g} m/s)"
    return IdealChoice(policy, checkpoint, gait, target, speed_range, note, float(user_speed), walking)


# env settings a policy was trained with that change what its actions mean
_ACTION_SETTINGS = ("action_scale", "clock_scale", "gait", "residual_force", "residual_force_scale")


def _make_env(policy: Any, env_id: str, seconds: float, **env_kwargs: Any) -> gym.Env:
    """``env_id`` with the action settings ``policy`` was trained with (unless ``env_kwargs`` sets them,
    e.g. ``residual_force_scale=0`` for fully physical tracking), checked against its layout."""
    trained = (policy.env_kwargs or {}) if policy.env_id == env_id else {}  # another env's options may not exist here
    env_kwargs = {**{k: trained[k] for k in _ACTION_SETTINGS if k in trained}, **env_kwargs}
    with warnings.catch_warnings():  # the env version the checkpoint was trained on is the right one
        warnings.filterwarnings("ignore", message=".*is out of date.*", category=DeprecationWarning)
        env = gym.make(env_id, max_episode_seconds=seconds, **env_kwargs)
    policy.check_compatible(env.observation_space, env.action_space)
    return env


def _simulate(policy: Any, env_id: str, seconds: float, seed: int, **env_kwargs: Any) -> Any:
    """Run ``policy`` for ``seconds`` in ``env_id`` (restarting after falls), after checking that the
    env's observation and action layout is the one the policy was trained on."""
    from motionlab.inference.rollout import run_policy

    env = _make_env(policy, env_id, seconds, **env_kwargs)
    with one_torch_thread():
        return run_policy(env, policy, seconds, seed=seed, restart_on_fall=True)


def _keypoints(cfg: InferenceConfig) -> tuple[Reference, Iterator[np.ndarray], float | None]:
    """2D keypoints of the input, the frames of the input panel (the video with the pose drawn, or the
    keypoints drawn on a plain background) and the input's full length (s) when known."""
    from motionlab.video.overlay import draw_pose, skeleton_2d_frame

    if cfg.video is None:
        ref = load_reference(cfg.ref or SAMPLE_INPUT)
        ref = replace(ref, qpos=None, body=None)  # keypoints only: the lift makes the 3D motion
        if ref.duration < MIN_INPUT_SECONDS:
            raise InferenceError(f"{cfg.ref}: the reference is {ref.duration:.2f} s long; at least {MIN_INPUT_SECONDS:g} s is needed")
        w, h = ref.image_size
        frames = (skeleton_2d_frame(ref, t, w, h) for t in range(ref.num_frames))
        return ref, frames, ref.duration
    from motionlab.inference.compose import InputPanelFrames
    from motionlab.video.pose import extract_keypoints
    from motionlab.video.reader import VideoReader, source_frame_step

    with VideoReader(cfg.video) as video:
        info = video.info
    panel = InputPanelFrames(info.image_size, cfg.size)
    ref, _ = extract_keypoints(
        cfg.video, cfg.roi, max_seconds=cfg.seconds, max_fps=cfg.pose_fps, max_short_side=POSE_MAX_SHORT_SIDE,
        frame_sink=panel, progress=True
    )
    if ref.duration < MIN_INPUT_SECONDS:
        raise InferenceError(
            f"{cfg.video}: the video is {ref.duration:.2f} s long; at least {MIN_INPUT_SECONDS:g} s of running is needed"
        )
    px, vis = ref.keypoints_px() * panel.scale, ref.keypoints2d[..., 2]

    def frames() -> Iterator[np.ndarray]:
        """The analysed frames at the panel's size with their pose drawn (kept from the keypoint pass,
        else decoded again)."""

        def drawn(t: int, rgb: np.ndarray) -> np.ndarray:
            return draw_pose(rgb, px[t], vis[t]) if ref.keypoints2d_valid[t] else rgb

        if panel.complete:
            yield from (drawn(t, rgb) for t, rgb in enumerate(panel.frames))
            return
        with VideoReader(cfg.video, max_frames=ref.num_frames, every=source_frame_step(ref.source)) as video:
            yield from (drawn(frame.index, panel.shrink(frame.rgb)) for frame in video)

    full = info.frame_count / info.nominal_fps if info.frame_count and info.nominal_fps > 0 else None
    return ref, frames(), full


def _speed_confidence_summary(report: LiftReport) -> dict[str, Any] | None:
    """The speed over ground's own confidence for the report's top level (the full note: ``extra.lift``)."""
    note = report.notes.get("speed_confidence")
    if not note:
        return None
    return {k: note[k] for k in ("level", "speed_mps", "uncertainty_rel", "interval_mps", "reasons")}


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


def print_summary(console: Console, columns: dict[str, Any], verdict: dict[str, Any], cues: list[dict[str, Any]]) -> None:
    """The verdict first, then what each column rests on, You | Closest | Ideal per metric, the coaching cues."""
    from rich.table import Table

    from motionlab.inference.report import COLUMNS, TITLES, format_value, range_text

    colour = {"reliable": "green", "use with care": "yellow", "unreliable": "red"}.get(verdict["level"], "white")
    console.print(f"\n[bold {colour}]{verdict['headline']}[/]")
    for f in verdict["findings"]:
        console.print(f"  [{f['severity']}] {f['what']}" + (f" — {f['cause']}" if f["cause"] else "") + (f" → {f['action']}" if f["action"] else ""))
    for c in COLUMNS:
        m = columns[c]["cadence"]
        gait = f"{m['gait']}, " if m.get("gait") else ""  # walking or running, from its strides
        console.print(f"  {TITLES[c]}: {gait}confidence {m['confidence']['level']}, {m['n_strides']} strides (left and right) over {m['window']['seconds']:.1f} s")
    table = Table(show_edge=False, pad_edge=False)
    for title in ("metric", *(TITLES[c] for c in COLUMNS), "typical"):
        table.add_column(title, overflow="fold")
    style = {"typical": "green", "atypical": "yellow", "implausible": "bold red"}
    for name, first in columns["you"].items():
        cells = [f"[{style.get(columns[c][name]['status'], 'dim')}]{format_value(columns[c][name])}[/]" for c in COLUMNS]
        table.add_row(first["label"], *cells, range_text([columns[c][name] for c in COLUMNS]))
    console.print(table)
    for cue in cues:
        console.print(f"  • {cue['text']}")
