"""What the main job's keypoint shortcuts change: MediaPipe at ~30 fps on a 60 fps video, and on 4K
frames shrunk to 1080 px on their short side, against every frame at full size.

    python benchmarks/bench_pose_rate.py [--seconds 10]

Uses ``benchmarks/bench_inference.py``'s clips (the humanoid replaying the real mocap run, filmed by a
following camera; made there if missing). For each shortcut: the landmark displacement at the frames
both extractions analysed (median and 90th percentile over the 12 body landmarks, in pixels and in % of
the figure's height: nose to lowest heel), each extraction's error against the truth (the humanoid's
keypoint sites projected through the rendering camera; MediaPipe on a capsule figure, so this is not
its error on people), the frames with a pose, and the CPU seconds of each extraction (this process,
all threads). Writes ``benchmarks/results/pose_rate.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from motionlab.assets import DEFAULT_REFERENCE
from motionlab.humanoid import build_model
from motionlab.io_utils import write_json
from motionlab.keypoints import BODY_LANDMARKS, INDEX
from motionlab.motion import Kinematics, resample_qpos
from motionlab.reference import Reference, load_reference
from motionlab.render import ELEVATION_DEG, VIEWS, framing
from motionlab.video.pose import extract_keypoints

sys.path.insert(0, str(Path(__file__).parent))
from bench_inference import CASES, make_clip  # noqa: E402  (the same clips)

RESULTS = Path(__file__).parent / "results" / "pose_rate.json"


def _extract(path: Path, seconds: float, **kwargs: object) -> tuple[Reference, float]:
    cpu = time.process_time()
    ref, _ = extract_keypoints(path, max_seconds=seconds, **kwargs)
    return ref, time.process_time() - cpu


def truth_px(clip: str, seconds: float) -> np.ndarray:
    """(T, 33, 2) pixels of the humanoid's keypoint sites in every frame of ``clip``, through the free
    camera that rendered it (``make_clip``: HumanoidRenderer's side view at 640 px, scaled up)."""
    w, h, fps = CASES[clip]
    ref = load_reference(DEFAULT_REFERENCE)
    times = np.arange(int(round(seconds * fps)) + 1) / fps
    qpos = resample_qpos(ref.qpos, ref.fps, np.minimum(times, ref.duration))
    hm = build_model(ref.body)
    world = Kinematics(hm).sites(qpos)
    distance, aim = framing(ref.body.height, hm.model.vis.global_.fovy)
    az, el = np.deg2rad(VIEWS["side"]), np.deg2rad(ELEVATION_DEG)
    forward = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    lookat = np.c_[qpos[:, :2], np.full(len(qpos), aim)]
    eye = lookat - distance * forward
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rel = world - eye[:, None]
    x, y, z = rel @ right, rel @ down, rel @ forward
    focal = (h / 2) / np.tan(np.deg2rad(hm.model.vis.global_.fovy) / 2)  # vertical fov, full-size pixels
    return np.stack([w / 2 + focal * x / z, h / 2 + focal * y / z], axis=-1)


def truth_error(ref: Reference, truth: np.ndarray, step: int) -> dict[str, float]:
    """Median and 90th percentile of the body landmarks' distance (px) to the truth at the analysed frames."""
    px, truth = ref.keypoints_px(), truth[::step][: ref.num_frames]
    valid = ref.keypoints2d_valid[: len(truth)]
    error = np.linalg.norm(px[: len(truth)][valid][:, list(BODY_LANDMARKS)] - truth[valid][:, list(BODY_LANDMARKS)], axis=-1)
    return {"median_px": round(float(np.median(error)), 2), "p90_px": round(float(np.percentile(error, 90)), 2)}


def compare(full: Reference, fast: Reference, step: int) -> dict[str, float]:
    """Landmark displacement of ``fast`` (every ``step``-th frame of ``full``'s) against ``full``."""
    full_px, fast_px = full.keypoints_px()[::step], fast.keypoints_px()
    n = min(len(full_px), len(fast_px))
    both = full.keypoints2d_valid[::step][:n] & fast.keypoints2d_valid[:n]
    body = list(BODY_LANDMARKS)
    error = np.linalg.norm(full_px[:n][both][:, body] - fast_px[:n][both][:, body], axis=-1)
    heels = full_px[:n][both][:, [INDEX["left_heel"], INDEX["right_heel"]], 1].max(axis=1)
    figure = float(np.median(heels - full_px[:n][both][:, INDEX["nose"], 1]))
    return {
        "frames_compared": int(both.sum()),
        "figure_height_px": round(figure, 1),
        "median_px": round(float(np.median(error)), 2),
        "p90_px": round(float(np.percentile(error, 90)), 2),
        "median_pct_of_figure": round(100 * float(np.median(error)) / figure, 2),
        "p90_pct_of_figure": round(100 * float(np.percentile(error, 90)) / figure, 2),
        "pose_rate_full": round(float(full.keypoints2d_valid.mean()), 3),
        "pose_rate_fast": round(float(fast.keypoints2d_valid.mean()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    results: dict[str, object] = {"seconds": args.seconds, "load_avg_1min_before": round(os.getloadavg()[0], 2)}
    cases = {
        "720p60: every 2nd frame (30 fps) vs every frame": ("720p60", {}, {"max_fps": 30.0}, 2),
        "4k30: frames shrunk to 1920x1080 vs full size": ("4k30", {}, {"max_short_side": 1080}, 1),
    }
    for label, (clip, full_kw, fast_kw, step) in cases.items():
        path = make_clip(clip, args.seconds)
        full, full_cpu = _extract(path, args.seconds, **full_kw)
        fast, fast_cpu = _extract(path, args.seconds, **fast_kw)
        truth = truth_px(clip, args.seconds)
        results[label] = {
            **compare(full, fast, step),
            "error_vs_truth_full": truth_error(full, truth, 1),
            "error_vs_truth_fast": truth_error(fast, truth, step),
            "cpu_s_full": round(full_cpu, 2),
            "cpu_s_fast": round(fast_cpu, 2),
        }
        print(f"{label}: {results[label]}")
    results["load_avg_1min_after"] = round(os.getloadavg()[0], 2)
    write_json(RESULTS, results)
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
