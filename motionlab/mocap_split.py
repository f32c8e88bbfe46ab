"""Which mocap clips train the tracker and which are held out for evaluation (never trained on).

Held out entirely: CMU subject 16 (six runs and jogs, 2.7-4.2 m/s, a runner no training clip shows)
and subject 39 (a walker no training clip shows). Training: subjects 02, 09 and 35 (runs; 09 and 35 are
the same person, calibration "rory3"), 07 and 35 (walks), and DeepMimic's bundled run.
Paths are relative to the CMU folder (``../shared/data/mocap/cmu``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from motionlab.assets import RUN_CLIP


@dataclass(frozen=True)
class MocapClipSpec:
    """One clip: its AMC (relative to the CMU folder), the ASF to use (None: none), and its gait."""

    amc: str
    asf: str | None
    gait: str  # "run" | "walk"

    def paths(self, cmu_dir: str | Path) -> tuple[Path, Path | None]:
        root = Path(cmu_dir)
        return root / self.amc, None if self.asf is None else root / self.asf


def _clip(amc: str, gait: str) -> MocapClipSpec:
    subject = amc.split("/")[0]
    asf = {"07": "07/07.asf", "35": "35/35.asf", "39": "39/39.asf", "09": "35/35.asf"}.get(subject)
    return MocapClipSpec(amc, asf, gait)


TRAIN_CLIPS = (
    *(_clip(a, "run") for a in ("02/02_03.amc", "09/09_01.amc", "09/09_04.amc", "09/09_06.amc", "09/09_11.amc")),
    *(_clip(a, "run") for a in ("35/35_17.amc", "35/35_20.amc", "35/35_21.amc", "35/35_22.amc")),
    *(_clip(a, "walk") for a in ("07/07_01.amc", "07/07_04.amc", "07/07_11.amc", "35/35_01.amc")),
)
HELDOUT_CLIPS = (
    *(_clip(f"16/16_{n}.amc", "run") for n in ("35", "36", "45", "46", "55", "56")),
    _clip("39/39_13.amc", "walk"),
)
HELDOUT_SUBJECTS = ("16", "39")
DEEPMIMIC_RUN = RUN_CLIP  # also trained on (the clip the shipped tracker learned)
DEFAULT_CMU_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap" / "cmu"
