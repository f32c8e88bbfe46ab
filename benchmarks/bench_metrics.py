"""Accuracy of the report's gait metrics: You (the lifted kinematics) and Closest (the tracking policy on
it) against the ground truth of real motion capture.

    python benchmarks/bench_metrics.py [--part keypoints|video|all] [--seconds 6] [--cases clean,noise3px,oblique45]
        [--videos follow,oblique_45,cmu_run_right_to_left] [--videos-dir DIR]

Ground truth: real motion capture on a 1.75 m / 70 kg body, its metrics computed by the same code on
the true ``qpos`` (contact from the true foot heights). Each case gives the pipeline some view of it,
lifts it, runs the bundled tracking policy on the lifted motion (as the main job does, without
refinement) and compares, per metric, You and Closest with the truth.

``--part keypoints`` (results ``metrics.json``): the real run clip (DeepMimic's mocap, made periodic)
projected to 2D keypoints through a known camera (side-on 6 m away following the runner, or 45 deg
oblique), optionally with 3 px noise, lifted with that camera (``lift_reference``): no pose model.

``--part video`` (results ``metrics_video.json``): the humanoid replaying the mocap rendered to a 30 fps
video (:mod:`motionlab.synthetic`'s camera setups, lengthened to ``--seconds``), then the main job's
path: MediaPipe (``extract_keypoints``) and ``lift_footage`` (camera motion, time base, facing), so
the errors include MediaPipe's on a rendered capsule figure (not on people: see ``motionlab.synthetic``).

Targets (issue #12): cadence +-2 spm, contact time +-20 ms, vertical oscillation +-1.5 cm, knee flexion at
contact +-5 deg, trunk lean +-3 deg, overstride +-3 cm.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import tempfile
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
VIDEO_RESULTS = Path(__file__).parent / "results" / "metrics_video.json"
MOCAP_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap"
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


def compare(truth: Reference, lifted: Reference, valid: np.ndarray, body: BodyParams, seconds: float, policy) -> dict:
    """Per metric of :data:`TARGETS`: the truth, You (``lifted`` on its ``valid`` frames) and Closest (the
    tracking policy on ``lifted``) with their errors; and Closest's restarts."""
    n = min(len(truth.qpos), len(lifted.qpos))
    true_m = gait_metrics(
        GaitInput(np.arange(len(truth.qpos)) / truth.fps, truth.qpos, body, np.ones(len(truth.qpos), bool))
    )
    you_m = gait_metrics(GaitInput(np.arange(n) / lifted.fps, lifted.qpos[:n], body, valid[:n]))
    run = _simulate(
        policy,
        "MotionLab/Track-v0",
        min(seconds, lifted.duration),
        0,
        reference=lifted,
        body=body,
        reference_state_init=False,
    )
    closest_m = gait_metrics(rollout_input(run))
    rows = {}
    for metric, tol in TARGETS.items():
        t, y, c = (m[metric]["value"] for m in (true_m, you_m, closest_m))
        rows[metric] = {
            "truth": t, "you": y, "closest": c, "target_abs_error": tol,
            "you_error": None if t is None or y is None else round(y - t, 3),
            "closest_error": None if t is None or c is None else round(c - t, 3),
            "you_strides": you_m[metric]["n_strides"],
        }  # fmt: skip
    confidence = {
        name: {"level": m["cadence"]["confidence"]["level"], "notes": m["cadence"]["confidence"]["notes"]}
        for name, m in (("you", you_m), ("closest", closest_m))
    }  # the columns' confidence (without the main job's evidence: visibility, reprojection, restarts)
    return {"closest_restarts": len(run.restart_times), "confidence": confidence, "metrics": rows}


def print_case(name: str, header: str, rows: dict) -> None:
    print(f"\n{name}: {header}")
    print(f"  {'metric':<22}{'truth':>9}{'You':>9}{'err':>8}{'Closest':>9}{'err':>8}{'target':>8}")
    for metric, r in rows.items():
        cells = [r["truth"], r["you"], r["you_error"], r["closest"], r["closest_error"]]
        text = "".join(f"{'--' if v is None else f'{v:.1f}':>{w}}" for v, w in zip(cells, (9, 9, 8, 9, 8)))
        print(f"  {metric:<22}{text}{r['target_abs_error']:>8g}")


def keypoints_part(args: argparse.Namespace, body: BodyParams, policy) -> None:
    results = {"machine": platform.processor() or platform.machine(), "seconds": args.seconds, "targets": TARGETS,
               "input": "mocap projected to 2D through a known camera (not rendered video)", "cases": {}}  # fmt: skip
    for name, truth in cases(args.seconds, body, np.random.default_rng(0)).items():
        if name not in args.cases.split(","):
            continue
        lifted, report = lift_reference(dataclasses.replace(truth, qpos=None, body=None), body)
        row = compare(truth, lifted, np.ones(len(lifted.qpos), bool), body, args.seconds, policy)
        results["cases"][name] = {"lift_reprojection_px": round(report.mean_reprojection_px, 2), **row}
        print_case(
            name,
            f"lift {report.mean_reprojection_px:.2f} px, Closest restarts {row['closest_restarts']}",
            row["metrics"],
        )
    write_json(RESULTS, results)
    print(f"saved {RESULTS}")


def video_part(args: argparse.Namespace, body: BodyParams, policy) -> None:
    from motionlab.footage import lift_footage
    from motionlab.lift import detected_frames
    from motionlab.reference import load_reference, save_reference
    from motionlab.synthetic import SETUPS, render_test_video
    from motionlab.video.pose import extract_keypoints

    results = {"machine": platform.processor() or platform.machine(), "load": os.getloadavg(), "seconds": args.seconds,
               "targets": TARGETS,
               "input": "rendered video of the humanoid replaying mocap -> MediaPipe -> lift_footage",
               "cases": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.videos_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.videos.split(","):
            setup = dataclasses.replace(SETUPS[name], seconds=args.seconds)
            video, truth_path, keypoints_path = (folder / f"{name}{ext}" for ext in (".mp4", ".npz", ".keypoints.npz"))
            if not (video.is_file() and truth_path.is_file()):
                save_reference(render_test_video(setup, video, body, args.mocap_dir), truth_path)
            if not keypoints_path.is_file():
                save_reference(extract_keypoints(video)[0], keypoints_path)
            truth, keypoints = load_reference(truth_path), load_reference(keypoints_path)
            lifted, report = lift_footage(keypoints, body, video)
            detected = detected_frames(keypoints)
            row = compare(truth, lifted, detected, body, args.seconds, policy)
            results["cases"][name] = {
                "setup": dataclasses.asdict(setup), "clip": truth.source["synthetic"]["clip"],
                "frames_with_pose": f"{int(detected.sum())} of {len(detected)}",
                "lift_reprojection_px": round(report.mean_reprojection_px, 2), **row,
            }  # fmt: skip
            header = f"{setup.clip or 'DeepMimic run'}, pose in {int(detected.sum())}/{len(detected)} frames, "
            print_case(
                name,
                header + f"lift {report.mean_reprojection_px:.2f} px, Closest restarts {row['closest_restarts']}",
                row["metrics"],
            )
    write_json(VIDEO_RESULTS, results)
    print(f"saved {VIDEO_RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("keypoints", "video", "all"), default="all")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--cases", default="clean,noise3px,oblique45", help="keypoints part")
    parser.add_argument("--videos", default="follow,oblique_45,cmu_run_right_to_left", help="video part: camera setups")
    parser.add_argument("--videos-dir", type=Path, default=None, help="keep the rendered videos and keypoints here")
    parser.add_argument("--mocap-dir", type=Path, default=MOCAP_DIR, help="folder holding the CMU clips (cmu/...)")
    args = parser.parse_args()
    body = BodyParams(height=1.75, mass=70.0).resolved()
    policy = load_policy(DEFAULT_TRACK_CKPT)
    if args.part in ("keypoints", "all"):
        keypoints_part(args, body, policy)
    if args.part in ("video", "all"):
        video_part(args, body, policy)


if __name__ == "__main__":
    main()
