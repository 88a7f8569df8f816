"""Billing policies: every setting with what it means, its value and default, changed in
place; a value the rule refuses is explained under its row and nothing is stored."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.policy import POLICY_KEYS, PolicyScope
from app.services.identity import current_user
from app.services.policies import PolicySetting, set_policy, show_policy
from app.ui.pages.widgets import bold, muted_hex, muted_label, tone_color

_LITERAL = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def choices(allowed: str) -> tuple[list[str], bool]:
    """The literal values offered in the list, and whether free text is allowed too."""
    parts = [p.strip() for p in allowed.split("|")]
    literal = [p for p in parts if _LITERAL.match(p)]
    return literal, len(literal) != len(parts)


def title(key: str) -> str:
    return key.replace("_", " ").capitalize()


class PolicyRow:
    """The widgets of one policy key inside the grid."""

    def __init__(self, grid: QGridLayout, row: int, setting: PolicySetting, save) -> None:  # noqa: ANN001
        self.key = setting.key
        self.save = save
        name = QLabel(title(setting.key))
        name.setFont(bold(name.font()))
        description = muted_label(setting.description[:1].upper() + setting.description[1:])
        options, free = choices(setting.allowed)
        self.editor = QComboBox()
        self.editor.setEditable(free)
        self.editor.addItems(options)
        if setting.value not in options:
            self.editor.addItem(setting.value)
        self.editor.setCurrentText(setting.value)
        self.editor.setMinimumWidth(200)
        self.editor.setToolTip(f"Allowed: {setting.allowed}")
        spec = POLICY_KEYS.get(setting.key)
        if spec is not None and PolicyScope.GLOBAL not in spec.scopes:
            self.editor.setEnabled(False)
            self.editor.setToolTip("Set per customer, not for everyone: "
                                   f"`trueup policy set {setting.key} … --customer ID`")
        self.current = setting.value
        default = muted_label(f"default {setting.default}", wrap=False)
        overrides = ", ".join(f"{scope} {ref}: {value}" for scope, ref, value in
                              setting.overrides)
        self.note = muted_label(f"Overridden for {overrides}" if overrides else "")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {tone_color('error').name()};")
        self.error.hide()
        text = QVBoxLayout()
        text.setSpacing(2)
        for w in (name, description, self.note, self.error):
            text.addWidget(w)
        self.note.setVisible(bool(overrides))
        grid.addLayout(text, row, 0)
        grid.addWidget(self.editor, row, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(default, row, 2, Qt.AlignmentFlag.AlignTop)
        if free:
            self.editor.lineEdit().editingFinished.connect(self.commit)
            self.editor.activated.connect(lambda _i: self.commit())
        else:
            self.editor.currentTextChanged.connect(lambda _t: self.commit())

    def commit(self) -> None:
        value = self.editor.currentText().strip()
        if value == self.current:
            self.error.hide()
            return
        try:
            self.save(self.key, value)
        except ValueError as exc:
            self.error.setText(f"✕ {exc}. Kept {self.current}.")
            self.error.show()
            return
        self.current = value
        self.error.hide()


class PoliciesTab(QWidget):
    def __init__(self, workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.rows: dict[str, PolicyRow] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(muted_label(
            "How findings propose actions, for every customer. A customer, vendor or product "
            "can override a setting from the command line (`trueup policy set`)."))
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout.addWidget(self.scroll, 1)
        self.saved = muted_label()
        layout.addWidget(self.saved)

    def refresh(self) -> None:
        body = QWidget()
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 0, 12, 0)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(14)
        grid.setColumnStretch(0, 1)
        self.rows = {}
        for n, setting in enumerate(show_policy(self.workspace)):
            self.rows[setting.key] = PolicyRow(grid, n, setting, self._save)
        grid.setRowStretch(len(self.rows), 1)
        self.scroll.setWidget(body)

    def _save(self, key: str, value: str) -> None:
        set_policy(self.workspace, key, value, user=current_user(self.workspace))
        self.saved.setText(f"Saved: {title(key)} is now {value}.")
        self.saved.setStyleSheet(f"color: {muted_hex()};")
