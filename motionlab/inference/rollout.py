"""Run a policy in a MotionLab env and record what gait analysis and rendering need, every control step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from motionlab.body import BodyParams
from motionlab.errors import UserError
from motionlab.humanoid import NUM_JOINTS, vertical_foot_forces
from motionlab.step_physics import CONTACT_THRESHOLD_BW, StepPhysics

FALL, LOST, DIVERGED = "fall", "lost the reference", "simulation diverged"  # why a run was restarted


class Policy(Protocol):
    """Anything with SB3's ``predict``; it may return the action or SB3's ``(action, state)`` pair."""

    def predict(self, observation: np.ndarray, deterministic: bool = True) -> Any: ...


class ZeroPolicy:
    """Always the zero action: in ``Track-v0`` this replays the reference through the PD servos alone."""

    def __init__(self, action_dim: int = NUM_JOINTS):
        self.action_dim = action_dim

    def predict(self, observation: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return np.zeros(self.action_dim, dtype=np.float32)


zero_policy = ZeroPolicy()


@dataclass
class Rollout:
    """One simulated run, sampled after every control step (T samples, ``dt`` apart).

    ``times`` is simulation time since reset (s); ``foot_contact`` and ``foot_grf`` are (left, right);
    ``foot_grf`` is the vertical ground reaction force per foot (N); ``mpjpe`` (m) and
    ``residual_force_bw`` (the non-physical residual root force, in body weights; zeros without residual
    force control) exist for ``Track-v0`` only. ``end_reason`` says why the run stopped; ``restart_kinds``
    says, per restart, why it happened: :data:`FALL`, :data:`LOST` (the pelvis drifted off the reference)
    or :data:`DIVERGED`. ``physics`` holds, per sample, what happened over the physics steps of the control
    step that ended there (the env's ``info["physics"]``: actuator work per joint, each foot's peak
    vertical force, impulse and loading rate); energy and force metrics read it, never the samples."""

    times: np.ndarray
    qpos: np.ndarray
    qvel: np.ndarray
    actuator_force: np.ndarray
    foot_contact: np.ndarray
    foot_grf: np.ndarray
    reward_terms: dict[str, np.ndarray]
    mpjpe: np.ndarray | None
    residual_force_bw: np.ndarray | None
    fell: bool
    fall_time: float | None
    restart_times: list[float]
    diverged: str | None
    body: BodyParams
    dt: float
    end_reason: str
    restart_kinds: list[str] = field(default_factory=list)
    physics: StepPhysics | None = None

    @property
    def num_steps(self) -> int:
        return len(self.times)

    @property
    def duration(self) -> float:
        return float(self.times[-1] - self.times[0]) if len(self.times) else 0.0


def run_policy(
    env: gym.Env, policy: Policy, seconds: float, seed: int = 0, start_frame: int = 0, restart_on_fall: bool = False
) -> Rollout:
    """Reset ``env`` (Track-v0 at reference frame ``start_frame``) and run ``policy`` deterministically
    until the episode ends or ``seconds`` of simulated time have passed.

    With ``restart_on_fall`` an episode that terminates (a fall, or drifting off the reference) is
    restarted where it stopped, as long-sequence evaluations of physics-based trackers do: Track-v0 from
    the reference state at the current frame, Ideal-v0 from an athlete state at the current position.
    The times of the restarts are in ``Rollout.restart_times``; time keeps running across them."""
    if seconds <= 0:
        raise UserError(f"seconds must be positive, got {seconds}")
    base = env.unwrapped
    obs, _ = env.reset(seed=seed, options={"start_frame": start_frame})
    model, data = base.model, base.data
    weight = base.body.mass * 9.81
    rows: dict[str, list] = {
        k: [] for k in ("times", "qpos", "qvel", "actuator_force", "foot_grf", "mpjpe", "rf", "physics")
    }
    terms: dict[str, list[float]] = {}
    fall_time, diverged, end_reason = None, None, "time limit"
    restarts: list[float] = []
    kinds: list[str] = []
    time_offset = 0.0
    n_steps = int(round(seconds / base.dt))
    for step in range(n_steps):
        action = policy.predict(obs, deterministic=True)
        action = action[0] if isinstance(action, tuple) else action
        obs, _, terminated, truncated, info = env.step(np.asarray(action))
        if info.get("diverged"):
            diverged, end_reason = info["diverged"], f"simulation diverged: {info['diverged']}"
            if restart_on_fall and rows["times"] and step + 1 < n_steps:  # start again where it was fine
                restarts.append(rows["times"][-1])
                kinds.append(DIVERGED)
                time_offset = rows["times"][-1]
                obs, _ = env.reset(options={"start_frame": info.get("frame", 0), "start_xy": rows["qpos"][-1][:2]})
                diverged, end_reason = None, "time limit"
                continue
            break
        rows["times"].append(time_offset + float(data.time))
        rows["qpos"].append(data.qpos.copy())
        rows["qvel"].append(data.qvel.copy())
        rows["actuator_force"].append(data.actuator_force.copy())
        rows["foot_grf"].append(vertical_foot_forces(model, data))
        rows["physics"].append(StepPhysics.from_info(info["physics"]))
        if "mpjpe" in info:
            rows["mpjpe"].append(info["mpjpe"])
            rows["rf"].append(info["residual_force_bw"])
        for name, value in info.get("reward_terms", {}).items():
            terms.setdefault(name, []).append(value)
        if info.get("fall") and fall_time is None:
            fall_time = rows["times"][-1]
        if terminated and restart_on_fall and step + 1 < n_steps:
            restarts.append(rows["times"][-1])
            kinds.append(FALL if info.get("fall") else LOST)
            time_offset = rows["times"][-1]
            options = {"start_frame": info.get("frame", 0), "start_xy": data.qpos[:2].copy()}
            obs, _ = env.reset(options=options)
            continue
        if terminated or truncated:
            end_reason = _end_reason(info, terminated)
            break
    if not rows["times"]:
        raise RuntimeError(f"the rollout ended before its first step: {end_reason}")
    grf = np.array(rows["foot_grf"])
    return Rollout(
        times=np.array(rows["times"]),
        qpos=np.array(rows["qpos"]),
        qvel=np.array(rows["qvel"]),
        actuator_force=np.array(rows["actuator_force"]),
        foot_contact=grf > CONTACT_THRESHOLD_BW * weight,
        foot_grf=grf,
        reward_terms={k: np.array(v) for k, v in terms.items()},
        mpjpe=np.array(rows["mpjpe"]) if rows["mpjpe"] else None,
        residual_force_bw=np.array(rows["rf"]) if rows["rf"] else None,
        fell=fall_time is not None or bool(restarts),
        fall_time=fall_time if fall_time is not None else (restarts[0] if restarts else None),
        restart_times=restarts,
        diverged=diverged,
        body=base.body,
        dt=float(base.dt),
        end_reason=end_reason,
        restart_kinds=kinds,
        physics=StepPhysics.stack(rows["physics"]),
    )


def _end_reason(info: dict[str, Any], terminated: bool) -> str:
    if terminated:
        return "fell" if info.get("fall") else "drifted from the reference"
    if "reference_frames" in info and info.get("frame", 0) >= info["reference_frames"] - 1:
        return "end of the reference"
    return "episode time limit"
