"""The one entry point: no command opens the desktop app, a command runs the CLI."""

from __future__ import annotations

import sys

from app.cli import build_parser, run_command


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) is None:
        from app.ui.app import run_gui  # Qt is imported only when the GUI is wanted

        return run_gui(db=args.db, demo=args.demo)
    return run_command(args)
