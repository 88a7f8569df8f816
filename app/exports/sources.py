"""Rows a template is filled from, read for one period as frozen values.

Core selects with joins, streamed in batches (`yield_per`), never ORM objects per row: the
review workbook of 100,000 findings is written while it is read. Adjustments and invoice
lines are small (a few per customer) and are returned as lists for sorting and grouping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Numeric, and_, cast, func, not_, or_, select
from sqlalchemy.engine import Connection

from app.domain.actions import ActionType, action_from_dict
from app.domain.money import round_money
from app.domain.periods import BillingPeriod
from app.domain.reconciliation.context import money_text
from app.models.connections import Connection as ConnectionRow
from app.models.psa import PsaAgreement, PsaBillingLine, PsaCompany, PsaProduct
from app.models.review import BillingPeriodRow, Finding
from app.models.vendor import VendorCustomer, VendorSubscription

ADJUSTMENT_STATUSES = ("approved", "pushed", "failed")  # decided "approve", sent or not
CHARGE_LOOKBACK_DAYS = 400  # a charge is dated within about a year of its finding's period
NOT_BILLED = ("DoNotBill", "NoCharge")  # ConnectWise billCustomer values that bill nothing
BATCH = 2_000

f = Finding.__table__
pc = PsaCompany.__table__
vc = VendorCustomer.__table__
vs = VendorSubscription.__table__


class SourceError(LookupError):
    """The data asked for is not there (e.g. a period never reconciled)."""


@dataclass(frozen=True, slots=True)
class PeriodInfo:
    id: int
    label: str
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class FindingRow:
    finding_id: int
    key: str
    kind: str
    status: str
    version: int
    inputs_hash: str
    customer: str
    customer_id: int | None
    customer_number: str | None
    vendor_customer: str | None
    sku: str | None
    product: str | None
    currency: str
    vendor_quantity: Decimal | None
    psa_quantity: Decimal | None
    quantity_difference: Decimal | None
    unit_price: Decimal | None
    unit_cost: Decimal | None
    amount: Decimal
    action: str
    effective_date: date | None
    note: str | None
    explain: str
    period: str
    period_start: date
    period_end: date


@dataclass(frozen=True, slots=True)
class AdjustmentRow:
    finding_id: int
    kind: str
    status: str
    customer: str
    customer_id: int | None
    customer_number: str | None
    sku: str | None
    product: str | None
    action: str
    description: str
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal
    currency: str
    effective_date: date | None
    agreement_ref: str
    line_ref: str | None
    product_ref: str | None
    period: str
    period_start: date
    period_end: date


@dataclass(frozen=True, slots=True)
class InvoiceLineRow:
    customer: str
    customer_id: int | None
    customer_number: str | None
    agreement: str
    line_kind: str  # recurring | one_time
    item: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    currency: str
    service_date: date
    finding_id: int | None
    line_ref: str | None
    period: str
    period_start: date
    period_end: date


def find_period(conn: Connection, label: str, *, reconciled: bool = True) -> PeriodInfo:
    """The stored period; an invoice export (`reconciled=False`) may also name a calendar
    month not reconciled yet (id 0): its PSA lines and dated charges exist all the same."""
    p = BillingPeriodRow.__table__
    row = conn.execute(select(p.c.id, p.c.label, p.c.start_date, p.c.end_date)
                       .where(p.c.label == label)).first()
    if row is not None:
        return PeriodInfo(*row)
    if not reconciled and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", label):
        month = BillingPeriod.month(int(label[:4]), int(label[5:]))
        return PeriodInfo(0, label, month.start, month.end)
    if not reconciled:
        raise SourceError(f"period {label!r} is not a month (YYYY-MM) nor a reconciled period")
    raise SourceError(f"period {label} has not been reconciled yet (no findings stored)")


# --- findings -------------------------------------------------------------------------------

_CUSTOMER = func.coalesce(pc.c.name, vc.c.name, "")
_SORT_COLUMNS: dict[str, Any] = {
    "finding_id": f.c.id, "key": f.c.key, "kind": f.c.kind, "status": f.c.status,
    "version": f.c.version, "customer": _CUSTOMER, "customer_id": pc.c.id,
    "customer_number": pc.c.identifier, "vendor_customer": vc.c.name, "sku": f.c.sku,
    "product": vs.c.product_name, "currency": f.c.currency,
    "vendor_quantity": cast(f.c.vendor_quantity, Numeric),
    "psa_quantity": cast(f.c.psa_quantity, Numeric),
    "unit_price": cast(f.c.unit_price, Numeric), "unit_cost": cast(f.c.unit_cost, Numeric),
    "amount": cast(f.c.amount, Numeric), "effective_date": f.c.effective_date,
    "note": f.c.note, "inputs_hash": f.c.inputs_hash, "period": f.c.period_id,
    "period_start": f.c.period_id, "period_end": f.c.period_id,
}
_JOINED = (f.outerjoin(pc, f.c.psa_company_id == pc.c.id)
           .outerjoin(vc, f.c.vendor_customer_id == vc.c.id)
           .outerjoin(vs, f.c.vendor_subscription_id == vs.c.id))


def count_findings(conn: Connection, period: PeriodInfo) -> int:
    return conn.execute(select(func.count()).select_from(f)
                        .where(f.c.period_id == period.id)).scalar_one()


def text_widths(conn: Connection, period: PeriodInfo) -> dict[str, int]:
    """The longest value of each free-text field, so columns fit before rows are streamed."""
    row = conn.execute(select(
        func.max(func.length(_CUSTOMER)), func.max(func.length(vs.c.product_name)),
        func.max(func.length(f.c.sku)), func.max(func.length(f.c.note)),
        func.max(func.length(f.c.kind)), func.max(func.length(f.c.amount)),
        func.max(func.length(vc.c.name)),
    ).select_from(_JOINED).where(f.c.period_id == period.id)).one()
    names = ("customer", "product", "sku", "note", "kind", "amount", "vendor_customer")
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}


def describe_actions(actions: list[dict[str, Any]]) -> str:
    """The proposed changes in words, as the finding's explanation words them."""
    parts = []
    for data in actions:
        try:
            parts.append(_describe(data))
        except (KeyError, ValueError, TypeError, ArithmeticError):
            parts.append(str(data.get("type", "change")).replace("_", " "))
    return "; ".join(parts)


def _describe(data: dict[str, Any]) -> str:
    """`describe_action(action_from_dict(data))` read straight from the stored dict.

    Building a PsaAction per finding was half the cost of reading 100,000 findings; a test
    holds this to the domain's own wording for every action type.
    """
    kind = ActionType(data["type"])
    desired = data.get("desired") or {}
    when = f" effective {data['effective_date']}" if data.get("effective_date") else ""
    line = data.get("line_ref") or None
    if kind is ActionType.SET_QUANTITY:
        return f"set the quantity of PSA line {line} to {desired['quantity']}{when}"
    if kind is ActionType.CANCEL_LINE:
        return f"cancel PSA line {line} (last day billed {desired['cancelled_date']})"
    if kind is ActionType.ADD_LINE:
        return (f"add a line to agreement {data['agreement_ref']}: {desired['quantity']} × "
                f"{desired['unit_price']} {data.get('currency') or 'USD'}{when}")
    if kind is ActionType.SET_PRICE:
        parts = [f"{name.replace('_', ' ')} {value}" for name, value in sorted(desired.items())]
        return f"set {', '.join(parts)} on PSA line {line}{when}"
    money = Decimal(str(data.get("money_effect") or "0"))
    return (f"one-time {'credit' if money < 0 else 'charge'} of "
            f"{money_text(abs(money), data.get('currency') or 'USD')} on agreement "
            f"{data['agreement_ref']} dated {desired['effective_date']}")


def iter_findings(conn: Connection, period: PeriodInfo,
                  sort: tuple[str, ...] = ("finding_id",)) -> Iterator[FindingRow]:
    """The period's findings, sorted by the database, streamed in batches."""
    order = []
    for key in (*sort, "finding_id"):
        column = _SORT_COLUMNS[key.lstrip("-")]
        order.append(column.desc() if key.startswith("-") else column)
    stmt = (select(f.c.id, f.c.key, f.c.kind, f.c.status, f.c.version, f.c.inputs_hash,
                   _CUSTOMER, pc.c.id, func.coalesce(pc.c.identifier, pc.c.external_id),
                   vc.c.name, f.c.sku, vs.c.product_name, f.c.currency, f.c.vendor_quantity,
                   f.c.psa_quantity, f.c.unit_price, f.c.unit_cost, f.c.amount, f.c.action,
                   f.c.effective_date, f.c.note, f.c.explanation["summary"].as_string())
            .select_from(_JOINED).where(f.c.period_id == period.id).order_by(*order)
            .execution_options(yield_per=BATCH))
    result = conn.execute(stmt)
    for (fid, key, kind, status, version, inputs, customer, cid, cnum, vname, sku, product,
         currency, vq, pq, price, cost, amount, action, effective, note, explain) in result:
        yield FindingRow(
            fid, key, kind, status, version, inputs, customer, cid, cnum, vname, sku, product,
            currency, vq, pq, vq - pq if vq is not None and pq is not None else None, price,
            cost, amount, describe_actions((action or {}).get("actions", [])), effective,
            note, explain or "", period.label, period.start, period.end)


# --- adjustments: the actions of approved findings -----------------------------------------


def load_adjustments(conn: Connection, period: PeriodInfo) -> list[AdjustmentRow]:
    """The actions of the period's approved findings, one row each."""
    return _adjustments(conn, f.c.period_id == period.id)


def _adjustments(conn: Connection, *where: Any) -> list[AdjustmentRow]:
    bp = BillingPeriodRow.__table__
    stmt = (select(f.c.id, f.c.kind, f.c.status, _CUSTOMER, pc.c.id,
                   func.coalesce(pc.c.identifier, pc.c.external_id), f.c.sku,
                   vs.c.product_name, f.c.currency, f.c.effective_date, f.c.action, bp.c.label,
                   bp.c.start_date, bp.c.end_date)
            .select_from(_JOINED.join(bp, f.c.period_id == bp.c.id))
            .where(f.c.status.in_(ADJUSTMENT_STATUSES), *where)
            .order_by(f.c.id))
    rows = []
    for (fid, kind, status, customer, cid, cnum, sku, product, currency, effective,
         data, label, start, end) in conn.execute(stmt):
        for n, raw in enumerate((data or {}).get("actions", [])):
            action = action_from_dict(raw)
            # the person's effective date moves the primary change (as review._queue_actions)
            when = effective if n == 0 and effective is not None else action.effective_date
            qty, price = action.desired.get("quantity"), action.desired.get("unit_price")
            rows.append(AdjustmentRow(
                fid, kind, status, customer, cid, cnum, sku, product, str(action.type),
                describe_actions([raw]) if not action.description else action.description,
                Decimal(qty) if qty else None, Decimal(price) if price else None,
                action.money_effect, action.currency or currency, when, action.agreement_ref,
                action.line_ref, action.product_ref, label, start, end))
    return rows


# --- invoice lines: recurring PSA lines + approved one-time charges ------------------------


@dataclass(frozen=True)
class InvoiceLines:
    rows: list[InvoiceLineRow]
    warnings: list[str]


def _amount(quantity: Decimal, price: Decimal, currency: str) -> Decimal:
    return round_money(Fraction(quantity) * Fraction(price), currency).amount


def load_invoice_lines(conn: Connection, period: PeriodInfo,
                       default_currency: str) -> InvoiceLines:
    """What the customers are billed for the period.

    Recurring PSA lines active in the period at their PSA quantity and price (a line that
    starts or stops inside the period is exported at the full price and named in a warning:
    prorating it is the PSA's business), plus the one-time charges and credits of approved
    findings dated inside the period: billed in advance, March's true-ups are dated 1 April
    and belong on April's invoice; billed in arrears, they are dated 31 March.
    """
    rows, warnings = _recurring_lines(conn, period, default_currency)
    prod, bp = PsaProduct.__table__, BillingPeriodRow.__table__
    catalogue = dict(conn.execute(select(prod.c.external_id, prod.c.identifier)).all())
    recent = period.start - timedelta(days=CHARGE_LOOKBACK_DAYS)
    for adj in _adjustments(conn, bp.c.start_date <= period.end, bp.c.end_date >= recent):
        dated = adj.effective_date or adj.period_start
        if adj.action != ActionType.ONE_TIME_CHARGE or not period.start <= dated <= period.end:
            continue
        qty, price = adj.quantity, adj.unit_price
        if qty is None or price is None or _amount(qty, price, adj.currency) != adj.amount:
            qty, price = Decimal(1), adj.amount  # the invoice must add up to the approval
        rows.append(InvoiceLineRow(
            adj.customer, adj.customer_id, adj.customer_number, "", "one_time",
            catalogue.get(adj.product_ref or "") or adj.product or adj.sku or adj.description,
            adj.description, qty, price, adj.amount, adj.currency, dated, adj.finding_id,
            adj.line_ref, period.label, period.start, period.end))
    return InvoiceLines(rows, warnings)


def _recurring_lines(conn: Connection, period: PeriodInfo,
                     default_currency: str) -> tuple[list[InvoiceLineRow], list[str]]:
    line, agr, prod = (PsaBillingLine.__table__, PsaAgreement.__table__, PsaProduct.__table__)
    conns = ConnectionRow.__table__
    currency_of = {cid: (settings or {}).get("currency") or default_currency
                   for cid, settings in conn.execute(select(conns.c.id, conns.c.settings))}
    stmt = (select(pc.c.id, pc.c.name, func.coalesce(pc.c.identifier, pc.c.external_id),
                   agr.c.name, line.c.external_id, prod.c.identifier, line.c.description,
                   line.c.invoice_description, line.c.quantity, line.c.unit_price,
                   line.c.effective_date, line.c.cancelled_date, line.c.connection_id)
            .select_from(line.join(agr, line.c.agreement_id == agr.c.id)
                         .join(pc, agr.c.company_id == pc.c.id)
                         .outerjoin(prod, and_(prod.c.connection_id == line.c.connection_id,
                                               prod.c.external_id == line.c.product_external_id)))
            .where(agr.c.kind == "recurring", agr.c.active.is_(True),
                   agr.c.missing_since.is_(None), line.c.missing_since.is_(None),
                   not_(line.c.is_one_time),
                   or_(agr.c.start_date.is_(None), agr.c.start_date <= period.end),
                   or_(agr.c.end_date.is_(None), agr.c.end_date >= period.start),
                   or_(line.c.effective_date.is_(None), line.c.effective_date <= period.end),
                   or_(line.c.cancelled_date.is_(None), line.c.cancelled_date >= period.start),
                   or_(line.c.bill_customer.is_(None), line.c.bill_customer.not_in(NOT_BILLED)))
            .order_by(line.c.id))
    rows, warnings = [], []
    for (cid, name, cnum, agreement, ref, item, desc, invoice_desc, qty, price, starts, ends,
         connection_id) in conn.execute(stmt):
        currency = currency_of.get(connection_id, default_currency)
        description = invoice_desc or desc or item or f"PSA line {ref}"
        if price is None:
            warnings.append(f"{name}: PSA line {ref} ({description}) has no unit price; "
                            "exported at 0")
            price = Decimal(0)
        partial = (starts is not None and starts > period.start) or \
                  (ends is not None and ends < period.end)
        if partial:
            warnings.append(f"{name}: PSA line {ref} ({description}) runs "
                            f"{starts or period.start} to {ends or period.end}, part of "
                            f"{period.label}; exported at the full period price")
        rows.append(InvoiceLineRow(
            name, cid, cnum, agreement, "recurring", item or description, description, qty,
            price, _amount(qty, price, currency), currency,
            max(starts, period.start) if starts else period.start, None, ref, period.label,
            period.start, period.end))
    return rows, warnings
