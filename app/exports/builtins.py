"""The built-in templates: Xero and QuickBooks Online invoice imports, and the review workbook.

Headers are the targets' own, character for character (reference/xero, reference/quickbooks):
Xero's 29-column sales invoice import template, and the QuickBooks Online invoice import
header widely reproduced from Intuit's sample. A `*` is part of the header text.
"""

from __future__ import annotations

from app.exports.fields import FieldType
from app.exports.review_workbook import REVIEW_COLUMNS
from app.exports.template import Column, Template, letters, validate

XERO_HEADER_LINE = (
    "*ContactName,EmailAddress,POAddressLine1,POAddressLine2,POAddressLine3,POAddressLine4,"
    "POCity,PORegion,POPostalCode,POCountry,*InvoiceNumber,Reference,*InvoiceDate,*DueDate,"
    "Total,InventoryItemCode,*Description,*Quantity,*UnitAmount,Discount,*AccountCode,"
    "*TaxType,TaxAmount,TrackingName1,TrackingOption1,TrackingName2,TrackingOption2,Currency,"
    "BrandingTheme"
)
XERO_HEADER = XERO_HEADER_LINE.split(",")

# header → (field, constant, format); unlisted columns stay blank (Total and TaxAmount are
# calculated by Xero; address, tracking and branding are the organisation's business).
_XERO_BINDINGS = {
    "*ContactName": ("customer", None, None),
    "*InvoiceNumber": ("invoice_number", None, None),
    "Reference": ("period", None, None),
    "*InvoiceDate": ("invoice_date", None, "{xero_date_format}"),
    "*DueDate": ("due_date", None, "{xero_date_format}"),
    "*Description": ("description", None, None),
    "*Quantity": ("quantity", None, None),
    "*UnitAmount": ("unit_price", None, None),
    "*AccountCode": (None, "{xero_account_code}", None),
    "*TaxType": (None, "{xero_tax_type}", None),
    "Currency": ("currency", None, None),
}

QBO_HEADER_LINE = (
    "*InvoiceNo,*Customer,*InvoiceDate,*DueDate,Terms,Location,Memo,Item(Product/Service),"
    "ItemDescription,ItemQuantity,ItemRate,*ItemAmount,Service Date"
)
QBO_HEADER = QBO_HEADER_LINE.split(",")

_QBO_BINDINGS = {
    "*InvoiceNo": ("invoice_number", None, None),
    "*Customer": ("customer", None, None),
    "*InvoiceDate": ("invoice_date", None, "MM/DD/YYYY"),
    "*DueDate": ("due_date", None, "MM/DD/YYYY"),
    "Terms": (None, "{qbo_terms}", None),
    "Memo": ("period", None, None),
    "Item(Product/Service)": ("item", None, None),
    "ItemDescription": ("description", None, None),
    "ItemQuantity": ("quantity", None, None),
    "ItemRate": ("unit_price", None, None),
    "*ItemAmount": ("amount", None, None),
    "Service Date": ("service_date", None, "MM/DD/YYYY"),
}

# One invoice per customer, recurring lines first, then the approved one-time charges.
_INVOICE_SORT = ("customer", "customer_id", "currency", "-line_kind", "description")


def _columns(header: list[str], bindings: dict) -> tuple[Column, ...]:
    out = []
    for letter, text in zip(letters(len(header)), header, strict=True):
        field, constant, fmt = bindings.get(text, (None, None, None))
        out.append(Column(letter, text, field=field, constant=constant, format=fmt))
    return tuple(out)


XERO = Template(
    name="xero", title="Xero sales invoice import (CSV)", source="invoice_lines",
    columns=_columns(XERO_HEADER, _XERO_BINDINGS), outputs=("csv",), sort=_INVOICE_SORT,
    group="customer_id", sheet="Invoices", csv_bom=True, max_invoices=500, builtin=True,
    notes="Dates follow the xero_date_format setting (DD/MM/YYYY for UK/AU/NZ organisations, "
          "MM/DD/YYYY for US ones). UTF-8 with a byte-order mark, as Excel saves 'CSV UTF-8' "
          "and Xero reads it; at most 500 invoices per file, so bigger periods are split.",
)

QUICKBOOKS = Template(
    name="quickbooks", title="QuickBooks Online invoice import (CSV or XLSX)",
    source="invoice_lines", columns=_columns(QBO_HEADER, _QBO_BINDINGS),
    outputs=("csv", "xlsx"), sort=_INVOICE_SORT, group="customer_id", sheet="Invoices",
    csv_bom=False, builtin=True,
    notes="Dates MM/DD/YYYY (choose that format in the import wizard). UTF-8 without a "
          "byte-order mark: QuickBooks is reported to misread the first header after one. "
          "Turn on custom transaction numbers in QuickBooks so it keeps ours.",
)

REVIEW = Template(
    name="review", title="Reconciliation review workbook (decide offline, import back)",
    source="findings",
    columns=tuple(Column(letter, c.header, field=c.field, width=c.width,
                         format="YYYY-MM-DD" if c.type is FieldType.DATE else c.format)
                  for letter, c in zip(letters(len(REVIEW_COLUMNS)), REVIEW_COLUMNS,
                                       strict=True)),
    outputs=("xlsx",), sort=("customer", "kind", "sku", "finding_id"), sheet="Findings",
    builtin=True, special="review",
    notes="Summary sheet with totals by kind and by customer; Findings sheet with a Decisions "
          "area (Decision, Effective date, Note). Import it back with "
          "`trueup import-decisions FILE`.",
)

BUILTINS: dict[str, Template] = {t.name: validate(t) for t in (XERO, QUICKBOOKS, REVIEW)}
