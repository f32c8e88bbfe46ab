"""Evaluate a checkpoint against the zero-action baseline on its own env (the training metrics).

    python benchmarks/eval_policy.py assets/checkpoints/track --episodes 32 [--set target_speed=3.0]
    python benchmarks/eval_policy.py assets/checkpoints/ideal --episodes 16 --set randomize_body=false --seconds 20

Episodes start as in training (Track-v0: random reference frames, random bodies when the run randomised
them; Ideal-v0: random athlete phase); ``--set key=value`` overrides an env setting (values parsed as
JSON). Prints both rows and writes ``benchmarks/results/eval_<env>.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from motionlab.io_utils import record_json_run
from motionlab.policy_io import LoadedPolicy, load_policy
from motionlab.training.evaluation import evaluate

RESULTS = Path(__file__).parent / "results"


def evaluate_against_zero_action(
    policy: LoadedPolicy, episodes: int, overrides: dict[str, Any], seed: int = 1000
) -> dict[str, dict[str, float]]:
    """The deterministic policy and the zero action on the same episodes of the policy's env."""
    env = policy.make_env(**overrides)
    zeros = np.zeros(policy.action_dim, dtype=np.float32)
    return {
        "policy": evaluate(lambda obs: policy.predict(obs, deterministic=True), env, episodes, seed),
        "zero action": evaluate(lambda obs: zeros, env, episodes, seed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--episodes", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=None, help="episode limit (default: as trained)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args()
    policy = load_policy(args.checkpoint)
    overrides = {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)}
    if args.seconds is not None:
        overrides["max_episode_seconds"] = args.seconds
    rows = evaluate_against_zero_action(policy, args.episodes, overrides, args.seed)
    print(f"{policy.env_id}, {policy.meta['num_timesteps']} samples, {args.episodes} episodes, overrides {overrides}")
    keys = list(rows["policy"])
    print(f"{'':<12}" + "".join(f"{k:>19}" for k in keys))
    for name, row in rows.items():
        print(f"{name:<12}" + "".join(f"{row[k]:>19.3f}" for k in keys))
    key = f"{args.checkpoint}|episodes={args.episodes}|{json.dumps(overrides, sort_keys=True)}"
    out = RESULTS / f"eval_{policy.env_id.split('/')[-1]}.json"
    record_json_run(out, key, {"samples": policy.meta["num_timesteps"], **rows})
    print(f"saved {out}")


if __name__ == "__main__":
    main()
