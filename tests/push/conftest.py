"""Shared fixtures for the push-protocol tests: one loopback server, a fresh sandbox per test.

One LoopbackServer serves the whole session (its shutdown costs ~0.5 s); each test points it
at its own freshly seeded sandbox through `Switch`, so tests never share PSA state. Each test
also gets its own workspace file, copied from one migrated template (a fresh file, without
paying for the migrations every time).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.actions import ActionType, PsaAction
from app.models.workspace import Workspace
from app.services.connections import add_connection
from app.sync.connectwise.connector import ConnectWiseConnector
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.sandbox.base import LoopbackServer

TODAY = date(2026, 11, 21)
PERIOD = "2026-11"


class Switch:
    """The app a LoopbackServer serves; tests swap the sandbox (or a wrapper of it) per test."""

    def __init__(self) -> None:
        self.target: Callable[[httpx.Request], httpx.Response] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.target is None:
            return httpx.Response(503, json={"message": "no sandbox attached"})
        return self.target(request)


@dataclass
class CW:
    """The sandbox of one test and the loopback URL that reaches it."""

    sandbox: ConnectWiseSandbox
    server: LoopbackServer
    switch: Switch

    @property
    def url(self) -> str:
        return self.server.url + self.sandbox.base_path

    def settings(self) -> dict[str, str]:
        kw = self.sandbox.connector_kwargs()
        return {"company_id": kw["company_id"], "public_key": kw["public_key"],
                "client_id": kw["client_id"]}

    @property
    def private_key(self) -> str:
        return self.sandbox.credentials.private_key

    def connector(self, **kwargs: Any) -> ConnectWiseConnector:
        """A real connector over loopback (the caller injects `sleep` to keep time virtual)."""
        kw = self.sandbox.connector_kwargs()
        kw["base_url"] = self.url
        return ConnectWiseConnector(**kw, **kwargs)

    def wrap(self, around: Callable[[httpx.Request], httpx.Response]) -> None:
        """Serve `around` (which calls the sandbox itself) instead of the bare sandbox."""
        self.switch.target = around


@pytest.fixture(scope="session")
def loopback():
    switch = Switch()
    server = LoopbackServer(switch)
    # Answer without Nagle's delay: the handler writes headers and body separately, and the
    # client's delayed ACK then costs ~40 ms per request on loopback (4 ms with this).
    server.httpd.RequestHandlerClass.disable_nagle_algorithm = True
    with server:
        yield server, switch


@pytest.fixture()
def cw(loopback) -> CW:
    server, switch = loopback
    sandbox = ConnectWiseSandbox.seeded(companies=3, seed=1, today=TODAY)
    switch.target = sandbox
    yield CW(sandbox, server, switch)
    switch.target = None


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "workspace.sqlite"
    Workspace.open(path).close()  # migrated to head; closing checkpoints the WAL
    return path


@pytest.fixture()
def new_workspace(tmp_path, template_db, cw):
    """Make a workspace file (migrated) with a ConnectWise connection named "CW"."""
    opened: list[Workspace] = []

    def make(name: str = "workspace.sqlite", *, connect: bool = True) -> Workspace:
        path = tmp_path / name
        if not path.exists():
            shutil.copy(template_db, path)
            ws = Workspace.open(path)
            if connect:
                add_connection(ws, name="CW", kind="connectwise", base_url=cw.url,
                               settings=cw.settings(), secret=cw.private_key, user="ann")
        else:
            ws = Workspace.open(path)  # a second Workspace object on the same file
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


@pytest.fixture()
def ws(new_workspace) -> Workspace:
    return new_workspace()


@pytest.fixture()
def sleeps(monkeypatch) -> list[float]:
    """Connectors built by the services record their waits here instead of sleeping."""
    recorded: list[float] = []
    monkeypatch.setitem(ConnectWiseConnector.__init__.__kwdefaults__, "sleep", recorded.append)
    return recorded


# ---------------------------------------------------------------- the PSA lines we change


def recurring_line(sandbox: ConnectWiseSandbox, n: int = 0) -> tuple[dict, dict]:
    """The n-th line of an active recurring agreement, with its agreement."""
    lines = [(a, line) for a in sandbox.agreements.values()
             if a["agreementStatus"] == "Active" and not a["cancelledFlag"]
             and not a["billOneTimeFlag"] for line in sandbox.additions_of(a["id"])]
    return lines[n]


def one_time_agreement(sandbox: ConnectWiseSandbox) -> dict:
    return next(a for a in sandbox.agreements.values()
                if a["billOneTimeFlag"] and a["agreementStatus"] == "Active")


def quantity_of(sandbox: ConnectWiseSandbox, line_id: int) -> Decimal:
    return Decimal(str(sandbox.additions[line_id]["quantity"]))


def set_quantity(sandbox: ConnectWiseSandbox, n: int = 0, delta: int = 2) -> PsaAction:
    agreement, line = recurring_line(sandbox, n)
    before = Decimal(str(line["quantity"]))
    return PsaAction(ActionType.SET_QUANTITY, "connectwise", PERIOD, str(agreement["id"]),
                     str(line["id"]), desired={"quantity": str(before + delta)},
                     seen={"quantity": str(before)},
                     money_effect=Decimal(delta) * Decimal(str(line["unitPrice"])))


def add_line(sandbox: ConnectWiseSandbox, quantity: int = 5) -> PsaAction:
    agreement, _ = recurring_line(sandbox)
    product = next(p for p in sandbox.catalog.values() if p["identifier"] == "EXO-P1")
    return PsaAction(ActionType.ADD_LINE, "connectwise", PERIOD, str(agreement["id"]),
                     desired={"quantity": str(quantity), "unit_price": "4.80",
                              "effective_date": "2026-11-01"},
                     product_ref=str(product["id"]), description="Exchange Online (Plan 1)",
                     money_effect=Decimal("4.80") * quantity)


def one_time_charge(sandbox: ConnectWiseSandbox, amount: str = "-26.40") -> PsaAction:
    agreement = one_time_agreement(sandbox)
    product = next(p for p in sandbox.catalog.values() if p["identifier"] == "M365-BP")
    return PsaAction(ActionType.ONE_TIME_CHARGE, "connectwise", PERIOD, str(agreement["id"]),
                     desired={"quantity": "1", "unit_price": amount,
                              "effective_date": "2026-11-15"},
                     product_ref=str(product["id"]), description="Credit: seat removed late",
                     money_effect=Decimal(amount))


def lines_with_marker(sandbox: ConnectWiseSandbox, marker: str) -> list[dict]:
    return [a for a in sandbox.additions.values() if a.get("serialNumber") == marker]


class Gate:
    """Hold requests that match a predicate until released (no sleeps: events only)."""

    def __init__(self, sandbox: ConnectWiseSandbox,
                 match: Callable[[httpx.Request], bool], *, times: int = 1) -> None:
        self.sandbox, self.match, self.times = sandbox, match, times
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            hold = self.times > 0 and self.match(request)
            if hold:
                self.times -= 1
        if hold:
            self.arrived.set()
            assert self.release.wait(10), "gate never released"
        return self.sandbox(request)
