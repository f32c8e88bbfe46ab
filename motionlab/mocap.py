"""Import motion capture into MotionLab references: DeepMimic clips (e.g. ``humanoid3d_run.txt``) here,
CMU Acclaim AMC/ASF clips through :mod:`motionlab.cmu`.

DeepMimic clips are y-up with the character facing +x and its right side at +z; each frame is
``[duration, root xyz, root quat wxyz, chest, neck, right hip (quat), right knee (angle), right ankle,
right shoulder, right elbow (angle), left hip, left knee, left ankle, left shoulder, left elbow]``.
We rotate them to MotionLab's z-up frame (x forward, y left), turn each spherical joint into the
humanoid's y-x-z hinge triple, and make the clip seamlessly periodic: the run clip is half a stride
followed by its mirror image, which joins with a jump; a truncated Fourier series over one cycle
(with root forward displacement carried over between cycles and heading/lateral drift removed) gives
a smooth loop for any number of cycles, at any playback speed.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from motionlab.body import BodyParams
from motionlab.camera import Camera
from motionlab.errors import MocapFormatError, UserError
from motionlab.humanoid import NQ, build_model
from motionlab.motion import Kinematics, mirror_qpos, retarget_qpos, rotation_to_quat_wxyz
from motionlab.reference import FPS_RANGE, Reference

# The DeepMimic humanoid (humanoid.urdf at pybullet's 0.25 global scale): 1.62 m, 45 kg; hip joint to sole.
DEEPMIMIC_BODY = BodyParams(
    height=1.62, mass=45.0, pelvis_width=0.17, torso=0.46, neck_head=0.2775,
    upper_arm=0.275, forearm=0.259, thigh=0.4215, shank=0.41, foot=0.177,
)  # fmt: skip
MAX_CYCLES = 1000  # ~12 min of running at the run clip's ~0.7 s per cycle
_Y_UP_TO_Z_UP = Rotation.from_euler("x", 90, degrees=True)
# (name, kind, column in the DeepMimic frame after the duration)
_DM_LAYOUT = (
    ("chest", "ball", 7), ("neck", "ball", 11), ("right_hip", "ball", 15), ("right_knee", "hinge", 19),
    ("right_ankle", "ball", 20), ("right_shoulder", "ball", 24), ("right_elbow", "hinge", 28),
    ("left_hip", "ball", 29), ("left_knee", "hinge", 33), ("left_ankle", "ball", 34),
    ("left_shoulder", "ball", 38), ("left_elbow", "hinge", 42),
)  # fmt: skip
# DeepMimic hinges turn about the old z axis (= -y in our frame): knee flexion is negative there.
_HINGE_SIGN = {"right_knee": -1.0, "left_knee": -1.0, "right_elbow": 1.0, "left_elbow": 1.0}
_OUR_ORDER = ("chest", "neck", "right_shoulder", "right_elbow", "left_shoulder", "left_elbow",
              "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle")  # fmt: skip



@dataclass(frozen=True)
class MocapClip:
    """A clip in MotionLab's frame on the DeepMimic body: qpos (T, 35) sampled every ``frame_dt``."""

    qpos: np.ndarray
    frame_dt: float
    source: str


def load_deepmimic(path: str | os.PathLike) -> MocapClip:
    """Read a DeepMimic motion file and convert it to z-up ``qpos`` on :data:`DEEPMIMIC_BODY`."""
    path = Path(path)
    try:
        frames = np.asarray(json.loads(path.read_text())["Frames"], dtype=float)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MocapFormatError(f"{path}: not a DeepMimic motion file ({exc})") from exc
    if frames.ndim != 2 or frames.shape[1] != 44 or len(frames) < 3:
        raise MocapFormatError(f"{path}: expected (T>=3, 44) frames for the DeepMimic humanoid, got {frames.shape}")
    body = frames[:, 1:]
    qpos = np.zeros((len(frames), NQ))
    qpos[:, :3] = _Y_UP_TO_Z_UP.apply(body[:, 0:3])
    root = _Y_UP_TO_Z_UP * Rotation.from_quat(body[:, 3:7], scalar_first=True) * _Y_UP_TO_Z_UP.inv()
    qpos[:, 3:7] = rotation_to_quat_wxyz(root)
    cols = {name: (kind, col) for name, kind, col in _DM_LAYOUT}
    j = 7
    for name in _OUR_ORDER:
        kind, col = cols[name]
        if kind == "hinge":
            qpos[:, j] = _HINGE_SIGN[name] * body[:, col]
            j += 1
        else:
            local = _Y_UP_TO_Z_UP * Rotation.from_quat(body[:, col : col + 4], scalar_first=True) * _Y_UP_TO_Z_UP.inv()
            qpos[:, j : j + 3] = np.unwrap(local.as_euler("YXZ"), axis=0)
            j += 3
    return MocapClip(qpos=qpos, frame_dt=float(frames[0, 0]), source=str(path))


class PeriodicMotion:
    """A looping motion as a truncated Fourier series over one cycle plus constant forward progress.

    The clip's last frame is taken as the first frame of the next cycle. Joint angles, root height,
    pitch and roll are periodic; forward displacement per cycle carries over; heading drift and
    lateral drift are removed (the runner runs straight along +x).
    """

    def __init__(self, clip: MocapClip, harmonics: int = 8):
        q = clip.qpos
        n = len(q) - 1  # samples per cycle
        self.period = n * clip.frame_dt
        ypr = np.unwrap(Rotation.from_quat(q[:, 3:7], scalar_first=True).as_euler("ZYX"), axis=0)
        disp = q[n, :2] - q[0, :2]
        travel = np.arctan2(disp[1], disp[0])
        # channels: root x, y, z, yaw, pitch, roll, hinges; rotate so the run goes along +x
        c, s = np.cos(-travel), np.sin(-travel)
        xy = (q[:, :2] - q[0, :2]) @ np.array([[c, -s], [s, c]]).T
        chans = np.column_stack([xy, q[:, 2], ypr[:, 0] - travel, ypr[:, 1:], q[:, 7:]])
        self.displacement = float(np.hypot(*disp))
        ramp = chans[n] - chans[0]
        ramp[1:] = 0.0  # only forward x keeps its per-cycle progress; everything else is made periodic
        k = np.arange(n)[:, None] / n
        periodic = chans[:n] - ramp * k
        # remove the end-to-start mismatch of periodic channels linearly before the FFT
        mismatch = chans[n] - chans[0] - ramp
        periodic = periodic - mismatch * (k - 0.5)
        spec = np.fft.rfft(periodic, axis=0)
        spec[harmonics + 1 :] = 0.0
        self._coef = spec / n
        self._ramp = ramp
        self._n = n

    @property
    def speed(self) -> float:
        return self.displacement / self.period

    def _channels(self, times: np.ndarray) -> np.ndarray:
        phase = np.asarray(times, dtype=float) / self.period
        k = np.arange(self._coef.shape[0])
        basis = np.exp(2j * np.pi * phase[:, None] * k[None, :])  # (T, K)
        weights = np.where((k == 0) | ((self._n % 2 == 0) & (k == self._n // 2)), 1.0, 2.0)
        values = np.real(basis @ (self._coef * weights[:, None]))
        return values + phase[:, None] * self._ramp

    def qpos(self, times: np.ndarray) -> np.ndarray:
        """qpos (T, 35) at ``times`` seconds (any length: cycles repeat seamlessly)."""
        ch = self._channels(times)
        out = np.zeros((len(ch), NQ))
        out[:, :3] = ch[:, :3]
        out[:, 3:7] = rotation_to_quat_wxyz(Rotation.from_euler("ZYX", ch[:, 3:6]))
        out[:, 7:] = ch[:, 6:]
        return out


def load_stride(
    path: str | os.PathLike, body: BodyParams, asf: str | os.PathLike | None = None
) -> tuple[MocapClip, BodyParams, dict]:
    """One gait cycle of a motion file as a :class:`MocapClip`, the body it is on and what was measured.

    DeepMimic clips (``.txt``) are already one cycle on :data:`DEEPMIMIC_BODY`. CMU AMC clips (``.amc``,
    with ``asf`` or a ``<subject>.asf`` beside them when there is one) are trimmed to their steadiest
    stride and fitted on ``body`` (:mod:`motionlab.cmu`)."""
    path = Path(path)
    if path.suffix.lower() != ".amc":
        return load_deepmimic(path), DEEPMIMIC_BODY, {"format": "deepmimic"}
    from motionlab import cmu  # dm_control is imported only for CMU clips

    if asf is None:
        beside = path.with_name(f"{path.stem.split('_')[0]}.asf")
        asf = beside if beside.is_file() else None
    clip = cmu.load_cmu(path, asf)
    qpos, info = cmu.cmu_stride_qpos(clip, body)
    info = {"format": "cmu-amc", "asf": None if asf is None else Path(asf).name, **info}
    return MocapClip(qpos=qpos, frame_dt=1.0 / cmu.MOCAP_FPS, source=str(path)), body, info


def mocap_reference(
    path: str | os.PathLike,
    body: BodyParams | None = None,
    cycles: int = 4,
    fps: float = 30.0,
    speed_scale: float = 1.0,
    mirror: bool = False,
    camera: Camera | None = None,
    follow_runner: bool = True,
    harmonics: int = 8,
    asf: str | os.PathLike | None = None,
) -> Reference:
    """A looping reference from a mocap clip (DeepMimic ``.txt`` or CMU ``.amc``), retargeted to ``body``
    and projected to 2D keypoints through ``camera`` (default: side-on). With ``follow_runner`` the
    camera moves along +x at the runner's mean speed (a tracking shot); otherwise it keeps its own
    velocity. ``source`` records speed (m/s) and cadence (steps/min) as played back."""
    if not 1 <= cycles <= MAX_CYCLES or not 0.5 <= speed_scale <= 2.0 or not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        raise UserError(
            f"1 <= cycles <= {MAX_CYCLES}, 0.5 <= speed_scale <= 2 and {FPS_RANGE[0]:g} <= fps <= {FPS_RANGE[1]:g} "
            f"required (got {cycles}, {speed_scale}, {fps})"
        )
    body = BodyParams.coerce(body).resolved()
    clip, clip_body, info = load_stride(path, body, asf)
    motion = PeriodicMotion(clip, harmonics=harmonics)
    duration = cycles * motion.period / speed_scale
    times = np.arange(int(round(duration * fps)) + 1) / fps
    qpos = motion.qpos(times * speed_scale)
    if mirror:
        qpos = mirror_qpos(qpos)
    qpos = retarget_qpos(qpos, clip_body, body)
    speed = float((qpos[-1, 0] - qpos[0, 0]) / duration)
    camera = camera or Camera.side_on()
    if follow_runner:
        camera = dataclasses.replace(camera, velocity=(speed, 0.0, 0.0))
    ref = project_qpos(qpos, body, fps, camera)
    ref.source = {
        **info,
        "kind": "mocap",
        "file": Path(path).name,
        "cycles": cycles,
        "speed_scale": speed_scale,
        "speed_mps": speed,
        "stride_period_s": motion.period / speed_scale,
        "cadence_spm": 120.0 * speed_scale / motion.period,
        "mirror": mirror,
        "camera": camera.to_dict(),
        "harmonics": harmonics,
    }
    return ref


def project_qpos(qpos: np.ndarray, body: BodyParams, fps: float, camera: Camera) -> Reference:
    """A reference holding ``qpos`` plus its 2D keypoints through ``camera`` and MediaPipe-style world
    keypoints (hip-centred, camera-aligned axes)."""
    hm = build_model(body)
    world = Kinematics(hm).sites(qpos)  # (T, 33, 3)
    times = np.arange(len(qpos)) / fps
    px = camera.project(world, times)
    kp = np.zeros(world.shape, dtype=np.float32)
    kp[..., 0] = px[..., 0] / camera.width
    kp[..., 1] = px[..., 1] / camera.height
    kp[..., 2] = 1.0
    hips = world[:, [23, 24]].mean(axis=1, keepdims=True)
    world_mp = (world - hips) @ camera.rotation().T
    return Reference(
        fps=fps,
        keypoints2d=kp,
        image_size=(camera.width, camera.height),
        world_keypoints=world_mp,
        qpos=qpos,
        body=hm.body,
        source={"kind": "projection", "camera": camera.to_dict()},
    )
