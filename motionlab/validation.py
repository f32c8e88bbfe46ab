"""Validation at the edges, one way to do each thing: command-line argument types, env actions, limits.

Command-line numbers go through :func:`finite_float` / :func:`bounded_int` so NaN, Inf and out-of-range
values are rejected by argparse with the argument's name (``argument --seconds: ...``) before any work
starts. Env actions go through :func:`checked_action` (wrong shape or type: a clear ``ValueError``, like
Gymnasium's own checks).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import numpy as np


def _bounds_text(lo: float | None, hi: float | None, lo_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}]"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    return f"<= {hi:g}" if hi is not None else "finite"


def finite_float(
    lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, unit: str = ""
) -> Callable[[str], float]:
    """An argparse ``type``: a finite float within ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``).

    argparse prefixes the message with the argument's name, e.g. ``argument --seconds: inf is not a
    finite number in (0, 3600] s``."""
    allowed = _bounds_text(lo, hi, lo_open) + (f" {unit}" if unit else "")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number ({allowed})") from None
        too_low = lo is not None and (value <= lo if lo_open else value < lo)
        if not math.isfinite(value) or too_low or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number {allowed}")
        return value

    parse.__name__ = "number"  # argparse names the type in its own messages
    return parse


def bounded_int(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[lo, hi]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer (allowed: {lo}..{hi})") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is outside the allowed range {lo}..{hi}")
        return value

    parse.__name__ = "integer"
    return parse


def check_range(name: str, value: Any, lo: float, hi: float, unit: str = "") -> float:
    """``value`` as a float if it is finite and within ``[lo, hi]``; else ValueError naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [{lo:g}, {hi:g}] {unit}, got {value!r}".rstrip()) from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise ValueError(f"{name}={value!r} is outside the allowed range [{lo:g}, {hi:g}] {unit}".rstrip())
    return number


def checked_action(action: Any, shape: tuple[int, ...], env_name: str) -> np.ndarray:
    """``action`` as a float64 array of exactly ``shape``; ValueError for anything else (None, scalars,
    extra or missing dims). NaN/Inf values are returned as they are: the env ends the episode on them."""
    if action is None:
        raise ValueError(f"{env_name}: action is None; expected an array of shape {shape}")
    try:
        array = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{env_name}: action is not numeric ({exc}); expected an array of shape {shape}") from None
    if array.shape != shape:
        raise ValueError(f"{env_name}: action of shape {array.shape}; expected {shape}")
    return array
