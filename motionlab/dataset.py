"""The athlete teacher dataset: mocap references with varied bodies, cameras, speeds and mirrored copies.

CLI: ``motionlab import-mocap`` (one clip -> one reference) and ``motionlab build-dataset`` (a folder of
references plus ``manifest.json``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from motionlab.assets import RUN_CLIP
from motionlab.body import BodyParams, random_body
from motionlab.camera import Camera
from motionlab.io_utils import write_json
from motionlab.mocap import mocap_reference
from motionlab.reference import save_reference

SPEED_SCALE_RANGE = (0.85, 1.15)  # time scaling keeps the clip within human running speeds (~3.1-4.2 m/s)


def build_dataset(
    out_dir: str | os.PathLike,
    clip: str | os.PathLike = RUN_CLIP,
    n_variants: int = 8,
    mirror: bool = True,
    cycles: int = 8,
    body_spread: float = 0.12,
    seed: int = 0,
) -> list[Path]:
    """Write ``n_variants`` references (x2 with mirrored copies) and a manifest to ``out_dir``.

    Each variant draws a body (height/mass/segments within ``body_spread``), a playback speed scale
    in :data:`SPEED_SCALE_RANGE` and a camera (distance, height, azimuth) at random."""
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    entries, paths = [], []
    for i in tqdm(range(n_variants), desc="teacher dataset", unit="variant"):
        body = random_body(rng, body_spread) if i else BodyParams().resolved()
        speed_scale = float(rng.uniform(*SPEED_SCALE_RANGE)) if i else 1.0
        for mirrored in (False, True) if mirror else (False,):
            camera = Camera.side_on(
                distance=float(rng.uniform(4.0, 8.0)),
                height=float(rng.uniform(0.8, 1.4)),
                azimuth_deg=float(rng.uniform(-30, 30)),
            )
            ref = mocap_reference(clip, body=body, cycles=cycles, speed_scale=speed_scale, mirror=mirrored, camera=camera)
            name = f"run_{i:03d}{'_mirror' if mirrored else ''}.npz"
            paths.append(save_reference(ref, out_dir / name))
            entries.append({"file": name, "body": body.to_dict(), **{k: ref.source[k] for k in ("speed_mps", "speed_scale", "mirror")}})
    write_json(out_dir / "manifest.json", {"clip": Path(clip).name, "seed": seed, "references": entries})
    return paths


# ---------------------------------------------------------------------- CLI
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
    paths = build_dataset(args.out_dir, args.clip, args.variants, not args.no_mirror, args.cycles, args.body_spread, args.seed)
    print(f"wrote {len(paths)} references and manifest.json to {args.out_dir}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-mocap", help="mocap clip (DeepMimic .txt or CMU .amc) -> reference .npz on a body")
    p.add_argument("--clip", default=str(RUN_CLIP), help="DeepMimic .txt or CMU .amc (default: the bundled run clip)")
    p.add_argument("--asf", help="CMU skeleton (.asf) for an .amc (default: <subject>.asf beside it, if any)")
    p.add_argument("--out", required=True)
    p.add_argument("--height", type=float, default=1.75)
    p.add_argument("--mass", type=float, default=70.0)
    p.add_argument("--cycles", type=int, default=4)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--speed-scale", type=float, default=1.0)
    p.add_argument("--mirror", action="store_true")
    p.add_argument("--camera-distance", type=float, default=6.0, help="distance from the running line (m)")
    p.add_argument("--camera-height", type=float, default=1.0)
    p.add_argument("--camera-azimuth", type=float, default=0.0, help="degrees towards the front (0 = side-on)")
    p.add_argument("--static-camera", action="store_true", help="the camera stays put (default: it follows the runner)")
    p.set_defaults(func=_import_mocap)

    p = sub.add_parser("build-dataset", help="teacher dataset: bodies, cameras, speeds varied, mirrored copies")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--clip", default=str(RUN_CLIP))
    p.add_argument("--variants", type=int, default=8)
    p.add_argument("--cycles", type=int, default=8)
    p.add_argument("--body-spread", type=float, default=0.12)
    p.add_argument("--no-mirror", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_build_dataset)
