"""Accuracy of the report's gait metrics: You (the lifted kinematics) and Closest (the tracking policy on
it) against the ground truth of real motion capture, runs and walks.

    python benchmarks/bench_metrics.py [--part keypoints|video|all] [--seconds 6] [--cases clean,noise3px,...]
        [--videos follow,oblique_45,cmu_run_right_to_left,cmu_walk_follow,cmu_walk_39_follow] [--videos-dir DIR]
        [--before main]

Ground truth: real motion capture on a 1.75 m / 70 kg body, its metrics computed by the same code on
the true ``qpos`` sampled at the capture rate, 120 Hz (foot contact: the foot low and planted, on the
exact motion; ``motionlab.inference.metrics.kinematic_contact``). Each case gives the pipeline a 30 fps
view of it, lifts it, runs the bundled tracking policy on the lifted motion (as the main job does,
without refinement) and compares, per metric, You and Closest with the truth. Closest's foot events come,
as in the report, from its own simulated vertical foot force placed to the physics step
(``rollout_input``, :func:`~motionlab.inference.metrics.force_contact`); ``closest_kinematic`` are the
same run's figures by the kinematic rule it used before (``rollout_input(measured_contact=False)``), scored
also against the force (``closest_kinematic_vs_force``). Every You and Closest figure is also given with
the contact rule the kinematic one replaced (:func:`height_only_contact`: height alone, which never ended
a walk's stance), so before and after come from one run.

``--part keypoints`` (results ``metrics.json``): real runs and walks (DeepMimic's run; CMU runs 09_01 and
16_35, walks 07_01, 39_13 and 07_04) projected to 2D keypoints through a known camera (side-on 6 m away
following the runner, or 45 deg oblique), optionally with 3 px noise, lifted with that camera
(``lift_reference``): no pose model.

``--part video`` (results ``metrics_video.json``): the humanoid replaying the mocap rendered to a 30 fps
video (:mod:`motionlab.synthetic`'s camera setups, lengthened to ``--seconds``), then the main job's
path: MediaPipe (``extract_keypoints``) and ``lift_footage`` (camera motion, time base, facing), so
the errors include MediaPipe's on a rendered capsule figure (not on people: see ``motionlab.synthetic``).
MediaPipe runs once per video (its labels kept, ``<name>.raw.npz`` in ``--videos-dir``); the swap repair and
the smoothing of extraction follow, and with ``--before REV`` also git revision ``REV``'s swap repair
(``before`` in each case), so both come from the same keypoints. ``cmu_walk_39_follow`` is CMU subject 39's
walk, held out (``motionlab.mocap_split``): not looked at while the swap repair's cues were chosen.

Every case also gives You and the truth by the contact rule with a wider "planted" leeway
(:data:`WIDER_PLANTED_FRACTION` of the body's speed instead of ``inference.metrics.PLANTED_FRACTION``:
``you_wider_leeway_error``), measured, not used by the report.

``--part ideal`` (results ``metrics_ideal.json``): the shipped Ideal at ``--ideal-speeds``: its cadence,
contact and flight as the report measures them (``force``: its simulated foot forces, placed to the
physics step), by the kinematic rule it used before (``kinematic``), from the control-step samples of the
force alone (``force_samples``), and the cadence of its bounce.

Targets (issue #12): cadence +-2 spm, contact time +-20 ms, vertical oscillation +-1.5 cm, knee flexion at
contact +-5 deg, trunk lean +-3 deg, overstride +-3 cm.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import tempfile
from pathlib import Path

import numpy as np

from motionlab.assets import RUN_CLIP
from motionlab.body import BodyParams
from motionlab.camera import Camera
from motionlab.humanoid import build_model
from motionlab.inference.metrics import GROUND_WINDOW_S, GaitInput, gait_metrics, motion_contact, rollout_input
from motionlab.inference.pipeline import DEFAULT_TRACK_CKPT, _simulate
from motionlab.io_utils import write_json
from motionlab.lift import lift_reference
from motionlab.mocap import mocap_reference
from motionlab.motion import Kinematics
from motionlab.policy_io import load_policy
from motionlab.reference import Reference
from motionlab.synthetic import Setup

RESULTS = Path(__file__).parent / "results" / "metrics.json"
VIDEO_RESULTS = Path(__file__).parent / "results" / "metrics_video.json"
IDEAL_RESULTS = Path(__file__).parent / "results" / "metrics_ideal.json"
MOCAP_DIR = (
    Path(os.environ.get("MOTIONLAB_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data") / "mocap"
)
TARGETS = {
    "cadence": 2.0, "contact_time_left": 20.0, "contact_time_right": 20.0, "flight_time": 20.0,
    "double_support": 20.0, "duty_factor": 0.03,
    "vertical_oscillation": 1.5, "knee_flexion_contact": 5.0, "trunk_lean": 3.0, "overstride": 3.0,
}  # fmt: skip
TRUTH_FPS = 120.0  # the capture rate of the CMU clips
# name -> (clip, gait, camera azimuth (deg), keypoint noise (px)); DeepMimic's run first (the earlier cases)
CASES = {
    "clean": (RUN_CLIP, "run", 0.0, 0.0),
    "noise3px": (RUN_CLIP, "run", 0.0, 3.0),
    "oblique45": (RUN_CLIP, "run", 45.0, 0.0),
    "cmu_run_09_01": ("cmu/09/09_01.amc", "run", 0.0, 0.0),
    "cmu_jog_16_35": ("cmu/16/16_35.amc", "run", 0.0, 0.0),
    "cmu_walk_07_01": ("cmu/07/07_01.amc", "walk", 0.0, 0.0),
    "cmu_walk_07_01_noise3px": ("cmu/07/07_01.amc", "walk", 0.0, 3.0),
    "cmu_walk_39_13": ("cmu/39/39_13.amc", "walk", 0.0, 0.0),
    "cmu_walk_07_04": ("cmu/07/07_04.amc", "walk", 0.0, 0.0),
}
HELD_OUT_VIDEOS = {"cmu_walk_39_follow": Setup("cmu_walk_39_follow", camera="follow", clip="cmu/39/39_13.amc")}
"""Video part setups beside :data:`motionlab.synthetic.SETUPS`: CMU subject 39's walk (held out, module docstring)."""
# The contact rule before foot contact needed the foot planted (kept here only to measure the change):
# a foot lands within 3 cm of its lowest within +-1 s and leaves above 6 cm.
OLD_CONTACT_HEIGHT_M, OLD_LIFT_OFF_HEIGHT_M = 0.03, 0.06


def height_only_contact(times: np.ndarray, foot_soles: np.ndarray) -> np.ndarray:
    """(T, 2) contact by the replaced rule: sole heights only, with hysteresis."""
    height = np.empty(foot_soles.shape)
    for i, t in enumerate(times):
        height[i] = foot_soles[i] - foot_soles[np.abs(times - t) <= GROUND_WINDOW_S].min(axis=0)
    out = np.zeros(foot_soles.shape, bool)
    for k in range(foot_soles.shape[1]):
        down = False
        for i, h in enumerate(height[:, k]):
            down = h <= (OLD_LIFT_OFF_HEIGHT_M if down else OLD_CONTACT_HEIGHT_M)
            out[i, k] = down
    return out


def with_old_rule(g: GaitInput) -> GaitInput:
    """``g`` with its contact from :func:`height_only_contact`."""
    soles = Kinematics(build_model(g.body)).run(g.qpos).foot_soles
    return dataclasses.replace(g, contact=height_only_contact(g.times, soles))


WIDER_PLANTED_FRACTION = 0.75
"""A wider "planted" leeway than the contact rule's (``inference.metrics.PLANTED_FRACTION``), measured beside
it on video (``you_wider_leeway``): MediaPipe's jittery feet leave a walk's planted foot for a frame or two."""


def with_leeway(g: GaitInput, planted_fraction: float) -> GaitInput:
    """``g`` with its contact from the kinematic rule with a "planted" leeway of ``planted_fraction``."""
    kin = Kinematics(build_model(g.body)).run(g.qpos)
    return dataclasses.replace(g, contact=motion_contact(g, kin, planted_fraction=planted_fraction))


def mocap_case(
    clip: str, seconds: float, body: BodyParams, fps: float, mocap_dir: Path, camera: Camera | None = None
) -> Reference:
    """``seconds`` (whole cycles) of ``clip`` (under ``mocap_dir``, or DeepMimic's run) at ``fps``."""
    path = clip if clip == RUN_CLIP else mocap_dir / clip
    period = mocap_reference(path, body, cycles=1, fps=fps).source["stride_period_s"]
    return mocap_reference(path, body, cycles=int(np.ceil(seconds / period)), fps=fps, camera=camera)


def case_views(
    name: str, seconds: float, body: BodyParams, rng: np.random.Generator, mocap_dir: Path
) -> tuple[Reference, Reference]:
    """(the truth at :data:`TRUTH_FPS`, the 30 fps view of it the lift gets) of case ``name``."""
    clip, _, azimuth, noise_px = CASES[name]
    truth = mocap_case(clip, seconds, body, TRUTH_FPS, mocap_dir)
    view = mocap_case(clip, seconds, body, 30.0, mocap_dir, Camera.side_on(azimuth_deg=azimuth))
    if noise_px:
        view = dataclasses.replace(view, keypoints2d=view.keypoints2d.copy())
        view.keypoints2d[..., :2] += rng.normal(0.0, noise_px, view.keypoints2d[..., :2].shape) / np.asarray(
            view.image_size
        )
    return truth, view


def compare(truth: Reference, lifted: Reference, valid: np.ndarray, body: BodyParams, seconds: float, policy) -> dict:
    """Per metric of :data:`TARGETS`: the truth, You (``lifted`` on its ``valid`` frames) and Closest (the
    tracking policy on ``lifted``; events from its simulated foot forces) with their errors, each also by
    the replaced contact rules (``closest_kinematic``: the kinematic rule, scored against the force too),
    and Closest's restarts."""
    n = min(len(lifted.qpos), len(valid))
    truth_in = GaitInput(np.arange(len(truth.qpos)) / truth.fps, truth.qpos, body, np.ones(len(truth.qpos), bool))
    you_in = GaitInput(np.arange(n) / lifted.fps, lifted.qpos[:n], body, valid[:n])
    run = _simulate(
        policy,
        "MotionLab/Track-v0",
        min(seconds, lifted.duration),
        0,
        reference=lifted,
        body=body,
        reference_state_init=False,
    )
    kinematic_in = rollout_input(run, measured_contact=False)
    columns = {
        "truth": gait_metrics(truth_in), "truth_old_rule": gait_metrics(with_old_rule(truth_in)),
        "you": gait_metrics(you_in), "you_old_rule": gait_metrics(with_old_rule(you_in)),
        "truth_wider_leeway": gait_metrics(with_leeway(truth_in, WIDER_PLANTED_FRACTION)),
        "you_wider_leeway": gait_metrics(with_leeway(you_in, WIDER_PLANTED_FRACTION)),
        "closest": gait_metrics(rollout_input(run)), "closest_kinematic": gait_metrics(kinematic_in),
        "closest_old_rule": gait_metrics(with_old_rule(kinematic_in)),
    }  # fmt: skip
    rows = {}
    for metric, tol in TARGETS.items():
        v = {name: col[metric]["value"] for name, col in columns.items()}
        row = {**v, "target_abs_error": tol, "you_strides": columns["you"][metric]["n_strides"]}
        for name in ("you", "you_old_rule", "closest", "closest_kinematic", "closest_old_rule"):
            row[f"{name}_error"] = None if v["truth"] is None or v[name] is None else round(v[name] - v["truth"], 3)
        wide, truth_wide = v["you_wider_leeway"], v["truth_wider_leeway"]  # both by the wider leeway
        row["you_wider_leeway_error"] = None if wide is None or truth_wide is None else round(wide - truth_wide, 3)
        for name in ("closest_kinematic", "closest_old_rule"):  # the replaced rules against the same run's forces
            force = v["closest"]
            row[f"{name}_vs_force"] = None if force is None or v[name] is None else round(v[name] - force, 3)
        rows[metric] = row
    confidence = {
        name: {
            "level": columns[name]["cadence"]["confidence"]["level"],
            "notes": columns[name]["cadence"]["confidence"]["notes"],
        }
        for name in ("you", "closest")
    }  # the columns' confidence (without the main job's evidence: visibility, reprojection, restarts)
    gaits = {name: col["cadence"]["gait"] for name, col in columns.items()}
    return {"closest_restarts": len(run.restart_times), "gait": gaits, "confidence": confidence, "metrics": rows}


def print_case(name: str, header: str, rows: dict) -> None:
    print(f"\n{name}: {header}")
    heads = ("truth", "You", "err", "(old)", "Closest", "err", "(kin)", "kin-F", "(old)-F")
    print(f"  {'metric':<22}" + "".join(f"{h:>9}" for h in heads) + f"{'target':>8}")
    keys = ("truth", "you", "you_error", "you_old_rule_error", "closest", "closest_error", "closest_kinematic_error",
            "closest_kinematic_vs_force", "closest_old_rule_vs_force")  # fmt: skip
    for metric, r in rows.items():
        text = "".join(f"{'--' if r[k] is None else f'{r[k]:.1f}':>9}" for k in keys)
        print(f"  {metric:<22}{text}{r['target_abs_error']:>8g}")


def keypoints_part(args: argparse.Namespace, body: BodyParams, policy) -> None:
    results = {"machine": platform.processor() or platform.machine(), "load": os.getloadavg(), "seconds": args.seconds,
               "targets": TARGETS, "truth_fps": TRUTH_FPS,
               "input": "mocap projected to 2D through a known camera (not rendered video)", "cases": {}}  # fmt: skip
    rng = np.random.default_rng(0)
    for name in args.cases.split(","):
        truth, view = case_views(name, args.seconds, body, rng, args.mocap_dir)
        lifted, report = lift_reference(dataclasses.replace(view, qpos=None, body=None), body)
        row = compare(truth, lifted, np.ones(len(lifted.qpos), bool), body, args.seconds, policy)
        clip, gait, azimuth, noise_px = CASES[name]
        results["cases"][name] = {
            "clip": Path(clip).name, "gait": gait, "speed_mps": round(truth.source["speed_mps"], 3),
            "camera_azimuth_deg": azimuth, "noise_px": noise_px,
            "lift_reprojection_px": round(report.mean_reprojection_px, 2), **row,
        }  # fmt: skip
        print_case(
            name,
            f"{Path(clip).name} {gait} {truth.source['speed_mps']:.2f} m/s, lift {report.mean_reprojection_px:.2f} px, "
            f"Closest restarts {row['closest_restarts']}, gait read {row['gait']}",
            row["metrics"],
        )
    write_json(RESULTS, results)
    print(f"saved {RESULTS}")


def video_part(args: argparse.Namespace, body: BodyParams, policy) -> None:
    from bench_swaps import relabelled
    from older_code import commit_of, module_at

    from motionlab.footage import lift_footage
    from motionlab.lift import detected_frames
    from motionlab.synthetic import SETUPS, detected_test_video, legs_swapped, videos_folder
    from motionlab.video.swaps import fix_left_right_swaps

    results = {"machine": platform.processor() or platform.machine(), "load": os.getloadavg(), "seconds": args.seconds,
               "targets": TARGETS,
               "input": "rendered video of the humanoid replaying mocap -> MediaPipe -> swap repair, smoothing -> lift_footage",
               "before": None if not args.before else {"revision": args.before, "commit": commit_of(args.before)},
               "cases": {}}  # fmt: skip
    repairs = {"after": fix_left_right_swaps}
    if args.before:
        with tempfile.TemporaryDirectory() as older:
            repairs = {
                "before": module_at(args.before, "motionlab.video.swaps", Path(older)).fix_left_right_swaps,
                **repairs,
            }
    with videos_folder(args.videos_dir) as folder:
        for name in args.videos.split(","):
            setup = dataclasses.replace({**SETUPS, **HELD_OUT_VIDEOS}[name], seconds=args.seconds)
            video, truth, raw = detected_test_video(name, setup, folder, body, args.mocap_dir, raw=True)
            rows = {}
            for label, repair in repairs.items():
                perms = repair(raw.keypoints_px(), raw.keypoints2d_valid)[0]
                keypoints = relabelled(raw, perms)
                lifted, report = lift_footage(keypoints, body, video)
                detected = detected_frames(keypoints)
                rows[label] = compare(truth, lifted, detected, body, args.seconds, policy)
                seen = np.take_along_axis(raw.keypoints_px(), perms[..., None], axis=1)
                rows[label]["legs_swapped_frames"] = int(
                    legs_swapped(truth.keypoints_px(), seen)[raw.keypoints2d_valid].sum()
                )
                header = (
                    f"{setup.clip or 'DeepMimic run'} ({label}), pose in {int(detected.sum())}/{len(detected)} frames, "
                )
                print_case(
                    name,
                    header
                    + f"lift {report.mean_reprojection_px:.2f} px, Closest restarts {rows[label]['closest_restarts']}",
                    rows[label]["metrics"],
                )
            results["cases"][name] = {
                "setup": dataclasses.asdict(setup), "clip": truth.source["synthetic"]["clip"],
                "frames_with_pose": f"{int(detected.sum())} of {len(detected)}",
                "lift_reprojection_px": round(report.mean_reprojection_px, 2), **rows["after"],
                "mediapipe_legs_swapped_frames": int(legs_swapped(truth.keypoints_px(), raw.keypoints_px())[raw.keypoints2d_valid].sum()),
                **({"before": rows["before"]} if "before" in rows else {}),
            }  # fmt: skip
    write_json(VIDEO_RESULTS, results)
    print(f"saved {VIDEO_RESULTS}")


def ideal_part(args: argparse.Namespace, body: BodyParams) -> None:
    """The shipped Ideal on ``body`` at ``--ideal-speeds`` for ``--seconds``: its cadence and contact as
    the report measures them (its simulated foot forces to the physics step), by the kinematic rule, from
    the force's control-step samples alone, and from its bounce."""
    import gymnasium as gym

    from motionlab.gait import bounce_period
    from motionlab.inference.pipeline import DEFAULT_IDEAL_CKPT
    from motionlab.inference.rollout import run_policy

    policy = load_policy(DEFAULT_IDEAL_CKPT)
    results = {"machine": platform.processor() or platform.machine(), "load": os.getloadavg(), "seconds": args.seconds,
               "policy": str(DEFAULT_IDEAL_CKPT), "speeds": {}}  # fmt: skip
    print("\nIdeal: the report's events (simulated foot force) against the kinematic rule and the force's samples")
    for speed in (float(v) for v in args.ideal_speeds.split(",")):
        env = gym.make(policy.env_id, target_speed=speed, max_episode_seconds=args.seconds, body=body)
        run = run_policy(env, policy, args.seconds, seed=0)
        force = gait_metrics(rollout_input(run))
        kinematic = gait_metrics(rollout_input(run, measured_contact=False))
        samples_in = rollout_input(run, measured_contact=False)
        samples = gait_metrics(dataclasses.replace(samples_in, contact=run.foot_contact))
        period, _ = bounce_period(Kinematics(build_model(body)).run(run.qpos).com[:, 2], 1.0 / run.dt)
        row = {"fell": run.fell, "bounce_spm": None if period is None else round(60.0 / period, 2)}
        for name in ("cadence", "contact_time_left", "contact_time_right", "flight_time", "double_support"):
            f, k, s = force[name]["value"], kinematic[name]["value"], samples[name]["value"]
            row[name] = {
                "force": f,
                "kinematic": k,
                "kinematic_minus_force": None if k is None or f is None else round(k - f, 2),
                "force_samples": s,
                "force_samples_minus_force": None if s is None or f is None else round(s - f, 2),
            }
        row["confidence"] = force["cadence"]["confidence"]["level"]
        results["speeds"][str(speed)] = row
        print(f"  {speed} m/s: " + ", ".join(f"{k} {v['force']} (kinematic {v['kinematic']}, samples {v['force_samples']})"
                                          for k, v in row.items() if isinstance(v, dict))
              + f"; bounce {row['bounce_spm']}, confidence {row['confidence']}, fell {run.fell}")  # fmt: skip
    write_json(IDEAL_RESULTS, results)
    print(f"saved {IDEAL_RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("keypoints", "video", "ideal", "all"), default="all")
    parser.add_argument("--ideal-speeds", default="2.5,3.5", help="ideal part: target speeds (m/s)")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--cases", default=",".join(CASES), help="keypoints part")
    parser.add_argument(
        "--videos",
        default="follow,oblique_45,cmu_run_right_to_left,cmu_walk_follow,cmu_walk_39_follow",
        help="video part: camera setups",
    )
    parser.add_argument("--before", default=None, help="video part: git revision whose swap repair is compared too")
    parser.add_argument("--videos-dir", type=Path, default=None, help="keep the rendered videos and keypoints here")
    parser.add_argument("--mocap-dir", type=Path, default=MOCAP_DIR, help="folder holding the CMU clips (cmu/...)")
    args = parser.parse_args()
    body = BodyParams(height=1.75, mass=70.0).resolved()
    policy = load_policy(DEFAULT_TRACK_CKPT)
    if args.part in ("keypoints", "all"):
        keypoints_part(args, body, policy)
    if args.part in ("video", "all"):
        video_part(args, body, policy)
    if args.part in ("ideal", "all"):
        ideal_part(args, body)


if __name__ == "__main__":
    main()
