"""Money and timestamps survive the database exactly."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from app.models.entities import Connection, PsaAgreement, PsaBillingLine, PsaCompany
from app.models.workspace import Workspace


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    yield workspace
    workspace.close()


_names = itertools.count()


def _line(ws: Workspace, **values) -> int:
    with ws.begin() as s:
        conn = Connection(name=f"cw-{next(_names)}", kind="connectwise", side="psa")
        s.add(conn)
        s.flush()
        company = PsaCompany(connection_id=conn.id, external_id="1", name="Contoso")
        s.add(company)
        s.flush()
        agreement = PsaAgreement(connection_id=conn.id, company_id=company.id, external_id="10",
                                 name="Managed", kind="recurring")
        s.add(agreement)
        s.flush()
        line = PsaBillingLine(connection_id=conn.id, agreement_id=agreement.id, external_id="100",
                              **values)
        s.add(line)
        s.flush()
        return line.id


@pytest.mark.parametrize("text", ["0.045", "-0.01", "12345678.901234", "0", "4.567891",
                                  "0.846202666", "-999999999999.999999999"])
def test_money_round_trips_exactly(ws, text):
    line_id = _line(ws, quantity=Decimal("3"), unit_price=Decimal(text))
    with ws.begin() as s:
        stored = s.get(PsaBillingLine, line_id).unit_price
    assert stored == Decimal(text)
    assert str(stored) == text


def test_float_money_is_refused(ws):
    with pytest.raises(StatementError, match="refusing to store float"):
        _line(ws, quantity=Decimal("1"), unit_price=0.1)


def test_naive_timestamp_is_refused(ws):
    with pytest.raises(StatementError, match="timezone-aware"):
        _line(ws, quantity=Decimal("1"), last_updated=datetime(2024, 3, 1, 12, 0))


def test_timestamps_come_back_aware_utc(ws):
    plus_two = timezone(timedelta(hours=2))
    line_id = _line(ws, quantity=Decimal("1"),
                    last_updated=datetime(2024, 3, 31, 3, 30, tzinfo=plus_two))
    with ws.begin() as s:
        value = s.scalar(select(PsaBillingLine.last_updated).where(PsaBillingLine.id == line_id))
    assert value == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert value.tzinfo is UTC


@pytest.fixture(scope="module")
def shared_ws(tmp_path_factory):
    workspace = Workspace.open(tmp_path_factory.mktemp("rt") / "w.sqlite")
    yield workspace
    workspace.close()


@settings(max_examples=80, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=9,
                   min_value=Decimal("-1e12"), max_value=Decimal("1e12")))
def test_any_decimal_round_trips(shared_ws, value):
    line_id = _line(shared_ws, quantity=Decimal("1"), unit_cost=value)
    with shared_ws.begin() as s:
        assert s.get(PsaBillingLine, line_id).unit_cost == value
