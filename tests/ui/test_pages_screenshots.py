"""A PNG of each page with realistic data, into $TRUEUP_SCREENSHOTS, to be looked at by a person.

Skipped unless the variable names a folder. Every page is built on one realistic workspace
(a ConnectWise sandbox synced over loopback, near-matching vendor data, a reconciled period
and a push with each kind of outcome) and grabbed at 1280×800.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget

from app.models.workspace import Workspace
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.sandbox.base import LoopbackServer
from app.ui.tasks import TaskRunner
from tests.ui.pages_data import build, ingram_file, ingram_profile

FOLDER = os.environ.get("TRUEUP_SCREENSHOTS")
pytestmark = pytest.mark.skipif(not FOLDER, reason="set TRUEUP_SCREENSHOTS to a folder")


def shoot(qtbot, widget: QWidget, name: str, *, page: bool = True) -> Path:
    """Pages at 1280×800; dialogs at the size they open with."""
    folder = Path(FOLDER or ".")
    folder.mkdir(parents=True, exist_ok=True)
    qtbot.addWidget(widget)
    if page:
        widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    for _ in range(3):
        QApplication.processEvents()
    path = folder / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


@pytest.fixture(params=["light", "dark"])
def theme(request, qapp, monkeypatch):
    """The app's own theme when there is one (it is built alongside these pages), in both
    palettes; everything is put back afterwards for the other tests."""
    try:
        from app.ui.theme import apply_theme
    except ImportError:  # pragma: no cover - the theme is not there yet
        yield ""
        return
    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    monkeypatch.setenv("TRUEUP_THEME", request.param)
    apply_theme(qapp)
    yield "" if request.param == "light" else "-dark"
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)


@pytest.fixture()
def built(db_path):
    today = date.today()
    sandbox = ConnectWiseSandbox.seeded(companies=8, seed=1, today=today)
    with LoopbackServer(sandbox) as server:
        ws = Workspace.open(db_path)
        try:
            yield build(ws, sandbox, server.url, today)
        finally:
            ws.close()


def test_screenshots_of_every_page(qtbot, built, tmp_path, theme):
    from app.ui.pages.mapping import MappingPage

    runner = TaskRunner(inline=True)
    mapping = MappingPage(built.ws, runner)
    shoot(qtbot, mapping, f"mapping-todo{theme}")
    mapping.tabs.setCurrentIndex(2)
    shoot(qtbot, mapping, f"mapping-subscriptions{theme}")

    from app.ui.pages.calendar import CalendarPage

    calendar = CalendarPage(built.ws, runner)
    shoot(qtbot, calendar, f"calendar{theme}")

    from app.ui.pages.push_queue import PushQueuePage

    push = PushQueuePage(built.ws, runner)
    push.view.selectRow(0)
    shoot(qtbot, push, f"push-queue{theme}")

    from app.ui.pages.activity import ActivityPage

    activity = ActivityPage(built.ws, runner)
    activity.check_alerts()
    shoot(qtbot, activity, f"activity-connections{theme}")
    activity.tabs.setCurrentIndex(1)
    shoot(qtbot, activity, f"activity-alerts{theme}")
    activity.tabs.setCurrentIndex(2)
    activity.audit.view.selectRow(0)
    shoot(qtbot, activity, f"activity-audit{theme}")

    from app.ui.pages.settings import SettingsPage

    settings = SettingsPage(built.ws, runner)
    settings.connections.view.selectRow(0)
    settings.connections.test_selected()
    shoot(qtbot, settings, f"settings-connections{theme}")
    settings.tabs.setCurrentIndex(1)
    shoot(qtbot, settings, f"settings-policies{theme}")
    settings.tabs.setCurrentIndex(3)
    shoot(qtbot, settings, f"settings-workspace{theme}")
    dialog = settings.connections.add_connection()
    shoot(qtbot, dialog, f"connection-dialog{theme}", page=False)
    dialog.close()

    from app.ui.pages.import_dialog import start_import

    ingram_profile(built.ws)
    settings.refresh()
    settings.tabs.setCurrentIndex(2)
    shoot(qtbot, settings, f"settings-profiles{theme}")
    path = ingram_file(tmp_path)
    dialog = start_import(built.ws, runner, path)
    dialog.profile.setCurrentIndex(dialog.profile.findData("Ingram EU"))
    shoot(qtbot, dialog, f"import-preview{theme}", page=False)
    dialog.accept_good.setChecked(True)
    dialog.run_import()
    shoot(qtbot, dialog, f"import-summary{theme}", page=False)


def test_screenshots_of_every_page_when_the_workspace_is_empty(qtbot, db_path, theme):
    from app.ui.pages import ActivityPage, CalendarPage, MappingPage, PushQueuePage, SettingsPage

    ws = Workspace.open(db_path)
    try:
        runner = TaskRunner(inline=True)
        for name, page in (("mapping", MappingPage), ("calendar", CalendarPage),
                           ("push-queue", PushQueuePage), ("activity", ActivityPage),
                           ("settings", SettingsPage)):
            shoot(qtbot, page(ws, runner), f"empty-{name}{theme}")
    finally:
        ws.close()
