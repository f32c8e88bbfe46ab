"""Round trip of the 2D -> qpos lift on the real running clip, against mocap ground truth.

Usage::

    python benchmarks/bench_lift.py                   # 2 stride cycles (1.6 s, 49 frames), default body
    python benchmarks/bench_lift.py --cycles 4 --height 1.62 --mass 55

``mocap_reference(RUN_CLIP, body, cycles)`` gives ground-truth qpos plus its 2D keypoints and world
landmarks through a known camera (side-on, 6 m, following the runner). The qpos is dropped, the
keypoints are lifted, and the 12 body landmarks of the lifted motion are compared with the mocap's:

* MPJPE: mean distance with both skeletons' hip midpoints aligned (mm);
* PA-MPJPE: after a per-frame similarity (Procrustes) alignment (mm);
* root: mean root position error in the world (mm; only where the camera is known);
* reprojection: mean pixel error of the lifted body landmarks against the keypoints.

Cases: (a) clean keypoints, (b) 3 px Gaussian noise on the 2D keypoints, (c) an oblique camera
(45 deg towards the front), (d) unknown camera (estimated: phone field of view, static), and two
informative extras without a target: (e) 2D only (world landmarks dropped), (f) 3 px noise plus 5 cm
noise on the world landmarks (closer to MediaPipe's). Targets on (a): PA-MPJPE <= 40 mm, MPJPE <= 60 mm.
Lift runtime is also measured on a 10 s clip. Prints a table and writes ``benchmarks/results/lift.json``
atomically.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from motionlab.assets import RUN_CLIP
from motionlab.body import BodyParams
from motionlab.camera import Camera
from motionlab.humanoid import build_model
from motionlab.io_utils import write_json
from motionlab.lift import joint_position_errors, lift_reference
from motionlab.mocap import mocap_reference
from motionlab.reference import Reference

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "lift.json"
TARGETS_MM = {"pa_mpjpe_mm": 40.0, "mpjpe_mm": 60.0}
RUNTIME_CLIP_S = 10.0


def _cases(truth: Reference, body: BodyParams, cycles: int, rng: np.random.Generator) -> dict[str, Reference]:
    size = np.asarray(truth.image_size, dtype=np.float32)
    noisy = truth.keypoints2d.copy()
    noisy[..., :2] += rng.normal(0.0, 3.0, noisy[..., :2].shape) / size
    world_noise = rng.normal(0.0, 0.05, truth.world_keypoints.shape)
    oblique_cam = Camera.side_on(speed=truth.source["speed_mps"], azimuth_deg=45.0)
    unknown = {k: v for k, v in truth.source.items() if k != "camera"}
    return {
        "(a) clean": truth,
        "(b) 3 px noise": dataclasses.replace(truth, keypoints2d=noisy),
        "(c) oblique camera 45 deg": mocap_reference(RUN_CLIP, body, cycles=cycles, camera=oblique_cam),
        "(d) unknown camera": dataclasses.replace(truth, source=unknown),
        "(e) 2D only": dataclasses.replace(truth, world_keypoints=None),
        "(f) 3 px + 5 cm 3D noise": dataclasses.replace(
            truth, keypoints2d=noisy, world_keypoints=truth.world_keypoints + world_noise
        ),
    }


def _evaluate(case: Reference, body: BodyParams) -> dict[str, Any]:
    keypoints_only = dataclasses.replace(case, qpos=None, body=None)
    lifted, report = lift_reference(keypoints_only, body=body)
    mpjpe, pa = joint_position_errors(build_model(body), case.qpos, lifted.qpos)
    known = report.camera_source != "estimated"
    root = np.linalg.norm(lifted.qpos[:, :3] - case.qpos[:, :3], axis=1).mean() if known else None
    return {
        "frames": case.num_frames,
        "mpjpe_mm": round(float(mpjpe.mean()) * 1000, 1),
        "pa_mpjpe_mm": round(float(pa.mean()) * 1000, 1),
        "root_mm": None if root is None else round(float(root) * 1000, 1),
        "reprojection_px": round(report.mean_reprojection_px, 2),
        "camera_source": report.camera_source,
        "runtime_s": round(report.runtime_s, 3),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=2, help="stride cycles of the round-trip clip (0.8 s each)")
    parser.add_argument("--height", type=float, default=1.75)
    parser.add_argument("--mass", type=float, default=70.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)

    body = BodyParams(height=args.height, mass=args.mass).resolved()
    truth = mocap_reference(RUN_CLIP, body, cycles=args.cycles)
    cases = _cases(truth, body, args.cycles, np.random.default_rng(args.seed))
    rows = {name: _evaluate(case, body) for name, case in cases.items()}

    long_cycles = int(np.ceil(RUNTIME_CLIP_S / truth.source["stride_period_s"]))
    long = dataclasses.replace(mocap_reference(RUN_CLIP, body, cycles=long_cycles), qpos=None, body=None)
    tic = time.perf_counter()
    lift_reference(long, body=body)
    lift_s = round(time.perf_counter() - tic, 2)
    runtime = {"clip_s": round(long.duration, 2), "frames": long.num_frames, "lift_s": lift_s}

    header = (
        f"{'case':<28}{'MPJPE mm':>10}{'PA-MPJPE mm':>13}{'root mm':>9}{'reproj px':>11}{'camera':>11}{'time s':>8}"
    )
    print(f"\nLift round trip: {RUN_CLIP.name}, {args.cycles} cycles ({truth.num_frames} frames), body {body.height} m")
    print(header)
    print("-" * len(header))
    for name, r in rows.items():
        root = "-" if r["root_mm"] is None else f"{r['root_mm']:.1f}"
        print(
            f"{name:<28}{r['mpjpe_mm']:>10.1f}{r['pa_mpjpe_mm']:>13.1f}{root:>9}{r['reprojection_px']:>11.2f}"
            f"{r['camera_source']:>11}{r['runtime_s']:>8.2f}"
        )
    clean = rows["(a) clean"]
    passed = all(clean[k] <= v for k, v in TARGETS_MM.items())
    print(
        f"\nclean targets (PA-MPJPE <= {TARGETS_MM['pa_mpjpe_mm']:.0f} mm, MPJPE <= {TARGETS_MM['mpjpe_mm']:.0f} mm): "
        f"{'OK' if passed else 'MISSED'}"
    )
    print(f"runtime: {runtime['clip_s']} s clip ({runtime['frames']} frames) lifted in {runtime['lift_s']} s")

    record = {
        "config": {"clip": RUN_CLIP.name, "cycles": args.cycles, "body": body.to_dict(), "seed": args.seed},
        "cases": rows,
        "targets_clean_mm": TARGETS_MM,
        "clean_targets_met": passed,
        "runtime_10s_clip": runtime,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpu_count": os.cpu_count()},
    }
    write_json(args.out, record)
    print(f"saved -> {args.out}")
    return record


if __name__ == "__main__":
    main()
