"""benchmarks/bench_inference.py's memory sampler: the peak memory of the main job's process tree."""

import importlib.util
import os
import subprocess
import sys
import time

import pytest
from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location("bench_inference", REPO_ROOT / "benchmarks" / "bench_inference.py")
bench_inference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_inference)


def _pss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        return next(float(line.split()[1]) / 1024 for line in f if line.startswith("Pss:"))


@pytest.mark.skipif(not hasattr(os, "posix_spawn") or bench_inference._SYS_KCMP is None, reason="Linux only")
def test_a_child_not_yet_started_is_not_counted_as_a_second_copy_of_its_parent(tmp_path):
    """A process starting a program (Python's subprocess and posix_spawn use vfork) has, until the
    program starts, a child that shares its address space: smaps reads the parent's memory for it too.
    Sampled in that window the tree's sum counted the job twice (issue #12's 4K run: 1818 MB, job
    858 MB + its not-yet-started child 858 MB). Here the child is held in that window on a FIFO opened
    by posix_spawn before exec."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    spawn = (
        f"import os; pid = os.posix_spawn('/bin/true', ['true'], os.environ, "
        f"file_actions=[(os.POSIX_SPAWN_OPEN, 3, {str(fifo)!r}, os.O_RDONLY, 0)]); os.waitpid(pid, 0)"
    )
    parent = subprocess.Popen([sys.executable, "-c", spawn])
    try:
        for _ in range(100):  # wait until the child exists and shares the parent's memory
            kids = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent_of(int(p)) == parent.pid]
            if kids and bench_inference._shares_memory(kids[0], parent.pid):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the spawned child did not appear")
        pss, _, by_role = bench_inference._tree_memory_mb(parent.pid)
        assert pss == pytest.approx(_pss_mb(parent.pid), rel=0.1)
        assert set(by_role) == {"job"}
    finally:
        with open(fifo, "w"):
            pass  # lets the child open its end and start /bin/true
        parent.wait(timeout=10)


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
