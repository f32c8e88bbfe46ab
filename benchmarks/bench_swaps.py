"""Left/right labels of the legs on the rendered test videos: the frame-by-frame swap repair, the
whole-clip one of :mod:`motionlab.video.swaps` (and, with ``--before REV``, that of git revision ``REV``),
on the same MediaPipe keypoints in one run.

Usage::

    python benchmarks/bench_swaps.py --videos-dir ~/runs/videos       # reuse rendered videos there
    python benchmarks/bench_swaps.py --setups oblique_45,follow
    python benchmarks/bench_swaps.py --before main                     # main's whole-clip repair as well
    python benchmarks/bench_swaps.py --before main --footage ../shared/data/media/vtest.avi \
        --roi 380,170,340,230 --seconds 6                                # real footage (no ground truth)

Each setup of :mod:`motionlab.synthetic` is rendered (or reused from ``--videos-dir``) and run through the
real MediaPipe once, with its labels kept as detected and no smoothing. Then each labelling:

* ``mediapipe``: MediaPipe's own labels;
* ``frame_by_frame``: the repair before (each frame against a constant-velocity prediction from the
  frames before it, relabelled when legs swapped or a mirrored body cost at most half as much);
* ``whole_clip_before``: with ``--before REV``, REV's ``fix_left_right_swaps``;
* ``whole_clip``: :func:`motionlab.video.swaps.fix_left_right_swaps` (what the main job now does);
* ``truth``: the legs relabelled wherever the ground truth says they are swapped (what is left to gain);

is smoothed as extraction smooths and lifted by :func:`motionlab.footage.lift_footage` as
``bench_lift.py --part videos`` does (height and mass only). Per setup and labelling: frames whose legs
are swapped against the truth (in the 2D keypoints and, ``world_swapped_frames``, in the world
landmarks), PA-MPJPE, MPJPE, facing error and speed error. Writes
``benchmarks/results/swaps.json`` (with the machine's load).

``--footage VIDEO`` (with ``--roi`` and ``--seconds``) measures real footage instead, which has no ground
truth: per repair (``--before REV``'s and this one), the frames relabelled and You's cadence, gait read and
confidence (the report's gait metrics on ``lift_footage``'s motion) beside the cadence of the body's bounce
(:func:`motionlab.gait.analyse_gait`, which does not depend on the labels). Writes
``benchmarks/results/swaps_footage.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from machine import machine
from older_code import commit_of, module_at
from rendered_args import add_rendered_video_arguments

from motionlab.body import BodyParams
from motionlab.io_utils import write_json
from motionlab.keypoints import BODY_LANDMARKS, NUM_LANDMARKS
from motionlab.reference import Reference
from motionlab.synthetic import legs_swapped
from motionlab.video.swaps import LABELLINGS, LEG_LANDMARKS, fix_left_right_swaps

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "swaps.json"
FOOTAGE_RESULTS_PATH = Path(__file__).resolve().parent / "results" / "swaps_footage.json"
MOCAP_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap"
DEFAULT_SETUPS = (
    "oblique_45,follow,static,oblique_30_right_to_left,cmu_jog_follow,cmu_run_right_to_left,cmu_walk_static,"
    "pan,fov_50,fov_90,follow_far,cmu_walk_follow,cmu_walk_fast_follow,cmu_slow_walk_follow,treadmill,cmu_walk_35_pan,"
    "cmu_walk_39_static"
)
SCORES = ("pa_mpjpe_mm", "mpjpe_mm", "facing_error_deg", "speed_error_rel")
_COMPARED = sorted(set(BODY_LANDMARKS) | set(LEG_LANDMARKS))


def frame_by_frame_swaps(keypoints_px: np.ndarray, valid: np.ndarray, margin: float = 0.5) -> np.ndarray:
    """The repair before (module docstring): per-frame permutations (T, 33)."""
    T = len(keypoints_px)
    perms = np.tile(np.arange(NUM_LANDMARKS), (T, 1))
    fixed = keypoints_px.astype(float).copy()
    for t in range(1, T):
        if not (valid[t] and valid[t - 1]):
            continue
        predicted = fixed[t - 1] if t < 2 or not valid[t - 2] else 2 * fixed[t - 1] - fixed[t - 2]

        def cost(perm: np.ndarray) -> float:
            d = keypoints_px[t, perm][_COMPARED] - predicted[_COMPARED]  # noqa: B023 (called in this iteration)
            return float((d * d).sum())

        perm = min((LABELLINGS["legs"], LABELLINGS["body"]), key=cost)
        if cost(perm) < margin * cost(perms[t]):
            perms[t] = perm
            fixed[t] = keypoints_px[t, perm]
    return perms


def labellings(truth: Reference, raw: Reference, before: Callable | None = None) -> dict[str, np.ndarray]:
    """Per-frame permutations (T, 33) of each labelling compared (module docstring); ``before``: the
    older revision's ``fix_left_right_swaps`` (None: not compared)."""
    px, valid = raw.keypoints_px(), raw.keypoints2d_valid
    keep = np.tile(np.arange(NUM_LANDMARKS), (len(px), 1))
    oracle = np.where(legs_swapped(truth.keypoints_px(), px)[:, None], LABELLINGS["legs"][None], keep)
    older = {"whole_clip_before": before(px, valid)[0]} if before is not None else {}
    return {
        "mediapipe": keep,
        "frame_by_frame": frame_by_frame_swaps(px, valid),
        **older,
        "whole_clip": fix_left_right_swaps(px, valid)[0],
        "truth": oracle,
    }


def relabelled(raw: Reference, perms: np.ndarray) -> Reference:
    """``raw`` with ``perms`` applied, then smoothed as :func:`~motionlab.video.pose.extract_keypoints` does."""
    from motionlab.video.smoothing import SmoothingParams, savgol

    size = np.asarray(raw.image_size, dtype=float)
    times = np.asarray(raw.source["frame_times_s"])
    kp = np.take_along_axis(raw.keypoints2d, perms[..., None], axis=1).copy()
    world = np.take_along_axis(raw.world_keypoints, perms[..., None], axis=1)
    kp[..., :2] = savgol(kp[..., :2] * size, times, raw.keypoints2d_valid, SmoothingParams()) / size
    world = savgol(world, times, raw.keypoints2d_valid, SmoothingParams())
    return dataclasses.replace(raw, keypoints2d=kp, world_keypoints=world)


def setup_rows(
    name: str,
    video: Path,
    truth: Reference,
    raw: Reference,
    body: BodyParams,
    lift: Callable,
    score: Callable,
    before: Callable | None = None,
) -> dict[str, Any]:
    """One setup's row per labelling (module docstring)."""
    rows = {}
    valid = raw.keypoints2d_valid
    for label, perms in labellings(truth, raw, before).items():
        seen = np.take_along_axis(raw.keypoints_px(), perms[..., None], axis=1)
        world = np.take_along_axis(raw.world_keypoints, perms[..., None], axis=1)
        swapped = legs_swapped(truth.keypoints_px(), seen)[valid]
        lifted, _ = lift(relabelled(raw, perms), body, video)
        scores = score(truth, lifted)
        rows[label] = {
            "swapped_frames": int(swapped.sum()),
            "frames": int(valid.sum()),
            "longest_swapped_run": _longest_run(swapped),
            "world_swapped_frames": int(legs_swapped(truth.world_keypoints, world)[valid].sum()),
            **{k: round(float(scores[k]), 4) for k in SCORES},
        }
        print(f"{name:28s} {label:15s} {rows[label]}", flush=True)
    return rows


def footage_rows(video: Path, roi: str | None, seconds: float, body: BodyParams, repairs: dict[str, Callable]) -> dict:
    """Real footage (``--footage``): per repair in ``repairs``, the frames relabelled and You's cadence,
    gait read and confidence, with the bounce's cadence (module docstring)."""
    from motionlab.footage import lift_footage
    from motionlab.gait import analyse_gait
    from motionlab.inference.metrics import GaitInput, gait_metrics
    from motionlab.lift import detected_frames
    from motionlab.video.pose import extract_keypoints

    box = tuple(int(v) for v in roi.split(",")) if roi else None
    raw, _ = extract_keypoints(video, box, max_seconds=seconds, smoothing=None, relabel=False)
    rows = {"frames": raw.num_frames, "fps": round(raw.fps, 2), "frames_with_pose": int(raw.keypoints2d_valid.sum())}
    for label, repair in repairs.items():
        perms, repaired = repair(raw.keypoints_px(), raw.keypoints2d_valid)
        keypoints = relabelled(raw, perms)
        lifted, _ = lift_footage(keypoints, body, video)
        valid = detected_frames(keypoints)
        n = min(len(lifted.qpos), len(valid))
        cadence = gait_metrics(GaitInput(np.arange(n) / lifted.fps, lifted.qpos[:n], body, valid[:n]))["cadence"]
        bounce = analyse_gait(keypoints).cadence_spm
        rows[label] = {
            "relabelled_frames": [list(r) for r in repaired],
            "you_cadence_spm": None if cadence["value"] is None else round(cadence["value"], 1),
            "you_gait": cadence["gait"],
            "you_confidence": cadence["confidence"]["level"],
            "why_no_cadence": cadence.get("reason"),
            "bounce_cadence_spm": None if bounce is None else round(bounce, 1),
        }
        print(f"{video.name} {label:18s} {rows[label]}", flush=True)
    return rows


def _longest_run(flags: np.ndarray) -> int:
    from motionlab.video.smoothing import valid_runs

    return max((stop - start for start, stop in valid_runs(flags)), default=0)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_rendered_video_arguments(parser, DEFAULT_SETUPS, MOCAP_DIR)
    parser.add_argument("--out", type=Path, default=RESULTS_PATH)
    parser.add_argument("--before", default=None, help="git revision whose whole-clip repair is compared too")
    parser.add_argument("--footage", type=Path, default=None, help="a real video instead (no ground truth)")
    parser.add_argument("--roi", default=None, help="--footage: x,y,w,h around the person")
    parser.add_argument("--seconds", type=float, default=6.0, help="--footage: how much of it")
    args = parser.parse_args(argv)

    from motionlab.footage import lift_footage
    from motionlab.reference import load_reference, save_reference
    from motionlab.synthetic import HELD_OUT_SETUPS, SETUPS, render_test_video, score_lift, videos_folder
    from motionlab.video.pose import extract_keypoints

    setups = {**SETUPS, **HELD_OUT_SETUPS}
    names = [n for n in args.setups.split(",") if not setups[n].clip or (args.mocap_dir / setups[n].clip).is_file()]
    body = BodyParams(height=args.height, mass=args.mass).resolved()
    rows: dict[str, Any] = {}
    tic = time.process_time()
    with tempfile.TemporaryDirectory() as older:
        before = module_at(args.before, "motionlab.video.swaps", Path(older)) if args.before else None
        before_fix = before.fix_left_right_swaps if before else None
    if args.footage is not None:
        repairs = {**({"whole_clip_before": before_fix} if before_fix else {}), "whole_clip": fix_left_right_swaps}
        record = {
            "footage": args.footage.name, "roi": args.roi, "seconds": args.seconds,
            "before": None if not args.before else {"revision": args.before, "commit": commit_of(args.before)},
            **footage_rows(args.footage, args.roi, args.seconds, body, repairs),
            "cpu_s": round(time.process_time() - tic, 1), "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine(),
        }  # fmt: skip
        write_json(FOOTAGE_RESULTS_PATH, record)
        print(f"saved -> {FOOTAGE_RESULTS_PATH}")
        return record
    with videos_folder(args.videos_dir) as folder:
        for name in names:
            video, truth_path = folder / f"{name}.mp4", folder / f"{name}.npz"
            if not (video.is_file() and truth_path.is_file()):
                save_reference(render_test_video(setups[name], video, body, args.mocap_dir), truth_path)
            raw, _ = extract_keypoints(video, smoothing=None, relabel=False)
            rows[name] = setup_rows(
                name, video, load_reference(truth_path), raw, body, lift_footage, score_lift, before_fix
            )
    summary = {
        label: {
            "swapped_frames": sum(r[label]["swapped_frames"] for r in rows.values()),
            "world_swapped_frames": sum(r[label]["world_swapped_frames"] for r in rows.values()),
            "frames": sum(r[label]["frames"] for r in rows.values()),
            **{f"mean_{k}": round(float(np.mean([r[label][k] for r in rows.values()])), 2) for k in SCORES[:3]},
        }
        for label in next(iter(rows.values()))
    }
    _print_table(rows, summary)
    record = {
        "config": {
            "body": body.to_dict(),
            "setups": names,
            "flags": "none (height and mass only)",
            "before": None if not args.before else {"revision": args.before, "commit": commit_of(args.before)},
        },  # fmt: skip
        "setups": rows,
        "summary": summary,
        "cpu_s": round(time.process_time() - tic, 1),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),  # fmt: skip
    }
    write_json(args.out, record)
    print(f"saved -> {args.out}")
    return record


def _print_table(rows: dict[str, Any], summary: dict[str, Any]) -> None:
    labels = list(summary)
    before = "whole_clip_before" if "whole_clip_before" in labels else "frame_by_frame"
    print(f"\n{'setup':28s} swapped frames ({' / '.join(labels)})   PA-MPJPE mm ({before} -> after, truth)")
    for name, r in rows.items():
        swaps = " / ".join(f"{r[k]['swapped_frames']:2d}" for k in labels)
        pa = f"{r[before]['pa_mpjpe_mm']:6.1f} -> {r['whole_clip']['pa_mpjpe_mm']:6.1f}  ({r['truth']['pa_mpjpe_mm']:6.1f})"
        print(f"{name:28s} {swaps} of {r['whole_clip']['frames']:3d}{'':22s} {pa}")
    for label, s in summary.items():
        print(f"{label:15s} {s}")


if __name__ == "__main__":
    main()
