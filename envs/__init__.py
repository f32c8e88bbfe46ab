"""MotionLab's Gymnasium environments: ``MotionLab/Track-v0`` and ``MotionLab/Ideal-v0``."""

from .registration import ENV_IDS, register_envs

register_envs()

__all__ = ["ENV_IDS", "register_envs"]
