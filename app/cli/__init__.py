"""The command line: argparse over the services, one module per command group.

Every command takes the global `--db PATH|URL`. `--json` output is one JSON document on
stdout; human messages go to stderr; a failure exits non-zero with the reason.
"""

from __future__ import annotations

import argparse
import sys

from app import __version__
from app.cli import (
    calendar_commands,
    connection_commands,
    demo_commands,
    export_commands,
    import_commands,
    map_commands,
    push_commands,
    review_commands,
    sync_commands,
    workspace_commands,
)
from app.cli.common import CommandError

GROUPS = [workspace_commands, connection_commands, sync_commands, review_commands,
          push_commands,
          calendar_commands, map_commands, import_commands, export_commands, demo_commands]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trueup",
        description="TrueUp reconciles cloud subscriptions with what your PSA bills. "
        "Run without a command to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"TrueUp {__version__}")
    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        help="workspace database: a file path or an SQLAlchemy URL "
        "(default: workspace.sqlite in the user data folder)",
    )
    parser.add_argument(
        "--demo", action="store_true",
        help="open the demo workspace in the desktop app (built on first use)"
    )
    parser.add_argument(
        "--self-test", action="store_true",
        help="check this installation end to end on a temporary workspace, then exit"
    )
    parser.add_argument(
        "--allow-no-keyring", action="store_true",
        help="with --self-test: report a missing OS keyring without failing"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for group in GROUPS:
        group.register(sub)
    return parser


def run_command(args: argparse.Namespace) -> int:
    try:
        return int(args.handler(args) or 0)
    except CommandError as exc:
        print(f"trueup: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("trueup: cancelled", file=sys.stderr)
        return 130
