"""Every row of the README's training-results tables, evaluated afresh (policy vs zero action).

    python benchmarks/eval_tables.py [--only track|ideal]

Rows use the shipped checkpoints (``assets/checkpoints/``), or an earlier shipped checkpoint read from
this repository's git history (``git:<commit>``). Each row records the checkpoint's sample count and
the SHA-256 of its ``policy.pt``, so a result left over from another checkpoint is detectable. Writes
``benchmarks/results/eval_tables.json`` (rewritten as a whole: only the README's rows, only this run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from eval_policy import evaluate_against_zero_action

from motionlab.io_utils import write_json
from motionlab.policy_io import INFERENCE_FILES, load_policy

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "eval_tables.json"
TRACK, IDEAL = "assets/checkpoints/track", "assets/checkpoints/ideal"
FROM_FRAME_0 = {"reference_state_init": False}  # 10 s (as trained) from frame 0 of the real clip's reference
IDEAL_AT = {"randomize_body": False, "max_episode_seconds": 20.0, "target_speed_range": None}

# (table, row, checkpoint, episodes, env overrides)
ROWS: list[tuple[str, str, str, int, dict[str, Any]]] = [
    ("track", "shipped, 10 s from frame 0, 16 bodies", TRACK, 16, FROM_FRAME_0),
    ("track", "shipped, 32 episodes from random frames", TRACK, 32, {}),
    ("track", "previous landing's policy (stage 2), 10 s from frame 0, 16 bodies", f"git:9b6c373:{TRACK}", 16, FROM_FRAME_0),
    ("track", "shipped, residual force off, 10 s from frame 0, 16 bodies", TRACK, 16, {**FROM_FRAME_0, "residual_force_scale": 0.0}),
    ("track", "shipped, residual force halved, 10 s from frame 0, 16 bodies", TRACK, 16, {**FROM_FRAME_0, "residual_force_scale": 0.15}),
    ("ideal", "default body 1.75 m / 70 kg at 3.5 m/s", IDEAL, 16, {**IDEAL_AT, "target_speed": 3.5}),
    ("ideal", "1.60 m / 55 kg at 3.5 m/s", IDEAL, 16, {**IDEAL_AT, "target_speed": 3.5, "body": {"height": 1.6, "mass": 55}}),
    ("ideal", "1.68 m / 61 kg at 3.5 m/s", IDEAL, 16, {**IDEAL_AT, "target_speed": 3.5, "body": {"height": 1.68, "mass": 61}}),
    ("ideal", "1.82 m / 78 kg at 3.5 m/s", IDEAL, 16, {**IDEAL_AT, "target_speed": 3.5, "body": {"height": 1.82, "mass": 78}}),
    ("ideal", "1.90 m / 88 kg at 3.5 m/s", IDEAL, 16, {**IDEAL_AT, "target_speed": 3.5, "body": {"height": 1.9, "mass": 88}}),
    ("ideal", "default body at 2.8 m/s", IDEAL, 8, {**IDEAL_AT, "target_speed": 2.8}),
    ("ideal", "default body at 4.4 m/s", IDEAL, 8, {**IDEAL_AT, "target_speed": 4.4}),
]  # fmt: skip


def checkpoint_dir(spec: str, scratch: Path) -> Path:
    """``spec`` as a directory: a path in the working tree, or ``git:<commit>:<path>`` checked out to ``scratch``."""
    if not spec.startswith("git:"):
        return REPO / spec
    _, commit, path = spec.split(":", 2)
    out = scratch / commit
    out.mkdir(parents=True, exist_ok=True)
    for name in INFERENCE_FILES:
        blob = subprocess.run(["git", "show", f"{commit}:{path}/{name}"], cwd=REPO, capture_output=True, check=True)
        (out / name).write_bytes(blob.stdout)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["track", "ideal"], default=None)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {"track": {}, "ideal": {}}
    with tempfile.TemporaryDirectory() as scratch:
        for table, row, spec, episodes, overrides in ROWS:
            if args.only and table != args.only:
                continue
            start = time.perf_counter()
            path = checkpoint_dir(spec, Path(scratch))
            policy = load_policy(path)
            rows = evaluate_against_zero_action(policy, episodes, overrides, args.seed)
            results[table][row] = {
                "checkpoint": spec,
                "policy_sha256": hashlib.sha256((path / "policy.pt").read_bytes()).hexdigest(),
                "samples": policy.meta["num_timesteps"],
                "episodes": episodes,
                "overrides": overrides,
                "seed": args.seed,
                **rows,
            }
            p, z = rows["policy"], rows["zero action"]
            print(
                f"{table} | {row}: falls {p['fall_rate'] * episodes:.0f}/{episodes} (zero action {z['fall_rate'] * episodes:.0f},"
                f" {z['episode_seconds']:.2f} s), return {p['normalized_return']:.3f} ({z['normalized_return']:.3f})"
                + (f", imitation {p['imitation_return']:.3f}, MPJPE {1000 * p['mpjpe_m']:.0f} mm "
                   f"({1000 * z['mpjpe_m']:.0f}), residual force {100 * p['residual_force_bw']:.1f} % BW"
                   if "mpjpe_m" in p else f", {p['speed_mps']:.2f} m/s, {p['distance_m']:.1f} m")
                + f"  [{time.perf_counter() - start:.0f} s]",
                flush=True,
            )  # fmt: skip
    if args.only:  # keep the other table's rows from the last full run
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results = {**previous, args.only: results[args.only]}
    write_json(RESULTS, results)
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
