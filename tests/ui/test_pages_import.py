"""The import dialog: a Partner Center file imported in the background with progress and a
summary, a profile's preview with per-cell errors, a refused file listing its rejected rows,
and the same file a second time changing nothing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.models.workspace import Workspace
from app.services.imports import preview_with_profile
from app.ui.pages.import_dialog import (
    PROFILE,
    RECON,
    USAGE,
    ImportDialog,
    guess_kind,
    start_import,
)
from app.ui.pages.import_models import REJECT_COLUMNS, PreviewModel
from app.ui.table import RowTableModel
from app.ui.tasks import TaskRunner
from tests.fixtures.partner_center import line, usage_line, write_recon, write_usage
from tests.ui.pages_data import ingram_file, ingram_profile


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    yield workspace
    workspace.close()


def _recon(tmp_path):  # noqa: ANN001, ANN202
    return write_recon(tmp_path / "recon-may.csv", [
        line(), line(SubscriptionId="b1c2", CustomerName="Fabrikam", CustomerId="c-2",
                     BillableQuantity="4", Quantity="4")])


def test_the_kind_of_file_is_guessed_from_its_header(tmp_path):
    assert guess_kind(_recon(tmp_path)) == RECON
    assert guess_kind(write_usage(tmp_path / "usage.csv", [usage_line()])) == USAGE
    assert guess_kind(ingram_file(tmp_path)) == PROFILE
    assert guess_kind(tmp_path / "book.xlsx") == PROFILE


def test_import_a_partner_center_file_in_the_background(qtbot, ws, tmp_path):
    runner = TaskRunner()
    dialog = start_import(ws, runner, _recon(tmp_path))
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and dialog.kind.currentData() == RECON
    assert dialog.import_button.isEnabled()
    progress = []
    dialog.task.progress = lambda done, total, message: progress.append((done, total))
    with qtbot.waitSignal(runner.task_ended, timeout=30_000):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=5_000)
    assert (dialog.result.imported, dialog.result.connection) == (2, "Partner Center")
    assert dialog.summary.text().startswith("✓ Imported 2 lines from recon-may.csv into "
                                            "Partner Center")
    assert progress and not dialog.task.isVisibleTo(dialog)
    assert not dialog.import_button.isEnabled()  # done: a second click would do nothing

    again = ImportDialog.start_import(ws, TaskRunner(inline=True), tmp_path / "recon-may.csv")
    qtbot.addWidget(again)
    again.run_import()
    assert again.result.already_imported
    assert again.summary.text() == ("recon-may.csv was imported before into Partner Center; "
                                    "nothing changed.")
    assert runner.cancel_all_and_wait(5_000)


def test_a_profile_preview_marks_each_bad_cell(qtbot, ws, tmp_path):
    ingram_profile(ws)
    dialog = start_import(ws, TaskRunner(inline=True), ingram_file(tmp_path))
    qtbot.addWidget(dialog)
    assert dialog.kind.currentData() == PROFILE and dialog.profile.currentData() == "Ingram EU"
    model = dialog.preview_model
    assert model.rowCount() == 6 and model.bad_cells == 1
    assert "1 cell(s) cannot be read" in dialog.preview_title.text()
    quantity = 1 + model.fields.index("quantity")
    bad = next(r for r in range(model.rowCount())
               if model.data(model.index(r, quantity)).startswith("✕"))
    assert model.data(model.index(bad, quantity)) == "✕ drei"
    assert "not a number" in model.data(model.index(bad, quantity), Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(bad, quantity), Qt.ItemDataRole.BackgroundRole) is not None


def test_a_refused_file_lists_its_rejected_rows_then_imports_the_good_ones(qtbot, ws,
                                                                           tmp_path):
    ingram_profile(ws)
    dialog = start_import(ws, TaskRunner(inline=True), ingram_file(tmp_path))
    qtbot.addWidget(dialog)
    dialog.run_import()
    assert dialog.summary.text().startswith("✕ Nothing was imported")
    assert "Import the good rows" in dialog.summary.text()
    assert dialog.body.currentWidget() is dialog.reject_view
    assert [(r.row, r.column) for r in dialog.reject_model.rows] == [(5, "Menge")]
    assert dialog.import_button.isEnabled()
    dialog.accept_good.setChecked(True)
    dialog.run_import()
    assert (dialog.result.imported, dialog.result.rejected_rows) == (5, 1)
    assert "1 rejected rows were not imported" in dialog.summary.text()


def test_import_models_pass_qtmodeltester(qtmodeltester, ws, tmp_path):
    ingram_profile(ws)
    model = PreviewModel()
    model.set_preview(preview_with_profile(ws, "Ingram EU", ingram_file(tmp_path)))
    qtmodeltester.check(model)
    model.set_preview(None)
    qtmodeltester.check(model)
    dialog = ImportDialog(ws, TaskRunner(inline=True))
    dialog.set_path(ingram_file(tmp_path))
    dialog.run_import()
    rejects = RowTableModel(REJECT_COLUMNS, dialog.result.rejected)
    qtmodeltester.check(rejects)
    dialog.deleteLater()
