"""Rows and columns of the push queue: each intent with its dry run, customer and last result.

Wording is the bookkeeper's: "Set seats 24 → 23", "One-time charge USD 77.28", "Credit";
the state always shows a symbol and a word next to its colour.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from app.services.push import DryRunLine, IntentView
from app.ui.formatting import money, quantity
from app.ui.pages.widgets import muted_hex, tone_color, tone_text
from app.ui.table import RIGHT, Column

# state → (tone, word, rank: what needs a person first)
STATES = {"CONFLICT": ("warning", "Conflict", 0), "UNKNOWN": ("unknown", "Unknown", 1),
          "FAILED": ("error", "Failed", 2), "SENDING": ("busy", "Sending", 3),
          "PENDING": ("info", "Ready", 4), "DONE": ("ok", "Done", 5)}
ATTENTION = ("CONFLICT", "UNKNOWN", "FAILED")
FIELD_LABELS = {"quantity": "seats", "unit_price": "price", "unit_cost": "cost",
                "description": "description", "effective_date": "effective",
                "cancelled_date": "cancelled"}


@dataclass(frozen=True)
class QueueRow:
    intent: IntentView
    preview: DryRunLine | None = None
    customer: str = ""
    product: str = ""
    result: str = ""  # the last push's outcome for this intent, in this session

    @property
    def state(self) -> str:
        return self.intent.state

    @property
    def effective(self) -> date | None:
        text = self.intent.payload.get("effective_date")
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            return None


def state_text(state: str) -> str:
    tone, word, _ = STATES.get(state, ("muted", state.title(), 9))
    return tone_text(tone, word)


def state_tone(state: str) -> str:
    return STATES.get(state, ("muted", "", 9))[0]


def _dec(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text not in (None, "") else None
    except InvalidOperation:
        return None


def before_values(row: QueueRow) -> dict[str, str]:
    """The PSA as last read (dry run) when there is one, else as seen at approval."""
    if row.preview is not None and row.preview.online:
        return row.preview.before
    return row.intent.seen_state


def change_text(row: QueueRow) -> str:
    i = row.intent
    desired, currency = i.desired_state, i.currency
    if i.action_type == "one_time_charge":
        qty = _dec(desired.get("quantity")) or Decimal(1)
        amount = (_dec(desired.get("unit_price")) or Decimal(0)) * abs(qty)
        word = "Credit" if qty < 0 else "One-time charge"
        return f"{word} {money(amount, currency)}"
    if i.action_type == "set_quantity":
        return f"Set seats {before_after(row)}"
    if i.action_type == "add_line":
        return f"Add line: {quantity(_dec(desired.get('quantity')))} seats"
    if i.action_type == "cancel_line":
        return "Cancel line"
    if i.action_type == "set_price":
        return f"Set {'price' if 'unit_price' in desired else 'cost'} {before_after(row)}"
    return i.action_type.replace("_", " ").capitalize()


def _value(key: str, text: str | None, currency: str) -> str:
    if text in (None, ""):
        return "—"
    if key in ("unit_price", "unit_cost"):
        return money(_dec(text), currency) if _dec(text) is not None else str(text)
    if key == "quantity":
        return quantity(_dec(text)) if _dec(text) is not None else str(text)
    return str(text)


def before_after(row: QueueRow) -> str:
    i = row.intent
    if i.action_type in ("one_time_charge", "add_line"):
        return "new line on agreement " + str(i.target_ref.get("agreement") or "")
    before = before_values(row)
    keys = [k for k in i.desired_state if k not in ("description", "effective_date")]
    parts = [f"{_value(k, before.get(k), i.currency)} → {_value(k, i.desired_state[k], i.currency)}"
             for k in keys]
    return "; ".join(parts) if parts else "—"


def fields_diff(row: QueueRow) -> list[tuple[str, str, str, str]]:
    """(field, at approval, PSA now, wanted) for the detail pane."""
    i = row.intent
    now = row.preview.before if row.preview is not None and row.preview.online else {}
    keys = list(dict.fromkeys([*i.desired_state, *i.seen_state]))
    return [(FIELD_LABELS.get(k, k.replace("_", " ")), _value(k, i.seen_state.get(k), i.currency),
             _value(k, now.get(k), i.currency) if row.preview is not None else "not read yet",
             _value(k, i.desired_state.get(k), i.currency)) for k in keys]


def message(row: QueueRow) -> str:
    """What a person should know about this row now, in one line."""
    text = _message(row)
    return text[:1].upper() + text[1:]


def _message(row: QueueRow) -> str:
    if row.result:
        return row.result
    i = row.intent
    if i.state in ("FAILED", "CONFLICT", "UNKNOWN") and i.last_error:
        return i.last_error
    if i.state == "DONE":
        return f"In the PSA (record {i.psa_record_id})" if i.psa_record_id else "In the PSA"
    p = row.preview
    if p is None:
        return ""
    if not p.online:
        return "PSA not reachable: showing the state at approval"
    return {"send": "Will be written to the PSA",
            "done": "Already in the PSA: nothing will be sent",
            "conflict": f"Changed in the PSA since approval: {p.reason}"}.get(p.verdict, p.reason)


def _money_effect(row: QueueRow) -> str:
    amount = row.intent.money_effect
    return money(amount, row.intent.currency, signed=True) if amount else "—"


def _message_tone(row: QueueRow):  # noqa: ANN202
    if row.preview is not None and row.preview.verdict == "conflict" and row.state == "PENDING":
        return tone_color("warning")
    return tone_color(state_tone(row.state)) if row.state in ATTENTION else None


COLUMNS: list[Column[QueueRow]] = [
    Column("State", lambda r: state_text(r.state), lambda r: STATES.get(r.state, ("", "", 9))[2],
           foreground=lambda r: tone_color(state_tone(r.state))),
    Column("Customer", lambda r: r.customer or "—", lambda r: r.customer.lower()),
    Column("Product", lambda r: r.product or "—", lambda r: r.product.lower()),
    Column("Change", change_text, tooltip=lambda r: f"Before → after: {before_after(r)}"),
    Column("Money this period", _money_effect, lambda r: r.intent.money_effect, RIGHT,
           tooltip=lambda r: "" if r.intent.money_effect else
           "No charge for this period: the new value bills from its effective date"),
    Column("Effective", lambda r: r.effective.isoformat() if r.effective else "—",
           lambda r: r.effective),
    Column("Preview / result", message, tooltip=message, foreground=_message_tone),
]


def sort_rows(rows: list[QueueRow]) -> list[QueueRow]:
    """What needs a person first, then what will be sent, then what is done (newest first)."""
    return sorted(rows, key=lambda r: (STATES.get(r.state, ("", "", 9))[2],
                                       -r.intent.id if r.state == "DONE" else r.intent.id))


def detail_html(row: QueueRow) -> str:
    grey = muted_hex()
    i = row.intent
    colour = tone_color(state_tone(i.state)).name()
    lines = [f"<p style='margin:0 0 8px 0'><b style='color:{colour}'>"
             f"{html.escape(state_text(i.state))}</b>"
             f"<span style='color:{grey}'> · intent #{i.id} · agreement "
             f"{html.escape(str(i.target_ref.get('agreement') or '—'))}"
             + (f", line {html.escape(str(i.target_ref['line']))}"
                if i.target_ref.get("line") else "") + "</span></p>"]
    if row.product:
        lines.append(f"<p style='margin:0 0 8px 0'>{html.escape(row.product)}</p>")
    if i.money_effect:
        lines.append(f"<p style='margin:0 0 8px 0'>Money this period: <b>"
                     f"{html.escape(money(i.money_effect, i.currency, signed=True))}</b></p>")
    cells = "".join(
        f"<tr><td style='color:{grey}; padding-right:10px'>{html.escape(f)}</td>"
        f"<td align='right' style='padding-right:10px'>{html.escape(a)}</td>"
        f"<td align='right' style='padding-right:10px'><b>{html.escape(n)}</b></td>"
        f"<td align='right'>{html.escape(w)}</td></tr>"
        for f, a, n, w in fields_diff(row) if f != "description")
    if cells:
        lines.append(f"<table cellspacing='0' cellpadding='2'><tr style='color:{grey}'><td></td>"
                     "<td align='right' style='padding-right:10px'>At approval</td>"
                     "<td align='right' style='padding-right:10px'>PSA now</td>"
                     f"<td align='right'>Wanted</td></tr>{cells}</table>")
    reason = message(row)
    if reason:
        colour = tone_color(state_tone(i.state)).name() if i.state in ATTENTION else grey
        lines.append(f"<p style='margin:10px 0 0 0; color:{colour}'>{html.escape(reason)}</p>")
    if row.preview is not None and i.state in ("CONFLICT", "UNKNOWN") and row.preview.reason \
            and row.preview.reason != reason:
        lines.append(f"<p style='margin:6px 0 0 0'>Re-read now: "
                     f"{html.escape(row.preview.reason)}</p>")
    hint = {"CONFLICT": "Someone changed this line in the PSA after approval. Dismiss the "
                        "conflict to leave their edit in place and reconcile again.",
            "UNKNOWN": "The PSA did not confirm this change. Verify now re-reads the PSA: "
                       "nothing is sent twice.",
            "FAILED": "This change is known not to be in the PSA. Retry queues it again."}
    if i.state in hint:
        lines.append(f"<p style='margin:10px 0 0 0; color:{grey}'>{hint[i.state]}</p>")
    lines.append(f"<p style='margin:10px 0 0 0; color:{grey}'>Marker {html.escape(i.marker)}"
                 f" · {i.attempts} attempt(s)</p>")
    return "".join(lines)
