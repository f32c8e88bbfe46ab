"""Command-line arguments shared by the benchmarks that render test videos (``motionlab.synthetic``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_rendered_video_arguments(parser: argparse.ArgumentParser, default_setups: str, mocap_dir: Path) -> None:
    """``--setups``, ``--videos-dir`` (rendered videos and keypoints kept and reused there), ``--mocap-dir``
    and the body's ``--height``/``--mass``."""
    parser.add_argument("--setups", default=default_setups, help="comma-separated setups")
    parser.add_argument("--videos-dir", type=Path, default=None, help="keep rendered videos and keypoints here (reused)")
    parser.add_argument("--mocap-dir", type=Path, default=mocap_dir, help="folder holding the CMU clips")
    parser.add_argument("--height", type=float, default=1.75)
    parser.add_argument("--mass", type=float, default=70.0)
