"""Atomic file and directory output: a reader (or a crash) never sees a half-written file or directory."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    The temporary name keeps the final suffix (encoders pick the format from it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; give the final file normal permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def _backup(final: Path) -> Path:
    return final.with_name(f".{final.name}.old")


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a new temporary directory beside ``path`` (``.<name>.*.partial``); on success it replaces
    ``path`` (a previous ``path`` is kept as ``.<name>.old`` until the swap is done), on error it is
    removed. A kill leaves the old or the new directory, never a partial one (see :func:`recover_directory`)."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp creates 0700
    try:
        yield tmp
        backup = _backup(final)
        if final.exists():
            shutil.rmtree(backup, ignore_errors=True)
            os.replace(final, backup)
        os.replace(tmp, final)
        shutil.rmtree(backup, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def recover_directory(path: str | os.PathLike) -> Path | None:
    """``path`` if it is a directory, restoring the backup that :func:`atomic_directory` leaves when
    killed mid-swap; None if there is neither."""
    final = Path(path)
    backup = _backup(final)
    if not final.exists() and backup.is_dir():
        os.replace(backup, final)
    return final if final.is_dir() else None


def remove_partials(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files and directories (``.*.partial*``) that :func:`atomic_write` and
    :func:`atomic_directory` leave in ``folder`` when their process is killed; returns what was removed.
    Call it only where no other process is writing (e.g. a run directory when its run starts)."""
    removed = []
    for path in sorted(Path(folder).glob(".*.partial*")):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return Path(path)


def record_json_run(path: str | os.PathLike, key: str, record: Any) -> Path:
    """Add ``record`` under ``runs[key]`` of the JSON results file ``path`` (kept across runs; an
    unreadable file starts afresh), mark it ``latest`` and write the file atomically."""
    path = Path(path)
    data: dict[str, Any] = {"runs": {}}
    if path.exists():
        try:
            data = json.loads(path.read_text())
            data.setdefault("runs", {})
        except (json.JSONDecodeError, OSError):
            data = {"runs": {}}
    data["runs"][key] = record
    data["latest"] = key
    return write_json(path, data)
