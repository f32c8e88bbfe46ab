"""File output that never leaves half-written or clobbered files.

- :func:`atomic_write`: one file through a temporary name, renamed into place on success.
- :func:`output_set`: several outputs of one run (e.g. MP4, JSON, PNG) written under temporary names
  and renamed into place together once all exist, under a lock so two runs to the same paths fail
  clearly instead of racing.
- :func:`atomic_directory`: the same for a directory (checkpoints); :func:`remove_partials` clears
  what a killed process left.
- :func:`check_outputs`: before any work, every output is writable, not a directory and not an input.
- :func:`terminate_like_interrupt`: SIGTERM unwinds like Ctrl-C, so temporary files are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from motionlab.errors import OutputPathError, UserError


def _temp_beside(path: Path) -> Path:
    """A new empty file beside ``path`` with normal permissions; its name keeps the final suffix
    (encoders pick the format from it) and starts with a dot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the final file normal permissions
    return Path(tmp)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    tmp_path = _temp_beside(path)
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


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the file ``path`` (created if missing) for the ``with`` block;
    if another process holds it, raise :class:`~motionlab.errors.UserError` naming ``what``. The lock
    dies with its process (a killed run leaves no stale lock); the file stays."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise UserError(f"{what} is in use by another process (pid {holder}); wait for it or stop it") from None
        except OSError:  # a file system without locks (some network mounts): go on unlocked
            yield
            return
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


def check_outputs(outputs: Sequence[str | os.PathLike], inputs: Sequence[str | os.PathLike | None] = ()) -> None:
    """Before the work starts: each output must not be a directory nor (resolve to) an input file, and
    its folder must exist or be creatable, and be writable (probed with a real temporary file).
    Raises :class:`OutputPathError` naming the path and what to do."""
    resolved_inputs = {Path(p).resolve() for p in inputs if p is not None}
    for out in map(Path, outputs):
        if out.is_dir():
            raise OutputPathError(f"{out} is a directory; give a file name, e.g. {out / ('output' + out.suffix)}")
        if out.resolve() in resolved_inputs:
            raise OutputPathError(f"{out} is also an input; writing it would overwrite the input, choose another name")
        try:
            _temp_beside(out).unlink()
        except OSError as exc:
            raise OutputPathError(
                f"cannot write {out} ({exc.strerror or exc}); choose a folder you can write to"
            ) from None


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive, non-blocking lock on ``path``'s lock file (released when the process dies)."""
    lock_path = path.with_name(f".{path.name}.lock")
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputPathError(
                f"another run is writing {path} right now; wait for it or choose another --out"
            ) from None
        try:  # the holder before us may have removed the file after we opened it: lock the current one
            if os.stat(lock_path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        lock_path.unlink(missing_ok=True)
        os.close(fd)


@contextlib.contextmanager
def output_set(paths: Sequence[str | os.PathLike]) -> Iterator[list[Path]]:
    """Temporary paths for all outputs of one run; when the block succeeds they are renamed into place
    together (none appears before every one of them is complete), otherwise removed. The first path's
    lock makes a second run writing the same set fail at once with :class:`OutputPathError`. Temporary
    files of these outputs left by a killed earlier run (SIGKILL runs no cleanup) are removed first."""
    finals = [Path(p) for p in paths]
    finals[0].parent.mkdir(parents=True, exist_ok=True)
    with _lock(finals[0]):
        for final in finals:  # the lock is ours: no live run is writing these
            for stale in final.parent.glob(f".{final.stem}.*.partial{final.suffix}"):
                stale.unlink(missing_ok=True)
        temps: list[Path] = []
        try:
            for final in finals:
                temps.append(_temp_beside(final))
            yield temps
            for tmp, final in zip(temps, finals):
                os.replace(tmp, final)
        finally:
            for tmp in temps:
                tmp.unlink(missing_ok=True)


def terminate_like_interrupt() -> None:
    """Make SIGTERM (``kill``, Slurm, container stop) unwind the program like Ctrl-C: ``finally`` blocks
    run and temporary files are removed. Only in the main thread, and only where nobody else handles
    SIGTERM yet (e.g. submitit's preemption handler is kept); processes forked later (render workers)
    still die on SIGTERM as by default."""

    installer = os.getpid()

    def _raise(signum: int, frame: Any) -> None:
        if os.getpid() != installer:  # a forked worker (e.g. a render process): die as by default
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise)


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
