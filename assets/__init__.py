"""Packaged data: the humanoid template, the bundled mocap clip, default references and checkpoints.

See ``PROVENANCE.md`` in this folder for where each file comes from and how it was made."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

ASSETS_DIR = Path(str(resources.files(__package__)))
HUMANOID_TEMPLATE = ASSETS_DIR / "mjcf" / "humanoid.xml"
RUN_CLIP = ASSETS_DIR / "mocap" / "humanoid3d_run.txt"
DEFAULT_REFERENCE = ASSETS_DIR / "references" / "run_default.npz"
DEFAULT_WALK_REFERENCE = ASSETS_DIR / "references" / "walk_default.npz"  # CMU 07_01 on the default body
SAMPLE_INPUT = ASSETS_DIR / "references" / "sample_input.npz"
CHECKPOINT_DIR = ASSETS_DIR / "checkpoints"
