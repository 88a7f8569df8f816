"""The new-commerce daily rated usage CSV (Azure plan) → usage ParsedLines.

Columns from reference/partner-center/nce-daily-rated-usage-fields.csv, found by name. Each
line is one meter on one resource for one day: it is stored over UsageDate..UsageDate (the
billing cycle dates go to extra), with is_usage set, so its quantity never counts as seats.
Quantity and amounts keep Microsoft's signs and full precision.

Line identity: InvoiceNumber, CustomerId, SubscriptionId, EntitlementId, UsageDate, MeterId,
ResourceURI, ResourceGroup, ResourceLocation, ConsumedService, Tags, AdditionalInfo,
ServiceInfo1, ServiceInfo2, ChargeType, ChargeStartDate, ChargeEndDate, Quantity,
EffectiveUnitPrice, UnitPrice, PCToBCExchangeRate, BillingPreTaxTotal, PricingPreTaxTotal,
BillingCurrency (dates as ISO days, numbers canonical).
"""

from __future__ import annotations

from collections.abc import Iterator

from app.sync.file_import.lines import ParsedLine
from app.sync.file_import.problems import Reject
from app.sync.file_import.values import (
    currency_parser,
    extra_json,
    line_key,
    microsoft_date_parser,
    number_parser,
)
from app.sync.partner_center import charge_types
from app.sync.partner_center.cells import Header, fit, identifier, text, value

READ = ("CustomerId", "CustomerName", "CustomerDomainName", "InvoiceNumber", "ProductId",
        "SkuId", "SkuName", "ProductName", "SubscriptionId", "ChargeStartDate",
        "ChargeEndDate", "UsageDate", "MeterId", "MeterName", "MeterCategory", "ResourceURI",
        "ResourceGroup", "ResourceLocation", "ConsumedService", "Tags", "AdditionalInfo",
        "ServiceInfo1", "ServiceInfo2", "ChargeType", "UnitPrice", "Quantity", "UnitType",
        "BillingPreTaxTotal", "BillingCurrency", "PricingPreTaxTotal", "PricingCurrency",
        "EffectiveUnitPrice", "PCToBCExchangeRate", "EntitlementId")
WANTED = {name: (name,) for name in READ}
WANTED["UnitType"] = ("UnitType", "Unit", "UnitOfMeasure")
REQUIRED = ("CustomerId", "InvoiceNumber", "SubscriptionId", "ChargeStartDate",
            "ChargeEndDate", "UsageDate", "MeterId", "Quantity", "BillingPreTaxTotal",
            "BillingCurrency")
KIND = "partner_center_usage"
# Columns whose presence tells a usage file from a recon file.
SIGNATURE = ("UsageDate", "MeterId", "BillingPreTaxTotal")


def read_usage(records: Iterator[tuple[int, list[str]]], file_name: str,
               ) -> Iterator[ParsedLine | tuple[Reject, ...]]:
    h = Header(records, file_name, WANTED, REQUIRED)
    n = h.names
    num, day, cur = number_parser(), microsoft_date_parser(), currency_parser()
    (i_cust, i_name, i_domain, i_inv, i_prod, i_sku, i_skuname, i_prodname, i_subid,
     i_start, i_end, i_usage, i_meter, i_metername, i_metercat, i_uri, i_group, i_loc,
     i_service, i_tags, i_info, i_info1, i_info2, i_type, i_uprice, i_qty, i_unit,
     i_billing, i_bcur, i_pricing, i_pcur, i_eprice, i_rate, i_entitlement,
     ) = (h[f] for f in READ)
    for row, raw in records:
        cells = fit(raw, h.width, row)
        if cells is None:
            continue
        if isinstance(cells, tuple):
            yield cells
            continue
        errors: list[Reject] = []
        customer = identifier(cells[i_cust], row, n["CustomerId"], errors)
        subscription = identifier(cells[i_subid], row, n["SubscriptionId"], errors)
        invoice = identifier(cells[i_inv], row, n["InvoiceNumber"], errors, required=False)
        meter = identifier(cells[i_meter], row, n["MeterId"], errors)
        product = identifier(cells[i_prod], row, n["ProductId"], errors, required=False)
        sku_id = identifier(cells[i_sku], row, n["SkuId"], errors, required=False)
        type_text = cells[i_type].strip()
        charge = charge_types.lookup(type_text) if type_text else charge_types.USAGE
        if charge is None:
            errors.append(Reject(row, n["ChargeType"], f"unknown charge type {type_text!r}"))
        start = value(day, cells[i_start], row, n["ChargeStartDate"], errors, True)
        end = value(day, cells[i_end], row, n["ChargeEndDate"], errors, True)
        if start is not None and end is not None and end.value < start.value:
            errors.append(Reject(row, n["ChargeEndDate"],
                                 f"ends {end.iso}, before ChargeStartDate {start.iso}"))
        used = value(day, cells[i_usage], row, n["UsageDate"], errors, True)
        qty = value(num, cells[i_qty], row, n["Quantity"], errors, True)
        billing = value(num, cells[i_billing], row, n["BillingPreTaxTotal"], errors, True)
        currency = value(cur, cells[i_bcur], row, n["BillingCurrency"], errors, True)
        eprice = value(num, cells[i_eprice], row, n["EffectiveUnitPrice"], errors)
        uprice = value(num, cells[i_uprice], row, n["UnitPrice"], errors)
        rate = value(num, cells[i_rate], row, n["PCToBCExchangeRate"], errors)
        pricing = value(num, cells[i_pricing], row, n["PricingPreTaxTotal"], errors)
        pricing_currency = value(cur, cells[i_pcur], row, n["PricingCurrency"], errors)
        if errors:
            yield tuple(errors)
            continue
        assert charge and start and end and used and qty and billing and currency
        entitlement, uri = text(cells[i_entitlement]), text(cells[i_uri])
        group, location = text(cells[i_group]), text(cells[i_loc])
        service, tags, info = text(cells[i_service]), text(cells[i_tags]), text(cells[i_info])
        info1, info2 = text(cells[i_info1]), text(cells[i_info2])
        key = line_key((
            "pc-usage", invoice or "", customer, subscription, entitlement or "", used.iso,
            meter, uri or "", group or "", location or "", service or "", tags or "",
            info or "", info1 or "", info2 or "", charge.code, start.iso, end.iso,
            qty.canonical, eprice.canonical if eprice else "",
            uprice.canonical if uprice else "", rate.canonical if rate else "",
            billing.canonical, pricing.canonical if pricing else "", currency,
        ))
        extra: dict[str, object] = {"row": row, "meter_id": meter, "cycle_start": start.iso,
                                    "cycle_end": end.iso}
        for name, item in (("entitlement_id", entitlement), ("resource_uri", uri),
                           ("resource_group", group), ("meter_name", text(cells[i_metername])),
                           ("meter_category", text(cells[i_metercat])),
                           ("unit", text(cells[i_unit])), ("pricing_currency", pricing_currency),
                           ("charge_type", type_text if type_text != charge.code else None)):
            if item:
                extra[name] = item
        if uprice:
            extra["unit_price"] = uprice.text
        if pricing:
            extra["pricing_pre_tax_total"] = pricing.text
        sku = f"{product}:{sku_id}" if product and sku_id else product or None
        name = (text(cells[i_skuname]) or text(cells[i_prodname])
                or text(cells[i_metername]))
        yield ParsedLine(
            key=key, customer_id=customer, customer_name=text(cells[i_name]),
            subscription_id=subscription, sku=sku, product_name=name,
            charge_type=charge.code, charge_start=used.iso, charge_end=used.iso,
            quantity_text=qty.text, unit_price=eprice.text if eprice else None,
            exchange_rate=rate.text if rate else None, subtotal=billing.text, total=None,
            currency=currency, invoice_number=invoice, term=None, billing_frequency="Usage",
            order_date=None, is_usage=True, extra=extra_json(extra), row=row,
            customer_domain=text(cells[i_domain]), quantity=qty.value, seats=False,
            cancels=False, subscription_start=None, subscription_end=None,
        )
