"""The demo workspace (`trueup demo`, `python main.py --demo`): a realistic MSP book to try
TrueUp on, offline, with the previous calendar month ready to close.

It is built the way a bookkeeper would set TrueUp up: connections to a Pax8 and a
ConnectWise sandbox (persisted beside the workspace, see app.services.sandboxes), a first
sync, the Partner Center recon and usage files imported, billing policies set, auto map, a
few suggestions confirmed and agreements chosen by hand, and a few items deliberately left
in the mapping queue. What each scenario customer is meant to show is in DemoReport.
A workspace is marked as a demo in its settings, so an ordinary workspace is never
overwritten, and a demo is rebuilt only when asked.
"""

from __future__ import annotations

import contextlib
import shutil
import time as clock_time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.models.connections import Setting
from app.models.workspace import to_url
from app.services.connections import add_connection
from app.services.imports import import_partner_center_file
from app.services.mapping import (
    accept_suggestion,
    auto_map,
    list_suggestions,
    map_agreement,
    map_product,
    map_subscription,
)
from app.services.policies import set_policy
from app.services.sandboxes import sandbox_folder, sandbox_url
from app.services.sync import sync_connection
from app.services.workspace import Workspace, WorkspaceError, demo_workspace_path
from app.sync.connectwise.sandbox_data import SandboxCredentials
from app.sync.demo import partner_center, tenants
from app.sync.demo.plan import AZURE, DEFAULT_CUSTOMERS, DemoCustomer, DemoPlan, demo_plan
from app.sync.pax8.sandbox import DEFAULT_CLIENT_ID
from app.sync.sandbox import persist

Progress = Callable[[int, int | None, str], None]
MARK = "demo.workspace"
USER = "demo setup"
PAX8, CONNECTWISE, PARTNER_CENTER = "Pax8 (demo)", "ConnectWise (demo)", "Partner Center"
STEPS = 9


class DemoError(ValueError):
    """The demo cannot be built there (not a file, not a demo, already built)."""


@dataclass(frozen=True)
class DemoScenario:
    customer: str
    shows: str  # the finding kinds it produces (or "" for a mapping lesson)
    details: tuple[str, ...]


@dataclass(frozen=True)
class DemoReport:
    path: str
    today: date
    period: str  # the month to close, YYYY-MM
    customers: int
    subscriptions: int
    psa_lines: int
    connections: tuple[str, ...]
    mapping: dict[str, int]
    scenarios: tuple[DemoScenario, ...]
    seconds: float


def demo_path(target: str | Path | None) -> Path:
    """The demo's workspace file: `target` (a path or sqlite URL) or the default demo path."""
    if target is None:
        return demo_workspace_path()
    url = to_url(target)
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        raise DemoError("the demo needs a workspace file (its sandboxes live beside it), "
                        f"not {target}")
    return Path(url.removeprefix("sqlite:///"))


def is_demo(path: Path) -> bool:
    """True when `path` is a workspace TrueUp built as a demo."""
    if not path.exists():
        return False
    try:
        ws = Workspace.open(path)
    except WorkspaceError:
        return False
    try:
        with ws.begin() as s:
            return s.scalar(select(Setting).where(Setting.key == MARK)) is not None
    finally:
        ws.close()


def ensure_demo(target: str | Path | None = None, *, progress: Progress | None = None) -> Path:
    """The demo workspace to open: built on first use, kept afterwards."""
    path = demo_path(target)
    if not path.exists():
        build_demo(path, progress=progress)
    elif not is_demo(path):
        raise DemoError(f"{path} is a workspace of your own, not the demo; TrueUp will not "
                        "turn it into one")
    return path


def _clear(path: Path, force: bool) -> None:
    folder = sandbox_folder(path)
    if path.exists():
        if not is_demo(path):
            raise DemoError(f"{path} is a workspace of your own, not a demo; TrueUp will not "
                            "overwrite it (choose another --db)")
        if not force:
            db = "" if path == demo_workspace_path() else f" --db {path}"
            raise DemoError(f"a demo workspace already exists at {path}; open it with "
                            f"`python main.py --demo{db}`, or rebuild it with "
                            f"`trueup{db} demo --force`")
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()
    if folder.exists():
        shutil.rmtree(folder)


def build_demo(ws_path: str | Path | None = None, today: date | None = None, *,
               customers: int = DEFAULT_CUSTOMERS, force: bool = False,
               progress: Progress | None = None) -> DemoReport:
    """Build the demo workspace at `ws_path` (default: the demo path) as of `today`.

    Refuses an existing workspace that is not a demo, and an existing demo unless `force`.
    `customers` sizes the book (the scenario customers are always there).
    """
    started = clock_time.perf_counter()
    report = progress or (lambda done, total, message: None)
    path = demo_path(ws_path)
    real_today = date.today()
    today = today or real_today
    _clear(path, force)
    plan = demo_plan(today, customers)
    report(0, STEPS, "building the Pax8 and ConnectWise sandboxes")
    folder = sandbox_folder(path)
    ids = tenants.DemoIds()
    pax8, cw = tenants.build_pax8(plan, ids), tenants.build_connectwise(plan, ids)
    persist.save(pax8, folder / "pax8.json")
    persist.save(cw, folder / "connectwise.json")
    files = partner_center.write_files(plan, folder / "partner-center")
    # A demo built for another day syncs as of that day, so its snapshots line up with it.
    at = None if today == real_today else datetime.combine(today, time(12), tzinfo=UTC)
    ws = Workspace.open(path)
    try:
        with ws.begin() as s:
            s.add(Setting(key=MARK, value={"today": today.isoformat(), "customers": customers,
                                           "period": plan.period.label}))
        report(1, STEPS, "adding the demo connections")
        _connect(ws, cw.credentials)
        report(2, STEPS, "syncing ConnectWise")
        _sync(ws, CONNECTWISE, at)
        report(3, STEPS, "syncing Pax8")
        _sync(ws, PAX8, at)
        report(4, STEPS, "importing the Partner Center recon and usage files")
        for recon in files["recon"]:
            import_partner_center_file(ws, recon, connection=PARTNER_CENTER)
        for usage in files["usage"]:
            import_partner_center_file(ws, usage, usage=True, connection=PARTNER_CENTER)
        report(5, STEPS, "setting billing policies")
        _policies(ws)
        report(6, STEPS, "mapping customers, products and agreements")
        first = auto_map(ws, USER, today=today)
        _bookkeeper(ws, plan, ids)
        report(7, STEPS, "mapping subscriptions")
        second = auto_map(ws, USER, today=today)
        _confirm_subscriptions(ws, plan, ids)
        report(8, STEPS, "done")
    finally:
        ws.close()
    return DemoReport(
        str(path), today, plan.period.label, len(plan.customers), plan.subscriptions,
        len(cw.additions), (CONNECTWISE, PAX8, PARTNER_CENTER),
        {"customers": first.customers_mapped + second.customers_mapped,
         "products": first.products_mapped + second.products_mapped,
         "subscriptions": first.subscriptions_mapped + second.subscriptions_mapped,
         "agreements": first.agreements_mapped + second.agreements_mapped,
         "suggestions_pending": second.suggestions_pending},
        _scenarios(plan), round(clock_time.perf_counter() - started, 2))


def _connect(ws: Workspace, credentials: SandboxCredentials) -> None:
    """No secret is stored: a sandbox connection uses the sandbox's own demo credential."""
    add_connection(ws, name=CONNECTWISE, kind="connectwise",
                   base_url=sandbox_url("connectwise"),
                   settings={"company_id": credentials.company_id,
                             "public_key": credentials.public_key,
                             "client_id": credentials.client_id},
                   secret=None, user=USER)
    add_connection(ws, name=PAX8, kind="pax8", base_url=sandbox_url("pax8"),
                   settings={"client_id": DEFAULT_CLIENT_ID}, secret=None, user=USER)


def _sync(ws: Workspace, name: str, at: datetime | None) -> None:
    result = sync_connection(ws, name, clock=(lambda: at) if at else None)
    if result.status != "complete":
        raise DemoError(f"the demo's first sync of {name} failed: {result.error}")


def _policies(ws: Workspace) -> None:
    """Sell at the vendor's list price; Partner Center has no list price, so cost + 20 %,
    and Azure usage at cost + 15 %."""
    set_policy(ws, "markup", "list", user=USER)
    set_policy(ws, "markup", "cost+20%", user=USER, scope="vendor", scope_ref="partner_center")
    set_policy(ws, "markup", "cost+15%", user=USER, scope="product",
               scope_ref=partner_center.azure_sku())


def _bookkeeper(ws: Workspace, plan: DemoPlan, ids: tenants.DemoIds) -> None:
    """What a person does after the first auto map: confirm the suggestions they recognise,
    map the Azure plan to the PSA's usage product, choose the agreement where a customer has
    two, and pair the subscription that was cancelled before TrueUp first saw it."""
    wanted = {(c.name, c.psa_name) for c in plan.customers if c.mapping == "confirm"}
    for suggestion in list_suggestions(ws):
        if suggestion.kind == "customer" and \
                (suggestion.vendor_name, suggestion.psa_name) in wanted:
            accept_suggestion(ws, USER, suggestion.id)
    map_product(ws, USER, partner_center.azure_sku(), str(ids.psa_products[AZURE]),
                connection=PARTNER_CENTER, psa_connection=CONNECTWISE)
    for customer in plan.customers:
        if customer.key in ids.licensing_agreements:
            company = str(ids.psa_companies[customer.psa_name or ""])
            for motion in ("monthly", "annual-monthly"):
                map_agreement(ws, USER, company, motion,
                              str(ids.licensing_agreements[customer.key]),
                              psa_connection=CONNECTWISE)
        for sub in customer.subs:
            if sub.cancelled is not None and sub.key in ids.psa_lines:
                map_subscription(ws, USER, ids.vendor_subscriptions[sub.key],
                                 str(ids.psa_lines[sub.key]), connection=PAX8,
                                 psa_connection=CONNECTWISE)


def _confirm_subscriptions(ws: Workspace, plan: DemoPlan, ids: tenants.DemoIds) -> None:
    """Pairs suggested by quantity for the Oakview customer are confirmed; the Stonegate
    ones stay in the queue for whoever tries the demo."""
    confirm = {ids.vendor_subscriptions[s.key] for c in plan.customers if c.key == "oakview"
               for s in c.subs}
    for suggestion in list_suggestions(ws):
        if suggestion.kind == "subscription" and suggestion.vendor_id in confirm:
            accept_suggestion(ws, USER, suggestion.id)


def _scenarios(plan: DemoPlan) -> tuple[DemoScenario, ...]:
    def shows(customer: DemoCustomer) -> DemoScenario:
        notes = tuple(f"{s.product} ({s.motion}): {s.note}" for s in customer.subs if s.note)
        return DemoScenario(customer.name, customer.scenario, notes)

    return tuple(shows(c) for c in plan.customers
                 if c.scenario or c.mapping != "auto" or c.agreements != "standard")


def describe(report: DemoReport) -> dict[str, Any]:
    return {**report.__dict__, "scenarios": [s.__dict__ for s in report.scenarios]}
