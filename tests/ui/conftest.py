"""UI fixtures: a reconciled workspace with findings, an isolated QSettings file, an inline
task runner (deterministic, Picard's habit) and the review page on March 2026."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QSettings

from app.models.workspace import Workspace
from app.services.reconcile import reconcile_period
from app.ui.tasks import TaskRunner
from tests.ui import scenario

PERIOD = "2026-03"
TODAY = date(2026, 4, 10)  # so the previous calendar month is the reconciled one


@pytest.fixture()
def settings(tmp_path):
    return QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)


@pytest.fixture()
def review_ws(db_path):
    ws = Workspace.open(db_path)
    scenario.build(ws)
    reconcile_period(ws, PERIOD, user="ann")
    yield ws
    ws.close()


@pytest.fixture()
def inline_runner(qtbot):
    return TaskRunner(inline=True)


@pytest.fixture()
def review_page(qtbot, review_ws, inline_runner, settings):
    from app.ui.review.grid_page import ReviewPage

    page = ReviewPage(review_ws, inline_runner, settings, today=TODAY)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    qtbot.waitExposed(page)
    return page
