"""Pick an offscreen OpenGL backend for MuJoCo rendering (``MUJOCO_GL``) before the first render.

MuJoCo reads ``MUJOCO_GL`` when it is imported and, on Linux, defaults to GLFW, which needs a display.
:func:`ensure_gl` respects a value the user set; otherwise it probes EGL, then OSMesa, each in a
short-lived subprocess (a failed probe can leave PyOpenGL unusable, or crash, in the process that
tried it), sets the first that works and reloads MuJoCo's GL-context module so renderers use it.
"""

from __future__ import annotations

import functools
import importlib
import os
import subprocess
import sys

from motionlab.errors import GLUnavailableError

BACKENDS = ("egl", "osmesa")
_PROBE = "from mujoco.{0} import GLContext; c = GLContext(8, 8); c.make_current(); c.free()"
_INSTALL_HINT = (
    "no offscreen OpenGL backend works on this machine. Install one: EGL (a GPU driver, or Mesa's "
    "`apt install libegl1 libgl1-mesa-dri`) or OSMesa (`apt install libosmesa6`), with PyOpenGL "
    "(`pip install pyopengl`); or set MUJOCO_GL yourself (egl, osmesa or glfw with a display)"
)



def backend_works(backend: str) -> bool:
    """True when a MuJoCo GL context of ``backend`` can be created (probed in a subprocess)."""
    env = {**os.environ, "MUJOCO_GL": backend, "PYOPENGL_PLATFORM": backend}
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE.format(backend)], env=env, capture_output=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return False
    return probe.returncode == 0


@functools.cache
def ensure_gl() -> str:
    """Make sure MuJoCo renders offscreen and return the backend name (``MUJOCO_GL``).

    Raises :class:`GLUnavailableError` naming what to install when neither EGL nor OSMesa works."""
    backend = os.environ.get("MUJOCO_GL", "").strip().lower()
    if not backend:
        backend = next((b for b in BACKENDS if backend_works(b)), "")
        if not backend:
            raise GLUnavailableError(_INSTALL_HINT)
        os.environ["MUJOCO_GL"] = backend
    import mujoco

    gl_context = sys.modules[mujoco.Renderer.__module__].gl_context  # the module Renderer takes contexts from
    if getattr(gl_context, "_MUJOCO_GL", None) != backend:  # mujoco was imported before MUJOCO_GL was set
        importlib.reload(gl_context)
    return backend
