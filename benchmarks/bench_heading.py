"""What the 2D keypoints say about the body's heading: reprojection error over the body's yaw.

Usage::

    python benchmarks/bench_heading.py --videos-dir DIR      # the rendered test videos (kept and reused)
    python benchmarks/bench_heading.py --setups oblique_45,toward --videos-dir DIR

Every named setup of :mod:`motionlab.synthetic` is rendered and run through the real MediaPipe (as in
``bench_lift.py --part videos``; ``--videos-dir`` reuses its videos and keypoints) and lifted by
:func:`motionlab.footage.lift_footage`. Then, on that lift's camera (and track, pan, relabelling), the
keypoints are lifted again with the IK's heading prior holding the pelvis at the direction of travel
turned by ``delta`` (-40..40 deg): the mean reprojection error (px, 12 body landmarks) at each ``delta``
says which heading the 2D keypoints support, beside the facing error against the ground truth. The
same is done with the truth's own keypoints and world landmarks ("exact"). Also recorded: the heading
the keypoints gave without the prior (``read_offset_deg``, from the travel), and where MediaPipe's heading
error comes from: the heading read (off the travel, before the prior) when the lift is fed MediaPipe's
keypoints with the truth's 2D hips and shoulders put in, or with the truth's world landmarks put in
(the travel is within a few degrees of the truth's on these setups), and the ratio of MediaPipe's 2D hip and
shoulder spacing to the truth's (median over the frames). Writes ``benchmarks/results/lift_heading.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
from machine import machine
from rendered_args import add_rendered_video_arguments

from motionlab.body import BodyParams
from motionlab.footage import lift_footage, seen_from_the_other_side, travel_direction
from motionlab.io_utils import write_json
from motionlab.keypoints import INDEX
from motionlab.lift import lift_reference
from motionlab.reference import Reference
from motionlab.synthetic import HELD_OUT_SETUPS, SETUPS, detected_test_video, score_lift, videos_folder

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "lift_heading.json"
MOCAP_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap"
DEFAULT_SETUPS = "oblique_45,oblique_30_right_to_left,toward,follow,static"
DELTAS_DEG = tuple(range(-40, 41, 10))


def heading_curve(keypoints: Reference, truth: Reference, body: BodyParams, video: Path) -> dict[str, Any]:
    """Reprojection error and facing error at each turn of the held heading (module docstring)."""
    lifted, report = lift_footage(keypoints, body, video)
    facing = report.notes["facing"]
    if facing["relabelled"]:
        keypoints = seen_from_the_other_side(keypoints)
    travel = travel_direction(lifted)
    if travel is None:
        return {"read_offset_deg": None, "curve": []}
    curve = []
    for delta in DELTAS_DEG:
        turned = np.exp(1j * np.radians(delta)) * complex(*travel)
        held, held_report = lift_reference(
            keypoints, body, report.camera, camera_track=report.camera_track, camera_yaw_deg=report.camera_yaw_deg,
            ground=False, heading=np.array([turned.real, turned.imag]),
        )  # fmt: skip
        curve.append({
            "delta_deg": delta, "reprojection_px": round(held_report.mean_reprojection_px, 3),
            "facing_error_deg": round(score_lift(truth, held)["facing_error_deg"], 2),
        })  # fmt: skip
    best = min(curve, key=lambda row: row["reprojection_px"])
    return {
        "read_offset_deg": facing.get("read_offset_deg", facing["offset_from_travel_deg"]),
        "relabelled": facing["relabelled"],
        "lowest_reprojection_at_delta_deg": best["delta_deg"],
        "facing_error_at_lowest_reprojection_deg": best["facing_error_deg"],
        "reprojection_range_px": round(max(r["reprojection_px"] for r in curve) - best["reprojection_px"], 3),
        "curve": curve,
    }


def torso_sources(keypoints: Reference, truth: Reference, body: BodyParams, video: Path) -> dict[str, Any]:
    """The heading read off the travel (deg, before any prior) with the truth's 2D hips and shoulders or its
    world landmarks swapped into MediaPipe's keypoints, and MediaPipe's 2D hip and shoulder spacing over the
    truth's (module docstring)."""
    torso = [INDEX[f"{side}_{part}"] for part in ("hip", "shoulder") for side in ("left", "right")]
    true_torso = keypoints.keypoints2d.copy()
    true_torso[:, torso] = truth.keypoints2d[:, torso]
    mixes = {
        "mediapipe": keypoints,
        "true_2d_hips_and_shoulders": dataclasses.replace(keypoints, keypoints2d=true_torso),
        "true_world_landmarks": dataclasses.replace(keypoints, world_keypoints=truth.world_keypoints),
    }
    out: dict[str, Any] = {}
    for label, mixed in mixes.items():
        facing = lift_footage(mixed, body, video)[1].notes["facing"]
        out[f"read_offset_deg_{label}"] = facing.get("read_offset_deg", facing["offset_from_travel_deg"])
    seen = keypoints.keypoints2d_valid
    for part in ("hip", "shoulder"):
        pair = [INDEX[f"left_{part}"], INDEX[f"right_{part}"]]
        left, right = (np.stack([ref.keypoints_px()[seen][:, i] for ref in (keypoints, truth)]) for i in pair)
        spacing = np.median(np.linalg.norm(left - right, axis=-1), axis=1)  # (MediaPipe, truth)
        out[f"{part}_spacing_ratio"] = round(float(spacing[0] / spacing[1]), 3)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_rendered_video_arguments(parser, DEFAULT_SETUPS, MOCAP_DIR)
    parser.add_argument("--out", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    setups = {**SETUPS, **HELD_OUT_SETUPS}
    body = BodyParams(height=args.height, mass=args.mass).resolved()
    rows: dict[str, Any] = {}
    with videos_folder(args.videos_dir) as folder:
        for name in args.setups.split(","):
            video, truth, keypoints = detected_test_video(name, setups[name], folder, body, args.mocap_dir)
            exact = dataclasses.replace(truth, qpos=None, body=None, source={})
            rows[name] = {
                "mediapipe": heading_curve(keypoints, truth, body, video),
                "exact": heading_curve(exact, truth, body, video),
                "sources": torso_sources(keypoints, truth, body, video),
            }
            print(f"{name:26s} {rows[name]['sources']}", flush=True)
            for kind in ("mediapipe", "exact"):
                row = rows[name][kind]
                curve = " ".join(f"{r['delta_deg']:+d}:{r['reprojection_px']:.2f}" for r in row["curve"])
                print(f"{name:26s} {kind:9s} read {row['read_offset_deg']} deg | px by delta {curve}", flush=True)
    record = {
        "config": {"body": body.to_dict(), "setups": list(rows), "deltas_deg": list(DELTAS_DEG)},
        "setups": rows,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
    }
    write_json(args.out, record)
    print(f"saved -> {args.out}")
    return record


if __name__ == "__main__":
    main()
