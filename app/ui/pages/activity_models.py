"""Rows and columns of the Sync & activity screen: connections with their last run, alerts,
and audit entries — each status shown as a symbol and a word as well as a colour."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.services.alerts import AlertView
from app.services.audit_log import AuditRow, SyncRunView
from app.services.connections import ConnectionView
from app.ui.formatting import day
from app.ui.pages.widgets import tone_color, tone_text
from app.ui.table import RIGHT, Column

KIND_NAMES = {"connectwise": "ConnectWise PSA", "autotask": "Autotask", "pax8": "Pax8",
              "partner_center": "Partner Center (files)", "generic_file": "Vendor file import"}
RUN_TONES = {"complete": ("ok", "Complete"), "failed": ("error", "Failed"),
             "cancelled": ("muted", "Cancelled"), "running": ("busy", "Running")}
SEVERITY = {"error": ("error", "Error", 0), "warning": ("warning", "Warning", 1),
            "info": ("info", "Info", 2)}
ALERT_KINDS = {"sync_failed": "Sync failed", "unmapped_customer": "Unmapped customer",
               "unmapped_subscription": "Unmapped subscription", "seat_change": "Seat change",
               "negative_margin": "Negative margin", "nce_window": "NCE window closing",
               "push_conflict": "Push conflict", "push_unknown": "Push outcome unknown"}
COUNT_ORDER = ("customers", "companies", "subscriptions", "agreements", "lines", "products",
               "invoices", "charge_lines")


@dataclass(frozen=True)
class ConnectionRow:
    connection: ConnectionView
    run: SyncRunView | None
    syncable: bool

    @property
    def name(self) -> str:
        return self.connection.name


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """"3 h ago" next to the date: how fresh the data is matters more than the clock time."""
    if when is None:
        return "never"
    now = now or datetime.now(UTC)
    seconds = int((now - when).total_seconds())
    if seconds < 90:
        text = "just now"
    elif seconds < 3600:
        text = f"{seconds // 60} min ago"
    elif seconds < 48 * 3600:
        text = f"{seconds // 3600} h ago"
    else:
        text = f"{seconds // 86400} days ago"
    return f"{day(when)} ({text})"


def run_status(row: ConnectionRow) -> tuple[str, str]:
    if row.run is None:
        if not row.syncable:
            return ("muted", "Imported from files" if row.connection.last_sync_at
                    else "No file imported yet")
        return ("muted", "Never synced")
    return RUN_TONES.get(row.run.status, ("muted", row.run.status.title()))


def counts_text(counts: dict[str, Any]) -> str:
    shown = [(k, v) for k, v in counts.items() if isinstance(v, int) and v
             and not k.startswith(("new_", "missing_"))]
    shown.sort(key=lambda kv: COUNT_ORDER.index(kv[0]) if kv[0] in COUNT_ORDER else 99)
    return " · ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in shown[:5])


CONNECTION_COLUMNS: list[Column[ConnectionRow]] = [
    Column("Connection", lambda r: r.name, lambda r: r.name.lower()),
    Column("Kind", lambda r: KIND_NAMES.get(r.connection.kind, r.connection.kind)),
    Column("Status", lambda r: tone_text(*run_status(r)),
           foreground=lambda r: tone_color(run_status(r)[0])),
    Column("Last run", lambda r: ago(r.run.started_at if r.run else r.connection.last_sync_at),
           lambda r: r.run.started_at if r.run else r.connection.last_sync_at),
    Column("What it read", lambda r: counts_text(r.run.counts) if r.run else "",
           tooltip=lambda r: json.dumps(r.run.counts, indent=1) if r.run else ""),
    Column("Problem", lambda r: (r.run.error or "") if r.run else "",
           tooltip=lambda r: (r.run.error or "") if r.run else "",
           foreground=lambda r: tone_color("error")),
]


def _run_tone(run: SyncRunView) -> tuple[str, str]:
    return RUN_TONES.get(run.status, ("muted", run.status.title()))


def _duration(run: SyncRunView) -> str:
    if run.finished_at is None:
        return "—"
    seconds = int((run.finished_at - run.started_at).total_seconds())
    if seconds < 1:
        return "< 1 s"
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


RUN_COLUMNS: list[Column[SyncRunView]] = [
    Column("Started", lambda r: ago(r.started_at), lambda r: r.started_at),
    Column("Status", lambda r: tone_text(*_run_tone(r)),
           foreground=lambda r: tone_color(_run_tone(r)[0])),
    Column("Took", _duration, lambda r: (r.finished_at - r.started_at) if r.finished_at
           else None, RIGHT),
    Column("What it read", lambda r: counts_text(r.counts)),
    Column("Problem", lambda r: r.error or "", tooltip=lambda r: r.error or "",
           foreground=lambda r: tone_color("error")),
]


def _severity(a: AlertView) -> tuple[str, str, int]:
    return SEVERITY.get(a.severity, ("muted", a.severity.title(), 9))


ALERT_COLUMNS: list[Column[AlertView]] = [
    Column("Severity", lambda a: tone_text(*_severity(a)[:2]), lambda a: _severity(a)[2],
           foreground=lambda a: tone_color(_severity(a)[0])),
    Column("What", lambda a: ALERT_KINDS.get(a.kind, a.kind.replace("_", " ").capitalize())),
    Column("Alert", lambda a: a.message, tooltip=lambda a: a.message),
    Column("Since", lambda a: day(a.created_at), lambda a: a.created_at),
    Column("Seen", lambda a: f"{a.occurrences:,}×", lambda a: a.occurrences, RIGHT),
]


def _short(value: Any) -> str:
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, default=str)
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def change_summary(row: AuditRow) -> str:
    """The fields that changed, "field: old → new", or what was added or removed."""
    before, after = row.before or {}, row.after or {}
    if len(after) > 1 and not before:  # an intent's key is a hash: noise in a summary
        after = {k: v for k, v in after.items() if k != "key"}
    if before and after:
        changed = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
        return "; ".join(f"{k}: {_short(before.get(k, '—'))} → {_short(after.get(k, '—'))}"
                         for k in changed[:3]) or "no change"
    side = after or before
    label = "" if after else "removed "
    return label + "; ".join(f"{k}: {_short(v)}" for k, v in list(side.items())[:3])


AUDIT_COLUMNS: list[Column[AuditRow]] = [
    Column("When", lambda r: day(r.at), lambda r: r.at),
    Column("User", lambda r: r.user),
    Column("Action", lambda r: r.action.replace("_", " ")),
    Column("Entity", lambda r: r.entity.replace("_", " ")),
    Column("Id", lambda r: r.entity_id),
    Column("Change", change_summary, tooltip=change_summary),
]


def audit_detail(row: AuditRow) -> str:
    """Before and after in full, for the pane under the table."""
    def dump(value: dict[str, Any] | None) -> str:
        return "—" if value is None else json.dumps(value, indent=2, sort_keys=True, default=str)

    return (f"{day(row.at)} · {row.user} · {row.action} {row.entity} {row.entity_id}\n\n"
            f"Before:\n{dump(row.before)}\n\nAfter:\n{dump(row.after)}")
