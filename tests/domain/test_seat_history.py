"""Seat history: effective dates across month ends, leap days and zones; NCE lots; qv(day)
preferring billed lines, then history, then snapshot diffs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.seat_history import (
    BilledLine,
    ChangeKind,
    Lot,
    Observation,
    SeatChange,
    Source,
    Terms,
    close_lots,
    derive_seat_history,
    is_ended,
    is_seat_charge,
    local_date,
    lots_from_billed,
    lots_from_changes,
    observed_changes,
    renew_lots,
    term_span,
)
from app.domain.timeline import QuantityTimeline, SeatLot
from app.domain.vendor_quantity import changes_from_lots, observed_timeline, vendor_timeline

D = Decimal
H = Source.HISTORY
S = Source.SNAPSHOT
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEK = timedelta(hours=168)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def snap(moment: datetime, quantity: int, status: str = "Active", **kw) -> Observation:
    return Observation(moment, S, D(quantity), status, **kw)


def hist(moment: datetime, quantity: int, status: str = "Active", **kw) -> Observation:
    return Observation(moment, H, D(quantity), status, **kw)


def qv(history) -> QuantityTimeline:
    return observed_timeline(history.lots, live=True)


# ---------------------------------------------------------------- effective dates


@pytest.mark.parametrize(("zone", "expected"), [
    (UTC, date(2025, 1, 31)), (NEW_YORK, date(2025, 1, 31)), (BERLIN, date(2025, 2, 1))])
def test_history_change_late_on_31_january_is_dated_in_the_msp_zone(zone, expected):
    terms = Terms(date(2024, 6, 1))
    changes = observed_changes([hist(at(2024, 5, 31, 15), 5),
                                hist(at(2025, 1, 31, 23, 30), 7)], terms, zone)
    assert [(c.kind, c.effective, c.source) for c in changes] == [
        (ChangeKind.START, date(2024, 6, 1), H), (ChangeKind.ADD, expected, H)]
    assert changes[1].at == at(2025, 1, 31, 23, 30) and changes[1].not_before is None


def test_snapshot_diff_on_31_january_2330_versus_1_february():
    terms = Terms(date(2024, 6, 1))
    before = snap(at(2025, 1, 30, 23, 30), 5)
    late = observed_changes([before, snap(at(2025, 1, 31, 23, 30), 7)], terms, UTC)[-1]
    assert late.effective == date(2025, 1, 31) and late.source is S
    assert late.not_before == before.at and late.seen_at == at(2025, 1, 31, 23, 30)
    assert late.at is None  # a diff never claims an exact instant
    early = observed_changes([before, snap(at(2025, 2, 1, 0, 30), 7)], terms, UTC)[-1]
    assert early.effective == date(2025, 2, 1)

    history = derive_seat_history([before, snap(at(2025, 1, 31, 23, 30), 7)], terms, UTC,
                                  through=date(2025, 2, 1))
    assert qv(history).quantity_on(date(2025, 1, 30)) == 5
    assert qv(history).quantity_on(date(2025, 1, 31)) == 7
    assert qv(history).quantity_on(date(2025, 2, 1)) == 7


def test_leap_day_change_and_annual_terms_anchored_on_29_february():
    terms = Terms(date(2024, 2, 29), "P1Y", created_at=at(2024, 2, 28, 15))
    history = derive_seat_history(
        [snap(at(2024, 2, 28, 18), 3), snap(at(2024, 2, 29, 18), 5), snap(at(2025, 3, 10), 5)],
        terms, UTC, through=date(2025, 3, 10))
    timeline = qv(history)
    assert timeline.quantity_on(date(2024, 2, 28)) == 0  # before the start date
    assert timeline.quantity_on(date(2024, 2, 29)) == 5  # first sighting and add, same day
    assert timeline.quantity_on(date(2024, 3, 1)) == 5
    assert term_span(date(2025, 2, 27), date(2024, 2, 29), 12) == (date(2024, 2, 29),
                                                                   date(2025, 2, 27))
    assert term_span(date(2028, 3, 1), date(2024, 2, 29), 12) == (date(2028, 2, 29),
                                                                  date(2029, 2, 27))
    spans = [(lot.start, lot.end, lot.quantity, lot.source) for lot in history.lots]
    assert spans == [(date(2024, 2, 29), date(2025, 2, 27), D(3), S),
                     (date(2024, 2, 29), date(2025, 2, 27), D(2), S),
                     (date(2025, 2, 28), date(2026, 2, 27), D(5), Source.RENEWAL)]
    assert timeline.quantity_on(date(2025, 2, 28)) == 5  # renewal: no step in qv


def test_changes_never_go_back_before_the_start_or_a_previous_change():
    terms = Terms(date(2025, 3, 10))
    changes = observed_changes([hist(at(2025, 3, 8), 4), hist(at(2025, 3, 9), 6),
                                hist(at(2025, 3, 20), 0, "Cancelled", end_date=date(2025, 3, 1))],
                               terms, UTC)
    assert [c.effective for c in changes] == [date(2025, 3, 10), date(2025, 3, 10),
                                              date(2025, 3, 10)]
    assert [c.after for c in changes] == [4, 6, 0]


# ---------------------------------------------------------------- cancelled and missing


def test_cancelled_subscription_ends_on_the_vendor_end_date():
    terms = Terms(date(2024, 1, 15), "P1Y", created_at=at(2024, 1, 14, 15))
    history = derive_seat_history(
        [hist(at(2024, 1, 14, 15), 10), hist(at(2024, 4, 2, 9), 12, unit_cost=D("10.80")),
         hist(at(2024, 6, 3, 16), 12, "Cancelled", end_date=date(2024, 6, 3))],
        terms, UTC, through=date(2024, 7, 1))
    assert [c.kind for c in history.changes] == [ChangeKind.START, ChangeKind.ADD,
                                                 ChangeKind.END]
    assert history.changes[-1].note == "status Cancelled"
    assert {lot.end for lot in history.lots} == {date(2024, 6, 2)}
    timeline = observed_timeline(history.lots, live=False)
    assert timeline.quantity_on(date(2024, 6, 2)) == 12
    assert timeline.quantity_on(date(2024, 6, 3)) == 0
    assert timeline.quantity_on(date(2030, 1, 1)) == 0


def test_first_seen_already_cancelled_still_has_its_past_seats():
    terms = Terms(date(2024, 1, 15), "P1M")
    changes = observed_changes([snap(at(2025, 3, 1), 4, "Cancelled",
                                     end_date=date(2024, 9, 1))], terms, UTC)
    assert [(c.kind, c.effective) for c in changes] == [(ChangeKind.START, date(2024, 1, 15)),
                                                        (ChangeKind.END, date(2024, 9, 1))]


def test_missing_is_ended_and_closes_open_lots():
    assert is_ended("Missing") and is_ended("cancelled") and not is_ended("PendingCancel")
    lots = [Lot(D(5), date(2024, 1, 1), None, D(1), H),
            Lot(D(2), date(2024, 5, 1), date(2024, 12, 31), D(1), H),
            Lot(D(1), date(2025, 2, 1), None, D(1), S)]
    closed = close_lots(lots, date(2025, 2, 1))
    assert [(lot.quantity, lot.end) for lot in closed] == [(5, date(2025, 1, 31)),
                                                           (2, date(2024, 12, 31))]


# ---------------------------------------------------------------- sources


def test_history_explains_a_change_so_the_snapshot_adds_nothing():
    terms = Terms(date(2024, 6, 1))
    changes = observed_changes([snap(at(2025, 3, 1, 6), 5), hist(at(2025, 3, 1, 14, 5), 8),
                                snap(at(2025, 3, 2, 6), 8)], terms, UTC)
    assert [(c.source, c.after) for c in changes] == [(S, 5), (H, 8)]


def test_history_wins_over_earlier_snapshots_that_disagree():
    terms = Terms(date(2024, 6, 1))
    changes = observed_changes([hist(at(2024, 5, 31), 5), snap(at(2025, 1, 10), 9),
                                hist(at(2025, 2, 1, 8), 6), snap(at(2025, 2, 2), 6)],
                               terms, UTC)
    assert [(c.source, c.after, c.effective) for c in changes] == [
        (H, 5, date(2024, 6, 1)), (H, 6, date(2025, 2, 1))]


def test_missing_then_seen_again_leaves_no_gap():
    terms = Terms(date(2024, 6, 1))
    points = [snap(at(2025, 1, 10), 5), snap(at(2025, 1, 11), 5, "Missing"),
              snap(at(2025, 1, 12), 5)]
    assert [c.after for c in observed_changes(points, terms, UTC)] == [5]
    still_gone = observed_changes(points[:2], terms, UTC)
    assert [(c.after, c.effective) for c in still_gone] == [(5, date(2024, 6, 1)),
                                                            (0, date(2025, 1, 11))]


def test_a_change_only_snapshots_saw_is_a_snapshot_change():
    terms = Terms(date(2024, 6, 1))
    changes = observed_changes([hist(at(2024, 5, 31), 5), snap(at(2025, 3, 1, 6), 5),
                                snap(at(2025, 3, 2, 6), 3)], terms, UTC)
    assert [(c.source, c.kind, c.effective) for c in changes] == [
        (H, ChangeKind.START, date(2024, 6, 1)), (S, ChangeKind.REMOVE, date(2025, 3, 2))]


def test_history_record_without_quantity_keeps_the_last_one():
    changes = observed_changes([hist(at(2025, 1, 1), 5),
                                Observation(at(2025, 2, 1), H, None, "Suspended")],
                               Terms(date(2025, 1, 1)), UTC)
    assert [c.after for c in changes] == [5]


def test_billed_lines_rule_the_days_they_cover():
    """March is billed at 10 (the +2 of 10 March not billed yet); April is not billed at all:
    qv follows the bill in March, history after, and the gap is listed as a disagreement."""
    terms = Terms(date(2024, 1, 1), created_at=at(2023, 12, 31, 15))
    history = derive_seat_history([hist(at(2023, 12, 31, 15), 10), hist(at(2025, 3, 10, 9), 12)],
                                  terms, UTC, through=date(2025, 4, 15))
    lines = [BilledLine("mar", date(2025, 3, 1), date(2025, 3, 31), D(10))]
    result = vendor_timeline(observed_timeline(history.lots, live=True),
                             changes_from_lots(history.lots, live=True), lines)
    assert result.quantity_on(date(2025, 2, 28)) == 10
    assert result.quantity_on(date(2025, 3, 20)) == 10  # billed
    assert result.quantity_on(date(2025, 4, 1)) == 12  # history
    assert [(s, e, src) for s, e, src in result.spans] == [
        (date(2024, 1, 1), date(2025, 2, 28), H), (date(2025, 3, 1), date(2025, 3, 31),
                                                   Source.CHARGE_LINE),
        (date(2025, 4, 1), None, H)]
    [gap] = result.disagreements
    assert (gap.start, gap.end, gap.billed, gap.observed) == (date(2025, 3, 10),
                                                              date(2025, 3, 31), 10, 12)
    last = result.changes[-1]
    assert (last.effective, last.after, last.source, last.note) == (
        date(2025, 4, 1), D(12), H, "billed lines end")

    # The prorate line arrives on the April invoice: the bill now agrees, nothing to report.
    lines.append(BilledLine("prorate", date(2025, 3, 10), date(2025, 3, 31), D(2)))
    result = vendor_timeline(observed_timeline(history.lots, live=True),
                             changes_from_lots(history.lots, live=True), lines)
    assert result.quantity_on(date(2025, 3, 10)) == 12 and result.disagreements == ()
    step = next(c for c in result.changes if c.effective == date(2025, 3, 10))
    assert step.source is Source.CHARGE_LINE and step.refs == ("prorate",)


def test_a_billed_line_that_never_ends_rules_every_day_from_its_start():
    """A line dated to the last day there is (an import's "open" end) has no day after it:
    with stored lots beside it, as alone, it is the seats from its start on."""
    terms = Terms(date(2024, 1, 1), created_at=at(2023, 12, 31, 15))
    history = derive_seat_history([hist(at(2023, 12, 31, 15), 10)], terms, UTC,
                                  through=date(2025, 4, 15))
    lines = [BilledLine("open", date(2025, 3, 1), date.max, D(12)),
             BilledLine("later", date(2025, 6, 1), date(2025, 6, 30), D(1))]
    result = vendor_timeline(observed_timeline(history.lots, live=True),
                             changes_from_lots(history.lots, live=True), lines)
    assert result.quantity_on(date(2025, 2, 28)) == 10
    assert result.quantity_on(date(2025, 3, 1)) == 12
    assert result.quantity_on(date(2025, 6, 15)) == 13
    assert result.quantity_on(date.max) == 12
    [open_lot] = [Lot(D(12), date(2025, 3, 1), date.max, None, Source.CHARGE_LINE)]
    assert observed_timeline([open_lot], live=False).quantity_on(date.max) == 12


def test_nce_add_refund_pair_sums_to_the_new_quantity():
    lines = [BilledLine("new", date(2025, 1, 1), date(2025, 12, 31), D(5)),
             BilledLine("refund", date(2025, 3, 5), date(2025, 12, 31), D(-5)),
             BilledLine("charge", date(2025, 3, 5), date(2025, 12, 31), D(8))]
    result = vendor_timeline(QuantityTimeline(), [], lines)
    assert result.quantity_on(date(2025, 3, 4)) == 5
    assert result.quantity_on(date(2025, 3, 5)) == 8
    assert result.quantity_on(date(2026, 1, 1)) == 0
    assert all(c.source is Source.CHARGE_LINE for c in result.changes)
    lots = lots_from_billed(lines, UTC)
    assert lots[0].cancel_window_ends_at == at(2025, 1, 1) + WEEK
    assert lots[1].cancel_window_ends_at is None


def test_seat_charges_exclude_usage_and_fees():
    assert is_seat_charge("Monthly", False) and is_seat_charge(None, False)
    assert not is_seat_charge("Usage", False) and not is_seat_charge("Monthly", True)
    assert not is_seat_charge("One-Time", False) and not is_seat_charge("Activation", False)


# ---------------------------------------------------------------- NCE lots


def test_nce_adds_are_co_termed_keep_their_price_and_open_a_window():
    terms = Terms(date(2024, 7, 1), "P1Y", created_at=at(2024, 6, 30, 15))
    history = derive_seat_history(
        [hist(at(2024, 6, 30, 15), 10, unit_cost=D("32.40")),
         hist(at(2024, 9, 12, 10, 15), 13, unit_cost=D("34.0200"))],
        terms, UTC, through=date(2024, 10, 1))
    first, add = history.lots
    assert (first.quantity, first.start, first.end, first.unit_cost) == (
        D(10), date(2024, 7, 1), date(2025, 6, 30), D("32.40"))
    assert (add.quantity, add.start, add.end, add.unit_cost) == (
        D(3), date(2024, 9, 12), date(2025, 6, 30), D("34.0200"))
    assert first.cancel_window_ends_at == at(2024, 6, 30, 15) + WEEK
    assert add.cancel_window_ends_at == at(2024, 9, 12, 10, 15) + WEEK


def test_snapshot_add_window_starts_at_the_last_sync_that_did_not_see_it():
    terms = Terms(date(2024, 7, 1), "P1Y", created_at=at(2024, 6, 30, 15))
    history = derive_seat_history([snap(at(2024, 9, 10, 2), 10), snap(at(2024, 9, 12, 2), 12)],
                                  terms, UTC, through=date(2024, 9, 12))
    assert history.lots[0].cancel_window_ends_at == at(2024, 6, 30, 15) + WEEK
    assert history.lots[1].cancel_window_ends_at == at(2024, 9, 10, 2) + WEEK


def test_reduction_is_a_negative_lot_without_a_window():
    terms = Terms(date(2024, 7, 1), "P1Y")
    history = derive_seat_history([hist(at(2024, 6, 30), 10), hist(at(2024, 7, 3), 8)], terms,
                                  UTC, through=date(2024, 7, 3))
    assert [(lot.quantity, lot.cancel_window_ends_at is None) for lot in history.lots] == [
        (D(10), False), (D(-2), True)]


def test_month_to_month_lots_stay_open():
    terms = Terms(date(2022, 1, 5), "P1M")
    history = derive_seat_history([hist(at(2022, 1, 4), 3), hist(at(2024, 1, 1), 4)], terms, UTC,
                                  through=date(2025, 1, 1))
    assert [lot.end for lot in history.lots] == [None, None]


def test_renew_lots_adds_the_terms_since_the_last_derivation():
    terms = Terms(date(2023, 7, 1), "P1Y")
    lots = [Lot(D(10), date(2023, 7, 1), date(2024, 6, 30), D(30), H),
            Lot(D(-2), date(2024, 1, 1), date(2024, 6, 30), D(30), H)]
    renewed = renew_lots(lots, terms, UTC, through=date(2025, 8, 1), unit_cost=D(33))
    assert [(lot.quantity, lot.start, lot.end, lot.source) for lot in renewed[2:]] == [
        (D(8), date(2024, 7, 1), date(2025, 6, 30), Source.RENEWAL),
        (D(8), date(2025, 7, 1), date(2026, 6, 30), Source.RENEWAL)]
    assert renewed[2].cancel_window_ends_at == at(2024, 7, 1) + WEEK


def test_a_live_subscription_keeps_its_seats_after_the_last_known_term_end():
    lots = [Lot(D(7), date(2024, 7, 1), date(2025, 6, 30), D(30), H)]
    assert observed_timeline(lots, live=True).quantity_on(date(2025, 9, 1)) == 7
    assert observed_timeline(lots, live=False).quantity_on(date(2025, 9, 1)) == 0
    assert changes_from_lots(lots, live=True)[-1].after == 7


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2025, 1, 1), UTC)


# ---------------------------------------------------------------- properties


@st.composite
def observation_runs(draw):
    start = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 400)))
    moment = datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(hours=9)
    points = []
    for _ in range(draw(st.integers(1, 12))):
        moment += timedelta(hours=draw(st.integers(1, 24 * 90)))
        status = draw(st.sampled_from(["Active", "Active", "Active", "Cancelled"]))
        source = draw(st.sampled_from([H, S]))
        points.append(Observation(moment, source, D(draw(st.integers(0, 40))), status))
    term = draw(st.sampled_from([None, "P1M", "P1Y", "P3Y"]))
    return Terms(start, term), points


@settings(max_examples=150, deadline=None)
@given(observation_runs(), st.sampled_from([UTC, BERLIN, NEW_YORK]))
def test_lots_rebuild_the_observed_changes_exactly(run, zone):
    terms, points = run
    changes = observed_changes(points, terms, zone)
    through = max(local_date(points[-1].at, zone), terms.start_date)
    lots = lots_from_changes(changes, terms, zone, through=through)
    expected = QuantityTimeline.from_lots(SeatLot(c.delta, c.effective) for c in changes)
    live = not points[-1].ended and points[-1].quantity > 0
    actual = observed_timeline(lots, live=live)
    for offset in range(-3, (through - terms.start_date).days + 400, 5):
        day = terms.start_date + timedelta(days=offset)
        assert actual.quantity_on(day) == expected.quantity_on(day), day
    assert all(isinstance(c, SeatChange) for c in changes_from_lots(lots, live=live))
    for earlier, later in zip(changes, changes[1:], strict=False):
        assert earlier.effective <= later.effective


def test_a_billed_line_stands_for_one_unbilled_twin():
    from app.domain.seat_history import without_unbilled_twins

    lines = [("u1", "cycle", None), ("b1", "cycle", "INV-1"), ("u2", "cycle", None),
             ("u3", "add", None)]
    kept = without_unbilled_twins(lines, lambda line: (line[1], line[2] is not None))
    assert [line[0] for line in kept] == ["b1", "u2", "u3"]
    assert without_unbilled_twins(lines[:1], lambda line: (line[1], False)) == lines[:1]
