"""What the main job reports on the embedded sample: falls, gait metrics of both runners, stage times.

    python benchmarks/bench_sample_run.py [--seconds 10]

Runs ``motionlab-infer`` on the embedded sample (10 s of the real running clip on the default body,
projected to 2D) with the shipped policies and saves each runner's falls and metric values to
``benchmarks/results/sample_run.json`` (the README's "On the embedded sample ..." figures).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console

from motionlab.inference.pipeline import InferenceConfig, run_inference
from motionlab.io_utils import write_json

RESULTS = Path(__file__).parent / "results" / "sample_run.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = run_inference(InferenceConfig(out=Path(tmp) / "s.mp4", seconds=args.seconds), Console(stderr=True))
    extra = report["extra"]
    results = {
        "seconds": extra["seconds"],
        "user_speed_mps": extra["user_speed_mps"],
        "ideal_target_speed_mps": extra["ideal_target_speed_mps"],
        "stage_seconds": extra["stage_seconds"],
        "total_seconds": round(sum(extra["stage_seconds"].values()), 2),
        "refinement": {k: v for k, v in extra["refinement"].items() if k != "settings"},
        **{run: {"falls": extra[run], **{k: m["value"] for k, m in report[run].items()}} for run in ("closest", "ideal")},
    }
    for run in ("closest", "ideal"):
        r = results[run]
        print(f"{run}: {r['falls']['restarts']} restarts; " + ", ".join(
            f"{k} {v:.3g}" for k, v in r.items() if isinstance(v, float)
        ))  # fmt: skip
    write_json(RESULTS, results)
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
