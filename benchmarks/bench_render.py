"""Rendering and result-video speed: ms per frame of the MuJoCo humanoid at 640x480 with shadows and
reflections on/off, of composing a 1280x720 result frame, of H.264 encoding it, and of the whole
``compose_video`` loop (two 640x360 renders + compose + encode). Medians over the frames of one run.
``encode_presets``: CPU ms per frame (this process and ffmpeg) and file size of x264's ``medium`` (its
default) and ``veryfast`` (the project's) on result frames of a moving runner.

    python benchmarks/bench_render.py [--frames 60]
    python benchmarks/bench_render.py --parts   # what each part of a panel costs -> render_parts.json

Prints a table and writes ``benchmarks/results/render.json`` (atomically). ``--parts``: CPU ms per
frame (this process, llvmpipe's threads included) of one runner panel as the main job renders it
(640x360 landscape, 438x720 portrait; no shadows, reflections or anti-aliasing), and of the same panel
without the sky, without the floor's texture, without the floor; and x264's faster presets on result
frames; written to ``benchmarks/results/render_parts.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np

import motionlab  # noqa: F401  (registers the envs)
from motionlab.assets import DEFAULT_REFERENCE
from motionlab.gl import ensure_gl
from motionlab.humanoid import build_model
from motionlab.inference.compose import compose_frame, compose_video
from motionlab.inference.rollout import run_policy, zero_policy
from motionlab.io_utils import write_json
from motionlab.reference import load_reference
from motionlab.render import HumanoidRenderer
from motionlab.video.writer import VideoWriter

RESULTS = Path(__file__).parent / "results" / "render.json"
PARTS_RESULTS = Path(__file__).parent / "results" / "render_parts.json"
PANELS = {"landscape 640x360": (640, 360), "portrait 438x720": (438, 720)}  # the main job's panel sizes at 1280x720


def median_ms(fn: Callable[[int], object], n: int, warmup: int = 3) -> float:
    for i in range(warmup):
        fn(i)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return 1000.0 * float(np.median(times))


def encode_cpu(frames: list[np.ndarray], preset: str) -> dict[str, float]:
    """CPU time per frame (this process and ffmpeg) and size of ``frames`` encoded with x264 ``preset``."""
    with tempfile.TemporaryDirectory() as tmp:
        path, before = Path(tmp) / "e.mp4", os.times()
        with VideoWriter(path, 30, preset=preset) as writer:
            for frame in frames:
                writer.write(frame)
        after = os.times()
        cpu = sum(getattr(after, k) - getattr(before, k) for k in ("user", "system", "children_user", "children_system"))
        return {"cpu_ms_per_frame": 1000.0 * cpu / len(frames), "kb_per_frame": path.stat().st_size / 1024 / len(frames)}


def panel_cpu_ms(size: tuple[int, int], qpos: np.ndarray, body, n: int, without: str | None = None) -> float:
    """CPU ms per frame (process time: llvmpipe's threads included) of a runner panel of ``size`` as
    the main job renders it, optionally ``without`` the ``sky``, the ``floor texture`` or the ``floor``."""
    import mujoco

    hm = build_model(body)
    if without == "floor texture":
        hm.model.geom_matid[0] = -1
    elif without == "floor":
        hm.model.geom_rgba[0, 3] = 0.0
    with HumanoidRenderer(hm, *size, shadows=False, reflections=False, antialias=False) as r:
        if without == "sky":
            r._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = False
        for q in qpos[:3]:
            r.render(q)
        start = time.process_time()
        for i in range(n):
            r.render(qpos[i % len(qpos)])
        return 1000.0 * (time.process_time() - start) / n


def parts(n: int, out: Path) -> dict:
    """What each part of a runner panel and the encoder cost (``--parts``)."""
    backend = ensure_gl()
    ref = load_reference(DEFAULT_REFERENCE)
    panels = {
        label: {(f"without {without}" if without else "as shown"): round(panel_cpu_ms(size, ref.qpos, ref.body, n, without), 2)
                for without in (None, "sky", "floor texture", "floor")}
        for label, size in PANELS.items()
    }  # fmt: skip
    with HumanoidRenderer(build_model(ref.body), 640, 360, shadows=False, reflections=False, antialias=False) as r:
        moving = [r.render(q) for q in ref.qpos[:n]]
        gpu = gl_renderer_name()
    lines = ["speed 3.52 m/s   cadence 172 spm", "t =  1.23 s"]
    frames = [compose_frame(moving[i], moving[i], moving[-1 - i], lines, lines, lines[1:]) for i in range(len(moving))]
    encode = {preset: encode_cpu(frames, preset) for preset in ("veryfast", "superfast", "ultrafast")}
    print(f"\none runner panel, CPU ms/frame ({backend}, load {os.getloadavg()[0]:.1f})")
    for label, costs in panels.items():
        print(f"  {label:<20}" + "  ".join(f"{k}: {v:.1f}" for k, v in costs.items()))
    for preset, cost in encode.items():
        print(f"  x264 {preset:<9} CPU {cost['cpu_ms_per_frame']:.1f} ms/frame, {cost['kb_per_frame']:.1f} KB/frame")
    record = {
        "panel_cpu_ms_per_frame": panels,
        "encode_presets_1280x720": encode,
        "frames": n,
        "gl_backend": backend,
        "gl_renderer": gpu,
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "machine": platform.machine(),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json(out, record)
    print(f"saved -> {out}")
    return record


def gl_renderer_name() -> str:
    """The OpenGL renderer string of the current context (e.g. llvmpipe = software rendering)."""
    try:
        from OpenGL import GL

        return GL.glGetString(GL.GL_RENDERER).decode()
    except Exception as exc:  # PyOpenGL missing or no current context: report, do not fail the benchmark
        return f"unknown ({type(exc).__name__})"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--parts", action="store_true", help="what each part of a runner panel costs")
    args = parser.parse_args(argv)
    n = args.frames
    if args.parts:
        return parts(n, args.out or PARTS_RESULTS)
    backend = ensure_gl()
    ref = load_reference(DEFAULT_REFERENCE)
    qpos = ref.qpos

    render_ms, gpu = {}, ""
    variants = ((True, True, True), (True, False, True), (False, True, True), (False, False, True), (False, False, False))
    for shadows, reflections, antialias in variants:
        opts = dict(shadows=shadows, reflections=reflections, antialias=antialias)
        with HumanoidRenderer(build_model(ref.body), 640, 480, **opts) as r:
            key = ",".join(f"{k}={'on' if v else 'off'}" for k, v in opts.items())
            render_ms[key] = median_ms(lambda i: r.render(qpos[i % len(qpos)]), n)
            gpu = gpu or gl_renderer_name()

    with HumanoidRenderer(build_model(ref.body), 640, 360) as r:
        sims = [r.render(q) for q in qpos[:2]]
    original = np.full((480, 640, 3), 120, np.uint8)
    lines = ["speed 3.52 m/s   cadence 172 spm", "t =  1.23 s"]
    compose_ms = median_ms(lambda i: compose_frame(original, sims[0], sims[1], lines, lines, lines[1:]), n)
    frame = compose_frame(original, sims[0], sims[1], lines, lines, lines[1:])

    with HumanoidRenderer(build_model(ref.body), 640, 360, shadows=False, reflections=False, antialias=False) as r:
        moving = [r.render(q) for q in qpos[:n]]
    result_frames = [compose_frame(moving[i], moving[i], moving[-1 - i], lines, lines, lines[1:]) for i in range(len(moving))]
    encode_presets = {preset: encode_cpu(result_frames, preset) for preset in ("medium", "veryfast")}

    with tempfile.TemporaryDirectory() as tmp:
        with VideoWriter(Path(tmp) / "encode.mp4", 30) as w:
            encode_ms = median_ms(lambda i: w.write(frame), n)
        track = gym.make("MotionLab/Track-v0", reference_state_init=False)
        closest = run_policy(track, zero_policy, 1.0, start_frame=8)
        ideal = run_policy(gym.make("MotionLab/Ideal-v0"), zero_policy, 1.0)
        video = (original for _ in range(10**6))
        full_ms = {}
        for label, hq in (("high quality (shadows, reflections, anti-aliasing)", True), ("default (none of them)", False)):
            t0 = time.perf_counter()
            path = Path(tmp) / "full.mp4"
            effects = dict(shadows=hq, reflections=hq, antialias=hq)
            compose_video(path, closest, ideal, video, 30.0, seconds=n / 30, **effects)
            full_ms[label] = 1000.0 * (time.perf_counter() - t0) / (n + 1)  # frames at t = 0, 1/30, ..., n/30

    print(f"\nrendering ({backend}, {gpu}), ms/frame, median of {n}")
    for key, ms in render_ms.items():
        print(f"  humanoid 640x480  {key:<48}{ms:8.1f}")
    print(f"  compose 1280x720 frame{'':<27}{compose_ms:8.1f}")
    print(f"  H.264 encode 1280x720{'':<28}{encode_ms:8.1f}")
    for label, ms in full_ms.items():
        print(f"  compose_video per frame, {label:<24}{ms:8.1f}")
    for preset, cost in encode_presets.items():
        print(f"  x264 {preset:<9} CPU {cost['cpu_ms_per_frame']:.1f} ms/frame, {cost['kb_per_frame']:.1f} KB/frame")
    record = {
        "ms_per_frame": {
            "render_640x480": render_ms,
            "compose_1280x720": compose_ms,
            "encode_1280x720": encode_ms,
            "compose_video_1280x720": full_ms,
        },
        "encode_presets": encode_presets,
        "frames": n,
        "gl_backend": backend,
        "gl_renderer": gpu,
        "machine": platform.machine(),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json(args.out or RESULTS, record)
    print(f"saved -> {args.out or RESULTS}")
    return record


if __name__ == "__main__":
    main()
