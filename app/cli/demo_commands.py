"""`trueup [--db PATH] demo [--force] [--json]`: build the demo workspace to try TrueUp on.

Offline and keyring-free: its Pax8 and ConnectWise are sandboxes kept beside the workspace.
An existing workspace that is not a demo is never overwritten; a demo is rebuilt only with
--force.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import date

from app.cli.common import CommandError, print_json, say


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build the demo workspace (about 60 customers, offline)",
                       description="Build a demo workspace: Pax8 and ConnectWise sandboxes and "
                       "Partner Center files with a scenario for every finding kind; last "
                       "month is the period to close. Default location: demo.sqlite in the "
                       "user data folder (what `python main.py --demo` opens).")
    p.add_argument("--force", action="store_true",
                   help="rebuild an existing demo workspace (never touches other workspaces)")
    p.add_argument("--today", type=_day, metavar="YYYY-MM-DD",
                   help="build as of this day (default: today)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=_demo)


def _progress(done: int, total: int | None, message: str) -> None:
    sys.stderr.write(f"\r\033[K  {done}/{total} {message}"[:160])
    sys.stderr.flush()


def _demo(args: argparse.Namespace) -> int:
    # Imported here: the demo's builders load sandbox servers, which no other command needs.
    from app.services.demo import DemoError, build_demo, describe

    progress = None if args.json or not sys.stderr.isatty() else _progress
    try:
        report = build_demo(args.db, args.today, force=args.force, progress=progress)
    except DemoError as exc:
        raise CommandError(str(exc)) from exc
    if progress:
        sys.stderr.write("\r\033[K")
    if args.json:
        print_json(describe(report))
        return 0
    print(f"Demo workspace: {report.path}")
    print(f"{report.customers} customers, {report.subscriptions} subscriptions, "
          f"{report.psa_lines} ConnectWise lines; built in {report.seconds} s")
    print(f"Period to close: {report.period}. Next (the demo is its own workspace):")
    db = f" --db {shlex.quote(report.path)}"
    for step in (f"trueup{db} reconcile --period {report.period}",
                 f"trueup{db} findings --period {report.period}",
                 f"trueup{db} approve --all --period {report.period}",
                 f"trueup{db} push", "python main.py --demo" + (db if args.db else "")):
        print(f"  {step}")
    say("Scenarios: " + "; ".join(f"{s.customer} ({s.shows or 'mapping'})"
                                  for s in report.scenarios))
    return 0
