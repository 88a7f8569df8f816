"""`trueup calendar` and `trueup alerts`: what is due when, and what needs attention now."""

from __future__ import annotations

import argparse
from datetime import date

from app.cli.common import CommandError, print_json, workspace_from
from app.services.alerts import refresh_alerts
from app.services.calendar import calendar_events


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def register(sub: argparse._SubParsersAction) -> None:
    cal = sub.add_parser("calendar", help="billing events between two dates")
    cal.add_argument("--from", dest="start", type=_day, required=True, metavar="YYYY-MM-DD")
    cal.add_argument("--to", dest="end", type=_day, required=True, metavar="YYYY-MM-DD")
    cal.add_argument("--customer", help="only events of customers whose name contains this")
    cal.add_argument("--kind", action="append", help="only this event kind (repeatable)")
    cal.add_argument("--json", action="store_true")
    cal.set_defaults(handler=_calendar)
    alerts = sub.add_parser("alerts", help="refresh and list the open alerts")
    alerts.add_argument("--json", action="store_true")
    alerts.set_defaults(handler=_alerts)


def _calendar(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        try:
            events = calendar_events(ws, args.start, args.end, customer=args.customer,
                                     kinds=set(args.kind) if args.kind else None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json([{"date": e.day, "kind": e.kind.value, "label": e.label, "title": e.title,
                     "customer": e.customer, "ref": e.ref} for e in events])
        return 0
    for e in events:
        print(f"{e.day}  {e.label:<32} {e.title}" + (f" — {e.customer}" if e.customer else ""))
    return 0


def _alerts(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        alerts = refresh_alerts(ws)
    if args.json:
        print_json([a.__dict__ for a in alerts])
        return 0
    if not alerts:
        print("No open alerts.")
    for a in alerts:
        print(f"[{a.severity}] {a.message}")
    return 0
