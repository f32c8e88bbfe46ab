"""Wall time of the whole test suite, as CI runs it.

    python benchmarks/bench_suite.py

Runs ``python -m pytest -q`` in a subprocess and records the wall time, the CPU time of the test processes
(user + system, subprocesses included: on an otherwise idle 2-core machine the wall time is about half
of it or more), pytest's summary line, failures, the ten slowest tests and the machine's load average
(other work on the machine stretches the wall time) in ``benchmarks/results/suite.json``.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from motionlab.io_utils import record_json_run

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "suite.json"


def main() -> None:
    load_before = os.getloadavg()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "--durations=10"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = proc.stdout.splitlines()
    summary = next((line.strip("= ") for line in reversed(lines) if re.search(r"\d+ (passed|failed)", line)), "")
    slowest = [line for line in lines if re.match(r"^\d+\.\d+s (call|setup|teardown)", line)]
    record = {
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "failed": [line for line in lines if line.startswith(("FAILED", "ERROR"))],
        "summary": summary,
        "exit_code": proc.returncode,
        "slowest": slowest,
        "cpu_count": os.cpu_count(),
        "load_average_1min": {"before": round(load_before[0], 1), "after": round(os.getloadavg()[0], 1)},
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"{summary} in {wall:.0f} s wall, {record['cpu_s']:.0f} s CPU (load average {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print("\n".join(slowest))
    record_json_run(RESULTS, "python -m pytest -q", record)
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
