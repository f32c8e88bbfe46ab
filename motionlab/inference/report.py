"""The run report: the reliability verdict, the gait metrics of You, Closest and Ideal, coaching cues and
the timeline of events (frames without a pose, restarts by kind), as JSON and as a one-page PNG.

The PNG has the verdict on top (green reliable / amber use with care / red unreliable), a table with
one row per metric and one column per run (each figure coloured by its status: typical, atypical,
implausible, not enough data; with the strides it rests on and its confidence), the coaching cues, and
a timeline. Both files are written atomically; matplotlib's object API with the Agg canvas.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from motionlab.io_utils import atomic_write, write_json

REPORT_SCHEMA = "motionlab-report/3"  # 3: double support; each figure's gait (walking, running) and note
COLUMNS = ("you", "closest", "ideal")
TITLES = {"you": "You (video)", "closest": "Closest (simulated)", "ideal": "Ideal"}
VERDICT_COLOURS = {"reliable": "#2e7d32", "use with care": "#ef8f00", "unreliable": "#c62828"}
STATUS_COLOURS = {
    "typical": "#dcefdc", "atypical": "#fde9c8", "implausible": "#f6c9c9", "n/a": "#eeeeee",
    "not enough data": "#f2f2f2", "not measured": "#f2f2f2",
}  # fmt: skip
KIND_COLOURS = {"fall": "tab:red", "lost the reference": "tab:purple", "simulation diverged": "black"}


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


def format_value(m: dict[str, Any]) -> str:
    """A figure as shown to the user: the value with its unit, or why there is none; flagged if implausible,
    with its note when the gait makes it meaningless (a walk's flight time), with its likely interval when it
    has one and is not of high confidence (a speed over ground misread)."""
    if m["value"] is None:
        return m["status"]
    v = m["value"]
    text = f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    text = f"{text} {m['unit']}".strip()
    if m.get("note"):  # a figure the gait makes meaningless, e.g. a walk's flight time: 0 ms (walking: ...)
        return f"{v:.0f} {m['unit']} ({m['note']})"
    if m["status"] == "implausible":
        return f"{text} (implausible)"
    interval = m.get("interval")
    if interval and m.get("confidence", {}).get("level") != "high":  # uncertain: with its likely interval
        return f"{text} ({interval[0]:.1f}–{interval[1]:.1f})"
    return text


def range_text(cells: list[dict[str, Any]], sep: str = " · ") -> str:
    """The published range(s) a row's figures are judged against, with the unit: one range, or one per gait
    (joined by ``sep``) when the columns' gaits each have theirs (a walking You beside a running Ideal);
    "" when none."""
    ranges: dict[str, tuple[float, float]] = {}
    for m in cells:
        if m.get("range"):
            ranges.setdefault(m.get("gait") or "running", tuple(m["range"]))
    unit = cells[0]["unit"] if cells else ""
    if not ranges:
        return ""
    if len(ranges) == 1:
        ((lo, hi),) = ranges.values()
        return f"{lo:g}–{hi:g} {unit}".strip()
    return (sep.join(f"{gait} {lo:g}–{hi:g}" for gait, (lo, hi) in ranges.items()) + f" {unit}").strip()


def write_report(
    path_json: str | os.PathLike,
    path_png: str | os.PathLike,
    columns: dict[str, dict[str, dict[str, Any]]],
    verdict: dict[str, Any],
    cues: list[dict[str, Any]] = (),
    events: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    tracking_error: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Path, Path]:
    """Write the JSON report and the PNG summary; returns both paths.

    ``columns``: ``{you, closest, ideal}`` metrics from :func:`motionlab.inference.metrics.gait_metrics`
    (same names in each); ``verdict`` from :func:`motionlab.inference.reliability.verdict`; ``events``:
    ``{seconds, out_of_view_s: [[a, b]], closest: [{time_s, kind}], ideal: [...]}``; ``tracking_error``:
    ``(times s, MPJPE m)`` of the Closest run."""
    names = [set(m) for m in columns.values()]
    if any(n != names[0] for n in names):
        raise ValueError(f"the runs have different metrics: {[sorted(n) for n in names]}")
    te = None
    if tracking_error is not None:
        times, mpjpe = (np.asarray(a, dtype=float) for a in tracking_error)
        if times.shape != mpjpe.shape or times.ndim != 1:
            raise ValueError(f"tracking_error needs (times, mpjpe) of one length, got {times.shape} and {mpjpe.shape}")
        te = {"times_s": times.round(4).tolist(), "mpjpe_mm": (mpjpe * 1000).round(2).tolist()}
    report = {
        "schema": REPORT_SCHEMA,
        "verdict": verdict,
        **{c: columns[c] for c in COLUMNS if c in columns},
        "coaching_cues": list(cues),
        "events": events or {},
        "extra": extra or {},
        "tracking_error_series": te,
    }
    write_json(path_json, _plain(report))
    fig = summary_figure(columns, verdict, list(cues), events or {}, te)
    with atomic_write(path_png) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return Path(path_json), Path(path_png)


def summary_figure(
    columns: dict[str, dict[str, dict[str, Any]]],
    verdict: dict[str, Any],
    cues: list[dict[str, Any]],
    events: dict[str, Any],
    tracking_error: dict[str, list] | None,
) -> Figure:
    """The one-page summary (see the module docstring)."""
    runs = [c for c in COLUMNS if c in columns]
    names = list(columns[runs[0]])
    findings = [f for f in verdict.get("findings", [])][:5]
    heights = {"verdict": 0.5 + 0.28 * len(findings), "table": 0.42 * (len(names) + 1), "cues": 0.35 + 0.28 * max(len(cues), 1), "timeline": 3.0}
    fig = Figure(figsize=(13, sum(heights.values()) + 0.3))
    total, top = sum(heights.values()) + 0.3, 1.0
    axes = {}
    for key, h in heights.items():
        frac = h / total
        left = 0.1 if key == "timeline" else 0.03
        if key == "timeline":  # room below for the time axis and the legend
            axes[key] = fig.add_axes((left, top - 0.6 * frac, 0.94 - left, 0.5 * frac))
        else:
            axes[key] = fig.add_axes((left, top - frac, 0.97 - left, frac))
        top -= frac
    _verdict_panel(axes["verdict"], verdict, findings)
    _table_panel(axes["table"], columns, runs, names)
    _cues_panel(axes["cues"], cues)
    _timeline_panel(axes["timeline"], events, tracking_error)
    return fig


def _verdict_panel(ax, verdict: dict[str, Any], findings: list[dict[str, str]]) -> None:
    ax.set_axis_off()
    colour = VERDICT_COLOURS.get(verdict.get("level", ""), "0.4")
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, color=colour, alpha=0.15))
    n = len(findings) + 1
    ax.text(0.01, 1 - 0.5 / n, verdict.get("headline", ""), transform=ax.transAxes, va="center", fontsize=13,
            fontweight="bold", color=colour)  # fmt: skip
    for k, f in enumerate(findings, start=1):
        text = f"[{f['severity']}] {f['what']}" + (f" — {f['cause']}" if f.get("cause") else "") + (f" → {f['action']}" if f.get("action") else "")
        text = textwrap.shorten(text, 190, placeholder=" …")
        ax.text(0.015, 1 - (k + 0.5) / n, text, transform=ax.transAxes, va="center", fontsize=8.5)


def _table_panel(ax, columns: dict[str, dict[str, dict[str, Any]]], runs: list[str], names: list[str]) -> None:
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(len(names) + 1, 0)
    xs = {"label": 0.0, **{r: 0.25 + 0.2 * k for k, r in enumerate(runs)}, "range": 0.25 + 0.2 * len(runs)}
    ax.text(xs["label"], 0.5, "metric", fontweight="bold", va="center", fontsize=9)
    for r in runs:
        ax.text(xs[r] + 0.005, 0.5, TITLES[r], fontweight="bold", va="center", fontsize=9)
    ax.text(xs["range"] + 0.005, 0.5, "typical human range", fontweight="bold", va="center", fontsize=9)
    for row, name in enumerate(names, start=1):
        first = columns[runs[0]][name]
        ax.text(xs["label"], row + 0.5, first["label"], va="center", fontsize=8.5)
        for r in runs:
            m = columns[r][name]
            ax.add_patch(Rectangle((xs[r], row + 0.06), 0.195, 0.88, color=STATUS_COLOURS.get(m["status"], "white")))
            ax.text(xs[r] + 0.005, row + 0.38, format_value(m), va="center", fontsize=8.5,
                    color="#b00000" if m["status"] == "implausible" else "black")  # fmt: skip
            if m["value"] is not None:
                sub = f"{m['n_strides']} strides · confidence {m['confidence']['level']}"
            else:
                sub = (m.get("reason") or "")[:48]
            ax.text(xs[r] + 0.005, row + 0.78, sub, va="center", fontsize=6.5, color="0.35")
        rng = range_text([columns[r][name] for r in runs], sep="\n") or "–"
        ax.text(xs["range"] + 0.005, row + 0.5, rng, va="center", fontsize=8.5 if "\n" not in rng else 7.5)


def _cues_panel(ax, cues: list[dict[str, Any]]) -> None:
    ax.set_axis_off()
    n = max(len(cues), 1) + 1
    ax.text(0.0, 1 - 0.5 / n, "What to work on (largest reliable differences to Ideal)", transform=ax.transAxes,
            va="center", fontsize=10, fontweight="bold")  # fmt: skip
    lines = [f"• {c['text']}" for c in cues] or ["• none: no reliable difference large enough to coach on (see the verdict)"]
    for k, line in enumerate(lines, start=1):
        ax.text(0.01, 1 - (k + 0.5) / n, line, transform=ax.transAxes, va="center", fontsize=9)


def _timeline_panel(ax, events: dict[str, Any], te: dict[str, list] | None) -> None:
    seconds = float(events.get("seconds") or (te["times_s"][-1] if te and te["times_s"] else 1.0))
    ax.set_xlim(0, seconds)
    ax.set_ylim(-0.5, 2.5)
    ax.set_yticks([0, 1, 2], ["Ideal", "Closest", "pose in video"])
    ax.axhspan(1.7, 2.3, color="#dcefdc")
    for a, b in events.get("out_of_view_s", []):
        ax.axvspan(a, b, ymin=(1.7 + 0.5) / 3, ymax=(2.3 + 0.5) / 3, color="#c62828", alpha=0.6)
    labelled = set()
    for row, run in ((1, "closest"), (0, "ideal")):
        ax.axhline(row, color="0.8", lw=6, zorder=0)
        for ev in events.get(run, []):
            kind = ev["kind"]
            ax.plot([ev["time_s"]], [row], marker="v", ms=9, color=KIND_COLOURS.get(kind, "0.3"), ls="",
                    label=None if kind in labelled else f"restart: {kind}")  # fmt: skip
            labelled.add(kind)
    if events.get("out_of_view_s"):
        ax.plot([], [], color="#c62828", lw=6, alpha=0.6, label="no pose: not analysed")
    if te is not None and te["times_s"]:
        twin = ax.twinx()
        twin.plot(te["times_s"], te["mpjpe_mm"], color="#1f77b4", lw=1, alpha=0.7)
        twin.set_ylabel("Closest tracking error (mm)", fontsize=8, color="#1f77b4")
        twin.tick_params(labelsize=7)
    ax.set_xlabel("time (s)")
    ax.set_title("Timeline", fontsize=10, loc="left")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncols=4, fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
