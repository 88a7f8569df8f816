"""Dialogs of the Mapping screen: pick a PSA target by name, and edit a price override.

Both validate before they close: a choice is required, a price must be a non-negative
decimal, and the service's own refusal is shown inline so the person can correct it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.mapping_targets import MappingTarget
from app.ui.pages.widgets import muted_label, tone_color


class TargetPicker(QDialog):
    """A filterable list of PSA targets; `chosen` is the picked one after accept()."""

    def __init__(self, title: str, prompt: str, targets: Sequence[MappingTarget],
                 parent: QWidget | None = None, *, initial_filter: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(560, 520)
        self.targets = list(targets)
        self.chosen: MappingTarget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 20, 20, 16)
        layout.setSpacing(10)
        label = QLabel(prompt)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.search = QLineEdit(initial_filter)
        self.search.setPlaceholderText("Type to filter by name or id")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._fill)
        layout.addWidget(self.search)
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.list.itemDoubleClicked.connect(lambda _item: self._accept())
        self.list.currentRowChanged.connect(lambda _row: self._sync_ok())
        layout.addWidget(self.list, 1)
        self.hint = muted_label()
        layout.addWidget(self.hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Map")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._fill(initial_filter)

    def _fill(self, text: str) -> None:
        needle = text.strip().lower()
        self.list.clear()
        shown = [t for t in self.targets if not needle
                 or needle in f"{t.name} {t.id} {t.detail}".lower()]
        for target in shown[:500]:
            second = target.detail or target.connection
            item = QListWidgetItem(f"{target.name}\n{target.id} · {second}")
            item.setData(Qt.ItemDataRole.UserRole, target)
            self.list.addItem(item)
        if not self.targets:
            self.hint.setText("Nothing to map to yet: sync the PSA connection first.")
        elif len(shown) > 500:
            self.hint.setText(f"{len(shown):,} match; showing the first 500 — type more.")
        else:
            self.hint.setText(f"{len(shown):,} of {len(self.targets):,}")
        if shown:
            self.list.setCurrentRow(0)
        self._sync_ok()

    def _sync_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            self.list.currentItem() is not None)

    def _accept(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.chosen = item.data(Qt.ItemDataRole.UserRole)
        self.accept()


class OverrideDialog(QDialog):
    """Set the customer price and/or invoice description billed for one vendor SKU."""

    def __init__(self, skus: Sequence[str], companies: Sequence[MappingTarget], currency: str,
                 save: Callable[[str, Decimal | None, str | None, str | None, str | None], None],
                 parent: QWidget | None = None, *, sku: str = "", company_id: str | None = None,
                 price: Decimal | None = None, description: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Price override")
        self.setMinimumWidth(520)
        self.save = save
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 20, 20, 16)
        layout.setSpacing(12)
        layout.addWidget(muted_label(
            "The price and description billed to customers for this vendor SKU, instead of "
            "the PSA catalogue's. A customer's own override wins over the one for all "
            "customers; leave a field empty to keep it as it is."))
        form = QFormLayout()
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(10)
        self.sku = QComboBox()
        self.sku.setEditable(True)
        self.sku.addItems(sorted(set(skus)))
        self.sku.setCurrentText(sku)
        self.sku.setEnabled(not sku)
        form.addRow("Vendor SKU", self.sku)
        self.company = QComboBox()
        self.company.addItem("All customers", None)
        for c in companies:
            self.company.addItem(c.name, (c.id, c.connection))
            if c.id == company_id:
                self.company.setCurrentIndex(self.company.count() - 1)
        self.company.setEnabled(not sku)
        form.addRow("Applies to", self.company)
        self.price = QLineEdit("" if price is None else f"{price}")
        self.price.setPlaceholderText(f"e.g. 26.40 ({currency})")
        self.price.setAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow(f"Customer price ({currency})", self.price)
        self.description = QLineEdit(description or "")
        self.description.setPlaceholderText("e.g. Microsoft 365 Business Premium (monthly)")
        form.addRow("Invoice description", self.description)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {tone_color('error').name()};")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def show_error(self, message: str) -> None:
        self.error.setText(f"✕ {message}")
        self.error.show()

    def _save(self) -> None:
        sku = self.sku.currentText().strip()
        if not sku:
            self.show_error("Choose the vendor SKU the override is for.")
            return
        text = self.price.text().strip().replace(",", "")
        price: Decimal | None = None
        if text:
            try:
                price = Decimal(text)
            except InvalidOperation:
                self.show_error(f"The price must be a number, like 26.40 — not {text!r}.")
                return
        description = self.description.text().strip() or None
        target = self.company.currentData()
        company_id, connection = target if target else (None, None)
        try:
            self.save(sku, price, description, company_id, connection)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.accept()
