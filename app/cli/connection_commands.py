"""`trueup connect ...` and `trueup connections`: secrets from a prompt or TRUEUP_SECRET only."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from app.cli.common import CommandError, print_json, say, workspace_from
from app.services.connections import (
    ConnectionSetupError,
    KeyringUnavailableError,
    add_connection,
    list_connections,
)
from app.services.identity import current_user

SECRET_ENV = "TRUEUP_SECRET"


def register(sub: argparse._SubParsersAction) -> None:
    connect = sub.add_parser("connect", help="add a vendor or PSA connection")
    kinds = connect.add_subparsers(dest="kind", metavar="KIND", required=True)

    cw = kinds.add_parser("connectwise", help="ConnectWise PSA (private key from a prompt or "
                          f"{SECRET_ENV})")
    cw.add_argument("--name", default="ConnectWise")
    cw.add_argument("--url", required=True,
                    help="API base, e.g. https://api-na.myconnectwise.net/v4_6_release/apis/3.0")
    cw.add_argument("--company", required=True, help="company id used at sign-in")
    cw.add_argument("--public-key", required=True)
    cw.add_argument("--client-id", required=True, help="the clientId from the developer portal")
    cw.add_argument("--marker-field", default="serialNumber",
                    help="addition field that carries TrueUp's change marker")
    cw.set_defaults(handler=_connect_connectwise)

    at = kinds.add_parser("autotask", help="Datto Autotask PSA (the API user's secret from a "
                          f"prompt or {SECRET_ENV})")
    at.add_argument("--name", default="Autotask")
    at.add_argument("--username", required=True, help="the API user (API-only security level)")
    at.add_argument("--integration-code", required=True, help="the API tracking identifier")
    at.add_argument("--url", help="zone URL, e.g. https://webservices5.autotask.net/ATServicesRest"
                    "; looked up from the user name when omitted")
    at.set_defaults(handler=_connect_autotask)

    pax8 = kinds.add_parser("pax8", help=f"Pax8 API (client secret from a prompt or {SECRET_ENV})")
    pax8.add_argument("--name", default="Pax8")
    pax8.add_argument("--url", required=True, help="API base, e.g. https://api.pax8.com/v1")
    pax8.add_argument("--client-id", required=True)
    pax8.add_argument("--token-url", help="OAuth token URL when not the Pax8 default")
    pax8.set_defaults(handler=_connect_pax8)

    conns = sub.add_parser("connections", help="list the workspace's connections")
    conns.add_argument("--json", action="store_true")
    conns.set_defaults(handler=_list)


def read_secret(what: str) -> str:
    """The secret from TRUEUP_SECRET or an interactive prompt; never from the command line."""
    secret = os.environ.get(SECRET_ENV)
    if secret:
        return secret
    if not sys.stdin.isatty():
        raise CommandError(f"no {what}: set {SECRET_ENV} or run in a terminal to be prompted")
    secret = getpass.getpass(f"{what}: ")
    if not secret:
        raise CommandError(f"no {what} given")
    return secret


def _add(args: argparse.Namespace, kind: str, settings: dict[str, str], what: str) -> int:
    secret = read_secret(what)
    with workspace_from(args) as ws:
        try:
            view = add_connection(ws, name=args.name, kind=kind, base_url=args.url,
                                  settings=settings, secret=secret, user=current_user(ws))
        except (ConnectionSetupError, KeyringUnavailableError) as exc:
            raise CommandError(str(exc)) from exc
    say(f"Added connection {view.name!r} ({kind}); the secret is in the OS keyring.")
    return 0


def _connect_connectwise(args: argparse.Namespace) -> int:
    settings = {"company_id": args.company, "public_key": args.public_key,
                "client_id": args.client_id, "marker_field": args.marker_field}
    return _add(args, "connectwise", settings, "ConnectWise private key")


def _connect_autotask(args: argparse.Namespace) -> int:
    settings = {"username": args.username, "integration_code": args.integration_code}
    return _add(args, "autotask", settings, "Autotask API secret")


def _connect_pax8(args: argparse.Namespace) -> int:
    settings = {"client_id": args.client_id}
    if args.token_url:
        settings["token_url"] = args.token_url
    return _add(args, "pax8", settings, "Pax8 client secret")


def _list(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        views = list_connections(ws)
    if args.json:
        print_json([{"name": v.name, "kind": v.kind, "side": v.side, "url": v.base_url,
                     "settings": v.settings, "last_sync_at": v.last_sync_at} for v in views])
        return 0
    if not views:
        say("No connections yet. Add one with `trueup connect connectwise|autotask|pax8 ...`.")
    for v in views:
        last = v.last_sync_at.isoformat(timespec="minutes") if v.last_sync_at else "never"
        print(f"{v.name:<20} {v.kind:<14} {v.base_url or '':<50} last sync: {last}")
    return 0
