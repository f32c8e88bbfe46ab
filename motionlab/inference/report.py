"""The run report: gait metrics of the Closest and Ideal runs as JSON and as a one-page PNG summary.

The PNG shows, per metric, the typical human range as a green band with the Closest and Ideal values
marked on it, and the tracking error of the Closest run over time when it is given. Both files are
written atomically. Matplotlib's object API is used (no pyplot state), with the Agg canvas.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from motionlab.io_utils import atomic_write, write_json

REPORT_SCHEMA = "motionlab-report/1"
COLOURS = {"closest": "#1f77b4", "ideal": "#ff7f0e"}
MARKERS = {"closest": "o", "ideal": "D"}
NCOLS = 3


def _plain(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays and paths turned into JSON types."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.ndarray, np.generic)):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_report(
    path_json: str | os.PathLike,
    path_png: str | os.PathLike,
    closest_metrics: dict[str, dict[str, Any]],
    ideal_metrics: dict[str, dict[str, Any]],
    extra: dict[str, Any] | None = None,
    tracking_error: tuple[np.ndarray, np.ndarray] | None = None,
    restarts: Sequence[float] = (),
) -> tuple[Path, Path]:
    """Write the JSON report and the PNG summary; returns both paths.

    ``*_metrics`` come from :func:`motionlab.inference.metrics.gait_metrics`; ``extra`` (JSON-able: body,
    fall, inputs ...) is stored as is; ``tracking_error`` is ``(times s, MPJPE m)`` of the Closest run and
    ``restarts`` the times (s) it was restarted after a fall, marked on that plot."""
    if set(closest_metrics) != set(ideal_metrics):
        raise ValueError(f"the two runs have different metrics: {sorted(closest_metrics)} vs {sorted(ideal_metrics)}")
    te = None
    if tracking_error is not None:
        times, mpjpe = (np.asarray(a, dtype=float) for a in tracking_error)
        if times.shape != mpjpe.shape or times.ndim != 1:
            raise ValueError(f"tracking_error needs (times, mpjpe) of one length, got {times.shape} and {mpjpe.shape}")
        te = {
            "times_s": times.round(4).tolist(),
            "mpjpe_mm": (mpjpe * 1000).round(2).tolist(),
            "restarts_s": [round(float(t), 4) for t in restarts],
        }
    report = {
        "schema": REPORT_SCHEMA,
        "closest": closest_metrics,
        "ideal": ideal_metrics,
        "extra": extra or {},
        "tracking_error_series": te,
    }
    write_json(path_json, _plain(report))
    fig = summary_figure({"closest": closest_metrics, "ideal": ideal_metrics}, te)
    with atomic_write(path_png) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return Path(path_json), Path(path_png)


def summary_figure(runs: dict[str, dict[str, dict[str, Any]]], tracking_error: dict[str, list] | None) -> Figure:
    """Range charts of every metric (one panel each) and, if given, the tracking error over time."""
    names = list(next(iter(runs.values())))
    rows = -(-len(names) // NCOLS)
    extra_row = tracking_error is not None
    fig = Figure(figsize=(12, 1.9 * rows + (2.6 if extra_row else 0) + 0.8), layout="constrained")
    grid = fig.add_gridspec(rows + extra_row, NCOLS, height_ratios=[1] * rows + ([1.5] if extra_row else []))
    for k, name in enumerate(names):
        _range_panel(fig.add_subplot(grid[k // NCOLS, k % NCOLS]), name, {r: m[name] for r, m in runs.items()})
    if extra_row:
        ax = fig.add_subplot(grid[rows, :])
        ax.plot(tracking_error["times_s"], tracking_error["mpjpe_mm"], color=COLOURS["closest"])
        for i, t in enumerate(tracking_error.get("restarts_s", [])):
            ax.axvline(t, color="tab:red", alpha=0.4, lw=1, label="fall, restarted from the reference" if i == 0 else None)
        if tracking_error.get("restarts_s"):
            ax.legend(loc="upper right", fontsize=8)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("MPJPE (mm)")
        ax.set_title("Closest run: tracking error over time", fontsize=10)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=COLOURS[r], marker=MARKERS[r], ls="", label=r.capitalize()) for r in runs]
    handles.append(Patch(color="tab:green", alpha=0.25, label="typical human range"))
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), frameon=False)
    return fig


def _range_panel(ax, name: str, metrics: dict[str, dict[str, Any]]) -> None:
    first = next(iter(metrics.values()))
    lo, hi = first["range"]
    values = [m["value"] for m in metrics.values() if m["value"] is not None]
    left, right = min([lo, *values]), max([hi, *values])
    pad = 0.15 * (right - left or 1.0)
    ax.axvspan(lo, hi, color="tab:green", alpha=0.25)
    ax.set_xlim(left - pad, right + pad)
    ax.set_ylim(-0.5, len(metrics) - 0.5)
    ax.set_yticks(range(len(metrics)), [r.capitalize() for r in metrics])
    ax.invert_yaxis()
    for y, (run, m) in enumerate(metrics.items()):
        if m["value"] is None:
            ax.text(left, y, f"  n/a: {m.get('reason') or 'not computed'}", va="center", fontsize=7, color="0.4")
        else:
            ax.scatter([m["value"]], [y], color=COLOURS[run], marker=MARKERS[run], s=50, zorder=3)
            ax.annotate(f"{m['value']:.3g}", (m["value"], y), xytext=(6, 4), textcoords="offset points", fontsize=8)
    unit = f" ({first['unit']})" if first["unit"] else ""
    ax.set_title(f"{first.get('label', name)}{unit}", fontsize=10)
    ax.tick_params(labelsize=8)
    ax.grid(axis="x", alpha=0.3)
