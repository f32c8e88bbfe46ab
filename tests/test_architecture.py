"""The code's structure: layers point one way, one error base, one way to declare a command."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import motionlab
from motionlab.commands import Command, all_commands
from motionlab.errors import MotionLabError

REPO_ROOT = Path(__file__).resolve().parents[1]
# source folder -> the package it is installed as (pyproject's package-dir)
SOURCE_ROOTS = {"motionlab": "motionlab", "envs": "motionlab.envs", "policies": "motionlab.policies"}
# Layers, lowest first: a module may import from its own layer and the layers below it, never above.
LAYERS = (
    ("motionlab.errors", "motionlab.io_utils", "motionlab.keypoints", "motionlab.assets", "motionlab.configs",
     "motionlab.camera", "motionlab.body", "motionlab.gl"),
    ("motionlab.humanoid", "motionlab.motion", "motionlab.reference", "motionlab.mocap", "motionlab.cmu",
     "motionlab.ik"),
    ("motionlab.envs", "motionlab.lift", "motionlab.video", "motionlab.dataset",
     "motionlab.policies", "motionlab.policy_io", "motionlab"),
    ("motionlab.training", "motionlab.render"),
    ("motionlab.inference",),
    ("motionlab.commands", "motionlab.cli"),
)  # fmt: skip


def _layer(module: str) -> int:
    """Index in LAYERS of the longest prefix matching ``module``."""
    best, best_len = None, -1
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best_len:
                best, best_len = i, len(p)
    assert best is not None, f"{module} is in no layer of tests/test_architecture.py"
    return best


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in SOURCE_ROOTS.items():
        for path in (REPO_ROOT / folder).rglob("*.py"):
            parts = [p for p in path.relative_to(REPO_ROOT / folder).with_suffix("").parts if p != "__init__"]
            if folder == "motionlab" and parts and parts[0] in ("envs", "policies"):
                continue
            out[".".join([package, *parts])] = path
    return out


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (path.name == "__init__.py")]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            # ``from motionlab import cmu`` imports the module motionlab.cmu, not the package
            submodules = {f"{name}.{a.name}" for a in node.names} & known
            found |= submodules or {name}
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {n for n in found if n == "motionlab" or n.startswith("motionlab.")}


def test_no_module_imports_from_a_layer_above_it():
    modules = _modules()
    upward = [
        f"{module} (layer {_layer(module)}) imports {dep} (layer {_layer(dep)})"
        for module, path in modules.items()
        for dep in _imports(module, path, set(modules))
        if _layer(dep) > _layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_inference_never_imports_the_trainer():
    """Importing every inference module and the infer command, and loading the bundled policies, leaves
    ``motionlab.training`` unimported (checked in a fresh interpreter)."""
    code = (
        "import sys\n"
        "import motionlab.inference.pipeline, motionlab.inference.compose, motionlab.inference.report\n"
        "import motionlab.commands.infer, motionlab.cli\n"
        "from motionlab.policy_io import load_policy\n"
        "from motionlab.inference.pipeline import DEFAULT_TRACK_CKPT, DEFAULT_IDEAL_CKPT\n"
        "load_policy(DEFAULT_TRACK_CKPT); load_policy(DEFAULT_IDEAL_CKPT)\n"
        "print(sorted(m for m in sys.modules if m.startswith('motionlab')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr
    loaded = eval(out.stdout.strip().splitlines()[-1])
    assert "motionlab.inference.pipeline" in loaded and "motionlab.policy_io" in loaded  # the check can see imports
    assert [m for m in loaded if m.startswith("motionlab.training")] == []


def _exception_classes() -> list[type[BaseException]]:
    classes = []
    for info in pkgutil.walk_packages(motionlab.__path__, "motionlab."):
        module = importlib.import_module(info.name)
        classes += [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, BaseException) and obj.__module__.startswith("motionlab")
        ]
    return sorted(set(classes), key=lambda c: c.__qualname__)


def test_every_motionlab_error_derives_from_the_base():
    classes = _exception_classes()
    assert len(classes) >= 10  # the walk found the hierarchy
    assert [c.__qualname__ for c in classes if not issubclass(c, MotionLabError)] == []
    assert {c.__module__ for c in classes} == {"motionlab.errors"}  # one module holds the hierarchy


def test_every_subcommand_is_a_declared_command():
    from motionlab.cli import build_parser

    commands = all_commands()
    assert all(isinstance(c, Command) for c in commands)
    names = [c.name for c in commands]
    assert len(set(names)) == len(names)
    subparsers = next(a for a in build_parser()._actions if a.dest == "name")
    assert list(subparsers.choices) == names
    assert {"extract", "lift", "verify", "infer"} <= set(names)


@pytest.mark.parametrize(
    "argv",
    [
        ["motionlab-infer", "--ckpt-track", "{tmp}/no-such-checkpoint", "--out", "{tmp}/x.mp4"],
        ["motionlab", "verify", "--npz", "{tmp}/missing.npz", "--out", "{tmp}/x.mp4"],
        ["motionlab-train", "dataset={tmp}/missing.npz", "run_dir={tmp}/run", "hydra.run.dir={tmp}/hydra"],
    ],
)
def test_entry_points_print_one_line_and_exit_2_on_bad_input(argv, tmp_path):
    """Each console script turns a MotionLabError into one ``<prog>: error: ...`` line, no traceback."""
    script = Path(sys.executable).with_name(argv[0])
    args = [str(script), *(a.format(tmp=tmp_path) for a in argv[1:])]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(" ".join(argv[:2] if argv[0] == "motionlab" else argv[:1]))
    assert str(tmp_path) in errors[0]  # the message names the bad input


def test_motionlab_infer_is_the_infer_subcommand(tmp_path, capsys):
    from motionlab.cli import main

    assert main(["infer", "--ckpt-track", str(tmp_path / "none"), "--out", str(tmp_path / "x.mp4")]) == 2
    assert capsys.readouterr().err.startswith(f"motionlab infer: error: {tmp_path / 'none'}")
