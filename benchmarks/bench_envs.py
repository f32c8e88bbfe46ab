"""Env stepping speed: Track-v0 and Ideal-v0 (with and without ``record_physics``) vs raw ``mj_step``
(same model, same control rate) and Gymnasium's Humanoid-v5, measured in one run as CPU time (steps per
CPU second: robust to other processes sharing the machine; the load is saved). Prints a table and writes
``benchmarks/results/envs.json``.

    python benchmarks/bench_envs.py [--steps 3000]

Targets (issue #2): each env >= 1.0x Humanoid-v5 steps/s and within 1.5x of raw physics. Also times a
reset with a new random body (model rebuilt, reference retargeted), which short early-training episodes
pay often.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np

import motionlab  # noqa: F401  (registers the envs)
from motionlab.humanoid import build_model, standing_qpos
from motionlab.io_utils import write_json

RESULTS = Path(__file__).parent / "results" / "envs.json"


def time_env(env_id: str, steps: int, **kwargs) -> float:
    env = gym.make(env_id, **kwargs)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-0.1, 0.1, size=(steps, *env.action_space.shape)).astype(np.float32)
    env.reset(seed=0)
    for a in actions[:200]:  # warm up
        if any(env.step(a)[2:4]):
            env.reset()
    start = time.process_time()
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    elapsed = time.process_time() - start
    env.close()
    return steps / elapsed


def time_reset(env_id: str, resets: int, **kwargs) -> float:
    """Milliseconds per reset."""
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    start = time.process_time()
    for _ in range(resets):
        env.reset()
    return (time.process_time() - start) / resets * 1000


def time_raw(steps: int, frame_skip: int) -> float:
    hm = build_model()
    m, d = hm.model, mujoco.MjData(hm.model)
    rng = np.random.default_rng(0)
    ctrl = rng.uniform(-0.1, 0.1, size=(steps, m.nu))
    qpos0 = standing_qpos(hm)
    d.qpos[:] = qpos0
    start = time.process_time()
    for i in range(steps):
        d.ctrl[:] = ctrl[i]
        mujoco.mj_step(m, d, nstep=frame_skip)
        if d.qpos[2] < 0.4:
            mujoco.mj_resetData(m, d)
            d.qpos[:] = qpos0
    return steps / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    track = gym.make("MotionLab/Track-v0").unwrapped
    frame_skip = track.frame_skip
    rates = {
        "Humanoid-v5": time_env("Humanoid-v5", args.steps),
        "raw mj_step": time_raw(args.steps, frame_skip),
        "MotionLab/Track-v0": time_env("MotionLab/Track-v0", args.steps),
        "MotionLab/Ideal-v0": time_env("MotionLab/Ideal-v0", args.steps),
        "Track-v0, record_physics off": time_env("MotionLab/Track-v0", args.steps, record_physics=False),
        "Ideal-v0, record_physics off": time_env("MotionLab/Ideal-v0", args.steps, record_physics=False),
    }
    resets_ms = {
        f"{env_id} reset, new random body": time_reset(env_id, 30, randomize_body=True)
        for env_id in ("MotionLab/Track-v0", "MotionLab/Ideal-v0")
    }
    base, raw = rates["Humanoid-v5"], rates["raw mj_step"]
    print(f"control rate {1 / track.dt:.1f} Hz ({frame_skip} x {track.model.opt.timestep * 1000:.1f} ms physics steps)")
    print(f"{'env':<30}{'steps/CPU s':>12}{'vs Humanoid-v5':>16}{'raw / env':>11}")
    for name, rate in rates.items():
        print(f"{name:<30}{rate:>12.0f}{rate / base:>15.2f}x{raw / rate:>10.2f}x")
    for name, ms in resets_ms.items():
        print(f"{name}: {ms:.1f} ms")
    write_json(
        RESULTS,
        {
            "steps": args.steps,
            "clock": "CPU time (time.process_time)",
            "load_average": os.getloadavg(),
            "machine": platform.processor() or platform.machine(),
            "control_hz": 1 / track.dt,
            "frame_skip": frame_skip,
            "steps_per_s": rates,
            "vs_humanoid_v5": {k: v / base for k, v in rates.items()},
            "raw_over_env": {k: raw / v for k, v in rates.items()},
            "reset_ms": resets_ms,
        },
    )
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
