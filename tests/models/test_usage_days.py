"""Each day's usage added up from its lines (app.models.usage_days): folded in whoever wrote
the lines, added up again when a line changes or goes, and never taken for current when a
line is left out."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from app.models import usage_days
from app.models.types import text_places
from app.models.workspace import Workspace, make_engine, migrate

CONNECTION = ("INSERT INTO connections (id, name, kind, side, settings, created_at) "
              "VALUES (1, 'pc', 'partner_center', 'vendor', '{}', '2026-01-01 00:00:00')")
LINE = ("INSERT INTO charge_lines (connection_id, line_key, customer_external_id, "
        "subscription_external_id, charge_type, charge_start, charge_end, quantity, subtotal, "
        "total, currency, invoice_number, is_usage, quantity_places, amount_places) "
        "VALUES (1, :key, 'c1', :sub, :type, :start, :end, :quantity, NULL, :total, :currency, "
        ":invoice, :usage, :qp, :ap)")
COLUMNS = ("subscription_external_id", "day", "billed", "lines", "quantity", "quantity_places",
           "amount", "amount_places", "currency", "last_currency", "charge_type",
           "invoice_number", "last_invoice_number", "last_day", "first_line_key")


def _line(key: str, day: str = "2026-03-01", total: str = "1.25", *, sub: str | None = "s1",
          invoice: str | None = "G1", usage: int = 1, quantity: str = "2", currency="USD",
          end: str | None = None, kind: str = "usage") -> dict:
    return {"key": key, "sub": sub, "type": kind, "start": day, "end": end or day,
            "quantity": quantity, "total": total, "currency": currency, "invoice": invoice,
            "usage": usage, "qp": text_places(quantity) if usage else None,
            "ap": text_places(total) if usage else None}


@pytest.fixture()
def db(db_path: Path):
    Workspace.open(db_path).close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute(CONNECTION)
    yield conn
    conn.close()


@pytest.fixture()
def engine(db, db_path: Path):
    """The workspace's engine, as a workspace has it (migrated already by `db`)."""
    engine = make_engine(f"sqlite:///{db_path}")
    yield engine
    engine.dispose()


def _days(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(f"SELECT {', '.join(COLUMNS)} FROM usage_days "
                        "ORDER BY subscription_external_id, day, billed").fetchall()


def _fold(engine: Engine) -> tuple[int, bool]:
    """Fold as the importers do, in a transaction of their own; how many days, and whether
    the days are then current."""
    with engine.begin() as conn:
        days = usage_days.fold(conn)
    with engine.connect() as conn:
        return days, usage_days.current(conn)


def _current(engine: Engine) -> bool:
    with engine.connect() as conn:
        return usage_days.current(conn)


def test_a_day_is_added_up_with_its_billed_and_unbilled_lines_apart(db, engine):
    """Two billed lines and an unbilled one of the same day, a line of another day: two
    rows for the first day, one for the second. Seat lines and lines without a subscription
    are no usage day."""
    db.executemany(LINE, [
        _line("b2", total="0.130650", invoice="G2"), _line("b1", total="2.5", quantity="1.5"),
        _line("u1", total="0.40", invoice=None),
        _line("d2", day="2026-03-02", total="-0.25", end="2026-03-04"),
        _line("seat", total="60.00", usage=0, kind="new"),
        _line("nosub", sub=None)])
    assert not _current(engine)
    assert _fold(engine) == (2, True)
    assert _days(db) == [
        ("s1", "2026-03-01", 0, 1, 2, 0, 0.4, 2, "USD", "USD", "usage", None, None,
         "2026-03-01", "u1"),
        ("s1", "2026-03-01", 1, 2, 3.5, 1, 2.63065, 6, "USD", "USD", "usage", "G1", "G2",
         "2026-03-01", "b1"),
        ("s1", "2026-03-02", 1, 1, 2, 0, -0.25, 102, "USD", "USD", "usage", "G1", "G1",
         "2026-03-04", "d2")]
    assert _fold(engine) == (0, True)  # nothing left to fold


def test_only_the_days_of_new_lines_are_added_up_again(db, engine):
    db.executemany(LINE, [_line("a"), _line("b", day="2026-03-02")])
    assert _fold(engine) == (2, True)
    db.execute(LINE, _line("c", day="2026-03-02", total="0.75", invoice="G0"))
    assert not _current(engine)
    assert _fold(engine) == (1, True)
    [_, second] = _days(db)
    assert second[3:7] == (2, 4, 0, 2.0) and second[11:13] == ("G0", "G1")


@pytest.mark.parametrize(("change", "expected"), [
    ("UPDATE charge_lines SET total = '0.5' WHERE line_key = 'b'",
     [("2026-03-01", 1, 2, 1.75), ("2026-03-02", 1, 1, 1.25)]),
    ("UPDATE charge_lines SET charge_start = '2026-03-02' WHERE line_key = 'b'",
     [("2026-03-01", 1, 1, 1.25), ("2026-03-02", 1, 2, 2.5)]),
    ("UPDATE charge_lines SET invoice_number = '' WHERE line_key = 'b'",
     [("2026-03-01", 0, 1, 1.25), ("2026-03-01", 1, 1, 1.25), ("2026-03-02", 1, 1, 1.25)]),
    ("UPDATE charge_lines SET is_usage = 0 WHERE line_key = 'b'",
     [("2026-03-01", 1, 1, 1.25), ("2026-03-02", 1, 1, 1.25)]),
    ("DELETE FROM charge_lines WHERE line_key = 'c'",
     [("2026-03-01", 1, 2, 2.5)]),
])
def test_a_usage_line_updated_or_deleted_has_its_days_added_up_again(db, engine, change,
                                                                      expected):
    """However a line changes (its amount, day, invoice or kind) or goes, its days before
    and after are added up again; until then the days are not current."""
    db.executemany(LINE, [_line("a"), _line("b"), _line("c", day="2026-03-02")])
    assert _fold(engine)[1]
    db.execute(change)
    assert not _current(engine)
    assert _fold(engine)[1]
    assert [(day, billed, lines, amount) for _, day, billed, lines, _, _, amount, *_ in
            _days(db)] == expected


def test_a_seat_line_changed_leaves_the_days_current(db, engine):
    db.executemany(LINE, [_line("a"), _line("seat", usage=0, kind="new")])
    assert _fold(engine)[1]
    db.execute("UPDATE charge_lines SET total = '99' WHERE line_key = 'seat'")
    assert _current(engine)


def test_a_deleted_lines_id_given_to_a_new_line_is_still_folded(db, engine):
    """SQLite gives the next line the highest id plus one: after the newest line is deleted,
    a new line may take its id, at or under the mark. The delete took the mark below it."""
    db.executemany(LINE, [_line("a"), _line("b", day="2026-03-02")])
    assert _fold(engine)[1]
    top = db.execute("SELECT max(id) FROM charge_lines").fetchone()[0]
    db.execute("DELETE FROM charge_lines WHERE line_key = 'b'")
    db.execute(LINE, _line("n", day="2026-03-03", total="9"))
    assert db.execute("SELECT id FROM charge_lines WHERE line_key = 'n'").fetchone()[0] == top
    assert _fold(engine)[1]
    assert [(row[1], row[6]) for row in _days(db)] == [("2026-03-01", 1.25),
                                                      ("2026-03-03", 9)]


def test_a_fold_reads_only_the_new_lines_and_the_days_it_adds_up(db, engine):
    """A fold after a big import must not cost a second import: the new lines are read by
    id (by the subscription index SQLite would look every line up, 4.6 s for a million),
    and a day kept is removed by its whole key (one by one it is; "key IN (pending)" reads
    every day kept)."""
    db.executemany(LINE, [_line(f"a{n}", day=f"2026-03-{n % 28 + 1:02d}") for n in range(60)])
    _fold(engine)
    db.executemany(LINE, [_line(f"b{n}", day=f"2026-03-{n % 3 + 1:02d}") for n in range(6)])
    statements: list[str] = []
    with engine.begin() as conn:
        conn.connection.driver_connection.set_trace_callback(statements.append)
        assert usage_days.fold(conn) == 3
        conn.connection.driver_connection.set_trace_callback(None)
        plans = {sql: " | ".join(row[3] for row in conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {sql}")) for sql in statements
            if "charge_lines" in sql or sql.startswith("DELETE FROM usage_days ")}
    [new_lines] = [plan for sql, plan in plans.items() if "id >" in sql]
    assert "USING INTEGER PRIMARY KEY (rowid>?)" in new_lines
    deletes = [plan for sql, plan in plans.items() if sql.startswith("DELETE FROM usage_days ")]
    assert len(deletes) == 3 and all(
        "PRIMARY KEY (connection_id=? AND subscription_external_id=? AND day=?)" in plan
        for plan in deletes)


def test_an_upgraded_workspace_leaves_its_days_to_the_first_fold(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    migrate(engine, "0006")
    with engine.begin() as conn:
        conn.exec_driver_sql(CONNECTION)
        conn.execute(text(LINE), _line("a"))
    migrate(engine)
    try:
        assert not _current(engine)  # the days are kept, none folded yet
        assert _fold(engine) == (1, True)
    finally:
        engine.dispose()


# --- whatever happens to the lines, the days are what adding them all up again gives ----------

_KEYS = [f"k{n}" for n in range(6)]
_DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"]
_KEY = st.sampled_from(_KEYS)
_insert = st.tuples(st.just("insert"), _KEY, st.sampled_from(_DAYS),
                    st.sampled_from(["0.25", "1.5", "-0.125", "3"]),
                    st.sampled_from([None, "", "G1", "G2"]), st.sampled_from(["s1", "s2"]),
                    st.sampled_from([0, 1]))
_update = st.tuples(st.just("update"), _KEY, st.sampled_from([
    "total = '0.75'", "invoice_number = 'G3'", "invoice_number = NULL",
    "charge_start = '2026-03-03'", "subscription_external_id = 's3'",
    "is_usage = 1 - is_usage", "amount_places = NULL", "currency = 'EUR'"]))
# Changes to lines already folded in are what the triggers are for: folds come often.
_operation = st.one_of(_insert, _update, st.tuples(st.just("delete"), _KEY),
                       st.tuples(st.just("fold")), _insert, _update, st.tuples(st.just("fold")))


def _rebuilt(conn: sqlite3.Connection) -> list[tuple]:
    """Every usage day added up from scratch, as the days must be."""
    return conn.execute("""
        SELECT subscription_external_id, charge_start, coalesce(invoice_number, '') != '',
               count(*), total(quantity), max(coalesce(quantity_places, 100)),
               total(total), max(coalesce(amount_places, 100)), min(currency), max(currency),
               min(charge_type), min(invoice_number), max(invoice_number),
               max(coalesce(charge_end, charge_start)), min(line_key)
        FROM charge_lines
        WHERE is_usage AND subscription_external_id IS NOT NULL AND charge_start IS NOT NULL
        GROUP BY connection_id, subscription_external_id, charge_start,
                 coalesce(invoice_number, '') != ''
        ORDER BY subscription_external_id, charge_start, 3""").fetchall()


def _comparable(rows: list[tuple]) -> list[tuple]:
    """Sums as floats rounded well below their last place (a day's sum and a sum of the
    same lines in another order may differ in their last bit)."""
    return [(*row[:4], round(float(row[4]), 9), row[5], round(float(row[6]), 9), *row[7:])
            for row in rows]


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(_operation, max_size=20))
def test_the_days_are_always_the_lines_added_up_again(db, engine, operations):
    db.execute("DELETE FROM charge_lines")
    _fold(engine)
    for operation in operations:
        kind, *args = operation
        if kind == "insert":
            key, day, total, invoice, sub, usage = args
            db.execute("DELETE FROM charge_lines WHERE line_key = ?", (key,))
            db.execute(LINE, _line(key, day, total, invoice=invoice, sub=sub, usage=usage))
        elif kind == "update":
            db.execute(f"UPDATE charge_lines SET {args[1]} WHERE line_key = ?", (args[0],))
        elif kind == "delete":
            db.execute("DELETE FROM charge_lines WHERE line_key = ?", (args[0],))
        else:
            _fold(engine)
    assert _fold(engine)[1]
    assert _comparable(_days(db)) == _comparable(_rebuilt(db))


@pytest.mark.postgres
def test_postgresql_keeps_no_usage_days(postgres_url):
    ws = Workspace.open(postgres_url)
    try:
        with ws.begin() as session:
            assert not usage_days.kept(session.connection())
            assert not usage_days.current(session.connection())
            assert usage_days.fold(session.connection()) == 0
    finally:
        ws.close()
