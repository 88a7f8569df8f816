"""Reconciling a period from a real workspace: exact amounts, idempotence, review state kept,
nothing new after the push, and approvals reopened when their numbers change."""

from __future__ import annotations

import gc
import json
import sqlite3
import types
import weakref
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

import app.services.collection as collection
import app.services.reconcile as service
from app.models import entities as m
from app.models import usage_days
from app.models.checkpoints import Checkpoints
from app.models.workspace import Workspace
from app.services.findings import list_findings
from app.services.reconcile import PeriodError, SnapshotConflictError, reconcile_period
from app.services.review import decide
from tests.fixtures.connections import pax8_and_connectwise


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    _seed(workspace)
    yield workspace
    workspace.close()


def _seed(workspace: Workspace) -> None:
    with workspace.begin() as s:
        pax8, cw = pax8_and_connectwise(s)
        customer = m.VendorCustomer(connection_id=pax8.id, external_id="c1", name="Contoso")
        company = m.PsaCompany(connection_id=cw.id, external_id="19", name="Contoso Ltd")
        s.add_all([customer, company])
        s.flush()
        recurring = m.PsaAgreement(connection_id=cw.id, company_id=company.id,
                                   external_id="701", name="Managed", kind="recurring",
                                   billing_cycle="Monthly")
        one_time = m.PsaAgreement(connection_id=cw.id, company_id=company.id, external_id="702",
                                  name="One-time", kind="one_time")
        vp = m.VendorProduct(connection_id=pax8.id, sku="E3", name="Microsoft 365 E3")
        pp = m.PsaProduct(connection_id=cw.id, external_id="5", identifier="M365-E3",
                          price=Decimal(22), cost=Decimal("19.80"))
        s.add_all([recurring, one_time, vp, pp])
        s.flush()
        line = m.PsaBillingLine(connection_id=cw.id, agreement_id=recurring.id,
                                external_id="30001", product_external_id="5",
                                quantity=Decimal(10), unit_price=Decimal(22),
                                unit_cost=Decimal("19.80"), effective_date=date(2025, 1, 1))
        sub = m.VendorSubscription(connection_id=pax8.id, customer_id=customer.id,
                                   external_id="s1", sku="E3", product_name="Microsoft 365 E3",
                                   quantity=Decimal(12), unit_cost=Decimal("19.80"),
                                   currency="USD", term="P1M", billing_frequency="Monthly",
                                   start_date=date(2025, 1, 1), status="Active")
        s.add_all([line, sub])
        s.flush()
        s.add_all([
            m.CustomerMapping(vendor_customer_id=customer.id, psa_company_id=company.id,
                              method="manual", created_by="ann"),
            m.ProductMapping(vendor_product_id=vp.id, psa_product_id=pp.id, method="manual",
                             created_by="ann"),
            m.SubscriptionMapping(vendor_subscription_id=sub.id, psa_billing_line_id=line.id,
                                  method="manual", created_by="ann"),
            m.AgreementMapping(psa_company_id=company.id, motion="monthly",
                               psa_agreement_id=recurring.id),
            m.AgreementMapping(psa_company_id=company.id, motion="annual-annual",
                               psa_agreement_id=one_time.id),
            m.SeatLot(subscription_id=sub.id, quantity=Decimal(10),
                      start_date=date(2025, 1, 1), source="history",
                      unit_cost=Decimal("19.80")),
            m.SeatLot(subscription_id=sub.id, quantity=Decimal(2),
                      start_date=date(2026, 3, 15), source="history",
                      unit_cost=Decimal("19.80")),
        ])


def test_the_march_example_from_the_brief(ws):
    report = reconcile_period(ws, "2026-03", user="ann")
    assert (report.findings, report.new) == (1, 1)
    [row] = list_findings(ws, "2026-03")
    assert row.kind == "quantity_drift" and row.amount == Decimal("24.13")
    assert (row.vendor_quantity, row.psa_quantity) == (Decimal(12), Decimal(10))
    assert row.customer_name == "Contoso Ltd" and row.psa_line_id == "30001"
    set_qty, charge = row.actions
    assert set_qty["type"] == "set_quantity" and set_qty["desired"] == {"quantity": "12"}
    assert set_qty["effective_date"] == "2026-04-01"
    assert charge["type"] == "one_time_charge" and charge["money_effect"] == "24.13"
    assert row.as_json()["action"]["type"] == "set_quantity"
    assert row.summary


@pytest.mark.postgres
def test_the_march_example_on_postgresql(postgres_url):
    url = postgres_url
    workspace = Workspace.open(url)
    try:
        _seed(workspace)
        test_the_march_example_from_the_brief(workspace)
        test_rerun_keeps_review_state_and_changes_nothing(workspace)
        messages: list[str] = []
        reconcile_period(workspace, "2026-03", user="ann",
                         progress=lambda done, total, message: messages.append(message))
        assert "adding up usage by day" not in messages  # PostgreSQL keeps no usage days
        [row] = list_findings(workspace, "2026-03", with_explanation=False)  # as the grid
        assert row.summary.startswith("Contoso Ltd") and row.explanation == {}
    finally:
        workspace.close()


def test_rerun_keeps_review_state_and_changes_nothing(ws):
    reconcile_period(ws, "2026-03", user="ann")
    [row] = list_findings(ws, "2026-03")
    decide(ws, [row.id], "defer", user="ann", note="ask the customer")
    again = reconcile_period(ws, "2026-03", user="ann")
    assert (again.new, again.changed, again.unchanged) == (0, 0, 1)
    [after] = list_findings(ws, "2026-03")
    assert (after.id, after.status, after.note) == (row.id, "deferred", "ask the customer")


def test_nothing_new_after_the_push_lands(ws):
    reconcile_period(ws, "2026-03", user="ann")
    [row] = list_findings(ws, "2026-03")
    decide(ws, [row.id], "approve", user="ann")
    with ws.begin() as s:  # what a successful push and the next sync leave behind
        for intent in s.scalars(select(m.PushIntent)):
            intent.state = "DONE"
        line = s.scalar(select(m.PsaBillingLine).where(m.PsaBillingLine.external_id == "30001"))
        line.quantity = Decimal(12)
        s.get(m.Finding, row.id).status = "pushed"
        charge = row.actions[1]
        one_time = s.scalar(select(m.PsaAgreement).where(m.PsaAgreement.external_id == "702"))
        s.add(m.PsaBillingLine(connection_id=line.connection_id, agreement_id=one_time.id,
                               external_id="30002", product_external_id="5",
                               quantity=Decimal(1), unit_price=Decimal("24.13"),
                               effective_date=date(2026, 4, 1), is_one_time=True,
                               description=charge["description"]))
    report = reconcile_period(ws, "2026-03", user="ann")
    assert report.new == 0
    assert [r.status for r in list_findings(ws, "2026-03")] == ["pushed"]
    april = reconcile_period(ws, "2026-04", user="ann")
    assert april.findings == 0


def test_an_approval_whose_numbers_change_is_withdrawn_and_reopened(ws):
    reconcile_period(ws, "2026-03", user="ann")
    [row] = list_findings(ws, "2026-03")
    decide(ws, [row.id], "approve", user="ann")
    with ws.begin() as s:  # the next sync learns of one more seat on the 20th
        sub = s.scalar(select(m.VendorSubscription))
        s.add(m.SeatLot(subscription_id=sub.id, quantity=Decimal(1),
                        start_date=date(2026, 3, 20), source="history"))
    report = reconcile_period(ws, "2026-03", user="ann")
    assert (report.changed, report.reopened) == (1, 1)
    [after] = list_findings(ws, "2026-03")
    assert after.status == "open" and after.version == row.version + 2
    assert after.amount == Decimal("24.13") + Decimal("8.52")  # 22 x 12/31 for the 13th seat
    with ws.begin() as s:
        assert s.scalars(select(m.PushIntent)).all() == []
        actions = [a.action for a in s.scalars(select(m.AuditEntry).order_by(m.AuditEntry.id))]
        assert "withdraw_push" in actions and actions[-1] == "recompute"


def test_a_bad_period_is_named(ws):
    with pytest.raises(PeriodError, match="2026-13"):
        reconcile_period(ws, "2026-13", user="ann")


def test_a_discount_line_is_money_not_seats(ws):
    """A Partner Center discount carries a quantity, but it must not add billed seats."""
    from app.domain.seat_history import states_seats

    assert not states_seats("discount") and not states_seats("Credit") and states_seats("new")
    with ws.begin() as s:
        pax8 = s.scalar(select(m.Connection).where(m.Connection.kind == "pax8"))
        s.add(m.ChargeLine(connection_id=pax8.id, line_key="d1", customer_external_id="c1",
                           subscription_external_id="s1", sku="E3", charge_type="discount",
                           charge_start=date(2026, 3, 1), charge_end=date(2026, 3, 31),
                           quantity=Decimal(10), unit_price=Decimal("-2.20"),
                           total=Decimal("-22.00"), currency="USD"))
    reconcile_period(ws, "2026-03", user="ann")
    [row] = list_findings(ws, "2026-03", kind="quantity_drift")
    assert row.amount == Decimal("24.13") and row.vendor_quantity == Decimal(12)


def test_a_sync_committing_mid_run_is_never_half_seen(ws, db_path, monkeypatch):
    """A sync commits, in one transaction, two more seats at the vendor and on the PSA line
    after the PSA lines were read but before the seats were: a reconcile pairing the old
    PSA line with the new seats would store a drift that never existed. Every read sees one
    snapshot; storing then finds the workspace changed and the run starts again on it."""
    with ws.begin() as s:  # start in step: 10 seats on both sides
        s.execute(delete(m.SeatLot).where(m.SeatLot.quantity == 2))
    import app.services.reconcile_facts as facts_module

    steps, synced = facts_module._quantity_steps, []

    def sync_meanwhile(session):
        if not synced:
            other = Workspace.open(db_path)
            with other.begin() as s:
                sub = s.scalar(select(m.VendorSubscription))
                s.add(m.SeatLot(subscription_id=sub.id, quantity=Decimal(2),
                                start_date=date(2025, 1, 1), source="history"))
                s.scalar(select(m.PsaBillingLine)).quantity = Decimal(12)
            other.close()
            synced.append(True)
        return steps(session)

    monkeypatch.setattr(facts_module, "_quantity_steps", sync_meanwhile)
    messages = []
    report = reconcile_period(ws, "2026-03", user="ann",
                              progress=lambda done, total, message: messages.append(message))
    assert synced and report.findings == 0 and list_findings(ws, "2026-03") == []
    assert "the workspace changed meanwhile; reconciling again" in messages


def test_the_usage_reads_handshake_opens_the_snapshot(ws, monkeypatch):
    """The background usage read proves it sees the run's snapshot only if that snapshot
    begins after it noted SQLite's data version: nothing may read in the run's transaction
    before the usage read's own snapshot query."""
    import app.services.reconcile as service

    statements: list[str] = []
    begin = service.one_snapshot

    def traced(session):
        session.connection().connection.driver_connection.set_trace_callback(
            statements.append)
        begin(session)

    monkeypatch.setattr(service, "one_snapshot", traced)
    reconcile_period(ws, "2026-03", user="ann")
    first = next(i for i, sql in enumerate(statements) if sql.lstrip().upper() != "BEGIN")
    # The handshake's first read: whether the usage days are current in that snapshot.
    assert statements[first] == usage_days.KEPT, statements[:first + 1]


def test_a_workspace_that_keeps_changing_is_reported_not_half_stored(ws, db_path, monkeypatch):
    import app.services.reconcile_facts as facts_module

    steps = facts_module._quantity_steps

    def sync_every_time(session):
        other = Workspace.open(db_path)
        with other.begin() as s:
            s.scalar(select(m.PsaBillingLine)).description = f"synced {date.today()}"
            s.scalar(select(m.PsaBillingLine)).quantity += 1
        other.close()
        return steps(session)

    monkeypatch.setattr(facts_module, "_quantity_steps", sync_every_time)
    with pytest.raises(SnapshotConflictError, match="kept changing while 2026-03"):
        reconcile_period(ws, "2026-03", user="ann")
    with ws.begin() as s:
        assert s.scalars(select(m.Finding)).all() == []
        assert s.scalars(select(m.BillingPeriodRow)).all() == []


def test_a_charge_on_the_unbilled_and_the_billed_recon_counts_once(ws):
    """The same March cycle charge imported from the unbilled reconciliation (no invoice)
    and then from the invoice's: ten seats, not twenty, so nothing drifts. A second unbilled
    copy with no billed twin yet still counts (it may be a real second charge)."""
    with ws.begin() as s:
        s.execute(delete(m.SeatLot).where(m.SeatLot.quantity == 2))
        pax8 = s.scalar(select(m.Connection).where(m.Connection.kind == "pax8"))
        for key, invoice, quantity in (("unbilled", None, "10"), ("billed", "INV-1", "10.00")):
            s.add(m.ChargeLine(connection_id=pax8.id, line_key=key, customer_external_id="c1",
                               subscription_external_id="s1", sku="E3",
                               charge_type="cycleCharge", charge_start=date(2026, 3, 1),
                               charge_end=date(2026, 3, 31), quantity=Decimal(quantity),
                               unit_price=Decimal("19.80"), total=Decimal("198.00"),
                               currency="USD", invoice_number=invoice))
    assert reconcile_period(ws, "2026-03", user="ann").findings == 0
    with ws.begin() as s:
        s.add(m.ChargeLine(connection_id=1, line_key="unbilled-2", customer_external_id="c1",
                           subscription_external_id="s1", sku="E3", charge_type="cycleCharge",
                           charge_start=date(2026, 3, 1), charge_end=date(2026, 3, 31),
                           quantity=Decimal(10), currency="USD", invoice_number=None))
    [row] = list_findings(ws, "2026-03") if reconcile_period(ws, "2026-03", user="ann") else []
    assert row.kind == "quantity_drift" and row.vendor_quantity == Decimal(20)


def test_new_findings_are_stored_as_the_orm_stores_them(ws, db_path, monkeypatch):
    """New findings go to SQLite through the driver: every column holds the very text the
    ORM would have written (a timestamp on a whole second included), the explanation the
    same JSON data (written compact, see app.domain.json_text), the action too."""
    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206
            return datetime(2026, 4, 2, 9, 30, tzinfo=UTC)

    monkeypatch.setattr(service, "datetime", Clock)
    reconcile_period(ws, "2026-03", user="ann")
    with ws.begin() as s:
        found = s.scalar(select(m.Finding))
        names = [c.name for c in m.Finding.__table__.columns if c.name not in ("id", "key")]
        s.add(m.Finding(key=f"{found.key}|orm", **{n: getattr(found, n) for n in names}))
    db = sqlite3.connect(db_path)
    raw, orm = db.execute(f"SELECT {', '.join(names)} FROM findings ORDER BY id").fetchall()
    db.close()
    as_json = [names.index("action"), names.index("explanation")]
    for at in as_json:
        assert json.loads(raw[at]) == json.loads(orm[at])
    assert [v for n, v in enumerate(raw) if n not in as_json] == \
        [v for n, v in enumerate(orm) if n not in as_json]
    assert raw[names.index("created_at")] == "2026-04-02 09:30:00.000000"


def test_collection_resumes_only_once_the_runs_objects_are_freed(ws, monkeypatch):
    """A run pauses cycle collection. Resumed while the run's book was still alive, the
    first collection would walk all of it (a month-end book: a quarter of a second) only to
    see it freed a moment later."""
    books: list[weakref.ref] = []
    real_read = service.read_book

    def read_book(*args, **kwargs):
        book = real_read(*args, **kwargs)
        books.append(weakref.ref(book))
        return book

    alive_on_resume: list[bool] = []

    def enable() -> None:
        alive_on_resume.append(any(ref() is not None for ref in books))
        gc.enable()

    monkeypatch.setattr(service, "read_book", read_book)
    monkeypatch.setattr(collection, "gc", types.SimpleNamespace(
        disable=gc.disable, enable=enable, freeze=gc.freeze))
    reconcile_period(ws, "2026-03", user="ann")
    assert books and alive_on_resume == [False]
    assert gc.isenabled()


def test_the_findings_commit_leaves_its_checkpoint_to_the_background(ws, monkeypatch):
    """The run returns once its findings are committed: SQLite's fold of the log into the
    workspace file (a month-end run: some 30 MB) runs after it, on a thread of its own."""
    deferred = []
    defer = Checkpoints.defer

    def deferring(self: Checkpoints, session) -> None:  # noqa: ANN001
        deferred.append(session.in_transaction())
        defer(self, session)

    monkeypatch.setattr(Checkpoints, "defer", deferring)
    reconcile_period(ws, "2026-03", user="ann")
    ws.checkpoints.wait()
    assert deferred == [True] and ws.checkpoints.runs == 1
    with ws.begin() as session:
        assert session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() > 0


def _usage(key: str, day: int) -> m.ChargeLine:
    return m.ChargeLine(connection_id=1, line_key=key, customer_external_id="c1",
                        subscription_external_id="s1", sku="E3", charge_type="usage",
                        charge_start=date(2026, 3, day), charge_end=date(2026, 3, day),
                        quantity=Decimal(1), unit_price=Decimal("0.5"), total=Decimal("0.50"),
                        currency="USD", invoice_number="INV-1", is_usage=True)


def _usage_read(monkeypatch) -> list:
    """The usage of every book the run reads, per subscription key."""
    read, usage = service.read_book, []

    def reading(*args, **kwargs):
        book = read(*args, **kwargs)
        usage.append(book.usage)
        return book

    monkeypatch.setattr(service, "read_book", reading)
    return usage


def test_usage_lines_not_added_up_by_day_yet_are_before_the_run(ws, monkeypatch):
    """Lines written without an import (by hand, here) are added up by day before the
    run's snapshot; the run then reads the days."""
    with ws.begin() as s:
        s.add_all([_usage("u1", 2), _usage("u2", 3)])
    usage, messages = _usage_read(monkeypatch), []
    reconcile_period(ws, "2026-03", user="ann",
                     progress=lambda done, total, message: messages.append(message))
    assert messages[0] == "adding up usage by day"
    with ws.engine.connect() as conn:
        assert usage_days.current(conn)
    [group] = usage[0][(1, "s1")]
    assert (group[6], group[8]) == (2, "1.00")  # two lines, their amounts added up
    reconcile_period(ws, "2026-03", user="ann",
                     progress=lambda done, total, message: messages.append(message))
    assert messages.count("adding up usage by day") == 1  # nothing left the second time


def test_usage_committed_after_the_days_were_added_up_is_read_from_the_lines(
        ws, db_path, monkeypatch):
    """A sync commits a usage line after the run added the days up and before its
    snapshot: the days do not hold it, so the run reads the lines, and the line counts."""
    with ws.begin() as s:
        s.add(_usage("u1", 2))
    begin, synced = service.one_snapshot, []

    def sync_then_begin(session):
        if not synced:
            other = Workspace.open(db_path)
            with other.begin() as s:
                s.add(_usage("u2", 3))
            other.close()
            synced.append(True)
        begin(session)

    monkeypatch.setattr(service, "one_snapshot", sync_then_begin)
    usage = _usage_read(monkeypatch)
    reconcile_period(ws, "2026-03", user="ann")
    [group] = usage[0][(1, "s1")]
    assert synced and (group[6], group[8]) == (2, "1.00")
