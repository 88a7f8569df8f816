"""Invoice calendar data for a date range: what is due, expected or closing on which day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.domain.calendar import (
    EVENT_LABELS,
    VENDOR_RULES,
    CalendarEvent,
    EventKind,
    VendorRule,
    deadline_events,
    invoice_run_events,
    term_events,
    vendor_events,
    window_close_event,
)
from app.domain.periods import Alignment, BillingCycle, BillingTiming
from app.models.connections import Connection
from app.models.psa import PsaAgreement, PsaCompany
from app.models.vendor import SeatLot, VendorCustomer, VendorInvoice, VendorSubscription
from app.services.settings import get_setting, time_zone
from app.services.workspace import Workspace

__all__ = ["EVENT_LABELS", "CalendarEvent", "EventKind", "calendar_events"]

CYCLES = {"monthly": BillingCycle.MONTHLY, "quarterly": BillingCycle.QUARTERLY,
          "semi-annual": BillingCycle.SEMI_ANNUAL, "semiannual": BillingCycle.SEMI_ANNUAL,
          "annual": BillingCycle.ANNUAL, "yearly": BillingCycle.ANNUAL}


def _cycle(name: str | None) -> BillingCycle | None:
    return CYCLES.get((name or "monthly").strip().lower())


def calendar_events(ws: Workspace, start: date, end: date, *, customer: str | None = None,
                    kinds: set[str] | None = None) -> list[CalendarEvent]:
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    zone = time_zone(ws)
    events: list[CalendarEvent] = []
    with ws.begin() as s:
        for conn in s.scalars(select(Connection).where(Connection.side == "vendor")):
            history = s.scalars(select(VendorInvoice.invoice_date)
                                .where(VendorInvoice.connection_id == conn.id)).all()
            rule = VENDOR_RULES.get(conn.kind, VendorRule(5, 2))
            events += vendor_events(conn.kind, conn.name, rule, history, start, end)

        agreements = s.execute(
            select(PsaAgreement, PsaCompany.name)
            .join(PsaCompany, PsaCompany.id == PsaAgreement.company_id)
            .where(PsaAgreement.active.is_(True), PsaAgreement.kind == "recurring",
                   PsaAgreement.missing_since.is_(None)))
        for agreement, company in agreements:
            cycle = _cycle(agreement.billing_cycle)
            if cycle is None:
                continue
            events += invoice_run_events(
                agreement.name, company, cycle, Alignment.CALENDAR, agreement.start_date,
                BillingTiming.ADVANCE, start, end,
                {"psa_company": str(agreement.company_id), "agreement": agreement.external_id})

        subs = s.execute(
            select(VendorSubscription, VendorCustomer.name)
            .join(VendorCustomer, VendorCustomer.id == VendorSubscription.customer_id)
            .where(VendorSubscription.status.in_(("Active", "active"))))
        for sub, company in subs:
            ref = {"vendor_subscription": sub.external_id}
            events += term_events(sub.product_name, company, sub.term, sub.end_date, True,
                                  start, end, ref)

        lots = s.execute(
            select(SeatLot, VendorSubscription, VendorCustomer.name)
            .join(VendorSubscription, VendorSubscription.id == SeatLot.subscription_id)
            .join(VendorCustomer, VendorCustomer.id == VendorSubscription.customer_id)
            .where(SeatLot.cancel_window_ends_at.is_not(None)))
        for lot, sub, company in lots:
            events += window_close_event(sub.product_name, company, lot.cancel_window_ends_at,
                                         zone, start, end,
                                         {"vendor_subscription": sub.external_id})
    events += deadline_events(int(get_setting(ws, "reconciliation_deadline_day")), start, end)
    if customer:
        needle = customer.casefold()
        events = [e for e in events if e.customer and needle in e.customer.casefold()]
    if kinds:
        unknown = kinds - {k.value for k in EventKind}
        if unknown:
            raise ValueError(f"unknown event kind(s): {', '.join(sorted(unknown))}")
        events = [e for e in events if e.kind in kinds]
    return sorted(events, key=lambda e: (e.day, e.kind, e.title, e.customer or ""))
