"""The athlete teacher dataset: mocap references with varied bodies, cameras, speeds and mirrored copies.

Commands: ``motionlab import-mocap`` (one clip -> one reference) and ``motionlab build-dataset`` (a folder
of references plus ``manifest.json``), in :mod:`motionlab.commands.dataset`.
"""

from __future__ import annotations

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
