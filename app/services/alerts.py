"""Alerts: what needs a person's attention now, recomputed from the workspace's state.

Each alert has a stable key, so recomputing refreshes it instead of duplicating it, and an
alert whose cause is gone is marked resolved rather than deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models.activity import Alert, PushIntent
from app.models.mapping import CustomerMapping, SubscriptionMapping
from app.models.review import Finding
from app.models.vendor import SeatLot, SubscriptionSnapshot, VendorCustomer, VendorSubscription
from app.services.settings import get_setting
from app.services.workspace import Workspace

# Kinds this module computes (and may resolve); sync failures are raised by the sync itself.
COMPUTED = ("unmapped_customer", "unmapped_subscription", "seat_change", "negative_margin",
            "nce_window", "push_conflict", "push_unknown")
SEAT_CHANGE_SEATS = Decimal(5)
SEAT_CHANGE_SHARE = Decimal("0.2")


@dataclass(frozen=True)
class AlertView:
    id: int
    kind: str
    severity: str
    message: str
    ref: dict[str, Any]
    created_at: datetime
    occurrences: int


def _wanted(s: Session, now: datetime, window: timedelta) -> dict[str, tuple[str, str, str, dict]]:
    wanted: dict[str, tuple[str, str, str, dict]] = {}
    mapped = select(CustomerMapping.vendor_customer_id)
    for c in s.scalars(select(VendorCustomer).where(VendorCustomer.id.not_in(mapped))):
        wanted[f"unmapped_customer:{c.id}"] = (
            "unmapped_customer", "warning",
            f"Vendor customer {c.name} ({c.external_id}) is not mapped to a PSA company",
            {"vendor_customer": c.external_id})
    mapped_subs = select(SubscriptionMapping.vendor_subscription_id)
    rows = s.execute(select(VendorSubscription, VendorCustomer.name)
                     .join(VendorCustomer, VendorCustomer.id == VendorSubscription.customer_id)
                     .join(CustomerMapping, CustomerMapping.vendor_customer_id == VendorCustomer.id)
                     .where(VendorSubscription.id.not_in(mapped_subs),
                            VendorSubscription.status.in_(("Active", "active"))))
    for sub, customer in rows:
        wanted[f"unmapped_subscription:{sub.id}"] = (
            "unmapped_subscription", "warning",
            f"{customer}: {sub.product_name} ({sub.quantity} seats) has no PSA line mapped",
            {"vendor_subscription": sub.external_id})
    _seat_changes(s, wanted)
    for f in s.scalars(select(Finding).where(Finding.kind == "negative_margin",
                                             Finding.status == "open")):
        wanted[f"negative_margin:{f.key}"] = (
            "negative_margin", "error",
            f"Negative margin on {f.sku}: price {f.unit_price} below cost {f.unit_cost}",
            {"finding": f.id})
    lots = s.execute(select(SeatLot, VendorSubscription)
                     .join(VendorSubscription, VendorSubscription.id == SeatLot.subscription_id)
                     .where(SeatLot.cancel_window_ends_at > now,
                            SeatLot.cancel_window_ends_at <= now + window))
    for lot, sub in lots:
        wanted[f"nce_window:{lot.id}"] = (
            "nce_window", "warning",
            f"{sub.product_name}: {lot.quantity} seats can be cancelled with a refund until "
            f"{lot.cancel_window_ends_at:%Y-%m-%d %H:%M} UTC",
            {"vendor_subscription": sub.external_id, "lot": lot.id})
    for intent in s.scalars(select(PushIntent).where(PushIntent.state.in_(("CONFLICT",
                                                                           "UNKNOWN")))):
        kind = "push_conflict" if intent.state == "CONFLICT" else "push_unknown"
        wanted[f"{kind}:{intent.id}"] = (
            kind, "error",
            f"Push {intent.id} ({intent.action_type}) is {intent.state}: {intent.last_error or ''}",
            {"intent": intent.id})
    return wanted


def _seat_changes(s: Session, wanted: dict) -> None:  # noqa: ANN001
    """Compare each subscription's two latest snapshots."""
    ranked = (select(SubscriptionSnapshot.subscription_id, SubscriptionSnapshot.quantity,
                     SubscriptionSnapshot.sync_run_id,
                     func.row_number().over(partition_by=SubscriptionSnapshot.subscription_id,
                                            order_by=SubscriptionSnapshot.sync_run_id.desc())
                     .label("rank"))
              .subquery())
    latest: dict[int, list[tuple[Decimal, int]]] = {}
    for sub_id, qty, run_id, _ in s.execute(select(ranked).where(ranked.c.rank <= 2)):
        latest.setdefault(sub_id, []).append((qty, run_id))
    for sub_id, pair in latest.items():
        if len(pair) < 2:
            continue
        (new, run), (old, _) = sorted(pair, key=lambda p: -p[1])
        change = new - old
        if abs(change) >= SEAT_CHANGE_SEATS or (old and abs(change) / old >= SEAT_CHANGE_SHARE):
            sub = s.get(VendorSubscription, sub_id)
            wanted[f"seat_change:{sub_id}:{run}"] = (
                "seat_change", "info",
                f"{sub.product_name}: seats changed from {old} to {new}",
                {"vendor_subscription": sub.external_id, "from": str(old), "to": str(new)})


def refresh_alerts(ws: Workspace, now: datetime | None = None) -> list[AlertView]:
    now = now or datetime.now(UTC)
    window = timedelta(hours=int(get_setting(ws, "alert_window_hours")))
    with ws.begin() as s:
        wanted = _wanted(s, now, window)
        existing = {a.key: a for a in s.scalars(select(Alert).where(Alert.kind.in_(COMPUTED)))}
        for key, (kind, severity, message, ref) in wanted.items():
            alert = existing.get(key)
            if alert is None:
                s.add(Alert(key=key, kind=kind, severity=severity, message=message, ref=ref))
            elif alert.resolved_at is not None or alert.message != message:
                alert.message, alert.resolved_at = message, None
        for key, alert in existing.items():
            if key not in wanted and alert.resolved_at is None:
                alert.resolved_at = now
    return list_alerts(ws)


def list_alerts(ws: Workspace, include_resolved: bool = False) -> list[AlertView]:
    with ws.begin() as s:
        rank = case({"error": 0, "warning": 1}, value=Alert.severity, else_=2)
        query = select(Alert).order_by(rank, Alert.created_at.desc(), Alert.id)
        if not include_resolved:
            query = query.where(Alert.resolved_at.is_(None))
        return [AlertView(a.id, a.kind, a.severity, a.message, dict(a.ref), a.created_at,
                          a.occurrences) for a in s.scalars(query)]
