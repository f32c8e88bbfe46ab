"""``motionlab lift``: a reference's 2D keypoints -> humanoid ``qpos`` on a body (inverse kinematics)."""

from __future__ import annotations

import argparse

from motionlab.body import HEIGHT_RANGE, MASS_RANGE, BodyParams
from motionlab.commands import Command
from motionlab.errors import UserError
from motionlab.io_utils import check_outputs
from motionlab.lift import MAX_CAMERA_SPEED, estimate_camera, lift_reference
from motionlab.reference import load_reference, save_reference
from motionlab.validation import finite_float


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ref", required=True, help="input reference .npz (keypoints)")
    p.add_argument("--out", required=True, help="output reference .npz (keypoints + qpos)")
    body = p.add_argument_group("body (default: the reference's body, else 1.75 m / 70 kg)")
    body.add_argument("--height", type=finite_float(*HEIGHT_RANGE, unit="m"), help="stature (m)")
    body.add_argument("--mass", type=finite_float(*MASS_RANGE, unit="kg"), help="body mass (kg)")
    for seg in BodyParams.SEGMENTS:
        body.add_argument(
            f"--{seg.replace('_', '-')}", dest=seg, type=finite_float(0.0, 2.0, lo_open=True, unit="m"),
            help=f"{seg.replace('_', ' ')} (m)",
        )  # fmt: skip
    cam = p.add_argument_group("camera (default: the reference's camera, else estimated)")
    cam.add_argument("--focal-px", type=finite_float(0.0, 1e6, lo_open=True, unit="px"), help="focal length in pixels")
    cam.add_argument(
        "--camera-distance", type=finite_float(0.0, 1000.0, lo_open=True, unit="m"), help="distance to the person (m)"
    )
    cam.add_argument("--camera-height", type=finite_float(-100.0, 100.0, unit="m"), help="height above the ground (m)")
    cam.add_argument(
        "--camera-speed", type=finite_float(0.0, MAX_CAMERA_SPEED, unit="m/s"),
        help="tracking-shot speed along the running direction (m/s)",
    )  # fmt: skip


def _run(args: argparse.Namespace) -> int:
    if not str(args.out).endswith(".npz"):
        raise UserError(f"--out {args.out}: a reference file must end in .npz")
    check_outputs([args.out], [args.ref])
    ref = load_reference(args.ref)
    given = {k: getattr(args, k) for k in ("height", "mass", *BodyParams.SEGMENTS) if getattr(args, k) is not None}
    body = BodyParams.from_dict(given) if given else None
    camera = None
    if any(v is not None for v in (args.focal_px, args.camera_distance, args.camera_height, args.camera_speed)):
        camera = estimate_camera(
            ref, BodyParams.coerce(body if body is not None else ref.body).resolved(),
            focal_px=args.focal_px, distance=args.camera_distance, height=args.camera_height,
            speed=args.camera_speed or 0.0,
        )  # fmt: skip
    lifted, report = lift_reference(ref, body=body, camera=camera, progress=True)
    save_reference(lifted, args.out)
    print(report.summary())
    print(f"wrote {args.out}")
    return 0


COMMANDS = (Command("lift", "reference 2D keypoints -> humanoid qpos on a body (inverse kinematics)", _add_arguments, _run),)
