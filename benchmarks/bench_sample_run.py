"""What the main job reports on the embedded sample: falls, gait metrics of both runners, stage times.

    python benchmarks/bench_sample_run.py [--seconds 10]
    python benchmarks/bench_sample_run.py --ckpt-track ~/runs/track_cmu3/latest --label cmu3   # another tracker

Runs ``motionlab-infer`` on the embedded sample (10 s of the real running clip on the default body,
projected to 2D) with the shipped policies and saves each runner's falls and metric values to
``benchmarks/results/sample_run.json`` (the README's "On the embedded sample ..." figures), or with
``--label L`` to ``sample_run_L.json`` (e.g. a tracking-policy snapshot against the shipped one).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from motionlab.inference.pipeline import DEFAULT_TRACK_CKPT, InferenceConfig, run_inference
from motionlab.io_utils import write_json

RESULTS = Path(__file__).parent / "results" / "sample_run.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--ckpt-track", type=Path, default=DEFAULT_TRACK_CKPT, help="tracking policy (default: shipped)"
    )
    parser.add_argument("--residual", choices=("on", "off"), default="on", help="the Closest run's residual force")
    parser.add_argument("--label", default=None, help="save to sample_run_<label>.json")
    args = parser.parse_args()
    cfg = InferenceConfig(
        out=Path(), seconds=args.seconds, ckpt_track=args.ckpt_track, residual_force=args.residual == "on"
    )
    with tempfile.TemporaryDirectory() as tmp:
        report = run_inference(replace(cfg, out=Path(tmp) / "s.mp4"), Console(stderr=True))
    extra = report["extra"]
    results = {
        "checkpoint_track": str(args.ckpt_track),
        "closest_residual_force": extra["closest_residual_force"],
        "seconds": extra["seconds"],
        "user_speed_mps": extra["user_speed_mps"],
        "ideal_target_speed_mps": extra["ideal_target_speed_mps"],
        "stage_seconds": extra["stage_seconds"],
        "total_seconds": round(sum(extra["stage_seconds"].values()), 2),
        "refinement": {k: v for k, v in extra["refinement"].items() if k != "settings"},
        **{
            run: {"falls": extra[run], **{k: m["value"] for k, m in report[run].items()}}
            for run in ("closest", "ideal")
        },
    }
    for run in ("closest", "ideal"):
        r = results[run]
        print(f"{run}: {r['falls']['restarts']} restarts; " + ", ".join(
            f"{k} {v:.3g}" for k, v in r.items() if isinstance(v, float)
        ))  # fmt: skip
    out = RESULTS.with_name(f"sample_run_{args.label}.json") if args.label else RESULTS
    write_json(out, results)
    print(f"saved {out}")


if __name__ == "__main__":
    main()
