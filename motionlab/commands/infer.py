"""``motionlab infer`` / ``motionlab-infer``: video of a person running -> Closest vs Ideal MP4, JSON, PNG."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from motionlab.body import BodyParams
from motionlab.commands import Command, standalone
from motionlab.commands.extract import roi_argument
from motionlab.inference.pipeline import (
    DEFAULT_IDEAL_CKPT,
    DEFAULT_IDEAL_WALK_CKPT,
    DEFAULT_TRACK_CKPT,
    InferenceConfig,
    run_inference,
)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--video", type=Path, default=None, help="input video (default: the embedded sample)")
    p.add_argument("--out", type=Path, default=Path("out/closest_vs_ideal.mp4"))
    p.add_argument("--ckpt-track", type=Path, default=DEFAULT_TRACK_CKPT, help="tracking policy (default: bundled)")
    p.add_argument("--ckpt-ideal", type=Path, default=DEFAULT_IDEAL_CKPT, help="ideal policy (default: bundled)")
    p.add_argument(
        "--ckpt-ideal-walk", type=Path, default=DEFAULT_IDEAL_WALK_CKPT, help="ideal walk policy, used when the user walks"
    )
    p.add_argument("--seconds", type=float, default=10.0, help="how much of the video to use")
    p.add_argument("--height", type=float, default=1.75, help="runner's height (m)")
    p.add_argument("--mass", type=float, default=70.0, help="runner's mass (kg)")
    p.add_argument("--body-search", type=int, default=0, metavar="N", help="guess the body from N random candidates")
    p.add_argument("--body-search-seconds", type=float, default=2.0, metavar="S")
    p.add_argument("--roi", type=roi_argument, default=None, help="x,y,w,h box (px) around the runner")
    p.add_argument(
        "--camera-speed",
        type=float,
        default=None,
        help="m/s, when the camera follows the runner (or films a treadmill at this belt speed); default: static",
    )
    p.add_argument(
        "--high-quality", action="store_true", help="render shadows, reflections and anti-aliasing (several times slower)"
    )
    p.add_argument("--seed", type=int, default=0)


def _run(args: argparse.Namespace) -> int:
    cfg = InferenceConfig(
        out=args.out,
        video=args.video,
        ckpt_track=args.ckpt_track,
        ckpt_ideal=args.ckpt_ideal,
        ckpt_ideal_walk=args.ckpt_ideal_walk,
        seconds=args.seconds,
        body=BodyParams(height=args.height, mass=args.mass),
        body_search=args.body_search,
        body_search_seconds=args.body_search_seconds,
        roi=args.roi,
        camera_speed=args.camera_speed,
        seed=args.seed,
        high_quality=args.high_quality,
    )
    run_inference(cfg, Console(stderr=True))
    return 0


INFER = Command("infer", "video of a person running -> Closest vs Ideal MP4, JSON report and PNG", _add_arguments, _run)
COMMANDS = (INFER,)


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``motionlab-infer``."""
    return standalone(INFER, argv)


if __name__ == "__main__":
    sys.exit(main())
