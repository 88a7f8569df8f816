"""Which billing period is under review, whether and when it was reconciled, and the
Reconcile button with its progress and cancel."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QWidget,
)

from app.ui import theme
from app.ui.widgets import muted, page_title

MONTHS_BACK = 24


def previous_month(today: date) -> str:
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def month_name(label: str) -> str:
    year, month = (int(p) for p in label.split("-"))
    return date(year, month, 1).strftime("%B %Y")


def recent_months(today: date, back: int = MONTHS_BACK) -> list[str]:
    """This month and the `back` before it, newest first."""
    out = []
    year, month = today.year, today.month
    for _ in range(back + 1):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


class PeriodBar(QWidget):
    period_changed = Signal(str)
    reconcile_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.today = today
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING + 4)
        layout.addWidget(page_title("Reconciliation"))
        self.combo = QComboBox()
        self.combo.setAccessibleName("Billing period")
        self.combo.setMinimumContentsLength(16)
        self.combo.currentIndexChanged.connect(
            lambda _n: self.period_changed.emit(self.period()))
        layout.addWidget(self.combo)
        self.status = muted(wrap=False)
        layout.addWidget(self.status, 1)
        self.progress_text = muted(wrap=False)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(180)
        self.progress.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setIcon(theme.icon("cancel"))
        self.cancel.clicked.connect(self.cancel_requested)
        for w in (self.progress_text, self.progress, self.cancel):
            layout.addWidget(w)
            w.hide()
        self.reconcile = QPushButton("Reconcile")
        self.reconcile.setObjectName("primary")
        self.reconcile.setIcon(theme.icon("reconcile-run", "#ffffff"))
        self.reconcile.setToolTip("Compare vendor and PSA billing for this period and list "
                                  "every difference (reviews already taken are kept)")
        self.reconcile.clicked.connect(self.reconcile_requested)
        layout.addWidget(self.reconcile)
        self.set_reconciled(())

    def set_reconciled(self, labels: Iterable[str]) -> None:
        """Offer recent months (and any older reconciled one), marking reconciled periods."""
        done = set(labels)
        current = self.period() if self.combo.count() else None
        months = sorted(set(recent_months(self.today)) | done, reverse=True)
        with QSignalBlocker(self.combo):
            self.combo.clear()
            for label in months:
                if label in done:
                    self.combo.addItem(theme.status_icon("approved"), month_name(label), label)
                else:
                    self.combo.addItem(month_name(label), label)
                self.combo.setItemData(self.combo.count() - 1,
                                       f"{label} — reconciled" if label in done
                                       else f"{label} — not reconciled yet",
                                       Qt.ItemDataRole.ToolTipRole)
            if current:
                self.combo.setCurrentIndex(max(self.combo.findData(current), 0))

    def period(self) -> str:
        return str(self.combo.currentData() or previous_month(self.today))

    def set_period(self, label: str) -> None:
        if self.combo.findData(label) < 0:
            self.set_reconciled([*self._labels(), label])
        self.combo.setCurrentIndex(self.combo.findData(label))

    def _labels(self) -> list[str]:
        return [self.combo.itemData(n) for n in range(self.combo.count())
                if self.combo.itemIcon(n).isNull() is False]

    def set_running(self, running: bool) -> None:
        for w in (self.progress_text, self.progress, self.cancel):
            w.setVisible(running)
        self.reconcile.setEnabled(not running)
        self.combo.setEnabled(not running)
        self.cancel.setEnabled(True)
        if running:
            self.progress.setRange(0, 0)
            self.progress_text.setText("Starting…")

    def set_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        else:
            self.progress.setRange(0, 0)
        self.progress_text.setText(message.capitalize())

    def label_reconcile(self) -> None:
        self.reconcile.setText(f"Reconcile {month_name(self.period())}")
