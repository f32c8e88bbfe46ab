"""The reference-motion format: one versioned ``.npz`` schema for every reference MotionLab reads or writes.

Schema version 1 (arrays in the ``.npz``; T = number of frames, J = 33 MediaPipe landmarks):

=====================  ==================  ========  ==========================================================
key                    shape               dtype     meaning
=====================  ==================  ========  ==========================================================
``schema_version``     ()                  int       1
``fps``                ()                  float     frames per second, > 0
``keypoints2d``        (T, 33, 3)          float32   MediaPipe landmarks: x, y normalised to [0, 1] by image
                                                     width/height, visibility in [0, 1]. Frames without a
                                                     detection are zeros with ``keypoints2d_valid`` False.
``keypoints2d_valid``  (T,)                bool      True where a pose was detected / projected
``image_size``         (2,)                int       width, height in pixels
``world_keypoints``    (T, 33, 3)          float32   optional; metres, MediaPipe world convention: origin at
                                                     the hip midpoint, x to the image right, y down, z away
                                                     from the camera
``qpos``               (T, 35)             float64   optional; humanoid generalised coordinates (z up, x
                                                     forward; root xyz, root quat wxyz, 28 hinge angles in
                                                     ``motionlab.humanoid.JOINT_NAMES`` order)
``qpos_observed``      (T,)                bool      optional, with ``qpos``: True where qpos was fitted to a
                                                     detection; False where it was interpolated between
                                                     detections or held beyond the first/last one (the person
                                                     was not seen: never analyse those frames as seen)
``joint_names``        (28,)               str       required with ``qpos``: names of the hinge columns
``body``               ()                  str       required with ``qpos``: JSON BodyParams it was made for
``source``             ()                  str       JSON metadata: kind (video, mocap, ...), file, camera, ...
=====================  ==================  ========  ==========================================================

NaN or Inf anywhere is an error (gaps are marked by ``keypoints2d_valid``, never by NaN), and so are
values no camera or body produces (constants below): fps outside [1, 1000], more than
:data:`MAX_FRAMES` frames or :data:`MAX_SECONDS` s, normalised keypoints beyond +-10 image sizes,
visibilities outside [0, 1], world keypoints beyond 100 m, root quaternions not of unit length. Sizes
are checked from the file's array headers before any array is read. Files are written atomically: a
reader never sees a half-written reference.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motionlab.body import BodyParams, BodyParamsError
from motionlab.errors import ReferenceFormatError
from motionlab.io_utils import atomic_write
from motionlab.keypoints import NUM_LANDMARKS

SCHEMA_VERSION = 1
MIN_FRAMES = 2
FPS_RANGE = (1.0, 1000.0)
MAX_FRAMES = 500_000
MAX_SECONDS = 3600.0
MAX_IMAGE_SIDE = 32768  # px
KEYPOINT_RANGE = (-10.0, 11.0)  # normalised x, y: up to 10 image sizes outside the frame
MAX_WORLD_M = 100.0  # world keypoints (m; MediaPipe's are hip-centred)
MAX_ROOT_M = 1e5  # root position (m)
MAX_HINGE_RAD = 100.0
QUAT_NORM_TOLERANCE = 0.01
MAX_FILE_ARRAY_BYTES = 4 * 1024**3  # all arrays of a reference file together, uncompressed



@dataclass
class Reference:
    """An in-memory reference motion (see the module docstring for the schema)."""

    fps: float
    keypoints2d: np.ndarray
    image_size: tuple[int, int]
    keypoints2d_valid: np.ndarray | None = None
    world_keypoints: np.ndarray | None = None
    qpos: np.ndarray | None = None
    body: BodyParams | None = None
    source: dict[str, Any] = field(default_factory=dict)
    qpos_observed: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.keypoints2d = np.asarray(self.keypoints2d, dtype=np.float32)
        if self.keypoints2d_valid is None:
            self.keypoints2d_valid = np.ones(len(self.keypoints2d), dtype=bool)
        self.keypoints2d_valid = np.asarray(self.keypoints2d_valid, dtype=bool)
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))
        if self.world_keypoints is not None:
            self.world_keypoints = np.asarray(self.world_keypoints, dtype=np.float32)
        if self.qpos is not None:
            self.qpos = np.asarray(self.qpos, dtype=np.float64)
        if self.qpos_observed is not None:
            self.qpos_observed = np.asarray(self.qpos_observed, dtype=bool)
        self.fps = float(self.fps)
        problems = _problems(self._arrays())
        if problems:
            raise ReferenceFormatError("invalid reference:\n  - " + "\n  - ".join(problems))

    @property
    def num_frames(self) -> int:
        return len(self.keypoints2d)

    @property
    def duration(self) -> float:
        return (self.num_frames - 1) / self.fps

    def keypoints_px(self) -> np.ndarray:
        """(T, 33, 2) pixel coordinates."""
        return self.keypoints2d[..., :2] * np.asarray(self.image_size, dtype=np.float32)

    def _arrays(self) -> dict[str, np.ndarray]:
        from motionlab.humanoid import JOINT_NAMES

        arrays: dict[str, np.ndarray] = {
            "schema_version": np.asarray(SCHEMA_VERSION),
            "fps": np.asarray(self.fps),
            "keypoints2d": self.keypoints2d,
            "keypoints2d_valid": self.keypoints2d_valid,
            "image_size": np.asarray(self.image_size, dtype=np.int64),
            "source": np.asarray(json.dumps(self.source, sort_keys=True, default=_json_default)),
        }
        if self.world_keypoints is not None:
            arrays["world_keypoints"] = self.world_keypoints
        if self.qpos is not None:
            arrays["qpos"] = self.qpos
            arrays["joint_names"] = np.asarray(JOINT_NAMES)
            arrays["body"] = np.asarray((self.body or BodyParams()).to_json())
        if self.qpos_observed is not None:
            arrays["qpos_observed"] = self.qpos_observed
        return arrays


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _problems(a: dict[str, np.ndarray]) -> list[str]:
    """Every schema violation in ``a``, one readable sentence each."""
    from motionlab.humanoid import JOINT_NAMES, NQ

    out: list[str] = []
    required = ("schema_version", "fps", "keypoints2d", "image_size")
    missing = [k for k in required if k not in a]
    if missing:
        return [f"missing required key(s) {missing} (file has {sorted(a)})"]
    version = a["schema_version"]
    if version.shape != () or not np.issubdtype(version.dtype, np.integer) or int(version) != SCHEMA_VERSION:
        out.append(f"schema_version is {version.tolist()!r}, this MotionLab reads version {SCHEMA_VERSION} (an integer)")
    fps = a["fps"]
    fps_ok = fps.shape == () and np.issubdtype(fps.dtype, np.number) and FPS_RANGE[0] <= float(fps) <= FPS_RANGE[1]
    if not fps_ok:
        out.append(f"fps must be a positive number in [{FPS_RANGE[0]:g}, {FPS_RANGE[1]:g}], got {fps.tolist()!r}")
    kp = a["keypoints2d"]
    T = kp.shape[0] if kp.ndim == 3 else -1
    if kp.ndim != 3 or kp.shape[1:] != (NUM_LANDMARKS, 3):
        out.append(f"keypoints2d must have shape (T, {NUM_LANDMARKS}, 3), got {kp.shape}")
    elif not np.issubdtype(kp.dtype, np.floating):
        out.append(f"keypoints2d must be floating point, got {kp.dtype}")
    elif not np.isfinite(kp).all():
        out.append(f"keypoints2d holds {int((~np.isfinite(kp)).sum())} NaN/Inf value(s)")
    elif T < MIN_FRAMES or T > MAX_FRAMES:
        out.append(f"a reference needs at least {MIN_FRAMES} frames and at most {MAX_FRAMES}, got {T}")
    else:
        out += _out_of_range("keypoints2d x, y (normalised to the image size)", kp[..., :2], *KEYPOINT_RANGE)
        out += _out_of_range("keypoints2d visibility", kp[..., 2], 0.0, 1.0)
        if fps_ok and (T - 1) / float(fps) > MAX_SECONDS:
            out.append(f"the reference lasts {(T - 1) / float(fps):.0f} s; at most {MAX_SECONDS:g} s are supported")
    if "keypoints2d_valid" in a and T >= 0 and a["keypoints2d_valid"].shape != (T,):
        out.append(f"keypoints2d_valid must have shape ({T},), got {a['keypoints2d_valid'].shape}")
    size = a["image_size"]
    if size.shape != (2,) or not np.issubdtype(size.dtype, np.integer) or (size <= 0).any() or (size > MAX_IMAGE_SIDE).any():
        out.append(f"image_size must be two integers (width, height) in [1, {MAX_IMAGE_SIDE}] px, got {size!r}")
    if "world_keypoints" in a:
        w = a["world_keypoints"]
        if w.shape != (T, NUM_LANDMARKS, 3):
            out.append(f"world_keypoints must have shape ({T}, {NUM_LANDMARKS}, 3), got {w.shape}")
        elif not np.isfinite(w).all():
            out.append(f"world_keypoints holds {int((~np.isfinite(w)).sum())} NaN/Inf value(s)")
        else:
            out += _out_of_range("world_keypoints (m)", w, -MAX_WORLD_M, MAX_WORLD_M)
    if "qpos" in a:
        q = a["qpos"]
        if q.shape != (T, NQ):
            out.append(f"qpos must have shape ({T}, {NQ}), got {q.shape}")
        elif not np.issubdtype(q.dtype, np.floating) or not np.isfinite(q).all():
            out.append(f"qpos must be finite floats ({q.dtype}, {int((~np.isfinite(q)).sum())} non-finite)")
        else:
            out += _out_of_range("qpos root position (m)", q[:, :3], -MAX_ROOT_M, MAX_ROOT_M)
            out += _out_of_range("qpos hinge angles (rad)", q[:, 7:], -MAX_HINGE_RAD, MAX_HINGE_RAD)
            bad = np.flatnonzero(np.abs(np.linalg.norm(q[:, 3:7], axis=1) - 1.0) > QUAT_NORM_TOLERANCE)
            if bad.size:
                out.append(
                    f"qpos root quaternions (columns 3:7) must have unit length; {bad.size} frame(s) do not "
                    f"(first: frame {bad[0]}, {q[bad[0], 3:7].tolist()})"
                )
        names = tuple(str(n) for n in a.get("joint_names", np.asarray([])))
        if names != JOINT_NAMES:
            out.append(f"joint_names {names[:4]}... do not match this humanoid's {JOINT_NAMES[:4]}... layout")
        if "body" not in a:
            out.append("qpos given without the body it was retargeted to ('body' key)")
        else:
            try:
                BodyParams.from_json(str(a["body"]))
            except (BodyParamsError, ValueError) as exc:
                out.append(f"body is not valid BodyParams JSON: {exc}")
    if "qpos_observed" in a:
        observed = a["qpos_observed"]
        if "qpos" not in a:
            out.append("qpos_observed given without qpos")
        elif observed.shape != (T,) or observed.dtype != bool:
            out.append(f"qpos_observed must be ({T},) bool, got {observed.shape} {observed.dtype}")
    if "source" in a:
        try:
            json.loads(str(a["source"]))
        except ValueError as exc:
            out.append(f"source is not valid JSON: {exc}")
    return out


def _out_of_range(what: str, values: np.ndarray, lo: float, hi: float) -> list[str]:
    """A problem sentence when ``values`` leave ``[lo, hi]``, naming the extreme value."""
    if values.size == 0 or (values.min() >= lo and values.max() <= hi):
        return []
    worst = values.max() if values.max() > hi else values.min()
    return [f"{what} must lie in [{lo:g}, {hi:g}]; found {float(worst):g}"]


def _declared_sizes(path: Path) -> dict[str, tuple[tuple[int, ...], int]]:
    """Shape and byte size of every array in the ``.npz`` at ``path``, read from the array headers
    (nothing is decompressed), so a huge file is refused before it is loaded."""
    sizes = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            with archive.open(name) as fh:
                version = np.lib.format.read_magic(fh)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, dtype = read_header(fh)
            sizes[name.removesuffix(".npy")] = (shape, int(np.prod(shape, dtype=np.int64)) * dtype.itemsize)
    return sizes


def load_reference(path: str | os.PathLike) -> Reference:
    """Load and validate a reference ``.npz``; raises :class:`ReferenceFormatError` naming every problem."""
    path = Path(path)
    if not path.is_file():
        raise ReferenceFormatError(f"{path}: no such reference file")
    try:
        sizes = _declared_sizes(path)
        kp_shape = sizes.get("keypoints2d", ((0,), 0))[0]
        total = sum(nbytes for _, nbytes in sizes.values())
        if (kp_shape and kp_shape[0] > MAX_FRAMES) or total > MAX_FILE_ARRAY_BYTES:
            raise ReferenceFormatError(
                f"{path}: too large to load: {kp_shape[0] if kp_shape else '?'} frames, {total / 1e9:.1f} GB of "
                f"arrays (at most {MAX_FRAMES} frames and {MAX_FILE_ARRAY_BYTES / 1e9:.1f} GB)"
            )
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except ReferenceFormatError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, ValueError, OSError, EOFError ...
        raise ReferenceFormatError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") from exc
    problems = _problems(arrays)
    if problems:
        raise ReferenceFormatError(f"{path}: invalid reference:\n  - " + "\n  - ".join(problems))
    return Reference(
        fps=float(arrays["fps"]),
        keypoints2d=arrays["keypoints2d"],
        keypoints2d_valid=arrays.get("keypoints2d_valid"),
        image_size=tuple(arrays["image_size"].tolist()),
        world_keypoints=arrays.get("world_keypoints"),
        qpos=arrays.get("qpos"),
        body=BodyParams.from_json(str(arrays["body"])) if "body" in arrays else None,
        source=json.loads(str(arrays["source"])) if "source" in arrays else {},
        qpos_observed=arrays.get("qpos_observed"),
    )


def save_reference(ref: Reference, path: str | os.PathLike) -> Path:
    """Write ``ref`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ReferenceFormatError(f"{path}: a reference file must end in .npz")
    arrays = ref._arrays()
    with atomic_write(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return path
