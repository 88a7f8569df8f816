"""`trueup workspace info|backup`: where the workspace is and what it holds."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.common import print_json, say, workspace_from
from app.services.workspace import backup_workspace, describe_workspace


def register(sub: argparse._SubParsersAction) -> None:
    ws = sub.add_parser("workspace", help="show the workspace, or back it up")
    ws_sub = ws.add_subparsers(dest="workspace_command", metavar="ACTION", required=True)
    info = ws_sub.add_parser("info", help="where the workspace is and what it holds")
    info.add_argument("--json", action="store_true", help="print one JSON document")
    info.set_defaults(handler=_info)
    backup = ws_sub.add_parser("backup", help="copy the workspace with SQLite's backup API")
    backup.add_argument("destination", type=Path)
    backup.set_defaults(handler=_backup)


def _info(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        info = describe_workspace(ws)
    if args.json:
        print_json(info)
    else:
        print(f"Workspace: {info.location}")
        print(f"Schema:    {info.schema_revision}")
        for table, count in info.counts.items():
            print(f"  {table:<24} {count:>8}")
    return 0


def _backup(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        dest = backup_workspace(ws, args.destination)
    say(f"Backed up to {dest}")
    return 0
