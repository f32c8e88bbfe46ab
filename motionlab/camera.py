"""A pinhole camera in the simulation's world frame (z up), optionally moving at constant velocity.

A camera that moves (a dolly that follows the runner, or a treadmill filmed from a fixed spot, which is
the same thing seen from the belt) keeps the runner in frame while root translation stays recoverable:
``world = camera-relative + velocity * t``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def look_at(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """World-to-camera rotation(s) (..., 3, 3) of a camera at ``position`` looking at ``target`` with no
    roll; rows = camera x (right), y (down), z (forward)."""
    fwd = np.subtract(target, position).astype(float)
    fwd /= np.linalg.norm(fwd, axis=-1, keepdims=True)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    down = np.cross(fwd, right)
    return np.stack([right, down, fwd], axis=-2)


def focal_from_fov(width: int, fov_deg: float) -> float:
    """Focal length (px) of a pinhole ``width`` px wide with a horizontal field of view ``fov_deg``."""
    return width / (2.0 * np.tan(np.deg2rad(fov_deg) / 2.0))


FULL_FRAME_DIAGONAL_MM = float(np.hypot(36.0, 24.0))  # a 35 mm film frame's diagonal


def focal_from_35mm(focal_35mm: float, width: int, height: int) -> float:
    """Focal length (px) of a ``width`` x ``height`` picture from the lens' 35 mm-equivalent focal
    length (mm): the equivalence maps the picture's diagonal onto a 35 mm frame's."""
    return focal_35mm * float(np.hypot(width, height)) / FULL_FRAME_DIAGONAL_MM


def fov_from_focal(width: int, focal_px: float) -> float:
    """Horizontal field of view (deg) of a pinhole ``width`` px wide with focal length ``focal_px``."""
    return float(np.rad2deg(2.0 * np.arctan(width / (2.0 * focal_px))))


@dataclass(frozen=True)
class Camera:
    """Pinhole camera looking from ``position`` towards ``target`` (at t = 0), z-up world."""

    width: int = 640
    height: int = 480
    focal_px: float = 700.0
    position: tuple[float, float, float] = (0.0, -6.0, 1.0)
    target: tuple[float, float, float] = (0.0, 0.0, 0.9)
    velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @classmethod
    def side_on(
        cls, distance: float = 6.0, height: float = 1.0, speed: float = 0.0, azimuth_deg: float = 0.0, **kw
    ) -> Camera:
        """A camera on the runner's right, ``distance`` m from the running line, rotated ``azimuth_deg``
        towards the front (0 = perpendicular), following at ``speed`` m/s along +x."""
        a = np.deg2rad(azimuth_deg)
        pos = (distance * np.sin(a), -distance * np.cos(a), height)
        return cls(position=tuple(map(float, pos)), target=(0.0, 0.0, height - 0.1), velocity=(speed, 0.0, 0.0), **kw)

    def rotation(self) -> np.ndarray:
        """World-to-camera rotation, rows = camera x (right), y (down), z (forward)."""
        return look_at(self.position, self.target)

    def pitch_deg(self) -> float:
        """The view's elevation above the horizontal (deg; < 0 looking down)."""
        view = np.subtract(self.target, self.position)
        return float(np.degrees(np.arctan2(view[2], np.hypot(view[0], view[1]))))

    def positions(self, times: np.ndarray) -> np.ndarray:
        """(T, 3) where the camera is at ``times`` (s): ``position + velocity * t``."""
        return np.asarray(self.position, dtype=float) + np.asarray(times, dtype=float)[:, None] * np.asarray(
            self.velocity, dtype=float
        )

    def to_camera(self, points: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        """World points (..., 3) -> camera frame; ``times`` (T,) moves the camera for (T, ..., 3) input."""
        pos = np.asarray(self.position, dtype=float)
        if times is not None:
            pos = self.positions(times).reshape((len(times),) + (1,) * (points.ndim - 2) + (3,))
        return (points - pos) @ self.rotation().T

    def project(self, points: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        """Pixel coordinates (..., 2) of world points (..., 3)."""
        pc = self.to_camera(points, times)
        z = np.maximum(pc[..., 2:3], 1e-6)
        return self.focal_px * pc[..., :2] / z + np.array([self.width / 2, self.height / 2])

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> Camera:
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})
