"""``motionlab import-mocap`` and ``motionlab build-dataset``: mocap clips -> references on bodies."""

from __future__ import annotations

import argparse

from motionlab.assets import RUN_CLIP
from motionlab.body import HEIGHT_RANGE, MASS_RANGE, BodyParams
from motionlab.camera import Camera
from motionlab.commands import Command
from motionlab.dataset import build_dataset, training_clips
from motionlab.mocap import MAX_CYCLES, mocap_reference
from motionlab.reference import FPS_RANGE, save_reference
from motionlab.validation import bounded_int, finite_float


def _body_from_args(args: argparse.Namespace) -> BodyParams:
    return BodyParams(height=args.height, mass=args.mass)


def _import_mocap(args: argparse.Namespace) -> None:
    ref = mocap_reference(
        args.clip,
        body=_body_from_args(args),
        cycles=args.cycles,
        fps=args.fps,
        speed_scale=args.speed_scale,
        mirror=args.mirror,
        camera=Camera.side_on(distance=args.camera_distance, height=args.camera_height, azimuth_deg=args.camera_azimuth),
        follow_runner=not args.static_camera,
        asf=args.asf,
    )
    save_reference(ref, args.out)
    src = ref.source
    print(
        f"wrote {args.out}: {ref.num_frames} frames, {ref.duration:.1f} s, {src['speed_mps']:.2f} m/s, "
        f"cadence {src['cadence_spm']:.0f} spm"
        + (f" (stride frames {src['trim_frames']} of the AMC, fit error {src['fit_error_mm']:.0f} mm)" if "trim_frames" in src else "")
    )


def _build_dataset(args: argparse.Namespace) -> None:
    clips = training_clips(args.cmu_dir) if args.cmu_dir else args.clip
    paths = build_dataset(
        args.out_dir, clips, args.variants, not args.no_mirror, args.cycles, args.body_spread, args.seed, args.lifted
    )
    print(f"wrote {len(paths)} references and manifest.json to {args.out_dir}")


def _add_import_mocap_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clip", default=str(RUN_CLIP), help="DeepMimic .txt or CMU .amc (default: the bundled run clip)")
    p.add_argument("--asf", help="CMU skeleton (.asf) for an .amc (default: <subject>.asf beside it, if any)")
    p.add_argument("--out", required=True)
    p.add_argument("--height", type=finite_float(*HEIGHT_RANGE, unit="m"), default=1.75)
    p.add_argument("--mass", type=finite_float(*MASS_RANGE, unit="kg"), default=70.0)
    p.add_argument("--cycles", type=bounded_int(1, MAX_CYCLES), default=4)
    p.add_argument("--fps", type=finite_float(*FPS_RANGE), default=30.0)
    p.add_argument("--speed-scale", type=finite_float(0.5, 2.0), default=1.0)
    p.add_argument("--mirror", action="store_true")
    p.add_argument(
        "--camera-distance", type=finite_float(0.5, 1000.0, unit="m"), default=6.0, help="distance from the running line (m)"
    )
    p.add_argument("--camera-height", type=finite_float(-100.0, 100.0, unit="m"), default=1.0)
    p.add_argument(
        "--camera-azimuth", type=finite_float(-180.0, 180.0, unit="deg"), default=0.0,
        help="degrees towards the front (0 = side-on)",
    )  # fmt: skip
    p.add_argument("--static-camera", action="store_true", help="the camera stays put (default: it follows the runner)")


def _add_build_dataset_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out-dir", required=True)
    p.add_argument("--clip", default=str(RUN_CLIP))
    p.add_argument("--cmu-dir", help="CMU mocap folder: its training split (motionlab.mocap_split) + the DeepMimic run")
    p.add_argument("--lifted", type=bounded_int(0, 100), default=0, help="lifted references per variant (phone shot, detection errors, lift)")
    p.add_argument("--variants", type=bounded_int(1, 1000), default=8)
    p.add_argument("--cycles", type=bounded_int(1, MAX_CYCLES), default=8)
    p.add_argument("--body-spread", type=finite_float(0.0, 0.3), default=0.12)
    p.add_argument("--no-mirror", action="store_true")
    p.add_argument("--seed", type=int, default=0)


COMMANDS = (
    Command("import-mocap", "mocap clip (DeepMimic .txt or CMU .amc) -> reference .npz on a body", _add_import_mocap_arguments, _import_mocap),
    Command(
        "build-dataset",
        "teacher dataset: bodies, cameras, speeds varied, mirrored copies, lifted references",
        _add_build_dataset_arguments,
        _build_dataset,
    ),
)
