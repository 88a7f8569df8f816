"""The push queue: approved corrections with their dry run, one "Push approved" button, and
the tools to settle what did not go cleanly (retry, verify an UNKNOWN, dismiss a CONFLICT).

Everything that talks to the PSA — the dry run, the push, a re-read, a verification — runs
on the task runner; the page only shows frozen rows and asks the push service to act.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.services import push as svc
from app.services.findings import list_findings
from app.services.identity import current_user
from app.ui.formatting import money
from app.ui.pages import push_models as pm
from app.ui.pages.widgets import (
    EmptyOr,
    TaskBar,
    call_safely,
    fit_columns,
    make_table,
    muted_hex,
    muted_label,
    page_layout,
    primary_button,
    row_layout,
    section_label,
    title_label,
    tone_color,
)
from app.ui.table import RowTableModel
from app.ui.tasks import TaskRunner

FILTERS = {"Everything": None, "Needs attention": set(pm.ATTENTION),
           "Ready to push": {"PENDING", "SENDING"}, "Done": {"DONE"}}


@dataclass(frozen=True)
class _Loaded:
    rows: list[pm.QueueRow]


def load_rows(ws) -> list[pm.QueueRow]:  # noqa: ANN001
    """Intents, the dry run of the ones still to send, and who and what each one bills."""
    intents = svc.queue(ws)
    previews = {line.intent.id: line for line in svc.preview(ws)} if any(
        i.state in ("PENDING", "FAILED") for i in intents) else {}
    ids = sorted({i.finding_id for i in intents if i.finding_id})
    findings = {f.id: f for f in list_findings(ws, ids=ids, with_explanation=False)} \
        if ids else {}
    rows = []
    for i in intents:
        f = findings.get(i.finding_id) if i.finding_id else None
        rows.append(pm.QueueRow(i, previews.get(i.id), f.customer_name if f else "",
                                f.product_name if f else ""))
    return pm.sort_rows(rows)


class PushQueuePage(QWidget):
    """Signals: `open_finding(id)` asks the window to show the finding behind an intent."""

    open_finding = Signal(int)

    def __init__(self, workspace, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.runner = workspace, runner
        self.results: dict[int, str] = {}  # intent id → this session's push outcome
        self.rereads: dict[int, svc.DryRunLine] = {}
        self._reread_tried: set[int] = set()
        self._loading = False
        # Our own flag, not runner.busy(): the push's on_done runs before its task is
        # marked done, and the reload it asks for must not be skipped.
        self._pushing = False
        layout = page_layout(self)
        layout.addWidget(title_label(
            "Push queue", "Approved corrections waiting to be written to the PSA. Each one is "
            "sent exactly once: TrueUp re-reads the PSA line first and stops if someone else "
            "changed it."))
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.summary)
        self.push_button = primary_button("Push approved")
        self.push_button.clicked.connect(self.push_approved)
        self.refresh_button = QPushButton("Refresh preview")
        self.refresh_button.setToolTip("Re-read the PSA for every queued change")
        self.refresh_button.clicked.connect(self.refresh)
        self.filter = QComboBox()
        self.filter.addItems(list(FILTERS))
        self.filter.currentTextChanged.connect(lambda _t: self._apply_filter())
        layout.addLayout(row_layout(self.push_button, self.refresh_button, None,
                                    QLabel("Show"), self.filter))
        self.task = TaskBar()
        layout.addWidget(self.task)
        self.message = muted_label()
        self.message.hide()
        layout.addWidget(self.message)

        self.model = RowTableModel(pm.COLUMNS)
        self.view = make_table(self.model, stretch=len(pm.COLUMNS) - 1)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._show_detail())
        self.empty = EmptyOr(self.view, "Nothing to push. Approve findings in the "
                             "reconciliation grid and their corrections appear here.")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.empty)
        self.detail_panel = self._detail_panel()
        split.addWidget(self.detail_panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([520, 200])
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
        self.refresh()

    def _detail_panel(self) -> QWidget:
        """Below the table, so the table keeps the full width for its columns."""
        panel = QFrame()
        outer = QHBoxLayout(panel)
        outer.setContentsMargins(0, 8, 0, 0)
        outer.setSpacing(16)
        text = QVBoxLayout()
        text.setSpacing(6)
        self.detail_title = section_label("Select a change")
        self.detail_title.setWordWrap(True)
        text.addWidget(self.detail_title)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.detail, 1)
        outer.addLayout(text, 1)
        buttons = QVBoxLayout()
        buttons.setSpacing(8)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Queue it again: the PSA shows it did not happen")
        self.retry_button.clicked.connect(self.retry_selected)
        self.verify_button = QPushButton("Verify now")
        self.verify_button.setToolTip("Re-read the PSA to settle changes whose outcome is "
                                      "unknown; nothing is sent again")
        self.verify_button.clicked.connect(self.verify_unknown)
        self.reread_button = QPushButton("Re-read PSA")
        self.reread_button.clicked.connect(lambda: self.reread_selected())
        self.dismiss_button = QPushButton("Dismiss conflict…")
        self.dismiss_button.setToolTip("Give this change up: nothing is written over the "
                                       "other edit, and the finding can be reconciled again")
        self.dismiss_button.clicked.connect(lambda: self.dismiss_selected())
        self.finding_button = QPushButton("Open finding")
        self.finding_button.clicked.connect(self._open_finding)
        for button in (self.retry_button, self.verify_button, self.reread_button,
                       self.dismiss_button, self.finding_button):
            button.setMinimumWidth(170)
            buttons.addWidget(button)
        buttons.addStretch(1)
        outer.addLayout(buttons)
        self._show_detail()
        return panel

    # ------------------------------------------------------------ loading
    def refresh(self) -> None:
        if self._loading or self._pushing:
            return
        self._loading = True
        self.refresh_button.setEnabled(False)
        ws = self.workspace
        self.runner.submit("push: preview", lambda report, cancel: _Loaded(load_rows(ws)),
                           on_done=self._loaded, on_error=self._load_failed)

    def _load_failed(self, message: str, _details: str) -> None:
        self._loading = False
        self.refresh_button.setEnabled(True)
        self._say(f"Could not load the push queue: {message}", "error")

    def _loaded(self, data: _Loaded) -> None:
        self._loading = False
        self.refresh_button.setEnabled(True)
        selected = self.selected()
        rows = [replace(r, result=self.results.get(r.intent.id, "")) for r in data.rows]
        self.model.set_rows(rows)
        self._apply_filter()
        fit_columns(self.view, {1: 170, 2: 230, 3: 220})
        if selected is not None:
            self.select_intent(selected.intent.id)
        self._summarise(rows)

    def _summarise(self, rows: list[pm.QueueRow]) -> None:
        ready = [r for r in rows if r.state == "PENDING"]
        attention = [r for r in rows if r.state in pm.ATTENTION]
        done = [r for r in rows if r.state == "DONE"]
        totals: dict[str, object] = {}
        for r in ready:
            c = r.intent.currency or ""
            totals[c] = totals.get(c, 0) + r.intent.money_effect
        money_text = ", ".join(money(v, c or None, signed=True) for c, v in totals.items() if v)
        parts = [f"<b>{len(ready)}</b> ready to push"
                 + (f" ({html.escape(money_text)} this period)" if money_text else "")]
        if attention:
            colour = tone_color("warning").name()
            parts.append(f"<span style='color:{colour}'>⚠ <b>{len(attention)}</b> need "
                         "your attention</span>")
        parts.append(f"<span style='color:{muted_hex()}'>{len(done)} done</span>")
        self.summary.setText(" &nbsp;·&nbsp; ".join(parts))
        self.push_button.setText(f"Push approved ({len(ready)})" if ready else "Push approved")
        self.push_button.setEnabled(bool(ready) and not self._pushing)

    def _apply_filter(self) -> None:
        states = FILTERS[self.filter.currentText()]
        self.model.set_filter((lambda r: r.state in states) if states else None)
        total = len(self.model.all_rows)
        self.empty.set_empty(self.model.rowCount() == 0, None if total == 0 else
                             "Nothing here with this filter.")
        self.detail_panel.setVisible(total > 0)
        self._show_detail()

    # ------------------------------------------------------------ selection and detail
    def selected(self) -> pm.QueueRow | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select_intent(self, intent_id: int) -> bool:
        for n, row in enumerate(self.model.rows):
            if row.intent.id == intent_id:
                self.view.selectRow(n)
                return True
        return False

    def _show_detail(self) -> None:
        row = self.selected()
        state = row.state if row else ""
        self.retry_button.setVisible(state == "FAILED")
        self.verify_button.setVisible(state == "UNKNOWN")
        self.dismiss_button.setVisible(state == "CONFLICT")
        self.reread_button.setVisible(state in ("CONFLICT", "UNKNOWN"))
        self.finding_button.setVisible(bool(row and row.intent.finding_id))
        if row is None:
            self.detail_title.setText("Select a change")
            self.detail.setText(f"<span style='color:{muted_hex()}'>Its before and after, what "
                                "the PSA shows now and what you can do appear here.</span>")
            return
        self.detail_title.setText(f"{pm.change_text(row)} · {row.customer or 'no customer'}")
        if row.intent.id in self.rereads:
            row = replace(row, preview=self.rereads[row.intent.id])
        self.detail.setText(pm.detail_html(row))
        if state in ("CONFLICT", "UNKNOWN") and row.intent.id not in self._reread_tried:
            self._reread_tried.add(row.intent.id)
            self.reread_selected(quiet=True)

    # ------------------------------------------------------------ actions
    def _say(self, text: str, tone: str = "ok") -> None:
        self.message.setVisible(bool(text))
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {tone_color(tone).name()};")

    def push_approved(self) -> None:
        if self._pushing:
            return
        self._pushing = True
        ws, user = self.workspace, current_user(self.workspace)
        self.push_button.setEnabled(False)
        self.refresh_button.setEnabled(False)
        self.task.start("Pushing approved changes…")
        handle = self.runner.submit(
            "push: approved",
            lambda report, cancel: svc.push_approved(ws, user=user, progress=report,
                                                     cancel=cancel),
            on_done=self._pushed, on_error=self._push_failed, on_progress=self.task.progress)
        self.task.attach(handle)

    def _pushed(self, report: svc.PushReport) -> None:
        self._pushing = False
        self.task.finish()
        for outcome in report.final:
            word = pm.state_text(outcome.state)
            self.results[outcome.intent_id] = f"{word}: {outcome.message}" if outcome.message \
                else f"{word} in this push" + (f" (record {outcome.record_id})"
                                               if outcome.record_id else "")
        final = report.final
        if not final:
            self._say("Nothing was pushed.", "muted")
        else:
            counts = ", ".join(f"{report.count(s)} {pm.STATES[s][1].lower()}"
                               for s in pm.STATES if report.count(s))
            self._say(f"Pushed {len(final)} change(s): {counts}.",
                      "ok" if report.ok else "warning")
        self.rereads.clear()
        self._reread_tried.clear()
        self.refresh()

    def _push_failed(self, message: str, _details: str) -> None:
        self._pushing = False
        self.task.finish()
        self._say(f"The push stopped: {message}", "error")
        self.refresh()

    def retry_selected(self) -> None:
        row = self.selected()
        if row is None or row.state != "FAILED":
            return
        done = call_safely(self, "Retry", lambda: svc.retry(
            self.workspace, row.intent.id, user=current_user(self.workspace)))
        if done is not None:
            self.results.pop(row.intent.id, None)
            self._say("Queued again; it is sent with the next push.", "info")
            self.refresh()

    def verify_unknown(self) -> None:
        ws, user = self.workspace, current_user(self.workspace)
        self.verify_button.setEnabled(False)
        self.task.start("Re-reading the PSA to settle unknown outcomes…")
        handle = self.runner.submit("push: verify",
                                    lambda report, cancel: svc.recover_unsettled(ws, user=user),
                                    on_done=self._verified, on_error=self._verify_failed)
        self.task.attach(handle)

    def _verified(self, report: svc.PushReport) -> None:
        self.task.finish()
        self.verify_button.setEnabled(True)
        for outcome in report.final:
            self.results[outcome.intent_id] = f"Verified: {pm.state_text(outcome.state)}" + (
                f" — {outcome.message}" if outcome.message else "")
        self._say(f"Verified {len(report.final)} change(s) against the PSA.", "ok")
        self.rereads.clear()
        self._reread_tried.clear()
        self.refresh()

    def _verify_failed(self, message: str, _details: str) -> None:
        self.task.finish()
        self.verify_button.setEnabled(True)
        self._say(f"Could not verify: {message}", "error")

    def reread_selected(self, quiet: bool = False) -> None:
        row = self.selected()
        if row is None:
            return
        ws, intent_id = self.workspace, row.intent.id

        def done(line: svc.DryRunLine) -> None:
            self.rereads[intent_id] = line
            current = self.selected()
            if current is not None and current.intent.id == intent_id:
                self._show_detail()

        def failed(message: str, _details: str) -> None:
            if not quiet:
                self._say(f"Could not re-read the PSA: {message}", "error")

        self.runner.submit(f"push: reread {intent_id}",
                           lambda report, cancel: svc.reread(ws, intent_id),
                           on_done=done, on_error=failed)

    def dismiss_selected(self, note: str | None = None) -> None:
        row = self.selected()
        if row is None or row.state != "CONFLICT":
            return
        if note is None:
            note, ok = QInputDialog.getText(
                self, "Dismiss conflict", "Why is this change given up? (recorded in the "
                "audit log)", text="PSA line was changed by hand; re-reconcile")
            if not ok:
                return
        done = call_safely(self, "Dismiss conflict", lambda: svc.dismiss_conflict(
            self.workspace, row.intent.id, user=current_user(self.workspace), note=note))
        if done is not None:
            self._say("Conflict dismissed: nothing was written. Reconcile the period again to "
                      "see the line as the PSA has it now.", "muted")
            self.refresh()

    def _open_finding(self) -> None:
        row = self.selected()
        if row is not None and row.intent.finding_id:
            self.open_finding.emit(row.intent.finding_id)

