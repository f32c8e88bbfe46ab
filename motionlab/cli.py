"""MotionLab: one subcommand per pipeline step, video -> keypoints -> lift -> preview, and the main job (infer).

Every subcommand is a :class:`motionlab.commands.Command`.
"""

from __future__ import annotations

import argparse
import sys

from motionlab.commands import all_commands, guarded


def build_parser() -> argparse.ArgumentParser:
    """The ``motionlab`` parser; each subcommand's parsed args carry its command in ``args.command``."""
    parser = argparse.ArgumentParser(prog="motionlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="name", required=True)
    for command in all_commands():
        command.add_arguments(sub.add_parser(command.name, help=command.help, description=command.help))
        sub.choices[command.name].set_defaults(command=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(f"motionlab {args.name}", lambda: args.command.run(args))


if __name__ == "__main__":
    sys.exit(main())
