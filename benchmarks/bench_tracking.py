"""How well the Closest tracker follows people it never saw: held-out CMU mocap, clean and lifted.

Usage::

    python benchmarks/bench_tracking.py                                   # the shipped tracker
    python benchmarks/bench_tracking.py --ckpt ~/runs/track_cmu/best --label new
    python benchmarks/bench_tracking.py --clips 16_35,16_45,16_55,39_13   # 4 of the 7 clips
    python benchmarks/bench_tracking.py --compare benchmarks/results/tracking_shipped.json benchmarks/results/tracking_new.json

Clips: :data:`motionlab.mocap_split.HELDOUT_CLIPS` (CMU subject 16's runs and jogs and subject 39's
walk; never in the teacher set), each looped for 10 s, each on one of three bodies (small, default,
tall, in turn; ``--all-bodies``: every clip on every body), fitted to the mocap by the CMU importer's
IK. Conditions:

* (a) **clean**: the mocap reference itself;
* (b) **lifted**: the mocap seen through a side-on or 45 degree oblique phone camera, static or
  following the runner, with 3 px detection jitter and the rest of :mod:`motionlab.mocap_lifted`'s
  errors, then the project's swap repair, smoothing and lift on a body of the runner's height and mass
  (static shots see the runner for only part of the 10 s: counts are scaled to 10 s).

Each rollout runs the deterministic policy with restarts after a fall (as the main job does), with the
residual force, and for (a) also with it off (its actions zeroed: ``residual_force_scale=0``). Per rollout:
restarts per 10 s, whether it fell, MPJPE of the simulated body's 12 body landmarks against the mocap's
own (centred per frame, after one turn about the vertical for the whole clip: :func:`same_heading`; mm), residual force (% body weight, mean), ground penetration (mean depth
of the lowest sole point below the floor, mm) and foot skate (mean horizontal speed of a foot in ground
contact, the slower of its heel and toe; cm/s). Prints a table and writes
``benchmarks/results/tracking_<label>.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from motionlab.body import BodyParams
from motionlab.humanoid import build_model
from motionlab.inference.rollout import Rollout, run_policy
from motionlab.io_utils import write_json
from motionlab.keypoints import BODY_LANDMARKS, INDEX
from motionlab.mocap import mocap_reference
from motionlab.mocap_lifted import Shot, lifted_reference
from motionlab.mocap_split import DEFAULT_CMU_DIR, HELDOUT_CLIPS
from motionlab.motion import Kinematics, resample_qpos
from motionlab.policy_io import load_policy
from motionlab.reference import Reference

RESULTS = Path(__file__).resolve().parent / "results"
SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "checkpoints" / "track"
SECONDS = 10.0
BODIES = {
    "small": BodyParams(height=1.60, mass=55.0),
    "default": BodyParams(height=1.75, mass=70.0),
    "tall": BodyParams(height=1.88, mass=84.0),
}
SHOTS = {
    f"{view} {kind}": Shot(kind=kind, azimuth_deg=az, pitch_deg=3.0, fov_deg=65.0, distance_m=dist)
    for view, az in (("side", 0.0), ("45deg", 45.0))
    for kind, dist in (("static", 9.0), ("following", 5.0))
}
_FEET = [INDEX[n] for n in ("left_heel", "left_foot_index", "right_heel", "right_foot_index")]


def _truth(amc: Path, asf: Path | None, body: BodyParams) -> Reference:
    stride = mocap_reference(amc, body, cycles=1, asf=asf).source["stride_period_s"]
    return mocap_reference(amc, body, cycles=int(np.ceil(SECONDS / stride)) + 1, asf=asf)


def same_heading(points: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``points`` (T, N, 3) turned about the vertical by the one angle that best fits ``truth`` over the
    whole clip. A lifted reference lives in its camera's world: the shot's azimuth to the mocap's axes is
    not in the image, so the simulated body is compared with the mocap after that one turn (least
    squares, closed form; ~0 for a clean reference, which shares the mocap's axes)."""
    a, b = points[..., :2].reshape(-1, 2), truth[..., :2].reshape(-1, 2)
    angle = np.arctan2((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum(), (a * b).sum())
    c, s = np.cos(angle), np.sin(angle)
    turned = points.copy()
    turned[..., 0], turned[..., 1] = c * points[..., 0] - s * points[..., 1], s * points[..., 0] + c * points[..., 1]
    return turned


def rollout_metrics(rollout: Rollout, truth: Reference, seconds_scale: float) -> dict[str, Any]:
    """The benchmark's numbers for one rollout against the mocap truth (same body)."""
    hm = build_model(rollout.body)
    kin = Kinematics(hm)
    sim = kin.run(rollout.qpos)
    ids = hm.keypoint_site_ids
    times = rollout.times - rollout.dt  # the reference frame each step was driven towards
    true_q = resample_qpos(truth.qpos, truth.fps, times + rollout.dt)
    true_sites = kin.sites(true_q, ids[list(BODY_LANDMARKS)])
    sim_sites = sim.site_xpos[:, ids[list(BODY_LANDMARKS)]]
    centred = lambda p: p - p.mean(axis=1, keepdims=True)  # noqa: E731
    mpjpe = np.linalg.norm(same_heading(centred(sim_sites), centred(true_sites)) - centred(true_sites), axis=-1).mean()
    feet = sim.site_xpos[:, ids[_FEET]]  # (T, 4, 3): left heel/toe, right heel/toe
    speed = np.linalg.norm(np.diff(feet[..., :2], axis=0), axis=-1) / rollout.dt  # (T-1, 4)
    planted = speed.reshape(-1, 2, 2).min(axis=2)  # per foot, its slower end (heel or toe) is the one on the ground
    contact = rollout.foot_contact[1:].copy()
    restarts = np.searchsorted(rollout.times, rollout.restart_times, side="right")
    contact[np.clip(restarts - 1, 0, len(contact) - 1)] = False  # a restart teleports: not a foot sliding
    skate = float(planted[contact].mean()) if contact.any() else 0.0
    rf = rollout.residual_force_bw
    return {
        "seconds": round(rollout.duration, 2),
        "restarts_per_10s": len(rollout.restart_times) * seconds_scale,
        "fell": bool(rollout.fell),
        "mpjpe_mm": float(mpjpe * 1000),
        "residual_force_pct_bw": float(rf.mean() * 100) if rf is not None else 0.0,
        "ground_penetration_mm": float(np.clip(-sim.soles, 0, None).mean() * 1000),
        "foot_skate_cm_s": skate * 100,
    }


def _run(policy, reference: Reference, truth: Reference, rf_on: bool) -> dict[str, Any]:
    overrides = {"reference": reference, "body": reference.body.to_dict(), "randomize_body": False,
                 "max_episode_seconds": SECONDS + 1, "reference_state_init": False,
                 "record_physics": True}  # fmt: skip  (a policy trained without it is measured with it)
    if not rf_on:
        overrides["residual_force_scale"] = 0.0
    env = policy.make_env(**overrides)
    seconds = min(SECONDS, reference.duration - 0.2)
    rollout = run_policy(env, policy, seconds, seed=0, restart_on_fall=True)
    env.close()
    return rollout_metrics(rollout, truth, SECONDS / max(rollout.duration, 1e-6))


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over rollouts, plus the share with at most 1 restart per 10 s and the fall count."""
    keys = ("restarts_per_10s", "mpjpe_mm", "residual_force_pct_bw", "ground_penetration_mm", "foot_skate_cm_s")
    out = {k: round(float(np.mean([r[k] for r in rows])), 2) for k in keys}
    out["rollouts"] = len(rows)
    out["falls"] = int(sum(r["fell"] for r in rows))
    out["share_le_1_restart_per_10s"] = round(float(np.mean([r["restarts_per_10s"] <= 1.0 for r in rows])), 3)
    return out


def markdown_table(paths: list[Path]) -> str:
    """The groups of saved results (one row per group and result file) as a Markdown table."""
    lines = [
        "| group | policy (samples) | rollouts | falls | restarts / 10 s | share <= 1 / 10 s | MPJPE mm | RF % BW "
        "| penetration mm | skate cm/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    records = [json.loads(Path(p).read_text()) for p in paths]
    for group in records[0]["groups"]:
        for rec in records:
            g = rec["groups"].get(group)
            if g is None:
                continue
            lines.append(
                f"| {group} | {rec['label']} ({rec['samples'] / 1e6:.2f} M) | {g['rollouts']} | {g['falls']} "
                f"| {g['restarts_per_10s']:.1f} | {g['share_le_1_restart_per_10s']:.2f} | {g['mpjpe_mm']:.0f} "
                f"| {g['residual_force_pct_bw']:.1f} | {g['ground_penetration_mm']:.1f} | {g['foot_skate_cm_s']:.0f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, default=SHIPPED)
    parser.add_argument("--label", default="shipped")
    parser.add_argument("--cmu-dir", type=Path, default=DEFAULT_CMU_DIR)
    parser.add_argument("--clips", help="comma-separated trial names, e.g. 16_35,39_13 (default: all held-out clips)")
    parser.add_argument("--all-bodies", action="store_true", help="every clip on every body (3x the rollouts)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare", type=Path, nargs="+", help="print saved results as a Markdown table and exit")
    args = parser.parse_args(argv)
    if args.compare:
        print(markdown_table(args.compare))
        return {}
    policy = load_policy(args.ckpt)
    clips = HELDOUT_CLIPS
    if args.clips:
        wanted = args.clips.split(",")
        clips = tuple(c for c in HELDOUT_CLIPS if Path(c.amc).stem in wanted)
        if len(clips) != len(wanted):
            parser.error(f"--clips {args.clips}: held-out clips are {[Path(c.amc).stem for c in HELDOUT_CLIPS]}")
    rng = np.random.default_rng(args.seed)
    rows: list[dict[str, Any]] = []
    tic = time.perf_counter()
    names = list(BODIES)
    for i, spec in enumerate(clips):
        amc, asf = spec.paths(args.cmu_dir)
        for body_name in names if args.all_bodies else [names[i % len(names)]]:
            body = BODIES[body_name]
            truth = _truth(amc, asf, body)
            cases = [("clean", truth, truth)]
            for shot_name, shot in SHOTS.items():
                lifted, cut = lifted_reference(truth, rng, shot, jitter_px=3.0)
                cases.append((f"lifted {shot_name}", lifted, cut))
            for condition, ref, true in cases:
                for rf_on in (True, False) if condition == "clean" else (True,):
                    row = {"clip": amc.name, "gait": spec.gait, "body": body_name, "condition": condition,
                           "residual_force": rf_on, **_run(policy, ref, true, rf_on)}  # fmt: skip
                    rows.append(row)
                    print(
                        f"{row['clip']:<10}{body_name:<8}{condition:<24}{'RF' if rf_on else 'noRF':<5}"
                        f"restarts/10s {row['restarts_per_10s']:5.1f}  MPJPE {row['mpjpe_mm']:6.1f} mm  "
                        f"RF {row['residual_force_pct_bw']:5.1f} %BW  pen {row['ground_penetration_mm']:4.1f} mm  "
                        f"skate {row['foot_skate_cm_s']:5.1f} cm/s",
                        flush=True,
                    )
    groups: dict[str, dict[str, Any]] = {}
    for cond in ("clean", "lifted"):
        for gait in ("run", "walk"):
            for rf_on in (True, False):
                sel = [r for r in rows if r["condition"].startswith(cond) and r["gait"] == gait and r["residual_force"] == rf_on]
                if sel:
                    groups[f"{cond} {gait} {'RF on' if rf_on else 'RF off'}"] = summarise(sel)
    print(f"\n{args.label}: {args.ckpt} ({policy.meta.get('num_timesteps')} samples)")
    header = f"{'group':<24}{'n':>4}{'falls':>6}{'restarts/10s':>13}{'<=1/10s':>8}{'MPJPE mm':>9}{'RF %BW':>8}{'pen mm':>7}{'skate':>7}"
    print(header + "\n" + "-" * len(header))
    for name, g in groups.items():
        print(
            f"{name:<24}{g['rollouts']:>4}{g['falls']:>6}{g['restarts_per_10s']:>13.2f}{g['share_le_1_restart_per_10s']:>8.2f}"
            f"{g['mpjpe_mm']:>9.1f}{g['residual_force_pct_bw']:>8.1f}{g['ground_penetration_mm']:>7.1f}{g['foot_skate_cm_s']:>7.1f}"
        )
    record = {
        "label": args.label,
        "checkpoint": str(args.ckpt),
        "samples": policy.meta.get("num_timesteps"),
        "clips": [c.amc for c in clips],
        "bodies": {k: v.to_dict() for k, v in BODIES.items()},
        "shots": {k: v.to_dict() for k, v in SHOTS.items()},
        "groups": groups,
        "rollouts": rows,
        "runtime_s": round(time.perf_counter() - tic, 1),
    }
    out = RESULTS / f"tracking_{args.label}.json"
    write_json(out, record)
    print(f"saved -> {out}")
    return record


if __name__ == "__main__":
    main()
