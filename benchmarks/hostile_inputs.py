"""Re-run the hostile-input table of issue 14 and count tracebacks, silent wrong outputs, temporary files
left behind and overwritten inputs (target: 0 of each).

Every command case runs the real console scripts in a subprocess, in a scratch folder; env and library
cases run in-process. Prints a table and saves ``benchmarks/results/hostile_inputs.json``.

    python benchmarks/hostile_inputs.py
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import motionlab  # noqa: F401  (registers the envs)
from motionlab.assets import CHECKPOINT_DIR, DEFAULT_REFERENCE
from motionlab.body import BodyParams, random_body
from motionlab.io_utils import record_json_run
from motionlab.video.writer import VideoWriter

RESULTS = Path(__file__).resolve().parent / "results" / "hostile_inputs.json"
INFER = [sys.executable, "-m", "motionlab.commands.infer"]
MOTIONLAB = [sys.executable, "-m", "motionlab.cli"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rewrite(path: Path, **changes: Any) -> Path:
    with np.load(DEFAULT_REFERENCE, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    np.savez(path, **arrays)
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*") if "partial" in p.name or p.name.endswith(".lock"))


def run_command(name: str, argv: list[str], work: Path, inputs: list[Path], sigterm_after: Path | None = None) -> dict:
    """Run ``argv`` in ``work``; a clean refusal is exit code 2 (or 130 after SIGTERM) with one message."""
    before = {p: _digest(p) for p in inputs if p.is_file()}
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=work, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    if sigterm_after is not None:  # wait for the first temporary output file, then terminate
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline and not list(work.glob(sigterm_after.name)):
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=600)
    lines = [line for line in err.splitlines() if line.strip()]
    message = " ".join(lines[-1].split()) if lines else ""  # the error line (after argparse's usage)
    return {
        "case": name,
        "exit_code": proc.returncode,
        "seconds": round(time.perf_counter() - start, 2),
        "traceback": "Traceback" in err,
        "clean_refusal": proc.returncode in (2, 130) and "Traceback" not in err,
        "temp_files_left": _leftovers(work),
        "input_overwritten": any(_digest(p) != d for p, d in before.items()),
        "message": message[:300],
    }


def run_library(name: str, check: Callable[[], str]) -> dict:
    """``check`` returns what happened; it raises AssertionError for a silent wrong output."""
    try:
        outcome, silent, tb = check(), False, False
    except AssertionError as exc:
        outcome, silent, tb = f"silent wrong output: {exc}", True, False
    except Exception as exc:  # an unexpected exception type counts as a traceback
        outcome, silent, tb = f"{type(exc).__name__}: {exc}", False, True
    return {"case": name, "outcome": outcome[:300], "silent_wrong_output": silent, "traceback": tb}


def _expect_error(func: Callable[[], Any], error: type[BaseException] = ValueError) -> str:
    try:
        func()
    except error as exc:
        return f"refused: {type(exc).__name__}: {exc}"
    raise AssertionError("accepted")


def _nan_action(env_id: str) -> str:
    env = gym.make(env_id).unwrapped
    env.reset(seed=0)
    *_, truncated, info = env.step(np.full(env.action_space.shape, np.nan))
    assert truncated and "diverged" in info, "NaN action accepted as a normal step"
    return f"truncated, diverged: {info['diverged']}"


def _random_bodies() -> str:
    rng = np.random.default_rng(0)
    bodies = [random_body(rng, 0.1, BodyParams(height=2.2, mass=100.0)) for _ in range(2000)]
    return f"2000 bodies around 2.2 m, all valid; tallest {max(b.height for b in bodies):.3f} m"


def library_cases() -> list[dict]:
    return [
        run_library("Track-v0 NaN action", lambda: _nan_action("MotionLab/Track-v0")),
        run_library("Ideal-v0 NaN action", lambda: _nan_action("MotionLab/Ideal-v0")),
        run_library(
            "Track-v0 extra action dims", lambda: _expect_error(lambda: _step("MotionLab/Track-v0", np.zeros(40)))
        ),
        run_library("Ideal-v0 action None", lambda: _expect_error(lambda: _step("MotionLab/Ideal-v0", None))),
        run_library("Ideal-v0 scalar action", lambda: _expect_error(lambda: _step("MotionLab/Ideal-v0", 0.5))),
        run_library("frame_skip=0", lambda: _expect_error(lambda: gym.make("MotionLab/Track-v0", frame_skip=0))),
        run_library("random bodies around 2.2 m", _random_bodies),
    ]


def _step(env_id: str, action: Any) -> None:
    env = gym.make(env_id).unwrapped
    env.reset(seed=0)
    env.step(action)


def command_cases(work: Path) -> list[dict]:
    video = work / "run.mp4"
    with VideoWriter(video, fps=10) as writer:
        for i in range(20):
            writer.write(np.full((64, 64, 3), 10 * i, np.uint8))
    (work / "outdir.mp4").mkdir()
    ref = Path(shutil.copy(DEFAULT_REFERENCE, work / "ref.npz"))
    kp = np.load(DEFAULT_REFERENCE)["keypoints2d"].copy()
    kp[..., :2] = 1e30
    huge = _rewrite(work / "huge.npz", keypoints2d=kp)
    slow = _rewrite(work / "slow.npz", fps=np.asarray(1e-6))
    fast = _rewrite(work / "fast.npz", fps=np.asarray(1e9))
    string_version = _rewrite(work / "v1string.npz", schema_version=np.asarray("1"))
    qpos = np.load(DEFAULT_REFERENCE)["qpos"].copy()
    qpos[:, 3:7] = 0.0
    zero_quat = _rewrite(work / "zeroquat.npz", qpos=qpos)
    nan_ckpt = Path(shutil.copytree(CHECKPOINT_DIR / "track", work / "nan_ckpt"))
    with np.load(nan_ckpt / "obs_norm.npz") as data:
        norm = {k: data[k] for k in data.files}
    norm["mean"][0] = np.nan
    np.savez(nan_ckpt / "obs_norm.npz", **norm)
    truncated = work / "truncated.mp4"
    _faststart_video(work / "full.mp4")
    truncated.write_bytes((work / "full.mp4").read_bytes()[: (work / "full.mp4").stat().st_size // 4])
    out = str(work / "out" / "r.mp4")
    cases = [
        ("infer --out the input video", [*INFER, "--video", str(video), "--out", str(video)], [video]),
        ("infer --out a directory", [*INFER, "--out", str(work / "outdir.mp4")], []),
        ("infer --out in an unwritable place", [*INFER, "--out", "/proc/motionlab/r.mp4"], []),
        ("infer --seconds inf", [*INFER, "--seconds", "inf", "--out", out], []),
        ("infer --camera-speed 1e6", [*INFER, "--camera-speed", "1e6", "--out", out], []),
        ("infer --camera-speed nan", [*INFER, "--camera-speed", "nan", "--out", out], []),
        ("infer --body-search -1", [*INFER, "--body-search=-1", "--out", out], []),
        ("infer with NaN observation statistics", [*INFER, "--ckpt-track", str(nan_ckpt), "--out", out], []),
        (
            "lift --focal-px 0",
            [*MOTIONLAB, "lift", "--ref", str(ref), "--out", str(work / "l.npz"), "--focal-px", "0"],
            [ref],
        ),
        ("lift --out the input", [*MOTIONLAB, "lift", "--ref", str(ref), "--out", str(ref)], [ref]),
        (
            "import-mocap --cycles 100000",
            [*MOTIONLAB, "import-mocap", "--out", str(work / "m.npz"), "--cycles", "100000"],
            [],
        ),
        (
            "verify on keypoints of 1e30",
            [*MOTIONLAB, "verify", "--npz", str(huge), "--out", str(work / "v.mp4")],
            [huge],
        ),
        ("verify fps 1e-6", [*MOTIONLAB, "verify", "--npz", str(slow), "--out", str(work / "v.mp4")], [slow]),
        ("verify fps 1e9", [*MOTIONLAB, "verify", "--npz", str(fast), "--out", str(work / "v.mp4")], [fast]),
        ('schema_version "1"', [*MOTIONLAB, "verify", "--npz", str(string_version), "--out", str(work / "v.mp4")], []),
        ("zero quaternions in qpos", [*MOTIONLAB, "verify", "--npz", str(zero_quat), "--out", str(work / "v.mp4")], []),
        (
            "extract a truncated video",
            [*MOTIONLAB, "extract", "--video", str(truncated), "--out", str(work / "t.npz")],
            [truncated],
        ),
        (
            "preview --out the input video",
            [*MOTIONLAB, "preview", "--video", str(video), "--ref", str(ref), "--out", str(video)],
            [video, ref],
        ),
    ]
    results = [run_command(name, argv, work, inputs) for name, argv, inputs in cases]
    results.append(
        run_command(
            "SIGTERM during verify", [*MOTIONLAB, "verify", "--npz", str(ref), "--out", str(work / "sig.mp4")], work, [ref],
            sigterm_after=work / ".sig.*.partial.mp4",
        )
    )  # fmt: skip
    results[-1]["clean_refusal"] = results[-1]["exit_code"] == 130 and not (work / "sig.mp4").exists()
    return results


def _faststart_video(path: Path) -> None:
    import imageio.v2 as imageio

    rng = np.random.default_rng(0)
    writer = imageio.get_writer(
        path, format="FFMPEG", fps=30, codec="libx264", output_params=["-movflags", "+faststart"],
        macro_block_size=2, ffmpeg_log_level="error",
    )  # fmt: skip
    for _ in range(150):
        writer.append_data(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8))
    writer.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="motionlab-hostile-") as tmp:
        commands = command_cases(Path(tmp))
    library = library_cases()
    for r in commands:
        flag = "ok " if r["clean_refusal"] and not r["temp_files_left"] and not r["input_overwritten"] else "BAD"
        print(f"{flag} {r['case']:<40} exit {r['exit_code']:>3}  {r['seconds']:6.1f} s  {r['message'][:110]}")
    for r in library:
        flag = "ok " if not (r["silent_wrong_output"] or r["traceback"]) else "BAD"
        print(f"{flag} {r['case']:<40} {r['outcome'][:120]}")
    totals = {
        "cases": len(commands) + len(library),
        "tracebacks": sum(r["traceback"] for r in commands + library),
        "silent_wrong_outputs": sum(not r["clean_refusal"] for r in commands)
        + sum(r["silent_wrong_output"] for r in library),
        "temp_files_left": sum(len(r["temp_files_left"]) for r in commands),
        "inputs_overwritten": sum(r["input_overwritten"] for r in commands),
    }
    print(totals)
    record_json_run(RESULTS, "hostile_inputs", {"totals": totals, "commands": commands, "library": library})
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
