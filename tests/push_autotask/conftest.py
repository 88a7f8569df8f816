"""Shared setup of the Autotask exactly-once suite: a seeded sandbox, workspaces, intents."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.actions import ActionType, PsaAction
from app.models.connections import Connection
from app.models.workspace import Workspace
from app.sync.autotask import AutotaskConnector, AutotaskSandbox
from app.sync.autotask import sandbox_data as data
from app.sync.push import engine
from app.sync.push.autotask_adapter import AutotaskPushAdapter, entity_for
from app.sync.push.intents import IntentView, create_intent, list_intents

TODAY = date(2024, 5, 15)
PERIOD = "2024-05"
EFFECTIVE = date(2024, 5, 1)


@dataclass
class Desk:
    """One workspace with its Autotask connection row, as one bookkeeper's machine has it."""

    ws: Workspace
    connection_id: int
    account: str

    def queue(self, action: PsaAction) -> IntentView:
        with self.ws.begin() as s:
            intent, _ = create_intent(s, action=action, connection_id=self.connection_id,
                                      psa_account=self.account, entity=entity_for(action.type),
                                      user="ann")
        return intent

    def push(self, adapter: AutotaskPushAdapter) -> list[engine.PushOutcome]:
        return engine.push_pending(self.ws.sessions, lambda intent: adapter, user="ann")

    def intents(self) -> list[IntentView]:
        with self.ws.begin() as s:
            return list_intents(s)


@pytest.fixture()
def sandbox() -> AutotaskSandbox:
    return AutotaskSandbox.seeded(companies=3, seed=7, today=TODAY)


@pytest.fixture(scope="session")
def migrated(tmp_path_factory) -> Path:
    """One migrated empty workspace, copied per test: migrations run once, not per test."""
    path = tmp_path_factory.mktemp("template") / "empty.sqlite"
    Workspace.open(path).close()
    return path


@pytest.fixture()
def open_desk(migrated):
    opened: list[Desk] = []

    def make(path: Path, sb: AutotaskSandbox) -> Desk:
        shutil.copyfile(migrated, path)
        made = new_desk(Workspace.open(path, upgrade=False), sb)
        opened.append(made)
        return made

    yield make
    for made in opened:
        made.ws.close()


def new_desk(ws: Workspace, sb: AutotaskSandbox, zone_url: str | None = None) -> Desk:
    with ws.begin() as s:
        row = Connection(name="Autotask", kind="autotask", side="psa",
                         base_url=zone_url or sb.base_url,
                         settings={"username": sb.credentials.username,
                                   "integration_code": sb.credentials.integration_code})
        s.add(row)
        s.flush()
        connection_id = row.id
    return Desk(ws, connection_id, f"autotask:{sb.credentials.username.lower()}")


@pytest.fixture()
def desk(tmp_path, sandbox, open_desk) -> Desk:
    return open_desk(tmp_path / "ws.sqlite", sandbox)


@pytest.fixture()
def connector(sandbox) -> AutotaskConnector:
    return sandbox.connector(sleep=lambda s: None)


@pytest.fixture()
def adapter(connector) -> AutotaskPushAdapter:
    return AutotaskPushAdapter(connector)


def seat_line(sb: AutotaskSandbox) -> tuple[int, int]:
    contract = next(c for c in sb.contracts.values()
                    if c["contractType"] == data.RECURRING_SERVICE and c["status"] == 1)
    line = next(s for s in sb.contract_services.values() if s["contractID"] == contract["id"])
    return contract["id"], line["id"]


def fixed_contract(sb: AutotaskSandbox) -> int:
    return next(c["id"] for c in sb.contracts.values() if c["contractType"] == data.FIXED_PRICE)


def seats(sb: AutotaskSandbox, *, add: int = 2, effective: date = EFFECTIVE) -> PsaAction:
    """Approve `add` more seats on the first line, against what the PSA shows now."""
    contract, line = seat_line(sb)
    now = sb.units_on(line, effective)
    return PsaAction(ActionType.SET_QUANTITY, "autotask", PERIOD, str(contract), str(line),
                     desired={"quantity": str(now + add)}, seen={"quantity": str(now)},
                     effective_date=effective, description="M365 seats true-up",
                     money_effect=Decimal("14.40") * add)


def adjustments(sb: AutotaskSandbox) -> list:
    return sb.writes("POST", "ContractServiceAdjustments")
