"""Typed workspace settings with defaults, declared once (time zone, deadlines, user)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from app.models.connections import Setting
from app.services.workspace import Workspace


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: object
    description: str


SPECS = {
    "time_zone": SettingSpec("time_zone", "UTC", "the MSP's zone for billing dates"),
    "reconciliation_deadline_day": SettingSpec(
        "reconciliation_deadline_day", 10, "day of the month by which last month is reconciled"),
    "alert_window_hours": SettingSpec(
        "alert_window_hours", 48, "warn this many hours before an NCE window closes"),
    "invoice_number_prefix": SettingSpec(
        "invoice_number_prefix", "INV-", "text before the sequence in exported invoice numbers"),
    "invoice_number_next": SettingSpec(
        "invoice_number_next", 1, "the next invoice number an export gives a new customer"),
    "invoice_number_digits": SettingSpec(
        "invoice_number_digits", 5, "invoice numbers are zero-padded to this many digits"),
    "invoice_due_days": SettingSpec(
        "invoice_due_days", 30, "exported invoices fall due this many days after their date"),
    "billing_currency": SettingSpec(
        "billing_currency", "USD", "currency of PSA lines in invoice exports"),
    "xero_date_format": SettingSpec(
        "xero_date_format", "DD/MM/YYYY", "dates in Xero imports: DD/MM/YYYY (UK, AU, NZ) "
        "or MM/DD/YYYY (US), as the organisation's region"),
    "xero_account_code": SettingSpec(
        "xero_account_code", "200", "Xero revenue account code for exported lines"),
    "xero_tax_type": SettingSpec(
        "xero_tax_type", "Tax Exempt", "Xero tax rate name for exported lines"),
    "qbo_terms": SettingSpec("qbo_terms", "Net 30", "QuickBooks payment terms for exports"),
    "sync_time": SettingSpec(
        "sync_time", "", "daily sync of every connection at this local time (HH:MM) while "
        "the app runs; empty = off"),
}


def get_setting(ws: Workspace, key: str) -> object:
    spec = SPECS[key]
    with ws.begin() as s:
        row = s.scalar(select(Setting).where(Setting.key == key))
        return row.value.get("value", spec.default) if row is not None else spec.default


def set_setting(ws: Workspace, key: str, value: object) -> None:
    if key not in SPECS:
        raise KeyError(f"unknown setting {key!r}; known: {', '.join(SPECS)}")
    if key == "time_zone":
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
    if key == "sync_time" and value != "":
        hours, _, minutes = str(value).partition(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2
                and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(f"the sync time is HH:MM (24-hour) or empty, not {value!r}")
    with ws.begin() as s:
        row = s.scalar(select(Setting).where(Setting.key == key))
        if row is None:
            s.add(Setting(key=key, value={"value": value}))
        else:
            row.value = {"value": value}


def time_zone(ws: Workspace) -> ZoneInfo:
    return ZoneInfo(str(get_setting(ws, "time_zone")))
