"""`trueup sync [--connection NAME]`: read connections into the workspace, with progress."""

from __future__ import annotations

import argparse
import sys

from app.cli.common import CommandError, print_json, workspace_from
from app.services.connections import ConnectionSetupError
from app.services.sync import sync_all, sync_connection


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sync", help="sync one connection, or all of them")
    p.add_argument("--connection", metavar="NAME", help="only this connection")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_sync)


def _progress(done: int, total: int | None, message: str) -> None:
    counter = f"{done}/{total}" if total else (str(done) if done else "")
    sys.stderr.write(f"\r\033[K  {counter} {message}"[:160])
    sys.stderr.flush()


def _sync(args: argparse.Namespace) -> int:
    progress = None if args.json or not sys.stderr.isatty() else _progress
    with workspace_from(args) as ws:
        try:
            if args.connection:
                results = [sync_connection(ws, args.connection, progress=progress)]
            else:
                results = sync_all(ws, progress=progress)
        except ConnectionSetupError as exc:
            raise CommandError(str(exc)) from exc
    if progress:
        sys.stderr.write("\r\033[K")
    if args.json:
        print_json([r.__dict__ for r in results])
    else:
        if not results:
            print("No connections to sync. Add one with `trueup connect ...`.", file=sys.stderr)
        for r in results:
            detail = ", ".join(f"{k} {v}" for k, v in r.counts.items() if isinstance(v, int))
            print(f"{r.connection}: {r.status}" + (f" ({detail})" if detail else "")
                  + (f" — {r.error}" if r.error else ""))
    return 0 if all(r.status == "complete" for r in results) else 1
