"""The ``motionlab`` command: one subcommand per pipeline step.

Each module in :data:`COMMAND_MODULES` exposes ``register(subparsers)`` that adds its subcommands and
sets ``func`` (called with the parsed args; returns an exit code or None).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from motionlab.io_utils import terminate_like_interrupt

COMMAND_MODULES = (
    "motionlab.video.commands",  # extract, extract-dir, preview
    "motionlab.dataset",  # import-mocap, build-dataset
    "motionlab.lift",  # lift
    "motionlab.render",  # verify
)


class UserError(Exception):
    """An error caused by the user's input; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motionlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    terminate_like_interrupt()
    try:
        return int(args.func(args) or 0)
    except (UserError, ValueError, FileNotFoundError) as exc:
        print(f"motionlab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"motionlab {args.command}: interrupted; no partial output was left", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
