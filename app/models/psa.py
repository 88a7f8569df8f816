"""The PSA side: companies, agreements/contracts, billing lines and catalogue products."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.types import DecimalText, MoneyOrNone, Str40, Str200, Timestamp, TimestampOrNone


class PsaCompany(Base):
    __tablename__ = "psa_companies"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    identifier: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[Str200]
    domain: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(40))


class PsaAgreement(Base):
    """A ConnectWise agreement or an Autotask contract."""

    __tablename__ = "psa_agreements"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("psa_companies.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[Str200]
    kind: Mapped[Str40]  # recurring | one_time | fixed_price
    type_name: Mapped[str | None] = mapped_column(String(100))
    billing_cycle: Mapped[str | None] = mapped_column(String(40))
    prorate: Mapped[bool] = mapped_column(Boolean, default=True)
    bill_one_time: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    missing_since: Mapped[TimestampOrNone]  # absent from the last complete sync


class PsaBillingLine(Base):
    """An addition (ConnectWise) or contract service / charge (Autotask)."""

    __tablename__ = "psa_billing_lines"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("psa_agreements.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    product_external_id: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
    invoice_description: Mapped[str | None] = mapped_column(String(1000))
    quantity: Mapped[Decimal] = mapped_column(DecimalText())
    unit_price: Mapped[MoneyOrNone]
    unit_cost: Mapped[MoneyOrNone]
    effective_date: Mapped[date | None] = mapped_column(Date)
    cancelled_date: Mapped[date | None] = mapped_column(Date)
    bill_customer: Mapped[str | None] = mapped_column(String(20))
    is_one_time: Mapped[bool] = mapped_column(Boolean, default=False)
    last_updated: Mapped[TimestampOrNone]
    synced_at: Mapped[Timestamp]
    missing_since: Mapped[TimestampOrNone]  # absent from the last complete sync


class PsaProduct(Base):
    __tablename__ = "psa_products"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    identifier: Mapped[Str200]
    description: Mapped[str | None] = mapped_column(String(500))
    price: Mapped[MoneyOrNone]
    cost: Mapped[MoneyOrNone]
