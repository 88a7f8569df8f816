"""Push through the services against the ConnectWise sandbox on real sockets: the basics."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.actions import ActionType, PsaAction
from app.models.workspace import Workspace
from app.services.connections import add_connection
from app.services.push import preview, push_approved, queue, queue_action
from app.services.sync import sync_connection
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.sandbox.base import LoopbackServer

TODAY = date(2026, 11, 21)


@pytest.fixture()
def cw():
    sandbox = ConnectWiseSandbox.seeded(companies=3, seed=1, today=TODAY)
    with LoopbackServer(sandbox) as server:
        yield sandbox, server


@pytest.fixture()
def ws(db_path, cw):
    sandbox, server = cw
    kw = sandbox.connector_kwargs()
    workspace = Workspace.open(db_path)
    add_connection(workspace, name="CW", kind="connectwise",
                   base_url=server.url + sandbox.base_path,
                   settings={"company_id": kw["company_id"], "public_key": kw["public_key"],
                             "client_id": kw["client_id"]},
                   secret=kw["private_key"], user="ann")
    yield workspace
    workspace.close()


def _first_line(sandbox: ConnectWiseSandbox):
    agreement = next(a for a in sandbox.agreements.values()
                     if a.get("agreementStatus") == "Active" and not a.get("cancelledFlag")
                     and sandbox.additions_of(a["id"]))
    return agreement, sandbox.additions_of(agreement["id"])[0]


def test_sync_then_push_a_quantity_change_once(ws, cw):
    sandbox, _ = cw
    result = sync_connection(ws, "CW")
    assert result.status == "complete", result.error
    assert result.counts["lines"] > 0

    agreement, line = _first_line(sandbox)
    before = Decimal(str(line["quantity"]))
    action = PsaAction(ActionType.SET_QUANTITY, "connectwise", "2026-10", str(agreement["id"]),
                       str(line["id"]), desired={"quantity": str(before + 2)},
                       seen={"quantity": str(before)}, money_effect=Decimal("24.13"))
    intent = queue_action(ws, "CW", action, user="ann")
    again = queue_action(ws, "CW", action, user="ann")  # a double click
    assert again.id == intent.id

    [dry] = preview(ws)
    assert dry.before["quantity"] == str(before) and dry.after["quantity"] == str(before + 2)
    assert dry.verdict == "send"
    assert sandbox.writes("PATCH") == []

    report = push_approved(ws, user="ann")
    assert [o.state for o in report.outcomes] == ["DONE"]
    assert len(sandbox.writes("PATCH")) == 1
    stored = sandbox.additions[line["id"]]
    assert Decimal(str(stored["quantity"])) == before + 2
    assert stored["serialNumber"] == intent.marker

    assert push_approved(ws, user="ann").outcomes == []
    assert len(sandbox.writes("PATCH")) == 1
    assert [i.state for i in queue(ws)] == ["DONE"]
