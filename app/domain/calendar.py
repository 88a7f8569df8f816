"""The invoice calendar's rules: which billing events fall on which day.

Pure functions over plain facts, so "why is the Pax8 invoice expected on the 5th?" is
answered by a rule and the invoice history, not by code scattered across screens.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.domain.periods import (
    Alignment,
    BillingCycle,
    BillingTiming,
    add_months,
    days_in_month,
    invoice_date_for,
    periods_covering,
)


class EventKind(StrEnum):
    VENDOR_INVOICE = "vendor_invoice"
    DATA_SETTLED = "data_settled"
    CUSTOMER_INVOICE_RUN = "customer_invoice_run"
    RENEWAL = "renewal"
    COMMITMENT_END = "commitment_end"
    NCE_WINDOW_CLOSES = "nce_window_closes"
    RECONCILIATION_DEADLINE = "reconciliation_deadline"


EVENT_LABELS = {
    EventKind.VENDOR_INVOICE: "Vendor invoice expected",
    EventKind.DATA_SETTLED: "Vendor data settled",
    EventKind.CUSTOMER_INVOICE_RUN: "Customer invoice run",
    EventKind.RENEWAL: "Renewal",
    EventKind.COMMITMENT_END: "Commitment ends",
    EventKind.NCE_WINDOW_CLOSES: "NCE cancellation window closes",
    EventKind.RECONCILIATION_DEADLINE: "Reconciliation deadline",
}


@dataclass(frozen=True)
class VendorRule:
    """When a vendor's invoice usually arrives and when its data stops changing."""

    invoice_day: int  # day of month the invoice is expected
    settle_days_after_invoice: int  # the recon data is final this many days later


VENDOR_RULES = {
    "pax8": VendorRule(invoice_day=5, settle_days_after_invoice=1),
    "partner_center": VendorRule(invoice_day=8, settle_days_after_invoice=2),
    "generic_file": VendorRule(invoice_day=5, settle_days_after_invoice=2),
}


@dataclass(frozen=True)
class CalendarEvent:
    day: date
    kind: EventKind
    title: str
    customer: str | None = None
    ref: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        return EVENT_LABELS[self.kind]


def _on_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, days_in_month(year, month)))


def expected_invoice_day(rule: VendorRule, history: Iterable[date]) -> tuple[int, str]:
    """The rule's day, refined to the median day of past invoices once there are three."""
    days = sorted(d.day for d in history)
    if len(days) >= 3:
        return round(statistics.median(days)), f"median of {len(days)} received invoices"
    return rule.invoice_day, "vendor's usual day"


def _months(start: date, end: date) -> list[tuple[int, int]]:
    out, cursor = [], date(start.year, start.month, 1)
    while cursor <= end:
        out.append((cursor.year, cursor.month))
        cursor = add_months(cursor, 1)
    return out


def vendor_events(vendor: str, connection: str, rule: VendorRule, history: Iterable[date],
                  start: date, end: date) -> list[CalendarEvent]:
    day, why = expected_invoice_day(rule, history)
    events = []
    for year, month in _months(start, end):
        invoice = _on_day(year, month, day)
        settled = invoice + timedelta(days=rule.settle_days_after_invoice)
        ref = {"connection": connection, "vendor": vendor, "basis": why}
        if start <= invoice <= end:
            events.append(CalendarEvent(invoice, EventKind.VENDOR_INVOICE,
                                        f"{connection} invoice expected", ref=ref))
        if start <= settled <= end:
            events.append(CalendarEvent(settled, EventKind.DATA_SETTLED,
                                        f"{connection} data settled", ref=ref))
    return events


def invoice_run_events(agreement: str, customer: str, cycle: BillingCycle,
                       alignment: Alignment, anchor: date | None, timing: BillingTiming,
                       start: date, end: date, ref: dict[str, str]) -> list[CalendarEvent]:
    reach_back = add_months(start, -cycle.months)
    events = []
    for period in periods_covering(cycle, alignment, anchor, reach_back, end):
        day = invoice_date_for(period, timing)
        if start <= day <= end:
            events.append(CalendarEvent(day, EventKind.CUSTOMER_INVOICE_RUN,
                                        f"Invoice {agreement} for {period.label}", customer,
                                        {**ref, "period": period.label}))
    return events


def term_events(product: str, customer: str, term: str | None, end_date: date | None,
                auto_renews: bool, start: date, end: date,
                ref: dict[str, str]) -> list[CalendarEvent]:
    """Renewal (auto-renewing terms) or commitment end, on the day after the term's last day."""
    if end_date is None or not start <= end_date <= end or term in (None, "", "P1M"):
        return []
    kind = EventKind.RENEWAL if auto_renews else EventKind.COMMITMENT_END
    verb = "renews" if auto_renews else "commitment ends"
    return [CalendarEvent(end_date, kind, f"{product} {verb}", customer, ref)]


def window_close_event(product: str, customer: str, closes_at: datetime, zone: ZoneInfo,
                       start: date, end: date, ref: dict[str, str]) -> list[CalendarEvent]:
    local = closes_at.astimezone(zone)
    if not start <= local.date() <= end:
        return []
    return [CalendarEvent(local.date(), EventKind.NCE_WINDOW_CLOSES,
                          f"{product}: last chance to cancel seats ({local:%H:%M})", customer,
                          {**ref, "closes_at": closes_at.isoformat()})]


def deadline_events(deadline_day: int, start: date, end: date) -> list[CalendarEvent]:
    """The day by which last month must be reconciled (a workspace setting)."""
    events = []
    for year, month in _months(start, end):
        day = _on_day(year, month, deadline_day)
        previous = add_months(date(year, month, 1), -1)
        if start <= day <= end:
            events.append(CalendarEvent(day, EventKind.RECONCILIATION_DEADLINE,
                                        f"Reconcile {previous:%Y-%m}",
                                        ref={"period": f"{previous:%Y-%m}"}))
    return events
