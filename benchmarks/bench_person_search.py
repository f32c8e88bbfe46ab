"""Automatic crop (who to follow), before/after a code change, in one run under the same load.

Usage::

    python benchmarks/bench_person_search.py                   # this checkout against commit d4be6b5
    python benchmarks/bench_person_search.py --before-rev HEAD~3 --empty-seconds 30
    python benchmarks/bench_person_search.py --part identity --before-rev main [--keep DIR]

``--part search`` (default): two measurements, each run in a fresh Python process on the code of
``--before-rev`` (unpacked with ``git archive``) and on this checkout:

- *nobody in the video*: an empty 320x240 scene of ``--empty-seconds`` at 10 fps; CPU time (the
  process's user + system, all threads) until :func:`~motionlab.video.pose.extract_keypoints` stops with
  its "no person found" error, and the error's text.
- *identity in a crowd*: the first ``--vtest-frames`` of ``../shared/data/media/vtest.avi`` (real
  pedestrians, too small for the full frame); frames with a pose, and switches of person (the hips
  moving more than 15 px per frame between frames with a pose: a walker at 10 fps moves 2-7).

Prints the table and writes ``benchmarks/results/person_search.json`` with the load average.

``--part identity``: who is followed in ``vtest.avi`` with the README's box ``--roi 380,170,340,230``, the
same two ways, in one run (same load): the first ``--identity-seconds`` of keypoints (frames with a pose,
hidden frames, the CPU time per frame of the keypoint pass), each pose labelled with the person whose hips
(:data:`PEOPLE`, read by eye off 3x zooms of the frames) are nearest, within 20 px, identity switches (label changes
between poses) and poses on someone else; then the main job for ``--job-seconds`` (Closest restarts and
how many "lost the reference", the walker's speed, the verdict; its MP4/JSON/PNG kept under ``--keep``).
Writes ``benchmarks/results/person_search_identity.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from machine import machine
from older_code import source_at

from motionlab.io_utils import record_json_run
from motionlab.video.writer import VideoWriter

REPO = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO / "benchmarks" / "results" / "person_search.json"
IDENTITY_PATH = REPO / "benchmarks" / "results" / "person_search_identity.json"
VTEST_ROI = "380,170,340,230"
# Hip centres (px) at key frames, linearly between them, read by eye off 3x zooms of vtest.avi with a
# 20 px grid (the red jacket's from where MediaPipe put him, checked on the frames): who is where.
PEOPLE = {
    "walker": {0: (667, 286), 10: (566, 283), 20: (458, 277), 24: (431, 264), 32: (415, 250), 40: (448, 230),
               44: (455, 228), 48: (455, 222), 52: (437, 215)},
    "man with the paper": {24: (398, 226), 60: (405, 224)},
    "man in jeans": {30: (390, 215), 60: (392, 215)},
    "man in the red jacket": {59: (490, 253), 70: (461, 235), 80: (458, 215), 92: (482, 200)},
}  # fmt: skip
SAME_PERSON_PX = 20.0
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


CHILD_IDENTITY = r"""
import json, sys, tempfile, time
from pathlib import Path
import numpy as np
from motionlab.video.pose import extract_keypoints, parse_roi
from motionlab.inference.pipeline import InferenceConfig, run_inference
vtest, roi, seconds, job_seconds, keep = sys.argv[1], parse_roi(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
tic = time.process_time()
reference, summary = extract_keypoints(vtest, roi, max_seconds=seconds, smoothing=None)
cpu = time.process_time() - tic
seen = reference.keypoints2d_valid
hips = reference.keypoints_px()[:, [23, 24]].mean(axis=1)
out = {"frames": int(reference.num_frames), "frames_with_pose": int(seen.sum()),
       "frames_hidden": int((~seen[np.argmax(seen):]).sum()), "keypoints_cpu_ms_per_frame": round(1000 * cpu / reference.num_frames, 1),
       "hips": [None if not v else [round(float(x)), round(float(y))] for v, (x, y) in zip(seen, hips)],
       "lost": summary.get("lost"), "not_the_person": summary.get("not_the_person")}
with tempfile.TemporaryDirectory() as tmp:
    path = Path(keep or tmp) / "vtest_job.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    report = run_inference(InferenceConfig(out=path, video=Path(vtest), roi=roi, seconds=job_seconds))
closest = report["extra"]["closest"]
out["main_job"] = {"seconds": report["extra"]["seconds"], "closest_restarts": closest["restarts"],
    "closest_lost_the_reference": closest["restart_kinds"].count("lost the reference"),
    "closest_restart_kinds": closest["restart_kinds"], "user_speed_mps": report["extra"]["user_speed_mps"],
    "user_speed_confidence": report["extra"]["user_speed_confidence"],
    "keypoints_cpu_s": report["extra"]["stage_cpu_seconds"].get("keypoints"),
    "frames_with_pose": report["extra"]["keypoints"].get("frames_with_pose"),
    "verdict": report["verdict"]["headline"], "findings": [f["what"] for f in report["verdict"]["findings"]]}
print(json.dumps(out))
"""


def who(frame: int, hip: list[int] | None) -> str | None:
    """The person of :data:`PEOPLE` whose hips are within :data:`SAME_PERSON_PX` of ``hip`` at ``frame``
    ("someone" when nobody known is), or None without a pose."""
    if hip is None:
        return None
    near = []
    for name, track in PEOPLE.items():
        frames = sorted(track)
        if frames[0] <= frame <= frames[-1]:
            at = [np.interp(frame, frames, [track[f][i] for f in frames]) for i in (0, 1)]
            near.append((float(np.hypot(hip[0] - at[0], hip[1] - at[1])), name))
    distance, name = min(near, default=(np.inf, "someone"))
    return name if distance <= SAME_PERSON_PX else "someone"


def identity_scores(measured: dict) -> dict:
    """Who each pose is on, the switches between them and the poses on someone other than the walker."""
    labels = [who(frame, hip) for frame, hip in enumerate(measured.pop("hips"))]
    posed = [(frame, label) for frame, label in enumerate(labels) if label is not None]
    switches = [frame for (_, a), (frame, b) in zip(posed, posed[1:]) if a != b]
    runs: list[list] = []
    for frame, label in posed:
        if runs and runs[-1][0] == label:
            runs[-1][2] = frame
        else:
            runs.append([label, frame, frame])
    return {**measured, "identity_switches": len(switches), "switch_frames": switches,
            "poses_on_someone_else": sum(label != "walker" for _, label in posed),
            "followed": [f"{label} {a}-{b}" for label, a, b in runs]}  # fmt: skip


def _measure_identity(pythonpath: Path, args: argparse.Namespace, keep: Path | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    argv = [str(VTEST), VTEST_ROI, str(args.identity_seconds), str(args.job_seconds), str(keep or "")]
    done = subprocess.run(
        [sys.executable, "-c", CHILD_IDENTITY, *argv], env=env, cwd=pythonpath, check=True, capture_output=True, text=True
    )
    return identity_scores(json.loads(done.stdout.strip().splitlines()[-1]))


def identity(args: argparse.Namespace) -> None:
    """``--part identity`` (module docstring): before and after in one run, saved to :data:`IDENTITY_PATH`."""
    with tempfile.TemporaryDirectory() as tmp:
        code = source_at(args.before_rev, Path(tmp) / "before", ("motionlab", "assets"))
        before = _measure_identity(code, args, args.keep and args.keep / "before")
        after = _measure_identity(REPO, args, args.keep and args.keep / "after")
    for key in after:
        print(f"{key:28s} before: {before[key]}\n{'':28s} after:  {after[key]}")
    record = {
        "script": "benchmarks/bench_person_search.py --part identity", "video": "vtest.avi", "roi": VTEST_ROI,
        "before_rev": args.before_rev, "identity_seconds": args.identity_seconds, "job_seconds": args.job_seconds,
        "machine": machine(), "before": before, "after": after,
    }  # fmt: skip
    record_json_run(IDENTITY_PATH, f"{args.before_rev}_vs_this", record)
    print(f"wrote {IDENTITY_PATH}")


def _empty_video(path: Path, seconds: float) -> None:
    """An empty scene (a field lit from one side, a track, a sign), ``seconds`` long at 10 fps."""
    image = np.zeros((240, 320, 3), np.uint8)
    image[..., 1] = np.linspace(60, 200, 320, dtype=np.uint8)
    image[150:, :, 0] = 150
    image[30:70, 50:120] = (200, 200, 210)
    with VideoWriter(path, 10.0) as writer:
        for _ in range(int(seconds * 10)):
            writer.write(image)


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
    parser.add_argument("--part", choices=("search", "identity"), default="search")
    parser.add_argument("--identity-seconds", type=float, default=10.0)
    parser.add_argument("--job-seconds", type=float, default=6.0)
    parser.add_argument("--keep", type=Path, default=None, help="identity: keep the main job's outputs here")
    args = parser.parse_args()
    if args.part == "identity":
        identity(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.mp4"
        _empty_video(empty, args.empty_seconds)
        before = _measure(source_at(args.before_rev, Path(tmp) / "before"), empty, args)
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
