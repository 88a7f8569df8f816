"""Seat history: from dated vendor observations and billed lines to seat lots and qv(day).

Three sources say how many seats a subscription had, in falling order of authority: billed
charge lines (what the vendor actually charged, DESIGN.md §5), the vendor's history records
(its own dated changes, exact to the second) and snapshot diffs (two of our syncs saw
different seats; the change happened somewhere between them). Each becomes `SeatChange`
events that name their source; the observed ones become NCE seat lots (co-termed, own price,
168-hour window), stored per sync; `app.domain.vendor_quantity` then merges lots and billed
lines into the vendor quantity timeline. Pure: standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from app.domain.cancellation import window_closes_at
from app.domain.periods import ONE_DAY, add_months
from app.domain.timeline import SeatLot

ZERO = Decimal(0)
MISSING = "Missing"  # our status for a subscription a complete snapshot no longer returns
# Statuses with no billable seats; anything else (Suspended, PendingCancel...) still bills.
ENDED_STATUSES = frozenset({"cancelled", "canceled", "missing", "converted", "deleted",
                            "expired", "terminated"})
# Billed lines that are not seats: usage, one-off fees and rebates.
NON_SEAT_FREQUENCIES = frozenset({"usage", "onetime", "activation", "rebate"})
_TERM_RE = re.compile(r"^P(\d+)([MY])$")


class Source(StrEnum):
    CHARGE_LINE = "charge_line"
    HISTORY = "history"
    SNAPSHOT = "snapshot"
    RENEWAL = "renewal"  # lots only: a new commitment term inferred from the term length


PRECISION = {Source.HISTORY: 0, Source.SNAPSHOT: 1, Source.CHARGE_LINE: 2, Source.RENEWAL: 3}


class ChangeKind(StrEnum):
    START = "start"  # seats appear: purchase or reactivation
    ADD = "add"
    REMOVE = "remove"
    END = "end"  # no seats left: cancelled, missing, or reduced to zero


def is_ended(status: str | None) -> bool:
    return status is not None and status.strip().lower() in ENDED_STATUSES


# Charge types that move money but state no seats (Partner Center discounts and credits
# as the importer stores them): their quantity must never count as billed seats.
MONEY_ONLY_CHARGE_TYPES = frozenset({"discount", "credit"})


def states_seats(charge_type: str | None) -> bool:
    return (charge_type or "").strip().lower() not in MONEY_ONLY_CHARGE_TYPES


def is_seat_charge(billing_frequency: str | None, is_usage: bool) -> bool:
    frequency = (billing_frequency or "").strip().lower().replace("-", "").replace(" ", "")
    return not is_usage and frequency not in NON_SEAT_FREQUENCIES


def local_date(moment: datetime, zone: tzinfo) -> date:
    """The MSP's calendar date of an instant: 31 Jan 23:30 UTC is 1 Feb in Berlin."""
    if moment.utcoffset() is None:
        raise ValueError(f"{moment!r} is naive; vendor timestamps must be timezone-aware")
    return moment.astimezone(zone).date()


def start_of_day(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def term_months(term: str | None) -> int | None:
    """Months in an ISO commitment term ("P1Y" -> 12), None when there is none or unknown."""
    match = _TERM_RE.match((term or "").strip().upper())
    if not match:
        return None
    return int(match.group(1)) * (12 if match.group(2) == "Y" else 1)


def term_span(day: date, anchor: date, months: int) -> tuple[date, date]:
    """The commitment term containing `day`, counted from `anchor` (never chained, so a term
    that starts on 29 Feb comes back to 29 Feb in leap years)."""
    k = ((day.year - anchor.year) * 12 + day.month - anchor.month) // months
    while add_months(anchor, k * months) > day:
        k -= 1
    while add_months(anchor, (k + 1) * months) <= day:
        k += 1
    return add_months(anchor, k * months), add_months(anchor, (k + 1) * months) - ONE_DAY


# ---------------------------------------------------------------- inputs and outputs


@dataclass(frozen=True)
class Observation:
    """One dated state of a subscription: a stored snapshot or a vendor history record."""

    at: datetime
    source: Source
    quantity: Decimal | None  # None: a history record that does not state it (keep the last)
    status: str | None = None
    end_date: date | None = None  # for an ended status: the first day without seats
    unit_cost: Decimal | None = None

    @property
    def ended(self) -> bool:
        return is_ended(self.status)


@dataclass(frozen=True)
class Terms:
    """What the subscription's current record says about its commitment."""

    start_date: date | None
    term: str | None = None  # "P1M", "P1Y", "P3Y"; None without a commitment
    term_end: date | None = None  # the current term's last day, when the vendor states it
    created_at: datetime | None = None  # the purchase instant: opens the first NCE window


@dataclass(frozen=True)
class BilledLine:
    """A signed seat charge over inclusive dates (invoice item, recon line)."""

    key: str
    start: date
    end: date
    quantity: Decimal
    unit_price: Decimal | None = None


_Line = TypeVar("_Line")


def charge_twin(charge_type: str, start: object, end: object, quantity: object,
                currency: str, invoice: str | None) -> tuple[tuple, bool]:
    """What makes an unbilled recon line and its billed copy the same charge (type, dates,
    quantity, currency; never the invoice number), and whether this one is billed."""
    return (charge_type.lower(), str(start), str(end), Decimal(str(quantity)), currency), \
        bool(invoice)


def without_unbilled_twins(lines: Sequence[_Line],
                           twin: Callable[[_Line], tuple[Hashable, bool]]) -> list[_Line]:
    """The lines less every unbilled one whose billed twin is there too.

    Partner Center shows a charge first on the unbilled reconciliation (no invoice number)
    and then on the invoice's own: a bookkeeper who imports both has one charge twice, and
    counting both would double the seats. `twin(line)` gives the line's identity without
    its invoice (charge type, dates, quantity) and whether it is billed; each billed line
    stands for one unbilled line of the same identity, so a charge that really appears
    twice unbilled keeps its second copy until that one is billed too.
    """
    billed: dict[Hashable, int] = {}
    keyed = [(line, *twin(line)) for line in lines]
    for _, identity, is_billed in keyed:
        if is_billed:
            billed[identity] = billed.get(identity, 0) + 1
    if not billed:
        return list(lines)
    out = []
    for line, identity, is_billed in keyed:
        if not is_billed and billed.get(identity, 0) > 0:
            billed[identity] -= 1
            continue
        out.append(line)
    return out


@dataclass(frozen=True)
class SeatChange:
    """Seats went from `before` to `after` on `effective` (a date in the MSP's zone).

    `at` is the exact instant when the source knows it (history); a snapshot diff only knows
    the change came after `not_before` and was `seen_at` by a later sync; billed changes name
    the lines (`refs`) that start or stop on that day.
    """

    effective: date
    before: Decimal
    after: Decimal
    source: Source
    at: datetime | None = None
    not_before: datetime | None = None
    seen_at: datetime | None = None
    unit_cost: Decimal | None = None
    note: str = ""
    refs: tuple[str, ...] = ()

    @property
    def delta(self) -> Decimal:
        return self.after - self.before

    @property
    def kind(self) -> ChangeKind:
        if self.after <= 0:
            return ChangeKind.END
        if self.before <= 0:
            return ChangeKind.START
        return ChangeKind.ADD if self.after > self.before else ChangeKind.REMOVE


@dataclass(frozen=True)
class Lot:
    """A seat lot as stored: signed seats over inclusive dates with its own unit cost, the
    source it came from and, for seats bought, when the NCE cancellation window closes."""

    quantity: Decimal
    start: date
    end: date | None
    unit_cost: Decimal | None
    source: Source
    cancel_window_ends_at: datetime | None = None

    def seat_lot(self) -> SeatLot:
        return SeatLot(self.quantity, self.start, self.end, self.unit_cost)


@dataclass(frozen=True)
class SeatHistory:
    changes: tuple[SeatChange, ...]
    lots: tuple[Lot, ...]


# ---------------------------------------------------------------- observed changes


def observed_changes(observations: Iterable[Observation], terms: Terms,
                     zone: tzinfo) -> list[SeatChange]:
    """Seat changes from history records and snapshots merged in time order.

    History wins where it exists: snapshots between the first and the last history record
    are left out; later ones only add what the history has not recorded yet. A "Missing"
    snapshot followed by a sighting of the subscription is left out too: the vendor's
    listing lost it, not its seats. The first sighting starts the seats on the start date;
    an ended status stops them on the vendor's end date when it gives one, else on the day
    it was seen. Effective dates never go back before the start or the previous change.
    """
    points = _relevant(list(observations))
    changes: list[SeatChange] = []
    level = ZERO
    quantity: Decimal | None = None
    cost: Decimal | None = None
    floor = terms.start_date
    previous_at: datetime | None = None
    for obs in points:
        quantity = obs.quantity if obs.quantity is not None else quantity
        cost = obs.unit_cost if obs.unit_cost is not None else cost
        if quantity is None:
            previous_at = obs.at
            continue
        seen = local_date(obs.at, zone)
        if not changes and quantity > 0:
            start = terms.start_date or seen
            changes.append(_observed(obs, start, ZERO, quantity, None, cost, "first seen"))
            level, floor = quantity, start
        target = ZERO if obs.ended else quantity
        if target != level:
            effective = (obs.end_date or seen) if obs.ended else seen
            effective = max(effective, floor) if floor else effective
            note = f"status {obs.status}" if obs.ended else ""
            changes.append(_observed(obs, effective, level, target, previous_at, cost, note))
            level, floor = target, effective
        previous_at = obs.at
    return changes


def _relevant(points: list[Observation]) -> list[Observation]:
    recorded = [o.at for o in points if o.source is Source.HISTORY]
    if recorded:
        first, last = min(recorded), max(recorded)
        points = [o for o in points if o.source is Source.HISTORY or not first <= o.at <= last]
    seen_last = max((o.at for o in points if not _missing(o)), default=None)
    if seen_last is not None:
        points = [o for o in points if not (_missing(o) and o.at < seen_last)]
    return sorted(points, key=lambda o: (o.at, PRECISION[o.source]))


def _missing(obs: Observation) -> bool:
    return (obs.status or "").strip().lower() == MISSING.lower()


def _observed(obs: Observation, effective: date, before: Decimal, after: Decimal,
              previous_at: datetime | None, cost: Decimal | None, note: str) -> SeatChange:
    if obs.source is Source.HISTORY:
        return SeatChange(effective, before, after, obs.source, at=obs.at, unit_cost=cost,
                          note=note)
    return SeatChange(effective, before, after, obs.source, not_before=previous_at,
                      seen_at=obs.at, unit_cost=cost, note=note)


# ---------------------------------------------------------------- lots


def lots_from_changes(changes: Sequence[SeatChange], terms: Terms, zone: tzinfo, *,
                      through: date) -> list[Lot]:
    """NCE seat lots: each add is its own lot at its own cost, co-termed to the end of the
    commitment term it falls in; a reduction is a negative lot; reaching zero ends every lot
    the day before. At each term boundary up to `through` the seats renew as one new lot.

    Month-to-month terms are not co-termed (their lots stay open), so a three-year-old M/M
    subscription is not split into 36 renewal lots. Each bought lot's window closes 168 h
    after the purchase: the exact instant from history, the previous sync's time for a
    snapshot diff (so a refund is never promised that is not there), the created time for
    the first purchase, else the start of the effective day.
    """
    months = term_months(terms.term)
    anchor = terms.start_date or (terms.term_end + ONE_DAY if terms.term_end else None)
    co_termed = months is not None and months > 1 and anchor is not None
    open_lots: list[Lot] = []
    done: list[Lot] = []
    term_end: date | None = None
    cost: Decimal | None = None

    def close_all(last_day: date) -> None:
        done.extend(_ended(lot, last_day) for lot in open_lots if last_day >= lot.start)
        open_lots.clear()

    def roll_to(day: date) -> None:
        nonlocal term_end
        if not co_termed:
            return
        assert months is not None and anchor is not None
        if term_end is None or not open_lots:
            term_end = term_span(day, anchor, months)[1]
            return
        while term_end < day:
            level = sum((lot.quantity for lot in open_lots), ZERO)
            close_all(term_end)
            start = term_end + ONE_DAY
            term_end = term_span(start, anchor, months)[1]
            if level > 0:
                open_lots.append(Lot(level, start, None, cost, Source.RENEWAL,
                                     window_closes_at(start_of_day(start, zone))))

    for index, change in enumerate(changes):
        roll_to(change.effective)
        cost = change.unit_cost if change.unit_cost is not None else cost
        if change.after <= 0:
            close_all(change.effective - ONE_DAY)
        elif change.delta > 0:
            bought = (change.at or change.not_before
                      or (terms.created_at if index == 0 else None)
                      or start_of_day(change.effective, zone))
            open_lots.append(Lot(change.delta, change.effective, None, cost, change.source,
                                 window_closes_at(bought)))
        elif change.delta < 0:
            open_lots.append(Lot(change.delta, change.effective, None, cost, change.source))
    if open_lots:
        roll_to(through)
    final_end = term_end if co_termed else None
    done.extend(_ended(lot, final_end) for lot in open_lots)
    return sorted(done, key=lambda lot: (lot.start, -lot.quantity, lot.source))


def _ended(lot: Lot, end: date | None) -> Lot:
    return Lot(lot.quantity, lot.start, end, lot.unit_cost, lot.source,
               lot.cancel_window_ends_at)


def derive_seat_history(observations: Iterable[Observation], terms: Terms, zone: tzinfo, *,
                        through: date) -> SeatHistory:
    """Changes and lots from what the vendor's records and our snapshots show."""
    changes = observed_changes(observations, terms, zone)
    return SeatHistory(tuple(changes),
                       tuple(lots_from_changes(changes, terms, zone, through=through)))


def close_lots(lots: Iterable[Lot], first_day_without: date) -> list[Lot]:
    """Every lot stops the day before `first_day_without` (a subscription gone missing)."""
    last = first_day_without - ONE_DAY
    return [lot if lot.end is not None and lot.end <= last else _ended(lot, last)
            for lot in lots if lot.start <= last]


def renew_lots(lots: Sequence[Lot], terms: Terms, zone: tzinfo, *, through: date,
               unit_cost: Decimal | None) -> list[Lot]:
    """Add renewal lots for the terms that began since the lots were last derived."""
    months = term_months(terms.term)
    anchor = terms.start_date or (terms.term_end + ONE_DAY if terms.term_end else None)
    if not lots or months is None or months <= 1 or anchor is None:
        return list(lots)
    if any(lot.end is None for lot in lots):
        return list(lots)
    out = list(lots)
    last = max(lot.end for lot in lots if lot.end is not None)
    while last < through:
        level = sum((lot.quantity for lot in out if lot.start <= last <= (lot.end or last)),
                    ZERO)
        if level <= 0:
            break
        start = last + ONE_DAY
        last = term_span(start, anchor, months)[1]
        out.append(Lot(level, start, last, unit_cost, Source.RENEWAL,
                       window_closes_at(start_of_day(start, zone))))
    return out


def lots_from_billed(lines: Iterable[BilledLine], zone: tzinfo) -> list[Lot]:
    """Lots straight from billed lines, for vendors that only give recon files: a positive
    line opens its window at the start of its first day."""
    return [Lot(line.quantity, line.start, line.end, line.unit_price, Source.CHARGE_LINE,
                window_closes_at(start_of_day(line.start, zone)) if line.quantity > 0
                else None)
            for line in lines]
