"""Wall time of each stage of the main job on 10 s clips at 30 and 60 fps, 720p, 1080p portrait and 4K
(and the embedded sample), with CPU time, peak memory of all its processes and the machine's load;
optionally against older code, each case run before and after in turn (same load).

    python benchmarks/bench_inference.py [--cases 720p30,720p60,1080p-portrait30,4k30,sample] [--seconds 10]
        [--before DIR]   # DIR: a checkout of the older code, e.g. git archive main | tar -x -C DIR

The clips are made here (kept out of git, cached in ``benchmarks/.clips/``): the MuJoCo humanoid
replaying the real mocap run, filmed by a camera that follows it (``--camera-speed`` is passed, so the
lift knows the camera), rendered at 640 px and scaled up to the clip's size (a real encoded video of that
size and rate). ``sample`` is the embedded sample (keypoints, no video). Each case runs in its own
process with the default settings (``--refine balanced``); ``peak_pss_total_mb`` is the largest sum, over
the job's process and all its descendants (render workers, ffmpeg), of their proportional set size
(shared pages split between the processes sharing them), sampled every 0.2 s (``peak_pss_by_process``:
each kind of process's share at that moment, and when); ``peak_rss_total_mb``
the same sum of resident sizes (counts shared pages once per process: an upper bound). The load
average and CPU seconds (user + system, the job and its children) say how busy the shared machine
was: CPU seconds well below wall seconds times 2 cores means others were using it. Each run also
records the You and Closest gait metrics and the restarts, to show that a speed-up did not change the
results. With ``--before DIR`` each case is run with the code in DIR (its ``motionlab`` package first on
``PYTHONPATH``; the env, policy and asset packages are this checkout's) and then with this checkout's.
Target (issue #12): any 10 s clip <= 15 s on 2 cores and <= 2 GB. Writes ``benchmarks/results/inference.json``
(or ``--out``).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parent.parent  # this checkout's motionlab, also in the per-case processes
RESULTS = Path(__file__).parent / "results" / "inference.json"
CLIPS = Path(__file__).parent / ".clips"
CASES = {  # name: (width, height, fps) of the clip, None for the embedded sample
    "720p30": (1280, 720, 30),
    "720p60": (1280, 720, 60),
    "1080p-portrait30": (1080, 1920, 30),
    "4k30": (3840, 2160, 30),
    "sample": None,  # the embedded sample: keypoints of real running mocap, no video
}
METRICS = ("cadence", "contact_time_left", "contact_time_right", "flight_time", "vertical_oscillation",
           "knee_flexion_contact", "trunk_lean", "overstride")  # fmt: skip
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


def run_case(video: Path | None, seconds: float) -> dict:
    """Run the main job on ``video`` (None: the embedded sample) in this process; timings, CPU, results."""
    from rich.console import Console

    import motionlab
    from motionlab.inference.pipeline import InferenceConfig, run_inference

    with tempfile.TemporaryDirectory() as tmp:
        start, cpu0 = time.perf_counter(), os.times()
        speed = SPEED if video is not None else None
        report = run_inference(
            InferenceConfig(out=Path(tmp) / "r.mp4", video=video, seconds=seconds, camera_speed=speed), Console(stderr=True)
        )
        wall, cpu1 = time.perf_counter() - start, os.times()
    cpu = sum(getattr(cpu1, k) - getattr(cpu0, k) for k in ("user", "system", "children_user", "children_system"))
    extra = report["extra"]

    def metrics(column: str) -> dict:
        return {k: None if report[column][k]["value"] is None else round(report[column][k]["value"], 2) for k in METRICS}

    return {
        "code": str(Path(motionlab.__file__).parent.parent),
        "total_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "stages_s": {k: round(v, 2) for k, v in extra["stage_seconds"].items()},
        "stages_cpu_s": {k: round(v, 2) for k, v in extra.get("stage_cpu_seconds", {}).items()},  # newer code only
        "keypoint_fps": extra["keypoints"].get("fps"),
        "verdict": report["verdict"]["level"],
        "restarts": {"closest": extra["closest"]["restarts"], "ideal": extra["ideal"]["restarts"]},
        "you": metrics("you"),
        "closest": metrics("closest"),
    }


def _role(pid: int, root: int) -> str:
    """What process ``pid`` of the job's tree is: the job itself, a render worker, ffmpeg or other."""
    if pid == root:
        return "job"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    return "ffmpeg" if "ffmpeg" in cmd else "render worker" if "multiprocessing.spawn" in cmd else "other"


_libc = ctypes.CDLL(None, use_errno=True)
_SYS_KCMP = {"x86_64": 312, "aarch64": 272}.get(platform.machine())


def _shares_memory(pid: int, other: int) -> bool:
    """Whether processes ``pid`` and ``other`` have one address space (Linux ``kcmp(KCMP_VM)``): a child
    made by ``vfork``/``posix_spawn`` (how Python starts ffmpeg) until it calls ``exec``. Its smaps then
    are its parent's, and counting both would count the parent twice."""
    return _SYS_KCMP is not None and _libc.syscall(_SYS_KCMP, pid, other, 1, 0, 0) == 0  # 1: KCMP_VM


def _tree_memory_mb(root: int) -> tuple[float, float, dict[str, float]]:
    """(PSS, RSS) summed over process ``root`` and its descendants, in MB (0 for vanished processes), and
    the PSS summed by role (:func:`_role`)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        kids = [p for p, pp in parents.items() if pp in frontier and p not in tree]
        tree.update(kids)
        frontier = kids
    pss = rss = 0.0
    pss_by_role: dict[str, float] = {}
    for pid in tree:
        if pid != root and _shares_memory(pid, parents[pid]):
            continue  # not started yet: its memory is its parent's, counted there
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith(("Pss:", "Rss:")):
                        kb = float(line.split()[1]) / 1024
                        pss, rss = (pss + kb, rss) if line.startswith("Pss:") else (pss, rss + kb)
                        if line.startswith("Pss:"):
                            role = _role(pid, root)
                            pss_by_role[role] = pss_by_role.get(role, 0.0) + kb
        except OSError:
            continue
    return pss, rss, pss_by_role


def run_in_process(name: str, seconds: float, code: Path) -> dict:
    """Run case ``name`` in a fresh process with the ``motionlab`` package of ``code``; adds the peak
    memory of its process tree and the load average around it."""
    clip = make_clip(name, seconds) if CASES[name] is not None else None
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")])}
    args = [sys.executable, __file__, "--one", str(clip or "sample"), "--seconds", str(seconds)]
    load_before = os.getloadavg()[0]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak, at_peak = [0.0, 0.0], {}
    start = time.perf_counter()

    def sample() -> None:
        while proc.poll() is None:
            pss, rss, pss_by_role = _tree_memory_mb(proc.pid)
            if pss > peak[0]:
                at_peak.update(
                    seconds=round(time.perf_counter() - start, 1),
                    pss_mb={k: round(v, 1) for k, v in pss_by_role.items()},
                )
            peak[0], peak[1] = max(peak[0], pss), max(peak[1], rss)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    line = next((s for s in out.splitlines() if s.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{name} ({code}) failed:\n{err[-3000:]}")
    result = json.loads(line[7:])
    result.update(
        peak_pss_total_mb=round(peak[0], 1),
        peak_rss_total_mb=round(peak[1], 1),
        peak_pss_by_process=at_peak,  # the processes' PSS (MB, by role) at the PSS peak, and when (s after start)
        load_avg_1min_before_after=[round(load_before, 2), round(os.getloadavg()[0], 2)],
    )
    return result


def _print(name: str, label: str, run: dict) -> None:
    print(f"\n{name} [{label}]: total {run['total_s']:.1f} s (CPU {run['cpu_s']:.1f} s), peak memory "
          f"{run['peak_pss_total_mb']:.0f} MB PSS / {run['peak_rss_total_mb']:.0f} MB RSS (all processes), "
          f"load {run['load_avg_1min_before_after']}, restarts {run['restarts']}\n  at the peak: {run['peak_pss_by_process']}")  # fmt: skip
    for stage, secs in run["stages_s"].items():
        cpu = run["stages_cpu_s"].get(stage)
        print(f"  {stage:<28}{secs:>7.2f} s" + (f"  (CPU {cpu:.2f} s)" if cpu is not None else ""))
    print(f"  you: {run['you']}\n  closest: {run['closest']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--before", type=Path, default=None, help="a checkout of older code to run first, case by case")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON (default: %(default)s)")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: run one clip, print JSON
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(run_case(None if args.one == "sample" else Path(args.one), args.seconds)))
        return
    results = {
        "machine": platform.processor() or platform.machine(), "cores": os.cpu_count(), "seconds": args.seconds,
        "before_code": str(args.before) if args.before else None, "runs": {},
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip
    for name in args.cases.split(","):
        clip = {"size": CASES[name][:2], "fps": CASES[name][2]} if CASES[name] else "embedded sample"
        runs = {"clip": clip}
        for label, code in ([("before", args.before)] if args.before else []) + [("after", REPO)]:
            runs[label] = run_in_process(name, args.seconds, code)
            _print(name, label, runs[label])
        results["runs"][name] = runs
    results["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
