"""``MotionLab/Track-v0``: the humanoid follows a reference ``qpos`` trajectory."""

from __future__ import annotations

import math
import os
from typing import Any

import mujoco
import numpy as np
from gymnasium import spaces

from motionlab.assets import DEFAULT_REFERENCE
from motionlab.humanoid import JOINT_NAMES, NUM_JOINTS
from motionlab.keypoints import BODY_LANDMARKS
from motionlab.motion import Kinematics, qpos_velocities, quat_wxyz_to_rotation, resample_qpos, retarget_kinematics
from motionlab.reference import Reference, ReferenceFormatError, load_reference

from .base import BODY_DIM, PROPRIO_DIM, HumanoidEnv, merge_reward_weights

REF_OFFSETS = (1, 2, 4)  # future reference frames in the observation (control steps ahead)
REF_FRAME_DIM = NUM_JOINTS + 3 + 6
REWARD_WEIGHTS = {"pose": 0.5, "velocity": 0.05, "end_effector": 0.15, "root": 0.2, "com": 0.1, "keypoints": 0.0}
KEYPOINT_SCALE = 100.0  # 1/m^2 in the keypoints term: PHC's scale for body positions (Luo et al. 2023)
# DeepMimic's per-joint "DiffWeight" (its humanoid3d character; wrists 0), normalised to sum to 1 over
# the pelvis orientation and the 12 joints; a ball joint's 3 hinges share its weight's error term.
_DIFF_WEIGHT = {
    "root": 1.0, "chest": 0.5, "neck": 0.3, "shoulder": 0.3, "elbow": 0.2, "hip": 0.5, "knee": 0.3, "ankle": 0.2,
}  # fmt: skip


def _joint_of(hinge: str) -> str:
    """``right_ankle_y`` -> ``right_ankle`` (a ball joint is 3 hinges named ``<joint>_x|y|z``)."""
    return hinge[:-2] if hinge[-2:] in ("_x", "_y", "_z") else hinge


def _diff_weight(joint: str) -> float:
    return _DIFF_WEIGHT[joint.removeprefix("right_").removeprefix("left_")]


_DIFF_TOTAL = _DIFF_WEIGHT["root"] + sum(_diff_weight(j) for j in dict.fromkeys(map(_joint_of, JOINT_NAMES)))
HINGE_WEIGHTS = np.array([_diff_weight(_joint_of(h)) for h in JOINT_NAMES]) / _DIFF_TOTAL
ROOT_WEIGHT = _DIFF_WEIGHT["root"] / _DIFF_TOTAL
RESIDUAL_FORCE_DIM = 6
_BODY_KP = list(BODY_LANDMARKS)
_REF_OFFSETS = np.asarray(REF_OFFSETS)
_KP_MEAN = np.full((1, len(_BODY_KP)), 1.0 / len(_BODY_KP))  # (1, 12) @ landmarks (..., 12, 3): their mean


def _sq(vectors: np.ndarray) -> np.ndarray:
    """Squared norms along the last axis."""
    return np.vecdot(vectors, vectors)


def _quat_angle_sq(qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
    """Squared rotation angle from ``qb`` to ``qa`` (wxyz, along the last axis; in (-pi, pi]), as the
    norm of ``mju_subQuat`` (which one state calls: a tenth of the time)."""
    if qa.ndim == 1:
        diff = np.empty(3)
        mujoco.mju_subQuat(diff, qa, qb)
        return diff @ diff
    wa, xa, ya, za = qa[..., 0], qa[..., 1], qa[..., 2], qa[..., 3]
    wb, xb, yb, zb = qb[..., 0], qb[..., 1], qb[..., 2], qb[..., 3]
    w = wa * wb + xa * xb + ya * yb + za * zb  # conj(qb) * qa: its scalar part, and its vector part's norm
    xyz_sq = (wb * xa - wa * xb - yb * za + zb * ya) ** 2 + (wb * ya - wa * yb - zb * xa + xb * za) ** 2
    xyz_sq = xyz_sq + (wb * za - wa * zb - xb * ya + yb * xa) ** 2
    angle = 2.0 * np.arctan2(np.sqrt(xyz_sq), w)
    angle = angle - 2.0 * np.pi * (angle > np.pi)
    return angle * angle


class TrackEnv(HumanoidEnv):
    """Imitation of a reference motion with residual PD control (DeepMimic-style rewards).

    ## Action space
    ``Box(-1, 1, (28,))`` (``(34,)`` with ``residual_force=True``). Each of the 28 hinge actuators is a
    PD servo tracking the reference joint angle and velocity of the next control step, its set-point
    offset by ``action_scale * a`` (rad) and clipped to the joint range; a zero action replays the
    reference through the PD servos alone. The 6 optional extra dims are a residual force and torque on
    the pelvis (residual force control), up to ``residual_force_scale`` x body weight (N) and x weight x
    height (Nm), penalised in the reward and reported: ``info["residual_force_bw"]`` is the force's
    magnitude in body weights (0 without residual force control), so every use of this non-physical
    help is visible.

    ## Observation space
    ``Box(-inf, inf, (203,))``, float64:

    ======  =====================================================================================
    dims    content
    ======  =====================================================================================
    1       pelvis height (m)
    6       pelvis orientation in the heading frame (first two columns of the rotation matrix)
    28      joint angles (rad)
    3       pelvis linear velocity, heading frame (m/s)
    3       pelvis angular velocity, heading frame (rad/s)
    28      joint velocities x 0.1 (rad/s)
    12      wrists and ankles relative to the pelvis, heading frame (m)
    3 x 37  reference at +1, +2, +4 control steps, each: joint angle error (28), reference pelvis
            position relative to the current pelvis in the heading frame (3), reference pelvis
            orientation relative to the current one (6)
    1       phase: progress through the reference in [0, 1]
    10      body parameters, normalised to the default adult (height, mass, 8 segments)
    ======  =====================================================================================

    ## Reward
    DeepMimic's imitation reward as its released code computes it (``SceneImitate.cpp``; the paper's
    normalised return of 0.951 on this run clip is measured with it), ``sum_k w_k r_k``, each term in
    ``(0, 1]``: pose ``exp(-2 e_q)`` (w=0.5) and velocity ``exp(-0.1 e_v)`` (w=0.05), with ``e_q``,
    ``e_v`` the joint-weighted means of squared angle and angular-velocity errors (DeepMimic's weights:
    pelvis orientation 1, chest and hips 0.5, neck, knees and shoulders 0.3, ankles and elbows 0.2, a
    ball joint's error the sum over its 3 hinges); end effector ``exp(-10 sum_e ||p_e - p*_e||^2)`` with
    wrists/ankles relative to the pelvis (w=0.15); root ``exp(-5 (||x - x*||^2 + 0.1 theta^2 +
    0.01 ||v - v*||^2 + 0.001 ||w - w*||^2))`` over pelvis position, orientation angle, linear and
    angular velocity (w=0.2); centre of mass velocity ``exp(-||c_dot - c_dot*||^2)`` (w=0.1); keypoints
    ``exp(-100 mean_j ||k_j - k*_j||^2)`` over the 12 body landmarks, each set centred on its mean (w=0 by
    default. A whole body leaning 15 deg forward of the reference moves the landmarks 9-12 cm; the pose
    term loses 3 %, DeepMimic's whole reward 10-13 % (mostly its end-effector term), the keypoints term
    70-80 %: the error the report's MPJPE measures, scored directly, as PHC's body-position term does,
    Luo et al. 2023, weight 0.5). Minus
    ``residual_force_penalty * ||a_rf||^2`` when residual force control is on. ``info["reward_terms"]``
    holds every term, ``info["mpjpe"]`` the mean per-joint position error of the 12 body landmarks (m).

    ## Episode
    ``reset(options={"reference": ref})`` switches to another reference (a path or ``Reference``), e.g.
    one drawn from a teacher dataset; ``options={"start_frame": i}`` starts at reference frame ``i``.
    Reference state initialisation (start at a random reference frame with its velocity) and early
    termination on a fall (any body part but feet, shins and hands touching the ground) or when the
    pelvis drifts ``max_root_error`` m from the reference; both switchable. Truncated at the end of the
    reference or after ``max_episode_seconds``, or when the simulation diverges or an action holds NaN/Inf
    (``info["diverged"]`` names the reason); an action of another shape raises ValueError.

    ## Arguments
    ``gym.make("MotionLab/Track-v0", **kwargs)`` (Hydra: ``task.env_kwargs`` in ``configs/task/track.yaml``):

    ==========================  =========  ========================================================
    argument                    default    meaning
    ==========================  =========  ========================================================
    ``reference``               bundled    reference ``.npz`` path or :class:`~motionlab.reference.Reference`
                                run clip   with a ``qpos`` trajectory
    ``action_scale``            0.2        rad of PD-target offset per unit action
    ``reference_state_init``    ``True``   start episodes at random reference frames
    ``max_root_error``          1.0        m of pelvis drift from the reference that ends an episode
    ``residual_force``          ``False``  6 extra actions: residual force and torque on the pelvis
    ``residual_force_scale``    0.3        x body weight (N), x weight x height (Nm) per unit action
    ``residual_force_penalty``  0.02       reward cost per unit squared residual action
    ``reward_weights``          ``None``   weights of the reward terms replacing the defaults above
                                           (any subset of ``pose``, ``velocity``, ``end_effector``,
                                           ``root``, ``com``, ``keypoints``; e.g. ``{"pose": 0.6}``)
    ``max_episode_seconds``     10.0       truncate episodes after this long
    ``body``                    1.75 m, 70 kg  :class:`~motionlab.body.BodyParams` or dict (height, mass, segments)
    ``randomize_body``          ``False``  draw a new body around ``body`` at every reset
    ``body_spread``             0.1        relative spread of the random bodies
    ``frame_skip``              6          5 ms MuJoCo steps per control step (33.3 Hz control)
    ``early_termination``       ``True``   end the episode on a fall or pelvis drift
    ``render_mode``             ``None``   ``"rgb_array"`` for :meth:`render`
    ``width``, ``height``       640, 480   rendered image size (px)
    ``camera``                  ``"side"`` ``"side"`` or ``"front"``
    ``record_physics``          ``True``   record actuator work and foot forces over every physics step
                                           (``info["physics"]``); off: ~20 % less CPU per step
    ==========================  =========  ========================================================

    ## Residual force limit
    ``set_residual_force_scale(scale)`` changes ``residual_force_scale`` between episodes or steps (a
    training curriculum lowers it toward 0, :mod:`motionlab.training.curriculum`); 0 keeps the 34 actions
    but applies no force: fully physical tracking by a policy trained with residual force.

    ## Version History
    * v0: DeepMimic's reward as its released code computes it (joint-weighted mean pose and velocity
      errors, end-effector scale 10, root term with orientation and angular velocities), servos that
      lead by the reference's joint velocity, damping-capped servos, optional residual force control.
      The reward weights became an argument (``reward_weights``) with unchanged defaults. A NaN/Inf
      action ends the episode as diverged (MuJoCo used to zero the controls silently).
      Every step's info adds ``info["physics"]`` (observation and reward unchanged): actuator work per
      joint and each foot's peak vertical force, impulse and loading rate over the control step's
      physics steps (:class:`~motionlab.step_physics.StepPhysics`).
      An optional keypoints term (PHC's body positions, weight 0 by default: the default reward is
      unchanged) in ``info["reward_terms"]["keypoints"]``.
      The reward is computed by ``reward_terms_of``, which scores any number of states at once (for the
      refinement's planner; the same values to ~1e-15).
    """

    def __init__(
        self,
        reference: str | os.PathLike | Reference | None = None,
        action_scale: float = 0.2,
        reference_state_init: bool = True,
        max_root_error: float = 1.0,
        residual_force: bool = False,
        residual_force_scale: float = 0.3,
        residual_force_penalty: float = 0.02,
        reward_weights: dict[str, float] | None = None,
        **kwargs: Any,
    ):
        self.reward_weights = merge_reward_weights(REWARD_WEIGHTS, reward_weights)
        self.reference = self._checked(reference)
        self.action_scale = action_scale
        self.reference_state_init = reference_state_init
        self.max_root_error = max_root_error
        self.residual_force = residual_force
        self.residual_force_scale = residual_force_scale
        self.residual_force_penalty = residual_force_penalty
        super().__init__(**kwargs)
        n_act = NUM_JOINTS + (RESIDUAL_FORCE_DIM if residual_force else 0)
        self.action_space = spaces.Box(-1.0, 1.0, (n_act,), dtype=np.float32)
        obs_dim = PROPRIO_DIM + len(REF_OFFSETS) * REF_FRAME_DIM + 1 + BODY_DIM
        self.observation_space = spaces.Box(-np.inf, np.inf, (obs_dim,), dtype=np.float64)
        self._ref_body = None

    def set_residual_force_scale(self, scale: float) -> None:
        """Set the residual force limit (x body weight, and x weight x height for the torque, per unit action)."""
        if not math.isfinite(scale) or scale < 0.0:
            raise ValueError(f"residual_force_scale={scale}; it must be a finite number >= 0")
        self.residual_force_scale = float(scale)

    # ------------------------------------------------------------------ reference on the current body
    @staticmethod
    def _checked(reference: str | os.PathLike | Reference | None) -> Reference:
        ref = reference if isinstance(reference, Reference) else load_reference(reference or DEFAULT_REFERENCE)
        if ref.qpos is None:
            raise ReferenceFormatError(
                "Track-v0 needs a reference with a humanoid qpos trajectory; lift the keypoints first "
                "(`motionlab lift`)"
            )
        return ref

    def _prepare_reference(self) -> None:
        """Sample the reference at the control rate, retarget it to the current body, and precompute
        what rewards compare against (one forward-kinematics pass)."""
        if self._ref_body == self.body:
            return
        ref = self.reference
        if ref.duration < self.dt:
            raise ReferenceFormatError(
                f"the reference lasts {ref.duration:.4f} s ({ref.num_frames} frames at {ref.fps:g} fps); Track-v0 "
                f"needs at least one control step ({self.dt:.3f} s)"
            )
        times = np.arange(0.0, ref.duration + 1e-9, self.dt)
        qpos = resample_qpos(ref.qpos, ref.fps, times)
        if ref.body is not None and ref.body.resolved() != self.body:
            qpos, kin = retarget_kinematics(qpos, ref.body, self.body, self.hm)
        else:
            kin = Kinematics(self.hm).run(qpos)
        self.ref_qpos = qpos
        self.ref_qvel = qpos_velocities(self.model, qpos, self.dt)
        self.ref_root_mat = quat_wxyz_to_rotation(qpos[:, 3:7]).as_matrix()  # (T, 3, 3)
        self.ref_ee = kin.site_xpos[:, self._ee_ids] - qpos[:, None, :3]
        self._kp_ids = self.hm.keypoint_site_ids[_BODY_KP]
        ref_kp = kin.site_xpos[:, self._kp_ids]
        self.ref_kp_centred = ref_kp - ref_kp.mean(axis=1, keepdims=True)
        self.ref_com_vel = np.gradient(kin.com, self.dt, axis=0)
        self._ref_body = self.body

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if options and "reference" in options:
            self.reference = self._checked(options["reference"])
            self._ref_body = None
        self._maybe_new_body()
        self._prepare_reference()
        n = len(self.ref_qpos)
        last_start = max(n - 1 - max(REF_OFFSETS) - 10, 0)
        self.t0 = int(self.np_random.integers(0, last_start + 1)) if self.reference_state_init else 0
        if options and "start_frame" in options:
            self.t0 = int(np.clip(options["start_frame"], 0, last_start))
        self.t = self.t0
        qpos = self.ref_qpos[self.t].copy()
        self._set_state(qpos, self.ref_qvel[self.t])
        # lift so no foot starts below the floor
        lowest = min(self._lowest_foot_point(), 0.0)
        if lowest < 0:
            qpos[2] -= lowest
            self._set_state(qpos, self.ref_qvel[self.t])
        self.steps = 0
        return self._obs(), self._info({})

    def _lowest_foot_point(self) -> float:
        return float(self.data.site_xpos[self.hm.keypoint_site_ids[[29, 30, 31, 32]], 2].min())

    def step(self, action: np.ndarray):
        action, bad_action = self._action(action)
        if bad_action:
            self.steps += 1
            return self._diverged_step(self._info({"diverged": bad_action}))
        self.t = min(self.t + 1, len(self.ref_qpos) - 1)
        t = self.t
        servo = self._servo_target(self.ref_qpos[t, 7:], self.ref_qvel[t, 6:])
        target = servo + self.action_scale * action[:NUM_JOINTS]
        rf_cost = rf_bw = 0.0
        if self.residual_force:
            rf = np.clip(action[NUM_JOINTS:], -1.0, 1.0)
            weight = self._total_mass * 9.81
            self.data.xfrc_applied[1, :3] = rf[:3] * self.residual_force_scale * weight
            self.data.xfrc_applied[1, 3:] = rf[3:] * self.residual_force_scale * weight * self.body.height
            rf_cost = self.residual_force_penalty * float(rf @ rf)
            rf_bw = self.residual_force_scale * math.sqrt(float(rf[:3] @ rf[:3]))
        diverged = self._simulate(target)
        self.steps += 1
        if diverged:
            return self._diverged_step(self._info({"diverged": diverged}))
        terms, mpjpe, root_err = self._reward_terms()
        reward = sum(self.reward_weights[k] * v for k, v in terms.items()) - rf_cost
        fell = self._fallen()
        drifted = root_err > self.max_root_error
        terminated = self.early_termination and (fell or drifted)
        truncated = self.t >= len(self.ref_qpos) - 1 or self.steps >= self.max_episode_steps
        terms["residual_force_cost"] = rf_cost
        info = self._info(
            {"reward_terms": terms, "mpjpe": mpjpe, "residual_force_bw": rf_bw, "fall": fell, "drift": drifted}
        )
        return self._obs(), float(reward), bool(terminated), bool(truncated), info

    # ------------------------------------------------------------------ observation and reward
    def _obs(self) -> np.ndarray:
        heading = self._heading()
        d = self.data
        last = len(self.ref_qpos) - 1
        idx = np.minimum(self.t + _REF_OFFSETS, last)
        ref = self.ref_qpos[idx]  # (3, nq)
        rel_pos = (ref[:, :3] - d.qpos[:3]) @ heading.T
        rel_rot = d.xmat[1].reshape(3, 3).T @ self.ref_root_mat[idx]  # (3, 3, 3): reference in the pelvis frame
        future = np.concatenate([ref[:, 7:] - d.qpos[7:], rel_pos, rel_rot[:, :, :2].reshape(len(idx), 6)], axis=1)
        return np.concatenate([self._proprioception(heading), future.ravel(), [self.t / max(last, 1)], self._body_vec])

    def _reward_terms(self) -> tuple[dict[str, float], float, float]:
        d = self.data
        mujoco.mj_subtreeVel(self.model, d)
        terms, mpjpe, root_dist = self.reward_terms_of(d.qpos, d.qvel, d.site_xpos, d.subtree_linvel[1], self.t)
        return {k: float(v) for k, v in terms.items()}, float(mpjpe), float(root_dist)

    def reward_terms_of(
        self, qpos: np.ndarray, qvel: np.ndarray, site_xpos: np.ndarray, com_vel: np.ndarray, t: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """The reward terms (see the class docstring), the landmarks' MPJPE (m) and the pelvis' distance
        from the reference (m) of states stacked along any leading axes: ``qpos`` (..., nq), ``qvel``
        (..., nv), ``site_xpos`` (..., nsite, 3) and the centre of mass velocity ``com_vel`` (..., 3) as
        ``MjData`` holds them after a step, at reference frames ``t`` (an int or an int array of the
        leading shape). The env's own reward uses it for one state; a planner scores many at once."""
        ref_q, ref_v = self.ref_qpos[t], self.ref_qvel[t]
        joint_err = qpos[..., 7:] - ref_q[..., 7:]
        root_angle_sq = _quat_angle_sq(qpos[..., 3:7], ref_q[..., 3:7])
        pose_err = np.vecdot(joint_err * joint_err, HINGE_WEIGHTS) + ROOT_WEIGHT * root_angle_sq
        vel_err = qvel[..., 6:] - ref_v[..., 6:]
        root_ang_vel_sq = _sq(qvel[..., 3:6] - ref_v[..., 3:6])  # both in their pelvis frames (MuJoCo's convention)
        joint_vel_err = np.vecdot(vel_err * vel_err, HINGE_WEIGHTS) + ROOT_WEIGHT * root_ang_vel_sq
        ee_err = (site_xpos[..., self._ee_ids, :] - qpos[..., None, :3]) - self.ref_ee[t]
        root_pos_sq = _sq(qpos[..., :3] - ref_q[..., :3])
        com_vel_err = com_vel - self.ref_com_vel[t]
        kp = site_xpos[..., self._kp_ids, :]
        kp_err = (kp - _KP_MEAN @ kp) - self.ref_kp_centred[t]
        kp_sq = _sq(kp_err)
        mpjpe = np.sqrt(kp_sq).sum(axis=-1) / kp.shape[-2]
        root_err = root_pos_sq + 0.1 * root_angle_sq + 0.01 * _sq(qvel[..., :3] - ref_v[..., :3]) + 0.001 * root_ang_vel_sq
        terms = {
            "pose": np.exp(-2.0 * pose_err),
            "velocity": np.exp(-0.1 * joint_vel_err),
            "end_effector": np.exp(-10.0 * _sq(ee_err.reshape(*ee_err.shape[:-2], -1))),
            "root": np.exp(-5.0 * root_err),
            "com": np.exp(-1.0 * _sq(com_vel_err)),
            "keypoints": np.exp(-KEYPOINT_SCALE * _sq(kp_err.reshape(*kp_err.shape[:-2], -1)) / kp.shape[-2]),
        }
        return terms, mpjpe, np.sqrt(root_pos_sq)

    def _info(self, extra: dict[str, Any]) -> dict[str, Any]:
        info = self._base_info()
        info.update(frame=self.t, reference_frames=len(self.ref_qpos), **extra)
        return info
