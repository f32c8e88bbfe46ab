"""The project's code as of an older git revision, for benchmarks that measure before and after in one run."""

from __future__ import annotations

import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def source_at(rev: str, into: Path, paths: tuple[str, ...] = ("motionlab",)) -> Path:
    """The ``motionlab`` package (and other ``paths``) as of ``rev``, unpacked under ``into`` (put it first on
    ``PYTHONPATH`` of a subprocess to run that code)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, *paths], check=True, capture_output=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into
