"""Billing policies, periods, findings and the decisions people take on them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.types import DecimalText, MoneyOrNone, Str40, Timestamp, TimestampOrNone


class PolicyRule(Base):
    """One billing-policy setting at one scope: global, customer, vendor or product."""

    __tablename__ = "policy_rules"
    __table_args__ = (UniqueConstraint("scope", "scope_ref", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[Str40]  # global | customer | vendor | product
    scope_ref: Mapped[str] = mapped_column(String(100), default="")
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[Timestamp]


class BillingPeriodRow(Base):
    __tablename__ = "billing_periods"
    __table_args__ = (UniqueConstraint("start_date", "end_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40), unique=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[Str40] = mapped_column(default="open")  # open | closed
    reconciled_at: Mapped[TimestampOrNone]


class Finding(Base):
    """One discrepancy for one period. `key` is stable across re-runs so review state sticks;
    `version` is the optimistic lock an approval must quote."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("period_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("billing_periods.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[Str40]
    vendor_customer_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_customers.id"))
    psa_company_id: Mapped[int | None] = mapped_column(ForeignKey("psa_companies.id"))
    vendor_subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("vendor_subscriptions.id")
    )
    psa_billing_line_id: Mapped[int | None] = mapped_column(ForeignKey("psa_billing_lines.id"))
    sku: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    vendor_quantity: Mapped[Decimal | None] = mapped_column(DecimalText(), nullable=True)
    psa_quantity: Mapped[Decimal | None] = mapped_column(DecimalText(), nullable=True)
    unit_price: Mapped[MoneyOrNone]
    unit_cost: Mapped[MoneyOrNone]
    amount: Mapped[Decimal] = mapped_column(DecimalText())
    action: Mapped[dict[str, Any]] = mapped_column(default=dict)
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[Str40] = mapped_column(default="open")
    effective_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


class Approval(Base):
    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    finding_version: Mapped[int] = mapped_column(Integer)
    decision: Mapped[Str40]  # approved | rejected | deferred
    effective_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[Timestamp]
