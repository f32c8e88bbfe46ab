"""The project's code as of an older git revision, for benchmarks that measure before and after in one run."""

from __future__ import annotations

import importlib.util
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def source_at(rev: str, into: Path, paths: tuple[str, ...] = ("motionlab",)) -> Path:
    """The ``motionlab`` package (and other ``paths``) as of ``rev``, unpacked under ``into`` (put it first on
    ``PYTHONPATH`` of a subprocess to run that code)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, *paths], check=True, capture_output=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def module_at(rev: str, module: str, into: Path) -> ModuleType:
    """The module ``module`` (dotted, e.g. ``motionlab.video.swaps``) as of ``rev``: its one file unpacked
    under ``into`` and loaded under a name of its own; what it imports comes from the current code."""
    relative = module.replace(".", "/") + ".py"
    source_at(rev, into, (relative,))
    spec = importlib.util.spec_from_file_location(f"{module}_at_{rev}".replace(".", "_"), into / relative)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def commit_of(rev: str) -> str:
    """The commit hash ``rev`` names (for the results file: "main" moves)."""
    return subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", rev], check=True, capture_output=True, text=True
    ).stdout.strip()
