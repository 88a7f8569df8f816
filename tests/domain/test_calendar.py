"""Calendar rules: expected vendor invoice days, invoice runs, terms, windows, deadlines."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.domain.calendar import (
    VENDOR_RULES,
    EventKind,
    deadline_events,
    expected_invoice_day,
    invoice_run_events,
    term_events,
    vendor_events,
    window_close_event,
)
from app.domain.periods import Alignment, BillingCycle, BillingTiming


def test_expected_invoice_day_follows_history_once_there_is_enough():
    rule = VENDOR_RULES["pax8"]
    assert expected_invoice_day(rule, [date(2026, 9, 6)]) == (5, "vendor's usual day")
    history = [date(2026, 7, 6), date(2026, 8, 7), date(2026, 9, 6)]
    assert expected_invoice_day(rule, history) == (6, "median of 3 received invoices")


def test_vendor_invoice_and_settlement_each_month():
    events = vendor_events("pax8", "Pax8", VENDOR_RULES["pax8"], [], date(2026, 1, 1),
                           date(2026, 2, 28))
    assert [(e.day, e.kind) for e in events] == [
        (date(2026, 1, 5), EventKind.VENDOR_INVOICE), (date(2026, 1, 6), EventKind.DATA_SETTLED),
        (date(2026, 2, 5), EventKind.VENDOR_INVOICE), (date(2026, 2, 6), EventKind.DATA_SETTLED)]


def test_invoice_day_31_clamps_to_short_months():
    from app.domain.calendar import VendorRule

    events = vendor_events("x", "X", VendorRule(31, 0), [], date(2024, 2, 1), date(2024, 2, 29))
    assert {e.day for e in events} == {date(2024, 2, 29)}


def test_monthly_and_quarterly_invoice_runs_in_advance():
    monthly = invoice_run_events("Managed", "Contoso", BillingCycle.MONTHLY, Alignment.CALENDAR,
                                 None, BillingTiming.ADVANCE, date(2026, 3, 1),
                                 date(2026, 5, 31), {})
    assert [e.day for e in monthly] == [date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)]
    quarterly = invoice_run_events("Q", "Contoso", BillingCycle.QUARTERLY, Alignment.CALENDAR,
                                   None, BillingTiming.ADVANCE, date(2026, 2, 1),
                                   date(2026, 7, 31), {})
    assert [e.day for e in quarterly] == [date(2026, 4, 1), date(2026, 7, 1)]
    arrears = invoice_run_events("M", "C", BillingCycle.MONTHLY, Alignment.CALENDAR, None,
                                 BillingTiming.ARREARS, date(2026, 3, 1), date(2026, 3, 31), {})
    assert [(e.day, e.ref["period"]) for e in arrears] == [(date(2026, 3, 1), "2026-02")]


def test_terms_renewals_and_monthly_subscriptions():
    assert term_events("E3", "C", "P1M", date(2026, 3, 9), True, date(2026, 3, 1),
                       date(2026, 3, 31), {}) == []
    [renewal] = term_events("E3", "C", "P1Y", date(2026, 3, 9), True, date(2026, 3, 1),
                            date(2026, 3, 31), {})
    assert renewal.kind is EventKind.RENEWAL and renewal.day == date(2026, 3, 9)


def test_window_close_is_shown_on_the_local_day():
    closes = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    [event] = window_close_event("E3", "C", closes, ZoneInfo("Australia/Sydney"),
                                 date(2026, 4, 1), date(2026, 4, 30), {})
    assert event.day == date(2026, 4, 1) and "10:30" in event.title


def test_deadline_names_the_previous_month():
    [event] = deadline_events(10, date(2026, 1, 1), date(2026, 1, 31))
    assert event.day == date(2026, 1, 10) and event.ref["period"] == "2025-12"
