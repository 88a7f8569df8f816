"""Seat lots per vendor subscription: kept up to date by each complete sync, read for qv(day).

Lots are the stored form of a subscription's observed seat history (vendor history records
and snapshot diffs). A sync re-derives them in full only for subscriptions whose history it
read (new, or seats or status changed), closes them for one gone missing, adds renewal lots
when a commitment term has rolled over, and leaves every other subscription alone, so an
unchanged subscription costs nothing per sync. Runs inside the sync's one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, delete, func, select
from sqlalchemy.orm import Session

from app.domain.seat_history import (
    BilledLine,
    Lot,
    Observation,
    Source,
    Terms,
    charge_twin,
    close_lots,
    derive_seat_history,
    is_ended,
    is_seat_charge,
    local_date,
    renew_lots,
    term_months,
    without_unbilled_twins,
)
from app.domain.vendor_quantity import VendorTimeline, changes_from_lots, observed_timeline
from app.domain.vendor_quantity import vendor_timeline as combine
from app.models.vendor import ChargeLine, SeatLot, SubscriptionSnapshot, VendorSubscription
from app.services.connections import get_connection
from app.services.workspace import Workspace
from app.sync.records import SubscriptionChangeRecord
from app.sync.vendor_store import CHUNK, VendorStoreResult, bulk_insert

LOTS: Table = SeatLot.__table__  # type: ignore[assignment]
SUBS: Table = VendorSubscription.__table__  # type: ignore[assignment]
SNAPS: Table = SubscriptionSnapshot.__table__  # type: ignore[assignment]
LINES: Table = ChargeLine.__table__  # type: ignore[assignment]


class UnknownSubscriptionError(LookupError):
    """No vendor subscription with that external id in that connection."""


def refresh_seat_lots(session: Session, connection_id: int, stored: VendorStoreResult,
                      history: Mapping[str, Sequence[SubscriptionChangeRecord]], *,
                      taken_at: datetime, zone: tzinfo) -> dict[str, int]:
    """Bring the lots in line with the snapshot just stored; returns counts for the run."""
    through = local_date(taken_at, zone)
    derived = _rederive(session, stored, history, through, zone)
    closed = _close_missing(session, stored.missing_ids, through)
    renewed = _renew(session, connection_id, through, zone)
    return {"lots_derived": derived, "lots_closed": closed, "lots_renewed": renewed}


def _rederive(session: Session, stored: VendorStoreResult,
              history: Mapping[str, Sequence[SubscriptionChangeRecord]], through: date,
              zone: tzinfo) -> int:
    ids = sorted(stored.reseated_ids)
    observations: dict[int, list[Observation]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        for sub_id, at, qty, status, end, cost in session.execute(
                select(SNAPS.c.subscription_id, SNAPS.c.taken_at, SNAPS.c.quantity,
                       SNAPS.c.status, SNAPS.c.end_date, SNAPS.c.unit_cost)
                .where(SNAPS.c.subscription_id.in_(chunk))):
            observations[sub_id].append(Observation(at, Source.SNAPSHOT, qty, status,
                                                    end if is_ended(status) else None, cost))
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(ids):
        for sub in session.execute(select(SUBS).where(SUBS.c.id.in_(chunk))).mappings():
            points = observations[sub["id"]]
            points += (history_observation(r) for r in history.get(sub["external_id"], ()))
            result = derive_seat_history(points, _terms(sub), zone, through=through)
            rows += (_lot_row(sub["id"], lot) for lot in result.lots)
        session.execute(delete(LOTS).where(LOTS.c.subscription_id.in_(chunk)))
    if rows:
        bulk_insert(session, LOTS, rows)
    return len(rows)


def _close_missing(session: Session, missing: Iterable[int], first_day_without: date) -> int:
    closed = 0
    for sub_id, lots in _lots_of(session, sorted(missing)).items():
        closed += _replace(session, sub_id, lots, close_lots(lots, first_day_without))
    return closed


def _renew(session: Session, connection_id: int, through: date, zone: tzinfo) -> int:
    """Live subscriptions whose lots all stopped before `through`: a term rolled over."""
    open_count = func.count(LOTS.c.end_date)
    stale = session.execute(
        select(LOTS.c.subscription_id)
        .join(SUBS, and_(SUBS.c.id == LOTS.c.subscription_id,
                         SUBS.c.connection_id == connection_id))
        .group_by(LOTS.c.subscription_id)
        .having(and_(open_count == func.count(), func.max(LOTS.c.end_date) < through))
    ).scalars().all()
    if not stale:
        return 0
    added = 0
    lots_by_sub = _lots_of(session, stale)
    for chunk in _chunks(stale):
        for sub in session.execute(select(SUBS).where(SUBS.c.id.in_(chunk))).mappings():
            if is_ended(sub["status"]) or (term_months(sub["term"]) or 0) <= 1:
                continue
            lots = lots_by_sub[sub["id"]]
            renewed = renew_lots(lots, _terms(sub), zone, through=through,
                                 unit_cost=sub["unit_cost"])
            fresh = renewed[len(lots):]
            if fresh:
                bulk_insert(session, LOTS, [_lot_row(sub["id"], lot) for lot in fresh])
                added += len(fresh)
    return added


def _replace(session: Session, sub_id: int, old: list[Lot], new: list[Lot]) -> int:
    if new == old:
        return 0
    session.execute(delete(LOTS).where(LOTS.c.subscription_id == sub_id))
    if new:
        bulk_insert(session, LOTS, [_lot_row(sub_id, lot) for lot in new])
    return len(new)


def _lots_of(session: Session, ids: Sequence[int]) -> dict[int, list[Lot]]:
    found: dict[int, list[Lot]] = {i: [] for i in ids}
    for chunk in _chunks(list(ids)):
        for row in session.execute(select(LOTS).where(LOTS.c.subscription_id.in_(chunk))
                                   .order_by(LOTS.c.id)).mappings():
            found[row["subscription_id"]].append(_lot(row))
    return found


def _terms(sub: Mapping[str, Any]) -> Terms:
    ended = is_ended(sub["status"])
    return Terms(sub["start_date"], sub["term"], None if ended else sub["end_date"],
                 sub["created_at_vendor"])


def _lot_row(sub_id: int, lot: Lot) -> dict[str, Any]:
    return {"subscription_id": sub_id, "quantity": lot.quantity, "start_date": lot.start,
            "end_date": lot.end, "unit_cost": lot.unit_cost, "source": lot.source.value,
            "cancel_window_ends_at": lot.cancel_window_ends_at}


def _lot(row: Mapping[str, Any]) -> Lot:
    try:
        source = Source(row["source"])
    except ValueError:
        source = Source.SNAPSHOT
    return Lot(row["quantity"], row["start_date"], row["end_date"], row["unit_cost"], source,
               row["cancel_window_ends_at"])


def history_observation(record: SubscriptionChangeRecord) -> Observation:
    """A vendor history record as an observation. Pax8 history entries are whole
    subscription records, so status, end date and partner cost are read from `raw`."""
    raw = record.raw or {}
    status = raw.get("status")
    end = _raw_date(raw.get("endDate")) if is_ended(status) else None
    return Observation(record.changed_at, Source.HISTORY, record.quantity,
                       None if status is None else str(status), end,
                       _raw_decimal(raw.get("partnerCost")))


def _raw_date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _raw_decimal(value: object) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError:
            return None
    return None


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


# ---------------------------------------------------------------- reading


def seat_lots(ws: Workspace, connection: str, subscription: str) -> list[Lot]:
    """The stored lots of one vendor subscription (by its external id), oldest first."""
    sub_id, _status, _live = _subscription(ws, connection, subscription)
    with ws.begin() as s:
        return sorted(_lots_of(s, [sub_id])[sub_id], key=lambda lot: (lot.start, lot.end
                                                                      or date.max))


def _twin(row: Any) -> tuple[tuple, bool]:
    return charge_twin(row.charge_type, row.charge_start, row.charge_end, row.quantity,
                       row.currency, row.invoice_number)


def vendor_quantity(ws: Workspace, connection: str, subscription: str) -> VendorTimeline:
    """qv(day) of one vendor subscription: billed seat lines where they exist, the stored
    lots (history, snapshot diffs) elsewhere, with every change naming its source."""
    view = get_connection(ws, connection)
    sub_id, status, live = _subscription(ws, connection, subscription)
    with ws.begin() as s:
        lots = _lots_of(s, [sub_id])[sub_id]
        rows = s.execute(
            select(LINES.c.line_key, LINES.c.charge_start, LINES.c.charge_end,
                   LINES.c.quantity, LINES.c.unit_price, LINES.c.billing_frequency,
                   LINES.c.is_usage, LINES.c.charge_type, LINES.c.currency,
                   LINES.c.invoice_number)
            .where(LINES.c.connection_id == view.id,
                   LINES.c.subscription_external_id == subscription,
                   LINES.c.charge_start.is_not(None), LINES.c.charge_end.is_not(None))).all()
        billed = [BilledLine(row.line_key, row.charge_start, row.charge_end, row.quantity,
                             row.unit_price)
                  for row in without_unbilled_twins(rows, _twin)
                  if is_seat_charge(row.billing_frequency, row.is_usage)
                  and row.charge_end >= row.charge_start]
    end_note = f"status {status}" if is_ended(status) else ""
    return combine(observed_timeline(lots, live=live),
                   changes_from_lots(lots, live=live, end_note=end_note), billed)


def _subscription(ws: Workspace, connection: str, subscription: str) -> tuple[int, str, bool]:
    view = get_connection(ws, connection)
    with ws.begin() as s:
        row = s.execute(select(SUBS.c.id, SUBS.c.status, SUBS.c.quantity)
                        .where(SUBS.c.connection_id == view.id,
                               SUBS.c.external_id == subscription)).first()
    if row is None:
        raise UnknownSubscriptionError(f"{connection} has no subscription {subscription!r}")
    return row.id, row.status, not is_ended(row.status) and row.quantity > 0
