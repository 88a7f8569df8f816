"""The vendor side: customers, products, subscriptions with snapshots and seat lots, charges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.types import (
    DecimalText,
    Money,
    MoneyOrNone,
    Str40,
    Str200,
    Timestamp,
    TimestampOrNone,
    stored_places,
)


class VendorCustomer(Base):
    __tablename__ = "vendor_customers"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[Str200]
    domain: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(40))
    first_seen_at: Mapped[Timestamp]


class VendorProduct(Base):
    __tablename__ = "vendor_products"
    __table_args__ = (UniqueConstraint("connection_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[Str200]
    vendor_name: Mapped[str | None] = mapped_column(String(200))


class VendorSubscription(Base):
    """The current state of a vendor subscription, as of the last complete snapshot."""

    __tablename__ = "vendor_subscriptions"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("vendor_customers.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    sku: Mapped[str] = mapped_column(String(100))
    product_name: Mapped[Str200]
    quantity: Mapped[Money]
    unit_cost: Mapped[MoneyOrNone]
    unit_price: Mapped[MoneyOrNone]
    currency: Mapped[str] = mapped_column(String(3))
    term: Mapped[str | None] = mapped_column(String(10))
    billing_frequency: Mapped[str | None] = mapped_column(String(20))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[Str40]
    created_at_vendor: Mapped[TimestampOrNone]
    updated_at: Mapped[Timestamp]


class SubscriptionSnapshot(Base):
    """A subscription as one sync saw it; consecutive snapshots give seat changes."""

    __tablename__ = "subscription_snapshots"
    __table_args__ = (UniqueConstraint("sync_run_id", "subscription_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_subscriptions.id"), index=True
    )
    taken_at: Mapped[Timestamp]
    quantity: Mapped[Money]
    unit_cost: Mapped[MoneyOrNone]
    status: Mapped[Str40]
    end_date: Mapped[date | None] = mapped_column(Date)


class SeatLot(Base):
    """A block of seats with its own start, price and cancellation window."""

    __tablename__ = "seat_lots"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_subscriptions.id"), index=True
    )
    quantity: Mapped[Money]  # signed
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    unit_cost: Mapped[MoneyOrNone]
    source: Mapped[Str40]  # charge_line | snapshot | history
    cancel_window_ends_at: Mapped[TimestampOrNone]


class VendorInvoice(Base):
    __tablename__ = "vendor_invoices"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    total: Mapped[Money]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str | None] = mapped_column(String(40))


def _quantity_places(context: Any) -> int | None:
    values = context.get_current_parameters()
    return stored_places(values.get("quantity")) if values.get("is_usage") else None


def _amount_places(context: Any) -> int | None:
    values = context.get_current_parameters()
    total = values.get("total")
    return stored_places(total if total is not None else values.get("subtotal")) \
        if values.get("is_usage") else None


class ChargeLine(Base):
    """A signed vendor charge over a date range: the vendor quantity timeline's raw material.

    Bulk data: written through Core/DBAPI in batches, never as ORM objects.

    A usage line's `quantity_places` and `amount_places` say how its quantity and amount
    (the total, else the subtotal) are written: `stored_places`, the digits after the
    point, plus NEGATIVE_PLACES when negative. SQLite's float sums of usage are proven exact
    from them (app.services.reconcile_charges) without reading every line's text. Given on
    insert (the sync's bulk insert, this model's defaults) and kept by a trigger on update
    (migration 0006); NULL on other lines, and on a usage line written any other way, whose
    sums are then added up in Decimal.
    """

    __tablename__ = "charge_lines"
    __table_args__ = (
        UniqueConstraint("connection_id", "line_key"),
        Index("ix_charge_lines_subscription", "connection_id", "subscription_external_id",
              "charge_start"),
        # Only the seat lines, a few per subscription among the daily usage: a period's seat
        # lines are read without scanning the usage (the condition reads as the query's).
        Index("ix_charge_lines_seats", "charge_end", sqlite_where=text("is_usage IS 0"),
              postgresql_where=text("is_usage IS false")),
        # Only the usage lines spanning several days: those starting before a period and
        # ending in it are found without reading the daily usage of earlier months.
        Index("ix_charge_lines_usage_spans", "charge_end", sqlite_where=text(
            "is_usage IS 1 AND (charge_end IS NULL OR charge_end > charge_start)"),
            postgresql_where=text(
                "is_usage IS true AND (charge_end IS NULL OR charge_end > charge_start)")),
        # A subscription's lines of more than a day (seat lines, usage spans) by their last
        # day: whether one line alone covers a period is a search or two (SQLite, which
        # reads books in shares: app.services.quiet_subscriptions).
        Index("ix_charge_lines_subscription_ends", "connection_id", "subscription_external_id",
              "charge_end", sqlite_where=text(
                  "is_usage IS 0 OR (is_usage IS 1 AND "
                  "(charge_end IS NULL OR charge_end > charge_start))")).ddl_if(dialect="sqlite"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    import_file_id: Mapped[int | None] = mapped_column(ForeignKey("import_files.id"), index=True)
    line_key: Mapped[str] = mapped_column(String(64))
    customer_external_id: Mapped[str] = mapped_column(String(100))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    subscription_external_id: Mapped[str | None] = mapped_column(String(100))
    sku: Mapped[str | None] = mapped_column(String(100))
    product_name: Mapped[str | None] = mapped_column(String(200))
    charge_type: Mapped[Str40]
    charge_start: Mapped[date | None] = mapped_column(Date)
    charge_end: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(DecimalText())
    unit_price: Mapped[MoneyOrNone]
    exchange_rate: Mapped[MoneyOrNone]
    subtotal: Mapped[MoneyOrNone]
    total: Mapped[MoneyOrNone]
    currency: Mapped[str] = mapped_column(String(3))
    invoice_number: Mapped[str | None] = mapped_column(String(100))
    term: Mapped[str | None] = mapped_column(String(10))
    billing_frequency: Mapped[str | None] = mapped_column(String(20))
    order_date: Mapped[date | None] = mapped_column(Date)
    is_usage: Mapped[bool] = mapped_column(Boolean, default=False)
    extra: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    quantity_places: Mapped[int | None] = mapped_column(default=_quantity_places)
    amount_places: Mapped[int | None] = mapped_column(default=_amount_places)
