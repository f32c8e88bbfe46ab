"""MotionLab's commands, all declared one way: a :class:`Command` in a module of this package.

A command module holds ``COMMANDS``, a tuple of :class:`Command` (name, help, the function that adds
its arguments to an ``argparse`` parser, the function that runs it). ``motionlab`` (:mod:`motionlab.cli`)
makes every command in :data:`COMMAND_MODULES` a subcommand; a command that also has its own console
script (``motionlab-infer``) runs through :func:`standalone`. ``motionlab-train`` is a Hydra app
(:mod:`motionlab.commands.train`): Hydra parses its command line, and it reports errors the same way.

Every entry point catches :data:`USER_ERRORS` (:class:`~motionlab.errors.MotionLabError` and the
operating system's file errors) and prints one line, ``<prog>: error: <message>``, with exit code 2.
This package is the top layer: nothing below it imports it.

A new command::

    # motionlab/commands/hello.py (and "motionlab.commands.hello" in COMMAND_MODULES)
    def _add_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("--name", required=True)

    def _run(args: argparse.Namespace) -> int:
        if not args.name.strip():
            raise UserError("--name is empty; give the name to greet")  # exit 2, one line
        print(f"hello {args.name}")
        return 0

    COMMANDS = (Command("hello", "greet someone", _add_arguments, _run),)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from motionlab.errors import MotionLabError
from motionlab.io_utils import terminate_like_interrupt

COMMAND_MODULES = (
    "motionlab.commands.extract",  # extract, extract-dir, preview
    "motionlab.commands.dataset",  # import-mocap, build-dataset
    "motionlab.commands.lift",  # lift
    "motionlab.commands.verify",  # verify
    "motionlab.commands.infer",  # infer (also the motionlab-infer console script)
)
USER_ERRORS: tuple[type[BaseException], ...] = (MotionLabError, OSError)
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Command:
    """One command: ``add_arguments(parser)`` declares its arguments, ``run(args)`` does the work and
    returns an exit code (None means 0)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]


def all_commands() -> list[Command]:
    """Every command of :data:`COMMAND_MODULES`, in order."""
    return [c for name in COMMAND_MODULES for c in importlib.import_module(name).COMMANDS]


def report_error(prog: str, exc: BaseException) -> int:
    """Print ``<prog>: error: <message>`` to stderr; returns the exit code for bad input (2)."""
    print(f"{prog}: error: {exc}", file=sys.stderr)
    return EXIT_USER_ERROR


def guarded(prog: str, func: Callable[[], Any]) -> int:
    """Run ``func()``; an error in :data:`USER_ERRORS` is reported in one line (exit code 2). Ctrl-C
    and SIGTERM unwind the same way (temporary files are removed) and exit with 130."""
    terminate_like_interrupt()
    try:
        result = func()
    except USER_ERRORS as exc:
        return report_error(prog, exc)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; no partial output was left", file=sys.stderr)
        return EXIT_INTERRUPTED
    return int(result or 0) if isinstance(result, (int, type(None))) else 0


def standalone(command: Command, argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run ``command`` as its own console script (``prog``, default ``motionlab-<name>``)."""
    prog = prog or f"motionlab-{command.name}"
    parser = argparse.ArgumentParser(prog=prog, description=command.help)
    command.add_arguments(parser)
    args = parser.parse_args(argv)
    return guarded(prog, lambda: command.run(args))
