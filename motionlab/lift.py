"""Lift a reference's 2D keypoints to a humanoid ``qpos`` trajectory on a given body.

The camera is the one given, else the one the reference carries (``source["camera"]``, e.g. mocap
projections), else an estimate: focal length from a typical phone field of view, distance from the
person's apparent size against the body's segment lengths, height from where the feet touch the
ground (a level, static camera; root translation then comes from the image). Frames are solved in
order by :class:`motionlab.ik.FrameIK`, each warm-started from a constant-velocity prediction of the
previous ones; the first frame (and any after a long gap) tries several headings. Frames without a
detection are interpolated in qpos space (held at the ends) and listed in the :class:`LiftReport`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np
from scipy.ndimage import minimum_filter1d
from scipy.spatial.transform import Rotation, Slerp
from tqdm import tqdm

from motionlab.body import BodyParams
from motionlab.camera import Camera, focal_from_fov
from motionlab.errors import LiftError
from motionlab.humanoid import NQ, NV, HumanoidModel, build_model, standing_qpos
from motionlab.ik import LANDMARK_TRUST, FrameIK, FrameObservation, IKWeights, TemporalPrior
from motionlab.keypoints import BODY_LANDMARKS, INDEX
from motionlab.motion import Kinematics, pelvis_forward, quat_wxyz_to_rotation, rotation_to_quat_wxyz
from motionlab.reference import Reference
from motionlab.video.smoothing import valid_runs

MIN_VALID_FRAMES = 2
MIN_VALID_FRACTION = 0.25  # of all frames must have a usable detection
VISIBLE = 0.5  # a landmark counts as seen at this visibility
MIN_VISIBLE_BODY_LANDMARKS = 6  # of the 12 body landmarks, for a frame to count as detected
MAX_CAMERA_SPEED = 15.0  # m/s; faster than any runner (a tracking shot or treadmill belt)
PHONE_FOV_DEG = 65.0  # horizontal field of view assumed for an unknown camera (phone main camera, video)
MAX_ROOT_SPEED_MPS = 12.0  # faster than any sprinter: a predicted root speed above is capped
REINIT_GAP_S = 0.5  # after a gap this long the pose is re-initialised instead of predicted
GROUND_CLEARANCE_M = 0.002
SIZE_DEPTH_NOISE = 0.08  # relative error of a frame's depth read from the body's image size (a small person)
ROW_NOISE_PX = 2.0  # error of a foot's image row, which places it on a known floor
UPRIGHT_LEAN_DEG = 15.0  # a walker's or runner's trunk leans less than this on average along the line of sight
MAX_FLIGHT_M = 0.15  # a lowest sole up to this high may be a runner's flight: not taken for a depth error
STEP_WINDOW_S = 0.4  # about one step of a run or a walk: every window this long holds a foot contact
HEADINGS = 8  # candidate headings tried when initialising
INIT_STIFFNESS = 5.0  # posture prior tightening for those first solves
INIT_ITERATIONS = 30  # Levenberg-Marquardt iterations per candidate (a predicted frame needs far fewer)
# A camera travelling with the runner is turned to the body's heading when they differ by more than the
# first (an oblique tracking shot), and left alone beyond the second (a body read front-for-back, which
# motionlab.footage relabels instead)
FOLLOW_TURN_DEG = (10.0, 75.0)

_PAIRS = {  # body segment -> landmark pairs (both sides) measuring it
    "upper_arm": [("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow")],
    "forearm": [("left_elbow", "left_wrist"), ("right_elbow", "right_wrist")],
    "thigh": [("left_hip", "left_knee"), ("right_hip", "right_knee")],
    "shank": [("left_knee", "left_ankle"), ("right_knee", "right_ankle")],
}
_FEET = [INDEX[n] for n in ("left_heel", "right_heel", "left_foot_index", "right_foot_index")]



@dataclass
class LiftReport:
    """How the lift went: reprojection error, the camera used, interpolated frames, runtime."""

    mean_reprojection_px: float
    frame_errors_px: np.ndarray  # (T,) mean pixel error over seen body landmarks; NaN where interpolated
    camera: Camera
    camera_source: str  # "argument", "reference" or "estimated"
    interpolated_frames: list[int]  # every frame without a usable detection (between and beyond them)
    runtime_s: float
    held_frames: list[int] = dataclasses.field(default_factory=list)  # before the first / after the last detection
    missing_spans_s: list[tuple[float, float]] = dataclasses.field(default_factory=list)  # [start, end] s unseen
    camera_track: np.ndarray | None = None  # (T, 3) per-frame camera positions when the camera moved freely
    notes: dict[str, Any] = dataclasses.field(default_factory=dict)  # how the camera and time base were found
    camera_yaw_deg: np.ndarray | None = None  # (T,) per-frame turn of a panning camera (left positive)

    def to_dict(self) -> dict[str, Any]:
        errors = [None if np.isnan(e) else round(float(e), 3) for e in self.frame_errors_px]
        return {
            "mean_reprojection_px": round(self.mean_reprojection_px, 3),
            "max_reprojection_px": round(float(np.nanmax(self.frame_errors_px)), 3),
            "frame_errors_px": errors,
            "camera": self.camera.to_dict(),
            "camera_source": self.camera_source,
            "interpolated_frames": self.interpolated_frames,
            "held_frames": self.held_frames,
            "missing_spans_s": [[round(a, 3), round(b, 3)] for a, b in self.missing_spans_s],
            "runtime_s": round(self.runtime_s, 3),
            "camera_track": None if self.camera_track is None else np.round(self.camera_track, 4).tolist(),
            "camera_yaw_deg": None if self.camera_yaw_deg is None else np.round(self.camera_yaw_deg, 3).tolist(),
            **self.notes,
        }

    def summary(self) -> str:
        cam = self.camera
        n, gaps = len(self.frame_errors_px), len(self.interpolated_frames)
        return "\n".join(
            [
                f"frames: {n} ({n - gaps} solved, {gaps} not seen: {len(self.held_frames)} of them held at the "
                f"ends, the rest interpolated) in {self.runtime_s:.2f} s",
                f"reprojection error: mean {self.mean_reprojection_px:.2f} px, "
                f"max {np.nanmax(self.frame_errors_px):.2f} px (12 body landmarks)",
                f"camera ({self.camera_source}): focal {cam.focal_px:.0f} px, position "
                f"{np.round(cam.position, 2).tolist()} m, target {np.round(cam.target, 2).tolist()} m, "
                f"velocity {np.round(cam.velocity, 2).tolist()} m/s",
            ]
        )


def _segment_pixel_length(px: np.ndarray) -> np.ndarray:
    """(T,) torso + mean thigh + mean shank length in pixels, a measure of the person's apparent size."""

    def mid(a: str, b: str) -> np.ndarray:
        return (px[:, INDEX[a]] + px[:, INDEX[b]]) / 2

    torso = np.linalg.norm(mid("left_shoulder", "right_shoulder") - mid("left_hip", "right_hip"), axis=-1)
    legs = [
        np.mean([np.linalg.norm(px[:, INDEX[a]] - px[:, INDEX[b]], axis=-1) for a, b in _PAIRS[seg]], axis=0)
        for seg in ("thigh", "shank")
    ]
    return torso + legs[0] + legs[1]


def _segment_length(body: BodyParams) -> float:
    """The metric counterpart of :func:`_segment_pixel_length`."""
    return body.segment("torso") + body.segment("thigh") + body.segment("shank")


def detected_frames(ref: Reference) -> np.ndarray:
    """(T,) frames with a detection that shows at least 6 of the 12 body landmarks."""
    seen = (ref.keypoints2d[:, list(BODY_LANDMARKS), 2] >= VISIBLE).sum(axis=1)
    return ref.keypoints2d_valid & (seen >= MIN_VISIBLE_BODY_LANDMARKS)


def estimate_camera(
    ref: Reference,
    body: BodyParams,
    focal_px: float | None = None,
    distance: float | None = None,
    height: float | None = None,
    speed: float = 0.0,
    pitch_deg: float = 0.0,
) -> Camera:
    """A camera looking along +y at the person, level or pitched by ``pitch_deg`` (> 0 looks up);
    unknown values are estimated from the keypoints.

    ``speed`` (m/s along +x) describes a tracking shot; 0 is a static camera."""
    W, H = ref.image_size
    detected = detected_frames(ref)
    if not detected.any():
        raise LiftError("cannot estimate a camera: no frame shows enough body landmarks")
    px = ref.keypoints_px()[detected]
    for name, value in (("focal_px", focal_px), ("distance", distance)):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise LiftError(f"camera {name} must be a positive number, got {value}")
    f = focal_px if focal_px is not None else focal_from_fov(max(W, H), PHONE_FOV_DEG)
    # the least foreshortened frames show the segments at about their true length
    d = distance if distance is not None else f * _segment_length(body) / np.percentile(_segment_pixel_length(px), 90)
    tilt = np.deg2rad(pitch_deg)
    if height is None:  # soles on the floor in stance: the lowest feet in the image are at z = 0
        ground_y = np.percentile(px[:, _FEET, 1].max(axis=1), 90)
        height = d * np.tan(np.arctan((ground_y - H / 2) / f) - tilt)
    if min(f, d) <= 0:
        raise LiftError(f"camera focal length and distance must be positive (got {f}, {d})")
    return Camera(
        width=W, height=H, focal_px=float(f), position=(0.0, -float(d), float(height)),
        target=(0.0, 0.0, float(height + d * np.tan(tilt))), velocity=(float(speed), 0.0, 0.0),
    )  # fmt: skip


def lift_reference(
    ref: Reference,
    body: BodyParams | dict | None = None,
    camera: Camera | None = None,
    weights: IKWeights | None = None,
    camera_track: np.ndarray | None = None,
    notes: dict[str, Any] | None = None,
    camera_yaw_deg: np.ndarray | None = None,
    progress: bool = False,
    ground: bool | None = None,
    heading: np.ndarray | None = None,
    floor_depth: bool = False,
) -> tuple[Reference, LiftReport]:
    """Fit a humanoid ``qpos`` trajectory on ``body`` (default: the reference's, else the default adult)
    to the reference's keypoints; returns the reference with ``qpos``/``body`` added (``qpos_observed``
    marks the frames fitted to a detection) and the report. ``progress`` shows a progress bar.

    ``camera_track`` (T, 3) gives the camera's position at every frame (a camera that moved, e.g. as
    measured by :func:`motionlab.footage.camera_track_from_motion`) instead of ``camera.position +
    velocity * t``; ``camera_yaw_deg`` (T,) turns the camera about the vertical at every frame (a pan,
    left positive); ``notes`` go into the report as they are. ``ground`` moves the camera (and the motion
    with it) up or down so that the stance feet stand on the floor (:func:`_stand_on_floor`); by default
    only an estimated camera is moved (``ground=True``: the given camera is an estimate too). With it,
    ``floor_depth`` (a static camera whose pitch was found) also draws every frame's depth towards where
    its lowest foot meets the floor (:func:`_depth_from_the_floor`). ``heading`` (2,) or (T, 2),
    horizontal, adds a prior that the pelvis faces that way (:class:`IKWeights`'s ``heading_sigma``): the
    direction a forward gait travels, when the keypoints' own heading is not trusted
    (:func:`motionlab.footage.lift_footage`)."""
    start = time.perf_counter()
    body = BodyParams.coerce(body if body is not None else ref.body).resolved()
    weights = weights or IKWeights()
    detected = detected_frames(ref)
    needed = max(MIN_VALID_FRAMES, int(np.ceil(MIN_VALID_FRACTION * ref.num_frames)))
    if detected.sum() < needed:
        raise LiftError(
            f"only {int(detected.sum())} of {ref.num_frames} frames have a usable detection (>= "
            f"{MIN_VISIBLE_BODY_LANDMARKS} body landmarks with visibility >= {VISIBLE}); lifting needs {needed}"
        )
    camera, camera_source = _resolve_camera(ref, body, camera)
    hm = build_model(body)
    px = ref.keypoints_px().astype(float)
    trust = ref.keypoints2d[..., 2] * LANDMARK_TRUST
    offsets = _world_offsets(ref, camera, body, detected)
    person_px = np.percentile(_segment_pixel_length(px[detected]), 90) * body.height / _segment_length(body)
    ik = FrameIK(hm, camera, weights, pixel_sigma=weights.keypoint_sigma * person_px)
    times = np.arange(ref.num_frames) / ref.fps
    if camera_track is None:
        camera_track = camera.positions(times)
        tracked = False
    else:
        camera_track, tracked = np.asarray(camera_track, dtype=float), True
        if camera_track.shape != (ref.num_frames, 3):
            raise LiftError(f"camera_track must be ({ref.num_frames}, 3), got {camera_track.shape}")

    rotations = camera_rotations(camera, camera_yaw_deg, ref.num_frames)
    headings = [None] * ref.num_frames if heading is None else np.broadcast_to(heading, (ref.num_frames, 2))
    if offsets is not None:  # MediaPipe's world landmarks turn with the camera
        offsets = np.einsum("tij,tnj->tni", np.swapaxes(rotations, 1, 2) @ camera.rotation(), offsets)

    qpos = np.zeros((ref.num_frames, NQ))
    solved: list[int] = []
    for t in tqdm(np.flatnonzero(detected), desc="lift", unit="frame", disable=not progress):
        obs = FrameObservation(
            px[t], trust[t], camera_track[t], None if offsets is None else offsets[t], rotations[t], headings[t]
        )
        if not solved or (t - solved[-1]) / ref.fps > REINIT_GAP_S:
            qpos[t] = _initialise(ik, obs, camera, _segment_pixel_length(px[t : t + 1])[0])
        else:
            prior = _temporal_prior(hm, qpos, solved, t, 1.0 / ref.fps, weights)
            qpos[t] = ik.solve(prior.qpos, obs, prior)[0]
        solved.append(t)
    qpos = _fill_gaps(qpos, detected)
    if ground or (ground is None and camera_source == "estimated"):
        qpos, camera, camera_track = _stand_on_floor(hm, qpos, camera, camera_track, ref.fps)
        if floor_depth:
            qpos = _depth_from_the_floor(hm, qpos, camera, camera_track, ref.fps)
            qpos, camera, camera_track = _stand_on_floor(hm, qpos, camera, camera_track, ref.fps)

    sites = Kinematics(hm).sites(qpos, hm.keypoint_site_ids[list(BODY_LANDMARKS)])
    in_camera = np.einsum("tij,tnj->tni", rotations, sites - camera_track[:, None])
    centre = np.divide(ref.image_size, 2)
    projected = camera.focal_px * in_camera[..., :2] / np.maximum(in_camera[..., 2:], 1e-6) + centre
    err = np.linalg.norm(projected - px[:, list(BODY_LANDMARKS)], axis=-1)
    seen = ref.keypoints2d[:, list(BODY_LANDMARKS), 2] >= VISIBLE
    frame_errors = np.where(detected, (err * seen).sum(1) / np.maximum(seen.sum(1), 1), np.nan)
    report = LiftReport(
        mean_reprojection_px=float(np.nanmean(frame_errors)),
        frame_errors_px=frame_errors,
        camera=camera,
        camera_source=camera_source,
        interpolated_frames=np.flatnonzero(~detected).tolist(),
        runtime_s=time.perf_counter() - start,
        held_frames=[t for t in np.flatnonzero(~detected).tolist() if t < solved[0] or t > solved[-1]],
        missing_spans_s=[(a / ref.fps, (b - 1) / ref.fps) for a, b in valid_runs(~detected)],
        camera_track=camera_track if tracked else None,
        notes=dict(notes or {}),
        camera_yaw_deg=None if camera_yaw_deg is None else np.asarray(camera_yaw_deg, dtype=float),
    )
    lifted = dataclasses.replace(
        ref, qpos=qpos, body=body, source={**ref.source, "lift": report.to_dict()}, qpos_observed=detected.copy()
    )
    return lifted, report


def lift_following(
    ref: Reference,
    body: BodyParams | dict | None,
    camera: Camera,
    camera_track: np.ndarray | None = None,
    **kwargs: Any,
) -> tuple[Reference, LiftReport]:
    """:func:`lift_reference` for a camera that travels with the runner: at ``camera.velocity`` (a given
    speed), or along ``camera_track`` (as measured by :func:`motionlab.footage.camera_track_from_motion`).

    Such a camera travels the way the runner runs. The image alone does not say which way that is when
    the shot is oblique: lifted with the camera moving along its own x axis (sideways in the image), an
    oblique tracking shot's body runs crabwise, facing up to the shot's angle away from where it goes.
    (So is a measured track that could not read the camera's motion along the line of sight, from the
    ground's vertical motion: its sideways part is all it has.) So the keypoints are lifted once, and
    when the body's mean heading is :data:`FOLLOW_TURN_DEG` off the camera's direction of travel they are
    lifted again with the camera travelling along that heading (:func:`_turn_camera`: a given speed kept,
    a measured track's image-plane part kept). ``notes["camera_heading"]`` (the report's and the given
    ``notes``) records it."""
    lifted, report = lift_reference(ref, body, camera, camera_track=camera_track, **kwargs)
    ends = None if camera_track is None else np.asarray(camera_track, dtype=float)[[0, -1], :2]
    travel = np.asarray(camera.velocity, dtype=float)[:2] if ends is None else ends[1] - ends[0]
    facing = pelvis_forward(lifted.qpos)[:, :2].mean(axis=0)
    if np.hypot(*travel) < 1e-6 or not np.any(facing):
        return lifted, report
    turn = float(np.degrees(np.angle(complex(*facing) / complex(*travel))))
    source = "speed" if camera_track is None else "track"
    note = {"turned_deg": 0.0, "heading_offset_deg": round(turn, 1), "camera_travel_from": source}
    heading = facing / np.linalg.norm(facing)
    turnable = FOLLOW_TURN_DEG[0] < abs(turn) <= FOLLOW_TURN_DEG[1]
    if camera_track is not None:  # its sideways part sets the pace: not for a heading across the image
        turnable = turnable and heading[0] * np.sign(travel[0]) >= np.cos(np.radians(FOLLOW_TURN_DEG[1]))
    if turnable:
        camera, camera_track = _turn_camera(camera, camera_track, heading)
        lifted, report = lift_reference(ref, body, camera, camera_track=camera_track, **kwargs)
        note |= {"turned_deg": round(turn, 1), "warn": True, "message": (
            f"the camera travelling with the runner was turned {turn:+.0f} deg to where the body faces (an oblique "
            f"tracking shot; its {'speed' if source == 'speed' else 'sideways motion'} kept)"
        )}  # fmt: skip
    report.notes["camera_heading"] = note
    if kwargs.get("notes") is not None:  # the caller's notes, which it may write into the report again
        kwargs["notes"]["camera_heading"] = note
    lifted.source["lift"] = report.to_dict()
    return lifted, report


def _turn_camera(
    camera: Camera, camera_track: np.ndarray | None, heading: np.ndarray
) -> tuple[Camera, np.ndarray | None]:
    """``camera`` (and ``camera_track``) travelling along the horizontal unit ``heading`` instead. A given
    velocity keeps its speed. A measured track keeps what was read well, its part along the camera's x
    axis (the lift world's x, sideways in the image) every frame: a step ``s`` sideways becomes
    ``s / cos(a)`` along the heading, ``a`` its angle to x; height as measured."""
    if camera_track is None:
        velocity = np.asarray(camera.velocity, dtype=float)
        speed = float(np.hypot(*velocity[:2]))
        turned = (float(speed * heading[0]), float(speed * heading[1]), float(velocity[2]))
        return dataclasses.replace(camera, velocity=turned), None
    track = np.array(camera_track, dtype=float)
    along = (track[:, 0] - track[0, 0]) / heading[0]  # |a| <= 75 deg (lift_following)
    track[:, :2] = track[0, :2] + along[:, None] * heading
    return camera, track


def joint_position_errors(hm: HumanoidModel, qpos_true: np.ndarray, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame MPJPE and PA-MPJPE (m) over the 12 body landmarks: positions relative to the hip
    midpoint, and after the best similarity transform (Procrustes: rotation, scale, translation)."""
    sites = hm.keypoint_site_ids[list(BODY_LANDMARKS)]
    kin = Kinematics(hm)
    hips = [BODY_LANDMARKS.index(INDEX["left_hip"]), BODY_LANDMARKS.index(INDEX["right_hip"])]
    a, b = (x - x[:, hips].mean(axis=1, keepdims=True) for x in (kin.sites(qpos_true, sites), kin.sites(qpos, sites)))
    mpjpe = np.linalg.norm(a - b, axis=-1).mean(axis=1)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    u, s, vt = np.linalg.svd(np.swapaxes(b, 1, 2) @ a)  # (T, 3, 3)
    flip = np.sign(np.linalg.det(u @ vt))  # no reflections
    s[:, 2] *= flip
    u[:, :, 2] *= flip[:, None]
    scale = s.sum(axis=1) / (b**2).sum(axis=(1, 2))
    aligned = scale[:, None, None] * b @ u @ vt
    return mpjpe, np.linalg.norm(aligned - a, axis=-1).mean(axis=1)


def _resolve_camera(ref: Reference, body: BodyParams, camera: Camera | None) -> tuple[Camera, str]:
    if camera is not None:
        camera, source = camera, "argument"
    elif "camera" in ref.source:
        camera, source = Camera.from_dict(ref.source["camera"]), "reference"
    else:
        camera, source = estimate_camera(ref, body), "estimated"
    if (camera.width, camera.height) != ref.image_size:
        raise LiftError(
            f"the {source} camera is {camera.width}x{camera.height} px but the reference's images are "
            f"{ref.image_size[0]}x{ref.image_size[1]} px"
        )
    return camera, source


def camera_rotations(camera: Camera, yaw_deg: np.ndarray | None, frames: int) -> np.ndarray:
    """(T, 3, 3) world-to-camera rotations: ``camera``'s own, turned by ``yaw_deg`` about the vertical."""
    if yaw_deg is None:
        return np.repeat(camera.rotation()[None], frames, axis=0)
    turn = Rotation.from_euler("z", np.asarray(yaw_deg, dtype=float)[:, None], degrees=True).as_matrix()
    return camera.rotation() @ np.swapaxes(turn, 1, 2)


def _world_offsets(ref: Reference, camera: Camera, body: BodyParams, detected: np.ndarray) -> np.ndarray | None:
    """(T, 33, 3) hip-relative world landmarks in the world's axes, scaled to ``body``; None if absent."""
    if ref.world_keypoints is None:
        return None
    world = _upright(ref.world_keypoints.astype(float) @ camera.rotation(), detected, camera)  # -> world axes
    measured = sum(
        np.linalg.norm(world[detected, INDEX[a]] - world[detected, INDEX[b]], axis=-1)
        for pairs in _PAIRS.values()
        for a, b in pairs
    )
    size = float(np.median(measured))
    if size < 1e-6:
        raise LiftError("world_keypoints are all zero on frames with a detection")
    return world * (2 * sum(body.segment(s) for s in _PAIRS) / size)


def trunk_lean_deg(world: np.ndarray, detected: np.ndarray, camera: Camera) -> float:
    """The mean trunk's (hips to shoulders over the ``detected`` frames) lean along ``camera``'s line of
    sight (deg, > 0 away from it) of world landmarks (T, 33, 3) in world axes; 0 for a camera looking
    straight down."""
    mid = lambda a, b: (world[detected, INDEX[a]] + world[detected, INDEX[b]]) / 2  # noqa: E731
    trunk = (mid("left_shoulder", "right_shoulder") - mid("left_hip", "right_hip")).mean(axis=0)
    view = camera.rotation()[2, :2]
    if np.linalg.norm(view) < 1e-6:
        return 0.0
    return float(np.degrees(np.arctan2(trunk[:2] @ view / np.linalg.norm(view), trunk[2])))


def world_trunk_lean_deg(ref: Reference, camera: Camera) -> float | None:
    """:func:`trunk_lean_deg` of ``ref``'s world landmarks seen through ``camera``; None without them."""
    if ref.world_keypoints is None:
        return None
    return trunk_lean_deg(ref.world_keypoints.astype(float) @ camera.rotation(), detected_frames(ref), camera)


def _upright(world: np.ndarray, detected: np.ndarray, camera: Camera) -> np.ndarray:
    """World landmarks (T, 33, 3) in world axes turned about the horizontal axis across the camera's view
    by the part of their mean trunk's lean along the line of sight (:func:`trunk_lean_deg`) that the
    camera's tilt explains, when it leans more than :data:`UPRIGHT_LEAN_DEG`; else as they are.

    MediaPipe's world landmarks of a small person seen from above stand upright in the camera's axes,
    not the world's (vtest.avi, camera ~25 deg down: the trunk leaned with whatever pitch was assumed, 49
    deg at 53 deg down), so a pitched camera tilted the whole body back by its pitch and the tracker fell.
    A body upright in the camera's axes leans away from a camera looking down by the camera's tilt; so
    the turn is at most the tilt, and only away from a camera looking down (towards one looking up): a
    runner's own forward lean, seen obliquely or from the front by a level camera (CMU 16_55 at 45 deg:
    22 deg towards the camera), is kept."""
    lean = trunk_lean_deg(world, detected, camera)
    tilt = -camera.pitch_deg()  # > 0: looking down
    if abs(lean) <= UPRIGHT_LEAN_DEG or lean * tilt <= 0:
        return world
    turn = np.sign(lean) * min(abs(lean), abs(tilt))
    forward = camera.rotation()[2]
    view = forward[:2] / np.linalg.norm(forward[:2])
    across = np.array([view[1], -view[0], 0.0])  # turning about it by +a tips +z towards the camera
    return world @ Rotation.from_rotvec(np.radians(turn) * across).as_matrix().T


def _initialise(ik: FrameIK, obs: FrameObservation, camera: Camera, size_px: float) -> np.ndarray:
    """Best of several headings, each a standing pose placed where the hips are seen (at the depth the
    person's apparent size implies), solved first with a stiff posture prior and then relaxed."""
    depth = camera.focal_px * _segment_length(ik.hm.body) / max(size_px, 1.0)
    hips_px = obs.pixels[[INDEX["left_hip"], INDEX["right_hip"]]].mean(axis=0)
    ray = np.r_[(hips_px - [camera.width / 2, camera.height / 2]) / camera.focal_px, 1.0]
    root = obs.camera_position + obs.camera_rotation.T @ (ray * depth)
    best, best_cost = standing_qpos(ik.hm), np.inf
    for yaw in np.arange(HEADINGS) * 2 * np.pi / HEADINGS:
        q = standing_qpos(ik.hm)
        q[:3] = root
        q[3:7] = rotation_to_quat_wxyz(Rotation.from_euler("z", yaw))
        q, _ = ik.solve(q, obs, None, stiffness=INIT_STIFFNESS, iterations=INIT_ITERATIONS)
        q, cost = ik.solve(q, obs, None, iterations=INIT_ITERATIONS)
        if cost < best_cost:
            best, best_cost = q, cost
    return best


def _temporal_prior(
    hm: HumanoidModel, qpos: np.ndarray, solved: list[int], t: int, dt: float, weights: IKWeights
) -> TemporalPrior:
    """Constant-velocity prediction from the last two solved frames (or hold the last one); the root's
    speed is capped at :data:`MAX_ROOT_SPEED_MPS` so that one bad frame cannot start a runaway."""
    last = solved[-1]
    if len(solved) < 2:
        return TemporalPrior(qpos[last].copy(), weights.temporal_sigmas(dt, t - last, accelerate=False))
    before = solved[-2]
    velocity = np.zeros(NV)
    mujoco.mj_differentiatePos(hm.model, velocity, last - before, qpos[before], qpos[last])
    speed = np.linalg.norm(velocity[:3]) / dt  # velocity is per frame
    if speed > MAX_ROOT_SPEED_MPS:
        velocity[:3] *= MAX_ROOT_SPEED_MPS / speed
    predicted = qpos[last].copy()
    mujoco.mj_integratePos(hm.model, predicted, velocity, t - last)
    return TemporalPrior(predicted, weights.temporal_sigmas(dt, t - last, accelerate=True))


def _fill_gaps(qpos: np.ndarray, solved: np.ndarray) -> np.ndarray:
    """Interpolate unsolved frames between solved neighbours (slerp for the root), hold at the ends."""
    if solved.all():
        return qpos
    frames, known = np.arange(len(qpos)), np.flatnonzero(solved)
    out = qpos.copy()
    for j in [0, 1, 2, *range(7, NQ)]:
        out[:, j] = np.interp(frames, known, qpos[known, j])
    slerp = Slerp(known, quat_wxyz_to_rotation(qpos[known, 3:7]))  # at least MIN_VALID_FRAMES are known
    out[:, 3:7] = rotation_to_quat_wxyz(slerp(np.clip(frames, known[0], known[-1])))
    return out


def sole_and_stance_heights(hm: HumanoidModel, qpos: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(T,) each frame's lowest sole height, and (T,) the lowest over the step-long window
    (:data:`STEP_WINDOW_S`, which always holds a foot contact) around it: the stance sole's height."""
    soles = Kinematics(hm).sole_heights(qpos)
    return soles, minimum_filter1d(soles, max(1, int(round(STEP_WINDOW_S * fps))), mode="nearest")


def _stand_on_floor(
    hm: HumanoidModel, qpos: np.ndarray, camera: Camera, track: np.ndarray, fps: float
) -> tuple[np.ndarray, Camera, np.ndarray]:
    """Shift an estimated camera (and its per-frame ``track``) and the motion together vertically so the
    feet stand on the floor in stance (the image is unchanged; only the camera height estimate improves).

    Every step-long window (:data:`STEP_WINDOW_S`) holds a foot contact: its lowest sole is a stance
    sole. The median of those over the clip is put on the floor, so one frame solved too low (a bad
    detection) cannot lift the whole motion off it, as the overall lowest sole did (a camera looking
    down left the stance feet ~11 cm above the floor on exact keypoints)."""
    _, stance = sole_and_stance_heights(hm, qpos, fps)
    shift = float(np.median(stance)) - GROUND_CLEARANCE_M
    out = qpos.copy()
    out[:, 2] -= shift
    down = np.array([0.0, 0.0, shift])
    moved = dataclasses.replace(
        camera,
        position=tuple(np.subtract(camera.position, down).tolist()),
        target=tuple(np.subtract(camera.target, down).tolist()),
    )
    return out, moved, track - down


def _depth_from_the_floor(
    hm: HumanoidModel, qpos: np.ndarray, camera: Camera, track: np.ndarray, fps: float
) -> np.ndarray:
    """``qpos`` with every frame moved along the camera's ray through its root so that its lowest sole
    stands on the floor, as far as the floor gives the frame's depth better than the body's size.

    The body's image size gives a frame's depth to ~:data:`SIZE_DEPTH_NOISE` (a small person's); the
    foot's row on the floor gives it to ``(row noise / f) / tan(b)``, ``b`` the ray's angle below level
    (:data:`ROW_NOISE_PX`). The depth moves by the floor's inverse-variance weight ``w``: nearly all the
    way for a camera looking down (vtest.avi's walker 13 m away: the size's depth noise put the stance
    feet up to 0.5 m above and below the floor), little for a ray that grazes the floor (there a sole's
    height says little about depth). Every step-long window (:data:`STEP_WINDOW_S`) holds a stance: its
    lowest sole goes to the floor; any other frame's lowest sole keeps ``1 - w`` of its height above
    that one, at most :data:`MAX_FLIGHT_M` (a runner's flight: kept where the size can tell it from depth
    noise, lost where only the floor can place the body). An error in the pitch moves the floor's depths
    smoothly with the image row (a path stretched or squeezed, on the floor), not frame by frame."""
    soles, stance = sole_and_stance_heights(hm, qpos, fps)
    ray = qpos[:, :3] - track
    drop = -ray[:, 2]  # the camera's height above the root
    below = np.arctan2(drop, np.hypot(ray[:, 0], ray[:, 1]))
    floor_noise = np.where(below > 0, ROW_NOISE_PX / camera.focal_px / np.maximum(np.tan(below), 1e-9), np.inf)
    weight = SIZE_DEPTH_NOISE**2 / (SIZE_DEPTH_NOISE**2 + floor_noise**2)
    off = soles - (1 - weight) * np.clip(soles - stance, 0.0, MAX_FLIGHT_M)  # how far each lowest sole is off
    scale = np.clip(1.0 + weight * off / np.where(drop > 0, drop, np.inf), 0.5, 2.0)
    out = qpos.copy()
    out[:, :3] = track + scale[:, None] * ray
    return out
