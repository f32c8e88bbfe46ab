"""Learning curves of training runs: training episode length (TensorBoard) and the evaluation metrics
(``metrics.jsonl``) against samples. Writes a PNG and prints the last evaluation of each run.

    python benchmarks/plot_training.py runs/track runs/ideal --out benchmarks/results/learning_curves.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from motionlab.io_utils import atomic_write  # noqa: E402


def episode_lengths(run_dir: Path) -> tuple[list[int], list[float]]:
    steps, values = [], []
    for events in sorted((run_dir / "tb").glob("*")):
        acc = EventAccumulator(str(events))
        acc.Reload()
        if "rollout/ep_len_mean" in acc.Tags()["scalars"]:
            for e in acc.Scalars("rollout/ep_len_mean"):
                steps.append(e.step)
                values.append(e.value)
    return steps, values


def evaluations(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def start_samples(meta: dict) -> int:
    """Samples behind a run's starting policy: those of its ``init_from`` source and the source's own
    sources (0 for a fresh run), so a fine-tuning stage is drawn where its source left off."""
    source = meta["config"].get("init_from")
    if not source:
        return 0
    source_meta = json.loads((Path(source) / "meta.json").read_text())
    return int(source_meta["num_timesteps"]) + start_samples(source_meta)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "learning_curves.png")
    args = parser.parse_args()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    for run in args.runs:
        meta = json.loads((run / "latest" / "meta.json").read_text())
        dt = 0.03  # MotionLab's envs step at 33.3 Hz
        offset = start_samples(meta)
        steps, lengths = episode_lengths(run)
        x = [(offset + s) / 1e6 for s in steps]
        (line,) = axes[0].plot(x, [v * dt for v in lengths], label=run.name)
        rows = evaluations(run)
        x = [(offset + r["timesteps"]) / 1e6 for r in rows]
        axes[1].plot(x, [r["episode_seconds"] for r in rows], "o-", color=line.get_color(), markersize=3)
        axes[2].plot(x, [r["normalized_return"] for r in rows], "o-", color=line.get_color(), markersize=3)
        if rows:
            last = rows[-1]
            print(f"{run.name}: {meta['num_timesteps']} samples; last evaluation at {last['timesteps']}: "
                  + ", ".join(f"{k}={v:.3f}" for k, v in last.items() if k not in ("timesteps", "wall_s")))  # fmt: skip
    axes[0].set(title="training: episode length before a fall (s, stochastic policy)", xlabel="samples (M)")
    axes[1].set(title="evaluation: seconds before a fall", xlabel="samples (M)")
    axes[2].set(title="evaluation: normalised return (per step, max 1)", xlabel="samples (M)")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    with atomic_write(args.out) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
