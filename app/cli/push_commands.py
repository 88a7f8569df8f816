"""`trueup push [--dry-run] [--json]`: send approved changes to the PSA exactly once."""

from __future__ import annotations

import argparse
import sys

from app.cli.common import CommandError, print_json, workspace_from
from app.services.connections import ConnectionSetupError, KeyringUnavailableError
from app.services.identity import current_user
from app.services.push import preview, push_approved


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("push", help="push approved changes to the PSA (each exactly once)")
    p.add_argument("--dry-run", action="store_true",
                   help="show before → after and the money effect; send nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_push)


def _progress(done: int, total: int, message: str) -> None:
    sys.stderr.write(f"\r\033[K  {done}/{total} {message}"[:160])
    sys.stderr.flush()


def _push(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        if args.dry_run:
            return _dry_run(ws, args.json)
        progress = None if args.json or not sys.stderr.isatty() else _progress
        try:
            report = push_approved(ws, user=current_user(ws), progress=progress)
        except (ConnectionSetupError, KeyringUnavailableError, LookupError) as exc:
            # e.g. the keyring is locked or the secret is missing: nothing was claimed or sent
            raise CommandError(str(exc)) from exc
    if progress:
        sys.stderr.write("\r\033[K")
    if args.json:
        print_json({"outcomes": [o.__dict__ for o in report.outcomes],
                    "done": report.count("DONE"), "failed": report.count("FAILED"),
                    "conflict": report.count("CONFLICT"), "unknown": report.count("UNKNOWN")})
    else:
        if not report.outcomes:
            print("Nothing to push.", file=sys.stderr)
        for o in report.outcomes:
            print(f"intent {o.intent_id}: {o.state}" + (f" — {o.message}" if o.message else ""))
    return 0 if report.ok else 1


def _dry_run(ws, as_json: bool) -> int:  # noqa: ANN001
    lines = preview(ws)
    if as_json:
        print_json([{"intent": line.intent.id, "action": line.intent.action_type,
                     "target": line.intent.target_ref, "before": line.before,
                     "after": line.after, "money_effect": line.intent.money_effect,
                     "currency": line.intent.currency, "verdict": line.verdict,
                     "reason": line.reason, "online": line.online} for line in lines])
        return 0
    if not lines:
        print("Nothing to push.", file=sys.stderr)
    for line in lines:
        changes = ", ".join(f"{k}: {line.before.get(k, '—') or '—'} → {v or '—'}"
                            for k, v in line.after.items())
        print(f"intent {line.intent.id} {line.intent.action_type} "
              f"{line.intent.target_ref}: {changes}; money effect "
              f"{line.intent.currency} {line.intent.money_effect}; {line.verdict}"
              + (f" ({line.reason})" if line.reason else ""))
    return 0
