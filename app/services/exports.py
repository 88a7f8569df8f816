"""Exports: fill a template for a period, manage user templates, import decisions back.

The use cases the UI and the CLI share. Each export is written to a temporary file beside the
target and moved into place at the end, so a failed or cancelled export leaves nothing behind
and never half-overwrites a previous file. Invoice numbers are allocated once per customer
and period and remembered, so exporting a period again gives the same numbers.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.domain.money import format_decimal
from app.domain.periods import BillingPeriod, BillingTiming, invoice_date_for
from app.exports import registry, sources
from app.exports.builtins import BUILTINS
from app.exports.decisions import (
    DecisionFileError,
    RowOutcome,
    classify,
    load_current,
    read_decision_rows,
)
from app.exports.engine import (
    ExportCancelled,
    ExportContext,
    Ticker,
    groups_in_order,
    number_invoices,
    prepare,
    row_values,
    sort_rows,
)
from app.exports.output import AtomicFiles, split_invoices
from app.exports.review_workbook import (
    REVIEW_COLUMNS,
    STATUS_DECISION,
    ReviewMeta,
    write_review_workbook,
)
from app.exports.safety import SpreadsheetLimitError
from app.exports.template import PLACEHOLDERS, Template, TemplateError
from app.exports.template_file import write_template_workbook
from app.exports.template_fill import fill_template_workbook
from app.exports.writers import csv_value, fit_widths, write_csv, write_xlsx_table
from app.models.audit import record_audit
from app.models.connections import Setting
from app.models.review import PolicyRule
from app.models.workspace import data_dir
from app.services.review import FindingDecision, ReviewError, decide_many
from app.services.settings import SPECS, get_setting
from app.services.workspace import Workspace

__all__ = ["DecisionReport", "ExportCancelled", "ExportError", "ExportResult", "Preview",
           "TemplateInfo", "copy_template", "export", "get_template", "import_decisions",
           "list_templates", "preview", "register_template", "remove_template",
           "show_template", "templates_folder"]

Report = Callable[[int, int, str], None]
NUMBERS_KEY = "export.invoice_numbers.{period}"


class ExportError(ValueError):
    """An export or a template that cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    title: str
    source: str
    outputs: tuple[str, ...]
    builtin: bool
    location: str | None
    notes: str = ""
    problem: str | None = None  # a registered file that no longer reads
    columns: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ExportResult:
    template: str
    period: str
    files: tuple[str, ...]
    rows: int
    invoices: int | None
    warnings: tuple[str, ...]
    warning_count: int
    seconds: float


@dataclass(frozen=True)
class Preview:
    template: str
    period: str
    headers: list[str]
    rows: list[list[str]]
    total: int
    notes: list[str] = field(default_factory=list)


# --- templates ------------------------------------------------------------------------------


def templates_folder(ws: Workspace) -> Path:
    """User templates live beside the workspace file (`workspace-templates/`)."""
    if ws.path is not None:
        return ws.path.with_name(f"{ws.path.stem}-templates")
    return data_dir() / "templates"


def get_template(ws: Workspace, name: str) -> Template:
    try:
        return registry.find_template(templates_folder(ws), name)
    except TemplateError as exc:
        raise ExportError(str(exc)) from exc


def _info(template: Template, *, columns: bool = False) -> TemplateInfo:
    cols: list[dict[str, Any]] = []
    for c in template.columns if columns else ():
        binding = (f"field {c.field}" if c.field else f"constant {c.constant!r}"
                   if c.constant is not None else f"formula {template.formulas[c.letter]}"
                   if c.letter in template.formulas else "written by TrueUp"
                   if template.special else "blank")
        cols.append({"column": c.letter, "header": c.header, "binding": binding,
                     "format": c.format or ""})
    return TemplateInfo(template.name, template.title, template.source, template.outputs,
                        template.builtin, str(template.path) if template.path else None,
                        template.notes, columns=tuple(cols))


def list_templates(ws: Workspace) -> list[TemplateInfo]:
    out = [_info(t) for t in BUILTINS.values()]
    folder = templates_folder(ws)
    for name in registry.registered_names(folder):
        try:
            out.append(_info(registry.find_template(folder, name)))
        except TemplateError as exc:
            out.append(TemplateInfo(name, "", "", (), False,
                                    str(registry.template_path(folder, name)), problem=str(exc)))
    return out


def show_template(ws: Workspace, name: str) -> TemplateInfo:
    return _info(get_template(ws, name), columns=True)


def register_template(ws: Workspace, path: Path, *, name: str | None = None,
                      replace: bool = False) -> TemplateInfo:
    """Validate a workbook and keep a copy of it under `name` (its _trueup name by default)."""
    try:
        return _info(registry.register(templates_folder(ws), Path(path), name, replace=replace),
                     columns=True)
    except TemplateError as exc:
        raise ExportError(str(exc)) from exc


def remove_template(ws: Workspace, name: str) -> None:
    try:
        registry.unregister(templates_folder(ws), name)
    except TemplateError as exc:
        raise ExportError(str(exc)) from exc


def copy_template(ws: Workspace, name: str, path: Path) -> Path:
    """Write a built-in (or registered) template as a workbook to edit in Excel."""
    template = get_template(ws, name)
    path = Path(path)
    if template.special:
        raise ExportError(f"{name!r} is built by TrueUp itself and cannot be copied; copy "
                          "xero or quickbooks and edit that")
    if path.suffix.lower() != ".xlsx":
        raise ExportError(f"{path.name}: a template is an .xlsx workbook")
    return write_template_workbook(template, path)


# --- exporting ------------------------------------------------------------------------------


def _context_settings(ws: Workspace) -> dict[str, str]:
    return {key: str(get_setting(ws, key)) for key in PLACEHOLDERS}


def _invoice_timing(ws: Workspace) -> BillingTiming:
    """The global billing policy's timing decides the invoice date (advance: the 1st)."""
    with ws.begin() as s:
        value = s.scalar(select(PolicyRule.value).where(
            PolicyRule.scope == "global", PolicyRule.key == "timing"))
    try:
        return BillingTiming(value or "advance")
    except ValueError:
        return BillingTiming.ADVANCE


def _numbers(ws: Workspace, period: str, keys: list[str], *, save: bool) -> dict[str, str]:
    """Invoice numbers for these groups: remembered ones, else the next in sequence."""
    prefix = str(get_setting(ws, "invoice_number_prefix"))
    digits = int(str(get_setting(ws, "invoice_number_digits")))
    with ws.begin() as s:
        key = NUMBERS_KEY.format(period=period)
        row = s.scalar(select(Setting).where(Setting.key == key))
        counter = s.scalar(select(Setting).where(Setting.key == "invoice_number_next"))
        next_number = int(str(counter.value.get("value") if counter is not None
                              else SPECS["invoice_number_next"].default))
        existing = dict(row.value.get("numbers", {})) if row is not None else {}
        numbering = number_invoices(keys, existing, next_number, prefix, digits)
        if save and numbering.allocated:
            value = {"numbers": {**existing, **numbering.allocated}}
            if row is None:
                s.add(Setting(key=key, value=value))
            else:
                row.value = value
            if counter is None:
                s.add(Setting(key="invoice_number_next", value={"value": numbering.next_number}))
            else:
                counter.value = {"value": numbering.next_number}
    return numbering.numbers


def _load_rows(ws: Workspace, template: Template, label: str) -> tuple[Any, list[Any], list[str]]:
    currency = str(get_setting(ws, "billing_currency"))
    with ws.engine.connect() as conn:
        period = sources.find_period(conn, label,
                                     reconciled=template.source != "invoice_lines")
        warnings: list[str] = []
        if template.source == "findings":
            rows = list(sources.iter_findings(conn, period, template.sort))
        elif template.source == "adjustments":
            rows = sources.load_adjustments(conn, period)
        else:
            lines = sources.load_invoice_lines(conn, period, currency)
            rows, warnings = lines.rows, lines.warnings
    if template.source != "findings":
        rows = sort_rows(rows, template.sort)
    return period, rows, warnings


def _context(ws: Workspace, template: Template, period: Any, rows: list[Any], *,
             save: bool) -> ExportContext:
    day = invoice_date_for(BillingPeriod(period.start, period.end), _invoice_timing(ws))
    numbers: dict[str, str] = {}
    if template.group and any(c.field == "invoice_number" for c in template.columns):
        numbers = _numbers(ws, period.label, groups_in_order(rows, template.group), save=save)
    due = day + timedelta(days=int(str(get_setting(ws, "invoice_due_days"))))
    return ExportContext(_context_settings(ws), day, due, numbers)


def _output_kind(template: Template, path: Path) -> str:
    kind = path.suffix.lower().lstrip(".")
    if kind not in template.outputs:
        raise ExportError(f"template {template.name!r} writes {' or '.join(template.outputs)}, "
                          f"not {path.suffix or 'a file without an extension'}: name the file "
                          f"….{template.outputs[0]}")
    return kind


def export(ws: Workspace, template_name: str, period: str, path: Path, *,
           progress: Report | None = None, cancel: threading.Event | None = None,
           user: str = "") -> ExportResult:
    """Fill `template_name` with `period`'s rows and write `path` (its extension picks csv or
    xlsx). Raises ExportError with the reason, ExportCancelled if `cancel` was set."""
    started = time.perf_counter()
    template = get_template(ws, template_name)
    path = Path(path)
    kind = _output_kind(template, path)
    if not path.parent.is_dir():
        raise ExportError(f"folder {path.parent} does not exist")
    try:
        if template.special == "review":
            files, count, invoices, warnings, warned = _export_review(
                ws, period, path, progress, cancel, user)
        else:
            files, count, invoices, warnings, warned = _export_table(
                ws, template, period, path, kind, progress, cancel)
    except (TemplateError, SpreadsheetLimitError, sources.SourceError) as exc:
        raise ExportError(str(exc)) from exc
    return ExportResult(template.name, period, tuple(str(f) for f in files), count, invoices,
                        tuple(warnings), warned, round(time.perf_counter() - started, 3))


def _export_table(ws: Workspace, template: Template, label: str, path: Path, kind: str,
                  progress: Report | None, cancel: threading.Event | None) -> tuple:
    period, rows, warnings = _load_rows(ws, template, label)
    context = _context(ws, template, period, rows, save=True)
    columns = prepare(template, context)
    files, warned = [], len(warnings)
    ticker = Ticker(len(rows), progress, cancel, f"writing {path.name}")
    with AtomicFiles() as out:
        for target, chunk in split_invoices(path, rows, template):
            values = [row_values(r, columns, context, template.group) for r in chunk]
            if kind == "csv":
                out.write(target, lambda p, v=values: write_csv(
                    p, columns, v, ticker, delimiter=template.csv_delimiter,
                    bom=template.csv_bom))
            else:
                if template.path is not None:
                    _, more, n = out.write(target, lambda p, v=values: fill_template_workbook(
                        template, columns, v, p, ticker))
                else:
                    _, more, n = out.write(target, lambda p, v=values: write_xlsx_table(
                        p, template.sheet, columns, v, ticker, fit_widths(columns, v)))
                warnings, warned = warnings + more, warned + n
            files.append(target)
        ticker(len(rows), force=True)  # the last cancellation point, before files move
    invoices = len(groups_in_order(rows, template.group)) if template.group else None
    return files, len(rows), invoices, warnings, warned


def _export_review(ws: Workspace, label: str, path: Path, progress: Report | None,
                   cancel: threading.Event | None, user: str) -> tuple:
    with ws.engine.connect() as conn:
        period = sources.find_period(conn, label)
        total = sources.count_findings(conn, period)
        meta = ReviewMeta(period.label, period.start, period.end, datetime.now(UTC), user, total)
        ticker = Ticker(total, progress, cancel, f"writing {path.name}")
        rows = sources.iter_findings(conn, period, BUILTINS["review"].sort)
        with AtomicFiles() as out:
            result = out.write(path, lambda p: write_review_workbook(
                p, rows, meta, sources.text_widths(conn, period), ticker))
    return [path], result.rows, None, result.warnings, result.warning_count


def preview(ws: Workspace, name: str, period: str, rows: int = 5) -> Preview:
    """The first rows a template would write for `period`, as text; allocates nothing."""
    template = get_template(ws, name)
    try:
        if template.special == "review":
            return _preview_review(ws, template, period, rows)
        loaded_period, data, notes = _load_rows(ws, template, period)
        context = _context(ws, template, loaded_period, data, save=False)
        columns = prepare(template, context)
    except (TemplateError, sources.SourceError) as exc:
        raise ExportError(str(exc)) from exc
    shown = [[csv_value(c, v) for c, v in zip(columns, row_values(r, columns, context,
                                                                   template.group), strict=True)]
             for r in data[:rows]]
    return Preview(template.name, period, [c.header for c in columns], shown, len(data), notes)


def _preview_review(ws: Workspace, template: Template, label: str, rows: int) -> Preview:
    visible = [c for c in REVIEW_COLUMNS if not c.hidden]
    shown = []
    with ws.engine.connect() as conn:
        period = sources.find_period(conn, label)
        total = sources.count_findings(conn, period)
        for n, row in enumerate(sources.iter_findings(conn, period, template.sort)):
            if n >= rows:
                break
            shown.append([_text(STATUS_DECISION.get(row.status, "") if c.field is None
                                else getattr(row, c.field)) for c in visible])
    return Preview(template.name, label, [c.header for c in visible], shown, total)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return format_decimal(value) if isinstance(value, Decimal) else str(value)


# --- decisions round trip -------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionReport:
    file: str
    dry_run: bool
    period: str
    applied: tuple[RowOutcome, ...]
    unchanged: tuple[RowOutcome, ...]
    stale: tuple[RowOutcome, ...]
    unknown: tuple[RowOutcome, ...]

    def counts(self) -> dict[str, int]:
        return {"applied": len(self.applied), "unchanged": len(self.unchanged),
                "stale": len(self.stale), "unknown": len(self.unknown)}


def import_decisions(ws: Workspace, path: Path, *, dry_run: bool = False,
                     user: str) -> DecisionReport:
    """Apply the decisions edited in a review workbook: all of them or none.

    Stale and unknown rows are reported and left alone; any unreadable cell, or a decision
    the review rules refuse, stops the whole import with the row named. Each applied decision
    is recorded in the audit log by the review service, exactly as from the grid.
    """
    path = Path(path)
    try:
        meta, rows = read_decision_rows(path)
    except DecisionFileError as exc:
        raise ExportError(str(exc)) from exc
    with ws.engine.connect() as conn:
        current = load_current(conn, [r.finding_id for r in rows if r.finding_id is not None])
    plan = classify(rows, current)
    if plan.problems:
        raise ExportError(str(DecisionFileError(plan.problems)))
    if plan.apply:
        batch = [FindingDecision(o.finding_id, o.decision, o.expected_version, o.effective,
                                 o.note) for o in plan.apply if o.finding_id is not None]
        try:
            decide_many(ws, batch, user=user, dry_run=dry_run)
        except ReviewError as exc:
            rows_of = {o.finding_id: o.row for o in plan.apply}
            match = re.search(r"finding (\d+)", str(exc))
            where = f"row {rows_of[int(match.group(1))]}: " if match and \
                int(match.group(1)) in rows_of else ""
            raise ExportError(f"nothing was applied: {where}{exc}") from exc
    report = DecisionReport(path.name, dry_run, meta.get("period", ""), tuple(plan.apply),
                            tuple(plan.unchanged), tuple(plan.stale), tuple(plan.unknown))
    if not dry_run and plan.apply:
        with ws.begin() as s:
            record_audit(s, user=user, action="import_decisions", entity="decisions_file",
                         entity_id=path.name, after={**report.counts(),
                                                     "findings": [o.finding_id
                                                                  for o in plan.apply]})
    return report
