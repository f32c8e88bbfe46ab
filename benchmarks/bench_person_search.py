"""Automatic crop (who to follow), before/after a code change, in one run under the same load.

Usage::

    python benchmarks/bench_person_search.py                   # this checkout against commit d4be6b5
    python benchmarks/bench_person_search.py --before-rev HEAD~3 --empty-seconds 30

Two measurements, each run in a fresh Python process on the code of ``--before-rev`` (unpacked with
``git archive``) and on this checkout:

- *nobody in the video*: an empty 320x240 scene of ``--empty-seconds`` at 10 fps; CPU time (the
  process's user + system, all threads) until :func:`~motionlab.video.pose.extract_keypoints` stops with
  its "no person found" error, and the error's text.
- *identity in a crowd*: the first ``--vtest-frames`` of ``../shared/data/media/vtest.avi`` (real
  pedestrians, too small for the full frame); frames with a pose, and switches of person (the hips
  moving more than 15 px per frame between frames with a pose: a walker at 10 fps moves 2-7).

Prints the table and writes ``benchmarks/results/person_search.json`` with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import numpy as np

from motionlab.io_utils import record_json_run
from motionlab.video.writer import VideoWriter

REPO = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO / "benchmarks" / "results" / "person_search.json"
VTEST = REPO.parent / "shared" / "data" / "media" / "vtest.avi"
SWITCH_PX_PER_FRAME = 15.0

CHILD = r"""
import json, resource, sys
import numpy as np
from motionlab.video.pose import extract_keypoints
from motionlab.errors import NoPoseError
empty, vtest, frames, switch = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
tic = cpu()
try:
    extract_keypoints(empty, smoothing=None)
    error = None
except NoPoseError as exc:
    error = str(exc).split(": ", 1)[1]
import motionlab
out = {"code": motionlab.__file__, "empty_video_cpu_s": round(cpu() - tic, 2), "empty_video_error": error}
reference, summary = extract_keypoints(vtest, max_frames=frames, smoothing=None)
seen = np.flatnonzero(reference.keypoints2d_valid)
hips = reference.keypoints_px()[seen][:, [23, 24]].mean(axis=1)
step = np.linalg.norm(np.diff(hips, axis=0), axis=1) / np.diff(seen)
out.update(vtest_frames=frames, vtest_frames_with_pose=int(len(seen)),
           vtest_person_switches=int((step > switch).sum()),
           vtest_switch_frames=[int(f) for f in seen[1:][step > switch]])
print(json.dumps(out))
"""


def _empty_video(path: Path, seconds: float) -> None:
    """An empty scene (a field lit from one side, a track, a sign), ``seconds`` long at 10 fps."""
    image = np.zeros((240, 320, 3), np.uint8)
    image[..., 1] = np.linspace(60, 200, 320, dtype=np.uint8)
    image[150:, :, 0] = 150
    image[30:70, 50:120] = (200, 200, 210)
    with VideoWriter(path, 10.0) as writer:
        for _ in range(int(seconds * 10)):
            writer.write(image)


def _source_at(rev: str, into: Path) -> Path:
    """The ``motionlab`` package as of ``rev``, unpacked under ``into``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "motionlab"], check=True, capture_output=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def _measure(pythonpath: Path, empty: Path, args: argparse.Namespace) -> dict:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    argv = [str(empty), str(VTEST), str(args.vtest_frames), str(SWITCH_PX_PER_FRAME)]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *argv], env=env, cwd=empty.parent, check=True, capture_output=True, text=True
    )  # not from the repository, whose ./motionlab would come first on sys.path
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before-rev", default="d4be6b5")
    parser.add_argument("--empty-seconds", type=float, default=20.0)
    parser.add_argument("--vtest-frames", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.mp4"
        _empty_video(empty, args.empty_seconds)
        before = _measure(_source_at(args.before_rev, Path(tmp) / "before"), empty, args)
        after = _measure(REPO, empty, args)
    for key in before:
        print(f"{key:28s} before: {before[key]}\n{'':28s} after:  {after[key]}")
    record = {
        "before_rev": args.before_rev,
        "empty_seconds": args.empty_seconds,
        "load_average": list(os.getloadavg()),
        "before": before,
        "after": after,
    }
    record_json_run(RESULTS_PATH, f"{args.before_rev}_vs_this_{args.empty_seconds:g}s", record)
    print(f"wrote {RESULTS_PATH}")


if __name__ == "__main__":
    main()
