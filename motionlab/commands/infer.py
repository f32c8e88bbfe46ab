"""``motionlab infer`` / ``motionlab-infer``: video of a person running -> Closest vs Ideal MP4, JSON, PNG."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from motionlab.body import HEIGHT_RANGE, MASS_RANGE, BodyParams
from motionlab.commands import Command, standalone
from motionlab.commands.extract import roi_argument
from motionlab.inference.pipeline import (
    DEFAULT_IDEAL_CKPT,
    DEFAULT_IDEAL_WALK_CKPT,
    DEFAULT_TRACK_CKPT,
    MIN_INPUT_SECONDS,
    POSE_MAX_FPS,
    InferenceConfig,
    run_inference,
)
from motionlab.inference.refine import PRESETS
from motionlab.lift import MAX_CAMERA_SPEED
from motionlab.reference import MAX_SECONDS
from motionlab.validation import bounded_int, finite_float

MAX_BODY_SEARCH = 256


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--video", type=Path, default=None, help="input video (default: the embedded sample)")
    p.add_argument(
        "--ref", type=Path, default=None, help="input keypoints instead of a video: a reference .npz (the project's schema)"
    )
    p.add_argument("--out", type=Path, default=Path("out/closest_vs_ideal.mp4"))
    p.add_argument("--ckpt-track", type=Path, default=DEFAULT_TRACK_CKPT, help="tracking policy (default: bundled)")
    p.add_argument("--ckpt-ideal", type=Path, default=DEFAULT_IDEAL_CKPT, help="ideal policy (default: bundled)")
    p.add_argument(
        "--ckpt-ideal-walk", type=Path, default=DEFAULT_IDEAL_WALK_CKPT, help="ideal walk policy, used when the user walks"
    )
    p.add_argument(
        "--seconds", type=finite_float(MIN_INPUT_SECONDS, MAX_SECONDS, unit="s"), default=10.0,
        help="how much of the input to use, from its start (default: %(default)g s)",
    )  # fmt: skip
    p.add_argument("--height", type=finite_float(*HEIGHT_RANGE, unit="m"), default=1.75, help="runner's height (m)")
    p.add_argument("--mass", type=finite_float(*MASS_RANGE, unit="kg"), default=70.0, help="runner's mass (kg)")
    p.add_argument(
        "--body-search", type=bounded_int(0, MAX_BODY_SEARCH), default=0, metavar="N",
        help="guess the body from N random candidates",
    )  # fmt: skip
    p.add_argument("--body-search-seconds", type=finite_float(0.1, 60.0, unit="s"), default=2.0, metavar="S")
    p.add_argument("--roi", type=roi_argument, default=None, help="x,y,w,h box (px) around the runner")
    p.add_argument(
        "--camera-speed",
        type=finite_float(0.0, MAX_CAMERA_SPEED, unit="m/s"),
        default=None,
        help="m/s of a camera travelling with the runner; default: measured from the background",
    )
    p.add_argument(
        "--time-scale", type=finite_float(0.05, 100.0), default=None, metavar="N",
        help="the video plays N times slower than real life (4 for 4x slow motion, 1 for real time); default: detected",
    )  # fmt: skip
    p.add_argument(
        "--treadmill-speed", type=finite_float(0.0, 12.0, unit="m/s"), default=None,
        help="belt speed (m/s) of a treadmill video",
    )  # fmt: skip
    p.add_argument(
        "--high-quality", action="store_true", help="render shadows, reflections and anti-aliasing (several times slower)"
    )
    p.add_argument(
        "--refine",
        choices=list(PRESETS),
        default="balanced",
        help="MPC refinement of the Closest run around the tracking policy (default: %(default)s, ~1.6 CPU s per "
        "second of video; fast: ~1.1 s, more restarts; balanced-h10: the previous default, a 0.3 s look-ahead "
        "instead of 0.24 s, ~1.9 s; best: most search, ~3 s; off: the policy alone)",
    )
    p.add_argument(
        "--residual",
        choices=("on", "off"),
        default="on",
        help="the Closest run's residual root force, a small non-physical push on the pelvis that the tracking "
        "policy may use (shown live and in the report); off: fully physical, the runner may fall more often "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--pose-fps", type=finite_float(10.0, 240.0, unit="fps"), default=POSE_MAX_FPS, metavar="FPS",
        help="highest rate the pose model runs at; a faster video is read every k-th frame (default: %(default)g: "
        "contact times to 17 ms; 30 halves the keypoint time at 33 ms steps)",
    )  # fmt: skip
    p.add_argument("--seed", type=bounded_int(0, 2**32 - 1), default=0)


def _run(args: argparse.Namespace) -> int:
    cfg = InferenceConfig(
        out=args.out,
        video=args.video,
        ref=args.ref,
        ckpt_track=args.ckpt_track,
        ckpt_ideal=args.ckpt_ideal,
        ckpt_ideal_walk=args.ckpt_ideal_walk,
        seconds=args.seconds,
        body=BodyParams(height=args.height, mass=args.mass),
        body_search=args.body_search,
        body_search_seconds=args.body_search_seconds,
        roi=args.roi,
        camera_speed=args.camera_speed,
        time_scale=args.time_scale,
        treadmill_speed=args.treadmill_speed,
        seed=args.seed,
        high_quality=args.high_quality,
        refine=args.refine,
        residual_force=args.residual == "on",
        pose_fps=args.pose_fps,
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
