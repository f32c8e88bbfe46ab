"""References as the pipeline makes them: mocap seen by a phone camera, detected with MediaPipe-like
errors, then cleaned and lifted with the project's own swap repair, smoothing and lift.

A tracker trained only on clean mocap meets something else at inference: the lift's output. This module
makes that output from mocap whose truth is known:

1. **Camera** (:func:`random_shot`): static (the runner passes through the frame), panning (fixed
   position, turning to keep the runner centred) or following (a tracking shot); side-on to 60 degrees
   oblique towards the front or back; pitch within +-15 degrees; horizontal field of view 50-90 degrees;
   near or far; landscape or portrait.
2. **Detection errors** (:func:`detection_errors`): pixel jitter (more on hands and feet), visibility
   lower on the far side, dropped frames (single and bursts), occasional left/right swaps of the legs
   or of the whole body for a few frames, and world landmarks with noise, compressed depth and a wrong
   scale, as MediaPipe's are.
3. **Pipeline** (:func:`lift_like_pipeline`): :func:`motionlab.video.swaps.fix_left_right_swaps`,
   :func:`motionlab.video.smoothing.savgol`, then the main job's lift of footage
   (:func:`motionlab.footage.lift_footage`, real time): the camera estimated (65 degree phone field of
   view), static for a static shot (its pitch from the ground the runner stands on when that is
   conclusive), else travelling with the runner at their speed as a user gives ``--camera-speed`` for a
   tracking or panning shot.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from motionlab.body import BodyParams
from motionlab.camera import Camera
from motionlab.footage import FootageOptions, lift_footage
from motionlab.humanoid import build_model
from motionlab.keypoints import BODY_LANDMARKS, INDEX, MIRROR_PERMUTATION, NUM_LANDMARKS
from motionlab.motion import Kinematics
from motionlab.reference import Reference
from motionlab.video.smoothing import SmoothingParams, savgol, valid_runs
from motionlab.video.swaps import fix_left_right_swaps

SHOT_KINDS = ("static", "panning", "following")
_EXTREMITIES = [INDEX[f"{s}_{p}"] for s in ("left", "right") for p in ("wrist", "ankle", "heel", "foot_index")]
_LEG_SWAP = np.arange(NUM_LANDMARKS)
_LEGS = [INDEX[f"{s}_{p}"] for s in ("left", "right") for p in ("hip", "knee", "ankle", "heel", "foot_index")]
_LEG_SWAP[_LEGS] = np.asarray(MIRROR_PERMUTATION)[_LEGS]


@dataclass(frozen=True)
class Shot:
    """A phone camera shot of a runner travelling along +x from x = 0."""

    kind: str  # static | panning | following
    azimuth_deg: float  # 0 = side-on (camera at -y); > 0 towards the front
    pitch_deg: float  # > 0 looking down
    fov_deg: float  # horizontal field of view
    distance_m: float
    width: int = 1280
    height: int = 720

    @property
    def focal_px(self) -> float:
        return self.width / (2 * np.tan(np.radians(self.fov_deg) / 2))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def random_shot(rng: np.random.Generator, kind: str | None = None) -> Shot:
    """A phone-like shot drawn from the ranges in the module docstring."""
    kind = kind or str(rng.choice(SHOT_KINDS, p=[0.35, 0.25, 0.4]))
    portrait = rng.random() < 0.25
    fov = float(rng.uniform(50, 90))
    focal_frac = 1 / (2 * np.tan(np.radians(fov) / 2))
    # near enough that the person is >= ~200 px tall, far enough to be in frame
    near, far = (3.0, 7.0) if kind != "static" else (5.0, 12.0)
    return Shot(
        kind=kind,
        azimuth_deg=float(rng.uniform(-60, 60) if rng.random() < 0.6 else rng.uniform(-15, 15)),
        pitch_deg=float(rng.uniform(-15, 15)),
        fov_deg=fov,
        distance_m=float(rng.uniform(near, far) * (0.9 + focal_frac * 0.2)),
        width=720 if portrait else 1280,
        height=1280 if portrait else 720,
    )


def _camera_at(shot: Shot, target: np.ndarray, speed: float = 0.0) -> Camera:
    a, p = np.radians(shot.azimuth_deg), np.radians(shot.pitch_deg)
    horizontal = shot.distance_m * np.cos(p)
    pos = target + np.array([horizontal * np.sin(a), -horizontal * np.cos(a), shot.distance_m * np.sin(p)])
    pos[2] = max(pos[2], 0.3)
    return Camera(
        width=shot.width, height=shot.height, focal_px=shot.focal_px, position=tuple(map(float, pos)),
        target=tuple(map(float, target)), velocity=(speed, 0.0, 0.0),
    )  # fmt: skip


def project_shot(truth: Reference, shot: Shot) -> Reference:
    """The truth's landmarks (from its ``qpos``) seen through ``shot``: normalised 2D keypoints with
    frames where the body is not in the image marked invalid, and MediaPipe-style world landmarks
    (hip-centred, camera axes). ``source`` keeps the truth's metadata without its camera."""
    hm = build_model(truth.body)
    world = Kinematics(hm).sites(truth.qpos)  # (T, 33, 3)
    hips = world[:, [INDEX["left_hip"], INDEX["right_hip"]]].mean(axis=1)
    times = np.arange(truth.num_frames) / truth.fps
    speed = float((hips[-1, 0] - hips[0, 0]) / max(times[-1], 1e-9))
    aim = np.array([0.0, 0.0, 0.9 * truth.body.height / 1.75])
    if shot.kind == "following":
        cameras = [_camera_at(shot, aim + [hips[0, 0], 0, 0], speed)] * len(times)
        px = cameras[0].project(world, times)
    else:
        middle = aim + [hips[len(hips) // 2, 0], 0, 0]
        fixed = _camera_at(shot, middle)
        if shot.kind == "static":
            cameras = [fixed] * len(times)
        else:  # panning: same position, turned towards the runner every frame
            cameras = [dataclasses.replace(fixed, target=tuple(map(float, aim + [h[0], h[1], 0]))) for h in hips]
        px = np.stack([c.project(w) for c, w in zip(cameras, world)])
    size = np.array([shot.width, shot.height], dtype=float)
    inside = ((px >= 0) & (px <= size)).all(axis=-1)
    valid = inside[:, list(BODY_LANDMARKS)].sum(axis=1) >= 10
    kp = np.zeros(world.shape, dtype=np.float32)
    kp[..., :2] = px / size
    kp[..., 2] = inside
    kp[~valid] = 0.0
    rot = np.stack([c.rotation() for c in cameras])  # (T, 3, 3)
    world_mp = np.einsum("tij,tkj->tki", rot, world - hips[:, None])
    source = {k: v for k, v in truth.source.items() if k != "camera"}
    source["shot"] = shot.to_dict()
    return Reference(
        fps=truth.fps, keypoints2d=kp, keypoints2d_valid=valid, image_size=(shot.width, shot.height),
        world_keypoints=world_mp, source=source,
    )  # fmt: skip


def detection_errors(ref: Reference, rng: np.random.Generator, jitter_px: float = 3.0) -> Reference:
    """MediaPipe-like errors on a projected reference (see the module docstring)."""
    T = ref.num_frames
    size = np.asarray(ref.image_size, dtype=float)
    px = ref.keypoints_px().astype(float)
    scale = np.ones(NUM_LANDMARKS)
    scale[_EXTREMITIES] = 2.0
    px += rng.normal(0.0, jitter_px, px.shape) * scale[:, None]
    vis = ref.keypoints2d[..., 2] * rng.uniform(0.6, 1.0, (T, NUM_LANDMARKS))
    valid = ref.keypoints2d_valid.copy()
    valid &= rng.random(T) > 0.02
    for _ in range(rng.poisson(1.0)):
        start = int(rng.integers(0, T))
        valid[start : start + int(rng.integers(3, 10))] = False
    perms = np.tile(np.arange(NUM_LANDMARKS), (T, 1))
    for _ in range(rng.poisson(0.01 * T)):
        start = int(rng.integers(0, T))
        perms[start : start + int(rng.integers(1, 4))] = _LEG_SWAP if rng.random() < 0.7 else MIRROR_PERMUTATION
    px = np.take_along_axis(px, perms[..., None], axis=1)
    vis = np.take_along_axis(vis, perms, axis=1)
    world = ref.world_keypoints.astype(float) * rng.uniform(0.85, 1.15)
    world[..., 2] *= rng.uniform(0.5, 1.0)  # MediaPipe's depth is compressed
    world += rng.normal(0.0, 0.04, world.shape)
    world = np.take_along_axis(world, perms[..., None], axis=1)
    kp = np.concatenate([px / size, vis[..., None]], axis=-1).astype(np.float32)
    kp[~valid] = 0.0
    world[~valid] = 0.0
    source = {**ref.source, "detection_errors": {"jitter_px": jitter_px, "dropped_frames": int((~valid).sum())}}
    return dataclasses.replace(ref, keypoints2d=kp, keypoints2d_valid=valid, world_keypoints=world, source=source)


def lift_like_pipeline(detected: Reference, body: BodyParams, camera_speed: float | None) -> Reference:
    """Swap repair and smoothing as extraction does them, then the lift on ``body`` with the camera the
    main job would use (``camera_speed``: the user's ``--camera-speed``; None: estimated, static)."""
    size = np.asarray(detected.image_size, dtype=float)
    times = np.arange(detected.num_frames) / detected.fps
    valid = detected.keypoints2d_valid
    perms, swaps = fix_left_right_swaps(detected.keypoints2d[..., :2] * size, valid)
    kp = np.take_along_axis(detected.keypoints2d, perms[..., None], axis=1)
    world = np.take_along_axis(detected.world_keypoints, perms[..., None], axis=1)
    kp[..., :2] = savgol(kp[..., :2] * size, times, valid, SmoothingParams()) / size
    world = savgol(world, times, valid, SmoothingParams())
    cleaned = dataclasses.replace(detected, keypoints2d=kp, world_keypoints=world)
    options = FootageOptions(camera_speed=camera_speed, time_scale=1.0)  # mocap plays in real time
    lifted, _ = lift_footage(cleaned, body, options=options)
    lifted.source = {**lifted.source, "kind": "lifted-mocap", "swaps_repaired": len(swaps)}
    return lifted


def in_view_span(valid: np.ndarray, fps: float, max_gap_s: float = 0.5) -> tuple[int, int]:
    """``[start, stop)`` of the longest stretch of valid frames with no gap over ``max_gap_s`` (a
    static camera sees the runner only while they pass; a video is cut to that)."""
    runs = valid_runs(valid)
    if not runs:
        return 0, 0
    spans = [list(runs[0])]
    for start, stop in runs[1:]:
        if (start - spans[-1][1]) / fps <= max_gap_s:
            spans[-1][1] = stop
        else:
            spans.append([start, stop])
    start, stop = max(spans, key=lambda s: s[1] - s[0])
    return start, stop


def lifted_reference(
    truth: Reference,
    rng: np.random.Generator,
    shot: Shot | None = None,
    jitter_px: float | None = None,
    min_seconds: float = 1.5,
) -> tuple[Reference, Reference]:
    """A lifted reference of ``truth`` (a mocap reference with ``qpos``) through a random (or given) shot
    with random (or ``jitter_px``) detection errors, lifted on a body of the truth's height and mass (what
    a user enters); returns it and the truth cut to the same frames. Static shots are cut to the
    stretch where the runner is in view (a random shot is redrawn while that is under ``min_seconds``).
    Panning and following shots are lifted with the runner's speed as ``--camera-speed``."""
    for _ in range(20):
        use = shot or random_shot(rng)
        seen = project_shot(truth, use)
        start, stop = in_view_span(seen.keypoints2d_valid, truth.fps)
        if (stop - start - 1) / truth.fps >= min_seconds:
            break
        if shot is not None:
            raise ValueError(f"the runner is in view for only {(stop - start) / truth.fps:.1f} s of this shot")
    else:
        raise ValueError("no random shot keeps the runner in view long enough")
    cut = lambda r: _frames(r, start, stop)  # noqa: E731
    detected = detection_errors(cut(seen), rng, float(rng.uniform(1.0, 4.0)) if jitter_px is None else jitter_px)
    speed = float(truth.source.get("speed_mps", (truth.qpos[-1, 0] - truth.qpos[0, 0]) / truth.duration))
    user_body = BodyParams(height=truth.body.height, mass=truth.body.mass).resolved()
    lifted = lift_like_pipeline(detected, user_body, None if use.kind == "static" else speed)
    q = lifted.qpos
    lifted_speed = float(np.linalg.norm(q[-1, :2] - q[0, :2]) / max(lifted.duration, 1e-9))
    lifted.source.update(speed_mps=lifted_speed, truth_speed_mps=speed, truth_frames=[int(start), int(stop)])
    return lifted, cut(truth)


def _frames(ref: Reference, start: int, stop: int) -> Reference:
    """Frames ``[start, stop)`` of a reference."""
    pick = lambda a: None if a is None else a[start:stop]  # noqa: E731
    return dataclasses.replace(
        ref, keypoints2d=ref.keypoints2d[start:stop], keypoints2d_valid=ref.keypoints2d_valid[start:stop],
        world_keypoints=pick(ref.world_keypoints), qpos=pick(ref.qpos),
    )  # fmt: skip
