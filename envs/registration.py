"""Register MotionLab's envs with Gymnasium (also run through the ``gymnasium.envs`` entry point)."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = ("MotionLab/Track-v0", "MotionLab/Ideal-v0", "MotionLab/Ideal-v1", "MotionLab/Ideal-v2", "MotionLab/Ideal-v3", "MotionLab/Ideal-v4")


def register_envs() -> None:
    """Register the envs of :data:`ENV_IDS` (idempotent)."""
    if "MotionLab/Track-v0" not in gym.registry:
        gym.register(id="MotionLab/Track-v0", entry_point="motionlab.envs.track:TrackEnv", disable_env_checker=False)
    if "MotionLab/Ideal-v0" not in gym.registry:
        gym.register(id="MotionLab/Ideal-v0", entry_point="motionlab.envs.ideal:IdealEnv")
    if "MotionLab/Ideal-v1" not in gym.registry:
        gym.register(id="MotionLab/Ideal-v1", entry_point="motionlab.envs.ideal:IdealV1Env")
    if "MotionLab/Ideal-v2" not in gym.registry:
        gym.register(id="MotionLab/Ideal-v2", entry_point="motionlab.envs.ideal:IdealV2Env")
    if "MotionLab/Ideal-v3" not in gym.registry:
        gym.register(id="MotionLab/Ideal-v3", entry_point="motionlab.envs.ideal:IdealV3Env")
    if "MotionLab/Ideal-v4" not in gym.registry:
        gym.register(id="MotionLab/Ideal-v4", entry_point="motionlab.envs.ideal:IdealV4Env")
