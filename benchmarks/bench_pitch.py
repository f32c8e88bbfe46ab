"""A static camera's pitch found from the footage (:mod:`motionlab.ground_plane`): the lifted ground's slope
alone (the old decision) against the one decision with the person's image size, on projected mocap whose
detections jitter in size, and on the real ``vtest.avi`` walker.

    python benchmarks/bench_pitch.py [--seeds 3]

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
import time
from pathlib import Path
from typing import Any

import numpy as np

from motionlab.body import BodyParams
from motionlab.footage import MAX_PITCH_DEG, lift_footage
from motionlab.ground_plane import _FEET, MIN_CORRECTION_DEG, fit_horizon
from motionlab.mocap import mocap_reference
from motionlab.mocap_lifted import Shot, project_shot
from motionlab.mocap_split import HELDOUT_CLIPS
from motionlab.reference import Reference

DATA = Path(os.environ.get("MOTIONLAB_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")
RESULTS = Path(__file__).resolve().parent / "results" / "pitch.json"
BODY = BodyParams(height=1.75, mass=70.0).resolved()


def jittered(seen: Reference, jitter: float, seed: int) -> Reference:
    """``seen`` with each frame's keypoints scaled about the feet by 1 + N(0, ``jitter``)."""
    keypoints = seen.keypoints2d.copy()
    feet = keypoints[:, _FEET, :2].mean(axis=1, keepdims=True)
    scale = 1 + np.random.default_rng(seed).normal(0, jitter, (len(keypoints), 1, 1))
    keypoints[..., :2] = feet + (keypoints[..., :2] - feet) * scale
    return dataclasses.replace(seen, keypoints2d=keypoints)


def judged(ref: Reference, video: Path | None = None) -> dict[str, Any]:
    """The lift's pitch evidence and decision for ``ref``, and what the ground's slope alone decided."""
    lifted, report = lift_footage(ref, BODY, video)
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
        "reason": note["reason"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    started = time.process_time()
    spec = next(c for c in HELDOUT_CLIPS if c.amc.endswith("39_13.amc"))
    amc, asf = spec.paths(DATA / "mocap" / "cmu")
    truth = mocap_reference(amc, BODY, cycles=6, asf=asf)
    cases = []
    for pitch_down in (10.0, 20.0, 30.0):
        shot = Shot("static", azimuth_deg=60.0, pitch_deg=pitch_down, fov_deg=65.0, distance_m=12.0)
        seen = project_shot(truth, shot)
        level_formula = fit_horizon(seen, shot.focal_px, iterations=1).pitch_deg
        for jitter in (0.0, 0.06, 0.12):
            for seed in range(args.seeds if jitter else 1):
                case = {"true_pitch_deg": -pitch_down, "size_jitter": jitter, "seed": seed}
                case |= judged(jittered(seen, jitter, seed))
                case["level_formula_pitch_deg"] = round(level_formula, 2)  # exact keypoints
                cases.append(case)
                print(
                    f"{-pitch_down:6.1f} jitter {jitter:.2f} seed {seed}: ground {case['ground_pitch_deg']:+6.1f} "
                    f"+-{case['ground_se_deg']:.1f} (alone: {case['ground_only_pitch_deg']:+6.1f}) | size "
                    f"{case['size_pitch_deg']:+6.1f} +-{case['size_se_deg']:.1f} | used {case['pitch_deg']:+6.1f} "
                    f"({case['source'] or 'none'}) | root z range {case['root_z_range_m']:.2f} m"
                )  # fmt: skip
    real = []
    video = DATA / "media" / "vtest.avi"
    if video.exists():
        from motionlab.video.pose import extract_keypoints

        for seconds in (6, 12):
            keypoints, _ = extract_keypoints(video, (380, 170, 340, 230), max_seconds=seconds)
            real.append({"video": "vtest.avi", "seconds": seconds, **judged(keypoints, video)})
            print(f"vtest.avi {seconds} s: {real[-1]}")

    def errors(key: str) -> dict[str, float]:
        noisy = [c for c in cases if c["size_jitter"] > 0]
        wrong = [abs(c[key] - c["true_pitch_deg"]) for c in noisy]
        return {"median_error_deg": round(float(np.median(wrong)), 2), "max_error_deg": round(max(wrong), 2),
                "within_2_deg": sum(w <= 2.0 for w in wrong), "cases": len(noisy)}  # fmt: skip

    summary = {"ground_only": errors("ground_only_pitch_deg"), "decided": errors("pitch_deg")}
    print("jittered cases, pitch used:", summary)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "script": "benchmarks/bench_pitch.py", "load": os.getloadavg(), "cpu_s": round(time.process_time() - started, 1),
        "summary_jittered": summary, "projected": cases, "real": real,
    }, indent=1))  # fmt: skip
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
