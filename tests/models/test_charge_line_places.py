"""How a charge line's quantity and amount are written (their places), kept beside them for
exact usage sums: the same whoever writes the line, and right after any update."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.models.types import NEGATIVE_PLACES, DecimalText, stored_places, text_places
from app.models.workspace import Workspace, make_engine, migrate

LINE = ("INSERT INTO charge_lines (connection_id, line_key, customer_external_id, "
        "charge_type, quantity, subtotal, total, currency, is_usage) "
        "VALUES (1, :key, 'c1', 'new', :quantity, :subtotal, :total, 'USD', :usage)")
CONNECTION = ("INSERT INTO connections (name, kind, side, settings, created_at) "
              "VALUES ('pc', 'partner_center', 'vendor', '{}', '2026-01-01 00:00:00')")


def _stored(value: str) -> str:
    """The text DecimalText writes for a value."""
    return DecimalText().process_bind_param(Decimal(value), None)


@pytest.mark.parametrize(("value", "places"), [
    ("12", 0), ("12.10", 2), ("0.000001", 6), ("1E+3", 0), ("-0.30", 2 + NEGATIVE_PLACES),
    ("-0", NEGATIVE_PLACES), ("-0.00", 2 + NEGATIVE_PLACES), (None, 0)])
def test_places_are_the_digits_stored_after_the_point(value, places):
    assert stored_places(None if value is None else Decimal(value)) == places
    if value is not None:
        assert stored_places(value) == places  # text and Decimal alike, as DecimalText
        assert text_places(_stored(value)) == places  # and from the stored text
        assert places % NEGATIVE_PLACES == len(_stored(value).partition(".")[2])


def test_upgrading_fills_in_the_places_of_every_usage_line(db_path):
    """Usage lines stored before the places existed get them, as their writer would have
    given them: negative values, integers, and a line without an amount. Seat lines, never
    summed, have none."""
    engine = make_engine(f"sqlite:///{db_path}")
    migrate(engine, "0005")
    lines = [("a", "1.5", None, "0.130650"), ("b", "-2", "3.25", None), ("c", "7", None, None),
             ("d", "0.25", "9", "-0.0")]
    with engine.begin() as conn:
        conn.execute(text(CONNECTION))
        for key, quantity, subtotal, total in lines:
            conn.execute(text(LINE), {"key": key, "quantity": quantity, "subtotal": subtotal,
                                      "total": total, "usage": 1})
        conn.execute(text(LINE), {"key": "seat", "quantity": "5", "subtotal": "1.50",
                                  "total": "1.50", "usage": 0})
    engine.dispose()
    ws = Workspace.open(db_path)
    try:
        with ws.engine.connect() as conn:
            got = conn.execute(text("SELECT line_key, quantity_places, amount_places "
                                    "FROM charge_lines ORDER BY line_key")).all()
    finally:
        ws.close()
    assert got == [(key, stored_places(quantity),
                    stored_places(total if total is not None else subtotal))
                   for key, quantity, subtotal, total in lines] + [("seat", None, None)]


decimal_texts = st.builds(lambda units, places: format(Decimal(units).scaleb(-places), "f"),
                          st.integers(-10**9, 10**9), st.integers(-3, 9))


@pytest.fixture(scope="module")
def line_ws(tmp_path_factory):
    ws = Workspace.open(tmp_path_factory.mktemp("places") / "ws.sqlite")
    with ws.engine.begin() as conn:
        conn.execute(text(CONNECTION))
        conn.execute(text(LINE), {"key": "x", "quantity": "1", "subtotal": None, "total": "1",
                                  "usage": 1})
    yield ws
    ws.close()


@settings(max_examples=150, deadline=None)
@given(quantity=decimal_texts, subtotal=decimal_texts, total=st.none() | decimal_texts)
def test_an_update_by_any_statement_keeps_the_places_right(line_ws, quantity, subtotal, total):
    """Raw SQL changing the numbers, as no code of ours would: the database itself keeps
    the places what the writer would give, so a stale one never proves a wrong sum."""
    with line_ws.engine.begin() as conn:
        conn.execute(text("UPDATE charge_lines SET quantity = :q, subtotal = :s, total = :t "
                          "WHERE line_key = 'x'"),
                     {"q": _stored(quantity), "s": _stored(subtotal),
                      "t": None if total is None else _stored(total)})
        got = conn.execute(text("SELECT quantity_places, amount_places FROM charge_lines "
                                "WHERE line_key = 'x'")).one()
    assert tuple(got) == (stored_places(quantity),
                          stored_places(total if total is not None else subtotal))


def test_a_line_that_stops_being_usage_loses_its_places(line_ws):
    with line_ws.engine.begin() as conn:
        conn.execute(text(LINE), {"key": "y", "quantity": "2.5", "subtotal": None,
                                  "total": "0.25", "usage": 1})
        conn.execute(text("UPDATE charge_lines SET quantity = '2.50' WHERE line_key = 'y'"))
        places = "SELECT quantity_places, amount_places FROM charge_lines WHERE line_key = 'y'"
        assert tuple(conn.execute(text(places)).one()) == (2, 2)
        conn.execute(text("UPDATE charge_lines SET is_usage = 0 WHERE line_key = 'y'"))
        assert tuple(conn.execute(text(places)).one()) == (None, None)


def test_the_model_gives_places_to_usage_lines_only(db_path):
    from app.models.entities import ChargeLine, Connection

    ws = Workspace.open(db_path)
    try:
        with ws.begin() as s:
            pc = Connection(name="pc", kind="partner_center", side="vendor")
            s.add(pc)
            s.flush()
            for key, usage in (("u", True), ("s", False)):
                s.add(ChargeLine(connection_id=pc.id, line_key=key, customer_external_id="c1",
                                 charge_type="new", quantity=Decimal("1.25"),
                                 subtotal=Decimal("-3"), total=None, currency="USD",
                                 is_usage=usage))
        with ws.engine.connect() as conn:
            got = conn.execute(text("SELECT line_key, quantity_places, amount_places "
                                    "FROM charge_lines ORDER BY line_key")).all()
    finally:
        ws.close()
    assert got == [("s", None, None), ("u", 2, NEGATIVE_PLACES)]
