"""``motionlab extract``, ``extract-dir`` and ``preview``: video -> keypoint reference, and an overlay check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from motionlab.commands import Command
from motionlab.errors import UserError
from motionlab.io_utils import check_outputs, write_json
from motionlab.reference import MAX_SECONDS, load_reference, save_reference
from motionlab.validation import finite_float
from motionlab.video.overlay import draw_box, draw_pose, draw_text_box
from motionlab.video.pose import PoseSettings, extract_keypoints, parse_roi
from motionlab.video.reader import VideoReader
from motionlab.video.smoothing import SmoothingParams
from motionlab.video.writer import VideoWriter

DIR_SUMMARY_NAME = "extract_summary.json"


def _add_extract_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video", required=True, type=Path, help="input video")
    parser.add_argument("--out", required=True, type=Path, help="output reference .npz")
    parser.add_argument("--roi", type=roi_argument, help="x,y,w,h pixel box around the person (small or several people)")
    _add_extract_options(parser)


def _add_extract_dir_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--videos-dir", required=True, type=Path)
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--pattern", default="*.mp4", help="glob for the videos (default: %(default)s)")
    _add_extract_options(parser)


def _add_preview_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video", required=True, type=Path)
    parser.add_argument("--ref", required=True, type=Path, help="reference .npz extracted from --video")
    parser.add_argument("--out", required=True, type=Path, help="output .mp4")


def roi_argument(text: str) -> tuple[int, int, int, int]:
    """``argparse`` type of a ``--roi x,y,w,h`` pixel box."""
    try:
        return parse_roi(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_extract_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-complexity", type=int, choices=(0, 1, 2), default=1,
                        help="MediaPipe Pose model: 0 lite, 1 full (bundled, default), 2 heavy")  # fmt: skip
    parser.add_argument("--no-smooth", action="store_true", help="keep raw landmarks (no Savitzky-Golay)")
    parser.add_argument("--start", type=finite_float(0.0, 1e6, unit="s"), default=0.0, help="start time in seconds")
    parser.add_argument(
        "--max-seconds", type=finite_float(0.0, MAX_SECONDS, lo_open=True, unit="s"), help="process at most this many seconds"
    )


def _extract(video: Path, roi: tuple[int, int, int, int] | None, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    if out.suffix != ".npz":
        raise UserError(f"{out}: the output reference must end in .npz")
    check_outputs([out], [video])
    reference, summary = extract_keypoints(
        video,
        roi,
        settings=PoseSettings(model_complexity=args.model_complexity),
        smoothing=None if args.no_smooth else SmoothingParams(),
        start_s=args.start,
        max_seconds=args.max_seconds,
        progress=True,
    )
    save_reference(reference, out)
    return summary


def _describe(summary: dict[str, Any]) -> str:
    w, h = summary["image_size"]
    text = (
        f"{summary['video']}: pose in {summary['frames_with_pose']}/{summary['frames']} frames "
        f"({summary['detection_rate']:.0%}, longest gap {summary['longest_gap_frames']}), "
        f"mean visibility {summary['mean_visibility']:.2f}, {summary['fps']:.2f} fps"
        f"{' (variable)' if summary['variable_frame_rate'] else ''}, {w}x{h}, {summary['duration_s']:.2f} s"
    )
    if summary["roi"] is not None:
        text += f", roi {','.join(map(str, summary['roi']))}"
    auto = summary.get("auto_crop") or {}
    if auto.get("used"):
        text += (
            f", person too small for the full frame: followed in an automatic crop ({auto['usable_frames_cropped']} "
            f"usable frames instead of {auto['usable_frames_full_frame']}; --roi overrides it)"
        )
    if summary["track_rejections"]:
        text += f", {summary['track_rejections']} detection(s) of another person rejected"
    return text


def run_extract(args: argparse.Namespace) -> int:
    summary = _extract(args.video, args.roi, args, args.out)
    print(_describe(summary))
    print(f"wrote {args.out}")
    return 0


def run_extract_dir(args: argparse.Namespace) -> int:
    if not args.videos_dir.is_dir():
        raise UserError(f"{args.videos_dir}: no such folder")
    videos = sorted(p for p in args.videos_dir.glob(args.pattern) if p.is_file())
    if not videos:
        raise UserError(f"{args.videos_dir}: no file matches {args.pattern!r}")
    outs = [args.out_dir / f"{v.stem}.npz" for v in videos]
    if len(set(outs)) < len(outs):
        raise UserError(f"videos in {args.videos_dir} matching {args.pattern!r} share file stems; outputs would clash")
    results = []
    for video, out in zip(videos, outs):
        try:
            summary = _extract(video, None, args, out)
        except Exception as exc:  # one bad video must not stop the batch; it is reported below
            message = f"{type(exc).__name__}: {exc}"
            print(f"{video.name}: FAILED: {message}", file=sys.stderr)
            results.append({"video": str(video), "status": "failed", "error": message})
            continue
        print(_describe(summary))
        results.append({"video": str(video), "status": "ok", "out": str(out), "summary": summary})
    failed = [r["video"] for r in results if r["status"] == "failed"]
    summary_path = args.out_dir / DIR_SUMMARY_NAME
    write_json(summary_path, {"videos": results, "ok": len(results) - len(failed), "failed": len(failed)})
    print(f"{len(results) - len(failed)}/{len(results)} videos extracted; summary in {summary_path}")
    if failed:
        print(f"failed: {', '.join(Path(f).name for f in failed)}", file=sys.stderr)
        return 1
    return 0


def run_preview(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() != ".mp4":
        raise UserError(f"{args.out}: the preview must be an .mp4 file")
    check_outputs([args.out], [args.video, args.ref])
    reference = load_reference(args.ref)
    start_s = float(reference.source.get("summary", {}).get("start_s", 0.0))
    roi = reference.source.get("roi")
    pixels = reference.keypoints_px()
    visibility = reference.keypoints2d[..., 2]
    with VideoReader(args.video, start_s=start_s, max_frames=reference.num_frames) as video:
        if video.info.image_size != reference.image_size:
            raise UserError(
                f"{args.video} is {video.info.width}x{video.info.height} but {args.ref} was extracted from a "
                f"{reference.image_size[0]}x{reference.image_size[1]} video; is it the same video?"
            )
        with VideoWriter(args.out, fps=reference.fps) as writer:
            for frame in tqdm(video, total=reference.num_frames, desc=f"preview {args.video.name}", unit="frame"):
                image = frame.rgb
                if roi is not None:
                    image = draw_box(image, roi, "roi")
                if reference.keypoints2d_valid[frame.index]:
                    image = draw_pose(image, pixels[frame.index], visibility[frame.index])
                else:
                    image = draw_text_box(image.copy(), ["no pose"])
                writer.write(image)
            if writer.frames_written != reference.num_frames:
                raise UserError(
                    f"{args.video} has {writer.frames_written} frames from {start_s:g} s but {args.ref} has "
                    f"{reference.num_frames}; is it the video the reference was extracted from?"
                )
    print(f"wrote {args.out} ({reference.num_frames} frames, {reference.fps:.2f} fps)")
    return 0


COMMANDS = (
    Command("extract", "video -> MediaPipe keypoint reference (.npz)", _add_extract_arguments, run_extract),
    Command("extract-dir", "extract every video of a folder (one .npz each)", _add_extract_dir_arguments, run_extract_dir),
    Command("preview", "draw a reference's keypoints over its video (MP4)", _add_preview_arguments, run_preview),
)
