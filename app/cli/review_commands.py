"""`trueup reconcile|findings|approve|reject|defer|policy`: the month-end review from a shell."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from app.cli.common import CommandError, print_json, say, workspace_from
from app.services.findings import KINDS, STATUSES, list_findings
from app.services.identity import current_user
from app.services.policies import set_policy, show_policy
from app.services.reconcile import PeriodError, SnapshotConflictError, reconcile_period
from app.services.review import ReviewError, decide, open_finding_ids


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def register(sub: argparse._SubParsersAction) -> None:
    rec = sub.add_parser("reconcile", help="compute the findings of one billing period")
    rec.add_argument("--period", required=True, metavar="YYYY-MM")
    rec.add_argument("--json", action="store_true")
    rec.set_defaults(handler=_reconcile)

    fin = sub.add_parser("findings", help="list the findings of a period")
    fin.add_argument("--period", required=True, metavar="YYYY-MM")
    fin.add_argument("--status", choices=STATUSES)
    fin.add_argument("--kind", choices=KINDS)
    fin.add_argument("--json", action="store_true")
    fin.set_defaults(handler=_findings)

    for name, verb in (("approve", "approve"), ("reject", "reject"), ("defer", "defer")):
        p = sub.add_parser(name, help=f"{verb} findings (approving queues their PSA changes)")
        p.add_argument("ids", nargs="*", type=int, metavar="ID")
        p.add_argument("--note")
        if name == "approve":
            p.add_argument("--effective", type=_day, metavar="YYYY-MM-DD",
                           help="effective date of the change (default: the policy's)")
            p.add_argument("--all", action="store_true",
                           help="every open finding of --period (optionally of --kind)")
            p.add_argument("--period", metavar="YYYY-MM")
            p.add_argument("--kind", choices=KINDS)
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=_decide, decision=verb)

    pol = sub.add_parser("policy", help="show or change billing policies")
    pol_sub = pol.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    show = pol_sub.add_parser("show", help="every policy key with its value and overrides")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_policy_show)
    setp = pol_sub.add_parser("set", help="set a policy globally or for one customer")
    setp.add_argument("key")
    setp.add_argument("value")
    setp.add_argument("--customer", metavar="PSA_COMPANY_ID")
    setp.add_argument("--vendor", metavar="VENDOR")
    setp.add_argument("--product", metavar="SKU")
    setp.set_defaults(handler=_policy_set)


def _reconcile(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        try:
            report = reconcile_period(ws, args.period, user=current_user(ws))
        except (PeriodError, SnapshotConflictError) as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json(report.__dict__)
    else:
        print(f"{report.period}: {report.findings} findings ({report.new} new, "
              f"{report.changed} changed, {report.unchanged} unchanged, {report.resolved} "
              f"resolved); {report.subscriptions} subscriptions, {report.settled} already "
              f"billed, {report.rounding_residuals} below tolerance, "
              f"{report.skipped_non_billable} not billable")
    return 0


def _findings(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        rows = list_findings(ws, args.period, status=args.status, kind=args.kind,
                             with_explanation=args.json)
    if args.json:
        print_json([row.as_json() for row in rows])
        return 0
    if not rows:
        say(f"No findings for {args.period}" + (" with those filters." if args.status or
                                                args.kind else "; run `trueup reconcile`."))
    for r in rows:
        qty = f"{r.vendor_quantity if r.vendor_quantity is not None else '—'} vs " \
              f"{r.psa_quantity if r.psa_quantity is not None else '—'}"
        print(f"{r.id:>6} {r.status:<9} {r.kind:<24} {r.customer_name[:28]:<28} "
              f"{r.product_name[:30]:<30} {qty:<14} {r.currency} {r.amount:>10}")
    return 0


def _decide(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        ids = list(args.ids)
        if getattr(args, "all", False):
            if not args.period:
                raise CommandError("--all needs --period YYYY-MM")
            try:
                ids += open_finding_ids(ws, args.period, args.kind)
            except ReviewError as exc:
                raise CommandError(str(exc)) from exc
            if not ids:
                say("No open findings to approve.")
                return 0
        if not ids:
            raise CommandError(f"give finding ids to {args.decision}"
                               + (" or --all --period YYYY-MM" if args.decision == "approve"
                                  else ""))
        try:
            decisions = decide(ws, ids, args.decision, user=current_user(ws),
                               effective=getattr(args, "effective", None), note=args.note)
        except ReviewError as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json([d.__dict__ for d in decisions])
    else:
        queued = sum(len(d.intents) for d in decisions)
        print(f"{len(decisions)} finding(s) {decisions[0].status}"
              + (f"; {queued} change(s) queued for `trueup push`" if queued else ""),
              file=sys.stderr)
    return 0


def _policy_show(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        settings = show_policy(ws)
    if args.json:
        print_json([s.__dict__ for s in settings])
        return 0
    for s in settings:
        print(f"{s.key:<30} {s.value:<16} ({s.allowed}; default {s.default})")
        for scope, ref, value in s.overrides:
            print(f"    {scope} {ref}: {value}")
    return 0


def _policy_set(args: argparse.Namespace) -> int:
    scopes = [(n, v) for n, v in (("customer", args.customer), ("vendor", args.vendor),
                                  ("product", args.product)) if v]
    if len(scopes) > 1:
        raise CommandError("give at most one of --customer, --vendor, --product")
    scope, ref = scopes[0] if scopes else ("global", "")
    with workspace_from(args) as ws:
        try:
            set_policy(ws, args.key, args.value, user=current_user(ws), scope=scope,
                       scope_ref=ref)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
    say(f"policy {args.key} = {args.value}" + (f" for {scope} {ref}" if ref else ""))
    return 0
