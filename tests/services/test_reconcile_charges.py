"""The period's usage read in the background: the same groups as a plain read, exact sums,
and never a snapshot other than the caller's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

import app.services.reconcile_charges as charges
from app.domain.periods import BillingPeriod
from app.models import entities as m
from app.models.workspace import Workspace
from app.services.reconcile import one_snapshot
from app.services.reconcile_book import usage_charges
from app.services.reconcile_charges import UsageRead

MARCH = BillingPeriod.month(2026, 3)


def _usage_line(connection_id: int, key: str, day: int, total: str, subscription: str = "s1",
                currency: str = "USD") -> m.ChargeLine:
    return m.ChargeLine(connection_id=connection_id, line_key=key, customer_external_id="c1",
                        subscription_external_id=subscription, sku="AZ",
                        product_name="Azure plan", charge_type="new",
                        charge_start=date(2026, 3, day), charge_end=date(2026, 3, day),
                        quantity=Decimal("1.5"), unit_price=Decimal("0.0871"),
                        total=Decimal(total), currency=currency, invoice_number="G1",
                        is_usage=True)


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    with workspace.begin() as s:
        pc = m.Connection(name="Partner Center", kind="partner_center", side="vendor")
        s.add(pc)
        s.flush()
        s.add_all([_usage_line(pc.id, "u1", 1, "0.130650"), _usage_line(pc.id, "u2", 2, "0.1"),
                   _usage_line(pc.id, "u3", 3, "-0.000001"),
                   _usage_line(pc.id, "e1", 3, "2.5", currency="EUR"),
                   _usage_line(pc.id, "x1", 4, "7.25", subscription="s2")])
    yield workspace
    workspace.close()


def _groups(ws: Workspace, background: bool) -> tuple[dict, UsageRead]:
    with ws.begin() as session:
        one_snapshot(session)
        read = UsageRead(session, MARCH, background=background)
        return dict(read.groups(session)), read


def test_the_background_read_gives_what_a_plain_read_gives(ws):
    background, read = _groups(ws, True)
    plain, _ = _groups(ws, False)
    assert read._threads and read.same_snapshot
    assert background == plain
    [(_, s1)] = [(k, v) for k, v in background.items() if k[1] == "s1"]
    assert {g[2]: g[6] for g in s1} == {"USD": 3, "EUR": 1}  # lines per currency
    [usd] = usage_charges(s1, "USD")
    assert (usd.quantity, usd.amount) == (Decimal("4.5"), Decimal("0.230649"))  # exact sums
    assert usd.charge_id == "u1 (+2 usage lines)"
    [eur] = usage_charges(s1, "EUR")
    assert (eur.quantity, eur.amount) == (Decimal("1.5"), Decimal("2.5"))


def test_a_commit_between_the_two_snapshots_falls_back_to_the_callers(ws, db_path,
                                                                        monkeypatch):
    """Another connection commits a usage line after the background read noted the data
    version: the two snapshots may differ, so the caller's own read is used, and it is the
    caller's snapshot that counts."""
    version, committed = charges._data_version, []

    def version_then_commit(cursor):
        seen = version(cursor)
        if not committed:
            committed.append(True)
            other = Workspace.open(db_path)
            with other.begin() as s:
                s.add(_usage_line(1, "late", 5, "1.000000"))
            other.close()
        return seen

    monkeypatch.setattr(charges, "_data_version", version_then_commit)
    groups, read = _groups(ws, True)
    assert committed and read._threads and not read.same_snapshot
    s1 = [g for k, v in groups.items() if k[1] == "s1" for g in v if g[2] == "USD"]
    [usd] = usage_charges(s1, "USD")
    assert (s1[0][6], usd.quantity, usd.amount) == (4, Decimal("6.0"), Decimal("1.230649"))


def test_unbilled_usage_of_a_day_with_billed_usage_is_the_same_usage(ws):
    with ws.begin() as s:  # the unbilled file, imported before the invoice's
        for key, day, total in (("n1", 1, "0.130650"), ("n2", 1, "5.00"), ("n9", 9, "0.40")):
            line = _usage_line(1, key, day, total)
            line.invoice_number = None
            s.add(line)
    groups, _ = _groups(ws, True)
    usd = [g for k, v in groups.items() if k[1] == "s1" for g in v if g[2] == "USD"]
    lines = sum(g[6] for g in usd)
    amount = sum(c.amount for c in usage_charges(usd, "USD"))
    assert (lines, amount) == (4, Decimal("0.630649"))  # of the unbilled, day 9 only counts


def test_the_packed_background_read_keeps_missing_values_and_odd_text(ws, monkeypatch):
    """The background read gets every group in one text value; a missing invoice stays
    missing, and a value holding a separator makes it read the groups row by row."""
    with ws.begin() as s:
        line = _usage_line(1, "odd\x1fkey", 6, "1.25", subscription="s3")
        line.invoice_number = None
        s.add(line)
    unpack, unpacked = charges._unpacked, []
    monkeypatch.setattr(charges, "_unpacked",
                        lambda text: unpacked.append(unpack(text)) or unpacked[-1])
    background, read = _groups(ws, True)
    plain, _ = _groups(ws, False)
    assert unpacked == [None]  # the separator in the key: read again row by row
    assert read.same_snapshot and background == plain
    [s3] = [v for k, v in background.items() if k[1] == "s3"]
    assert s3[0][1] is None and s3[0][5] == "odd\x1fkey"


def test_packed_groups_come_back_as_rows():
    packed = "1\x1fs1\x1fUSD\x1fUSD\x1fnew\x1f\x1d\x1f\x1d\x1f2026-03-01\x1f2026-03-02\x1fk\x1f2" \
             "\x1f1.5;2\x1f0.1;0.2"
    assert charges._unpacked(packed) == [(1, "s1", "USD", "USD", "new", None, None,
                                          "2026-03-01", "2026-03-02", "k", 2, "1.5;2",
                                          "0.1;0.2")]
    assert charges._unpacked(None) == [] and charges._unpacked("1\x1fs1") is None


def test_the_background_read_splits_at_a_middle_subscription(ws):
    """With subscriptions on file the usage is read in two key ranges, on two connections,
    and together they give what one plain read gives."""
    with ws.begin() as s:
        customer = m.VendorCustomer(connection_id=1, external_id="c1", name="C1")
        s.add(customer)
        s.flush()
        for external_id in ("s1", "s2", "s3"):
            s.add(m.VendorSubscription(connection_id=1, customer_id=customer.id,
                                       external_id=external_id, sku="AZ",
                                       product_name="Azure plan", quantity=Decimal(1),
                                       currency="USD", status="Active",
                                       updated_at=datetime(2026, 3, 1, tzinfo=UTC)))
        s.add(_usage_line(1, "y1", 7, "3.5", subscription="s3"))
    background, read = _groups(ws, True)
    plain, _ = _groups(ws, False)
    assert len(read._threads) == 2 and read.same_snapshot and background == plain
    assert sorted(k[1] for k in background) == ["s1", "s2", "s3"]
    first, second = ({row[0][1] for row in t.rows} for t in read._threads)
    assert first and second and not first & second  # each key in one range only
