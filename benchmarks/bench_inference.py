"""Wall time of each stage of the main job for a 10 s, 30 fps input, and peak memory.

    python benchmarks/bench_inference.py [--video run.mp4 --camera-speed 3.7] [--seconds 10]

Without ``--video`` the input is a real 10 s, 30 fps video of a running figure made here: the MuJoCo
humanoid replaying the real mocap run (640x480, filmed by a camera that follows it), so every stage,
MediaPipe included, runs on 300 frames. Also times the embedded-sample path (no MediaPipe). Targets
(issue #5): whole job <= 30 s on the 2-core CPU machine, peak memory <= 2 GB. Prints a table and writes
``benchmarks/results/inference.json``.
"""

from __future__ import annotations

import argparse
import platform
import resource
import tempfile
import time
from pathlib import Path

from rich.console import Console

from motionlab.assets import DEFAULT_REFERENCE
from motionlab.humanoid import build_model
from motionlab.inference.pipeline import InferenceConfig, run_inference
from motionlab.io_utils import write_json
from motionlab.reference import load_reference
from motionlab.render import HumanoidRenderer
from motionlab.video.writer import VideoWriter

RESULTS = Path(__file__).parent / "results" / "inference.json"


def make_runner_video(path: Path, seconds: float) -> Path:
    ref = load_reference(DEFAULT_REFERENCE)
    n = int(round(seconds * ref.fps)) + 1
    with HumanoidRenderer(build_model(ref.body), 640, 480, shadows=False, reflections=False) as r, VideoWriter(path, ref.fps) as w:
        for q in ref.qpos[:n]:
            w.write(r.render(q))
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=None)
    parser.add_argument("--camera-speed", type=float, default=None)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    console = Console(stderr=True)
    results = {"machine": platform.processor() or platform.machine(), "seconds": args.seconds, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        video, speed = args.video, args.camera_speed
        if video is None:
            video, speed = make_runner_video(Path(tmp) / "runner.mp4", args.seconds), 3.69
        for name, cfg in {
            "video (MediaPipe included)": InferenceConfig(out=Path(tmp) / "v.mp4", video=video, seconds=args.seconds, camera_speed=speed),
            "embedded sample": InferenceConfig(out=Path(tmp) / "s.mp4", seconds=args.seconds),
        }.items():
            start = time.perf_counter()
            report = run_inference(cfg, console)
            total = time.perf_counter() - start
            results["runs"][name] = {"total_s": total, "stages_s": report["extra"]["stage_seconds"]}
    results["peak_rss_mb"] = peak_rss_mb()
    for name, run in results["runs"].items():
        print(f"\n{name}: total {run['total_s']:.1f} s")
        for stage, secs in run["stages_s"].items():
            print(f"  {stage:<28}{secs:>7.2f} s")
    print(f"\npeak memory (RSS): {results['peak_rss_mb']:.0f} MB")
    write_json(RESULTS, results)
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
