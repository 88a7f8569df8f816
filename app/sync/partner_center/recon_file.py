"""The new-commerce invoice reconciliation CSV → signed ParsedLines.

Columns are found by header name (reference/partner-center/nce-invoice-reconciliation-fields
.csv lists the 46 in file order); extra, reordered or respelled columns are fine, a missing
required one is named. Values are stored raw: Microsoft's licence subtotal is
ROUNDDOWN(EffectiveUnitPrice × PCToBCExchangeRate, 2) × BillableQuantity
(app.domain.money.microsoft_licence_subtotal), applied when reconciling, never on import.

Sign rule. BillableQuantity, Subtotal and Total keep Microsoft's signs: refunds are negative,
and an NCE addQuantity/removeQuantity arrives as a negative line refunding the old quantity
plus a positive line charging the new one over the same dates, so the signed lines sum to
the seats on every day. One correction: a seat line with a positive quantity, a non-negative
unit price and a negative subtotal is a refund written with an unsigned quantity; its
quantity is negated and the raw value kept in extra ("sign": "from subtotal").

Line identity (ChargeLine.line_key = sha256 of): InvoiceNumber, CustomerId, SubscriptionId,
OrderId, AlternateId, ReferenceID, ProductId, SkuId, AvailabilityId, ChargeType,
ChargeStartDate, ChargeEndDate, BillableQuantity, Quantity, EffectiveUnitPrice, UnitPrice,
PCToBCExchangeRate, Subtotal, TaxTotal, Total, Currency, PromotionID, CreditReasonCode,
ReservationOrderId, MeterDescription, with dates as ISO days and numbers in canonical form,
so the same line re-saved by Excel (5/1/2024, 16.00) keeps its key. Names and descriptions
are left out: a renamed customer does not make a line new. An unbilled line (empty
InvoiceNumber) and its billed twin are different lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from json.encoder import encode_basestring as enc

from app.sync.file_import.lines import ParsedLine
from app.sync.file_import.problems import Reject
from app.sync.file_import.values import (
    currency_parser,
    line_key,
    microsoft_date_parser,
    number_parser,
    parse_billing_frequency,
    parse_term,
)
from app.sync.partner_center import charge_types
from app.sync.partner_center.cells import (
    EMPTY_REQUIRED,
    ID_LENGTH,
    Header,
    fit,
    identifier,
    value,
)

RECON_COLUMNS = (
    "PartnerId", "CustomerId", "CustomerName", "CustomerDomainName", "CustomerCountry",
    "InvoiceNumber", "MpnId", "ResellerMpnId", "OrderId", "OrderDate", "ProductId", "SkuId",
    "AvailabilityId", "SkuName", "ProductName", "ChargeType", "UnitPrice", "Quantity",
    "Subtotal", "TaxTotal", "Total", "Currency", "PriceAdjustmentDescription", "PublisherName",
    "PublisherId", "SubscriptionDescription", "SubscriptionId", "ChargeStartDate",
    "ChargeEndDate", "TermAndBillingCycle", "EffectiveUnitPrice", "UnitType", "AlternateId",
    "BillableQuantity", "BillingFrequency", "PricingCurrency", "PCToBCExchangeRate",
    "PCToBCExchangeRateDate", "MeterDescription", "ReservationOrderId", "CreditReasonCode",
    "SubscriptionStartDate", "SubscriptionEndDate", "ReferenceID", "ProductQualifiers",
    "PromotionID",
)
READ = ("CustomerId", "CustomerName", "CustomerDomainName", "InvoiceNumber", "OrderId",
        "OrderDate", "ProductId", "SkuId", "AvailabilityId", "SkuName", "ProductName",
        "ChargeType", "UnitPrice", "Quantity", "Subtotal", "TaxTotal", "Total", "Currency",
        "SubscriptionId", "ChargeStartDate", "ChargeEndDate", "TermAndBillingCycle",
        "EffectiveUnitPrice", "AlternateId", "BillableQuantity", "BillingFrequency",
        "PricingCurrency", "PCToBCExchangeRate", "PCToBCExchangeRateDate", "MeterDescription",
        "ReservationOrderId", "CreditReasonCode", "SubscriptionStartDate",
        "SubscriptionEndDate", "ReferenceID", "ProductQualifiers", "PromotionID")
WANTED = {name: (name,) for name in READ}
WANTED["CustomerDomainName"] = ("CustomerDomainName", "CustomerDomain")
REQUIRED = ("CustomerId", "CustomerName", "InvoiceNumber", "SubscriptionId", "ProductId",
            "SkuId", "ChargeType", "ChargeStartDate", "ChargeEndDate", "BillableQuantity",
            "EffectiveUnitPrice", "PCToBCExchangeRate", "Currency")
KIND = "partner_center_recon"
NO_DATE = "0001-01-01"  # Microsoft's "no date" in PCToBCExchangeRateDate


def read_recon(records: Iterator[tuple[int, list[str]]], file_name: str,
               ) -> Iterator[ParsedLine | tuple[Reject, ...]]:
    """Yield a ParsedLine per good record and a tuple of Rejects per bad one.

    The loop probes the parsers' caches inline (a dict hit per cell) and falls back to
    `value()` only for new, empty or bad cells: this is the hot loop of a million-line file.
    """
    h = Header(records, file_name, WANTED, REQUIRED)
    n = h.names
    num, day, cur = number_parser(), microsoft_date_parser(), currency_parser()
    nget, dget, cget = num.cache.get, day.cache.get, cur.cache.get
    (i_cust, i_name, i_domain, i_inv, i_order, i_odate, i_prod, i_sku, i_avail, i_skuname,
     i_prodname, i_type, i_uprice, i_qty, i_sub, i_tax, i_total, i_cur, i_subid, i_start,
     i_end, i_term, i_eprice, i_alt, i_bqty, i_freq, i_pcur, i_rate, i_rdate, i_meter,
     i_resv, i_credit, i_sstart, i_send, i_ref, i_qual, i_promo) = (h[f] for f in READ)
    terms: dict[str, str | None] = {}
    frequencies: dict[str, str | None] = {}
    ids = (("CustomerId", i_cust), ("SubscriptionId", i_subid), ("ProductId", i_prod),
           ("SkuId", i_sku))
    width = h.width
    new_line = tuple.__new__  # ParsedLine(...) goes through a Python-level __new__
    errors: list[Reject] = []  # reused: one list per file, not one per row
    for row, raw in records:
        if len(raw) == width and raw[i_cust]:  # the common case: a full, non-blank row
            raw.append("")
            cells = raw
        else:
            fitted = fit(raw, width, row)
            if fitted is None:
                continue
            if isinstance(fitted, tuple):
                yield fitted
                continue
            cells = fitted
        customer, subscription, product, sku_id = (
            cells[i_cust].strip(), cells[i_subid].strip(), cells[i_prod].strip(),
            cells[i_sku].strip())
        if not (customer and subscription and product and sku_id) or max(
                len(customer), len(subscription), len(product), len(sku_id)) > ID_LENGTH:
            for field, index in ids:
                identifier(cells[index], row, n[field], errors)
        invoice = cells[i_inv].strip() or None
        if invoice and len(invoice) > ID_LENGTH:
            identifier(invoice, row, n["InvoiceNumber"], errors)
        type_text = cells[i_type].strip()
        charge = charge_types.lookup(type_text)
        if charge is None:
            errors.append(Reject(row, n["ChargeType"], f"unknown charge type {type_text!r}"
                                 if type_text else EMPTY_REQUIRED))
        c = cells[i_start]
        start = dget(c) or value(day, c, row, n["ChargeStartDate"], errors, True)
        c = cells[i_end]
        end = dget(c) or value(day, c, row, n["ChargeEndDate"], errors, True)
        if start is not None and end is not None and end.value < start.value:
            errors.append(Reject(row, n["ChargeEndDate"], f"ends {end.iso}, before "
                                 f"ChargeStartDate {start.iso}"))
        c = cells[i_bqty]
        bqty = nget(c) or value(num, c, row, n["BillableQuantity"], errors, True)
        c = cells[i_eprice]
        eprice = nget(c) or value(num, c, row, n["EffectiveUnitPrice"], errors, True)
        c = cells[i_rate]
        rate = nget(c) or value(num, c, row, n["PCToBCExchangeRate"], errors, True)
        c = cells[i_cur]
        currency = cget(c) or value(cur, c, row, n["Currency"], errors, True)
        c = cells[i_uprice]
        uprice = nget(c) or value(num, c, row, n["UnitPrice"], errors)
        c = cells[i_qty]
        qty = nget(c) or value(num, c, row, n["Quantity"], errors)
        c = cells[i_sub]
        subtotal = nget(c) or value(num, c, row, n["Subtotal"], errors)
        c = cells[i_tax]
        tax = nget(c) or value(num, c, row, n["TaxTotal"], errors)
        c = cells[i_total]
        total = nget(c) or value(num, c, row, n["Total"], errors)
        c = cells[i_pcur]
        pricing_currency = cget(c) or value(cur, c, row, n["PricingCurrency"], errors)
        c = cells[i_odate]
        order_date = dget(c) or value(day, c, row, n["OrderDate"], errors)
        c = cells[i_sstart]
        sub_start = dget(c) or value(day, c, row, n["SubscriptionStartDate"], errors)
        c = cells[i_send]
        sub_end = dget(c) or value(day, c, row, n["SubscriptionEndDate"], errors)
        c = cells[i_rdate]
        rate_date = dget(c) or value(day, c, row, n["PCToBCExchangeRateDate"], errors)
        if errors:
            rejected = tuple(errors)
            errors.clear()
            yield rejected
            continue
        assert charge and start and end and bqty and eprice and rate and currency
        term_text = cells[i_term]
        term = terms.get(term_text, "?")
        if term == "?":
            if len(terms) > 1000:  # a handful of distinct texts in a real file
                terms.clear()
            term = terms[term_text] = _term(term_text)
        frequency_text = cells[i_freq]
        frequency = frequencies.get(frequency_text, "?")
        if frequency == "?":
            if len(frequencies) > 1000:
                frequencies.clear()
            frequency = frequencies[frequency_text] = _frequency(frequency_text)
        quantity, quantity_text = bqty.value, bqty.text
        order_id, reference, alternate = (cells[i_order].strip(), cells[i_ref].strip(),
                                          cells[i_alt].strip())
        availability, promotion = cells[i_avail].strip(), cells[i_promo].strip()
        credit, reservation, meter = (cells[i_credit].strip(), cells[i_resv].strip(),
                                      cells[i_meter].strip())
        key = line_key((
            "pc-recon", invoice or "", customer, subscription, order_id, alternate, reference,
            product, sku_id, availability, charge.code, type_text.lower(), start.iso, end.iso,
            bqty.canonical, qty.canonical if qty else "", eprice.canonical,
            uprice.canonical if uprice else "", rate.canonical,
            subtotal.canonical if subtotal else "", tax.canonical if tax else "",
            total.canonical if total else "", currency, promotion, credit, reservation, meter,
        ))
        # ChargeLine.extra, written by hand (json.dumps per row costs more than the insert):
        # Decimal and ISO texts need no escaping, free text goes through encode_basestring.
        extra = (f'{{"row":{row}'
                 + (f',"order_id":{enc(order_id)}' if order_id else "")
                 + (f',"reference_id":{enc(reference)}' if reference else "")
                 + (f',"unit_price":"{uprice.text}"' if uprice else ""))
        if (charge.seats and quantity > 0 and subtotal is not None and subtotal.value < 0
                and eprice.value >= 0):
            quantity, quantity_text = -quantity, format(-quantity, "f")
            extra += f',"sign":"from subtotal","billable_quantity":"{bqty.text}"'
        if qty and qty.value != quantity:
            extra += f',"quantity":"{qty.text}"'
        if alternate and alternate != order_id:
            extra += f',"alternate_id":{enc(alternate)}'
        if type_text != charge.code:
            extra += f',"charge_type":{enc(type_text)}'
        if not charge.seats:
            extra += ',"seats":false'
        if promotion:
            extra += f',"promotion_id":{enc(promotion)}'
        if credit:
            extra += f',"credit_reason":{enc(credit)}'
        if reservation:
            extra += f',"reservation_order_id":{enc(reservation)}'
        if meter:
            extra += f',"meter":{enc(meter)}'
        if term is None and term_text.strip():
            extra += f',"term_text":{enc(term_text.strip())}'
        qualifiers = cells[i_qual].strip()
        if qualifiers and qualifiers != "[]":
            extra += f',"product_qualifiers":{enc(qualifiers)}'
        if pricing_currency and pricing_currency != currency:
            extra += f',"pricing_currency":"{pricing_currency}"'
        if rate_date and rate_date.iso != NO_DATE and rate.value != 1:
            extra += f',"exchange_rate_date":"{rate_date.iso}"'
        yield new_line(ParsedLine, (  # in ParsedLine's field order
            key, customer, cells[i_name].strip() or None, subscription, f"{product}:{sku_id}",
            cells[i_skuname].strip() or cells[i_prodname].strip() or None, charge.code,
            start.iso, end.iso, quantity_text, eprice.text, rate.text,
            subtotal.text if subtotal else None, total.text if total else None, currency,
            invoice, term, frequency, order_date.iso if order_date else None, charge.is_usage,
            extra + "}",
            row, cells[i_domain].strip() or None, quantity, charge.seats, charge.cancels,
            sub_start.iso if sub_start and sub_start.iso != NO_DATE else None,
            sub_end.iso if sub_end and sub_end.iso != NO_DATE else None,
        ))


def _term(text: str) -> str | None:
    try:
        return parse_term(text)
    except ValueError:  # usage meters ("Data Stored (GB/Month)") have no term
        return None


def _frequency(text: str) -> str | None:
    try:
        return parse_billing_frequency(text)
    except ValueError:  # keep Microsoft's word rather than drop it
        return text.strip()[:20] or None
