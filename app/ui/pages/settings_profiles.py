"""Import profiles: the saved column mappings for other vendors' files, created here with the
column names read from a sample file, previewed on a real file, and used to import one."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.services import imports as svc
from app.ui.pages.import_dialog import FILE_FILTER, PROFILE, ImportDialog, start_import
from app.ui.pages.import_models import field_title
from app.ui.pages.widgets import (
    EmptyOr,
    call_safely,
    fit_columns,
    make_table,
    muted_label,
    row_layout,
    tone_color,
)
from app.ui.table import Column, RowTableModel
from app.ui.tasks import TaskRunner

NOT_IN_FILE = "— not in the file —"
PROFILE_COLUMNS: list[Column[svc.ImportProfileInfo]] = [
    Column("Profile", lambda p: p.name, lambda p: p.name.lower()),
    Column("Vendor", lambda p: p.vendor_name),
    Column("Fields read", lambda p: ", ".join(field_title(f) for f in p.settings.columns)),
    Column("Created", lambda p: f"{p.created_at:%Y-%m-%d}", lambda p: p.created_at),
]


def read_header(path: Path, delimiter: str, header_row: int) -> list[str]:
    """Column names of a sample CSV, so the person picks them instead of typing them."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter=delimiter), 1):
            if n == header_row:
                return [c.strip() for c in row if c.strip()]
    return []


class ProfileDialog(QDialog):
    """A new profile: which column feeds which field, constants, and number and date formats."""

    def __init__(self, workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.created: svc.ImportProfileInfo | None = None
        self.setWindowTitle("New import profile")
        self.resize(640, 720)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 20, 20, 16)
        layout.setSpacing(10)
        form = QFormLayout()
        form.setHorizontalSpacing(16)
        self.name = QLineEdit()
        self.vendor = QLineEdit()
        self.delimiter = QComboBox()
        self.delimiter.setEditable(True)
        self.delimiter.addItems([",", ";", "\\t", "|"])
        self.header_row = QSpinBox()
        self.header_row.setRange(1, 100)
        self.decimal_comma = QCheckBox("Numbers use a decimal comma (12,50)")
        self.thousands = QComboBox()
        self.thousands.addItems(["", ",", ".", " ", "'"])
        self.date_format = QLineEdit("%Y-%m-%d")
        self.date_format.setToolTip("strftime patterns, comma-separated: %d/%m/%Y, %Y-%m-%d")
        self.currency = QLineEdit()
        self.currency.setPlaceholderText("e.g. EUR, when the file has no currency column")
        sample = QPushButton("Read column names from a sample file…")
        sample.clicked.connect(self.choose_sample)
        for label, widget in (("Name", self.name), ("Vendor", self.vendor),
                              ("Delimiter", self.delimiter), ("Header row", self.header_row),
                              ("", self.decimal_comma), ("Thousands separator", self.thousands),
                              ("Date formats", self.date_format),
                              ("Currency (constant)", self.currency), ("", sample)):
            form.addRow(label, widget)
        layout.addLayout(form)
        layout.addWidget(muted_label("Which column of the file holds each field. Customer "
                                     "id, quantity and currency are required, and a SKU or a "
                                     "product name."))
        self.columns: dict[str, QComboBox] = {}
        grid_box = QWidget()
        grid = QGridLayout(grid_box)
        grid.setHorizontalSpacing(16)
        for n, field in enumerate(svc.PROFILE_FIELDS):
            combo = QComboBox()
            combo.setEditable(True)
            combo.addItem(NOT_IN_FILE)
            self.columns[field] = combo
            grid.addWidget(QLabel(field_title(field)), n, 0)
            grid.addWidget(combo, n, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_box)
        layout.addWidget(scroll, 1)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {tone_color('error').name()};")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _delimiter(self) -> str:
        text = self.delimiter.currentText()
        return "\t" if text == "\\t" else text

    def choose_sample(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "A sample file", "", "CSV (*.csv *.txt)")
        if name:
            self.use_header(read_header(Path(name), self._delimiter(), self.header_row.value()))

    def use_header(self, header: list[str]) -> None:
        """Offer the file's columns in every field, pre-choosing a column named like it."""
        for field, combo in self.columns.items():
            combo.clear()
            combo.addItems([NOT_IN_FILE, *header])
            wanted = {field.replace("_", ""), field_title(field).replace(" ", "").lower()}
            match = next((h for h in header if h.replace(" ", "").replace("_", "").lower()
                          in wanted), None)
            if match:
                combo.setCurrentText(match)

    def settings(self) -> svc.ProfileSettings:
        columns = {f: c.currentText().strip() for f, c in self.columns.items()
                   if c.currentText().strip() not in ("", NOT_IN_FILE)}
        constants = {"currency": self.currency.text().strip().upper()} \
            if self.currency.text().strip() else {}
        formats = tuple(p.strip() for p in self.date_format.text().split(",") if p.strip())
        return svc.ProfileSettings(columns=columns, constants=constants,
                                   date_formats=formats or ("%Y-%m-%d",),
                                   decimal_comma=self.decimal_comma.isChecked(),
                                   thousands=self.thousands.currentText(),
                                   delimiter=self._delimiter(),
                                   header_row=self.header_row.value())

    def save(self) -> None:
        try:
            self.created = svc.create_profile(self.workspace, self.name.text(),
                                              self.vendor.text(), self.settings())
        except svc.ProfileError as exc:
            self.error.setText("✕ " + str(exc).replace("; ", "\n✕ "))
            self.error.show()
            return
        self.accept()


class ProfilesTab(QWidget):
    def __init__(self, workspace, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.runner = workspace, runner
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(muted_label(
            "A profile tells TrueUp how to read another vendor's CSV or XLSX file: which "
            "column is the customer, the SKU, the quantity, and how dates and numbers are "
            "written. Partner Center files need no profile."))
        self.model = RowTableModel(PROFILE_COLUMNS)
        self.view = make_table(self.model, stretch=2)
        self.empty = EmptyOr(self.view, "No import profiles yet. Create one for each vendor "
                             "whose files you import.")
        layout.addWidget(self.empty, 1)
        new, preview, delete, import_file = (QPushButton("New profile…"),
                                             QPushButton("Preview a file…"),
                                             QPushButton("Delete"), QPushButton("Import a file…"))
        new.clicked.connect(self.new_profile)
        preview.clicked.connect(self.preview_file)
        delete.clicked.connect(self.delete_selected)
        import_file.clicked.connect(lambda: start_import(self.workspace, self.runner,
                                                         parent=self))
        layout.addLayout(row_layout(new, preview, delete, None, import_file))

    def refresh(self) -> None:
        profiles = svc.list_profiles(self.workspace)
        self.model.set_rows(profiles)
        self.empty.set_empty(not profiles)
        fit_columns(self.view)

    def selected(self) -> svc.ImportProfileInfo | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def new_profile(self) -> None:
        dialog = ProfileDialog(self.workspace, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.refresh()

    def preview_file(self, path: Path | None = None) -> ImportDialog | None:
        """The import dialog on a file, with the selected profile and its preview."""
        profile = self.selected()
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, "Preview a file", "", FILE_FILTER)
            if not name:
                return None
            path = Path(name)
        dialog = start_import(self.workspace, self.runner, path, self)
        dialog.kind.setCurrentIndex(dialog.kind.findData(PROFILE))
        if profile is not None:
            dialog.profile.setCurrentIndex(dialog.profile.findData(profile.name))
        return dialog

    def delete_selected(self) -> None:
        profile = self.selected()
        if profile is None:
            return
        if QMessageBox.question(self, "Delete profile", f"Delete the profile {profile.name}? "
                                "Files already imported keep their data.") != \
                QMessageBox.StandardButton.Yes:
            return
        if call_safely(self, "Delete profile", lambda: svc.delete_profile(
                self.workspace, profile.name) or True):
            self.refresh()
