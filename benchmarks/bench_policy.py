"""PPO training throughput: MoG policy vs SB3 ``MlpPolicy`` (same hidden sizes, same vec env, one run).

Usage::

    python benchmarks/bench_policy.py                                   # Humanoid-v5, 64x64, 2 envs, 8192 steps
    python benchmarks/bench_policy.py --hidden 1024,1024,512 --steps 4096
    python benchmarks/bench_policy.py --env-id MotionLab/Track-v0

Measures ``PPO.learn(steps)`` wall time (rollout collection + gradient updates, PPO defaults:
``n_steps=2048`` per env, ``batch_size=64``, ``n_epochs=10``) and reports samples/s, also split
into rollout and update time. Prints a table and the MoG / MlpPolicy ratio (target >= 0.8x)
and merges the record into ``benchmarks/results/policy_throughput.json`` (atomic write),
keyed by configuration so runs with different settings are kept side by side.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv

from motionlab.io_utils import record_json_run
from motionlab.policies import make_policy_kwargs

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "policy_throughput.json"
TARGET_RATIO = 0.8


def _parse_hidden(text: str) -> list[int]:
    return [int(x) for x in text.replace(" ", "").split(",") if x]


def _policy_for(arch: str, hidden: list[int], components: int) -> tuple[Any, dict[str, Any]]:
    """``mlp`` = SB3 MlpPolicy with net_arch pi=vf=hidden; ``mog`` / ``gaussian`` = motionlab policies."""
    if arch == "mlp":
        return "MlpPolicy", dict(net_arch=dict(pi=list(hidden), vf=list(hidden)))
    return make_policy_kwargs(arch, hidden, components, layernorm=False, residual_blocks=0)


def _time_one(arch: str, venv: VecEnv, args: argparse.Namespace, hidden: list[int]) -> dict[str, Any]:
    policy, policy_kwargs = _policy_for(arch, hidden, args.components)
    model = PPO(
        policy,
        venv,
        policy_kwargs=policy_kwargs,
        n_steps=args.n_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        seed=args.seed,
        device="cpu",
        verbose=0,
    )
    train_time = [0.0]
    original_train = model.train

    def timed_train() -> None:
        t0 = time.perf_counter()
        original_train()
        train_time[0] += time.perf_counter() - t0

    model.train = timed_train  # type: ignore[method-assign]
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.steps)
    wall = time.perf_counter() - t0
    samples = int(model.num_timesteps)
    n_params = sum(p.numel() for p in model.policy.parameters())
    return dict(
        arch=arch,
        policy=policy if isinstance(policy, str) else policy.__name__,
        samples=samples,
        wall_s=round(wall, 3),
        samples_per_s=round(samples / wall, 1),
        rollout_s=round(wall - train_time[0], 3),
        update_s=round(train_time[0], 3),
        n_params=n_params,
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-id", default="Humanoid-v5", help="gymnasium id (e.g. MotionLab/Track-v0)")
    parser.add_argument("--hidden", default="64,64", help="comma-separated hidden sizes for pi and vf")
    parser.add_argument("--n-envs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8192, help="total env steps per policy")
    parser.add_argument("--components", type=int, default=4, help="MoG mixture components")
    parser.add_argument("--archs", default="mlp,mog,gaussian", help="subset of mlp,mog,gaussian (mlp and mog needed for the ratio)")
    parser.add_argument("--repeats", type=int, default=1, help="repeat each arch (interleaved) and keep the best")
    parser.add_argument("--n-steps", type=int, default=2048, help="PPO n_steps per env")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--out", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)

    th.set_num_threads(args.threads)
    hidden = _parse_hidden(args.hidden)
    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    venv = make_vec_env(args.env_id, n_envs=args.n_envs, seed=args.seed)

    # Warm-up (lazy imports, allocator, MuJoCo caches) so the first timed arch is not penalised.
    PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1, device="cpu", seed=args.seed).learn(64 * args.n_envs)

    best: dict[str, dict[str, Any]] = {}
    for _ in range(max(1, args.repeats)):
        for arch in archs:
            rec = _time_one(arch, venv, args, hidden)
            if arch not in best or rec["samples_per_s"] > best[arch]["samples_per_s"]:
                best[arch] = rec
    venv.close()

    ratio = None
    if "mlp" in best and "mog" in best:
        ratio = round(best["mog"]["samples_per_s"] / best["mlp"]["samples_per_s"], 3)

    print(
        f"\nPPO throughput  env={args.env_id}  hidden={hidden}  n_envs={args.n_envs}  steps={args.steps}"
        f"  K={args.components}  threads={args.threads}"
    )
    header = f"{'arch':<10}{'policy':<28}{'params':>10}{'samples/s':>12}{'wall s':>9}{'rollout s':>11}{'update s':>10}"
    print(header)
    print("-" * len(header))
    for arch in archs:
        r = best[arch]
        print(
            f"{arch:<10}{r['policy']:<28}{r['n_params']:>10}{r['samples_per_s']:>12.1f}"
            f"{r['wall_s']:>9.2f}{r['rollout_s']:>11.2f}{r['update_s']:>10.2f}"
        )
    if ratio is not None:
        verdict = "OK" if ratio >= TARGET_RATIO else "BELOW TARGET"
        print(f"\nMoG / MlpPolicy throughput ratio: {ratio:.3f}x  (target >= {TARGET_RATIO}x: {verdict})")

    key = f"{args.env_id}|hidden={','.join(map(str, hidden))}|n_envs={args.n_envs}|steps={args.steps}|K={args.components}"
    record = dict(
        config=dict(
            env_id=args.env_id,
            hidden=hidden,
            n_envs=args.n_envs,
            steps=args.steps,
            components=args.components,
            n_steps=args.n_steps,
            batch_size=args.batch_size,
            n_epochs=args.n_epochs,
            repeats=args.repeats,
            threads=args.threads,
        ),
        results=best,
        ratio_mog_vs_mlp=ratio,
        target_ratio=TARGET_RATIO,
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        machine=dict(
            python=sys.version.split()[0],
            torch=th.__version__,
            platform=platform.platform(),
            cpu_count=os.cpu_count(),
            device="cpu",
        ),
    )
    record_json_run(args.out, key, record)
    print(f"saved -> {args.out}")
    return record


if __name__ == "__main__":
    main()
