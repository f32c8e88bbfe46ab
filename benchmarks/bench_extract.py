"""Keypoint extraction speed: per-frame decode, MediaPipe Pose and smoothing time for one clip (decode:
the wait for the next decoded frame; since ``read_ahead`` decodes in a second thread, only the decoding
that MediaPipe's time did not hide).

Usage::

    python benchmarks/bench_extract.py                          # vtest.avi, ROI around one pedestrian, 20 frames
    python benchmarks/bench_extract.py --video run.mp4 --frames 300 --model-complexity 1
    python benchmarks/bench_extract.py --video run.mp4 --roi 400,100,300,500 --repeats 3

Runs :func:`motionlab.video.pose.extract_keypoints` (which times its stages) ``--repeats`` times, keeps
the fastest run, prints milliseconds per frame and merges the record into
``benchmarks/results/extract.json`` (atomic write), keyed by configuration.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import cv2

from motionlab.io_utils import record_json_run
from motionlab.video.pose import PoseSettings, extract_keypoints, parse_roi

REPO = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO / "benchmarks" / "results" / "extract.json"
DEFAULT_VIDEO = REPO.parent / "shared" / "data" / "media" / "vtest.avi"
DEFAULT_ROI = "200,190,200,140"  # the pedestrian near the lamp post in vtest.avi's first 2 s


def _run_once(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    _, summary = extract_keypoints(
        args.video,
        parse_roi(args.roi) if args.roi else None,
        settings=PoseSettings(model_complexity=args.model_complexity),
        max_frames=args.frames,
    )
    wall = time.perf_counter() - t0
    n = summary["frames"]
    per_frame_ms = {stage: round(1000 * s / n, 3) for stage, s in summary["timing_s"].items()}
    return dict(
        frames=n,
        frames_with_pose=summary["frames_with_pose"],
        image_size=summary["image_size"],
        per_frame_ms=per_frame_ms,
        total_ms_per_frame=round(sum(per_frame_ms.values()), 3),
        frames_per_s=round(n / sum(summary["timing_s"].values()), 2),
        wall_s_including_model_load=round(wall, 3),
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--roi", default=DEFAULT_ROI, help="x,y,w,h or '' for the full frame")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--model-complexity", type=int, choices=(0, 1, 2), default=1)
    parser.add_argument("--repeats", type=int, default=2, help="runs; the fastest is kept")
    parser.add_argument("--threads", type=int, default=1, help="cv2.setNumThreads for decoding and resizing")
    parser.add_argument("--out", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    if not args.video.is_file():
        parser.error(f"{args.video}: no such video (pass --video)")
    cv2.setNumThreads(args.threads)

    runs = [_run_once(args) for _ in range(max(1, args.repeats))]
    best = min(runs, key=lambda r: r["total_ms_per_frame"])
    width, height = best["image_size"]
    print(f"\nextract  video={args.video.name}  roi={args.roi or 'full frame'}  frames={best['frames']}"
          f"  size={width}x{height}  model_complexity={args.model_complexity}")  # fmt: skip
    for stage, ms in best["per_frame_ms"].items():
        print(f"  {stage:<8}{ms:>9.2f} ms/frame")
    print(f"  {'total':<8}{best['total_ms_per_frame']:>9.2f} ms/frame  ({best['frames_per_s']:.1f} frames/s; "
          f"pose found in {best['frames_with_pose']}/{best['frames']})")  # fmt: skip

    key = f"{args.video.name}|roi={args.roi or 'full'}|frames={args.frames}|mc={args.model_complexity}"
    record = dict(
        config=dict(video=args.video.name, roi=args.roi or None, frames=args.frames,
                    model_complexity=args.model_complexity, repeats=args.repeats, threads=args.threads),  # fmt: skip
        result=best,
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        machine=dict(python=sys.version.split()[0], opencv=cv2.__version__, platform=platform.platform(),
                     cpu_count=os.cpu_count()),  # fmt: skip
    )
    record_json_run(args.out, key, record)
    print(f"saved -> {args.out}")
    return record


if __name__ == "__main__":
    main()
