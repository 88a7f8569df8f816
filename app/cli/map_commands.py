"""`trueup map ...`: auto map, the mapping lists and queue, manual maps, suggestions, overrides.

Ids are each system's own ids, as `map list --json` prints them. A refused or unknown id
exits non-zero with the reason on stderr.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from typing import Any

from app.cli.common import CommandError, print_json, say, workspace_from
from app.services.identity import current_user
from app.services.mapping import (
    MOTIONS,
    MappingChange,
    MappingError,
    accept_suggestion,
    auto_map,
    list_mappings,
    list_suggestions,
    map_agreement,
    map_customer,
    map_product,
    map_subscription,
    reject_suggestion,
    remove_override,
    set_override,
    unmap_agreement,
    unmap_customer,
    unmap_product,
    unmap_subscription,
)


def register(sub: argparse._SubParsersAction) -> None:
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print one JSON document")
    vendor = argparse.ArgumentParser(add_help=False)
    vendor.add_argument("--connection", metavar="NAME",
                        help="the vendor connection, when the id exists in several")
    psa = argparse.ArgumentParser(add_help=False)
    psa.add_argument("--psa-connection", metavar="NAME",
                     help="the PSA connection, when the id exists in several")

    group = sub.add_parser("map", help="map vendor customers, SKUs and subscriptions to the PSA")
    cmds = group.add_subparsers(dest="map_command", metavar="ACTION", required=True)

    p = cmds.add_parser("auto", parents=[json_flag],
                        help="map exact matches, suggest close ones")
    p.set_defaults(handler=_auto)
    p = cmds.add_parser("list", parents=[json_flag], help="mappings and the unmapped queue")
    p.add_argument("--unmapped", action="store_true", help="only the unmapped queue")
    p.set_defaults(handler=_list)

    for kind, vendor_arg, psa_arg in (
            ("customer", "VENDOR_CUSTOMER_ID", "PSA_COMPANY_ID"),
            ("product", "VENDOR_SKU", "PSA_PRODUCT_ID"),
            ("subscription", "VENDOR_SUBSCRIPTION_ID", "PSA_LINE_ID")):
        p = cmds.add_parser(kind, parents=[json_flag, vendor, psa], help=f"map a {kind} by hand")
        p.add_argument("vendor_id", metavar=vendor_arg)
        p.add_argument("psa_id", metavar=psa_arg)
        p.set_defaults(handler=_map, kind=kind)

    p = cmds.add_parser("agreement", parents=[json_flag, psa],
                        help="choose the agreement that bills a motion for a PSA company")
    p.add_argument("psa_company", metavar="PSA_COMPANY_ID")
    p.add_argument("motion", metavar="MOTION", choices=MOTIONS, help=" | ".join(MOTIONS))
    p.add_argument("psa_agreement", metavar="PSA_AGREEMENT_ID")
    p.add_argument("--force", action="store_true",
                   help="map even when the agreement's kind does not fit the motion")
    p.set_defaults(handler=_agreement)

    p = cmds.add_parser("unmap", parents=[json_flag, vendor, psa], help="remove a mapping")
    p.add_argument("kind", choices=("customer", "product", "subscription", "agreement"))
    p.add_argument("ids", nargs="+", metavar="ID",
                   help="customer: VENDOR_CUSTOMER_ID; product: VENDOR_SKU; subscription: "
                        "VENDOR_SUBSCRIPTION_ID [PSA_LINE_ID]; agreement: PSA_COMPANY_ID MOTION")
    p.set_defaults(handler=_unmap)

    p = cmds.add_parser("suggestions", parents=[json_flag], help="suggestions to confirm")
    p.add_argument("--all", action="store_true", help="accepted and rejected ones too")
    p.set_defaults(handler=_suggestions)
    for verb in ("accept", "reject"):
        p = cmds.add_parser(verb, help=f"{verb} a suggestion")
        p.add_argument("suggestion_id", metavar="SUGGESTION_ID", type=int)
        p.set_defaults(handler=_decide, verb=verb)

    p = cmds.add_parser("override", parents=[json_flag, psa],
                        help="customer price/description for a SKU, global or per customer")
    p.add_argument("sku", metavar="SKU")
    p.add_argument("--customer", metavar="PSA_COMPANY_ID", help="only for this PSA company")
    p.add_argument("--price", metavar="P", help="unit price billed to the customer")
    p.add_argument("--description", metavar="D", help="invoice description")
    p.add_argument("--remove", action="store_true", help="remove the override")
    p.set_defaults(handler=_override)


def _run(args: argparse.Namespace, action: Any) -> Any:
    with workspace_from(args) as ws:
        try:
            return action(ws, current_user(ws))
        except MappingError as exc:
            raise CommandError(str(exc)) from exc


def _auto(args: argparse.Namespace) -> int:
    report = _run(args, lambda ws, user: auto_map(ws, user))
    if args.json:
        print_json(report)
        return 0
    print(f"Mapped automatically: {report.customers_mapped} customer(s), "
          f"{report.products_mapped} product(s), {report.subscriptions_mapped} subscription "
          f"line(s), {report.agreements_mapped} agreement motion(s).")
    print(f"Suggestions: {report.suggestions_created} new, {report.suggestions_pending} waiting "
          "(`trueup map suggestions`).")
    print(f"Unmapped: {report.unmapped_customers} customer(s), {report.unmapped_products} "
          f"product(s), {report.unmapped_subscriptions} subscription(s), "
          f"{report.unmapped_agreements} agreement motion(s) (`trueup map list --unmapped`).")
    return 0


def _list(args: argparse.Namespace) -> int:
    overview = _run(args, lambda ws, _user: list_mappings(ws, unmapped_only=args.unmapped))
    if args.json:
        print_json(overview)
        return 0
    for r in overview.customers:
        print(f"customer  {r.vendor_connection}:{r.vendor_customer_id} {r.vendor_customer_name}"
              f" → {r.psa_connection}:{r.psa_company_id} {r.psa_company_name} [{r.method}]")
    for r in overview.products:
        print(f"product   {r.vendor_connection}:{r.vendor_sku} {r.vendor_product_name} → "
              f"{r.psa_connection}:{r.psa_product_id} {r.psa_product_identifier} [{r.method}]")
    for r in overview.subscriptions:
        print(f"subscr.   {r.vendor_connection}:{r.vendor_subscription_id} {r.product_name} "
              f"×{r.quantity} → line {r.psa_line_id} ×{r.psa_quantity} [{r.method}]")
    for r in overview.agreements:
        print(f"agreement {r.psa_company_name}: {r.motion} → {r.psa_agreement_id} "
              f"{r.psa_agreement_name} ({r.agreement_kind})")
    for r in overview.overrides:
        print(f"override  {r.sku} @ {r.psa_company_name or 'all customers'}: "
              f"{r.unit_price if r.unit_price is not None else '—'} {r.description or ''}")
    if overview.unmapped:
        print(f"Unmapped ({len(overview.unmapped)}):")
    for item in overview.unmapped:
        print(f"  {item.kind:<12} {item.connection}:{item.id} {item.name} — {item.reason}")
    if not overview.unmapped:
        say("Nothing unmapped.")
    return 0


def _print_change(change: MappingChange, as_json: bool) -> int:
    if as_json:
        print_json(change)
        return 0
    say(f"{change.kind}: {change.action}")
    for warning in change.warnings:
        say(f"warning: {warning}")
    return 0


def _map(args: argparse.Namespace) -> int:
    action = {"customer": map_customer, "product": map_product,
              "subscription": map_subscription}[args.kind]
    change = _run(args, lambda ws, user: action(ws, user, args.vendor_id, args.psa_id,
                                                connection=args.connection,
                                                psa_connection=args.psa_connection))
    return _print_change(change, args.json)


def _agreement(args: argparse.Namespace) -> int:
    change = _run(args, lambda ws, user: map_agreement(
        ws, user, args.psa_company, args.motion, args.psa_agreement,
        psa_connection=args.psa_connection, force=args.force))
    return _print_change(change, args.json)


def _unmap(args: argparse.Namespace) -> int:
    ids, kind = args.ids, args.kind
    wanted = {"customer": (1, 1), "product": (1, 1), "subscription": (1, 2),
              "agreement": (2, 2)}[kind]
    if not wanted[0] <= len(ids) <= wanted[1]:
        raise CommandError(f"unmap {kind} takes {wanted[0]}"
                           + (f" or {wanted[1]}" if wanted[1] != wanted[0] else "") + " id(s)")

    def action(ws, user):  # noqa: ANN001, ANN202
        if kind == "customer":
            return unmap_customer(ws, user, ids[0], connection=args.connection)
        if kind == "product":
            return unmap_product(ws, user, ids[0], connection=args.connection)
        if kind == "subscription":
            return unmap_subscription(ws, user, ids[0], ids[1] if len(ids) > 1 else None,
                                      connection=args.connection,
                                      psa_connection=args.psa_connection)
        return unmap_agreement(ws, user, ids[0], ids[1], psa_connection=args.psa_connection)

    return _print_change(_run(args, action), args.json)


def _suggestions(args: argparse.Namespace) -> int:
    rows = _run(args, lambda ws, _user: list_suggestions(ws, "all" if args.all else "pending"))
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        say("No suggestions waiting.")
    for r in rows:
        print(f"#{r.id:<5} {r.kind:<12} {r.score:>3} {r.vendor_connection}:{r.vendor_id} "
              f"{r.vendor_name} → {r.psa_connection}:{r.psa_id} {r.psa_name}  ({r.reason})"
              + ("" if r.status == "pending" else f" [{r.status}]"))
    return 0


def _decide(args: argparse.Namespace) -> int:
    if args.verb == "accept":
        change = _run(args, lambda ws, user: accept_suggestion(ws, user, args.suggestion_id))
        return _print_change(change, False)
    _run(args, lambda ws, user: reject_suggestion(ws, user, args.suggestion_id))
    say(f"suggestion #{args.suggestion_id}: rejected (it will not be suggested again)")
    return 0


def _override(args: argparse.Namespace) -> int:
    if args.remove:
        if args.price is not None or args.description is not None:
            raise CommandError("--remove takes no --price or --description")
        _run(args, lambda ws, user: remove_override(ws, user, args.sku, args.customer,
                                                    psa_connection=args.psa_connection))
        say(f"override for {args.sku} removed")
        return 0
    price = None
    if args.price is not None:
        try:
            price = Decimal(args.price.strip())
        except InvalidOperation:
            raise CommandError(f"--price {args.price!r} is not a number") from None
    row = _run(args, lambda ws, user: set_override(
        ws, user, args.sku, unit_price=price, description=args.description,
        psa_company_id=args.customer, psa_connection=args.psa_connection))
    if args.json:
        print_json(row)
    else:
        say(f"override for {row.sku} @ {row.psa_company_name or 'all customers'}: "
            f"price {row.unit_price if row.unit_price is not None else '—'}, "
            f"description {row.description or '—'}")
    return 0
