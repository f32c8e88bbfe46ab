"""Rendered test videos with ground truth: the humanoid replaying real mocap, filmed by varied cameras.

Each :class:`Setup` describes one shot: a static, following (dolly) or panning camera, at an azimuth
around the runner (0 = side-on, 45 = ahead and to the side), a height and pitch, a horizontal field of
view, the runner's direction on screen (left->right or right->left) or straight towards the camera,
slow motion (capture rate / playback rate), a treadmill (the runner stays in place) and whether the
video carries its lens' 35 mm-equivalent focal length in its metadata (as iPhones write it). The scene is
the humanoid on a textured ground (checker with random dots, so the background can be tracked) inside
textured walls, lit like the project's renders. :func:`render_test_video` writes the MP4 and returns the
ground truth as a :class:`~motionlab.reference.Reference`: qpos at every video frame, the 2D keypoints
and world landmarks seen through the frame's camera, and in ``source["synthetic"]`` the per-frame camera
path, the speed over ground, the heading, the time scale and the treadmill belt speed.

What a rendered test cannot show about real footage: real people (clothes, hair, skin, shoes) and
their occlusions, motion blur, rolling shutter, lens distortion, compression artefacts on fine texture,
camera shake from a hand, other people and moving background objects, uneven ground and lighting.
MediaPipe sees a capsule figure, so its keypoint errors here are not those on people.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
from scipy.spatial.transform import Rotation

from motionlab.assets import RUN_CLIP
from motionlab.body import BodyParams
from motionlab.camera import FULL_FRAME_DIAGONAL_MM, focal_from_fov, look_at
from motionlab.gl import ensure_gl
from motionlab.humanoid import HumanoidModel, build_spec
from motionlab.mocap import PeriodicMotion, load_stride
from motionlab.motion import Kinematics, pelvis_forward, quat_wxyz_to_rotation, retarget_qpos, rotation_to_quat_wxyz
from motionlab.reference import Reference, load_reference, save_reference
from motionlab.video.reader import FOCAL_35MM_TAGS
from motionlab.video.swaps import LABELLINGS, LEG_LANDMARKS
from motionlab.video.writer import VideoWriter

VIDEO_FPS = 30.0
AIM_HEIGHT_M = 0.9  # cameras aim at about the runner's hips


@dataclass(frozen=True)
class Setup:
    """One rendered shot (see the module docstring). Distances in metres, angles in degrees."""

    name: str
    camera: str = "follow"  # "static", "follow" (dolly at the runner's mean speed) or "pan" (turns in place)
    seconds: float = 2.0  # video length
    distance: float = 5.0  # from the running line (from the runner's end point when ``toward``)
    azimuth_deg: float = 0.0  # 0: side-on; > 0: ahead of the runner
    height: float = 1.0  # camera height above the ground
    pitch_deg: float = 0.0  # < 0 looks down, > 0 looks up
    fov_deg: float = 65.0  # horizontal field of view
    direction: int = 1  # +1 left->right on screen, -1 right->left
    toward: bool = False  # the runner runs straight at a static camera
    slow_motion: float = 1.0  # capture rate / playback rate (2: half speed)
    treadmill: bool = False  # the runner stays in place (speed over ground 0)
    speed_scale: float = 1.0  # playback speed of the mocap (1: as captured)
    clip: str = ""  # "": the bundled DeepMimic run; else a CMU AMC path under the mocap folder
    lens_metadata: bool = False  # the video carries its lens' 35 mm-equivalent focal length, as iPhones write
    width: int = 640
    height_px: int = 480

    def __post_init__(self) -> None:
        if self.camera not in ("static", "follow", "pan"):
            raise ValueError(f"camera={self.camera!r}: choose static, follow or pan")
        if self.direction not in (1, -1) or self.slow_motion < 1 or self.seconds <= 0:
            raise ValueError(f"{self.name}: direction must be +-1, slow_motion >= 1 and seconds > 0")


SETUPS: dict[str, Setup] = {
    s.name: s
    for s in (
        Setup("static", camera="static", distance=7.0, seconds=1.6),
        Setup("follow", camera="follow"),
        Setup("follow_right_to_left", camera="follow", direction=-1),
        Setup("pan", camera="pan", distance=6.0),
        Setup("oblique_45", camera="follow", azimuth_deg=45.0),
        Setup("pitch_down_15", camera="follow", height=2.25, pitch_deg=-15.0),
        Setup("pitch_up_15", camera="follow", height=0.35, pitch_deg=15.0),
        Setup("fov_50", camera="follow", fov_deg=50.0, distance=6.5),
        Setup("fov_90", camera="follow", fov_deg=90.0, distance=3.2),
        Setup("slow_motion_2x", camera="follow", slow_motion=2.0, seconds=3.0),
        Setup("treadmill", camera="static", treadmill=True, distance=4.5),
        Setup("toward", camera="static", toward=True, distance=3.5, fov_deg=50.0, seconds=1.5),
        Setup(
            "toward_lens_metadata",
            camera="static",
            toward=True,
            distance=3.5,
            fov_deg=50.0,
            seconds=1.5,
            lens_metadata=True,
        ),  # fmt: skip
        Setup("cmu_jog_follow", camera="follow", clip="cmu/35/35_17.amc"),
        Setup("cmu_run_right_to_left", camera="follow", direction=-1, clip="cmu/09/09_01.amc"),
        Setup("cmu_walk_follow", camera="follow", clip="cmu/07/07_01.amc"),
        Setup("cmu_walk_static", camera="static", distance=4.5, seconds=2.0, clip="cmu/07/07_01.amc"),
        Setup("cmu_walk_slow_motion_2x", camera="follow", slow_motion=2.0, seconds=3.0, clip="cmu/07/07_01.amc"),
    )
}

# Shots kept out of calibration: the speed's confidence (:mod:`motionlab.speed_confidence`) was set on
# :data:`SETUPS` and is checked on these (low and pitched cameras, far and near shots, walkers at 0.9-1.7 m/s).
HELD_OUT_SETUPS: dict[str, Setup] = {
    s.name: s
    for s in (
        Setup("pitch_up_8", camera="follow", height=0.5, pitch_deg=8.0),
        Setup("low_level", camera="follow", height=0.4),
        Setup("follow_far", camera="follow", distance=9.0),
        Setup("pitch_down_8_high", camera="follow", height=1.7, pitch_deg=-8.0),
        Setup("oblique_30_right_to_left", camera="follow", azimuth_deg=30.0, direction=-1),
        Setup("pan_near", camera="pan", distance=4.0),
        Setup("cmu_run_pitch_up_10", camera="follow", height=0.45, pitch_deg=10.0, clip="cmu/09/09_01.amc"),
        Setup("cmu_slow_walk_follow", camera="follow", seconds=2.5, clip="cmu/07/07_04.amc"),
        Setup("cmu_walk_39_static", camera="static", distance=4.5, seconds=2.0, clip="cmu/39/39_13.amc"),
        Setup("cmu_walk_fast_follow", camera="follow", seconds=2.5, clip="cmu/07/07_11.amc"),
        Setup("cmu_walk_35_pan", camera="pan", distance=5.0, seconds=2.5, clip="cmu/35/35_01.amc"),
    )
}


@dataclass(frozen=True)
class CameraPath:
    """Per-frame pinhole cameras: ``positions`` and ``targets`` (T, 3) in the world, no roll."""

    positions: np.ndarray
    targets: np.ndarray
    focal_px: float
    width: int
    height: int

    def rotations(self) -> np.ndarray:
        """(T, 3, 3) world-to-camera rotations."""
        return look_at(self.positions, self.targets)

    def project(self, points: np.ndarray) -> np.ndarray:
        """(T, N, 3) world points -> (T, N, 2) pixels, frame t through camera t."""
        pc = np.einsum("tij,tnj->tni", self.rotations(), points - self.positions[:, None])
        z = np.maximum(pc[..., 2:3], 1e-6)
        return self.focal_px * pc[..., :2] / z + np.array([self.width / 2, self.height / 2])

    def to_dict(self) -> dict[str, Any]:
        return {
            "positions": np.round(self.positions, 5).tolist(),
            "targets": np.round(self.targets, 5).tolist(),
            "focal_px": self.focal_px,
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CameraPath:
        return cls(np.asarray(d["positions"]), np.asarray(d["targets"]), d["focal_px"], d["width"], d["height"])


def clip_path(setup: Setup, mocap_dir: str | os.PathLike | None = None) -> Path:
    """The motion file of ``setup``: the bundled run, or its CMU clip under ``mocap_dir``."""
    if not setup.clip:
        return Path(RUN_CLIP)
    if mocap_dir is None:
        raise ValueError(f"setup {setup.name} replays {setup.clip}: give the mocap folder that holds it")
    return Path(mocap_dir) / setup.clip


def runner_motion(
    setup: Setup, body: BodyParams, mocap_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """(qpos (T, 35) at every video frame, real times (T,) s, running speed m/s): the mocap retargeted
    to ``body``, turned to the setup's direction, centred on the origin at mid-clip (on the spot for a
    treadmill, where the speed is the belt's)."""
    frames = int(round(setup.seconds * VIDEO_FPS)) + 1
    real_t = np.arange(frames) / VIDEO_FPS / setup.slow_motion
    stride, on_body, _ = load_stride(clip_path(setup, mocap_dir), body)  # DeepMimic or CMU AMC
    qpos = retarget_qpos(PeriodicMotion(stride).qpos(real_t * setup.speed_scale), on_body, body)
    speed = float((qpos[-1, 0] - qpos[0, 0]) / (real_t[-1] - real_t[0]))
    if setup.treadmill:
        qpos[:, 0] -= speed * real_t
    qpos[:, 0] -= qpos[len(qpos) // 2, 0]  # centred along the run at mid-clip
    if setup.direction < 0:
        turn = Rotation.from_euler("z", np.pi)
        qpos[:, :3] = turn.apply(qpos[:, :3])
        qpos[:, 3:7] = rotation_to_quat_wxyz(turn * quat_wxyz_to_rotation(qpos[:, 3:7]))
    return qpos, real_t, speed


def camera_path(setup: Setup, qpos: np.ndarray) -> CameraPath:
    """The setup's camera at every frame, placed relative to the runner's straight-line path."""
    frames = len(qpos)
    mid = frames // 2
    k = np.arange(frames) - mid
    step = (qpos[-1, :2] - qpos[0, :2]) / max(frames - 1, 1)  # the runner's mean displacement per frame
    line = np.c_[qpos[mid, :2] + k[:, None] * step, np.zeros(frames)]  # straight path at constant speed
    heading = 0.0 if setup.direction > 0 else np.pi
    pitch = np.deg2rad(setup.pitch_deg)
    if setup.toward:  # in front of the runner's end point, looking back along the path
        end = line[-1] + setup.distance * np.r_[np.cos(heading), np.sin(heading), 0.0]
        pos = np.tile(end + [0.0, 0.0, setup.height], (frames, 1))
        look = -np.r_[np.cos(heading) * np.cos(pitch), np.sin(heading) * np.cos(pitch), -np.sin(pitch)]
        return _path(setup, pos, pos + look)
    a = np.deg2rad(setup.azimuth_deg)
    # from the runner's right (-y when running +x), swung ``azimuth`` towards its front
    # (the camera stays on the -y side: running right to left the runner shows its left side)
    offset = setup.distance * np.r_[np.sin(a) * setup.direction, -np.cos(a), 0.0]
    pos = line + offset + [0.0, 0.0, setup.height]
    towards_line = line - pos
    towards_line[:, 2] = 0.0
    towards_line /= np.linalg.norm(towards_line, axis=1, keepdims=True)
    look = np.c_[towards_line[:, :2] * np.cos(pitch), np.full(frames, np.sin(pitch))]
    if setup.camera == "follow":
        return _path(setup, pos, pos + look)
    still = np.tile(pos[mid], (frames, 1))
    if setup.camera == "static":
        return _path(setup, still, still + look[mid])
    aim = line + [0.0, 0.0, setup.height + setup.distance * np.tan(pitch)]  # pan: turn to keep the path centred
    return _path(setup, still, aim)


def _path(setup: Setup, positions: np.ndarray, targets: np.ndarray) -> CameraPath:
    return CameraPath(positions, targets, focal_from_fov(setup.width, setup.fov_deg), setup.width, setup.height_px)


def scene_model(body: BodyParams) -> HumanoidModel:
    """The humanoid on a dotted checker ground inside textured walls (features for camera tracking)."""
    spec = build_spec(body)
    ground = spec.texture("track")
    ground.builtin, ground.mark = mujoco.mjtBuiltin.mjBUILTIN_CHECKER, mujoco.mjtMark.mjMARK_RANDOM
    ground.width = ground.height = 64
    ground.random = 0.08
    ground.markrgb = [0.95, 0.95, 0.9]
    spec.material("track").texrepeat = [0.5, 0.5]  # 1 m checks, dots of ~3 cm
    wall_tex = spec.add_texture(
        name="wall", type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        mark=mujoco.mjtMark.mjMARK_RANDOM, random=0.1, width=64, height=64,
        rgb1=[0.45, 0.55, 0.4], rgb2=[0.3, 0.4, 0.28], markrgb=[0.85, 0.85, 0.75],
    )  # fmt: skip
    wall = spec.add_material(name="wall", texuniform=True, texrepeat=[0.25, 0.25])
    wall.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = wall_tex.name
    for name, pos, size in (
        ("wall_back", (0, 22, 3), (40, 0.2, 3)), ("wall_front", (0, -22, 3), (40, 0.2, 3)),
        ("wall_left", (-30, 0, 3), (0.2, 22, 3)), ("wall_right", (30, 0, 3), (0.2, 22, 3)),
    ):  # fmt: skip
        spec.worldbody.add_geom(
            name=name, type=mujoco.mjtGeom.mjGEOM_BOX, pos=pos, size=size, material="wall", contype=0, conaffinity=0
        )
    return HumanoidModel(model=spec.compile(), body=body)


def ground_truth(setup: Setup, body: BodyParams | None = None, mocap_dir: str | os.PathLike | None = None) -> Reference:
    """The ground truth of ``setup`` (module docstring) without rendering it."""
    body = BodyParams.coerce(body).resolved()
    qpos, real_t, speed = runner_motion(setup, body, mocap_dir)
    return _ground_truth(
        setup, scene_model(body), qpos, real_t, camera_path(setup, qpos), speed, clip_path(setup, mocap_dir)
    )


def render_test_video(
    setup: Setup, path: str | os.PathLike, body: BodyParams | None = None, mocap_dir: str | os.PathLike | None = None
) -> Reference:
    """Render ``setup`` to the MP4 ``path`` (30 fps, H.264); returns its :func:`ground_truth`."""
    truth = ground_truth(setup, body, mocap_dir)
    cams = CameraPath.from_dict(truth.source["synthetic"]["camera_path"])
    model = scene_model(truth.body).model
    model.vis.global_.offwidth, model.vis.global_.offheight = setup.width, setup.height_px
    model.vis.global_.fovy = float(np.rad2deg(2 * np.arctan(setup.height_px / 2 / cams.focal_px)))
    ensure_gl()
    renderer = mujoco.Renderer(model, setup.height_px, setup.width)
    data, free = mujoco.MjData(model), mujoco.MjvCamera()
    free.type = mujoco.mjtCamera.mjCAMERA_FREE
    try:
        with VideoWriter(path, VIDEO_FPS, metadata=_lens_metadata(setup, cams.focal_px)) as writer:
            for q, pos, target in zip(truth.qpos, cams.positions, cams.targets):
                data.qpos[:] = q
                mujoco.mj_forward(model, data)
                _aim(free, pos, target)
                renderer.update_scene(data, camera=free)
                writer.write(renderer.render())
    finally:
        renderer.close()
    return truth


@contextmanager
def videos_folder(folder: str | os.PathLike | None) -> Iterator[Path]:
    """``folder`` (created if missing) to keep rendered test videos and their keypoints in, or a temporary
    one removed on leaving when None."""
    if folder is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        yield Path(folder)
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def detected_test_video(
    name: str,
    setup: Setup,
    folder: Path,
    body: BodyParams | None = None,
    mocap_dir: str | os.PathLike | None = None,
    raw: bool = False,
) -> tuple[Path, Reference, Reference]:
    """``setup`` rendered to ``folder/<name>.mp4`` and run through MediaPipe, each kept in ``folder`` and
    reused when already there (``<name>.npz``: the truth, ``<name>.keypoints.npz``: the keypoints as
    extracted; with ``raw``, ``<name>.raw.npz``: MediaPipe's own labels, unsmoothed, for a benchmark that
    repairs them more than one way); returns the video's path, the truth and the keypoints."""
    from motionlab.video.pose import extract_keypoints  # MediaPipe is imported only when a video is read

    video, truth_path = folder / f"{name}.mp4", folder / f"{name}.npz"
    keypoints_path = folder / f"{name}{'.raw' if raw else '.keypoints'}.npz"
    if not (video.is_file() and truth_path.is_file()):
        save_reference(render_test_video(setup, video, body, mocap_dir), truth_path)
    if not keypoints_path.is_file():
        options = {"smoothing": None, "relabel": False} if raw else {}
        save_reference(extract_keypoints(video, **options)[0], keypoints_path)
    return video, load_reference(truth_path), load_reference(keypoints_path)


def _lens_metadata(setup: Setup, focal_px: float) -> dict[str, str]:
    """The iPhone-style 35 mm-equivalent focal length tag when ``setup.lens_metadata``, else nothing."""
    if not setup.lens_metadata:
        return {}
    focal_35mm = focal_px * FULL_FRAME_DIAGONAL_MM / float(np.hypot(setup.width, setup.height_px))
    return {FOCAL_35MM_TAGS[0]: f"{focal_35mm:.1f}"}


def _aim(free: mujoco.MjvCamera, position: np.ndarray, target: np.ndarray) -> None:
    """Point MuJoCo's free camera from ``position`` at ``target``."""
    fwd = np.subtract(target, position)
    free.lookat[:] = target
    free.distance = float(np.linalg.norm(fwd))
    free.azimuth = float(np.rad2deg(np.arctan2(fwd[1], fwd[0])))
    free.elevation = float(np.rad2deg(np.arcsin(fwd[2] / free.distance)))


def _ground_truth(
    setup: Setup,
    hm: HumanoidModel,
    qpos: np.ndarray,
    real_t: np.ndarray,
    cams: CameraPath,
    running_speed: float,
    clip: str | os.PathLike,
) -> Reference:
    world = Kinematics(hm).sites(qpos)
    px = cams.project(world)
    kp = np.zeros(world.shape, dtype=np.float32)
    kp[..., 0], kp[..., 1], kp[..., 2] = px[..., 0] / cams.width, px[..., 1] / cams.height, 1.0
    hips = world[:, [23, 24]].mean(axis=1, keepdims=True)
    world_mp = np.einsum("tij,tnj->tni", cams.rotations(), world - hips)
    travel = qpos[-1, :2] - qpos[0, :2]
    heading = 0.0 if setup.direction > 0 else 180.0
    synthetic = {
        "setup": dataclasses.asdict(setup),
        "camera_path": cams.to_dict(),
        "speed_mps": float(np.hypot(*travel) / (real_t[-1] - real_t[0])),  # over ground
        "heading_deg": heading,
        "time_scale": 1.0 / setup.slow_motion,  # real seconds per video second
        "treadmill_speed_mps": running_speed if setup.treadmill else None,
        "clip": Path(clip).name,
    }
    return Reference(
        fps=VIDEO_FPS, keypoints2d=kp, image_size=(cams.width, cams.height), world_keypoints=world_mp,
        qpos=qpos, body=hm.body, source={"kind": "synthetic", "synthetic": synthetic},
    )  # fmt: skip


def legs_swapped(truth_px: np.ndarray, seen_px: np.ndarray) -> np.ndarray:
    """Per frame: whether keypoints ``seen_px`` (T, 33, 2) lie nearer the truth's ``truth_px`` with their
    legs relabelled (MediaPipe took the near leg for the far one)."""

    def distance(perm: np.ndarray) -> np.ndarray:
        return np.linalg.norm(seen_px[:, perm][:, LEG_LANDMARKS] - truth_px[:, LEG_LANDMARKS], axis=-1).sum(axis=1)

    return distance(LABELLINGS["legs"]) < distance(LABELLINGS["as detected"])


def score_lift(truth: Reference, lifted: Reference) -> dict[str, float]:
    """Errors of a lift of a rendered video against its ground truth, in the true world.

    The lift's world is mapped onto the true one through the two cameras at the first frame (the lift's
    estimated camera from ``lifted.source["lift"]["camera"]``), so a wrong camera pitch, height or
    heading shows as error. Speed uses the lift's own time base (its ``fps``): a slow-motion video
    lifted at face value is too slow. Returns speed (m/s and relative), travel direction, facing
    (pelvis heading), root trajectory (displacement from the first frame), first-frame position, floor
    height (median lowest foot landmark) errors, the stance soles' height in the lift's own world (median
    over the clip of each step's lowest sole: what the simulated body stands on), MPJPE and PA-MPJPE
    (12 body landmarks). Facing is the
    error of the mean pelvis heading over the clip (where the body faces); ``facing_frame_error_deg``
    averages it frame by frame (it includes the pelvis's twist within each stride)."""
    from motionlab.camera import Camera
    from motionlab.humanoid import build_model
    from motionlab.keypoints import BODY_LANDMARKS, INDEX
    from motionlab.lift import joint_position_errors, sole_and_stance_heights

    syn = truth.source["synthetic"]
    cams = CameraPath.from_dict(syn["camera_path"])
    est = Camera.from_dict(lifted.source["lift"]["camera"])
    rot = cams.rotations()[0].T @ est.rotation()  # lift world -> true world

    def to_truth(p: np.ndarray) -> np.ndarray:
        return (p - np.asarray(est.position)) @ rot.T + cams.positions[0]

    hm = build_model(truth.body)
    kin = Kinematics(hm)
    sites_true = kin.sites(truth.qpos)
    sites_est = to_truth(Kinematics(build_model(lifted.body)).sites(lifted.qpos))
    root_true, root_est = truth.qpos[:, :3], to_truth(lifted.qpos[:, :3])
    est_travel = root_est[-1, :2] - root_est[0, :2]
    true_travel = root_true[-1, :2] - root_true[0, :2]
    est_speed = float(np.hypot(*est_travel) / lifted.duration)
    facing_true = _yaw(pelvis_forward(truth.qpos))
    facing_est = _yaw(pelvis_forward(lifted.qpos) @ rot.T)
    disp_err = (root_est[:, :2] - root_est[0, :2]) - (root_true[:, :2] - root_true[0, :2])
    feet = [INDEX[n] for n in ("left_heel", "right_heel", "left_foot_index", "right_foot_index")]
    feet_true, feet_est = sites_true[:, feet], sites_est[:, feet]
    body = list(BODY_LANDMARKS)
    hips = [INDEX["left_hip"], INDEX["right_hip"]]
    rel_true = sites_true[:, body] - sites_true[:, hips].mean(axis=1, keepdims=True)
    rel_est = sites_est[:, body] - sites_est[:, hips].mean(axis=1, keepdims=True)
    _, pa = joint_position_errors(hm, truth.qpos, lifted.qpos)
    _, stance_soles = sole_and_stance_heights(build_model(lifted.body), lifted.qpos, lifted.fps)
    return {
        "speed_true_mps": float(syn["speed_mps"]),
        "speed_mps": est_speed,
        "speed_error_rel": abs(est_speed - syn["speed_mps"]) / max(syn["speed_mps"], 1e-9)
        if syn["speed_mps"] > 0.1
        else float("nan"),
        "travel_direction_error_deg": _angle(_yaw(est_travel), _yaw(true_travel))
        if np.hypot(*true_travel) > 0.5
        else float("nan"),
        "facing_error_deg": float(_angle(_circular_mean(facing_est), _circular_mean(facing_true))),
        "facing_frame_error_deg": float(np.mean(_angle(facing_est, facing_true))),
        "root_trajectory_error_m": float(np.linalg.norm(disp_err, axis=1).mean()),
        "start_position_error_m": float(np.linalg.norm(root_est[0] - root_true[0])),
        "floor_height_error_m": float(
            np.median(feet_est[..., 2].min(axis=1)) - np.median(feet_true[..., 2].min(axis=1))
        ),
        "stance_sole_height_m": float(np.median(stance_soles)),
        "mpjpe_mm": float(np.linalg.norm(rel_est - rel_true, axis=-1).mean() * 1000),
        "pa_mpjpe_mm": float(pa.mean() * 1000),
    }


def _yaw(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return np.arctan2(v[..., 1], v[..., 0])


def _circular_mean(angles: np.ndarray) -> float:
    return float(np.angle(np.exp(1j * np.asarray(angles)).mean()))


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Absolute angle difference in degrees, wrapped to [0, 180]."""
    return np.abs(np.rad2deg(np.angle(np.exp(1j * (np.asarray(a) - np.asarray(b))))))
