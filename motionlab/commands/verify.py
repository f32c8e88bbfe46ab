"""``motionlab verify``: render a reference as skeletons or the MuJoCo humanoid (MP4)."""

from __future__ import annotations

import argparse
from pathlib import Path

from motionlab.commands import Command
from motionlab.errors import UserError
from motionlab.reference import MAX_SECONDS, load_reference
from motionlab.render import verify_frames
from motionlab.validation import bounded_int, finite_float
from motionlab.video.writer import VideoWriter


def _verify(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if out.suffix.lower() != ".mp4":
        raise UserError(f"--out {out}: the preview is an MP4 video, the name must end in .mp4")
    for flag, value in (("--width", args.width), ("--height", args.height)):
        if value < 64 or value > 4096 or value % 2:
            raise UserError(f"{flag} {value}: use an even number of pixels in [64, 4096] (H.264 needs even sizes)")
    if args.max_seconds is not None and args.max_seconds <= 0:
        raise UserError(f"--max-seconds {args.max_seconds}: must be positive")
    ref = load_reference(args.npz)
    max_frames = ref.num_frames if args.max_seconds is None else max(int(round(args.max_seconds * ref.fps)), 1)
    frames = verify_frames(ref, Path(args.npz).name, args.mode, args.width, args.height, max_frames)
    with VideoWriter(out, ref.fps) as writer:
        for frame in frames:
            writer.write(frame)
    print(f"wrote {out}: {writer.frames_written} frames at {ref.fps:g} fps")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--npz", required=True, help="reference file (2D keypoints, optional 3D world keypoints / qpos)")
    p.add_argument("--out", required=True, help="output .mp4")
    p.add_argument(
        "--mode", choices=("auto", "humanoid", "skeleton"), default="auto",
        help="auto: humanoid beside the 2D skeleton when qpos exists, else skeletons; "
        "humanoid: qpos only; skeleton: 2D keypoints (+ 3D world keypoints turned 90 deg)",
    )  # fmt: skip
    p.add_argument("--width", type=bounded_int(64, 4096), default=1280, help="output width in pixels (even)")
    p.add_argument("--height", type=bounded_int(64, 4096), default=480, help="output height in pixels (even)")
    p.add_argument(
        "--max-seconds", type=finite_float(0.0, MAX_SECONDS, lo_open=True, unit="s"), default=None,
        help="render only the first seconds",
    )  # fmt: skip


COMMANDS = (Command("verify", "render a reference .npz as a skeleton or the MuJoCo humanoid (MP4)", _add_arguments, _verify),)
