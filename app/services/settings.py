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
    with ws.begin() as s:
        row = s.scalar(select(Setting).where(Setting.key == key))
        if row is None:
            s.add(Setting(key=key, value={"value": value}))
        else:
            row.value = {"value": value}


def time_zone(ws: Workspace) -> ZoneInfo:
    return ZoneInfo(str(get_setting(ws, "time_zone")))
