"""The vendor quantity timeline qv(day) of DESIGN.md §5, built from stored seat lots and
billed lines: billed lines rule the days they cover, observed seats the rest.

Every step of qv says which source set it, every day says which source rules it, and days on
which the billed lines and the observed seats differ are listed, so "explain this number"
and the vendor-invoice-mismatch check have the evidence. Pure: standard library only.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from app.domain.cancellation import CANCELLATION_WINDOW
from app.domain.periods import ONE_DAY
from app.domain.seat_history import PRECISION, ZERO, BilledLine, Lot, SeatChange, Source
from app.domain.timeline import QuantityTimeline, SeatLot


@dataclass(frozen=True)
class Disagreement:
    """Days on which billed lines and observed seats differ (a vendor invoice mismatch, or
    a change the vendor has not billed yet)."""

    start: date
    end: date
    billed: Decimal
    observed: Decimal


@dataclass(frozen=True)
class VendorTimeline:
    """qv(day) with the changes that shape it, which source rules which days, and where
    the billed lines disagree with what the vendor's records show."""

    timeline: QuantityTimeline
    changes: tuple[SeatChange, ...]
    spans: tuple[tuple[date, date | None, Source], ...]
    disagreements: tuple[Disagreement, ...]

    def quantity_on(self, day: date) -> Decimal:
        return self.timeline.quantity_on(day)


def observed_timeline(lots: Sequence[Lot], *, live: bool) -> QuantityTimeline:
    """Seats per day from stored lots. `live`: the current record is not ended and has
    seats, so lots that stop at the last known term end renew rather than end."""
    return QuantityTimeline.from_lots(lot.seat_lot() for lot in _extended(lots, live))


def _extended(lots: Sequence[Lot], live: bool) -> list[Lot]:
    """A live subscription keeps its seats past the last known term end: no news after a
    renewal must never read as "the vendor has fewer seats"."""
    if not live or not lots or any(lot.end is None for lot in lots):
        return list(lots)
    last = max(lot.end for lot in lots if lot.end is not None)
    level = sum((lot.quantity for lot in lots if lot.start <= last <= (lot.end or last)), ZERO)
    if level <= 0:
        return list(lots)
    return [*lots, Lot(level, last + ONE_DAY, None, None, Source.RENEWAL)]


def changes_from_lots(lots: Sequence[Lot], *, live: bool, end_note: str = "") -> list[SeatChange]:
    """The observed changes again, from stored lots: each day where seats step names the
    most precise source among the lots that start or stop on it. `end_note` explains a
    final drop to zero (e.g. "status Cancelled")."""
    extended = _extended(lots, live)
    by_day: dict[date, list[tuple[Decimal, Lot]]] = {}
    for lot in extended:
        by_day.setdefault(lot.start, []).append((lot.quantity, lot))
        if lot.end is not None and lot.end < date.max:
            by_day.setdefault(lot.end + ONE_DAY, []).append((-lot.quantity, lot))
    changes: list[SeatChange] = []
    level = ZERO
    for day in sorted(by_day):
        delta = sum((d for d, _ in by_day[day]), ZERO)
        if delta == 0:
            continue
        lot = min((lot for _, lot in by_day[day]), key=lambda x: PRECISION[x.source])
        bought = (lot.cancel_window_ends_at - CANCELLATION_WINDOW
                  if lot.cancel_window_ends_at and lot.start == day else None)
        exact = bought if lot.source is Source.HISTORY else None
        approx = bought if lot.source is Source.SNAPSHOT else None
        changes.append(SeatChange(day, level, level + delta, lot.source, at=exact,
                                  not_before=approx, unit_cost=lot.unit_cost))
        level += delta
    if end_note and changes and changes[-1].after <= 0:
        changes[-1] = replace(changes[-1], note=end_note)
    return changes


def vendor_seats(lots: Sequence[Lot], billed_lines: Sequence[BilledLine], *, live: bool
                 ) -> QuantityTimeline:
    """qv(day) alone, as `vendor_timeline(...).timeline` gives it, for the engine.

    Without stored lots there are no observed seats: billed lines rule the days they cover
    and nothing is known elsewhere, so qv is the billed lines' own timeline (the common case
    of a recon-file-only book, built without the changes and spans an explanation needs).
    """
    if not lots and len(billed_lines) == 1 and billed_lines[0].end < date.max:
        line = billed_lines[0]  # the common case: one cycle line for the period
        return QuantityTimeline.one_span(line.quantity, line.start, line.end)
    if not lots:
        changes: list[tuple[date, Decimal]] = []
        for line in billed_lines:
            changes.append((line.start, line.quantity))
            if line.end < date.max:
                changes.append((line.end + ONE_DAY, -line.quantity))
        return QuantityTimeline.from_changes(changes)
    return vendor_timeline(observed_timeline(lots, live=live),
                           changes_from_lots(lots, live=live), billed_lines).timeline


def vendor_timeline(observed: QuantityTimeline, changes: Sequence[SeatChange],
                    billed_lines: Sequence[BilledLine]) -> VendorTimeline:
    """qv(day): the billed lines on every day they cover, the observed seats elsewhere."""
    billed = QuantityTimeline.from_lots(SeatLot(line.quantity, line.start, line.end)
                                        for line in billed_lines)
    cover = _coverage(billed_lines)
    starts = [start for start, _ in cover]

    def covered(day: date) -> bool:
        i = bisect_right(starts, day) - 1
        return i >= 0 and day <= cover[i][1]

    refs: dict[date, list[str]] = {}
    for line in billed_lines:
        refs.setdefault(line.start, []).append(line.key)
        if line.end < date.max:  # a line that never ends has no day after it
            refs.setdefault(line.end + ONE_DAY, []).append(line.key)
    ordered = sorted(changes, key=lambda c: (c.effective, PRECISION[c.source]))
    on_day: dict[date, SeatChange] = {}
    for change in ordered:
        on_day.setdefault(change.effective, change)
    first_seen = ordered[0].effective if ordered else None
    days = sorted({d for d, _ in observed.steps} | {d for d, _ in billed.steps}
                  | set(starts) | {end + ONE_DAY for _, end in cover if end < date.max})
    steps: list[tuple[date, Decimal]] = []
    out: list[SeatChange] = []
    spans: list[tuple[date, date | None, Source]] = []
    disagreements: list[Disagreement] = []
    level, source, pointer = ZERO, None, 0
    for index, day in enumerate(days):
        while pointer < len(ordered) and ordered[pointer].effective <= day:
            source, pointer = ordered[pointer].source, pointer + 1
        is_billed = covered(day)
        value = billed.quantity_on(day) if is_billed else observed.quantity_on(day)
        rule = Source.CHARGE_LINE if is_billed else source
        if rule is not None and (not spans or spans[-1][2] != rule):
            if spans:
                spans[-1] = (spans[-1][0], day - ONE_DAY, spans[-1][2])
            spans.append((day, None, rule))
        elif rule is None and spans and spans[-1][1] is None:
            spans[-1] = (spans[-1][0], day - ONE_DAY, spans[-1][2])
        seen = observed.quantity_on(day)
        if is_billed and first_seen is not None and day >= first_seen and seen != value:
            until = days[index + 1] - ONE_DAY if index + 1 < len(days) else date.max
            disagreements.append(Disagreement(day, until, value, seen))
        if value != level:
            steps.append((day, value))
            out.append(_combined_change(day, level, value, is_billed, rule, on_day.get(day),
                                        refs.get(day, [])))
            level = value
    return VendorTimeline(QuantityTimeline(tuple(steps)), tuple(out), tuple(spans),
                          tuple(_merge(disagreements)))


def _combined_change(day: date, before: Decimal, after: Decimal, is_billed: bool,
                     rule: Source | None, observed: SeatChange | None,
                     keys: list[str]) -> SeatChange:
    if is_billed:
        return SeatChange(day, before, after, Source.CHARGE_LINE, refs=tuple(keys))
    if observed is not None:
        return SeatChange(day, before, after, observed.source, at=observed.at,
                          not_before=observed.not_before, seen_at=observed.seen_at,
                          unit_cost=observed.unit_cost, note=observed.note)
    if keys:  # the bill stops here; what follows is observed, or nothing at all
        return SeatChange(day, before, after, rule or Source.CHARGE_LINE,
                          note="billed lines end", refs=tuple(keys))
    return SeatChange(day, before, after, rule or Source.SNAPSHOT)


def _coverage(lines: Iterable[BilledLine]) -> list[tuple[date, date]]:
    merged: list[tuple[date, date]] = []
    for start, end in sorted((line.start, line.end) for line in lines):
        if merged and (merged[-1][1] == date.max or start <= merged[-1][1] + ONE_DAY):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _merge(items: list[Disagreement]) -> list[Disagreement]:
    out: list[Disagreement] = []
    for item in items:
        last = out[-1] if out else None
        if (last and last.end < date.max and last.end + ONE_DAY == item.start
                and last.billed == item.billed
                and last.observed == item.observed):
            out[-1] = Disagreement(last.start, item.end, item.billed, item.observed)
        else:
            out.append(item)
    return out
