"""Operations on humanoid ``qpos`` trajectories: resampling, velocities, mirroring, kinematics, retargeting."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from scipy import ndimage
from scipy.spatial.transform import Rotation, Slerp

from motionlab.body import BodyParams
from motionlab.humanoid import FOOT_GEOMS, JOINT_NAMES, HumanoidModel, build_model

_MIRROR_INDEX = np.array(
    [JOINT_NAMES.index(n.replace("left", "@").replace("right", "left").replace("@", "right")) for n in JOINT_NAMES]
)
FOOT_IN_USE_M = 0.05  # a foot whose lowest is this far above the other's is never stood on
# Reflecting y -> -y keeps rotations about y and negates those about x and z.
_MIRROR_SIGN = np.array([-1.0 if n.endswith(("_x", "_z")) else 1.0 for n in JOINT_NAMES])


def quat_wxyz_to_rotation(q: np.ndarray) -> Rotation:
    return Rotation.from_quat(np.asarray(q)[..., [1, 2, 3, 0]])


def pelvis_forward(qpos: np.ndarray) -> np.ndarray:
    """(T, 3) unit vector the pelvis faces (its local +x) in every row of ``qpos``."""
    return quat_wxyz_to_rotation(qpos[:, 3:7]).apply([1.0, 0.0, 0.0])


def rotation_to_quat_wxyz(r: Rotation) -> np.ndarray:
    q = r.as_quat()[..., [3, 0, 1, 2]]
    return q * np.where(q[..., :1] < 0, -1.0, 1.0)  # w >= 0, a unique sign


def resample_qpos(qpos: np.ndarray, fps: float, times: np.ndarray) -> np.ndarray:
    """qpos (T, nq) sampled at ``fps`` evaluated at ``times`` (s): linear for positions and hinges,
    slerp for the root quaternion; times past the ends are clamped."""
    t_src = np.arange(len(qpos)) / fps
    times = np.clip(np.asarray(times, dtype=float), 0.0, t_src[-1])
    out = np.empty((len(times), qpos.shape[1]))
    for j in [0, 1, 2, *range(7, qpos.shape[1])]:
        out[:, j] = np.interp(times, t_src, qpos[:, j])
    out[:, 3:7] = rotation_to_quat_wxyz(Slerp(t_src, quat_wxyz_to_rotation(qpos[:, 3:7]))(times))
    return out


def qpos_velocities(model: mujoco.MjModel, qpos: np.ndarray, dt: float) -> np.ndarray:
    """Generalised velocities (T, nv) by central differences (MuJoCo's convention: root angular velocity
    in the root's local frame)."""
    T = len(qpos)
    qvel = np.zeros((T, model.nv))
    for t in range(T):
        a, b = max(t - 1, 0), min(t + 1, T - 1)
        if a != b:
            mujoco.mj_differentiatePos(model, qvel[t], (b - a) * dt, qpos[a], qpos[b])
    return qvel


def mirror_qpos(qpos: np.ndarray) -> np.ndarray:
    """Left-right mirror image (reflection y -> -y) of a trajectory."""
    out = qpos.copy()
    out[:, 1] = -qpos[:, 1]
    ypr = quat_wxyz_to_rotation(qpos[:, 3:7]).as_euler("ZYX")
    ypr[:, [0, 2]] *= -1  # yaw and roll change sign, pitch stays
    out[:, 3:7] = rotation_to_quat_wxyz(Rotation.from_euler("ZYX", ypr))
    out[:, 7:] = qpos[:, 7:][:, _MIRROR_INDEX] * _MIRROR_SIGN
    return out


@dataclass(frozen=True)
class TrajectoryKinematics:
    """World positions along a trajectory: every site (T, nsite, 3), the centre of mass (T, 3), the
    lowest point of either foot box (T,) and of each foot box (T, 2: left, right)."""

    site_xpos: np.ndarray
    com: np.ndarray
    soles: np.ndarray
    foot_soles: np.ndarray

    def lifted(self, dz: np.ndarray) -> TrajectoryKinematics:
        """The same after moving the whole body up by ``dz`` (T,) per frame."""
        site = self.site_xpos.copy()
        site[..., 2] += dz[:, None]
        com = self.com.copy()
        com[:, 2] += dz
        return TrajectoryKinematics(site, com, self.soles + dz, self.foot_soles + dz[:, None])


class Kinematics:
    """Forward kinematics of one humanoid over whole trajectories (one MuJoCo pass per frame)."""

    _CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)

    def __init__(self, hm: HumanoidModel):
        self.hm = hm
        self.data = mujoco.MjData(hm.model)
        self._foot_geoms = np.array([hm.model.geom(g).id for g in FOOT_GEOMS])

    def run(self, qpos: np.ndarray) -> TrajectoryKinematics:
        """Sites, centre of mass and sole heights for every frame of ``qpos`` (T, nq)."""
        m, d, feet = self.hm.model, self.data, self._foot_geoms
        T = len(qpos)
        site = np.empty((T, m.nsite, 3))
        com = np.empty((T, 3))
        foot_pos = np.empty((T, len(feet), 3))
        foot_mat = np.empty((T, len(feet), 9))
        for t in range(T):
            d.qpos[:] = qpos[t]
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            site[t] = d.site_xpos
            com[t] = d.subtree_com[1]
            foot_pos[t] = d.geom_xpos[feet]
            foot_mat[t] = d.geom_xmat[feet]
        corners = self._CORNERS[None] * m.geom_size[feet][:, None, :]  # (feet, 8, 3) in the geom frame
        heights = foot_pos[..., 2:3] + np.einsum("fck,tfk->tfc", corners, foot_mat[..., 6:9])
        return TrajectoryKinematics(site, com, heights.min(axis=(1, 2)), heights.min(axis=2))

    def sites(self, qpos: np.ndarray, site_ids: np.ndarray | None = None) -> np.ndarray:
        """(T, n_sites, 3) world site positions (all 33 keypoint sites by default)."""
        ids = self.hm.keypoint_site_ids if site_ids is None else site_ids
        return self.run(qpos).site_xpos[:, ids]

    def sole_heights(self, qpos: np.ndarray) -> np.ndarray:
        """(T,) lowest point of either foot box per frame."""
        return self.run(qpos).soles


def retarget_kinematics(
    qpos: np.ndarray,
    source: BodyParams,
    target: BodyParams,
    hm: HumanoidModel | None = None,
    clearance: float = 0.002,
    stance_band: float = 0.01,
) -> tuple[np.ndarray, TrajectoryKinematics]:
    """Move a joint-angle trajectory made for ``source`` onto ``target`` (``hm``: its built model):
    joint angles are kept, root translation scales with leg length, and the root height is corrected so
    that feet are on, not under or above, the ground. Each foot's stance phases are its runs of frames
    within ``stance_band`` of its own lowest over the clip (feet whose lowest is more than
    :data:`FOOT_IN_USE_M` above the other's never stand); at the lowest frame of every stance phase the
    body is moved so that sole is ``clearance`` m above the floor, and the correction is interpolated
    linearly between those frames (through flight phases too), then raised where a sole would be under.

    The band is tight and the anchors are one frame per stance because a run's flight soles are only
    1-6 cm up: correcting every frame with a sole within 5 cm of the floor pulled flight frames down
    and erased the flight phase (CMU 09_01: 30% flight -> none, contacts 250 -> 410 ms); one correction
    for both feet left the foot that the fit placed higher 1-3 cm above the floor in its stance.
    Returns the new trajectory and its kinematics (one forward-kinematics pass)."""
    source, target = BodyParams.coerce(source), BodyParams.coerce(target)
    hm = hm or build_model(target)
    out = qpos.copy()
    scale = target.leg_length / source.leg_length
    out[:, :2] = qpos[0, :2] + (qpos[:, :2] - qpos[0, :2]) * scale
    out[:, 2] *= scale
    kin = Kinematics(hm).run(out)
    anchors: dict[int, float] = {}
    for foot in kin.foot_soles.T:
        if foot.min() > kin.soles.min() + FOOT_IN_USE_M:
            continue
        phases, n_phases = ndimage.label(foot <= foot.min() + stance_band)
        for (frame,) in ndimage.minimum_position(foot, phases, np.arange(1, n_phases + 1)):
            anchors[frame] = max(anchors.get(frame, -np.inf), clearance - foot[frame])
    frames = np.arange(len(out))
    at = np.array(sorted(anchors))
    dz = np.maximum(np.interp(frames, at, [anchors[f] for f in at]), clearance - kin.soles)  # never under
    out[:, 2] += dz
    return out, kin.lifted(dz)


def retarget_qpos(qpos: np.ndarray, source: BodyParams, target: BodyParams, **kwargs) -> np.ndarray:
    """:func:`retarget_kinematics` without the kinematics."""
    return retarget_kinematics(qpos, source, target, **kwargs)[0]
