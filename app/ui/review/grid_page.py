"""The Reconciliation screen: pick a period, reconcile it, filter and sort its findings,
read why each one costs what it costs, and decide — one by one from the keyboard or in bulk.

Everything that touches the database runs on the TaskRunner; the page only swaps frozen
rows into its model, so 100,000 findings never freeze the window.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.findings import FindingRow
from app.services.identity import current_user
from app.services.reconcile import ReconcileReport
from app.services.workspace import Workspace
from app.ui import theme
from app.ui.formatting import money
from app.ui.review import jobs
from app.ui.review.decision_bar import DecisionBar
from app.ui.review.detail_pane import DetailPane
from app.ui.review.filter_bar import FilterBar, FilterState
from app.ui.review.findings_view import FindingsView
from app.ui.review.grid_model import COLUMNS, CUSTOMER, FindingsModel, currency_totals
from app.ui.review.labels import proposed_effective
from app.ui.review.period_bar import PeriodBar, month_name, previous_month
from app.ui.tasks import TaskHandle, TaskRunner
from app.ui.widgets import Banner, EmptyState

DONE_WORDS = {"approve": "Approved", "reject": "Rejected", "defer": "Deferred"}


def totals_text(shown: int, total: int, model: FindingsModel) -> str:
    money_parts = []
    currencies = sorted({c for c, _ in model.totals.under} | {c for c, _ in model.totals.over})
    under, over = dict(model.totals.under), dict(model.totals.over)
    for c in currencies:
        bits = []
        if c in under:
            bits.append(f"{money(under[c], c)} under-billed")
        if c in over:
            bits.append(f"{money(-over[c], c)} over-billed")
        money_parts.append(", ".join(bits))
    count = f"{shown:,} of {total:,} findings" if shown != total else f"{total:,} findings"
    at_stake = " · ".join(money_parts) if money_parts else "nothing at stake"
    return f"{count}  ·  Money at stake: {at_stake}"


class ReviewPage(QWidget):
    status_message = Signal(str)  # a short confirmation for the window's status bar

    def __init__(self, workspace: Workspace, runner: TaskRunner,
                 settings: QSettings | None = None, parent: QWidget | None = None, *,
                 today: date | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.runner = workspace, runner
        self.settings = settings or QSettings()
        self.user = current_user(workspace)
        self.search: list[str] = []  # find text per position of model.all_rows
        self.filter = FilterState()
        self.loaded_period: str | None = None
        self.reconciled_at: datetime | None = None
        self.reconcile_task: TaskHandle | None = None
        self._load_seq = self._detail_seq = self._writes = 0
        self._loaded_at = 0.0
        self._advance_after: int | None = None
        self._build(today or date.today())
        self._restore_state()
        self.load_period(self.period_bar.period())

    # ---------------------------------------------------------------- layout
    def _build(self, today: date) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*theme.PAGE_MARGINS)
        layout.setSpacing(theme.SPACING + 2)
        self.period_bar = PeriodBar(today)
        self.period_bar.period_changed.connect(self.load_period)
        self.period_bar.reconcile_requested.connect(self.reconcile)
        self.period_bar.cancel_requested.connect(self.cancel_reconcile)
        layout.addWidget(self.period_bar)
        self.filters = FilterBar()
        self.filters.changed.connect(self.apply_filter)
        self.filters.grouping_changed.connect(self._set_grouped)
        layout.addWidget(self.filters)
        self.banner = Banner()
        self.banner.action_clicked.connect(self._banner_action)
        self._banner_do: Any = None
        layout.addWidget(self.banner)

        self.model = FindingsModel(parent=self)
        self.view = FindingsView(self.model)
        self.view.selection_changed.connect(self._selection_changed)
        self.empty = EmptyState()
        self.grid_stack = QStackedWidget()
        self.grid_stack.addWidget(self.view)
        self.grid_stack.addWidget(self.empty)
        self.totals = QLabel()
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(6)
        top_layout.addWidget(self.grid_stack, 1)
        top_layout.addWidget(self.totals)
        self.detail = DetailPane()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)
        self.decisions = DecisionBar()
        self.decisions.decided.connect(self.decide)
        layout.addWidget(self.decisions)
        self._detail_timer = QTimer(self, singleShot=True, interval=60)
        self._detail_timer.timeout.connect(self._fetch_detail)
        self._shortcuts()

    def _shortcuts(self) -> None:
        """A/R/D and J/K act only while the grid has focus, so typing a note stays typing."""
        grid = Qt.ShortcutContext.WidgetShortcut
        for key, slot in (("A", partial(self.decide, "approve")),
                          ("R", partial(self.decide, "reject")),
                          ("D", partial(self.decide, "defer")),
                          ("J", partial(self.move, 1)), ("K", partial(self.move, -1))):
            QShortcut(QKeySequence(key), self.view, slot, context=grid)
        QShortcut(QKeySequence.StandardKey.Find, self, self.focus_find,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Escape"), self.filters.find, self.view.setFocus,
                  context=grid)
        self.filters.find.returnPressed.connect(self.view.setFocus)

    def showEvent(self, event: QShowEvent) -> None:
        """The grid takes the keyboard when the screen opens, so A/R/D and J/K just work."""
        super().showEvent(event)
        focused = QApplication.focusWidget()
        if focused is None or not self.isAncestorOf(focused):
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    # ---------------------------------------------------------------- state
    def _restore_state(self) -> None:
        header = self.view.horizontalHeader()
        state = self.settings.value("review/header")
        if not (isinstance(state, QByteArray) and header.restoreState(state)):
            for n, column in enumerate(COLUMNS):
                if column.width:
                    header.resizeSection(n, column.width)
            header.setSortIndicator(CUSTOMER, Qt.SortOrder.AscendingOrder)
        splitter = self.settings.value("review/splitter")
        if not (isinstance(splitter, QByteArray) and self.splitter.restoreState(splitter)):
            self.splitter.setSizes([390, 370])
        grouped = str(self.settings.value("review/grouped", "false")).lower() == "true"
        self.filters.grouped.setChecked(grouped)
        self.model.set_grouped(grouped)
        period = self.settings.value("review/period")
        if isinstance(period, str) and len(period) == 7:
            self.period_bar.set_period(period)
        else:
            self.period_bar.set_period(previous_month(self.period_bar.today))
        self.view.setSortingEnabled(True)  # sorts by the restored indicator

    def save_state(self) -> None:
        self.settings.setValue("review/header", self.view.horizontalHeader().saveState())
        self.settings.setValue("review/splitter", self.splitter.saveState())
        self.settings.setValue("review/grouped", self.filters.grouped.isChecked())
        self.settings.setValue("review/period", self.period_bar.period())

    def refresh(self) -> None:
        """Reload the shown period (keeping the selection), unless a load is under way or
        has just finished: the sidebar calls this each time the screen is shown."""
        if self.runner.busy("load findings") or time.monotonic() - self._loaded_at < 2:
            return
        self.load_period(self.period_bar.period())

    # ---------------------------------------------------------------- loading
    def load_period(self, period: str) -> None:
        self._load_seq += 1
        seq, writes = self._load_seq, self._writes
        self.period_bar.label_reconcile()
        if self.loaded_period != period:
            self._show_empty("findings", f"Loading {month_name(period)}…", "")
        self.runner.submit("load findings", partial(jobs.load_findings, self.workspace, period),
                           on_done=lambda load: self._loaded(seq, writes, load),
                           on_error=self._failed)

    def _loaded(self, seq: int, writes: int, load: jobs.FindingsLoad) -> None:
        if seq != self._load_seq:
            return  # a newer period was asked for meanwhile
        if writes != self._writes:  # a decision landed while this was read: read again
            self.load_period(load.period)
            return
        self._loaded_at = time.monotonic()
        same = self.loaded_period == load.period
        self.loaded_period, self.reconciled_at = load.period, load.reconciled_at
        self.search = list(load.search)
        self.period_bar.set_reconciled(load.reconciled)
        self.filters.set_choices(load.rows)
        if not same:
            self.view.forget_selection()
        self.model.set_rows(load.rows, self.filter.mask(load.rows, self.search))
        self._after_change()
        if not same:
            self.detail.show_nothing()

    def _failed(self, message: str, details: str) -> None:
        self.show_error("Something went wrong", message)

    def apply_filter(self, state: FilterState) -> None:
        if state == self.filter:
            return
        self.filter = state
        self.model.set_mask(state.mask(self.model.all_rows, self.search))
        self._after_change()

    def _set_grouped(self, grouped: bool) -> None:
        self.model.set_grouped(grouped)
        self._after_change()

    def _after_change(self) -> None:
        """Totals, empty states and the period line follow every load, filter or sort."""
        total, shown = len(self.model.all_rows), self.model.totals.count
        period = month_name(self.loaded_period or self.period_bar.period())
        if self.reconciled_at is None and total == 0:
            self.period_bar.status.setText("Not reconciled yet")
            self._show_empty(
                "reconciliation", f"{period} has not been reconciled yet",
                "Reconcile compares what each vendor bills with what the PSA bills for the "
                "period, and lists every difference with the money at stake.",
                [(f"Reconcile {period}", self.reconcile)])
        elif total == 0:
            self.period_bar.status.setText(f"Reconciled {self._when()}")
            self._show_empty("status-approved", f"Nothing to fix in {period}",
                             "Vendor and PSA billing agree for every mapped subscription. "
                             "Reconcile again after the next sync.")
        elif shown == 0:
            self._show_empty("search", "No finding matches these filters",
                             f"{total:,} findings in {period} are hidden by the filters.",
                             [("Clear filters", self.filters.clear)])
        else:
            self.grid_stack.setCurrentWidget(self.view)
        if total:
            self.period_bar.status.setText(
                f"Reconciled {self._when()}" if self.reconciled_at else "")
        self.totals.setText(totals_text(shown, total, self.model) if total else "")

    def _when(self) -> str:
        return self.reconciled_at.astimezone().strftime("%Y-%m-%d %H:%M") \
            if self.reconciled_at else "—"

    def _show_empty(self, icon: str, headline: str, detail: str,
                    actions: list[Any] | None = None) -> None:
        self.empty.set_content(icon, headline, detail, actions or [])
        self.grid_stack.setCurrentWidget(self.empty)

    # ---------------------------------------------------------------- selection
    def selected_findings(self) -> list[FindingRow]:
        return self.view.selected_findings()

    def current_finding(self) -> FindingRow | None:
        return self.view.current_finding()

    def select_finding(self, finding_id: int) -> bool:
        return self.view.select_finding(finding_id)

    def move(self, step: int) -> None:
        self.view.move(step)

    def _selection_changed(self, *_args: Any) -> None:
        selected = self.selected_findings()
        current = self.current_finding()
        proposed = proposed_effective(selected[0]) if selected else None
        self.decisions.set_selection(len(selected), proposed)
        if len(selected) == 1:
            self.detail.show_row(selected[0])
            self._detail_timer.start()
        elif len(selected) > 1:
            self.detail.show_selection(len(selected), currency_totals(selected))
        elif current is None and self.model.rowCount():
            self.detail.show_nothing()

    def _fetch_detail(self) -> None:
        selected = self.selected_findings()
        if len(selected) != 1:
            return
        self._detail_seq += 1
        seq, finding_id = self._detail_seq, selected[0].id
        self.runner.submit("explain finding", lambda report, cancel: jobs.finding_detail(
            self.workspace, finding_id), on_done=lambda d: self._detail_ready(seq, d),
            on_error=self._failed)

    def _detail_ready(self, seq: int, detail: jobs.FindingDetail) -> None:
        if seq == self._detail_seq and self.detail.finding_id == (detail.row.id if detail.row
                                                                   else None):
            self.detail.show_detail(detail)

    def focus_find(self) -> None:
        self.filters.find.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filters.find.selectAll()

    # ---------------------------------------------------------------- deciding
    def decide(self, decision: str) -> None:
        selected = self.selected_findings()
        if not selected or self.runner.busy("decide"):
            return
        self._advance_after = selected[-1].id if len(selected) == 1 else None
        versions = {r.id: r.version for r in selected}
        effective, note = self.decisions.effective(), self.decisions.note_text()
        self.decisions.set_busy(True)
        ids = [r.id for r in selected]
        self.runner.submit("decide", lambda report, cancel: jobs.decide_findings(
            self.workspace, ids, decision, user=self.user, versions=versions,
            effective=effective, note=note), on_done=self._decided, on_error=self._failed)

    def _decided(self, outcome: jobs.DecisionOutcome) -> None:
        self._writes += 1
        self.decisions.set_busy(False)
        self.model.update_findings(outcome.rows)
        if outcome.stale:
            self.show_error("Nothing was changed: a finding changed since you loaded it",
                            f"{outcome.error}. The grid now shows its new numbers; review "
                            "them and decide again.")
        elif not outcome.ok:
            self.show_error("Nothing was changed", outcome.error or "")
        else:
            count = len(outcome.rows)
            self.banner.hide()
            self.decisions.reset_inputs()
            self.status_message.emit(
                f"{DONE_WORDS[outcome.decision]} {count:,} finding{'s' * (count != 1)}")
            if self._advance_after is not None:
                self.move(1)
        self._selection_changed()

    # ---------------------------------------------------------------- reconciling
    def reconcile(self) -> None:
        if self.reconcile_task is not None:
            return
        period = self.period_bar.period()
        self.banner.hide()
        self.period_bar.set_running(True)
        self.reconcile_task = self.runner.submit(
            f"Reconcile {period}", partial(jobs.reconcile, self.workspace, period, self.user),
            on_done=self._reconciled, on_error=self._reconcile_failed,
            on_progress=self.period_bar.set_progress)
        self.reconcile_task.signals.ended.connect(self._reconcile_ended)

    def cancel_reconcile(self) -> None:
        if self.reconcile_task is not None:
            self.reconcile_task.cancel()
            self.period_bar.cancel.setEnabled(False)
            self.period_bar.progress_text.setText("Cancelling…")

    def _reconcile_ended(self) -> None:
        self.reconcile_task = None
        self.period_bar.set_running(False)

    def _reconciled(self, report: ReconcileReport) -> None:
        changes = [f"{report.new:,} new", f"{report.changed:,} changed"]
        if report.reopened:
            changes.append(f"{report.reopened:,} reopened")
        if report.resolved:
            changes.append(f"{report.resolved:,} resolved")
        self.show_message("success", f"{month_name(report.period)} reconciled: "
                                     f"{report.findings:,} findings ({', '.join(changes)})",
                          f"Reviews already taken were kept. {report.subscriptions:,} "
                          f"subscriptions compared; {report.rounding_residuals:,} sub-cent "
                          "differences reported as rounding, not as findings.")
        self.load_period(report.period)

    def _reconcile_failed(self, message: str, details: str) -> None:
        if "cancelled" in message.lower():
            self.show_message("info", "Reconcile cancelled", "Nothing was changed.")
        else:
            self.show_error("Reconcile failed; nothing was changed", message)

    # ---------------------------------------------------------------- messages
    def show_message(self, level: str, headline: str, detail: str = "",
                     action: tuple[str, Any] | None = None) -> None:
        self._banner_do = action[1] if action else None
        self.banner.show_message(level, headline, detail, action[0] if action else None)

    def show_error(self, headline: str, detail: str) -> None:
        self.show_message("error", headline, detail, ("Reload", self.refresh))

    def _banner_action(self) -> None:
        if self._banner_do is not None:
            self.banner.hide()
            self._banner_do()
