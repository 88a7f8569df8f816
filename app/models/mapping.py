"""Mappings between the vendor and PSA sides, suggestions awaiting a decision, overrides."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.types import DecimalText, MoneyOrNone, Str40, Timestamp


class CustomerMapping(Base):
    __tablename__ = "customer_mappings"
    __table_args__ = (UniqueConstraint("vendor_customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_customer_id: Mapped[int] = mapped_column(ForeignKey("vendor_customers.id"))
    psa_company_id: Mapped[int] = mapped_column(ForeignKey("psa_companies.id"), index=True)
    method: Mapped[Str40]  # external_id | domain | name | manual | suggestion
    score: Mapped[Decimal | None] = mapped_column(DecimalText(), nullable=True)
    created_at: Mapped[Timestamp]
    created_by: Mapped[str] = mapped_column(String(100))


class ProductMapping(Base):
    __tablename__ = "product_mappings"
    __table_args__ = (UniqueConstraint("vendor_product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_product_id: Mapped[int] = mapped_column(ForeignKey("vendor_products.id"))
    psa_product_id: Mapped[int] = mapped_column(ForeignKey("psa_products.id"), index=True)
    method: Mapped[Str40]
    created_at: Mapped[Timestamp]
    created_by: Mapped[str] = mapped_column(String(100))


class SubscriptionMapping(Base):
    """A vendor subscription billed through a PSA line; one row per pair (many-to-many)."""

    __tablename__ = "subscription_mappings"
    __table_args__ = (UniqueConstraint("vendor_subscription_id", "psa_billing_line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_subscription_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_subscriptions.id"), index=True
    )
    psa_billing_line_id: Mapped[int] = mapped_column(
        ForeignKey("psa_billing_lines.id"), index=True
    )
    method: Mapped[Str40]
    created_at: Mapped[Timestamp]
    created_by: Mapped[str] = mapped_column(String(100))


class AgreementMapping(Base):
    """Per PSA company, which agreement bills which billing motion."""

    __tablename__ = "agreement_mappings"
    __table_args__ = (UniqueConstraint("psa_company_id", "motion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    psa_company_id: Mapped[int] = mapped_column(ForeignKey("psa_companies.id"))
    motion: Mapped[Str40]  # monthly | annual-monthly | annual-annual | usage
    psa_agreement_id: Mapped[int] = mapped_column(ForeignKey("psa_agreements.id"))
    created_at: Mapped[Timestamp]


class MappingSuggestion(Base):
    """A fuzzy match waiting for a person: guessing wrong costs money."""

    __tablename__ = "mapping_suggestions"
    __table_args__ = (UniqueConstraint("kind", "vendor_ref", "psa_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Str40]  # customer | product | subscription
    vendor_ref: Mapped[int]
    psa_ref: Mapped[int]
    score: Mapped[Decimal] = mapped_column(DecimalText())
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[Str40] = mapped_column(default="pending")  # pending | accepted | rejected
    created_at: Mapped[Timestamp]


class PriceOverride(Base):
    """A customer price or description override, global (no company) or per customer."""

    __tablename__ = "price_overrides"
    __table_args__ = (UniqueConstraint("psa_company_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    psa_company_id: Mapped[int | None] = mapped_column(ForeignKey("psa_companies.id"))
    sku: Mapped[str] = mapped_column(String(100))
    unit_price: Mapped[MoneyOrNone]
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
