"""Wall time of each stage of the main job on 10 s clips at 30 and 60 fps, 720p, 1080p portrait and 4K,
with CPU time, peak memory and the machine's load.

    python benchmarks/bench_inference.py [--cases 720p30,720p60,1080p-portrait30,4k30] [--seconds 10]

The clips are made here (kept out of git, cached in ``benchmarks/.clips/``): the MuJoCo humanoid
replaying the real mocap run, filmed by a camera that follows it (``--camera-speed`` is passed, so the
lift knows the camera), rendered at 640 px and scaled up to the clip's size (a real encoded video of that
size and rate: decoding and MediaPipe see every frame). Each case runs in its own process, so its peak
memory is its own: ``peak_rss_mb`` is the main process; ``child_peak_rss_mb`` the largest child (a render
worker or ffmpeg); ``peak_total_bound_mb`` = main + 3 x that bound, an upper bound on the sum. The load
average and CPU seconds (user + system, main and children) say how busy the shared machine was: CPU
seconds well below wall seconds times 2 cores means others were using it. Target (issue #12): any 10 s
clip <= 15 s on 2 cores and <= 2 GB. Writes ``benchmarks/results/inference.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parent.parent  # this checkout's motionlab, also in the per-case processes
RESULTS = Path(__file__).parent / "results" / "inference.json"
CLIPS = Path(__file__).parent / ".clips"
CASES = {  # name: (width, height, fps)
    "720p30": (1280, 720, 30),
    "720p60": (1280, 720, 60),
    "1080p-portrait30": (1080, 1920, 30),
    "4k30": (3840, 2160, 30),
}
SPEED = 3.69  # m/s: the mocap run's speed, which the rendering camera follows


def make_clip(name: str, seconds: float) -> Path:
    """The clip of case ``name`` (made once, then cached)."""
    import numpy as np

    from motionlab.assets import DEFAULT_REFERENCE
    from motionlab.humanoid import build_model
    from motionlab.motion import resample_qpos
    from motionlab.reference import load_reference
    from motionlab.render import HumanoidRenderer
    from motionlab.video.writer import VideoWriter

    w, h, fps = CASES[name]
    path = CLIPS / f"runner_{name}_{seconds:g}s.mp4"
    if path.exists():
        return path
    CLIPS.mkdir(exist_ok=True)
    ref = load_reference(DEFAULT_REFERENCE)
    times = np.arange(int(round(seconds * fps)) + 1) / fps
    qpos = resample_qpos(ref.qpos, ref.fps, np.minimum(times, ref.duration))
    scale = 640 / max(w, h)
    rw, rh = int(round(w * scale / 2)) * 2, int(round(h * scale / 2)) * 2
    with HumanoidRenderer(build_model(ref.body), rw, rh, shadows=False, reflections=False) as r, VideoWriter(path, fps) as out:
        for q in qpos:
            out.write(cv2.resize(r.render(q), (w, h), interpolation=cv2.INTER_LINEAR))
    return path


def run_case(video: Path, seconds: float) -> dict:
    """Run the main job on ``video`` in this process; timings, CPU and memory."""
    import resource

    from rich.console import Console

    from motionlab.inference.pipeline import InferenceConfig, run_inference

    with tempfile.TemporaryDirectory() as tmp:
        load_before = os.getloadavg()
        start, cpu0 = time.perf_counter(), os.times()
        report = run_inference(
            InferenceConfig(out=Path(tmp) / "r.mp4", video=video, seconds=seconds, camera_speed=SPEED), Console(stderr=True)
        )
        wall, cpu1 = time.perf_counter() - start, os.times()
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(cpu1, k) - getattr(cpu0, k) for k in ("user", "system", "children_user", "children_system"))
    return {
        "total_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "stages_s": {k: round(v, 2) for k, v in report["extra"]["stage_seconds"].items()},
        "peak_rss_mb": round(own.ru_maxrss / 1024, 1),
        "child_peak_rss_mb": round(kids.ru_maxrss / 1024, 1),
        "peak_total_bound_mb": round((own.ru_maxrss + 3 * kids.ru_maxrss) / 1024, 1),
        "load_avg_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "verdict": report["verdict"]["level"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: run one clip, print JSON
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(run_case(Path(args.one), args.seconds)))
        return
    results = {"machine": platform.processor() or platform.machine(), "cores": os.cpu_count(), "seconds": args.seconds, "runs": {}}
    for name in args.cases.split(","):
        clip = make_clip(name, args.seconds)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(clip), "--seconds", str(args.seconds)], capture_output=True, text=True, env=env
        )
        line = next((s for s in proc.stdout.splitlines() if s.startswith("RESULT ")), None)
        if line is None:
            raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
        results["runs"][name] = {"clip": {"size": CASES[name][:2], "fps": CASES[name][2]}, **json.loads(line[7:])}
        run = results["runs"][name]
        print(f"\n{name}: total {run['total_s']:.1f} s (CPU {run['cpu_s']:.1f} s), peak {run['peak_rss_mb']:.0f} MB "
              f"+ children <= {run['child_peak_rss_mb']:.0f} MB each, load {run['load_avg_1min_before_after']}")  # fmt: skip
        for stage, secs in run["stages_s"].items():
            print(f"  {stage:<28}{secs:>7.2f} s")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
