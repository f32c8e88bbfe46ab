"""Policy evaluation with the tracking and running metrics reported during training."""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np


def evaluate(
    predict: Callable[[np.ndarray], np.ndarray], env: gym.Env, episodes: int, seed: int = 0
) -> dict[str, float]:
    """Run ``episodes`` episodes (reset seeds ``seed, seed + 1, ...``) and average their metrics.

    ``predict`` maps one raw observation to an action. Metrics (means over episodes):

    * ``episode_seconds``: simulated time until a fall or the end of the episode;
    * ``fall_rate``: fraction of episodes with a fall, an early end (fall, pelvis drift) or a diverging
      simulation;
    * ``normalized_return``: mean reward per step (rewards are at most 1, so this is at most 1);
    * ``return``: summed reward per episode (the score used to keep the best checkpoint);
    * Track-v0: ``mpjpe_m``, mean per-joint position error against the reference (from ``info["mpjpe"]``),
      ``residual_force_bw``, the mean residual root force in body weights (0 without residual force
      control), and ``imitation_return``, the normalised return of the imitation terms alone (without the
      residual force's penalty: DeepMimic's reward, comparable with its published normalised returns);
    * Ideal-v0: ``speed_mps`` (mean pelvis speed along the running direction +x) and ``distance_m``
      (pelvis travel along x); Ideal-v1 also ``cadence_spm``, the mean cadence of its gait clock.
    """
    if episodes < 1:
        raise ValueError(f"episodes={episodes}; evaluate at least one episode")
    dt = env.unwrapped.dt
    rows: list[dict[str, float]] = []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        x0 = float(env.unwrapped.data.qpos[0])
        rewards: list[float] = []
        mpjpe: list[float] = []
        residual_force: list[float] = []
        imitation: list[float] = []
        speed: list[float] = []
        cadence: list[float] = []
        failed = False
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(predict(obs))
            rewards.append(float(reward))
            if "mpjpe" in info:
                mpjpe.append(info["mpjpe"])
                residual_force.append(info["residual_force_bw"])
                imitation.append(float(reward) + info["reward_terms"]["residual_force_cost"])
            if "speed" in info:
                speed.append(info["speed"])
            if "cadence_spm" in info:
                cadence.append(info["cadence_spm"])
            failed = failed or bool(terminated or info.get("fall") or "diverged" in info)
            done = terminated or truncated
        row = {
            "episode_seconds": len(rewards) * dt,
            "fall_rate": float(failed),
            "normalized_return": float(np.mean(rewards)),
            "return": float(np.sum(rewards)),
        }
        if mpjpe:
            row["mpjpe_m"] = float(np.mean(mpjpe))
            row["residual_force_bw"] = float(np.mean(residual_force))
            row["imitation_return"] = float(np.mean(imitation))
        if speed:
            row["speed_mps"] = float(np.mean(speed))
            row["distance_m"] = float(env.unwrapped.data.qpos[0]) - x0
        if cadence:
            row["cadence_spm"] = float(np.mean(cadence))
        rows.append(row)
    keys = dict.fromkeys(k for r in rows for k in r)
    return {key: float(np.mean([r[key] for r in rows if key in r])) for key in keys}
