"""Shared fixtures. Offscreen rendering uses EGL unless MUJOCO_GL is already set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA_ENV = "MOTIONLAB_SHARED_DATA"


def shared_data_path() -> Path:
    """Where the real media and mocap live: ``$MOTIONLAB_SHARED_DATA``, else ``../shared/data`` beside
    the repository."""
    return Path(os.environ.get(SHARED_DATA_ENV) or REPO_ROOT.parent / "shared" / "data")


def require_shared_data(*parts: str) -> Path:
    """``shared_data_path() / parts``; a missing folder skips the test locally and fails it under CI
    (``CI=true``), so a layout change cannot silently drop the real-data checks there."""
    path = shared_data_path().joinpath(*parts)
    if not path.exists():
        message = f"real data {path} not found (set {SHARED_DATA_ENV} or put ../shared/data beside the repository)"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real media and mocap): skipped when absent, a failure under ``CI=true``."""
    return require_shared_data()
