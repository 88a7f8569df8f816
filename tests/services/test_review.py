"""Approve, reject, defer: intents written with the approval, stale approvals refused, audited."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.actions import ActionType, PsaAction, action_to_dict
from app.models.activity import AuditEntry, PushIntent
from app.models.connections import Connection
from app.models.psa import PsaAgreement, PsaBillingLine, PsaCompany
from app.models.review import BillingPeriodRow, Finding
from app.models.workspace import Workspace
from app.services.review import (
    ReviewError,
    StaleFindingError,
    decide,
    open_finding_ids,
)


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    yield workspace
    workspace.close()


def _seed(ws: Workspace, kinds=("quantity_drift",)) -> list[int]:
    with ws.begin() as s:
        conn = Connection(name="CW", kind="connectwise", side="psa", base_url="https://cw.test",
                          settings={"company_id": "acme"})
        s.add(conn)
        s.flush()
        company = PsaCompany(connection_id=conn.id, external_id="19", name="Contoso")
        s.add(company)
        s.flush()
        agreement = PsaAgreement(connection_id=conn.id, company_id=company.id, external_id="701",
                                 name="Managed", kind="recurring")
        s.add(agreement)
        s.flush()
        line = PsaBillingLine(connection_id=conn.id, agreement_id=agreement.id, external_id="3",
                              quantity=Decimal(10), unit_price=Decimal(22))
        period = BillingPeriodRow(label="2026-03", start_date=date(2026, 3, 1),
                                  end_date=date(2026, 3, 31))
        s.add_all([line, period])
        s.flush()
        ids = []
        for n, kind in enumerate(kinds):
            set_qty = PsaAction(ActionType.SET_QUANTITY, "connectwise", "2026-03", "701", "3",
                                desired={"quantity": "12"}, seen={"quantity": "10"},
                                effective_date=date(2026, 4, 1), money_effect=Decimal("0"))
            charge = PsaAction(ActionType.ONE_TIME_CHARGE, "connectwise", "2026-03", "702",
                               desired={"quantity": "2", "unit_price": "12.065"},
                               effective_date=date(2026, 4, 1), product_ref="5",
                               money_effect=Decimal("24.13"))
            f = Finding(period_id=period.id, key=f"{kind}:{n}", kind=kind,
                        psa_company_id=company.id, psa_billing_line_id=line.id, currency="USD",
                        amount=Decimal("24.13"), inputs_hash="h",
                        action={"actions": [action_to_dict(set_qty), action_to_dict(charge)]})
            s.add(f)
            s.flush()
            ids.append(f.id)
        return ids


def test_approve_writes_intents_and_audit_in_one_step(ws):
    [fid] = _seed(ws)
    [decision] = decide(ws, [fid], "approve", user="ann", expected_versions={fid: 1},
                        note="customer confirmed")
    assert decision.status == "approved" and decision.version == 2
    assert len(decision.intents) == 2
    with ws.begin() as s:
        intents = s.scalars(select(PushIntent).order_by(PushIntent.id)).all()
        assert [i.state for i in intents] == ["PENDING", "PENDING"]
        assert intents[0].desired_state == {"quantity": "12"}
        assert intents[1].payload["money_effect"] == "24.13"
        finding = s.get(Finding, fid)
        assert (finding.status, finding.note) == ("approved", "customer confirmed")
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "finding")).one()
        assert audit.user == "ann" and audit.before["status"] == "open"
        assert audit.after["status"] == "approved"


def test_an_approval_based_on_a_stale_finding_is_refused(ws):
    [fid] = _seed(ws)
    with ws.begin() as s:  # a re-run changed the numbers after the person looked
        f = s.get(Finding, fid)
        f.amount, f.version = Decimal("30.00"), 2
    with pytest.raises(StaleFindingError, match=r"finding \d+ changed since you looked.*30.00"):
        decide(ws, [fid], "approve", user="ann", expected_versions={fid: 1})
    with ws.begin() as s:
        assert s.get(Finding, fid).status == "open"
        assert s.scalars(select(PushIntent)).all() == []


def test_effective_date_chosen_by_the_person_moves_the_primary_change(ws):
    [fid] = _seed(ws)
    decide(ws, [fid], "approve", user="ann", effective=date(2026, 3, 15))
    with ws.begin() as s:
        first, second = s.scalars(select(PushIntent).order_by(PushIntent.id)).all()
        assert first.payload["effective_date"] == "2026-03-15"
        assert second.payload["effective_date"] == "2026-04-01"


def test_rejecting_an_approved_finding_withdraws_what_was_not_sent(ws):
    [fid] = _seed(ws)
    decide(ws, [fid], "approve", user="ann")
    decide(ws, [fid], "reject", user="bob", note="not this month")
    with ws.begin() as s:
        assert s.scalars(select(PushIntent)).all() == []
        assert s.get(Finding, fid).status == "rejected"
        actions = [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions.count("withdraw_push") == 2 and actions[-1] == "reject"


def test_a_sent_change_cannot_be_withdrawn_silently(ws):
    [fid] = _seed(ws)
    decide(ws, [fid], "approve", user="ann")
    with ws.begin() as s:
        s.scalars(select(PushIntent)).first().state = "UNKNOWN"
    with pytest.raises(ReviewError, match="already has a change sent"):
        decide(ws, [fid], "defer", user="bob")
    with ws.begin() as s:
        assert s.get(Finding, fid).status == "approved"
        assert len(s.scalars(select(PushIntent)).all()) == 2


def test_bulk_is_all_or_nothing_and_unmapped_cannot_be_approved(ws):
    ids = _seed(ws, kinds=("quantity_drift", "unmapped"))
    with pytest.raises(ReviewError, match="unmapped item"):
        decide(ws, ids, "approve", user="ann")
    with ws.begin() as s:
        assert {s.get(Finding, i).status for i in ids} == {"open"}
        assert s.scalars(select(PushIntent)).all() == []
    assert open_finding_ids(ws, "2026-03") == ids[:1]
    assert open_finding_ids(ws, "2026-03", kind="cost_change") == []


def test_pushed_findings_are_final(ws):
    [fid] = _seed(ws)
    with ws.begin() as s:
        s.get(Finding, fid).status = "pushed"
    with pytest.raises(ReviewError, match="already pushed"):
        decide(ws, [fid], "reject", user="ann")


def test_double_approval_makes_one_set_of_intents(ws):
    [fid] = _seed(ws)
    decide(ws, [fid], "approve", user="ann")
    decide(ws, [fid], "approve", user="ann")
    with ws.begin() as s:
        assert len(s.scalars(select(PushIntent)).all()) == 2


def test_unknown_period_and_finding_are_named(ws):
    with pytest.raises(ReviewError, match="2030-01 has not been reconciled"):
        open_finding_ids(ws, "2030-01")
    with pytest.raises(ReviewError, match="finding 999 does not exist"):
        decide(ws, [999], "approve", user="ann")


def test_reapproving_with_another_date_replaces_the_queued_change(ws):
    [fid] = _seed(ws)
    decide(ws, [fid], "approve", user="ann")
    decide(ws, [fid], "approve", user="ann", effective=date(2026, 3, 20))
    with ws.begin() as s:
        intents = s.scalars(select(PushIntent).order_by(PushIntent.id)).all()
        assert len(intents) == 2  # the re-approval's pair only, never four
        assert intents[0].payload["effective_date"] == "2026-03-20"


def test_reapproval_after_a_conflict_requeues_against_the_new_state(ws):
    [fid] = _seed(ws)
    decide(ws, [fid], "approve", user="ann")
    with ws.begin() as s:
        first = s.scalars(select(PushIntent).order_by(PushIntent.id)).first()
        first.state, first.last_error = "CONFLICT", "quantity was 10 at approval, is 11 now"
        finding = s.get(Finding, fid)
        finding.status = "failed"
        actions = copy.deepcopy(finding.action["actions"])
        actions[0]["seen"] = {"quantity": "11"}  # what the next reconcile proposes
        finding.action = {"actions": actions}
    decide(ws, [fid], "approve", user="ann")
    with ws.begin() as s:
        requeued = s.get(PushIntent, first.id)
        assert (requeued.state, requeued.seen_state) == ("PENDING", {"quantity": "11"})
        assert requeued.last_error is None
        assert len(s.scalars(select(PushIntent)).all()) == 2
