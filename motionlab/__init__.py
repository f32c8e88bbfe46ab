"""MotionLab: a video of a person running -> the closest physically plausible motion and the ideal one.

Importing ``motionlab`` registers the Gymnasium envs ``MotionLab/Track-v0`` and ``MotionLab/Ideal-v0``.
"""

from motionlab.body import BodyParams
from motionlab.envs import register_envs

__version__ = "0.1.0"
__all__ = ["BodyParams", "register_envs", "__version__"]
