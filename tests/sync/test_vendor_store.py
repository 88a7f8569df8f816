"""Storing vendor snapshots: upserts, dated snapshot rows, Missing marking, charge-line
dedupe, exact money, and nothing written when the data does not hang together."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.models import usage_days
from app.models.connections import Connection, SyncRun
from app.models.vendor import (
    ChargeLine,
    SubscriptionSnapshot,
    VendorCustomer,
    VendorInvoice,
    VendorProduct,
    VendorSubscription,
)
from app.models.workspace import Workspace
from app.sync.records import (
    ChargeLineRecord,
    VendorCustomerRecord,
    VendorInvoiceRecord,
    VendorProductRecord,
    VendorSubscriptionRecord,
)
from app.sync.vendor_store import (
    VendorDataError,
    VendorSnapshot,
    line_key,
    load_baseline,
    store_vendor_snapshot,
)

D = Decimal
T0 = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
T1 = datetime(2025, 2, 1, 6, 0, tzinfo=UTC)


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    with workspace.begin() as s:
        s.add(Connection(name="Pax8", kind="pax8", side="vendor", settings={}))
    yield workspace
    workspace.close()


def customer(ext="c1", name="Cedar Ridge Dental"):
    return VendorCustomerRecord(ext, name, "cedar.example", "Active")


def sub(ext="s1", quantity="5", status="Active", customer_id="c1", cost="12.345", **kw):
    values = dict(external_id=ext, customer_external_id=customer_id, sku="p-bp",
                  product_name="Microsoft 365 Business Premium", quantity=D(quantity),
                  unit_cost=D(cost), unit_price=D("22.00"), currency="USD", term="P1Y",
                  billing_frequency="Monthly", start_date=date(2024, 7, 1),
                  end_date=date(2025, 6, 30), status=status,
                  created_at=datetime(2024, 6, 30, 15, tzinfo=UTC))
    values.update(kw)
    return VendorSubscriptionRecord(**values)


def line(key, quantity="5", usage=False, total="61.73", sub_id="s1", **kw):
    values = dict(source_key=key, customer_external_id="c1", customer_name="Cedar Ridge Dental",
                  subscription_external_id=sub_id, sku="p-bp", product_name="M365 BP",
                  charge_type="usage" if usage else "subscription",
                  charge_start=date(2025, 1, 1), charge_end=date(2025, 1, 31),
                  quantity=D(quantity), unit_price=D("12.345"), exchange_rate=None,
                  subtotal=D(total), total=D(total), currency="USD", invoice_number="inv-1",
                  billing_frequency="Usage" if usage else "Monthly", is_usage=usage)
    values.update(kw)
    return ChargeLineRecord(**values)


def snapshot(subs=(), lines=(), invoices=(), customers=None, complete=True):
    return VendorSnapshot(customers if customers is not None else [customer()],
                          [VendorProductRecord("p-bp", "Microsoft 365 Business Premium",
                                               "Microsoft")],
                          list(subs), {}, list(invoices), list(lines), complete)


def store(ws, snap, taken_at=T0):
    with ws.begin() as s:
        run = SyncRun(connection_id=1, status="running", started_at=T0)
        s.add(run)
        s.flush()
        return store_vendor_snapshot(s, 1, run.id, snap, taken_at=taken_at)


def subscription(ws, ext="s1") -> VendorSubscription:
    with ws.begin() as s:
        return s.scalar(select(VendorSubscription).where(VendorSubscription.external_id == ext))


def snapshots(ws, ext="s1"):
    with ws.begin() as s:
        return [(r.taken_at, r.quantity, r.status, r.end_date) for r in s.scalars(
            select(SubscriptionSnapshot).join(VendorSubscription)
            .where(VendorSubscription.external_id == ext).order_by(SubscriptionSnapshot.id))]


def count(ws, model):
    with ws.begin() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_first_store_writes_every_table_with_exact_money(ws):
    invoice = VendorInvoiceRecord("inv-1", date(2025, 2, 1), date(2025, 2, 15),
                                  D("12345678.901234"), "USD", "Unpaid")
    result = store(ws, snapshot([sub(), sub("s2", "0.045", cost="-0.01")], [line("a")],
                                [invoice]))
    assert (result.customers, result.subscriptions, result.new_subscriptions,
            result.snapshots, result.new_invoices, result.charge_lines) == (1, 2, 2, 2, 1, 1)
    row = subscription(ws, "s2")
    assert (row.quantity, row.unit_cost, row.updated_at) == (D("0.045"), D("-0.01"), T0)
    with ws.begin() as s:
        assert s.scalar(select(VendorInvoice.total)) == D("12345678.901234")
        assert s.scalar(select(ChargeLine.unit_price)) == D("12.345")
        assert s.scalar(select(ChargeLine.extra)) is None
        assert s.scalar(select(VendorProduct.name)) == "Microsoft 365 Business Premium"
        assert s.scalar(select(VendorCustomer.first_seen_at)) == T0
    assert snapshots(ws) == [(T0, D(5), "Active", date(2025, 6, 30))]
    assert set(result.subscription_ids) == {"s1", "s2"}
    assert result.reseated_ids == frozenset(result.subscription_ids.values())


def test_unchanged_store_only_adds_the_dated_snapshot(ws):
    store(ws, snapshot([sub()], [line("a")]))
    again = store(ws, snapshot([sub()], [line("a")]), T1)
    assert (again.new_subscriptions, again.changed_subscriptions, again.charge_lines,
            again.duplicate_charge_lines) == (0, 0, 0, 1)
    assert again.reseated_ids == frozenset()
    assert subscription(ws).updated_at == T0  # the row did not change
    assert [taken for taken, *_ in snapshots(ws)] == [T0, T1]
    assert count(ws, ChargeLine) == 1


def test_a_seat_change_updates_the_current_row_and_asks_for_history(ws):
    store(ws, snapshot([sub()]))
    with ws.begin() as s:
        baseline = load_baseline(s, 1)
    assert not baseline.needs_history(sub())
    assert baseline.needs_history(sub(quantity="7"))
    assert baseline.needs_history(sub(status="Suspended"))
    assert baseline.needs_history(sub("new"))
    result = store(ws, snapshot([sub(quantity="7")]), T1)
    assert result.changed_subscriptions == 1 and result.reseated_ids == {subscription(ws).id}
    row = subscription(ws)
    assert (row.quantity, row.updated_at) == (D(7), T1)
    assert [q for _, q, *_ in snapshots(ws)] == [D(5), D(7)]


def test_a_price_change_alone_keeps_the_seat_lots(ws):
    store(ws, snapshot([sub()]))
    result = store(ws, snapshot([sub(cost="13.00")]), T1)
    assert result.changed_subscriptions == 1 and result.reseated_ids == frozenset()
    assert subscription(ws).unit_cost == D("13.00")


def test_missing_from_a_complete_snapshot_is_marked_never_deleted(ws):
    store(ws, snapshot([sub(), sub("gone"), sub("old", status="Cancelled")]))
    result = store(ws, snapshot([sub()]), T1)
    assert result.missing_subscriptions == 1
    gone = subscription(ws, "gone")
    assert (gone.status, gone.updated_at, gone.quantity) == ("Missing", T1, D(5))
    assert snapshots(ws, "gone")[-1] == (T1, D(5), "Missing", None)
    assert subscription(ws, "old").status == "Cancelled"  # already ended: left as it was
    assert len(snapshots(ws, "old")) == 1

    store(ws, snapshot([sub()]), T1 + timedelta(days=1))  # still missing: no new marker
    assert len(snapshots(ws, "gone")) == 2
    back = store(ws, snapshot([sub(), sub("gone")]), T1 + timedelta(days=2))
    assert subscription(ws, "gone").status == "Active" and back.changed_subscriptions == 1


def test_a_partial_read_marks_nothing_missing(ws):
    store(ws, snapshot([sub(), sub("s2")]))
    result = store(ws, snapshot([sub()], complete=False), T1)
    assert result.missing_subscriptions == 0
    assert subscription(ws, "s2").status == "Active"


def test_subscription_of_an_unknown_company_fails_and_writes_nothing(ws):
    with pytest.raises(VendorDataError, match="changed while it was read"):
        store(ws, snapshot([sub(customer_id="nobody")]))
    assert count(ws, VendorCustomer) == 0 and count(ws, SyncRun) == 0


def test_a_company_from_an_earlier_snapshot_still_counts(ws):
    store(ws, snapshot([sub()]))
    result = store(ws, snapshot([sub()], customers=[]), T1)
    assert result.subscriptions == 1


def test_charge_line_keys_fit_the_column_and_are_stable():
    long = line("x" * 40 + ":" + "2025-01-07|" + "y" * 36 + "|1 Hour")
    assert len(line_key(long)) == 64 and line_key(long) == line_key(long)
    assert line_key(line("short-id")) == "short-id"


def test_usage_lines_follow_the_vendor_and_invoice_lines_are_final(ws):
    usage = line("u" * 90, "3.5", usage=True, total="0.30")
    store(ws, snapshot([sub()], [line("a"), usage]))
    result = store(ws, snapshot([sub()], [line("a", total="99.99"),
                                          replace(usage, quantity=D("7.25"), total=D("0.62"))]),
                   T1)
    assert (result.charge_lines, result.updated_charge_lines) == (0, 1)
    with ws.begin() as s:
        totals = dict(s.execute(select(ChargeLine.charge_type, ChargeLine.total)).all())
        places = s.execute(select(ChargeLine.charge_type, ChargeLine.quantity_places,
                                  ChargeLine.amount_places)).all()
    assert totals == {"subscription": D("61.73"), "usage": D("0.62")}
    # how a usage line's numbers are written, for exact sums, follows its update
    assert sorted(places, key=str) == [("subscription", None, None), ("usage", 2, 2)]
    # its day added up again by the sync, as it now is
    with ws.engine.connect() as conn:
        assert usage_days.current(conn)
        assert conn.exec_driver_sql("SELECT lines, quantity, amount FROM usage_days").all() \
            == [(1, 7.25, 0.62)]
    with ws.begin() as s:
        baseline = load_baseline(s, 1)
    assert baseline.usage_subscriptions == {"s1"}


def test_duplicate_lines_in_one_batch_are_stored_once(ws):
    result = store(ws, snapshot([sub()], [line("a"), line("a")]))
    assert (result.charge_lines, result.duplicate_charge_lines) == (1, 1)


def test_baseline_knows_the_last_invoice(ws):
    invoices = [VendorInvoiceRecord("i1", date(2025, 1, 1), None, D("1.00"), "USD", "Paid"),
                VendorInvoiceRecord("i2", date(2025, 2, 1), None, D("2.00"), "USD", "Unpaid")]
    store(ws, snapshot([sub()], invoices=invoices))
    result = store(ws, snapshot([sub()], invoices=[replace(invoices[1], status="Paid")]), T1)
    assert (result.invoices, result.new_invoices) == (1, 0)
    with ws.begin() as s:
        baseline = load_baseline(s, 1)
        assert s.scalar(select(VendorInvoice.status).where(VendorInvoice.external_id == "i2")) \
            == "Paid"
    assert baseline.last_invoice_date == date(2025, 2, 1)
    assert baseline.invoices == {"i1", "i2"}


def test_naive_snapshot_time_is_refused(ws):
    with pytest.raises(ValueError, match="timezone-aware"):
        store(ws, snapshot([sub()]), datetime(2025, 1, 1))
