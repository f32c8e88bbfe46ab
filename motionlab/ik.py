"""Per-frame inverse kinematics of the humanoid to 2D keypoints seen through a pinhole camera.

One frame is solved in two passes:

1. when MediaPipe-style world landmarks are available, a 3D pass with `mink` (a position
   ``FrameTask`` per keypoint site, a ``PostureTask`` and joint limits, QP-solved with DAQP) brings the
   pose close to the hip-relative 3D landmarks;
2. a Levenberg-Marquardt refinement of the full cost in MuJoCo's tangent space, with analytic
   Jacobians from ``mj_jacSite`` / ``mj_jac``: visibility-weighted 2D reprojection error (main term), a
   weak 3D term, a temporal prior (constant-velocity prediction), a posture prior, and the soles kept
   on (not under) the floor, and (when the observation carries one) a heading prior: the pelvis facing a
   given horizontal direction, the way a forward gait travels. Joint limits are box constraints
   (projected steps with an active set).
"""

from __future__ import annotations

from dataclasses import dataclass

import mink
import mujoco
import numpy as np

from motionlab.camera import Camera
from motionlab.humanoid import FOOT_GEOMS, JOINT_NAMES, NV, HumanoidModel, standing_qpos
from motionlab.keypoints import INDEX, LANDMARK_NAMES, NUM_LANDMARKS

# How much each landmark is trusted relative to the body joints: the humanoid's face and hand
# sites only approximate where MediaPipe puts those landmarks on a real person.
LANDMARK_TRUST = np.array(
    [0.2 if i <= INDEX["mouth_right"] or n.split("_", 1)[1] in ("pinky", "index", "thumb") else 1.0
     for i, n in enumerate(LANDMARK_NAMES)]  # fmt: skip
)
_HIPS = (INDEX["left_hip"], INDEX["right_hip"])
# Posture prior mean: standing, but with the arms held slightly away from the torso as runners do (from
# the side the arms' abduction is invisible, and this keeps the near arm from folding behind the body).
RELAXED_POSTURE = np.zeros(len(JOINT_NAMES))
RELAXED_POSTURE[[JOINT_NAMES.index("right_shoulder_x"), JOINT_NAMES.index("left_shoulder_x")]] = np.deg2rad([-15, 15])
_BOX_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)


@dataclass(frozen=True)
class IKWeights:
    """Standard deviations of the IK cost terms (each residual is divided by its sigma)."""

    keypoint_sigma: float = 0.01  # 2D, as a fraction of the person's height in pixels
    world_sigma_m: float = 0.05  # 3D world landmarks: a weak term (MediaPipe's depth is rough)
    floor_sigma_m: float = 0.002  # sole points below z = 0
    posture_sigma_rad: float = 1.0  # flexion joints; ab/adduction, axial and spine joints are tighter
    accel_sigma: tuple[float, float, float] = (30.0, 100.0, 200.0)  # root m/s^2, root rad/s^2, hinges rad/s^2
    speed_sigma: tuple[float, float, float] = (10.0, 5.0, 15.0)  # root m/s, root rad/s, hinges rad/s
    heading_sigma: float = 0.025  # sine of the pelvis heading's angle to an observation's ``heading`` (~1.4 deg)

    def posture_sigmas(self) -> np.ndarray:
        """(28,) posture-prior sigma per hinge: flexion is free to move, other axes less so."""
        tight = {"_x": 0.5, "_z": 0.4}
        out = np.full(len(JOINT_NAMES), self.posture_sigma_rad)
        for j, name in enumerate(JOINT_NAMES):
            if name.startswith(("chest", "neck")):
                out[j] = 0.4 * self.posture_sigma_rad
            elif name[-2:] in tight:
                out[j] = tight[name[-2:]] * self.posture_sigma_rad
        return out

    def temporal_sigmas(self, dt: float, frames: int, accelerate: bool) -> np.ndarray:
        """(34,) tangent-space sigma of the constant-velocity (``accelerate``) or constant-position
        prediction ``frames`` steps of ``dt`` ahead."""
        span = frames * dt
        lin, ang, hinge = np.asarray(self.accel_sigma) * span**2 if accelerate else np.asarray(self.speed_sigma) * span
        return np.r_[np.full(3, lin), np.full(3, ang), np.full(NV - 6, hinge)]


@dataclass
class FrameObservation:
    """What one frame offers the IK: pixel targets, their weights, and where the camera is."""

    pixels: np.ndarray  # (33, 2)
    weights: np.ndarray  # (33,) visibility x landmark trust
    camera_position: np.ndarray  # (3,) world position of the camera at this frame
    world_offsets: np.ndarray | None = None  # (33, 3) hip-relative landmarks in world axes (m)
    camera_rotation: np.ndarray | None = None  # (3, 3) world-to-camera at this frame (None: the camera's own)
    heading: np.ndarray | None = None  # (2,) horizontal unit vector the pelvis is expected to face (None: no prior)


@dataclass
class TemporalPrior:
    """Predicted configuration for this frame and the tangent-space sigma around it."""

    qpos: np.ndarray
    sigma: np.ndarray


class FrameIK:
    """Solves one frame at a time for a humanoid seen through ``camera`` (pixel units)."""

    def __init__(self, hm: HumanoidModel, camera: Camera, weights: IKWeights, pixel_sigma: float):
        self.hm, self.model = hm, hm.model
        self.data = mujoco.MjData(self.model)
        self.weights = weights
        self.pixel_sigma = pixel_sigma
        self.rotation = camera.rotation()
        self.focal = float(camera.focal_px)
        self.center = np.array([camera.width / 2, camera.height / 2])
        self.site_ids = hm.keypoint_site_ids
        self.lower, self.upper = hm.joint_ranges.T
        self.posture_sigma = weights.posture_sigmas()
        self.foot_geoms = [self.model.geom(g).id for g in FOOT_GEOMS]
        self.pelvis = self.model.body("pelvis").id
        self._body_jac = np.zeros((3, NV))
        self._jac = np.zeros((NUM_LANDMARKS, 3, NV))
        self._point_jac = np.zeros((3, NV))
        # mink 3D pass: a position task per keypoint site, the posture prior, joint limits; same weights
        # as the refinement's 3D and posture terms (mink's cost multiplies the residual like 1 / sigma).
        self.configuration = mink.Configuration(self.model)
        self.site_tasks = [
            mink.FrameTask(f"kp_{name}", "site", position_cost=1.0, orientation_cost=0.0) for name in LANDMARK_NAMES
        ]
        self.posture_task = mink.PostureTask(self.model, cost=1.0)
        self.posture_task.set_target(np.r_[standing_qpos(hm)[:7], RELAXED_POSTURE])
        self.limits = [mink.ConfigurationLimit(self.model)]

    # ------------------------------------------------------------------ public
    def solve(
        self,
        qpos: np.ndarray,
        obs: FrameObservation,
        prior: TemporalPrior | None,
        stiffness: float = 1.0,
        iterations: int = 12,
    ) -> tuple[np.ndarray, float]:
        """Refine ``qpos`` for one frame; returns the solution and its cost. ``stiffness`` > 1 tightens
        the posture prior (used to start from an unknown pose without falling into a mirrored branch).
        Without a ``prior`` (no prediction to start from) world landmarks first get a mink 3D pass."""
        posture_sigma = self.posture_sigma / stiffness
        q = self.clamp(qpos)
        if obs.world_offsets is not None and prior is None:
            q = self._mink_pass(q, obs, posture_sigma)
        return self._levenberg_marquardt(q, obs, prior, posture_sigma, iterations)

    def clamp(self, qpos: np.ndarray) -> np.ndarray:
        """A copy with hinges inside their limits and a unit root quaternion."""
        q = np.array(qpos, dtype=float)
        q[3:7] /= np.linalg.norm(q[3:7])
        q[7:] = np.clip(q[7:], self.lower, self.upper)
        return q

    # ------------------------------------------------------------------ passes
    def _mink_pass(
        self, q: np.ndarray, obs: FrameObservation, posture_sigma: np.ndarray, iterations: int = 4
    ) -> np.ndarray:
        """Hip-relative 3D fit to the world landmarks (the root stays where it is)."""
        self.configuration.update(q)
        root = q[:3]
        for task, offset, w in zip(self.site_tasks, obs.world_offsets, obs.weights):
            task.set_target(mink.SE3.from_translation(root + offset))
            task.set_position_cost(np.sqrt(w) / self.weights.world_sigma_m)
        self.posture_task.set_cost(np.r_[np.zeros(6), 1.0 / posture_sigma])
        tasks = [*self.site_tasks, self.posture_task]
        for _ in range(iterations):
            v = mink.solve_ik(self.configuration, tasks, 1.0, "daqp", damping=1e-3, limits=self.limits)
            self.configuration.integrate_inplace(v, 1.0)
            if np.abs(v).max() < 1e-3:
                break
        return self.clamp(self.configuration.q)

    def _levenberg_marquardt(
        self,
        q: np.ndarray,
        obs: FrameObservation,
        prior: TemporalPrior | None,
        posture_sigma: np.ndarray,
        iterations: int,
    ) -> tuple[np.ndarray, float]:
        r, J = self._residuals(q, obs, prior, posture_sigma)
        cost, lam = float(r @ r), 1e-3
        for _ in range(iterations):
            H, g = J.T @ J, J.T @ r
            dq = self._bounded_step(H + lam * np.diag(np.diag(H) + 1e-9), g, q)
            q_new = q.copy()
            mujoco.mj_integratePos(self.model, q_new, dq, 1.0)
            q_new = self.clamp(q_new)
            r_new, J_new = self._residuals(q_new, obs, prior, posture_sigma)
            cost_new = float(r_new @ r_new)
            if cost_new >= cost:
                lam *= 10.0
                if lam > 1e6:
                    break
                continue
            converged = cost - cost_new < 1e-5 * cost or np.abs(dq).max() < 1e-5
            q, r, J, cost, lam = q_new, r_new, J_new, cost_new, max(lam * 0.3, 1e-7)
            if converged:
                break
        return q, cost

    def _bounded_step(self, A: np.ndarray, g: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Solve ``A dq = -g`` with hinges that would leave their range pinned to the bound."""
        dq = np.linalg.solve(A, -g)
        hinge = q[7:] + dq[6:]
        out = (hinge < self.lower) | (hinge > self.upper)
        if out.any():
            fixed = np.r_[np.zeros(6, bool), out]
            dq[fixed] = np.clip(hinge, self.lower, self.upper)[out] - q[7:][out]
            free = ~fixed
            dq[free] = np.linalg.solve(A[np.ix_(free, free)], -g[free] - A[np.ix_(free, fixed)] @ dq[fixed])
        return dq

    # ------------------------------------------------------------------ cost
    def _residuals(
        self, q: np.ndarray, obs: FrameObservation, prior: TemporalPrior | None, posture_sigma: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Stacked residual vector and its Jacobian with respect to a tangent step at ``q``."""
        m, d, w = self.model, self.data, self.weights
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        used = np.flatnonzero(obs.weights > 0)
        for i in np.union1d(used, _HIPS):
            mujoco.mj_jacSite(m, d, self._jac[i], None, self.site_ids[i])
        x = d.site_xpos[self.site_ids]
        res, jac = [], []

        # 2D reprojection, d(pixel)/d(point) of the pinhole times the site Jacobian
        scale = np.sqrt(obs.weights[used])[:, None] / self.pixel_sigma
        rotation = self.rotation if obs.camera_rotation is None else obs.camera_rotation
        pc = (x[used] - obs.camera_position) @ rotation.T
        z = np.maximum(pc[:, 2], 1e-6)
        res.append(((self.focal * pc[:, :2] / z[:, None] + self.center - obs.pixels[used]) * scale).ravel())
        dproj = np.zeros((len(used), 2, 3))
        dproj[:, 0, 0] = dproj[:, 1, 1] = self.focal / z
        dproj[:, :, 2] = -self.focal * pc[:, :2] / z[:, None] ** 2
        jac_cam = np.einsum("kab,bc,kcn->kan", dproj, rotation, self._jac[used])
        jac.append((jac_cam * scale[:, :, None]).reshape(-1, NV))

        if obs.world_offsets is not None:  # weak hip-relative 3D term
            hip_jac = self._jac[list(_HIPS)].mean(axis=0)
            scale3 = np.sqrt(obs.weights[used])[:, None] / w.world_sigma_m
            rel = x[used] - x[list(_HIPS)].mean(axis=0)
            res.append(((rel - obs.world_offsets[used]) * scale3).ravel())
            jac.append(((self._jac[used] - hip_jac) * scale3[:, :, None]).reshape(-1, NV))

        floor_r, floor_j = self._floor_terms()
        res.append(floor_r)
        jac.append(floor_j)

        hinge_jac = np.zeros((NV - 6, NV))
        hinge_jac[:, 6:] = np.diag(1.0 / posture_sigma)
        res.append((q[7:] - RELAXED_POSTURE) / posture_sigma)
        jac.append(hinge_jac)

        if obs.heading is not None:
            heading_r, heading_j = self._heading_term(obs.heading)
            res.append(heading_r)
            jac.append(heading_j)

        if prior is not None:
            diff = np.zeros(NV)
            mujoco.mj_differentiatePos(m, diff, 1.0, prior.qpos, q)
            res.append(diff / prior.sigma)
            jac.append(np.diag(1.0 / prior.sigma))
        return np.concatenate(res), np.vstack(jac)

    def _heading_term(self, heading: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residual (and Jacobian row) of the pelvis facing across the horizontal ``heading``: the sine of
        the angle between them in the horizontal plane (the pelvis forward's component across it)."""
        forward = self.data.xmat[self.pelvis].reshape(3, 3)[:, 0]
        across = np.array([-heading[1], heading[0], 0.0]) / np.hypot(heading[0], heading[1])
        mujoco.mj_jacBody(self.model, self.data, None, self._body_jac, self.pelvis)  # angular, world axes
        sigma = self.weights.heading_sigma
        return np.array([forward @ across / sigma]), (np.cross(forward, across) @ self._body_jac / sigma)[None]

    def _floor_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """Residuals (and Jacobian rows) for foot-box corners below the floor."""
        m, d = self.model, self.data
        res, rows = [], []
        for g in self.foot_geoms:
            corners = d.geom_xpos[g] + (_BOX_CORNERS * m.geom_size[g]) @ d.geom_xmat[g].reshape(3, 3).T
            for p in corners[corners[:, 2] < 0]:
                mujoco.mj_jac(m, d, self._point_jac, None, p, m.geom_bodyid[g])
                res.append(p[2] / self.weights.floor_sigma_m)
                rows.append(self._point_jac[2] / self.weights.floor_sigma_m)
        return np.asarray(res), np.asarray(rows).reshape(-1, NV)
