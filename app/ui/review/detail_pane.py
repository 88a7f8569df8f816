"""The "explain this number" pane: for the selected finding, the seats of both sides over the
period, the day counts, prices, formula and rounding, the policy that chose the action, the
proposed changes, and what happened to it so far.

A bookkeeper must be able to redo the arithmetic by hand from this pane alone, so every
number the engine used is shown with the rule that produced it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.findings import FindingRow
from app.services.history import HistoryEntry
from app.ui import theme
from app.ui.formatting import money, quantity
from app.ui.review.grid_model import Totals
from app.ui.review.jobs import FindingDetail
from app.ui.review.labels import describe_action, kind_label, vendor_name
from app.ui.review.seat_chart import SeatChart, Series, per_day
from app.ui.widgets import EmptyState, muted, section_title

HISTORY_WORDS = {
    "approve": "Approved", "reject": "Rejected", "defer": "Deferred",
    "recompute": "Numbers recomputed", "queue_push": "Change queued for the PSA",
    "withdraw_push": "Queued change withdrawn", "push_sending": "Sending to the PSA",
    "push_done": "Pushed to the PSA", "push_conflict": "Push conflict",
    "push_unknown": "Push outcome unknown", "push_failed": "Push failed",
}


def _short(value: Any, places: int = 6) -> str:
    """Long exact decimals cut for reading, marked with an ellipsis."""
    text = str(value)
    if "." in text and len(text.split(".")[1]) > places:
        return text[: text.index(".") + places + 1] + "…"
    return text


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d %b").lstrip("0")


def _span(seg: dict[str, Any]) -> str:
    """`1–14 Mar`, `28 Feb – 3 Mar`, `5 Mar`."""
    if not seg.get("start"):
        return ""
    start = date.fromisoformat(seg["start"])
    end = date.fromisoformat(seg["end"]) if seg.get("end") else start
    if start == end:
        return _day(seg["start"])
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b}"
    return f"{_day(seg['start'])} – {_day(seg['end'])}"


def _table(headers: list[str] | None, rows: list[list[str]], right: set[int]) -> str:
    muted_color = theme.colors()["muted"]
    head = "" if headers is None else "".join(f"<th align='{'right' if n in right else 'left'}' style='color:"
                   f"{muted_color}; font-weight:normal; white-space:nowrap'>{escape(h)}</th>"
                   for n, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td style='white-space:nowrap' align="
                                    f"'{'right' if n in right else 'left'}'>"
                                    f"{escape(c)}</td>" for n, c in enumerate(row)) + "</tr>"
                   for row in rows)
    head = f"<tr>{head}</tr>" if head else ""
    return f"<table cellspacing='0' cellpadding='3'>{head}{body}</table>"


def segments_html(exp: dict[str, Any]) -> str:
    start = date.fromisoformat(exp["period"]["start"])
    days = int(exp["period"]["days"])
    vendor = per_day(exp.get("vendor_timeline", []), start, days)
    psa = per_day(exp.get("psa_timeline", []), start, days)
    rows = []
    for seg in exp.get("drift") or exp.get("vendor_timeline") or []:
        first = (date.fromisoformat(seg["start"]) - start).days
        v, p = vendor[first], psa[first]
        rows.append([_span(seg), str(seg.get("days", "")), quantity(v), quantity(p),
                     quantity(v - p) if v != p else "—"])
    return _table(["Dates", "Days", "Vendor", "PSA", "Difference"], rows, {1, 2, 3, 4})


def charge_html(exp: dict[str, Any]) -> str:
    charge = exp.get("charge") or {}
    currency = exp.get("currency") or ""
    lines = [[_span(line), quantity(Decimal(line["quantity"])), line["unit_price"],
              line["day_count"], _short(line["exact"]),
              money(Decimal(line["rounded"]), currency)] for line in charge.get("lines", [])]
    text = charge.get("text") or []
    parts = []
    if text:
        parts.append(f"<p style='color:{theme.colors()['muted']}'>{escape(text[0])}</p>")
    if lines:
        parts.append(_table(["Dates", "Seats", "Price", "Share", "Exact", "Rounded"],
                            lines, {1, 2, 3, 4, 5}))
        parts.append(f"<p style='color:{theme.colors()['muted']}'>Seats × price × share of the "
                     "period = exact amount, then rounded.</p>")
    if len(text) > 1:
        parts.append(f"<p><b>{escape(text[-1].strip())}</b></p>")
    return "".join(parts)


def _money_text(value: Any, currency: str) -> str:
    try:
        return money(Decimal(str(value)), currency)
    except ArithmeticError:
        return str(value)


def vendor_charges_html(exp: dict[str, Any]) -> str:
    currency = exp.get("currency") or ""
    rows = [[c.get("charge_type") or c.get("category") or "", _span(c),
             quantity(Decimal(str(c["quantity"]))) if c.get("quantity") else "",
             _money_text(c["unit_price"], currency) if c.get("unit_price") else "",
             _money_text(c["amount"], currency) if c.get("amount") else "",
             str(c.get("invoice") or "")] for c in exp.get("vendor_charges", [])]
    html = _table(["Charge", "Dates", "Qty", "Unit price", "Amount", "Invoice"], rows,
                  {2, 3, 4})
    facts = []
    for key, label, is_money in (("vendor_amount", "Vendor billed", True),
                                 ("expected_amount", "Expected on the PSA", True),
                                 ("factor", "Markup factor", False),
                                 ("factor_source", "Factor from", False),
                                 ("amount_meaning", "Amount", False)):
        if exp.get(key) not in (None, ""):
            value = _money_text(exp[key], currency) if is_money else str(exp[key])
            facts.append([label, value])
    if facts:
        html += "<br>" + _table(None, facts, {1})
    return html


def history_html(history: tuple[HistoryEntry, ...]) -> str:
    if not history:
        return f"<p style='color:{theme.colors()['muted']}'>No decisions yet.</p>"
    items = []
    for h in reversed(history):  # newest first
        words = HISTORY_WORDS.get(h.action, h.action.replace("_", " ").capitalize())
        after = h.after or {}
        extra = []
        if h.action == "recompute" and h.before:
            extra.append(f"amount {h.before.get('amount')} → {after.get('amount')}")
        if after.get("note") and after.get("note") != (h.before or {}).get("note"):
            extra.append(f"note: {after['note']}")
        if h.action in {"approve", "reject", "defer"} and after.get("effective_date"):
            extra.append(f"effective {after['effective_date']}")
        if h.action == "queue_push" and after.get("desired"):
            extra.append(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in
                                   after["desired"].items() if k != "description"))
        if after.get("error"):
            extra.append(str(after["error"]))
        when = h.at.astimezone().strftime("%Y-%m-%d %H:%M")
        detail = f" — {escape('; '.join(extra))}" if extra else ""
        items.append(f"<p style='margin:0 0 4px 0'><span style='color:"
                     f"{theme.colors()['muted']}'>{when} · {escape(h.user)}</span><br>"
                     f"{escape(words)}{detail}</p>")
    return "".join(items)


def _rich(html: str = "") -> QLabel:
    label = QLabel(html)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


class DetailPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack)
        self.empty = EmptyState()
        self.stack.addWidget(self.empty)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.stack.addWidget(self.scroll)
        self._build_content()
        self.finding_id: int | None = None
        self.show_nothing()

    def _build_content(self) -> None:
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(theme.SPACING)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta = muted(wrap=False)
        self.meta.setTextFormat(Qt.TextFormat.RichText)
        titles.addWidget(self.title)
        titles.addWidget(self.meta)
        head.addLayout(titles, 1)
        amounts = QVBoxLayout()
        amounts.setSpacing(0)
        self.amount = QLabel(alignment=Qt.AlignmentFlag.AlignRight)
        self.amount.setObjectName("bigNumber")
        self.amount_caption = muted(wrap=False)
        self.amount_caption.setAlignment(Qt.AlignmentFlag.AlignRight)
        amounts.addWidget(self.amount)
        amounts.addWidget(self.amount_caption)
        head.addLayout(amounts)
        layout.addLayout(head)

        columns = QHBoxLayout()
        columns.setSpacing(24)
        self.left = QWidget()  # hidden for findings without a seat timeline (usage, annual)
        left = QVBoxLayout(self.left)
        left.setContentsMargins(0, 0, 0, 0)
        middle, right = QVBoxLayout(), QVBoxLayout()
        columns.addWidget(self.left, 5)
        for column, stretch in ((left, 0), (middle, 5), (right, 4)):
            column.setSpacing(6)
            if column is not left:
                columns.addLayout(column, stretch)
        self.chart_title = section_title("Seats, day by day")
        self.chart = SeatChart()
        self.segments = _rich()
        left.addWidget(self.chart_title)
        left.addWidget(self.chart)
        left.addWidget(self.segments)
        left.addStretch(1)
        self.formula_title = section_title("How the amount is computed")
        self.formula = _rich()
        self.policy_title = section_title("Why this action")
        self.policy = _rich()
        for w in (self.formula_title, self.formula, self.policy_title, self.policy):
            middle.addWidget(w)
        middle.addStretch(1)
        self.actions = _rich()
        self.history = _rich()
        for w in (section_title("Proposed changes"), self.actions, section_title("History"),
                  self.history):
            right.addWidget(w)
        right.addStretch(1)
        layout.addLayout(columns)
        self.summary_title = section_title("In words")
        self.summary = _rich()
        layout.addWidget(self.summary_title)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        self.scroll.setWidget(content)

    # ---------------------------------------------------------------- states
    def show_nothing(self, headline: str = "Select a finding",
                     detail: str = "Its seats, day counts, prices and rounding appear here, "
                                   "with the policy that chose the action.") -> None:
        self.finding_id = None
        self.empty.set_content("findings", headline, detail)
        self.stack.setCurrentWidget(self.empty)

    def show_selection(self, count: int, totals: Totals) -> None:
        self.finding_id = None
        money_lines = [f"{money(v, c)} under-billed" for c, v in totals.under]
        money_lines += [f"{money(-v, c)} over-billed" for c, v in totals.over]
        self.empty.set_content(
            "findings", f"{count:,} findings selected",
            (" · ".join(money_lines) + "\n\n" if money_lines else "")
            + "A approves, R rejects and D defers all of them at once, with the effective "
              "date and note below.")
        self.stack.setCurrentWidget(self.empty)

    def show_row(self, row: FindingRow) -> None:
        """Show what the grid already knows at once; the explanation follows."""
        self.finding_id = row.id
        look = theme.STATUS.get(row.status, theme.STATUS["open"])
        self.title.setText(f"{row.customer_name or '(no customer)'} — "
                           f"{row.product_name or row.sku or ''}")
        color = look.dark if theme.is_dark() else look.light
        bits = [f"<span style='color:{color}'>● {escape(look.label)}</span>",
                escape(kind_label(row.kind)), escape(f"{vendor_name(row.vendor)} subscription "
                                                     f"{row.subscription_id or '—'}"),
                escape(f"PSA line {row.psa_line_id or '—'}"),
                escape(f"finding {row.id}, version {row.version}")]
        self.meta.setText(" · ".join(bits))
        self.amount.setText(money(row.amount, row.currency, signed=True))
        self.amount_caption.setText(
            f"under-billed in {row.period}" if row.amount > 0 else
            f"over-billed in {row.period}" if row.amount < 0 else f"nothing at stake in "
                                                                  f"{row.period}")
        self.actions.setText("<br>".join("• " + escape(describe_action(a))
                                         for a in row.actions) or "No PSA change proposed.")
        self.stack.setCurrentWidget(self.scroll)

    def show_detail(self, detail: FindingDetail) -> None:
        row = detail.row
        if row is None:
            self.show_nothing("This finding no longer exists",
                              "A new reconciliation resolved it. Reload the period.")
            return
        self.show_row(row)
        exp = row.explanation
        self.summary.setText(escape(row.summary))
        has_timeline = bool(exp.get("vendor_timeline")) and "period" in exp
        self.left.setVisible(has_timeline)
        if has_timeline:
            start = date.fromisoformat(exp["period"]["start"])
            days = int(exp["period"]["days"])
            vendor = Series("Vendor seats", per_day(exp["vendor_timeline"], start, days))
            psa = (Series("PSA seats", per_day(exp["psa_timeline"], start, days))
                   if exp.get("psa_timeline") else None)
            self.chart.set_series(start, vendor, psa)
            self.segments.setText(segments_html(exp))
        if exp.get("charge"):
            self.formula_title.setText("How the amount is computed")
            self.formula.setText(charge_html(exp))
        elif exp.get("vendor_charges"):
            self.formula_title.setText("What the vendor billed")
            self.formula.setText(vendor_charges_html(exp))
        else:
            self.formula_title.setText("How the amount is computed")
            self.formula.setText(escape(str(exp.get("amount_basis") or exp.get("meaning")
                                            or "No proration applies to this finding.")))
        reason = exp.get("mode_reason") or ""
        policy = exp.get("policy") or []
        self.policy.setText(
            (f"<p>{escape(reason)}</p>" if reason else "")
            + (f"<p style='color:{theme.colors()['muted']}'>"
               + "<br>".join(escape(p) for p in policy) + "</p>" if policy else ""))
        for w in (self.policy_title, self.policy):
            w.setVisible(bool(reason or policy))
        described = exp.get("actions")
        if described:
            self.actions.setText("<br>".join("• " + escape(str(a)) for a in described))
        self.history.setText(history_html(detail.history))
