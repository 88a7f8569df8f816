"""The period's usage read in the background: the same groups as a plain read, exact sums,
and never a snapshot other than the caller's."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Text, cast, column, create_engine, event, func, select, table, update

import app.services.reconcile_charges as charges
from app.domain.periods import BillingPeriod
from app.models import entities as m
from app.models import usage_days
from app.models.types import stored_places
from app.models.workspace import Workspace
from app.services.reconcile import one_snapshot
from app.services.reconcile_book import decimal_sum, usage_charges
from app.services.reconcile_charges import UsageRead, indexed_by
from app.sync.vendor_store import STATISTICS_AFTER, refresh_statistics

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


@pytest.fixture(params=["lines", "days"])
def ws(db_path, request):
    """A workspace whose usage is read from its lines, or from the usage added up by day
    (app.models.usage_days), which `_groups` then folds in first: every test reads both
    ways and gets the same."""
    workspace = Workspace.open(db_path)
    workspace.usage_from = request.param
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
    if getattr(ws, "usage_from", "lines") == "days":
        with ws.begin() as session:
            usage_days.fold(session.connection())
    with ws.begin() as session:
        one_snapshot(session)
        read = UsageRead(session, MARCH, background=background)
        assert read.days == (getattr(ws, "usage_from", "lines") == "days"
                             and usage_days.current(session.connection()))
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
             "\x1f3.5\x1f1\x1f0.3\x1f1"
    rows = charges._unpacked(packed)
    assert rows == [(1, "s1", "USD", "USD", "new", None, None, "2026-03-01", "2026-03-02",
                     "k", 2, "3.5", "1", "0.3", "1")]
    assert charges._grouped(rows) == [((1, "s1"), (
        "new", None, "USD", "2026-03-01", "2026-03-02", "k", 2, "3.5", "0.3"))]
    assert charges._unpacked(None) == [] and charges._unpacked("1\x1fs1") is None


# --- exact sums from SQLite's float SUM ----------------------------------------------------

decimal_texts = st.lists(
    st.builds(lambda units, places: format(Decimal(units).scaleb(-places), "f"),
              st.integers(min_value=-10**8, max_value=10**12), st.integers(0, 9)),
    min_size=1, max_size=400)


def _sqlite_sums(texts: list[str]) -> tuple[tuple, tuple]:
    """What the usage read gets for these texts, each line with its places as a writer
    gives them: SQLite's row, and its packed (text) form."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (v TEXT, p INTEGER)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(t, stored_places(t)) for t in texts])
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        sums = charges._summed(conn, column("v"), column("p"))
        query = select(*sums, func.count()).select_from(table("t"))
        packed = select(*(cast(c, Text) for c in sums)).select_from(table("t"))
        row = db.execute(*charges._statement(query, conn)).fetchone()
        text = db.execute(*charges._statement(packed, conn)).fetchone()
    return row, (*text, row[-1])


@settings(max_examples=300, deadline=None)
@given(decimal_texts)
def test_a_float_sum_is_taken_only_when_proven_exact(texts):
    """Whatever the lines, a sum is either the exact Decimal sum of their texts, digit for
    digit (the same places Decimal addition keeps), or None: never a float's rounding."""
    exact = format(decimal_sum(";".join(texts)), "f")
    for row in _sqlite_sums(texts):
        assert charges.exact_sum(*row) in (None, exact)


usage_texts = st.integers(0, 6).flatmap(lambda places: st.integers(0, 10**(3 + places)).map(
    lambda units: format(Decimal(units).scaleb(-places), "f")))


@settings(max_examples=200, deadline=None)
@given(st.lists(usage_texts, min_size=1, max_size=800))
def test_usage_like_sums_are_proven_exact(texts):
    """Non-negative lines of up to six places and up to a thousand currency units each (a
    month of daily usage), hundreds of them: the float sum is proven exact, so no group is
    read twice."""
    exact = format(decimal_sum(";".join(texts)), "f")
    for row in _sqlite_sums(texts):
        assert charges.exact_sum(*row) == exact


def _read_again(monkeypatch, queries: list | None = None) -> list:
    """The keys of the groups read again (filled as they are), and in `queries` the keys of
    each query that read them."""
    again: list = []
    groups = charges._usage_groups

    def read(*args, **kwargs):
        keys = kwargs.get("again")
        if keys:
            again.extend(keys)
            if queries is not None:
                queries.append(list(keys))
        return groups(*args, **kwargs)

    monkeypatch.setattr(charges, "_usage_groups", read)
    return again


@pytest.mark.parametrize("background", [True, False])
def test_a_credit_line_makes_the_group_read_again_as_texts(ws, monkeypatch, background):
    """A group holding a negative line: its float sum cannot be proven exact, so that group
    alone is read again (once, by the background read when there is one) as its lines'
    texts, and added up in Decimal."""
    with ws.begin() as s:
        s.add_all([_usage_line(1, "c1", 1, "12.10", subscription="s4"),
                   _usage_line(1, "c2", 2, "-0.300", subscription="s4")])
    again = _read_again(monkeypatch)
    read, usage = _groups(ws, background)
    assert again == [(1, "s4")]
    if background:  # read again there, not here after a failed background read
        assert usage._threads and not any(t.error for t in usage._threads)
        assert usage.same_snapshot
    [charge] = usage_charges(read[(1, "s4")], "USD")
    assert (charge.quantity, str(charge.amount)) == (Decimal("3.0"), "11.800")
    [x] = usage_charges(read[(1, "s2")], "USD")  # proven exact from its float sum
    assert str(x.amount) == "7.25"


@pytest.mark.parametrize("background", [True, False])
def test_a_line_written_without_its_places_is_added_up_in_decimal(ws, monkeypatch, background):
    """Places unknown (a line written by hand, say) prove nothing: that group is read again
    as its lines' texts."""
    with ws.begin() as s:
        s.add_all([_usage_line(1, "n1", 1, "12.10", subscription="s5"),
                   _usage_line(1, "n2", 2, "0.005", subscription="s5")])
        s.execute(update(m.ChargeLine).where(m.ChargeLine.line_key == "n2")
                  .values(amount_places=None))
    again = _read_again(monkeypatch)
    read, _ = _groups(ws, background)
    assert again == [(1, "s5")]
    [charge] = usage_charges(read[(1, "s5")], "USD")
    assert str(charge.amount) == "12.105"


def test_groups_read_again_are_read_together(ws, monkeypatch):
    """Groups whose float sums cannot be proven exact (here each holds a credit) are read
    again a few hundred to a query, not one by one; each still adds up exactly."""
    monkeypatch.setattr(charges, "READ_AGAIN_AT_ONCE", 2)
    subs = [f"p{n}" for n in range(5)]
    with ws.begin() as s:
        s.add_all([_usage_line(1, f"{sub}-{day}", day, total, subscription=sub)
                   for sub in subs for day, total in ((1, "4.10"), (2, "-0.25"))])
    queries: list = []
    again = _read_again(monkeypatch, queries)
    read, usage = _groups(ws, True)
    assert all(t.texts == charges.SUMS for t in usage._threads)  # few places: float first
    assert sorted(again) == [(1, sub) for sub in subs]
    assert sorted(map(len, queries)) == [1, 2, 2]
    for sub in subs:
        [charge] = usage_charges(read[(1, sub)], "USD")
        assert str(charge.amount) == "3.85"


@pytest.mark.parametrize("background", [True, False])
def test_fifteen_place_usage_is_read_as_texts_at_once(ws, monkeypatch, background):
    """A month of Partner Center daily usage has 15-place amounts: no float sum of them can
    be proven exact, so the background read sees it in its first lines and reads every
    group's amounts as texts at once (its quantities, of few places, still summed), with
    no float pass to throw away and nothing read again. The caller's own read sums in
    float first and reads the groups again: the same sums."""
    subs = [f"p{n}" for n in range(5)]
    with ws.begin() as s:
        s.add_all([_usage_line(1, f"{sub}-{day}", day, "0.486031696515249", subscription=sub)
                   for sub in subs for day in (1, 2)])
    again = _read_again(monkeypatch)
    read, usage = _groups(ws, background)
    if background:
        assert usage._threads and all(t.texts == (False, True) and t.error is None
                                      for t in usage._threads)
        assert again == []
    else:
        assert sorted(again) == [(1, sub) for sub in subs]
    for sub in subs:
        [charge] = usage_charges(read[(1, sub)], "USD")
        assert str(charge.amount) == "0.972063393030498"
    [usd] = usage_charges(read[(1, "s1")], "USD")  # the fixture's few-place lines too
    assert usd.amount == Decimal("0.230649")


@pytest.mark.parametrize("background", [True, False])
@pytest.mark.parametrize("quantity", ["-0.5", "0.000000000000001"])
def test_a_group_read_as_texts_without_amounts_is_kept(ws, background, quantity):
    """Usage lines without a total or subtotal, in a group read as texts (a credit read
    again; 15-place quantities read at once): their amounts add up to nothing, and the
    group is still there, never taken for one still to be read."""
    with ws.begin() as s:
        for key, day in (("z1", 1), ("z2", 2)):
            line = _usage_line(1, key, day, "0", subscription="s7")
            line.quantity, line.total = Decimal(quantity), None
            s.add(line)
    read, _ = _groups(ws, background)
    [charge] = usage_charges(read[(1, "s7")], "USD")
    assert (charge.quantity, charge.amount) == (Decimal(quantity) * 2, Decimal(0))


def test_groups_are_read_again_one_connection_at_a_time(ws):
    with ws.begin() as s, pytest.raises(ValueError, match="one connection at a time"):
        charges._usage_groups(s.connection(), MARCH, again=[(1, "a"), (2, "b")])


def test_places_follow_an_amount_however_it_is_updated(ws):
    """A line's amount changed by any statement: its places change with it, so its group's
    float sum is never rounded to the places the line had before."""
    with ws.begin() as s:
        s.add_all([_usage_line(1, "m1", 1, "12.10", subscription="s6"),
                   _usage_line(1, "m2", 2, "0.25", subscription="s6")])
    with ws.begin() as s:
        s.connection().exec_driver_sql(
            "UPDATE charge_lines SET total = '0.123456', quantity = '-2' WHERE line_key = 'm2'")
    with ws.begin() as s:
        assert s.execute(select(m.ChargeLine.quantity_places, m.ChargeLine.amount_places)
                         .where(m.ChargeLine.line_key == "m2")).one() == (100, 6)
    read, _ = _groups(ws, True)
    [charge] = usage_charges(read[(1, "s6")], "USD")
    assert (str(charge.quantity), str(charge.amount)) == ("-0.5", "12.223456")


def test_the_background_read_splits_at_a_middle_subscription(ws):
    """With subscriptions on file the usage lines are read in two key ranges, on two
    connections, and together they give what one plain read gives."""
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
    assert read.same_snapshot and background == plain
    assert sorted(k[1] for k in background) == ["s1", "s2", "s3"]
    if ws.usage_from == "days":  # a tenth of the work: one range
        assert len(read._threads) == 1
        return
    assert len(read._threads) == 2
    first, second = ({row[0][1] for row in t.rows} for t in read._threads)
    assert first and second and not first & second  # each key in one range only


@pytest.mark.postgres
def test_postgresql_sums_usage_exactly(postgres_url):
    """PostgreSQL adds NUMERIC exactly: the sum keeps the most places of its lines."""
    workspace = Workspace.open(postgres_url)
    try:
        with workspace.begin() as s:
            pc = m.Connection(name="Partner Center", kind="partner_center", side="vendor")
            s.add(pc)
            s.flush()
            s.add_all([_usage_line(pc.id, "u1", 1, "0.130650"),
                       _usage_line(pc.id, "u2", 2, "0.1"),
                       _usage_line(pc.id, "u3", 3, "-0.000001"),
                       _usage_line(pc.id, "x1", 1, "7.25", subscription="s2"),
                       _usage_line(pc.id, "x2", 1, "1.00", subscription="s2"),
                       _usage_line(pc.id, "x3", 1, "5.00", subscription="s2")])
            x2, x3 = s.scalars(select(m.ChargeLine).where(m.ChargeLine.line_key.in_(
                ["x2", "x3"])).order_by(m.ChargeLine.line_key)).all()
            x2.charge_start, x2.charge_end = date(2026, 2, 20), date(2026, 3, 10)  # spanning
            x3.charge_start = x3.charge_end = date(2026, 2, 10)  # February's
            keys = (pc.id, "s1"), (pc.id, "s2")
        groups, _ = _groups(workspace, False)
        [usd] = usage_charges(groups[keys[0]], "USD")
        assert (str(usd.quantity), str(usd.amount)) == ("4.5", "0.230649")
        [spanning] = usage_charges(groups[keys[1]], "USD")
        assert (spanning.start, str(spanning.amount)) == (date(2026, 2, 20), "8.25")
    finally:
        workspace.close()


def test_seat_lines_are_searched_by_their_end_day_not_scanned(ws):
    """Years of seat lines stay cheap: the period's are found by two searches of the seat
    index (open-ended lines, and lines ending in the period or later), never a scan, and
    in the index's order."""
    def seat(key: str, start: date, end: date | None) -> m.ChargeLine:
        return m.ChargeLine(connection_id=1, line_key=key, customer_external_id="c1",
                            subscription_external_id="e3", sku="E3", product_name="E3",
                            charge_type="renew", charge_start=start, charge_end=end,
                            quantity=Decimal(5), unit_price=Decimal(20), total=Decimal(100),
                            currency="USD", invoice_number="G0", is_usage=False)

    with ws.begin() as s:
        s.add_all([seat("old", date(2024, 1, 1), date(2024, 1, 31)),
                   seat("march", date(2026, 3, 1), date(2026, 3, 31)),
                   seat("open", date(2025, 6, 1), None),
                   seat("april", date(2026, 4, 1), date(2026, 4, 30))])
    statements = []

    @event.listens_for(ws.engine, "before_cursor_execute")
    def seen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if "is_usage IS 0" in statement:
            statements.append((statement, parameters))

    with ws.begin() as session:
        rows = charges.seat_rows(session, MARCH)
        event.remove(ws.engine, "before_cursor_execute", seen)
        plans = [session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}",
                                                      params).all()
                 for sql, params in statements]
    assert [row[0] for row in rows[(1, "e3")]] == ["open", "march"]
    assert len(plans) == 2
    for plan in plans:
        [step] = [row[-1] for row in plan]
        assert step.startswith("SEARCH") and "ix_charge_lines_seats" in step, step


@pytest.mark.parametrize("background", [True, False])
def test_usage_of_earlier_months_is_not_read_yet_lines_spanning_into_the_period_are(
        ws, background):
    """The grouped read takes the lines starting in the period (a search, not every day of
    usage ever imported); a line that started before and ends in the period, or never,
    still counts, its subscription read again whole."""
    def line(key: str, subscription: str, start: date, end: date | None, total: str
             ) -> m.ChargeLine:
        usage = _usage_line(1, key, 1, total, subscription=subscription)
        usage.charge_start, usage.charge_end = start, end
        return usage

    with ws.begin() as s:
        s.add_all([line("f1", "s1", date(2026, 2, 10), date(2026, 2, 10), "9.99"),
                   line("f2", "s1", date(2026, 2, 28), date(2026, 2, 28), "9.99"),
                   line("p1", "s7", date(2026, 2, 20), date(2026, 3, 10), "30.00"),
                   line("p2", "s7", date(2026, 3, 5), date(2026, 3, 5), "1.25"),
                   line("p3", "s7", date(2026, 1, 1), date(2026, 1, 31), "8.00"),
                   line("o1", "s8", date(2026, 1, 1), None, "4.5")])
    groups, _ = _groups(ws, background)
    s1 = [g for g in groups[(1, "s1")] if g[2] == "USD"]
    assert [g[6] for g in s1] == [3]  # February's lines are not March's
    [s7] = usage_charges(groups[(1, "s7")], "USD")
    assert (s7.start, s7.end, s7.charge_id, s7.amount) == (
        date(2026, 2, 20), date(2026, 3, 10), "p1 (+1 usage lines)", Decimal("31.25"))
    [s8] = usage_charges(groups[(1, "s8")], "USD")
    assert (s8.start, s8.charge_id, s8.amount) == (date(2026, 1, 1), "o1", Decimal("4.5"))


def test_the_grouped_usage_read_searches_the_period_only(ws):
    """With the statistics an import leaves, SQLite searches each subscription's lines
    from the period's first day to its last, whatever history lies before."""
    history = []
    for n in range(STATISTICS_AFTER):  # 20 subscriptions, a line a day since January
        usage = _usage_line(1, f"h{n}", 1, "0.5", subscription=f"h{n % 20}")
        usage.charge_start = usage.charge_end = date(2026, 1, 1) + timedelta(days=n % 90)
        history.append(usage)
    with ws.begin() as session:
        session.add_all(history)
        session.flush()
        refresh_statistics(session)
    statements = []

    @event.listens_for(ws.engine, "before_cursor_execute")
    def seen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append((statement, parameters))

    with ws.begin() as session:
        conn = session.connection()
        grouped_sql = charges._statement(charges._usage_groups(conn, MARCH), conn)
        assert charges._spanning(conn, MARCH) == set()
        event.remove(ws.engine, "before_cursor_execute", seen)
        plans = [[row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}",
                                                          params).all()]
                 for sql, params in [grouped_sql, *statements]]
    grouped, *spanning = plans
    assert any(s.startswith("SEARCH") and "charge_start>?" in s and "charge_start<?" in s
               for s in grouped), grouped
    assert len(spanning) == 2
    for plan in spanning:
        assert any(s.startswith("SEARCH") and "ix_charge_lines_usage_spans" in s
                   for s in plan), plan


@pytest.mark.parametrize("sql", [
    "SELECT 1 FROM vendor_subscriptions",
    "SELECT 1 FROM charge_lines JOIN charge_lines AS b ON 1 WHERE 1 IN (SELECT 1 FROM charge_lines )",
])
def test_a_statement_not_reading_the_charge_lines_once_is_refused_rather_than_left_unindexed(
        sql):
    with pytest.raises(ValueError, match="FROM charge_lines"):
        indexed_by(sql, "ix_charge_lines_subscription")
    assert indexed_by("SELECT 1 FROM charge_lines WHERE 1", "ix") == \
        "SELECT 1 FROM charge_lines INDEXED BY ix WHERE 1"
