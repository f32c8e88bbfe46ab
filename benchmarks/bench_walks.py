"""Walkers through the video path: real CMU walks (0.9-1.7 m/s) rendered, seen by MediaPipe, lifted by
:func:`motionlab.footage.lift_footage` and measured by the report's own metrics, against the truth.

    python benchmarks/bench_walks.py [--seconds 5] [--walks walk_07_01_follow,...] [--videos-dir DIR]
        [--before main --out benchmarks/results/lift_walks_swaps.json]

Each walk is one of :mod:`motionlab.synthetic`'s shots (following, static or panning camera, side-on)
lengthened to ``--seconds`` so that the You column has enough full strides. Per walk: what the lift
decided (camera motion, gait class, time base, treadmill, facing relabel), its errors
(:func:`motionlab.synthetic.score_lift`: speed, facing, floor, PA-MPJPE), the speed's own confidence,
and the You metrics (:func:`motionlab.inference.metrics.gait_metrics` on the lifted motion, contact from
the foot heights) against the same metrics of the true motion: cadence, speed, step length, duty factor,
contact times, vertical oscillation, knee flexion at contact and trunk lean (an earlier run's
``true_motion_by_ankle_height``, the contact rule of the time fed the ankles' heights, is gone: the rule
now needs the feet's velocities). Prints a table and writes
``benchmarks/results/lift_walks.json``. No targets of its own: issue #11 asks what is off for walkers.
``--before REV``: MediaPipe's keypoints are kept with its own labels and relabelled by this code's swap
repair and by git revision ``REV``'s (``before`` in each walk), each then smoothed as extraction does:
the repair's effect from one run of MediaPipe, with the frames whose legs are swapped against the truth.
Each walk also gives its cadence, true and You's, by a wider "planted" leeway (``cadence_wider_leeway``,
``bench_metrics.WIDER_PLANTED_FRACTION``).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_metrics import WIDER_PLANTED_FRACTION, with_leeway
from bench_swaps import relabelled
from machine import machine
from older_code import commit_of, module_at

from motionlab.body import BodyParams
from motionlab.footage import lift_footage
from motionlab.humanoid import build_model
from motionlab.inference.metrics import (
    GaitInput,
    gait_metrics,
    speed_over_ground_confidence,
)
from motionlab.io_utils import write_json
from motionlab.motion import Kinematics
from motionlab.reference import Reference
from motionlab.synthetic import Setup, detected_test_video, legs_swapped, score_lift, videos_folder
from motionlab.video.swaps import fix_left_right_swaps

RESULTS = Path(__file__).resolve().parent / "results" / "lift_walks.json"
MOCAP_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap"
WALKS = {
    s.name: s
    for s in (
        Setup("walk_07_04_follow", camera="follow", clip="cmu/07/07_04.amc"),  # slow walk, 0.94 m/s in CMU's index
        Setup("walk_35_01_follow", camera="follow", clip="cmu/35/35_01.amc"),  # 1.29
        Setup("walk_07_01_follow", camera="follow", clip="cmu/07/07_01.amc"),  # 1.37
        Setup("walk_39_13_follow", camera="follow", clip="cmu/39/39_13.amc"),  # 1.50 (held-out subject)
        Setup("walk_07_11_follow", camera="follow", clip="cmu/07/07_11.amc"),  # 1.67
        Setup("walk_07_04_static", camera="static", distance=7.0, clip="cmu/07/07_04.amc"),
        Setup("walk_35_01_pan", camera="pan", distance=5.0, clip="cmu/35/35_01.amc"),
    )
}
METRICS = (
    "cadence", "speed", "step_length", "duty_factor", "contact_time_left", "contact_time_right",
    "vertical_oscillation", "knee_flexion_contact", "trunk_lean",
)  # fmt: skip


def _metrics(ref: Reference, valid: np.ndarray, speed_confidence=None, planted_fraction: float | None = None):
    """The report's gait metrics of ``ref``; with ``planted_fraction``, its contact by that "planted" leeway."""
    times = np.arange(ref.num_frames) / ref.fps
    g = GaitInput(times, ref.qpos, ref.body, valid, speed_confidence=speed_confidence)
    return gait_metrics(g if planted_fraction is None else with_leeway(g, planted_fraction))


def _swing_peak_cm(ref: Reference) -> float:
    """The median over both feet of the highest the lowest point of a foot gets (cm): what the metrics'
    kinematic contact compares with its lift-off height (:data:`motionlab.inference.metrics.LIFT_OFF_HEIGHT_M`)."""
    soles = Kinematics(build_model(ref.body)).run(ref.qpos).foot_soles
    return round(100 * float(np.median(soles.max(axis=0) - soles.min(axis=0))), 1)


def walk_row(truth: Reference, keypoints: Reference, video: Path, body: BodyParams) -> dict[str, Any]:
    lifted, report = lift_footage(keypoints, body, video)
    notes = report.notes
    scores = score_lift(truth, lifted)
    speed_conf = notes.get("speed_confidence")
    true_m = _metrics(truth, np.ones(truth.num_frames, bool))
    you = _metrics(lifted, lifted.qpos_observed, speed_over_ground_confidence(speed_conf))
    compared = {}
    for name in METRICS:
        t, y = true_m[name]["value"], you[name]["value"]
        compared[name] = {
            "true": None if t is None else round(t, 3),
            "you": None if y is None else round(y, 3),
            "error": None if t is None or y is None else round(y - t, 3),
            "you_status": you[name]["status"],
            "you_confidence": you[name]["confidence"]["level"],
            "you_reason": you[name]["reason"] or "; ".join(you[name]["confidence"]["notes"]) or None,
        }
    return {
        "speed_true_mps": round(scores["speed_true_mps"], 3),
        "speed_error_rel": round(scores["speed_error_rel"], 4),
        "facing_error_deg": round(scores["facing_error_deg"], 2),
        "facing_frame_error_deg": round(scores["facing_frame_error_deg"], 2),
        "floor_height_error_m": round(scores["floor_height_error_m"], 4),
        "pa_mpjpe_mm": round(scores["pa_mpjpe_mm"], 1),
        "camera_motion": notes.get("camera_motion", {}).get("kind"),
        "gait_class": notes.get("gait", {}).get("gait"),
        "knee_flexion_p90_deg": notes.get("gait", {}).get("knee_flexion_p90_deg"),
        "time_scale_found": notes.get("time_base", {}).get("scale"),
        "treadmill_found": bool(notes.get("treadmill", {}).get("detected")),
        "relabelled": bool(notes.get("facing", {}).get("relabelled")),
        "speed_confidence": None if speed_conf is None else speed_conf["level"],
        "speed_uncertainty_rel": None if speed_conf is None else speed_conf["uncertainty_rel"],
        "sole_swing_peak_true_cm": _swing_peak_cm(truth),
        "strides_you": you["cadence"]["n_strides"],
        "strides_true": true_m["cadence"]["n_strides"],
        "metrics": compared,
        "cadence_wider_leeway": {  # the truth's and You's by a "planted" leeway of WIDER_PLANTED_FRACTION
            "true": _metrics(truth, np.ones(truth.num_frames, bool), None, WIDER_PLANTED_FRACTION)["cadence"]["value"],
            "you": _metrics(lifted, lifted.qpos_observed, None, WIDER_PLANTED_FRACTION)["cadence"]["value"],
        },
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--walks", default=",".join(WALKS))
    parser.add_argument("--videos-dir", type=Path, default=None, help="keep rendered videos and keypoints here")
    parser.add_argument("--mocap-dir", type=Path, default=MOCAP_DIR)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--before", default=None, help="git revision whose swap repair is compared too")
    args = parser.parse_args(argv)
    body = BodyParams(height=1.75, mass=70.0).resolved()
    rows: dict[str, Any] = {}
    before = None
    if args.before:
        with tempfile.TemporaryDirectory() as older:
            before = module_at(args.before, "motionlab.video.swaps", Path(older)).fix_left_right_swaps
    with videos_folder(args.videos_dir) as folder:
        for name in args.walks.split(","):
            setup = dataclasses.replace(WALKS[name], seconds=args.seconds)
            video, truth, keypoints = detected_test_video(name, setup, folder, body, args.mocap_dir, raw=bool(before))
            if before is None:
                rows[name] = walk_row(truth, keypoints, video, body)
            else:
                px, valid = keypoints.keypoints_px(), keypoints.keypoints2d_valid
                for label, repair in (("after", fix_left_right_swaps), ("before", before)):
                    perms = repair(px, valid)[0]
                    row = walk_row(truth, relabelled(keypoints, perms), video, body)
                    seen = np.take_along_axis(px, perms[..., None], axis=1)
                    row["legs_swapped_frames"] = int(legs_swapped(truth.keypoints_px(), seen)[valid].sum())
                    rows[name] = row if label == "after" else {**rows[name], "before": row}
            print(f"{name}: done", flush=True)
    _print(rows)
    if before is not None:
        _print({name: r["before"] for name, r in rows.items()})
    record = {
        "config": {
            "body": body.to_dict(),
            "seconds": args.seconds,
            "walks": {n: WALKS[n].clip for n in rows},
            "before": None if not args.before else {"revision": args.before, "commit": commit_of(args.before)},
        },  # fmt: skip
        "walks": rows,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
    }
    write_json(args.out, record)
    print(f"saved -> {args.out}")
    return record


def _print(rows: dict[str, Any]) -> None:
    head = f"{'walk':<20}{'v m/s':>7}{'v err%':>8}{'facing':>8}{'floor cm':>9}{'gait':>9}{'conf':>8}{'strides you/true':>18}"
    head += "".join(f"{m[:12]:>14}" for m in METRICS)
    print("\n" + head + "\n" + "-" * len(head))
    for name, r in rows.items():
        cells = ""
        for m in METRICS:
            c = r["metrics"][m]
            cells += f"{'-' if c['error'] is None else format(c['error'], '+.3g'):>14}"
        print(
            f"{name:<20}{r['speed_true_mps']:>7.2f}{100 * r['speed_error_rel']:>8.1f}{r['facing_error_deg']:>8.1f}"
            f"{100 * r['floor_height_error_m']:>9.1f}{r['gait_class']:>9}{str(r['speed_confidence']):>8}"
            f"{str(r['strides_you']) + '/' + str(r['strides_true']):>18}{cells}"
        )
    print("(metric columns: You minus truth)")


if __name__ == "__main__":
    main()
