"""Evaluate an Ideal policy over bodies and speeds against published human running data.

    python benchmarks/eval_ideal.py assets/checkpoints/ideal --label shipped-v0     # 5 bodies x 9 speeds x 20 s
    python benchmarks/eval_ideal.py ~/runs/ideal_v1/best --label v1 --seconds 8 --bodies 3 --speeds 2.5,3.5,5

Every run is simulated in the policy's own env (an Ideal-v0 policy in ``Ideal-v1`` with a zero gait-clock
action, with which Ideal-v1 is Ideal-v0 step for step): per body and speed, falls (and when), and over the run before any
fall the report's gait metrics (:func:`motionlab.inference.metrics.gait_metrics`: speed, cadence, stride
length, contact and flight time, duty factor, vertical oscillation, peak vertical ground reaction force
and loading rate, medians over strides; energy and forces over every 5 ms physics step, from the env's
``info["physics"]``), and cost of transport: mechanical (positive joint work per kg and metre over the
whole run; the report's median over strides beside it) and the model's metabolic
estimate (:func:`motionlab.envs.ideal.metabolic_power`: muscle efficiencies 25 % positive / 120 %
negative work plus activation heat; no elastic storage, so above people's ~4 J/(kg m)). A running
policy's speeds below 2 m/s are walking speeds: it runs them and they are not compared with human
running. A walking policy (``gait="walk"`` in its env, e.g. ``assets/checkpoints/ideal_walk``:
``--speeds 0.8,1,1.25,1.5,1.75,2``) is compared with human walking at every speed (cadence by the walk
ratio, walking duty factor and peak vertical force). Prints a table, adds the run to ``benchmarks/results/eval_ideal.json`` and draws cadence and
stride length against speed over the published human data (``eval_ideal_<label>.png``). With
``--record-range`` the speeds it ran without a fall (:func:`held_speed_range`) go into the checkpoint's
``meta.json`` as ``held_speed_range_mps``, which the main job clips the user's speed into.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

import motionlab  # noqa: F401  (registers the envs)
from motionlab.body import BodyParams
from motionlab.inference.metrics import METRICS, gait_metrics
from motionlab.inference.rollout import run_policy
from motionlab.io_utils import atomic_write, record_json_run, write_json
from motionlab.policy_io import LoadedPolicy, load_policy
from motionlab.running_norms import HUMAN_RUNNING_CADENCE, WALKING_SPEEDS_MPS, human_cadence, human_walking_cadence

RESULTS = Path(__file__).parent / "results"
SPEEDS = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)
WALK_BELOW_MPS = 2.0  # speeds below this are walking speeds
# Five bodies over heights 1.5-2.0 m and BMI 17-32 (height m, mass kg)
BODIES = ((1.50, 40.0), (1.65, 86.0), (1.75, 70.0), (1.85, 78.0), (2.00, 100.0))
# The CMU subjects in ../shared/data/mocap/cmu (speed m/s, steps/min of their steadiest stride, measured
# by motionlab.cmu through `motionlab import-mocap`): 16_35, 35_22, 09_11, 16_46 running; 07_01 walking.
CMU_SUBJECTS = ((2.82, 151.6), (3.55, 165.5), (3.53, 154.8), (4.13, 180.0), (1.40, 111.6))
CADENCE_TOLERANCE = 0.05  # the target: within +-5 % of the human relation

class GaitNorms(NamedTuple):
    """What people do in one gait, that an Ideal of that gait is checked against."""

    cadence: Any  # steps/min at a speed (m/s)
    peak_vgrf_bw: tuple[float, float]
    duty_factor: tuple[float, float]
    speeds_mps: tuple[float, float]  # the speeds the comparison (and the held speed range) covers


NORMS = {
    # running: active peak 2-3 BW (Cavanagh & Lafortune 1980; Munro et al. 1987); duty factor (Alexander
    # 1989; van Oeveren et al. 2021)
    "run": GaitNorms(human_cadence, (2.0, 3.0), (0.30, 0.45), (WALK_BELOW_MPS, 10.0)),
    # walking: vertical force peaks ~1.0-1.5 BW at 1-2 m/s (Keller et al. 1996, Clin Biomech 11:253);
    # stance ~60 % of the stride at usual speeds, less when fast (Perry 1992; duty factor 0.55-0.68)
    "walk": GaitNorms(human_walking_cadence, (1.0, 1.5), (0.55, 0.68), WALKING_SPEEDS_MPS),
}


class _MetabolicLog(gym.Wrapper):
    """Keeps Ideal-v1's metabolic power (W) of every control step (``info["metabolic_power_w"]``)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.watts: list[float] = []

    def step(self, action):
        result = self.env.step(action)
        if "metabolic_power_w" in result[4]:
            self.watts.append(result[4]["metabolic_power_w"])
        return result


class _ZeroClock:
    """An Ideal-v0 policy in Ideal-v1: its 28 actions and a zero gait-clock action (Ideal-v0's clock)."""

    def __init__(self, policy: LoadedPolicy):
        self.policy = policy

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return np.r_[self.policy.predict(obs, deterministic), np.float32(0.0)].astype(np.float32)


def run_one(policy: LoadedPolicy, body: BodyParams, speed: float, seconds: float, seed: int) -> dict[str, Any]:
    """Metrics of one deterministic run of ``policy`` at ``speed`` on ``body`` (until a fall or ``seconds``)."""
    trained = policy.env_kwargs
    kwargs = {k: trained[k] for k in ("action_scale", "clock_scale", "gait") if k in trained}
    env_id = "MotionLab/Ideal-v1" if policy.env_id == "MotionLab/Ideal-v0" else policy.env_id  # v0: zero clock
    env = _MetabolicLog(gym.make(env_id, body=body, target_speed=speed, max_episode_seconds=seconds, **kwargs))
    actor = policy if policy.action_dim == env.action_space.shape[0] else _ZeroClock(policy)
    rollout = run_policy(env, actor, seconds, seed=seed)
    keep = rollout.times < rollout.fall_time if rollout.fall_time is not None else np.ones(rollout.num_steps, bool)
    n = int(keep.sum())
    clean = dataclasses.replace(
        rollout,
        **{k: getattr(rollout, k)[:n] for k in ("times", "qpos", "qvel", "actuator_force", "foot_contact", "foot_grf")},
        physics=rollout.physics[:n],
        reward_terms={},
        fall_time=None,
        restart_times=[],
    )  # the run before its fall
    gait = {k: v["value"] for k, v in gait_metrics(clean).items()} if n > 1 else dict.fromkeys(METRICS)
    contact = [gait[f"contact_time_{side}"] for side in ("left", "right") if gait[f"contact_time_{side}"]]
    metabolic_j = float(np.sum(env.watts[:n])) * rollout.dt
    mechanical_j = float(clean.physics.positive_work.sum())
    distance = float(np.linalg.norm(rollout.qpos[n - 1, :2] - rollout.qpos[0, :2])) if n > 1 else 0.0
    enough = distance > 1.0 and n > 1
    return {
        "height_m": body.height,
        "mass_kg": body.mass,
        "target_speed_mps": speed,
        "fell": rollout.fall_time is not None,
        "seconds_before_fall": float(rollout.times[n - 1]) if n else 0.0,
        **{k: gait[k] for k in ("speed", "cadence", "stride_length", "flight_time", "duty_factor")},
        "contact_time": float(np.mean(contact)) if contact else None,
        "vertical_oscillation_cm": gait["vertical_oscillation"],
        "peak_vgrf_bw": gait["peak_vgrf"],
        "loading_rate_bw_s": gait["loading_rate"],
        "mechanical_cot": mechanical_j / (body.mass * distance) if enough else None,
        "mechanical_cot_strides": gait["cost_of_transport"],
        "metabolic_cot": metabolic_j / (body.mass * distance) if enough else None,
    }


def summarise(rows: list[dict[str, Any]], gait: str = "run") -> dict[str, Any]:
    """Per speed: falls, means of every metric over bodies, and the checks against people's ``gait``."""
    norms = NORMS[gait]
    out = {}
    for speed in sorted({r["target_speed_mps"] for r in rows}):
        at = [r for r in rows if r["target_speed_mps"] == speed]
        means = {}
        for key in at[0]:
            values = [r[key] for r in at if isinstance(r[key], (int, float)) and not isinstance(r[key], bool)]
            if values and key not in ("height_m", "mass_kg", "target_speed_mps"):
                means[key] = float(np.mean(values))
        row: dict[str, Any] = {"runs": len(at), "falls": sum(r["fell"] for r in at), **means}
        if norms.speeds_mps[0] <= speed <= norms.speeds_mps[1]:  # against people at the speed each run kept
            kept = [(r["cadence"], float(norms.cadence(r["speed"]))) for r in at if r["cadence"] and r["speed"]]
            row["human_cadence"] = float(np.mean([h for _, h in kept])) if kept else None
            row["cadence_within_5pct"] = sum(abs(c / h - 1) <= CADENCE_TOLERANCE for c, h in kept)
            row["peak_vgrf_in_range"] = sum(
                norms.peak_vgrf_bw[0] <= (r["peak_vgrf_bw"] or 0) <= norms.peak_vgrf_bw[1] for r in at
            )
            row["duty_factor_in_range"] = sum(
                norms.duty_factor[0] <= (r["duty_factor"] or 0) <= norms.duty_factor[1] for r in at
            )
        out[f"{speed:g}"] = row
    return out


def held_speed_range(summary: dict[str, Any], gait: str = "run") -> list[float] | None:
    """``[low, high]``: the widest run of consecutive evaluated speeds of the ``gait`` (running: >=
    :data:`WALK_BELOW_MPS`) without a fall on any body, or None if every such speed had one."""
    lo, hi = NORMS[gait].speeds_mps
    speeds = sorted((float(k), row["falls"]) for k, row in summary.items() if lo <= float(k) <= hi)
    best: list[float] = []
    block: list[float] = []
    for speed, falls in speeds:
        block = [*block, speed] if falls == 0 else []
        if len(block) > len(best):
            best = block
    return [best[0], best[-1]] if best else None


def record_held_range(checkpoint: Path, held: list[float] | None, key: str) -> None:
    """Write ``held`` into ``checkpoint``'s meta.json as ``held_speed_range_mps`` (with the evaluation it came
    from): the main job then asks the Ideal only for speeds it was measured to run without falling."""
    if held is None:
        raise SystemExit(f"{checkpoint}: fell at every running speed; no speed range to record")
    meta_path = checkpoint / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["held_speed_range_mps"] = held
    meta["held_speed_range_source"] = f"benchmarks/eval_ideal.py: {key} (benchmarks/results/eval_ideal.json)"
    write_json(meta_path, meta)
    print(f"recorded held_speed_range_mps {held} in {meta_path}")


def plot(rows: list[dict[str, Any]], path: Path, title: str, gait: str = "run") -> None:
    """Cadence and stride length against the speed each run kept (before any fall), one line per body,
    over the published human data of the ``gait`` and the CMU subjects."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    walk = gait == "walk"
    v = np.linspace(0.5, 2.4, 60) if walk else np.linspace(1.8, 7.0, 60)
    measured = (v >= WALKING_SPEEDS_MPS[0]) & (v <= WALKING_SPEEDS_MPS[1]) if walk else (v >= 2.4) & (v <= 7.0)
    human = NORMS[gait].cadence(v)
    human_label = "human walking (walk ratio 0.0065 m per step/min)" if walk else "human running (fit to the published points)"
    for ax, key, unit, ref in (
        (axes[0], "cadence", "steps/min", human),
        (axes[1], "stride_length", "m", 120.0 * v / human),
    ):
        ax.fill_between(v, ref * (1 - CADENCE_TOLERANCE), ref * (1 + CADENCE_TOLERANCE), color="#2ca02c", alpha=0.15)
        ax.plot(v[measured], ref[measured], color="#2ca02c", label=f"{human_label}, +-5 %")
        ax.plot(v, ref, color="#2ca02c", ls="--", lw=1)
        if key == "cadence" and not walk:
            pv, pc = np.array([(p[0], p[1]) for p in HUMAN_RUNNING_CADENCE]).T
            ax.plot(
                pv, pc, "s", color="#2ca02c", label="published (van Oeveren 2017; Lieberman 2015; Dorn 2012 approx.)"
            )
        cv, cc = np.array(CMU_SUBJECTS).T
        ax.plot(cv, cc if key == "cadence" else 120.0 * cv / cc, "^", color="k", mfc="none", label="CMU mocap subjects")
        for h, m in sorted({(r["height_m"], r["mass_kg"]) for r in rows}):
            pts = [
                (r["speed"], r[key], r["fell"])
                for r in rows
                if (r["height_m"], r["mass_kg"]) == (h, m) and r[key] and r["speed"]
            ]
            if pts:
                xs, ys, fell = zip(*pts)
                line = ax.plot(xs, ys, "o", ms=5, label=f"{h:.2f} m, {m:.0f} kg")[0]
                ax.plot(
                    [x for x, f in zip(xs, fell) if f],
                    [y for y, f in zip(ys, fell) if f],
                    "x",
                    ms=9,
                    color=line.get_color(),
                )
        if not walk:
            ax.axvspan(0.8, WALK_BELOW_MPS, color="0.9")
        ax.set_xlabel("speed kept before any fall (m/s); x: fell" + ("" if walk else "; grey: walking speeds"))
        ax.set_ylabel(f"{key.replace('_', ' ')} ({unit})")
        ax.grid(alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=4, fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--label", default=None, help="name of the plot (eval_ideal_<label>.png) and JSON entry")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--episodes", type=int, default=1, help="runs per body and speed (seeds seed, seed+1, ...)")
    parser.add_argument("--bodies", type=int, default=len(BODIES), help=f"the first N of {len(BODIES)} bodies")
    parser.add_argument("--speeds", default=",".join(f"{s:g}" for s in SPEEDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replot", action="store_true", help="only redraw the plot of the label's saved runs")
    parser.add_argument(
        "--record-range", action="store_true",
        help="write the speeds run without a fall into the checkpoint's meta.json (the main job's speed range)",
    )  # fmt: skip
    args = parser.parse_args()
    policy = load_policy(args.checkpoint)
    gait = policy.env_kwargs.get("gait", "run")
    label = args.label or args.checkpoint.name
    key = f"{label}|{args.seconds:g}s|x{args.episodes}|{args.bodies} bodies"
    png = RESULTS / f"eval_ideal_{label}.png"
    title = f"{label}: {policy.env_id}, {policy.meta['num_timesteps'] / 1e6:.2f} M samples, {args.seconds:g} s runs"
    if args.replot:  # redraw and re-summarise the saved runs (no simulation)
        record = json.loads((RESULTS / "eval_ideal.json").read_text())["runs"][key]
        record["summary"] = summarise(record["runs"], gait)
        record["held_speed_range_mps"] = held_speed_range(record["summary"], gait)
        record_json_run(RESULTS / "eval_ideal.json", key, record)
        plot(record["runs"], png, title, gait)
        print(f"saved {png}")
        if args.record_range:
            record_held_range(args.checkpoint, record["held_speed_range_mps"], key)
        return
    speeds = [float(s) for s in args.speeds.split(",")]
    rows = []
    for height, mass in BODIES[: args.bodies]:
        body = BodyParams(height=height, mass=mass)
        for speed in speeds:
            for episode in range(args.episodes):
                rows.append(run_one(policy, body, speed, args.seconds, args.seed + episode))
                r = rows[-1]
                print(
                    f"{height:.2f} m {mass:5.1f} kg {speed:4.1f} m/s: "
                    + (f"fell at {r['seconds_before_fall']:.1f} s" if r["fell"] else "no fall")
                    + "".join(
                        f", {k} {r[k]:.3g}"
                        for k in ("speed", "cadence", "stride_length", "peak_vgrf_bw", "metabolic_cot")
                        if r[k]
                    ),
                    flush=True,
                )
    summary = summarise(rows, gait)
    keys = ("falls", "speed", "cadence", "human_cadence", "stride_length", "contact_time", "flight_time", "duty_factor",
            "vertical_oscillation_cm", "peak_vgrf_bw", "loading_rate_bw_s", "mechanical_cot", "metabolic_cot")  # fmt: skip
    print(f"{'speed':>6}" + "".join(f"{k[:12]:>13}" for k in keys))
    for speed, row in summary.items():
        print(f"{speed:>6}" + "".join(f"{row[k]:>13.3g}" if row.get(k) is not None else f"{'-':>13}" for k in keys))
    record = {
        "checkpoint": str(args.checkpoint),
        "env_id": policy.env_id,
        "samples": policy.meta["num_timesteps"],
        "trained_speed_range": policy.env_kwargs.get("target_speed_range"),
        "settings": {
            "seconds": args.seconds,
            "episodes": args.episodes,
            "bodies": BODIES[: args.bodies],
            "speeds": speeds,
        },
        "human_cadence_points": HUMAN_RUNNING_CADENCE,
        "cmu_subjects_speed_cadence": CMU_SUBJECTS,
        "metabolic_model": "Margaria 1968 efficiencies (25 % positive, 120 % negative work) + Umberger 2003 "
        "activation heat x (tau/tau_max)^2 per joint; no elastic storage",
        "summary": summary,
        "gait": gait,
        "held_speed_range_mps": held_speed_range(summary, gait),
        "runs": rows,
    }
    out = record_json_run(RESULTS / "eval_ideal.json", key, record)
    plot(rows, png, title, gait)
    print(f"saved {out} and {png}; no fall at {record['held_speed_range_mps']} m/s")
    if args.record_range:
        record_held_range(args.checkpoint, record["held_speed_range_mps"], key)


if __name__ == "__main__":
    main()
