"""Deciding on the selected findings: approve, reject or defer, with an optional effective
date and note that go with the decision into the audit log."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.ui import theme

BUTTONS = (("approve", "Approve", "A", "approved"),
           ("reject", "Reject", "R", "rejected"),
           ("defer", "Defer", "D", "deferred"))


class DecisionBar(QFrame):
    decided = Signal(str)  # approve | reject | defer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolbar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING)
        self.selection = QLabel("Nothing selected")
        self.selection.setMinimumWidth(150)
        layout.addWidget(self.selection)
        self.use_date = QCheckBox("Effective")
        self.use_date.setToolTip("Tick to override the date the billing policy proposes")
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setEnabled(False)
        self.use_date.toggled.connect(self.date.setEnabled)
        layout.addWidget(self.use_date)
        layout.addWidget(self.date)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Note for the audit log (optional)")
        self.note.setMinimumWidth(180)
        layout.addWidget(self.note, 1)
        self.count = 0
        self.buttons: dict[str, QPushButton] = {}
        for decision, text, key, status in BUTTONS:
            button = QPushButton(f"{text}  ({key})")
            button.setIcon(theme.status_icon(status))
            button.setToolTip(f"{text} the selected findings — shortcut {key}")
            button.clicked.connect(lambda _=False, d=decision: self.decided.emit(d))
            self.buttons[decision] = button
            layout.addWidget(button)
        self.set_selection(0, None)

    def set_selection(self, count: int, proposed: date | None) -> None:
        self.count = count
        self.selection.setText("Nothing selected" if count == 0 else
                               "1 finding selected" if count == 1 else
                               f"{count:,} findings selected")
        for button in self.buttons.values():
            button.setEnabled(count > 0)
        if proposed is not None and not self.use_date.isChecked():
            self.date.setDate(QDate(proposed.year, proposed.month, proposed.day))

    def set_busy(self, busy: bool) -> None:
        for button in self.buttons.values():
            button.setEnabled(not busy and self.count > 0)

    def effective(self) -> date | None:
        if not self.use_date.isChecked():
            return None
        d = self.date.date()
        return date(d.year(), d.month(), d.day())

    def note_text(self) -> str | None:
        return self.note.text().strip() or None

    def reset_inputs(self) -> None:
        """After a decision the note is used up; the date choice stays for the next one."""
        self.note.clear()
