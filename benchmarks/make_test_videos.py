"""Render the camera test videos with ground truth (``motionlab.synthetic``) into a folder.

    python benchmarks/make_test_videos.py --out-dir runs/test_videos [--setups follow,pan] [--height 1.75 --mass 70]

Writes ``<setup>.mp4`` and its ground truth ``<setup>.npz`` (a reference: qpos, keypoints through the
frame's camera, and the camera path, speed, heading, time scale and treadmill speed in its source).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from motionlab.body import BodyParams
from motionlab.reference import save_reference
from motionlab.synthetic import SETUPS, render_test_video

MOCAP_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--setups", default=",".join(SETUPS), help=f"comma-separated, from {', '.join(SETUPS)}")
    parser.add_argument("--height", type=float, default=1.75)
    parser.add_argument("--mass", type=float, default=70.0)
    parser.add_argument("--mocap-dir", type=Path, default=MOCAP_DIR, help="folder holding the CMU clips (cmu/...)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.setups.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SETUPS))
    if unknown:
        parser.error(f"unknown setups {unknown}; choose from {', '.join(SETUPS)}")
    body = BodyParams(height=args.height, mass=args.mass)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        tic = time.perf_counter()
        truth = render_test_video(SETUPS[name], args.out_dir / f"{name}.mp4", body, args.mocap_dir)
        save_reference(truth, args.out_dir / f"{name}.npz")
        print(f"{name}: {truth.num_frames} frames in {time.perf_counter() - tic:.1f} s -> {args.out_dir / name}.mp4")


if __name__ == "__main__":
    main()
