"""The teacher dataset: mocap references with varied bodies, cameras, speeds and mirrored copies, plus
references lifted from simulated phone videos of the same motion (what the tracker gets at inference).

Commands: ``motionlab import-mocap`` (one clip -> one reference) and ``motionlab build-dataset`` (a folder
of references plus ``manifest.json``), in :mod:`motionlab.commands.dataset`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from motionlab.assets import RUN_CLIP
from motionlab.body import BodyParams, random_body
from motionlab.camera import Camera
from motionlab.errors import MocapFormatError
from motionlab.io_utils import write_json
from motionlab.mocap import mocap_reference
from motionlab.mocap_lifted import lifted_reference
from motionlab.mocap_split import DEEPMIMIC_RUN, TRAIN_CLIPS
from motionlab.reference import Reference, save_reference

SPEED_SCALE_RANGE = (0.85, 1.15)  # time scaling keeps the clip within human running speeds (~3.1-4.2 m/s)
CMU_SPEED_SCALE_RANGE = (0.9, 1.1)  # real people's clips: a gentler time scaling keeps them natural


@dataclass(frozen=True)
class DatasetClip:
    """A clip of the teacher set: the motion file, its ASF (CMU only) and the time-scaling range."""

    path: Path
    asf: Path | None = None
    speed_scale_range: tuple[float, float] = SPEED_SCALE_RANGE

    @property
    def name(self) -> str:
        return self.path.stem


def training_clips(cmu_dir: str | os.PathLike) -> list[DatasetClip]:
    """The bundled DeepMimic run plus the CMU training split (:mod:`motionlab.mocap_split`)."""
    clips = [DatasetClip(Path(DEEPMIMIC_RUN))]
    for spec in TRAIN_CLIPS:
        amc, asf = spec.paths(cmu_dir)
        if not amc.is_file():
            raise MocapFormatError(f"CMU clip {amc} is missing; give --cmu-dir the folder ../shared/data/mocap/cmu")
        clips.append(DatasetClip(amc, asf, CMU_SPEED_SCALE_RANGE))
    return clips


def build_dataset(
    out_dir: str | os.PathLike,
    clip: str | os.PathLike | Sequence[DatasetClip] = RUN_CLIP,
    n_variants: int = 8,
    mirror: bool = True,
    cycles: int = 8,
    body_spread: float = 0.12,
    seed: int = 0,
    lifted: int = 0,
) -> list[Path]:
    """Write references and a manifest to ``out_dir``: per clip, ``n_variants`` variants (x2 with
    mirrored copies) and ``lifted`` lifted references per variant (:mod:`motionlab.mocap_lifted`).

    Each variant draws a body (height/mass/segments within ``body_spread``), a playback speed scale
    in the clip's range and a camera (distance, height, azimuth) at random; the first variant of each
    clip is the default body at the clip's own speed. Lifted references come from a random variant
    (plain or mirrored) through a random phone shot with detection errors."""
    clips = [DatasetClip(Path(clip))] if isinstance(clip, (str, os.PathLike)) else list(clip)
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    entries, paths = [], []
    for c, i in tqdm([(c, i) for c in clips for i in range(n_variants)], desc="teacher dataset", unit="variant"):
        body = random_body(rng, body_spread) if i else BodyParams().resolved()
        speed_scale = float(rng.uniform(*c.speed_scale_range)) if i else 1.0
        variants = []
        for mirrored in (False, True) if mirror else (False,):
            camera = Camera.side_on(
                distance=float(rng.uniform(4.0, 8.0)),
                height=float(rng.uniform(0.8, 1.4)),
                azimuth_deg=float(rng.uniform(-30, 30)),
            )
            ref = mocap_reference(
                c.path, body=body, cycles=cycles, speed_scale=speed_scale, mirror=mirrored, camera=camera, asf=c.asf
            )
            variants.append(ref)
            prefix = "run" if len(clips) == 1 else c.name
            name = f"{prefix}_{i:03d}{'_mirror' if mirrored else ''}.npz"
            paths.append(save_reference(ref, out_dir / name))
            entries.append({"file": name, "kind": "clean", "clip": c.path.name, "body": body.to_dict(), **_summary(ref)})
        for k in range(lifted):
            truth = variants[int(rng.integers(len(variants)))]
            ref, _ = lifted_reference(truth, rng)
            name = f"{c.name}_{i:03d}_lifted{k}.npz"
            paths.append(save_reference(ref, out_dir / name))
            entries.append(
                {"file": name, "kind": "lifted", "clip": c.path.name, "body": ref.body.to_dict(),
                 "shot": ref.source["shot"], **_summary(ref)}  # fmt: skip
            )
    write_json(out_dir / "manifest.json", {"clips": [c.path.name for c in clips], "seed": seed, "references": entries})
    return paths


def _summary(ref: Reference) -> dict:
    src = ref.source
    keys = ("speed_mps", "speed_scale", "mirror", "cadence_spm", "truth_speed_mps")
    return {k: src[k] for k in keys if k in src}
