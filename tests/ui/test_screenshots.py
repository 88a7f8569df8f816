"""Screenshots of the dashboard (empty and with data), the first-run screen and the review
grid with a finding explained, saved as PNGs into $TRUEUP_SCREENSHOTS for a person to judge.
TRUEUP_THEME=dark renders the dark palette."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.models import entities as m
from app.models.workspace import Workspace
from app.ui.main_window import MainWindow
from app.ui.theme import apply_theme
from tests.ui.conftest import TODAY

FOLDER = os.environ.get("TRUEUP_SCREENSHOTS")
pytestmark = pytest.mark.skipif(not FOLDER, reason="set TRUEUP_SCREENSHOTS to a folder")
SIZE = (1280, 800)


def _window(qtbot, ws, settings, runner) -> MainWindow:
    apply_theme(QApplication.instance())
    window = MainWindow(ws, settings, runner=runner, watch_network=False, today=TODAY)
    qtbot.addWidget(window)
    window.resize(*SIZE)
    window.show()
    qtbot.waitExposed(window)
    return window


def _save(qtbot, widget, name: str) -> Path:
    qtbot.wait(50)
    suffix = "-dark" if os.environ.get("TRUEUP_THEME") == "dark" else ""
    path = Path(FOLDER) / f"{name}{suffix}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(path))
    return path


def test_first_run(qtbot, db_path, settings, inline_runner):
    ws = Workspace.open(db_path)
    try:
        window = _window(qtbot, ws, settings, inline_runner)
        assert window.home.currentWidget() is window.first_run
        _save(qtbot, window, "first-run")
    finally:
        ws.close()


def test_dashboard_empty(qtbot, db_path, settings, inline_runner):
    ws = Workspace.open(db_path)
    try:
        with ws.begin() as s:
            s.add_all([m.Connection(name="Pax8", kind="pax8", side="vendor"),
                       m.Connection(name="ConnectWise", kind="connectwise", side="psa")])
        window = _window(qtbot, ws, settings, inline_runner)
        assert window.home.currentWidget() is window.dashboard
        _save(qtbot, window, "dashboard-empty")
    finally:
        ws.close()


def test_dashboard_with_data(qtbot, review_ws, settings, inline_runner):
    window = _window(qtbot, review_ws, settings, inline_runner)
    _save(qtbot, window, "dashboard")


def test_review_grid_with_detail(qtbot, review_ws, settings, inline_runner):
    settings.setValue("review/period", "2026-03")
    window = _window(qtbot, review_ws, settings, inline_runner)
    window.go_to("Reconciliation")
    page = window.review
    first = page.model.findings()[1]
    page.select_finding(first.id)
    qtbot.waitUntil(lambda: page.detail.history.text() != "")
    _save(qtbot, window, "review")
    page.filters.grouped.setChecked(True)
    page.decide("approve")
    page.select_finding(first.id)
    qtbot.waitUntil(lambda: "Approved" in page.detail.history.text())
    _save(qtbot, window, "review-grouped")
