"""Shared fixtures. Offscreen rendering uses EGL unless MUJOCO_GL is already set."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")  # before MuJoCo is imported

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from motionlab.body import BodyParams
from motionlab.camera import Camera
from motionlab.humanoid import FOOT_GEOMS, build_model, standing_qpos
from motionlab.mocap import project_qpos
from motionlab.reference import Reference

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


def standing_reference(body: BodyParams, lift_m: float = 0.0, seconds: float = 2.0) -> Reference:
    """A reference that stands still, upright with straight legs, its soles ``lift_m`` above the floor."""
    hm = build_model(body)
    data = mujoco.MjData(hm.model)
    data.qpos[:] = standing_qpos(hm)
    mujoco.mj_forward(hm.model, data)
    ids = [hm.model.geom(g).id for g in FOOT_GEOMS]
    sole = min(data.geom_xpos[i, 2] - hm.model.geom_size[i, 2] for i in ids)  # box feet, unrotated
    qpos = data.qpos.copy()
    qpos[2] += lift_m - sole
    return project_qpos(np.repeat(qpos[None], int(seconds * 30) + 1, axis=0), body, 30.0, Camera.side_on())


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real media and mocap): skipped when absent, a failure under ``CI=true``."""
    return require_shared_data()
