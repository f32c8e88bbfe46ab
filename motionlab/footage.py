"""Real footage -> a lifted reference: the camera's motion, the time base and the treadmill case found
from the video itself, each decision written into the lift report's notes (and said on the console).

1. **Camera.** Its focal length from the lens' 35 mm-equivalent focal length in the container's
   metadata when a phone wrote it, else a typical phone's field of view (:data:`motionlab.lift.PHONE_FOV_DEG`),
   recorded with its source in the notes' ``field_of_view``. ``camera_speed`` given: a camera travelling at that speed (the old behaviour). Else the
   ground's image motion at the runner's feet (:mod:`motionlab.camera_motion`) becomes a per-frame
   camera track: the camera moves by the ground's pixel motion times the person's metres per pixel.
   When that cannot be estimated the camera is taken as static and the notes say so.
2. **Lift** (:func:`motionlab.lift.lift_reference`). A camera travelling with the runner whose motion
   along the line of sight is not known, at a given speed or along a measured track that could not read
   it (the ground at the runner too close to the horizon in most frames), goes where the runner runs
   (:func:`motionlab.lift.lift_following`): on an oblique shot its travel is turned to the body's heading
   (a measured track keeps its sideways part), recorded in the notes' ``camera_heading``; the speed's
   confidence (6) is judged on the turned track. A track that read it is kept: on the rendered 45 deg
   oblique shot it travels within 1 deg of the truth while MediaPipe's body faces 28-35 deg off, and turned
   to that heading the speed came out 27 % slow (the body is turned instead, in 4).
3. **Time base.** ``time_scale`` given: the video plays that many times slower than real life. Else a
   capture rate in the container's metadata, else the cadence (:mod:`motionlab.gait`): a running pose
   at an implausibly low cadence is slow motion by the usual factor; when no usual factor explains it
   the job stops and asks for ``--time-scale``.
4. **Facing.** A body that travels (faster than :data:`MIN_TRAVEL_SPEED_MPS`) facing more than
   :data:`BACKWARDS_DEG` away from its direction of travel was read from the wrong side: MediaPipe
   took the front for the back (left and right labels swapped, depth mirrored), which happens when
   the face is not seen, e.g. running towards the camera. The labels are swapped and the lift redone.
   A body facing more than :data:`FACE_TRAVEL_DEG` (up to :data:`BACKWARDS_DEG`) away from where it travels is
   lifted again with a prior that its pelvis faces its direction of travel (a runner does not run
   sideways): MediaPipe's 2D hips and shoulders read the rendered oblique figure's torso more side-on than
   it is, and the 2D hardly tells the heading (turning the body 28 deg to its travel costs ~0.3 px of
   reprojection error), so the heading then comes from the travel, which the notes' ``facing`` says
   (``heading_from_travel``, ``read_offset_deg``). Still more than :data:`CROSSWISE_DEG` off, it is said
   to be uncertain.
5. **Treadmill.** A static camera and a runner who keeps stepping but does not travel: the speed over
   ground is unknown unless ``treadmill_speed`` is given, which then moves the runner along its
   facing direction at that speed (as a camera travelling with the belt would see it).
6. **Speed confidence.** A speed over ground measured from the video (not given, no treadmill) gets a
   confidence, uncertainty and likely interval of its own (:mod:`motionlab.speed_confidence`), in the
   notes' ``speed_confidence``; a low one is said.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from motionlab.body import BodyParams
from motionlab.camera import Camera, focal_from_35mm, focal_from_fov, fov_from_focal
from motionlab.camera_motion import CameraMotion, estimate_camera_motion
from motionlab.errors import FootageError, UserError
from motionlab.gait import analyse_gait
from motionlab.ground_plane import (
    MAX_FEET_PITCH_DEG,
    MAX_STANCE_SPREAD_M,
    MIN_CORRECTION_DEG,
    decide_pitch,
    fit_feet_on_ground,
    fit_ground,
    fit_horizon,
    ground_points,
    stance_spread_m,
)
from motionlab.keypoints import MIRROR_PERMUTATION
from motionlab.lift import (
    MIN_VALID_FRACTION,
    MIN_VALID_FRAMES,
    MIN_VISIBLE_BODY_LANDMARKS,
    PHONE_FOV_DEG,
    UPRIGHT_LEAN_DEG,
    VISIBLE,
    LiftReport,
    camera_rotations,
    detected_frames,
    estimate_camera,
    lift_following,
    lift_reference,
    world_trunk_lean_deg,
)
from motionlab.motion import pelvis_forward
from motionlab.reference import Reference
from motionlab.speed_confidence import assess_speed, stance_slip
from motionlab.video.person_finder import box_around
from motionlab.video.reader import capture_fps, focal_length_35mm, source_frame_step

TREADMILL_MAX_SPEED_MPS = 0.4  # a stepping runner who travels slower than this (static camera): treadmill
MIN_BELOW_HORIZON = 0.08  # of the image height: the ground point this far below centre shows depth motion
# a measured track read the camera's motion along the line of sight in at least this share of the frames,
# else it is taken as sideways only (a given speed's camera) and turned to the body's heading when oblique
MIN_LINE_OF_SIGHT_READ = 0.5
CROSSWISE_DEG = 20.0  # a body facing this far off its travel (and not backwards) is said to be misread
# a body facing further than this off its travel (and not backwards) is lifted again with a prior that it faces
# where it travels: MediaPipe's heading is 24-35 deg off on the rendered oblique and towards-the-camera shots
FACE_TRAVEL_DEG = 10.0
MIN_SLOW_MOTION = 1.2  # metadata capture rate / playback rate above this counts as slow motion
# A step period read off a bounce that repeats less clearly than this neither corrects the time base
# nor stops the job (vtest.avi's 74 px walker at 10 fps: 0.24, read as 35 steps/min; the rendered test runs,
# slow motion included, repeat above it)
CLEAR_STEP_CORRELATION = 0.5
# The hips' mean height when running, in leg lengths, as MediaPipe's hip landmarks place them on the rendered
# test runs (0.93 calibrated on the DeepMimic run when the mocap import had flattened its flight phase; x1.03
# since commit 6419075 restored it: the reference's mean hip height went 0.981 -> 1.012 leg lengths).
RUNNING_HIP_HEIGHT = 0.96
FIT_PITCH_STEP_DEG = 5.0  # pitches tried for the best-fitting upright body (pitch_of_the_best_fit)
FIT_MAX_FPS = 10.0  # ... on the clip thinned to about this rate
MIN_PITCH_DEG = 4.0
MAX_PITCH_DEG = 35.0
MIN_TRAVEL_SPEED_MPS = 1.0  # video time
BACKWARDS_DEG = 120.0


@dataclass(frozen=True)
class FootageOptions:
    """What the user knows (each None: found from the video)."""

    camera_speed: float | None = None  # m/s of a camera travelling with the runner
    time_scale: float | None = None  # the video plays this many times slower than real life (4: 4x slow motion)
    treadmill_speed: float | None = None  # belt speed (m/s) when filmed on a treadmill

    def __post_init__(self) -> None:
        if self.time_scale is not None and not 0.05 <= self.time_scale <= 100:
            raise UserError(f"--time-scale {self.time_scale}: give the slow-motion factor, between 0.05 and 100")
        if self.treadmill_speed is not None and not 0 <= self.treadmill_speed <= 12:
            raise UserError(f"--treadmill-speed {self.treadmill_speed}: give the belt speed in m/s, 0-12")


def lift_footage(
    ref: Reference, body: BodyParams, video: str | os.PathLike | None = None, options: FootageOptions = FootageOptions()
) -> tuple[Reference, LiftReport]:
    """Lift ``ref`` (keypoints of ``video``) onto ``body`` with the camera, time base and treadmill
    handling of the module docstring. Returns the lifted reference (``fps`` in real time) and the
    report, whose ``notes`` hold ``camera_motion``, ``gait``, ``time_base``, ``treadmill`` and (a measured
    speed over ground) ``speed_confidence``."""
    _check_detections(ref)
    notes: dict[str, Any] = {}
    floor: dict[str, bool] = {}  # a pitch found: depths drawn to the floor (lift.lift_reference)
    camera, track, yaw, ground_flow = _camera(ref, body, video, options, notes)
    ground = True if camera is not None else None  # ours or the lift's own: an estimate, stood on the floor
    sideways_only = track is not None and notes["camera_motion"]["line_of_sight_read"] < MIN_LINE_OF_SIGHT_READ
    travelling = camera is not None and yaw is None and (sideways_only or (track is None and any(camera.velocity)))
    lift = lift_following if travelling else lift_reference  # a tracking shot goes where the runner runs
    lifted, report = lift(ref, body, camera, camera_track=track, notes=notes, camera_yaw_deg=yaw, ground=ground)
    if "camera" not in ref.source and not travelling and track is None and yaw is None:
        tilted = _pitch_from_the_ground(ref, body, lifted, report, notes)
        if tilted is not None:
            camera, ground, floor = tilted, True, {"floor_depth": True}
            lifted, report = lift(ref, body, camera, notes=notes, ground=ground, **floor)
    again = {"camera_track": track, "notes": notes, "camera_yaw_deg": yaw, "ground": ground, **floor}
    lifted, report = _face_where_it_travels(ref, body, camera, lift, again, lifted, report)
    _warn_if_the_lens_matters(lifted, report, notes)
    if "ground_plane" in notes:
        _warn_if_off_the_floor(lifted, notes["ground_plane"])
    gait = analyse_gait(lifted)
    notes["gait"] = gait.to_dict()
    scale = _time_scale(video, ref.source.get("summary", {}).get("fps_nominal"), gait, options, notes)
    if scale != 1.0:
        lifted = dataclasses.replace(lifted, fps=lifted.fps * scale)
    treadmill = _treadmill(lifted, gait.cadence_spm is not None, notes.get("camera_motion", {}), options)
    notes["treadmill"] = treadmill
    if treadmill.get("detected") and options.treadmill_speed:
        lifted = _on_belt(lifted, options.treadmill_speed)
    motion_note = notes.get("camera_motion") or {}
    if motion_note.get("known") and not treadmill.get("detected"):  # a speed over ground was measured
        lens_assumed = (notes.get("field_of_view") or {}).get("source") == "assumed"
        observed = lifted.qpos_observed if lifted.qpos_observed is not None else np.ones(lifted.num_frames, bool)
        slip = None if ground_flow is None else stance_slip(ref.keypoints_px(), detected_frames(ref), ground_flow)
        notes["speed_confidence"] = assess_speed(
            lifted.qpos, lifted.fps, observed, motion_note, lens_assumed, runner_depth_m(lifted, report), slip
        )
    report = dataclasses.replace(report, notes=notes)
    lifted.source = {**lifted.source, "lift": report.to_dict()}
    return lifted, report


def _pitch_from_the_ground(
    ref: Reference, body: BodyParams, lifted: Reference, report: LiftReport, notes: dict
) -> Camera | None:
    """A static camera re-estimated with the pitch that the ground ``lifted``'s feet stand on, the
    person's image size and their feet on one ground give (:mod:`motionlab.ground_plane`), or None when
    that is inconclusive or the pitch already right;
    ``notes["ground_plane"]`` holds the evidence, which and why."""
    camera = report.camera
    view = np.subtract(camera.target, camera.position)
    before = camera.pitch_deg()
    ground = fit_ground(ground_points(lifted), np.asarray(camera.position), view)
    horizon = fit_horizon(ref, camera.focal_px)
    shoulders = body.leg_length + body.segment("torso") - body.ankle_height  # above the feet landmarks' mean
    feet = fit_feet_on_ground(ref, camera.focal_px, shoulders)
    decision = decide_pitch(ground, before, horizon, feet)
    pitch = decision.pitch_deg
    steepest = MAX_FEET_PITCH_DEG if decision.source == "feet" else MAX_PITCH_DEG
    used = (decision.conclusive or decision.source == "feet") and abs(pitch - before) >= MIN_CORRECTION_DEG
    used = used and abs(pitch) <= steepest
    fits: dict[str, float] = {}
    lean = None if not used else world_trunk_lean_deg(ref, estimate_camera(ref, body, camera.focal_px, pitch_deg=pitch))
    if used and decision.source == "feet" and lean is not None and abs(lean) > UPRIGHT_LEAN_DEG:
        # the feet and the pose disagree: the pitch at which the upright body fits the image best
        pitch, fits = pitch_of_the_best_fit(ref, body, camera.focal_px, feet.feet_below_horizon_deg)
        reason = (
            f"{decision.reason}; at that pitch MediaPipe's body would lean {abs(lean):.0f} deg "
            f"{'away from' if lean > 0 else 'towards'} the camera; the upright body fits the image best at "
            f"{pitch:+.1f} deg (reprojection {fits[f'{pitch:.1f}']:.2f} px)"
        )  # fmt: skip
        decision = dataclasses.replace(decision, pitch_deg=pitch, reason=reason)
    notes["ground_plane"] = {
        "ground": ground.to_dict(), "horizon": horizon.to_dict(), "feet": feet.to_dict(), "source": decision.source,
        "reprojection_px_by_pitch": fits, "pose_lean_deg": None if lean is None else round(lean, 1),
        "conclusive": decision.conclusive,
        "reason": decision.reason, "pitch_se_deg": round(decision.pitch_se_deg, 2),
        "pitch_before_deg": round(before, 2), "used": used, "pitch_deg": round(pitch if used else before, 2),
    }  # fmt: skip
    if used:
        notes["ground_plane"]["warn"] = True  # a correction: said, as every decision is
        looking = f"camera pitch {pitch:+.1f} deg (looking {'down' if pitch < 0 else 'up'})"
        said = f"{looking}, uncertain: " if decision.source == "feet" else f"{looking} from "
        notes["ground_plane"]["message"] = said + decision.reason
        return estimate_camera(ref, body, focal_px=camera.focal_px, pitch_deg=pitch)
    return None


def _warn_if_off_the_floor(lifted: Reference, note: dict) -> None:
    """Record how far the lifted stance soles spread in height (:func:`motionlab.ground_plane.stance_spread_m`)
    and say, over :data:`MAX_STANCE_SPREAD_M`, that the body's height (and the camera's pitch and height)
    are uncertain: a body that climbs or sinks on a flat floor is not shown as fact."""
    spread = stance_spread_m(lifted)
    note["stance_spread_m"] = round(spread, 3)
    if spread <= MAX_STANCE_SPREAD_M:
        return
    said = f"; {note['message']}" if note.get("warn") else ""
    note["warn"] = True
    note["message"] = (
        f"the lifted stance feet spread {spread:.2f} m in height on what should be one floor: the camera's pitch "
        f"and height, and so the body's height and distance, are uncertain{said}"
    )


def pitch_of_the_best_fit(
    ref: Reference, body: BodyParams, focal_px: float, feet_below_horizon_deg: float
) -> tuple[float, dict[str, float]]:
    """The static camera's pitch (deg, > 0 up) at which the lift reprojects best, tried every
    :data:`FIT_PITCH_STEP_DEG` from where every step's feet are below the horizon down to
    :data:`~motionlab.ground_plane.MAX_FEET_PITCH_DEG` (the best refined by a parabola through its
    neighbours), on the clip thinned to :data:`FIT_MAX_FPS`; and the mean reprojection error (px) at each.

    The lift stands MediaPipe's world landmarks upright (:func:`motionlab.lift._upright`), so a wrong
    pitch leaves an upright body that the 2D keypoints do not fit (vtest.avi, 12 s: 1.14 px at 25 deg
    down, 1.38 at 37, 1.40 level), whereas the steps' feet on one ground read other people's sizes into
    the pitch once the keypoints jump to them (37-53 deg). Used when those two disagree: MediaPipe's body
    would lean more than :data:`~motionlab.lift.UPRIGHT_LEAN_DEG` at the feet's pitch."""
    step = max(1, int(ref.fps // FIT_MAX_FPS))
    thin = dataclasses.replace(
        ref, fps=ref.fps / step, keypoints2d=ref.keypoints2d[::step], keypoints2d_valid=ref.keypoints2d_valid[::step],
        world_keypoints=None if ref.world_keypoints is None else ref.world_keypoints[::step], qpos=None,
        qpos_observed=None,
    )  # fmt: skip
    top = min(np.floor(feet_below_horizon_deg / FIT_PITCH_STEP_DEG) * FIT_PITCH_STEP_DEG, -FIT_PITCH_STEP_DEG)
    pitches = np.arange(top, -MAX_FEET_PITCH_DEG - 1e-6, -FIT_PITCH_STEP_DEG)
    errors = []
    for pitch in pitches:
        camera = estimate_camera(thin, body, focal_px=focal_px, pitch_deg=float(pitch))
        errors.append(lift_reference(thin, body, camera, ground=True)[1].mean_reprojection_px)
    best = int(np.argmin(errors))
    pitch = float(pitches[best])
    if 0 < best < len(pitches) - 1:  # the vertex of the parabola through the best and its neighbours
        left, mid, right = errors[best - 1 : best + 2]
        curve = left - 2 * mid + right
        if curve > 0:
            pitch -= FIT_PITCH_STEP_DEG * 0.5 * (left - right) / curve  # pitches fall with the index
    fits = {f"{p:.1f}": round(float(e), 3) for p, e in zip(pitches, errors)}
    fits.setdefault(f"{pitch:.1f}", round(float(errors[best]), 3))
    return pitch, fits


def speed_known(report: LiftReport) -> bool:
    """False for a treadmill filmed without its belt speed: the speed over ground is then unknown."""
    treadmill = report.notes.get("treadmill") or {}
    return not treadmill.get("detected") or bool(treadmill.get("speed_over_ground_known"))


def _check_detections(ref: Reference) -> None:
    """Too few frames with a usable pose: stop, saying what to do, with the box that was tried."""
    detected = detected_frames(ref)
    needed = max(MIN_VALID_FRAMES, int(np.ceil(MIN_VALID_FRACTION * ref.num_frames)))
    if detected.sum() >= needed:
        return
    seen = ref.keypoints2d[..., 2].mean(axis=1) * ref.keypoints2d_valid
    best = int(np.argmax(seen))
    tried = ""
    if ref.keypoints2d_valid[best]:
        box = ",".join(map(str, box_around(ref.keypoints_px()[best], ref.image_size)))
        tried = (
            f" MediaPipe's best pose was at frame {best} (mean visibility {seen[best]:.2f}) in the box "
            f"{box}: if that is not the runner, or the runner is small,"
        )
    raise FootageError(
        f"only {int(detected.sum())} of {ref.num_frames} frames show the runner clearly enough to lift "
        f"(>= {MIN_VISIBLE_BODY_LANDMARKS} body landmarks with visibility >= {VISIBLE}; {needed} needed).{tried} "
        "give --roi x,y,w,h around the runner (a box about twice their size), or crop/zoom the video"
    )


def messages(report: LiftReport) -> list[str]:
    """The notes a user should see (fallbacks, corrections, unknowns), one line each."""
    out = []
    keys = ("camera_motion", "camera_heading", "ground_plane", "facing", "time_base", "treadmill", "field_of_view")
    for key in (*keys, "speed_confidence"):
        note = report.notes.get(key) or {}
        if note.get("warn"):
            out.append(note["message"])
    return out


def _face_where_it_travels(
    ref: Reference, body: BodyParams, camera: Camera | None, lift: Any, again: dict, lifted: Reference,
    report: LiftReport,
) -> tuple[Reference, LiftReport]:
    """Step 4 of the module docstring: ``lifted`` (``lift`` of ``ref`` with the keyword arguments
    ``again``) relabelled when it runs backwards, lifted again facing its travel when it runs crosswise;
    ``again["notes"]["facing"]`` records both."""
    facing = facing_offset_deg(lifted)
    note: dict[str, Any] = {"offset_from_travel_deg": _rounded(facing), "relabelled": False}
    said = []
    if facing is not None and abs(facing) > BACKWARDS_DEG:
        ref = seen_from_the_other_side(ref)
        lifted, report = lift(ref, body, camera, **again)
        said.append(
            f"the body faced {abs(facing):.0f} deg away from where it travelled: MediaPipe read it from the wrong "
            "side (front for back); left and right swapped and lifted again"
        )
        facing = facing_offset_deg(lifted)
        note |= {"offset_from_travel_deg": _rounded(facing), "relabelled": True}
    if facing is not None and FACE_TRAVEL_DEG < abs(facing) <= BACKWARDS_DEG:
        lifted, report = lift(ref, body, camera, heading=travel_direction(lifted), **again)
        said.append(
            f"the body's heading read from the keypoints was {abs(facing):.0f} deg off where it travels; lifted "
            "again facing its travel (a runner faces where they go): the facing comes from the direction of "
            "travel, not from the keypoints"
        )
        facing = facing_offset_deg(lifted)
        note |= {"read_offset_deg": note["offset_from_travel_deg"], "offset_from_travel_deg": _rounded(facing)}
    note["heading_from_travel"] = "read_offset_deg" in note
    if facing is not None and CROSSWISE_DEG < abs(facing) <= BACKWARDS_DEG:
        said.append(
            f"the body faces {abs(facing):.0f} deg away from where it travels (a runner faces where they go): its "
            "heading or the camera's motion was misread, so the facing and the direction of travel are uncertain"
        )
    if said:
        note |= {"warn": True, "message": "; ".join(said)}
    again["notes"]["facing"] = note
    return lifted, report


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def travel_direction(lifted: Reference) -> np.ndarray | None:
    """(2,) horizontal unit vector from the root's first position to its last; None when the body
    travels slower than :data:`MIN_TRAVEL_SPEED_MPS` (no direction to speak of)."""
    travel = lifted.qpos[-1, :2] - lifted.qpos[0, :2]
    if np.hypot(*travel) / max(lifted.duration, 1e-6) < MIN_TRAVEL_SPEED_MPS:
        return None
    return travel / np.hypot(*travel)


def facing_offset_deg(lifted: Reference) -> float | None:
    """Mean pelvis heading minus the direction of travel (deg, in (-180, 180]); None when the body
    travels slower than :data:`MIN_TRAVEL_SPEED_MPS` (no direction to compare with)."""
    travel = travel_direction(lifted)
    if travel is None:
        return None
    forward = pelvis_forward(lifted.qpos)[:, :2].mean(axis=0)
    offset = np.arctan2(forward[1], forward[0]) - np.arctan2(travel[1], travel[0])
    return float(np.rad2deg(np.angle(np.exp(1j * offset))))


def seen_from_the_other_side(ref: Reference) -> Reference:
    """``ref`` with left and right landmarks swapped and the world landmarks' depth mirrored: the same
    image read as the person seen from the front instead of the back (or the reverse)."""
    swap = np.asarray(MIRROR_PERMUTATION)
    world = None
    if ref.world_keypoints is not None:
        world = ref.world_keypoints[:, swap].copy()
        world[..., 2] *= -1.0
    return dataclasses.replace(ref, keypoints2d=ref.keypoints2d[:, swap], world_keypoints=world)


def camera_track_from_motion(camera: Camera, motion: CameraMotion, hip_height_m: float) -> np.ndarray:
    """(T, 3) positions of ``camera`` (looking along +y, as estimated) that explain the ground's image
    motion at the runner's depth ``d``: sideways, that motion times the runner's metres per pixel
    (``d / f``); along the line of sight, the ground's vertical motion there times ``d / (y - y_h)``
    (a camera backing away lifts the ground below the horizon ``y_h``).

    The ground's motion grows linearly with the image row below the horizon. With the horizon known
    (:attr:`CameraMotion.horizon_row`), it is read at the row of the ground at the runner's depth,
    ``f * hip_height / d`` below the runner's hips' row (the hips' height is known from the body,
    unlike where the soles are, which MediaPipe places a few cm off); else at the feet."""
    distance = abs(camera.position[1])
    flow = runner_ground_flow(camera, motion, hip_height_m)
    sideways = -np.cumsum(flow[:, 0]) * distance / camera.focal_px
    below = ground_below_horizon_px(camera, motion, hip_height_m)
    usable = below > MIN_BELOW_HORIZON * camera.height
    forward = np.cumsum(np.where(usable, flow[:, 1] * distance / np.where(usable, below, 1.0), 0.0))
    return np.asarray(camera.position) + np.c_[sideways, forward, np.zeros(len(flow))]


def ground_below_horizon_px(camera: Camera, motion: CameraMotion, hip_height_m: float) -> np.ndarray:
    """(T,) how far (px) the ground at the runner's depth lies below the horizon (the image centre when it
    is unknown): the lever the camera's motion along the line of sight is read with."""
    horizon = motion.horizon_row if np.isfinite(motion.horizon_row) else camera.height / 2
    return runner_ground_row(camera, motion, hip_height_m) - horizon


def runner_ground_flow(camera: Camera, motion: CameraMotion, hip_height_m: float) -> np.ndarray:
    """(T, 2) the ground's image motion at the runner's depth (px per frame) that the camera track is made
    from: sideways, from the horizon and the per-frame slope when the horizon is known, else as read at
    the feet (:func:`camera_track_from_motion`)."""
    flow = motion.ground_flow_px.copy()
    if np.isfinite(motion.horizon_row) and motion.flow_slope is not None:
        flow[:, 0] = motion.flow_slope * (runner_ground_row(camera, motion, hip_height_m) - motion.horizon_row)
        flow[0] = 0.0
    return flow


def runner_ground_row(camera: Camera, motion: CameraMotion, hip_height_m: float) -> np.ndarray:
    """(T,) image row of the ground at the runner's depth: ``f * hip_height / d`` below the hips when the
    horizon is known (:func:`camera_track_from_motion`), else the soles' row."""
    if np.isfinite(motion.horizon_row) and motion.flow_slope is not None:
        return motion.hips_row + camera.focal_px * hip_height_m / abs(camera.position[1])
    return motion.feet_px[:, 1]


def camera_yaw_from_motion(camera: Camera, motion: CameraMotion) -> np.ndarray:
    """(T,) turn (deg, left positive) of a panning camera: the ground moving right turns it left. The
    motion is read near the image centre (the runner's column), where a turn by ``a`` moves everything
    by ``f * a`` pixels, so the turns add up."""
    return np.rad2deg(np.cumsum(motion.ground_flow_px[:, 0]) / camera.focal_px)


def _camera(
    ref: Reference, body: BodyParams, video: str | os.PathLike | None, options: FootageOptions, notes: dict
) -> tuple[Camera | None, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """The camera, its per-frame track, its per-frame yaw and the ground's sideways image motion at the
    runner (px per frame: what the track or yaw was made from; zero for a static camera) (None where they
    do not apply)."""
    if "camera" in ref.source:
        return None, None, None, None  # the reference's own camera
    focal = focal_length_px(ref, video, notes)
    if options.camera_speed is not None:
        notes["camera_motion"] = {
            "kind": "given", "known": True, "message": f"camera speed {options.camera_speed:g} m/s given"
        }  # fmt: skip
        return estimate_camera(ref, body, focal_px=focal, speed=options.camera_speed), None, None, None
    if video is None:
        return None, None, None, None  # the lift's own static estimate (the same assumed field of view)
    motion = estimate_camera_motion(video, ref.keypoints_px(), ref.keypoints2d_valid, every=source_frame_step(ref.source))
    notes["camera_motion"] = {
        **motion.to_dict(),
        "warn": motion.kind == "unknown",
        "fallback_static": motion.kind == "unknown",
        "known": motion.kind != "unknown",  # read by the report (inference/analysis.py)
    }
    pitch = pitch_from_horizon(motion.horizon_row, ref.image_size[1], focal)
    camera = estimate_camera(ref, body, focal_px=focal, pitch_deg=pitch)
    notes["camera_motion"]["pitch_deg"] = round(pitch, 2)
    if motion.kind == "unknown":
        return camera, None, None, None
    if motion.kind == "static":
        return camera, None, None, np.zeros(ref.num_frames)
    if motion.kind == "panning":
        return camera, None, camera_yaw_from_motion(camera, motion), motion.ground_flow_px[:, 0]
    hip_height = RUNNING_HIP_HEIGHT * body.leg_length
    below = ground_below_horizon_px(camera, motion, hip_height)
    if np.isfinite(motion.horizon_row):  # the lever the camera's motion is read with (speed_confidence)
        notes["camera_motion"]["ground_row_below_horizon_px"] = round(float(np.median(below)), 1)
    read = below > MIN_BELOW_HORIZON * camera.height  # frames whose motion along the line of sight is read
    notes["camera_motion"]["line_of_sight_read"] = round(float(read.mean()), 3)
    track = camera_track_from_motion(camera, motion, hip_height)
    return camera, track, None, runner_ground_flow(camera, motion, hip_height)[:, 0]


def focal_length_px(ref: Reference, video: str | os.PathLike | None, notes: dict) -> float:
    """The camera's focal length (px): from the 35 mm-equivalent focal length in ``video``'s metadata,
    else that of a typical phone's field of view; ``notes["field_of_view"]`` says which, and the angle."""
    width, height = ref.image_size
    focal_35mm = focal_length_35mm(video) if video is not None else None
    if focal_35mm is not None:
        focal, source = focal_from_35mm(focal_35mm, width, height), "metadata"
        message = f"a {focal_35mm:g} mm (35 mm equivalent) lens, from the video's metadata"
    else:
        focal, source = focal_from_fov(max(width, height), PHONE_FOV_DEG), "assumed"
        message = (
            f"no lens in the video's metadata: a phone's {PHONE_FOV_DEG:g} deg field of view assumed (distances "
            "and speeds towards or away from the camera scale with the true focal length)"
        )
    fov = fov_from_focal(max(width, height), focal)
    notes["field_of_view"] = {
        "fov_deg": round(fov, 2), "focal_px": round(float(focal), 2), "source": source, "focal_35mm": focal_35mm,
        "message": f"field of view {fov:.1f} deg across the long side ({source}): {message}",
    }  # fmt: skip
    return float(focal)


def travel_seen_from_camera(lifted: Reference, report: LiftReport) -> np.ndarray:
    """(2,) the root's horizontal travel over the clip relative to the camera (minus the camera track's
    own travel), in the lift's world, whose ``y`` is the camera's line of sight."""
    travel = lifted.qpos[-1, :2] - lifted.qpos[0, :2]
    if report.camera_track is not None:
        travel = travel - (report.camera_track[-1, :2] - report.camera_track[0, :2])
    return travel


def runner_depth_m(lifted: Reference, report: LiftReport) -> np.ndarray:
    """(T,) the root's depth along the camera's optical axis at every frame (through a pan's turns and a
    travelling camera's track): the part of the runner's position read from their apparent size."""
    camera, frames = report.camera, lifted.num_frames
    track = report.camera_track
    if track is None:
        track = camera.positions(np.arange(frames) / lifted.fps)
    rotations = camera_rotations(camera, report.camera_yaw_deg, frames)
    return np.einsum("tj,tj->t", rotations[:, 2], lifted.qpos[:, :3] - track)


def _warn_if_the_lens_matters(lifted: Reference, report: LiftReport, notes: dict) -> None:
    """An assumed field of view, for a runner travelling mostly towards or away from the camera (its
    line of sight is the lift world's y): the speed scales with the unknown focal length, so say so."""
    note = notes.get("field_of_view")
    travel = np.abs(travel_seen_from_camera(lifted, report))
    slow = np.hypot(*travel) / max(lifted.duration, 1e-6) < MIN_TRAVEL_SPEED_MPS
    if note is None or note["source"] != "assumed" or slow or travel[1] <= travel[0]:
        return
    note["warn"] = True
    note["message"] = (
        f"the runner moves mostly towards or away from the camera and the lens is unknown ({note['fov_deg']:g} "
        "deg assumed): its speed scales with the true focal length (a 50 deg lens: x1.4, a 90 deg one: x0.64)"
    )


def pitch_from_horizon(horizon_row: float, image_height: int, focal_px: float) -> float:
    """Camera pitch (deg, > 0 looks up) from the horizon's row; 0 (level) when unknown, implausible or
    under :data:`MIN_PITCH_DEG` (a degree off puts a runner 5 m away 9 cm off the floor: a level
    camera, as phones are mostly held, is the better guess for small tilts)."""
    if not np.isfinite(horizon_row):
        return 0.0
    pitch = float(np.rad2deg(np.arctan((horizon_row - image_height / 2) / focal_px)))
    return pitch if MIN_PITCH_DEG <= abs(pitch) <= MAX_PITCH_DEG else 0.0


def _time_scale(
    video: str | os.PathLike | None, nominal: float | None, gait: Any, options: FootageOptions, notes: dict
) -> float:
    """How many times slower than real life the video plays (1: real time); ``nominal``: its frame rate."""
    if options.time_scale is not None:
        notes["time_base"] = {
            "scale": options.time_scale,
            "source": "--time-scale",
            "message": f"time scale {options.time_scale:g} given",
        }
        return float(options.time_scale)
    capture = capture_fps(video) if video is not None else None
    if capture is not None and nominal and capture / nominal > MIN_SLOW_MOTION:
        scale = capture / nominal
        notes["time_base"] = {
            "scale": scale, "source": "metadata", "warn": True,
            "message": f"slow motion: captured at {capture:g} fps, played at {nominal:g} fps; time corrected "
            f"x{scale:g}",
        }  # fmt: skip
        return scale
    if gait.slow_motion != 1.0 and gait.correlation < CLEAR_STEP_CORRELATION:
        notes["time_base"] = {
            "scale": 1.0, "source": "assumed", "warn": True,
            "message": f"real time assumed: the steps could not be timed (the body's bounce repeats only weakly, "
            f"correlation {gait.correlation:.2f}); if the video is in slow motion give --time-scale N",
        }  # fmt: skip
        return 1.0
    if gait.slow_motion is None:
        raise FootageError(
            f"the {gait.gait} pose steps at {gait.cadence_spm:.0f} steps/min of video time, too slow for "
            f"{gait.gait} and not explained by a usual slow-motion factor (2, 4, 8); if the video is in "
            "slow motion give --time-scale N (N times slower than real life), else --time-scale 1"
        )
    if gait.slow_motion > 1:
        cadence = gait.cadence_spm
        notes["time_base"] = {
            "scale": gait.slow_motion, "source": "cadence", "warn": True,
            "message": f"slow motion detected: a {gait.gait} pose at {cadence:.0f} steps/min of video time; time "
            f"corrected x{gait.slow_motion:g} ({cadence * gait.slow_motion:.0f} steps/min). Give --time-scale 1 "
            "if the video is in real time",
        }  # fmt: skip
        return float(gait.slow_motion)
    notes["time_base"] = {"scale": 1.0, "source": "cadence", "message": "real time (plausible cadence)"}
    return 1.0


def _treadmill(lifted: Reference, stepping: bool, motion: dict, options: FootageOptions) -> dict[str, Any]:
    speed = float(np.hypot(*(lifted.qpos[-1, :2] - lifted.qpos[0, :2])) / max(lifted.duration, 1e-6))
    static = motion.get("kind") in ("static", "unknown", None)
    detected = bool(stepping and static and speed < TREADMILL_MAX_SPEED_MPS and options.camera_speed is None)
    if not detected:
        return {"detected": False}
    if options.treadmill_speed:
        msg = f"treadmill: running on the spot; belt speed {options.treadmill_speed:g} m/s given"
        return {"detected": True, "speed_over_ground_known": True, "message": msg}
    msg = (
        f"treadmill (or running on the spot): the runner steps but travels {speed:.2f} m/s in a static shot; "
        "speed over ground is unknown, give --treadmill-speed (m/s)"
    )
    return {"detected": True, "speed_over_ground_known": False, "warn": True, "message": msg}


def _on_belt(lifted: Reference, belt_speed: float) -> Reference:
    """The runner moved along its mean facing direction at ``belt_speed``."""
    forward = pelvis_forward(lifted.qpos)[:, :2].mean(axis=0)
    forward /= max(np.linalg.norm(forward), 1e-9)
    qpos = lifted.qpos.copy()
    qpos[:, :2] += np.arange(len(qpos))[:, None] / lifted.fps * belt_speed * forward
    return dataclasses.replace(lifted, qpos=qpos)
