"""MotionLab's error hierarchy: every error a user can cause derives from :class:`MotionLabError`.

The entry points (``motionlab``, ``motionlab-infer``, ``motionlab-train`` and the scripts) catch
:class:`MotionLabError` and print its message (one line naming the problem and what to do) with exit
code 2, never a traceback. Anything else that escapes is a bug and keeps its traceback.

The classes for bad input also derive from :class:`ValueError` (and :class:`GLUnavailableError` from
:class:`RuntimeError`), so code that catches the built-in type keeps working. This module imports
nothing from MotionLab: every layer may raise these.
"""

from __future__ import annotations


class MotionLabError(Exception):
    """Base of every error caused by the user's input or environment; printed without a traceback."""


class UserError(MotionLabError, ValueError):
    """A command-line argument or config value that cannot be used; the message names it."""


class BodyParamsError(MotionLabError, ValueError):
    """Body parameters outside the physically sensible range."""


class ReferenceFormatError(MotionLabError, ValueError):
    """A reference file or object that does not follow the schema; the message lists every problem."""


class MocapFormatError(MotionLabError, ValueError):
    """A motion file that is not a readable DeepMimic or AMC/ASF clip."""


class LiftError(MotionLabError, ValueError):
    """A reference that cannot be lifted (too few detections, a camera that does not fit it, ...)."""


class FootageError(LiftError):
    """Footage whose time base or camera cannot be settled without the user; the message says which flag."""


class VideoReadError(MotionLabError, ValueError):
    """A video file that is missing, empty, not a video, truncated, too large, or has no decodable frames."""


class NoPoseError(MotionLabError, ValueError):
    """MediaPipe found no person in any frame."""


class PoseModelError(MotionLabError, ValueError):
    """The requested MediaPipe model is not available."""


class CheckpointError(MotionLabError, ValueError):
    """A checkpoint or export that is missing, corrupt, unsafe, or does not fit the env it is used with."""


class OutputPathError(MotionLabError, ValueError):
    """An output path that cannot be written (a directory, an input, a read-only place, in use)."""


class InferenceError(MotionLabError, ValueError):
    """Input the main job cannot turn into a result; the message says what and why."""


class GLUnavailableError(MotionLabError, RuntimeError):
    """No offscreen OpenGL backend is usable; the message says what to install."""
