"""Autotask through the same services as ConnectWise: connect, sync, queue, push once."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import func, select

from app.domain.actions import ActionType, PsaAction
from app.models.psa import PsaBillingLine
from app.models.workspace import Workspace
from app.services.connections import add_connection
from app.services.push import push_approved, queue, queue_action
from app.services.sync import sync_connection
from app.sync.autotask.sandbox import AutotaskSandbox

TODAY = date(2026, 11, 21)


@pytest.fixture()
def at():
    return AutotaskSandbox.seeded(companies=3, seed=1, today=TODAY)


@pytest.fixture()
def ws(db_path, at):
    kw = at.connector_kwargs()
    workspace = Workspace.open(db_path)
    add_connection(workspace, name="AT", kind="autotask", base_url=kw["zone_url"],
                   settings={"username": kw["username"],
                             "integration_code": kw["integration_code"]},
                   secret=kw["secret"], user="ann")
    yield workspace
    workspace.close()


def test_sync_and_push_a_seat_change_through_the_services(ws, at):
    transport = httpx.MockTransport(at)
    result = sync_connection(ws, "AT", transport=transport)
    assert result.status == "complete", result.error
    with ws.begin() as s:
        line = s.scalars(select(PsaBillingLine).where(PsaBillingLine.is_one_time.is_(False),
                                                      PsaBillingLine.quantity > 0)).first()
        assert s.scalar(select(func.count()).select_from(PsaBillingLine)) > 0
        agreement = line.agreement_id
        from app.models.psa import PsaAgreement

        contract = s.get(PsaAgreement, agreement).external_id
        line_ref, before = line.external_id, line.quantity
    action = PsaAction(ActionType.SET_QUANTITY, "autotask", "2026-11", contract, line_ref,
                       desired={"quantity": str(before + 3)}, seen={"quantity": str(before)},
                       effective_date=TODAY)
    intent = queue_action(ws, "AT", action, user="ann")
    assert intent.entity != "addition"
    report = push_approved(ws, user="ann", transport=transport)
    assert [o.state for o in report.outcomes] == ["DONE"], report.outcomes
    assert len(at.writes("POST", "ContractServiceAdjustments")) == 1
    assert at.units_on(int(line_ref), TODAY) == before + 3
    assert push_approved(ws, user="ann", transport=transport).outcomes == []
    assert [i.state for i in queue(ws)] == ["DONE"]

