"""Pax8 sync end to end over MockTransport: dated snapshots, seat history and qv(day), and a
failed, cancelled or shifting sync that never reads as "the vendor has fewer seats"."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from app.domain.seat_history import Source
from app.models.activity import Alert
from app.models.connections import Connection, SyncRun
from app.models.vendor import (
    ChargeLine,
    SeatLot,
    SubscriptionSnapshot,
    VendorCustomer,
    VendorInvoice,
    VendorProduct,
    VendorSubscription,
)
from app.models.workspace import Workspace
from app.services.connections import add_connection
from app.services.seat_history import seat_lots, vendor_quantity
from app.services.sync import sync_all, sync_connection
from app.sync.pax8.sandbox import Pax8Sandbox
from app.sync.sandbox.base import SERVER_ERROR

BASE = "https://api.pax8.com/v1"
TODAY = date(2025, 2, 3)
JAN_31_2330 = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
VENDOR_TABLES = (VendorCustomer, VendorProduct, VendorSubscription, SubscriptionSnapshot,
                 SeatLot, VendorInvoice, ChargeLine)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def sandbox():
    return Pax8Sandbox.seeded(customers=12, subscriptions=60, seed=2, today=TODAY)


def open_workspace(db_path, sandbox) -> Workspace:
    workspace = Workspace.open(db_path)
    add_connection(workspace, name="Pax8", kind="pax8", base_url=BASE,
                   settings={"client_id": sandbox.client_id}, secret=sandbox.client_secret,
                   user="ann")
    return workspace


@pytest.fixture()
def ws(db_path, sandbox):
    workspace = open_workspace(db_path, sandbox)
    yield workspace
    workspace.close()


@pytest.fixture()
def two_pages(db_path):
    """Over 200 subscriptions, so the subscription list takes two pages."""
    sandbox = Pax8Sandbox.seeded(customers=15, subscriptions=260, seed=5, today=TODAY)
    workspace = open_workspace(db_path, sandbox)
    yield workspace, sandbox
    workspace.close()


def sync(ws, sandbox, when: datetime, **kw):
    return sync_connection(ws, "Pax8", transport=httpx.MockTransport(sandbox),
                           clock=Clock(when), **kw)


def our_subscription(sandbox, quantity=5, start=date(2024, 6, 1)):
    company = next(iter(sandbox.store.companies))
    return sandbox.add_subscription(company, "Microsoft 365 Business Premium", quantity,
                                    billing_term="Monthly", commitment="1-Year", start=start)


def dump(ws):
    """Every vendor row, to prove a failed sync changed nothing."""
    with ws.begin() as s:
        return {model.__tablename__: sorted(tuple(str(v) for v in row) for row in s.execute(
            select(*model.__table__.columns))) for model in VENDOR_TABLES}


def history_requests(sandbox):
    return [p for m, p in sandbox.log if m == "GET" and p.endswith("/history")]


def test_first_sync_stores_a_dated_snapshot_of_everything(ws, sandbox):
    result = sync(ws, sandbox, datetime(2025, 2, 3, 9, tzinfo=UTC))
    assert result.status == "complete", result.error
    counts = result.counts
    assert counts["subscriptions"] == len(sandbox.store.subscriptions) == counts["snapshots"]
    assert counts["histories"] == len(sandbox.store.subscriptions)  # all new: all histories
    assert counts["new_invoices"] == len(sandbox.store.invoices)
    assert counts["charge_lines"] > 0 and counts["lots_derived"] > 0
    with ws.begin() as s:
        taken = set(s.scalars(select(SubscriptionSnapshot.taken_at)))
        usage = s.scalars(select(ChargeLine).where(ChargeLine.is_usage.is_(True))).all()
        run = s.scalar(select(SyncRun))
        assert s.scalar(select(Connection.last_sync_at)) == datetime(2025, 2, 3, 9, tzinfo=UTC)
    assert taken == {datetime(2025, 2, 3, 9, tzinfo=UTC)}
    assert usage and any(line.charge_type == "usage" for line in usage)
    assert (run.status, run.counts["subscriptions"]) == ("complete", 60)


def test_unchanged_subscriptions_cost_no_history_request(ws, sandbox):
    sync(ws, sandbox, datetime(2025, 2, 3, 9, tzinfo=UTC))
    before = len(history_requests(sandbox))
    again = sync(ws, sandbox, datetime(2025, 2, 4, 9, tzinfo=UTC))
    assert again.status == "complete"
    assert again.counts["histories"] == 0 and len(history_requests(sandbox)) == before
    assert again.counts["new_invoices"] == 0 and again.counts["charge_lines"] == 0
    assert again.counts["snapshots"] == 60


@pytest.mark.parametrize(("zone", "day_of_change"), [
    ("UTC", date(2025, 1, 31)), ("America/New_York", date(2025, 1, 31)),
    ("Europe/Berlin", date(2025, 2, 1))])
def test_seat_add_at_2330_utc_on_31_january(ws, sandbox, zone, day_of_change):
    sub = our_subscription(sandbox)
    sync(ws, sandbox, datetime(2025, 1, 31, 20, tzinfo=UTC), zone=ZoneInfo(zone))
    sandbox.set_quantity(sub["id"], 8, JAN_31_2330)
    result = sync(ws, sandbox, datetime(2025, 2, 1, 6, tzinfo=UTC), zone=ZoneInfo(zone))
    assert result.counts["histories"] == 1 and result.counts["changed_subscriptions"] == 1
    qv = vendor_quantity(ws, "Pax8", sub["id"])
    assert qv.quantity_on(day_of_change - timedelta(days=1)) == 5
    assert qv.quantity_on(day_of_change) == 8
    assert qv.quantity_on(date(2025, 3, 1)) == 8
    add = qv.changes[-1]
    assert (add.effective, add.before, add.after, add.source, add.at) == (
        day_of_change, 5, 8, Source.HISTORY, JAN_31_2330)
    first, added = seat_lots(ws, "Pax8", sub["id"])
    assert (added.quantity, added.start, added.end) == (Decimal(3), day_of_change,
                                                        date(2025, 5, 31))  # co-termed
    assert added.unit_cost == first.unit_cost == Decimal("19.80")
    assert added.cancel_window_ends_at == JAN_31_2330 + timedelta(hours=168)


def test_leap_day_change(db_path):
    sandbox = Pax8Sandbox.seeded(customers=3, subscriptions=5, seed=4, today=date(2024, 3, 2))
    workspace = open_workspace(db_path, sandbox)
    sub = our_subscription(sandbox, 4, start=date(2024, 2, 1))
    sync(workspace, sandbox, datetime(2024, 2, 28, 22, tzinfo=UTC))
    sandbox.set_quantity(sub["id"], 2, datetime(2024, 2, 29, 10, tzinfo=UTC))
    sync(workspace, sandbox, datetime(2024, 3, 1, 22, tzinfo=UTC))
    qv = vendor_quantity(workspace, "Pax8", sub["id"])
    assert [qv.quantity_on(date(2024, 2, d)) for d in (28, 29)] == [4, 2]
    assert qv.quantity_on(date(2024, 3, 1)) == 2
    workspace.close()


def test_cancelled_subscription_stops_on_its_end_date(ws, sandbox):
    sub = our_subscription(sandbox, 6)
    sync(ws, sandbox, datetime(2025, 1, 20, 9, tzinfo=UTC))
    sandbox.cancel_subscription(sub["id"], datetime(2025, 1, 25, 16, tzinfo=UTC))
    result = sync(ws, sandbox, datetime(2025, 1, 26, 9, tzinfo=UTC))
    assert result.counts["changed_subscriptions"] == 1
    qv = vendor_quantity(ws, "Pax8", sub["id"])
    assert qv.quantity_on(date(2025, 1, 24)) == 6
    assert qv.quantity_on(date(2025, 1, 25)) == 0
    assert qv.changes[-1].note == "status Cancelled"
    assert {lot.end for lot in seat_lots(ws, "Pax8", sub["id"])} == {date(2025, 1, 24)}


def test_subscription_gone_from_a_complete_snapshot_is_missing_not_deleted(ws, sandbox):
    sub = our_subscription(sandbox, 6)
    sync(ws, sandbox, datetime(2025, 1, 20, 9, tzinfo=UTC))
    del sandbox.store.subscriptions[sub["id"]]
    result = sync(ws, sandbox, datetime(2025, 1, 22, 9, tzinfo=UTC))
    assert result.counts["missing_subscriptions"] == 1 and result.counts["lots_closed"] == 1
    with ws.begin() as s:
        row = s.scalar(select(VendorSubscription)
                       .where(VendorSubscription.external_id == sub["id"]))
        assert (row.status, row.updated_at, row.quantity) == (
            "Missing", datetime(2025, 1, 22, 9, tzinfo=UTC), Decimal(6))
    qv = vendor_quantity(ws, "Pax8", sub["id"])
    assert qv.quantity_on(date(2025, 1, 21)) == 6 and qv.quantity_on(date(2025, 1, 22)) == 0


def test_subscription_back_after_a_listing_glitch_has_no_gap(ws, sandbox):
    sub = our_subscription(sandbox, 6)
    sync(ws, sandbox, datetime(2025, 1, 20, 9, tzinfo=UTC))
    kept = sandbox.store.subscriptions.pop(sub["id"])
    sync(ws, sandbox, datetime(2025, 1, 22, 9, tzinfo=UTC))
    sandbox.store.subscriptions[sub["id"]] = kept
    result = sync(ws, sandbox, datetime(2025, 1, 23, 9, tzinfo=UTC))
    assert result.counts["histories"] == 1  # Missing -> Active: its history is read again
    qv = vendor_quantity(ws, "Pax8", sub["id"])
    assert [qv.quantity_on(date(2025, 1, d)) for d in (21, 22, 23)] == [6, 6, 6]


def test_failed_sync_after_a_good_one_changes_nothing(ws, sandbox):
    sub = our_subscription(sandbox)
    sync(ws, sandbox, datetime(2025, 2, 3, 9, tzinfo=UTC))
    before, qv_before = dump(ws), vendor_quantity(ws, "Pax8", sub["id"])
    sandbox.set_quantity(sub["id"], 1, datetime(2025, 2, 3, 10, tzinfo=UTC))
    sandbox.inject(SERVER_ERROR, path="^/invoices$")  # after subscriptions were read
    result = sync(ws, sandbox, datetime(2025, 2, 3, 11, tzinfo=UTC))
    assert result.status == "failed" and "HTTP 500" in result.error
    assert dump(ws) == before
    assert vendor_quantity(ws, "Pax8", sub["id"]) == qv_before
    with ws.begin() as s:
        alert = s.scalar(select(Alert).where(Alert.kind == "sync_failed"))
        runs = [r.status for r in s.scalars(select(SyncRun).order_by(SyncRun.id))]
    assert "previous data is kept" in alert.message and alert.resolved_at is None
    assert runs == ["complete", "failed"]

    ok = sync(ws, sandbox, datetime(2025, 2, 3, 12, tzinfo=UTC))
    assert ok.status == "complete"
    assert vendor_quantity(ws, "Pax8", sub["id"]).quantity_on(date(2025, 2, 3)) == 1
    with ws.begin() as s:
        assert s.scalar(select(Alert.resolved_at)) is not None


def test_cancel_mid_way_changes_nothing(ws, sandbox):
    sync(ws, sandbox, datetime(2025, 2, 3, 9, tzinfo=UTC))
    before = dump(ws)
    for sub_id in list(sandbox.store.subscriptions)[:5]:
        sandbox.set_quantity(sub_id, 30, datetime(2025, 2, 3, 10, tzinfo=UTC))
    cancel = threading.Event()

    def progress(done, total, message):
        if "history" in message and done == 2:  # two of five histories read
            cancel.set()

    result = sync(ws, sandbox, datetime(2025, 2, 3, 11, tzinfo=UTC), progress=progress,
                  cancel=cancel)
    assert result.status == "cancelled"
    assert dump(ws) == before
    with ws.begin() as s:
        assert s.scalar(select(SyncRun.status).order_by(SyncRun.id.desc())) == "cancelled"
        assert s.scalar(select(Alert)) is None  # the user's own cancel is not an alert


def test_subscriptions_shifting_between_pages_still_give_a_complete_snapshot(two_pages):
    workspace, sandbox = two_pages
    added = {}

    def new_customer_and_subscription(sb):
        company = sb.add_company("Aardvark Accounting")
        added["sub"] = sb.add_subscription(company["id"], "Microsoft 365 E3", 9,
                                           start=date(2020, 1, 1))

    sandbox.after_page("/subscriptions", 0, new_customer_and_subscription)
    result = sync(workspace, sandbox, datetime(2025, 2, 3, 9, tzinfo=UTC))
    assert result.status == "complete", result.error
    assert result.counts["subscriptions"] == 261
    with workspace.begin() as s:
        stored = set(s.scalars(select(VendorSubscription.external_id)))
        customers = set(s.scalars(select(VendorCustomer.external_id)))
    assert stored == set(sandbox.store.subscriptions) and added["sub"]["id"] in stored
    assert added["sub"]["companyId"] in customers  # the companies were read again


def test_data_that_never_settles_fails_and_keeps_the_last_snapshot(two_pages):
    ws, sandbox = two_pages
    sync(ws, sandbox, datetime(2025, 2, 3, 9, tzinfo=UTC))
    before = dump(ws)
    counter = iter(range(100))
    company = next(iter(sandbox.store.companies))
    sandbox.after_page("/subscriptions", 0, lambda sb: sb.add_subscription(
        company, "Microsoft 365 E3", next(counter) + 1), times=10)
    result = sync(ws, sandbox, datetime(2025, 2, 3, 11, tzinfo=UTC))
    assert result.status == "failed" and "kept changing" in result.error
    assert dump(ws) == before


def test_sync_all_includes_pax8(ws, sandbox, monkeypatch):
    seen = []
    monkeypatch.setattr("app.services.sync.sync_connection",
                        lambda ws, name, **kw: seen.append(name))
    sync_all(ws)
    assert seen == ["Pax8"]


def test_subscription_of_a_company_the_vendor_never_lists_fails_cleanly(ws, sandbox):
    sync(ws, sandbox, datetime(2025, 2, 3, 9, tzinfo=UTC))
    before = dump(ws)
    sub = our_subscription(sandbox)
    sub["companyId"] = "00000000-0000-4000-8000-00000000dead"
    result = sync(ws, sandbox, datetime(2025, 2, 3, 11, tzinfo=UTC))
    assert result.status == "failed" and "VendorDataError" in result.error
    assert dump(ws) == before
