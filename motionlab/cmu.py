"""CMU motion capture (Acclaim AMC, optional ASF) -> joint positions -> humanoid ``qpos`` on any body.

The data was obtained from mocap.cs.cmu.edu. The database was created with funding from NSF EIA-0196217.

Pipeline (one clip):

1. **Read.** Every AMC frame is checked (numbering, the 29 CMU bones in CMU's order with their numbers of
   values, finite numbers) and then parsed with ``dm_control``'s maintained AMC tools
   (``dm_control.suite.utils.parse_amc``: ``parse`` and ``Amcvals2qpos``), which map the values onto
   dm_control's ``humanoid_CMU`` model (the shared CMU skeleton topology; all CMU subjects share it).
   An ASF, when given, must name the same bones with the same degrees of freedom as the AMC.
2. **Joint positions.** Forward kinematics of ``humanoid_CMU`` (plain MuJoCo) gives hips, knees, ankles,
   toes, shoulders, elbows and wrists per frame (z up, metres; AMC root units are 0.056444 m). The
   model's limbs have one fixed size; the subject's size is the ASF's femur + tibia when an ASF is given,
   else estimated from the motion itself: the scale of the limbs that keeps the stance foot still.
3. **One steady stride.** The stride period is the shortest lag at which the pose repeats (joint
   positions relative to the pelvis); the clip is trimmed to the stride window that closes best.
4. **Retarget.** The positions are scaled to the target body's leg length and fitted frame by frame
   with ``mink`` (a position task per landmark site, the project IK's posture prior and joint limits),
   then feet are put on the floor (:func:`motionlab.motion.retarget_qpos`).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import mink
import mujoco
import numpy as np

from motionlab.body import BodyParams
from motionlab.errors import MocapFormatError
from motionlab.humanoid import build_model, standing_qpos
from motionlab.ik import RELAXED_POSTURE
from motionlab.keypoints import INDEX
from motionlab.motion import Kinematics, retarget_qpos

MOCAP_FPS = 120.0
CMU_LENGTH_UNIT_M = 0.056444  # AMC root translation and ASF lengths (length 0.45 -> 1/0.45 in)
# The bones of every CMU AMC frame, in order, with their numbers of values (62 in all).
CMU_BONES = (
    ("root", 6), ("lowerback", 3), ("upperback", 3), ("thorax", 3), ("lowerneck", 3), ("upperneck", 3),
    ("head", 3), ("rclavicle", 2), ("rhumerus", 3), ("rradius", 1), ("rwrist", 1), ("rhand", 2),
    ("rfingers", 1), ("rthumb", 2), ("lclavicle", 2), ("lhumerus", 3), ("lradius", 1), ("lwrist", 1),
    ("lhand", 2), ("lfingers", 1), ("lthumb", 2), ("rfemur", 3), ("rtibia", 1), ("rfoot", 2), ("rtoes", 1),
    ("lfemur", 3), ("ltibia", 1), ("lfoot", 2), ("ltoes", 1),
)  # fmt: skip
# humanoid_CMU body whose origin is the joint -> MediaPipe landmark of our humanoid
_LANDMARK_BODIES = {
    "left_hip": "lfemur", "right_hip": "rfemur", "left_knee": "ltibia", "right_knee": "rtibia",
    "left_ankle": "lfoot", "right_ankle": "rfoot", "left_foot_index": "ltoes", "right_foot_index": "rtoes",
    "left_shoulder": "lhumerus", "right_shoulder": "rhumerus", "left_elbow": "lradius", "right_elbow": "rradius",
    "left_wrist": "lwrist", "right_wrist": "rwrist",
}  # fmt: skip
LANDMARKS = tuple(_LANDMARK_BODIES)
_LANDMARK_WEIGHT = np.array([0.5 if n.endswith("foot_index") else 1.0 for n in LANDMARKS])
_HIPS = [LANDMARKS.index("left_hip"), LANDMARKS.index("right_hip")]
_ANKLES = [LANDMARKS.index("left_ankle"), LANDMARKS.index("right_ankle")]
MIN_SPEED_MPS = 0.4  # slower than the slowest walk: not locomotion
STRIDE_RANGE_S = (0.45, 1.4)  # one gait cycle (two steps) of a run or a walk


@dataclass(frozen=True)
class AsfSkeleton:
    """The parts of an Acclaim skeleton we use: bone lengths (m) and degrees of freedom."""

    lengths_m: dict[str, float]
    dofs: dict[str, tuple[str, ...]]

    @property
    def leg_length_m(self) -> float:
        """Mean femur + tibia length of the two legs (hip to ankle)."""
        return 0.5 * sum(self.lengths_m[f"{s}{b}"] for s in "lr" for b in ("femur", "tibia"))


@dataclass(frozen=True)
class CmuClip:
    """Joint positions (T, 14, 3) of :data:`LANDMARKS` at :data:`MOCAP_FPS` in metres, z up, travelling
    along +x, on the subject's own scale; plus how the subject's leg length was found."""

    positions: np.ndarray
    leg_length_m: float
    leg_length_source: str  # "asf" | "stance-foot fit"
    source: str

    @property
    def speed_mps(self) -> float:
        hips = self.positions[:, _HIPS].mean(axis=1)
        return float(np.linalg.norm(hips[-1, :2] - hips[0, :2]) / ((len(hips) - 1) / MOCAP_FPS))


# ---------------------------------------------------------------------- files
def read_asf(path: str | os.PathLike) -> AsfSkeleton:
    """Bone lengths (metres) and degrees of freedom of an Acclaim ASF skeleton."""
    path = Path(path)
    try:
        text = path.read_text(errors="strict")
    except (OSError, UnicodeDecodeError) as exc:
        raise MocapFormatError(f"{path}: cannot read the ASF skeleton ({exc})") from exc
    if ":bonedata" not in text:
        raise MocapFormatError(f"{path}: not an Acclaim ASF skeleton (no :bonedata section)")
    lengths, dofs = {}, {}
    for block in re.findall(r"^\s*begin\s*$(.*?)^\s*end\s*$", text.split(":bonedata", 1)[1].split(":hierarchy", 1)[0], flags=re.S | re.M):
        fields = dict(re.findall(r"^\s*(name|length|dof)\s+(.+?)\s*$", block, flags=re.M))
        try:
            lengths[fields["name"]] = float(fields["length"]) * CMU_LENGTH_UNIT_M
        except (KeyError, ValueError) as exc:
            raise MocapFormatError(f"{path}: a bone without a name or a numeric length ({exc})") from exc
        dofs[fields["name"]] = tuple(fields.get("dof", "").split())
    missing = [b for b, _ in CMU_BONES[1:] if b not in lengths]
    if missing:
        raise MocapFormatError(f"{path}: not a CMU skeleton; bones missing: {', '.join(missing)}")
    return AsfSkeleton(lengths, dofs)


def _check_amc(path: Path) -> int:
    """Validate an AMC file's structure; returns its number of frames."""
    try:
        lines = [ln.strip() for ln in path.read_text(errors="strict").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise MocapFormatError(f"{path}: cannot read the AMC motion ({exc})") from exc
    body = [ln for ln in lines if ln and not ln.startswith(("#", ":"))]
    frame, i = 0, 0
    while i < len(body):
        frame += 1
        if body[i] != str(frame):
            raise MocapFormatError(f"{path}: expected frame number {frame}, found {body[i][:40]!r}")
        bones = body[i + 1 : i + 1 + len(CMU_BONES)]
        for (name, n), line in zip(CMU_BONES, bones):
            tokens = line.split()
            if tokens[0] != name or len(tokens) != n + 1:
                raise MocapFormatError(
                    f"{path}: frame {frame}: expected bone {name!r} with {n} values, found {line[:60]!r}; "
                    "is this a CMU AMC file (29 bones in CMU's order)?"
                )
            try:
                values = np.asarray(tokens[1:], dtype=float)
            except ValueError as exc:
                raise MocapFormatError(f"{path}: frame {frame}, bone {name}: {exc}") from exc
            if not np.isfinite(values).all():
                raise MocapFormatError(f"{path}: frame {frame}, bone {name}: non-finite value")
        if len(bones) < len(CMU_BONES):
            raise MocapFormatError(f"{path}: frame {frame} is cut short ({len(bones)} of {len(CMU_BONES)} bones)")
        i += 1 + len(CMU_BONES)
    if frame < 10:
        raise MocapFormatError(f"{path}: only {frame} frames; a clip needs at least 10")
    return frame


def _check_skeleton_matches(skeleton: AsfSkeleton, asf: Path, amc: Path) -> None:
    for name, n in CMU_BONES[1:]:
        if len(skeleton.dofs.get(name, ())) != n:
            raise MocapFormatError(
                f"skeleton {asf.name} does not match motion {amc.name}: bone {name!r} has "
                f"{len(skeleton.dofs.get(name, ()))} degrees of freedom in the ASF, {n} values in the AMC"
            )


# ---------------------------------------------------------------------- kinematics
@functools.cache
def _cmu_model() -> tuple[mujoco.MjModel, object]:
    """dm_control's humanoid_CMU as a plain MuJoCo model and its AMC -> qpos converter."""
    from dm_control.suite import humanoid_CMU
    from dm_control.suite.utils import parse_amc

    model = mujoco.MjModel.from_xml_string(*humanoid_CMU.get_model_and_assets())
    index2joint = {}
    for j in range(model.njnt):
        width = {int(mujoco.mjtJoint.mjJNT_FREE): 7, int(mujoco.mjtJoint.mjJNT_BALL): 4}.get(int(model.jnt_type[j]), 1)
        for k in range(width):
            index2joint[int(model.jnt_qposadr[j]) + k] = model.joint(j).name
    return model, parse_amc.Amcvals2qpos(index2joint, parse_amc._CMU_MOCAP_JOINT_ORDER)


def _forward_kinematics(values: list[np.ndarray]) -> np.ndarray:
    model, to_qpos = _cmu_model()
    data = mujoco.MjData(model)
    ids = [model.body(b).id for b in _LANDMARK_BODIES.values()]
    out = np.empty((len(values), len(ids), 3))
    for t, v in enumerate(values):
        data.qpos[:] = to_qpos(v)
        mujoco.mj_kinematics(model, data)
        out[t] = data.xpos[ids]
    return out


def _stance_scale(positions: np.ndarray) -> float:
    """Limb scale ``c`` (subject / model) that keeps the lowest ankle still on the ground: the root moves
    in real metres, so with the model's limbs the stance foot slides by ``v_root + c * v_limb``."""
    hips = positions[:, _HIPS].mean(axis=1, keepdims=True)
    rel = positions - hips
    ankles = positions[:, _ANKLES]
    low = ankles[..., 2].argmin(axis=1)
    stance = ankles[np.arange(len(ankles)), low, 2] < np.percentile(ankles[..., 2].min(axis=1), 30) + 0.01
    v_root = np.gradient(hips[:, 0, :2], axis=0)
    v_limb = np.gradient(rel[np.arange(len(rel)), [_ANKLES[i] for i in low], :2], axis=0)
    same = np.r_[low[1:] == low[:-1], False] & np.r_[False, low[1:] == low[:-1]]
    use = stance & same
    c = -float((v_root[use] * v_limb[use]).sum() / max((v_limb[use] ** 2).sum(), 1e-12))
    return float(np.clip(c, 0.7, 1.4))


def load_cmu(amc: str | os.PathLike, asf: str | os.PathLike | None = None) -> CmuClip:
    """Read an AMC clip (and its ASF, optional) as joint positions on the subject's scale."""
    from dm_control.suite.utils import parse_amc

    amc = Path(amc)
    frames = _check_amc(amc)
    skeleton = None
    if asf is not None:
        skeleton = read_asf(asf)
        _check_skeleton_matches(skeleton, Path(asf), amc)
    values = parse_amc.parse(str(amc))
    if len(values) != frames:
        raise MocapFormatError(f"{amc}: dm_control's parser read {len(values)} frames, the file numbers {frames}")
    pos = _forward_kinematics(values)
    travel = pos[-1, _HIPS].mean(axis=0) - pos[0, _HIPS].mean(axis=0)
    heading = np.arctan2(travel[1], travel[0])
    c, s = np.cos(-heading), np.sin(-heading)
    pos = pos @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T
    model_leg = _leg_length(pos)
    if skeleton is not None:
        leg, how = skeleton.leg_length_m, "asf"
    else:
        leg, how = _stance_scale(pos) * model_leg, "stance-foot fit"
    hips = pos[:, _HIPS].mean(axis=1, keepdims=True)
    pos = hips + (pos - hips) * (leg / model_leg)
    pos[..., 2] -= np.percentile(pos[:, _ANKLES, 2].min(axis=1), 5)  # lowest ankles near ankle height
    clip = CmuClip(pos, leg, how, str(amc))
    if clip.speed_mps < MIN_SPEED_MPS:
        raise MocapFormatError(
            f"{amc}: the subject moves at {clip.speed_mps:.2f} m/s; not locomotion (needs >= {MIN_SPEED_MPS} m/s "
            "of straight travel: a walk, jog or run)"
        )
    return clip


def _leg_length(pos: np.ndarray) -> float:
    knees = [LANDMARKS.index("left_knee"), LANDMARKS.index("right_knee")]
    thigh = np.linalg.norm(pos[:, _HIPS] - pos[:, knees], axis=-1)
    shank = np.linalg.norm(pos[:, knees] - pos[:, _ANKLES], axis=-1)
    return float(np.median(thigh + shank))


# ---------------------------------------------------------------------- one stride
def steady_stride(positions: np.ndarray, fps: float = MOCAP_FPS) -> tuple[int, int]:
    """``(start, period)`` in frames of the best-closing gait cycle: the shortest period in
    :data:`STRIDE_RANGE_S` whose closure error is within 1.5x the best, then its best start frame."""
    hips = positions[:, _HIPS].mean(axis=1, keepdims=True)
    rel = (positions - hips).reshape(len(positions), -1)
    vel = np.gradient(rel, axis=0) * fps * 0.1  # 0.1 s of motion weighs like position
    lo, hi = int(STRIDE_RANGE_S[0] * fps), min(int(STRIDE_RANGE_S[1] * fps), len(rel) - 1)
    if hi <= lo:
        raise MocapFormatError(
            f"clip of {len(rel) / fps:.2f} s is shorter than one gait cycle ({STRIDE_RANGE_S[0]} s at least)"
        )
    costs = {}
    for p in range(lo, hi + 1):
        err = ((rel[p:] - rel[:-p]) ** 2).sum(1) + ((vel[p:] - vel[:-p]) ** 2).sum(1)
        costs[p] = (float(err.min()), int(err.argmin()))
    best = min(c for c, _ in costs.values())
    period = min(p for p, (c, _) in costs.items() if c <= 1.5 * best)
    # Reject a "cycle" that is not one: closure error comparable to the pose's own variation.
    spread = float(((rel - rel.mean(0)) ** 2).sum(1).mean())
    if costs[period][0] > 0.5 * spread:
        raise MocapFormatError("no repeating gait cycle found in the clip (is it steady walking or running?)")
    return costs[period][1], period


# ---------------------------------------------------------------------- retargeting
class PositionFit:
    """Fits our humanoid's landmark sites to 3D joint positions with mink (the lift's posture prior and
    joint limits), warm-started from the previous frame."""

    def __init__(self, body: BodyParams):
        self.hm = build_model(body)
        self.configuration = mink.Configuration(self.hm.model)
        self.tasks = [
            mink.FrameTask(f"kp_{name}", "site", position_cost=float(w), orientation_cost=0.0)
            for name, w in zip(LANDMARKS, _LANDMARK_WEIGHT)
        ]
        posture = mink.PostureTask(self.hm.model, cost=np.r_[np.zeros(6), np.full(self.hm.model.nv - 6, 0.02)])
        posture.set_target(np.r_[standing_qpos(self.hm)[:7], RELAXED_POSTURE])
        self.all_tasks = [*self.tasks, posture]
        self.limits = [mink.ConfigurationLimit(self.hm.model)]

    def fit(self, positions: np.ndarray, iterations: int = 30) -> np.ndarray:
        """qpos (T, 35) whose sites best match ``positions`` (T, 14, 3)."""
        q = standing_qpos(self.hm).copy()
        q[:3] = positions[0, _HIPS].mean(axis=0)
        out = np.empty((len(positions), len(q)))
        for t, target in enumerate(positions):
            self.configuration.update(q)
            for task, p in zip(self.tasks, target):
                task.set_target(mink.SE3.from_translation(p))
            for _ in range(iterations if t == 0 else iterations // 3):
                v = mink.solve_ik(self.configuration, self.all_tasks, 1.0, "daqp", damping=1e-3, limits=self.limits)
                self.configuration.integrate_inplace(v, 1.0)
                if np.abs(v).max() < 1e-4:
                    break
            q = self.configuration.q.copy()
            out[t] = q
        return out


def cmu_stride_qpos(clip: CmuClip, body: BodyParams) -> tuple[np.ndarray, dict]:
    """One steady stride of ``clip`` fitted on ``body``: qpos (period + 1, 35) at :data:`MOCAP_FPS` (last
    frame = first frame of the next cycle) and what was measured (speed, cadence, fit error)."""
    body = BodyParams.coerce(body).resolved()
    start, period = steady_stride(clip.positions)
    scale = (body.thigh + body.shank) / clip.leg_length_m
    pos = clip.positions[start : start + period + 1] * scale
    fit = PositionFit(body)
    qpos = fit.fit(pos)
    sites = fit.hm.keypoint_site_ids[[INDEX[n] for n in LANDMARKS]]
    err = np.linalg.norm(Kinematics(fit.hm).run(qpos).site_xpos[:, sites] - pos, axis=-1)
    qpos = retarget_qpos(qpos, body, body)
    stride_s = period / MOCAP_FPS
    hips = clip.positions[start : start + period + 1, _HIPS].mean(axis=1)
    info = {
        "trim_frames": [int(start), int(start + period)],
        "stride_period_s": stride_s,
        "cadence_spm": 120.0 / stride_s,
        "subject_speed_mps": float(np.linalg.norm(hips[-1, :2] - hips[0, :2]) / stride_s),
        "subject_leg_length_m": clip.leg_length_m,
        "leg_length_source": clip.leg_length_source,
        "fit_error_mm": float(err.mean() * 1000),
    }
    return qpos, info
