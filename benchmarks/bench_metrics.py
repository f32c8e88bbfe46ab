"""Accuracy of the report's gait metrics: You (the lifted kinematics) and Closest (the tracking policy on
it) against the ground truth of real motion capture.

    python benchmarks/bench_metrics.py [--seconds 6] [--cases clean,noise3px,oblique45]

Ground truth: the real run clip (DeepMimic's mocap, made periodic) on a 1.75 m / 70 kg body, its metrics
computed by the same code on the true ``qpos`` (contact from the true foot heights). Each case projects
it to 2D keypoints through a known camera (side-on 6 m away following the runner, or 45 deg oblique),
optionally with 3 px noise, lifts them (``lift_reference``), runs the bundled tracking policy on the
lifted motion (as the main job does) and compares, per metric, You and Closest with the truth. This
uses projected keypoints, not rendered video through MediaPipe: the rendered-video generator of the
camera stream had not landed when this was written, so MediaPipe's own error is not included here.

Targets (issue #12): cadence +-2 spm, contact time +-20 ms, vertical oscillation +-1.5 cm, knee flexion at
contact +-5 deg, trunk lean +-3 deg, overstride +-3 cm. Writes ``benchmarks/results/metrics.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
from pathlib import Path

import numpy as np

from motionlab.assets import RUN_CLIP
from motionlab.body import BodyParams
from motionlab.camera import Camera
from motionlab.inference.metrics import GaitInput, gait_metrics, rollout_input
from motionlab.inference.pipeline import DEFAULT_TRACK_CKPT, _simulate
from motionlab.io_utils import write_json
from motionlab.lift import lift_reference
from motionlab.mocap import mocap_reference
from motionlab.policy_io import load_policy
from motionlab.reference import Reference

RESULTS = Path(__file__).parent / "results" / "metrics.json"
TARGETS = {
    "cadence": 2.0, "contact_time_left": 20.0, "contact_time_right": 20.0, "flight_time": 20.0,
    "vertical_oscillation": 1.5, "knee_flexion_contact": 5.0, "trunk_lean": 3.0, "overstride": 3.0,
}  # fmt: skip


def cases(seconds: float, body: BodyParams, rng: np.random.Generator) -> dict[str, Reference]:
    base = mocap_reference(RUN_CLIP, body, cycles=1, fps=30.0)
    cycles = int(np.ceil(seconds / base.source["stride_period_s"]))
    side = mocap_reference(RUN_CLIP, body, cycles=cycles, fps=30.0)
    noisy = dataclasses.replace(side, keypoints2d=side.keypoints2d.copy())
    noisy.keypoints2d[..., :2] += rng.normal(0.0, 3.0, noisy.keypoints2d[..., :2].shape) / np.asarray(side.image_size)
    oblique = mocap_reference(RUN_CLIP, body, cycles=cycles, fps=30.0, camera=Camera.side_on(azimuth_deg=45.0))
    return {"clean": side, "noise3px": noisy, "oblique45": oblique}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--cases", default="clean,noise3px,oblique45")
    args = parser.parse_args()
    body = BodyParams(height=1.75, mass=70.0).resolved()
    policy = load_policy(DEFAULT_TRACK_CKPT)
    results = {"machine": platform.processor() or platform.machine(), "seconds": args.seconds, "targets": TARGETS,
               "input": "mocap projected to 2D through a known camera (not rendered video)", "cases": {}}  # fmt: skip
    for name, truth in cases(args.seconds, body, np.random.default_rng(0)).items():
        if name not in args.cases.split(","):
            continue
        n = len(truth.qpos)
        times = np.arange(n) / truth.fps
        true_m = gait_metrics(GaitInput(times, truth.qpos, body, np.ones(n, bool)))
        lifted, report = lift_reference(dataclasses.replace(truth, qpos=None, body=None), body)
        you_m = gait_metrics(GaitInput(times, lifted.qpos, body, np.ones(n, bool)))
        seconds = min(args.seconds, lifted.duration)
        run = _simulate(policy, "MotionLab/Track-v0", seconds, 0, reference=lifted, body=body, reference_state_init=False)
        closest_m = gait_metrics(rollout_input(run))
        rows = {}
        for metric, tol in TARGETS.items():
            t, y, c = (m[metric]["value"] for m in (true_m, you_m, closest_m))
            rows[metric] = {
                "truth": t, "you": y, "closest": c, "target_abs_error": tol,
                "you_error": None if t is None or y is None else round(y - t, 3),
                "closest_error": None if t is None or c is None else round(c - t, 3),
            }  # fmt: skip
        results["cases"][name] = {
            "lift_reprojection_px": round(report.mean_reprojection_px, 2),
            "closest_restarts": len(run.restart_times),
            "metrics": rows,
        }
        print(f"\n{name}: lift {report.mean_reprojection_px:.2f} px, Closest restarts {len(run.restart_times)}")
        print(f"  {'metric':<22}{'truth':>9}{'You':>9}{'err':>8}{'Closest':>9}{'err':>8}{'target':>8}")
        for metric, r in rows.items():
            cells = [r["truth"], r["you"], r["you_error"], r["closest"], r["closest_error"]]
            text = "".join(f"{'--' if v is None else f'{v:.1f}':>{w}}" for v, w in zip(cells, (9, 9, 8, 9, 8)))
            print(f"  {metric:<22}{text}{r['target_abs_error']:>8g}")
    write_json(RESULTS, results)
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
