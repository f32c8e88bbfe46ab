"""A static camera's pitch found from the footage (:mod:`motionlab.ground_plane`): the lifted ground's slope
alone (the old decision) against the one decision with the person's image size, on projected mocap whose
detections jitter in size, and on the real ``vtest.avi`` walker.

    python benchmarks/bench_pitch.py [--seeds 3]
    python benchmarks/bench_pitch.py --before main --label vtest_floor   # main's code, then this one

``--before REF`` measures the code of git revision ``REF`` first (its ``motionlab`` and ``assets`` taken with
``git archive`` and run in a subprocess, same script, same load), then this checkout, and writes both to
``benchmarks/results/pitch_LABEL.json``. The vtest part (``--part vtest`` or ``all``) also lifts the first 6 and
12 s as the main job does and runs the main job itself for ``--seconds 6`` (Closest restarts, MPJPE; its MP4,
JSON and PNG kept under ``--keep`` when given).

Projected: the held-out CMU walk 39_13 (6 cycles, ~6 s) coming diagonally towards a static camera
(azimuth 60 deg, 12 m away, 65 deg field of view) looking 10 / 20 / 30 deg down; each frame's 2D keypoints
scaled about the feet by 1 + N(0, jitter) (a detector's size noise on a small person). Per case: the pitch
the ground's slope gives and whether it was conclusive (what was used before), the pitch the person's
size gives (iterated, and read with the level camera's formula), the pitch decided and used, and the
lifted root's height range. Real: ``vtest.avi``'s 74 px walker (box 380,170,340,230), first 6 and 12 s.
Prints a table and writes ``benchmarks/results/pitch.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from older_code import source_at

from motionlab.body import BodyParams
from motionlab.footage import MAX_PITCH_DEG, lift_footage, messages
from motionlab.ground_plane import _FEET, MIN_CORRECTION_DEG, fit_horizon, stance_soles
from motionlab.mocap import mocap_reference
from motionlab.mocap_lifted import Shot, project_shot
from motionlab.mocap_split import HELDOUT_CLIPS
from motionlab.reference import Reference

DATA = Path(os.environ.get("MOTIONLAB_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")
RESULTS = Path(__file__).resolve().parent / "results" / "pitch.json"
BODY = BodyParams(height=1.75, mass=70.0).resolved()
VTEST_ROI = (380, 170, 340, 230)  # the README's main job on vtest.avi


def jittered(seen: Reference, jitter: float, seed: int) -> Reference:
    """``seen`` with each frame's keypoints scaled about the feet by 1 + N(0, ``jitter``)."""
    keypoints = seen.keypoints2d.copy()
    feet = keypoints[:, _FEET, :2].mean(axis=1, keepdims=True)
    scale = 1 + np.random.default_rng(seed).normal(0, jitter, (len(keypoints), 1, 1))
    keypoints[..., :2] = feet + (keypoints[..., :2] - feet) * scale
    return dataclasses.replace(seen, keypoints2d=keypoints)


def judged(ref: Reference, video: Path | None = None) -> dict[str, Any]:
    """The lift's pitch evidence and decision for ``ref``, what the ground's slope alone decided, and how
    the lifted body stands: its root's height range and its stance soles' spread (10th-90th percentile, m)."""
    lifted, report = lift_footage(ref, BODY, video)
    stance = stance_soles(lifted)
    note = report.notes["ground_plane"]
    ground, before = note["ground"], note["pitch_before_deg"]
    from_ground = before - ground["slope_deg"]
    ground_used = ground["conclusive"] and abs(ground["slope_deg"]) >= MIN_CORRECTION_DEG
    ground_used = ground_used and abs(from_ground) <= MAX_PITCH_DEG
    return {
        "ground_pitch_deg": round(from_ground, 2), "ground_se_deg": ground["slope_se_deg"],
        "ground_only_pitch_deg": round(from_ground if ground_used else before, 2),
        "size_pitch_deg": note["horizon"]["pitch_deg"], "size_se_deg": note["horizon"]["pitch_se_deg"],
        "size_change": note["horizon"]["size_change"], "source": note["source"], "used": note["used"],
        "pitch_deg": note["pitch_deg"], "root_z_range_m": round(float(np.ptp(lifted.qpos[:, 2])), 2),
        "stance_spread_m": round(float(np.subtract(*np.percentile(stance, [90, 10]))), 3),
        "stance_range_m": round(float(np.ptp(stance)), 3), "camera_height_m": round(report.camera.position[2], 2),
        "feet_fit": note.get("feet"), "reason": note["reason"], "uncertain_said": any(
            "uncertain" in m and ("pitch" in m or "floor" in m) for m in messages(report)
        ),
    }  # fmt: skip


def projected(seeds: int) -> dict[str, Any]:
    """The held-out CMU walk through cameras 10/20/30 deg down, detections jittered in size."""
    spec = next(c for c in HELDOUT_CLIPS if c.amc.endswith("39_13.amc"))
    amc, asf = spec.paths(DATA / "mocap" / "cmu")
    truth = mocap_reference(amc, BODY, cycles=6, asf=asf)
    cases = []
    for pitch_down in (10.0, 20.0, 30.0):
        shot = Shot("static", azimuth_deg=60.0, pitch_deg=pitch_down, fov_deg=65.0, distance_m=12.0)
        seen = project_shot(truth, shot)
        level_formula = fit_horizon(seen, shot.focal_px, iterations=1).pitch_deg
        for jitter in (0.0, 0.06, 0.12):
            for seed in range(seeds if jitter else 1):
                case = {"true_pitch_deg": -pitch_down, "size_jitter": jitter, "seed": seed}
                case |= judged(jittered(seen, jitter, seed))
                case["level_formula_pitch_deg"] = round(level_formula, 2)  # exact keypoints
                case["true_root_z_range_m"] = round(float(np.ptp(truth.qpos[:, 2])), 2)
                cases.append(case)
                print(
                    f"{-pitch_down:6.1f} jitter {jitter:.2f} seed {seed}: ground {case['ground_pitch_deg']:+6.1f} "
                    f"+-{case['ground_se_deg']:.1f} (alone: {case['ground_only_pitch_deg']:+6.1f}) | size "
                    f"{case['size_pitch_deg']:+6.1f} +-{case['size_se_deg']:.1f} | used {case['pitch_deg']:+6.1f} "
                    f"({case['source'] or 'none'}) | root z range {case['root_z_range_m']:.2f} m, stance spread "
                    f"{case['stance_spread_m']:.3f} m"
                )  # fmt: skip

    def errors(key: str) -> dict[str, float]:
        noisy = [c for c in cases if c["size_jitter"] > 0]
        wrong = [abs(c[key] - c["true_pitch_deg"]) for c in noisy]
        return {"median_error_deg": round(float(np.median(wrong)), 2), "max_error_deg": round(max(wrong), 2),
                "within_2_deg": sum(w <= 2.0 for w in wrong), "cases": len(noisy)}  # fmt: skip

    def median(key: str) -> float:
        return round(float(np.median([c[key] for c in cases])), 3)

    summary = {
        "ground_only": errors("ground_only_pitch_deg"), "decided": errors("pitch_deg"),
        "median_root_z_range_m": median("root_z_range_m"), "median_stance_spread_m": median("stance_spread_m"),
    }  # fmt: skip
    print("jittered cases, pitch used:", summary)
    return {"summary_jittered": summary, "projected": cases}


def vtest(keep: Path | None) -> dict[str, Any]:
    """vtest.avi's walker lifted over its first 6 and 12 s, and the main job on it for 6 s."""
    from motionlab.inference.pipeline import InferenceConfig, run_inference
    from motionlab.video.pose import extract_keypoints

    video = DATA / "media" / "vtest.avi"
    real = []
    for seconds in (6, 12):
        keypoints, _ = extract_keypoints(video, VTEST_ROI, max_seconds=seconds)
        real.append({"video": "vtest.avi", "seconds": seconds, **judged(keypoints, video)})
        print(f"vtest.avi {seconds} s: {real[-1]}")
    with tempfile.TemporaryDirectory() as tmp:
        out = (keep or Path(tmp)) / "vtest_6s.mp4"
        out.parent.mkdir(parents=True, exist_ok=True)
        report = run_inference(InferenceConfig(out=out, video=video, roi=VTEST_ROI, seconds=6.0))
    job = {
        "seconds": report["extra"]["seconds"], "closest_restarts": report["extra"]["closest"]["restarts"],
        "closest_restart_times_s": report["extra"]["closest"]["restart_times_s"],
        "ideal_restarts": report["extra"]["ideal"]["restarts"],
        "tracking_error_mm": round(report["closest"]["tracking_error"]["value"], 1), "verdict": report.get("verdict"),
        "lift_pitch_deg": ((report["extra"].get("lift") or {}).get("ground_plane") or {}).get("pitch_deg"),
    }  # fmt: skip
    print(f"main job on vtest.avi, 6 s: {job}")
    return {"real": real, "main_job": job}


def measure(part: str, seeds: int, keep: Path | None) -> dict[str, Any]:
    """The parts asked for, with the load and CPU time they took."""
    started = time.process_time()
    out: dict[str, Any] = {}
    if part in ("projected", "all"):
        out |= projected(seeds)
    if part in ("vtest", "all") and (DATA / "media" / "vtest.avi").exists():
        out |= vtest(keep)
    return {"load": os.getloadavg(), "cpu_s": round(time.process_time() - started, 1), **out}


def before(revision: str, part: str, seeds: int, keep: Path | None) -> dict[str, Any]:
    """:func:`measure` on the code of git ``revision`` (its motionlab and assets), in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        source_at(revision, Path(tmp), ("motionlab", "assets"))
        result = Path(tmp) / "before.json"
        command = [sys.executable, __file__, "--part", part, "--seeds", str(seeds), "--json-out", str(result)]
        if keep is not None:
            command += ["--keep", str(keep / "before")]
        subprocess.run(command, env={**os.environ, "PYTHONPATH": tmp}, check=True)
        return json.loads(result.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--part", choices=("all", "projected", "vtest"), default="all")
    parser.add_argument("--before", default=None, help="git revision measured first (e.g. main)")
    parser.add_argument("--label", default=None, help="save to pitch_<label>.json")
    parser.add_argument("--keep", type=Path, default=None, help="keep the main job's MP4/JSON/PNG here")
    parser.add_argument("--json-out", type=Path, default=None, help=argparse.SUPPRESS)  # --before's subprocess
    args = parser.parse_args()
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(measure(args.part, args.seeds, args.keep)))
        return
    results: dict[str, Any] = {"script": "benchmarks/bench_pitch.py", "part": args.part}
    if args.before is not None:
        results["before"] = {"revision": args.before, **before(args.before, args.part, args.seeds, args.keep)}
        results["after"] = measure(args.part, args.seeds, None if args.keep is None else args.keep / "after")
    else:
        results |= measure(args.part, args.seeds, args.keep)
    path = RESULTS if args.label is None else RESULTS.with_name(f"pitch_{args.label}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
