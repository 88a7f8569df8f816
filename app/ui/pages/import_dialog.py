"""Importing a vendor file: Partner Center recon or usage CSV, or any CSV/XLSX through a
profile — previewed, imported in the background with progress and cancel, and ending in a
summary of what was imported, skipped as duplicate, or rejected and why.

`start_import(workspace, runner, path)` opens the dialog on a file (the main window calls
it for a file dropped onto it).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services import imports as svc
from app.ui.pages.import_models import REJECT_COLUMNS, PreviewModel
from app.ui.pages.widgets import (
    EmptyOr,
    TaskBar,
    fit_columns,
    make_table,
    row_layout,
    section_label,
    tone_color,
)
from app.ui.table import RowTableModel
from app.ui.tasks import TaskRunner

RECON, USAGE, PROFILE = "recon", "usage", "profile"


@dataclass(frozen=True)
class Refused:
    """An import that wrote nothing, with the rows and cells at fault."""

    message: str
    result: svc.ImportResult


FILE_FILTER = "Vendor files (*.csv *.txt *.xlsx);;All files (*)"
PREVIEW_ROWS = 20


def guess_kind(path: Path) -> str:
    """Partner Center files name themselves in their header; anything else needs a profile."""
    if path.suffix.lower() not in (".csv", ".txt"):
        return PROFILE
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
            header = next(csv.reader(f), [])
    except OSError:
        return PROFILE
    names = {h.strip() for h in header}
    if {"UsageDate", "MeterId"} <= names:
        return USAGE
    if {"ChargeType", "BillableQuantity", "EffectiveUnitPrice"} <= names:
        return RECON
    return PROFILE


def start_import(workspace, runner: TaskRunner, path: str | Path | None = None,
                 parent: QWidget | None = None) -> ImportDialog:
    """Open the import dialog (non-modal) on `path`, its kind guessed from the header."""
    dialog = ImportDialog(workspace, runner, parent)
    if path is not None:
        dialog.set_path(Path(path))
    dialog.open()
    return dialog


class ImportDialog(QDialog):
    """`result` holds the ImportResult once an import finished (or was refused)."""

    def __init__(self, workspace, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.runner = workspace, runner
        self.path: Path | None = None
        self.result: svc.ImportResult | None = None
        self.setWindowTitle("Import a vendor file")
        self.resize(980, 640)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 20, 20, 16)
        layout.setSpacing(12)
        form = QFormLayout()
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(10)
        self.file = QLineEdit()
        self.file.setReadOnly(True)
        self.file.setPlaceholderText("Choose a file, or drop one onto the TrueUp window")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self.choose_file)
        form.addRow("File", row_layout(self.file, choose, stretch_at=0))
        self.kind = QComboBox()
        self.kind.addItem("Partner Center invoice reconciliation (CSV)", RECON)
        self.kind.addItem("Partner Center daily rated usage (CSV)", USAGE)
        self.kind.addItem("Another vendor's file, through a profile", PROFILE)
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        form.addRow("What it is", self.kind)
        self.profile = QComboBox()
        self.profile.currentIndexChanged.connect(lambda _i: self.load_preview())
        form.addRow("Profile", self.profile)
        self.accept_good = QCheckBox("Import the good rows and list the rejected ones "
                                     "(otherwise a file with any bad row imports nothing)")
        form.addRow("", self.accept_good)
        layout.addLayout(form)

        self.preview_title = section_label("Preview")
        layout.addWidget(self.preview_title)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(f"color: {tone_color('error').name()};")
        self.problems.hide()
        layout.addWidget(self.problems)
        self.preview_model = PreviewModel(self)
        self.preview_view = make_table(self.preview_model, sortable=False)
        self.reject_model = RowTableModel(REJECT_COLUMNS)
        self.reject_view = make_table(self.reject_model, stretch=2)
        self.body = EmptyOr(self.preview_view, "Partner Center files are checked while they "
                            "import; choose Import to start.")
        self.body.addWidget(self.reject_view)
        layout.addWidget(self.body, 1)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.hide()
        layout.addWidget(self.summary)
        self.task = TaskBar()
        layout.addWidget(self.task)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.clicked.connect(self.run_import)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        self._load_profiles()
        self._kind_changed()

    @classmethod
    def start_import(cls, workspace, runner: TaskRunner, path: str | Path | None = None,
                     parent: QWidget | None = None) -> ImportDialog:
        return start_import(workspace, runner, path, parent)

    # ------------------------------------------------------------ choosing
    def _load_profiles(self) -> None:
        self.profile.blockSignals(True)
        self.profile.clear()
        for info in svc.list_profiles(self.workspace):
            self.profile.addItem(f"{info.name} — {info.vendor_name}", info.name)
        self.profile.blockSignals(False)

    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import a vendor file", "", FILE_FILTER)
        if name:
            self.set_path(Path(name))

    def set_path(self, path: Path) -> None:
        self.path = path
        self.file.setText(str(path))
        self.result = None
        self.summary.hide()
        self.kind.setCurrentIndex(self.kind.findData(guess_kind(path)))
        self._kind_changed()

    def _kind_changed(self) -> None:
        profile = self.kind.currentData() == PROFILE
        self.profile.setEnabled(profile)
        if profile and self.profile.count() == 0:
            self.profile.setPlaceholderText("No profiles yet: create one in Settings")
        self.load_preview()

    def load_preview(self) -> None:
        """A profile's preview: the first rows as they will be read, every bad cell marked."""
        self.problems.hide()
        self.body.setCurrentWidget(self.body.content)
        profile = self.profile.currentData()
        self.import_button.setEnabled(self.path is not None and (
            self.kind.currentData() != PROFILE or profile is not None))
        if self.kind.currentData() != PROFILE or self.path is None or profile is None:
            self.preview_model.set_preview(None)
            self.preview_title.setText("Preview")
            self.body.set_empty(True, "Partner Center files are checked row by row while they "
                                "import; choose Import to start." if self.path else
                                "Choose a file to import.")
            return
        try:
            preview = svc.preview_with_profile(self.workspace, profile, self.path, PREVIEW_ROWS)
        except (svc.FileImportError, svc.ProfileError) as exc:
            self.preview_model.set_preview(None)
            self.body.set_empty(True, str(exc))
            return
        self.preview_model.set_preview(preview)
        self.body.set_empty(False)
        fit_columns(self.preview_view)
        bad = self.preview_model.bad_cells
        self.preview_title.setText(
            f"Preview of the first {len(preview.rows)} rows" + (
                f" — {bad} cell(s) cannot be read (marked ✕; hover for the reason)" if bad
                else " — every cell reads cleanly"))
        if preview.problems:
            self.problems.setText("✕ " + "\n✕ ".join(preview.problems))
            self.problems.show()

    # ------------------------------------------------------------ importing
    def run_import(self) -> None:
        if self.path is None or self.runner.busy("import"):
            return
        ws, path, kind = self.workspace, self.path, self.kind.currentData()
        good, profile = self.accept_good.isChecked(), self.profile.currentData()

        def job(report, cancel) -> svc.ImportResult | Refused:  # noqa: ANN001
            try:
                if kind == PROFILE:
                    return svc.import_with_profile(ws, path, profile, accept_good_rows=good,
                                                   progress=report, cancel=cancel)
                return svc.import_partner_center_file(ws, path, usage=kind == USAGE,
                                                      accept_good_rows=good, progress=report,
                                                      cancel=cancel)
            except svc.FileImportError as exc:  # its rejects must reach the summary
                return Refused(str(exc), exc.result)

        self.import_button.setEnabled(False)
        self.summary.hide()
        self.task.start(f"Importing {path.name}…")
        handle = self.runner.submit("import", job, on_done=self._imported,
                                    on_error=self._failed, on_progress=self.task.progress)
        self.task.attach(handle)
        self._handle = handle

    def _imported(self, result: svc.ImportResult | Refused) -> None:
        self.task.finish()
        if isinstance(result, Refused):
            self.result = result.result
            hint = "" if self.accept_good.isChecked() or not result.result.rejected else (
                " Fix the file, or tick “Import the good rows” to import the rest.")
            self._show_summary(f"✕ Nothing was imported: {result.message.rstrip('.')}.{hint}",
                               "error")
            return
        self.result = result
        if result.already_imported:
            self._show_summary(f"{result.file} was imported before"
                               + (f" into {result.connection}" if result.connection else "")
                               + "; nothing changed.", "muted")
            return
        text = (f"✓ Imported {result.imported:,} lines from {result.file} into "
                f"{result.connection}: {result.duplicates:,} duplicates skipped, "
                f"{result.new_customers:,} new customers, {result.new_subscriptions:,} new "
                "subscriptions.")
        if result.rejected_rows:
            text += (f" {result.rejected_rows:,} rejected rows were not imported; "
                     "the reasons are listed above.")
        self._show_summary(text, "warning" if result.rejected_rows else "ok")

    def _failed(self, message: str, details: str) -> None:
        self.task.finish()
        self.result = None
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.cancel_event.is_set():
            self._show_summary("Cancelled: nothing was imported.", "muted")
            return
        self._show_summary(f"✕ Nothing was imported. {message}", "error")

    def _show_summary(self, text: str, tone: str) -> None:
        self.summary.setText(text)
        self.summary.setStyleSheet(f"color: {tone_color(tone).name()};")
        self.summary.show()
        # Done is done: importing the same file again would only say so. A refusal, a
        # failure or a cancel can be tried again (with other options).
        self.import_button.setEnabled(tone == "error" or self.result is None)
        rejects = self.result.rejected if self.result else ()
        if rejects:
            self.reject_model.set_rows(rejects)
            self.preview_title.setText(f"Rejected rows ({self.result.rejected_rows:,})")
            self.body.setCurrentWidget(self.reject_view)
            fit_columns(self.reject_view)

