"""The Closest run with and without MPC refinement, on lifted references with mocap ground truth.

Usage::

    python benchmarks/bench_refine.py                         # policy alone vs --refine fast, 10 s each
    python benchmarks/bench_refine.py --presets off,fast,best --seconds 5

Each reference is mocap projected to 2D through a known camera (side-on, or 45 deg towards the front,
following the runner), with 3 px Gaussian noise on the keypoints, then lifted by the project's own lift
(as ``bench_lift.py`` does; the world landmarks are kept exact). The shipped tracking policy then runs
``Track-v0`` on the lifted reference for ``--seconds`` (restarting after each fall, as the main job
does), alone and refined by :mod:`motionlab.inference.refine`. Per run:

* restarts per 10 s of video;
* MPJPE of the simulated body against the mocap (12 body landmarks, hip midpoints aligned; mm) and
  against the lifted reference it tracks;
* mean residual root force (% body weight);
* wall and CPU seconds per second of video, with the load average (the machine is shared: CPU time is
  what the planning costs an idle machine; wall time depends on everyone else).

References (``--cases``, default the CMU ones): CMU motion capture from ``shared/data/mocap/cmu`` (a
run, a jog and a walk, each through a side and a 45 deg camera; read by :mod:`motionlab.cmu`, looped at
its steadiest stride) -- held out, since the shipped tracker trained on the DeepMimic run clip only --
and that run clip itself time-scaled (not held out; slowed to jogging speed it is a slowed run, not a
jog). Prints a table and writes ``benchmarks/results/refine.json`` atomically.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from machine import machine

import motionlab  # noqa: F401  (registers the envs)
from motionlab.assets import CHECKPOINT_DIR, RUN_CLIP
from motionlab.body import BodyParams
from motionlab.camera import Camera
from motionlab.humanoid import build_model
from motionlab.inference.refine import RefineSettings, one_torch_thread, run_refined, settings_for
from motionlab.inference.rollout import Rollout, run_policy
from motionlab.io_utils import write_json
from motionlab.lift import joint_position_errors, lift_reference
from motionlab.mocap import mocap_reference
from motionlab.motion import resample_qpos
from motionlab.policy_io import load_policy
from motionlab.reference import Reference

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "refine.json"
CMU_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap" / "cmu"
NOISE_PX = 3.0
HELD_OUT = "held out: the shipped tracker trained on the DeepMimic run clip only"
# name -> (mocap file, speed scale, camera azimuth towards the front in degrees, note)
CASES = {
    "CMU 09_11 run, side": (CMU_DIR / "09" / "09_11.amc", 1.0, 0.0, HELD_OUT),
    "CMU 09_11 run, 45 deg": (CMU_DIR / "09" / "09_11.amc", 1.0, 45.0, HELD_OUT),
    "CMU 16_36 jog, side": (CMU_DIR / "16" / "16_36.amc", 1.0, 0.0, HELD_OUT),
    "CMU 16_36 jog, 45 deg": (CMU_DIR / "16" / "16_36.amc", 1.0, 45.0, HELD_OUT),
    "CMU 07_01 walk, side": (CMU_DIR / "07" / "07_01.amc", 1.0, 0.0, HELD_OUT),
    "CMU 07_01 walk, 45 deg": (CMU_DIR / "07" / "07_01.amc", 1.0, 45.0, HELD_OUT),
    # more held-out clips: a second check of a setting chosen on the six above (other subjects 35, 39)
    "CMU 16_55 run, side": (CMU_DIR / "16" / "16_55.amc", 1.0, 0.0, HELD_OUT),
    "CMU 16_55 run, 45 deg": (CMU_DIR / "16" / "16_55.amc", 1.0, 45.0, HELD_OUT),
    "CMU 35_17 jog, side": (CMU_DIR / "35" / "35_17.amc", 1.0, 0.0, HELD_OUT),
    "CMU 35_17 jog, 45 deg": (CMU_DIR / "35" / "35_17.amc", 1.0, 45.0, HELD_OUT),
    "CMU 39_13 walk, side": (CMU_DIR / "39" / "39_13.amc", 1.0, 0.0, HELD_OUT),
    "CMU 39_13 walk, 45 deg": (CMU_DIR / "39" / "39_13.amc", 1.0, 45.0, HELD_OUT),
    "clip run 1.5x (faster), 45 deg": (RUN_CLIP, 1.5, 45.0, "the tracker's training clip, time-scaled: not held out"),
    "clip run 0.6x (jog speed), side": (RUN_CLIP, 0.6, 0.0, "the training clip slowed: a slowed run, not a jog"),
}


def _noisy_lift(truth: Reference, body: BodyParams, rng: np.random.Generator) -> tuple[Reference, float]:
    """``truth``'s keypoints with 3 px noise, lifted onto ``body``; and the lift's MPJPE vs the mocap (mm)."""
    size = np.asarray(truth.image_size, dtype=np.float32)
    noisy = truth.keypoints2d.copy()
    noisy[..., :2] += rng.normal(0.0, NOISE_PX, noisy[..., :2].shape) / size
    lifted, _ = lift_reference(dataclasses.replace(truth, keypoints2d=noisy, qpos=None, body=None), body=body)
    mpjpe, _ = joint_position_errors(build_model(body), truth.qpos, lifted.qpos)
    return lifted, round(float(mpjpe.mean()) * 1000, 1)


def mocap_truth(file: Path, scale: float, azimuth: float, body: BodyParams, seconds: float) -> Reference:
    """``seconds`` (and a cycle more) of the mocap clip looped at its steadiest stride, on ``body``, with
    its 2D keypoints through a camera following the runner at ``azimuth`` deg towards the front."""
    camera = Camera.side_on(azimuth_deg=azimuth)
    period = mocap_reference(file, body, cycles=1, speed_scale=scale, camera=camera).source["stride_period_s"]
    cycles = int(np.ceil(seconds / period)) + 1
    return mocap_reference(file, body, cycles=cycles, speed_scale=scale, camera=camera)


def _measure(run: Rollout, truth: Reference, body: BodyParams, wall_s: float, cpu_s: float) -> dict[str, Any]:
    video_s = run.duration + run.dt
    truth_qpos = resample_qpos(truth.qpos, truth.fps, np.clip(run.times, 0.0, truth.duration))
    mpjpe_mocap, _ = joint_position_errors(build_model(body), truth_qpos, run.qpos)
    return {
        "video_s": round(video_s, 2),
        "restarts": len(run.restart_times),
        "restarts_per_10s": round(10.0 * len(run.restart_times) / video_s, 2),
        "mpjpe_mocap_mm": round(float(mpjpe_mocap.mean()) * 1000, 1),
        "mpjpe_reference_mm": round(float(run.mpjpe.mean()) * 1000, 1),
        "residual_force_pct_bw": round(float(run.residual_force_bw.mean()) * 100, 1),
        "wall_s_per_video_s": round(wall_s / video_s, 3),
        "cpu_s_per_video_s": round(cpu_s / video_s, 3),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }


def _with(settings: RefineSettings | None, overrides: dict[str, str]) -> RefineSettings | None:
    """``settings`` with ``--set`` overrides (each converted to the field's type)."""
    if settings is None or not overrides:
        return settings
    return dataclasses.replace(settings, **{k: type(getattr(settings, k))(v) for k, v in overrides.items()})


def _run(
    policy: Any, lifted: Reference, body: BodyParams, seconds: float, settings: RefineSettings | None, seed: int
) -> tuple[Rollout, float, float]:
    kw = {
        k: policy.env_kwargs[k]
        for k in ("action_scale", "residual_force", "residual_force_scale")
        if k in policy.env_kwargs
    }
    env = gym.make(
        "MotionLab/Track-v0", reference=lifted, body=body, reference_state_init=False, max_episode_seconds=seconds, **kw
    )
    wall, cpu = time.perf_counter(), time.process_time()
    if settings is None:
        with one_torch_thread():
            run = run_policy(env, policy, seconds, seed=seed, restart_on_fall=True)
    else:
        run, _ = run_refined(env, policy, seconds, settings, seed=seed)
    return run, time.perf_counter() - wall, time.process_time() - cpu


def _summary(rows: dict[str, dict[str, Any]], presets: list[str]) -> dict[str, Any]:
    """Per preset: restarts per 10 s over all references, mean residual force and MPJPE, time."""
    out = {}
    for p in presets:
        runs = [r["runs"][p] for r in rows.values()]
        video = sum(r["video_s"] for r in runs)
        out[p] = {
            "restarts": sum(r["restarts"] for r in runs),
            "restarts_per_10s": round(10.0 * sum(r["restarts"] for r in runs) / video, 2),
            "residual_force_pct_bw": round(float(np.mean([r["residual_force_pct_bw"] for r in runs])), 1),
            "mpjpe_mocap_mm": round(float(np.mean([r["mpjpe_mocap_mm"] for r in runs])), 1),
            "wall_s_per_video_s": round(float(np.mean([r["wall_s_per_video_s"] for r in runs])), 2),
            "cpu_s_per_video_s": round(float(np.mean([r["cpu_s_per_video_s"] for r in runs])), 2),
            "load_avg_1min": round(float(np.mean([r["load_avg_1min"] for r in runs])), 1),
        }
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="off,fast", help="comma-separated --refine presets; off = policy alone")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--height", type=float, default=1.68)
    parser.add_argument("--mass", type=float, default=61.0)
    parser.add_argument("--ckpt", type=Path, default=CHECKPOINT_DIR / "track")
    parser.add_argument("--cases", default="CMU", help="semicolon-separated substrings of the reference names to run")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override refinement settings")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    presets = args.presets.split(",")
    overrides = dict(kv.split("=", 1) for kv in args.set)
    settings = {p: _with(settings_for(p), overrides) for p in presets}
    body = BodyParams(height=args.height, mass=args.mass).resolved()
    policy = load_policy(args.ckpt)
    wanted = [c for c in args.cases.split(";") if c]
    cases = {k: v for k, v in CASES.items() if any(w in k for w in wanted)}
    if not cases:
        parser.error(f"--cases {args.cases!r} matches none of: {', '.join(CASES)}")

    rows: dict[str, dict[str, Any]] = {}
    for name, (file, scale, azimuth, note) in cases.items():
        truth = mocap_truth(file, scale, azimuth, body, args.seconds)
        rng = np.random.default_rng([args.seed, list(CASES).index(name)])  # the same noise in any subset of cases
        lifted, lift_mm = _noisy_lift(truth, body, rng)
        seconds = min(args.seconds, lifted.duration - 0.2)
        row = {
            "note": note,
            "lift_mpjpe_mocap_mm": lift_mm,
            "speed_mps": round(truth.source["speed_mps"], 2),
            "runs": {},
        }
        for preset in presets:
            run, wall, cpu = _run(policy, lifted, body, seconds, settings[preset], args.seed)
            row["runs"][preset] = _measure(run, truth, body, wall, cpu)
            r = row["runs"][preset]
            print(
                f"{name:<30}{preset:>6}  restarts {r['restarts']:>2}  MPJPE mocap {r['mpjpe_mocap_mm']:6.1f} mm  "
                f"RF {r['residual_force_pct_bw']:5.1f} % BW  {r['wall_s_per_video_s']:5.2f} s/s wall  "
                f"{r['cpu_s_per_video_s']:5.2f} s/s CPU  load {r['load_avg_1min']}",
                flush=True,
            )
        rows[name] = row
    summary = _summary(rows, presets)
    print(f"\n{'preset':<8}{'restarts/10s':>14}{'RF % BW':>9}{'MPJPE mm':>10}{'wall s/s':>10}{'CPU s/s':>9}{'load':>6}")
    for p, s in summary.items():
        print(
            f"{p:<8}{s['restarts_per_10s']:>14.2f}{s['residual_force_pct_bw']:>9.1f}{s['mpjpe_mocap_mm']:>10.1f}"
            f"{s['wall_s_per_video_s']:>10.2f}{s['cpu_s_per_video_s']:>9.2f}{s['load_avg_1min']:>6.1f}"
        )
    record = {
        "config": {
            "checkpoint": str(args.ckpt), "seconds": args.seconds, "body": body.to_dict(), "noise_px": NOISE_PX,
            "presets": {p: None if s is None else dataclasses.asdict(s) for p, s in settings.items()},
            "seed": args.seed,
        },
        "references": rows,
        "summary": summary,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
    }  # fmt: skip
    write_json(args.out, record)
    print(f"saved -> {args.out}")
    return record


if __name__ == "__main__":
    main()
