"""The invoice calendar: open a day and follow its links, filter by kind and customer, move
between months, keep a crowded day readable, and show the next 30 days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl

from app.models.workspace import Workspace
from app.services.calendar import CalendarEvent, EventKind
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.sandbox.base import LoopbackServer
from app.ui.pages.calendar import CalendarPage
from app.ui.pages.calendar_grid import MonthGrid
from app.ui.tasks import TaskRunner
from tests.ui.pages_data import build

TODAY = date.today()


@pytest.fixture()
def ws(db_path):
    sandbox = ConnectWiseSandbox.seeded(companies=8, seed=1, today=TODAY)
    with LoopbackServer(sandbox) as server:
        workspace = Workspace.open(db_path)
        build(workspace, sandbox, server.url, TODAY, push=False)
        yield workspace
        workspace.close()


@pytest.fixture()
def page(qtbot, ws):
    widget = CalendarPage(ws, TaskRunner(inline=True), today=lambda: TODAY)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _click_day(qtbot, grid: MonthGrid, day: date) -> None:
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.cell_rect(day).center())


def test_open_a_calendar_day_and_follow_its_links(qtbot, page):
    window = next(e for e in page.visible_events() if e.kind == EventKind.NCE_WINDOW_CLOSES)
    page.go_to(window.day)
    with qtbot.waitSignal(page.grid.day_clicked) as clicked:
        _click_day(qtbot, page.grid, window.day)
    assert clicked.args == [window.day]
    assert page.day_title.text().endswith(f"{window.day:%d %B %Y}")
    shown = page.day_view.toPlainText()
    assert window.title in shown and window.customer in shown
    html = page.day_view.toHtml()
    assert "customer:" in html and "finding:" in html  # a live finding for that subscription
    with qtbot.waitSignal(page.open_customer) as customer:
        page.follow_link(QUrl(f"customer:{window.customer.replace(' ', '%20')}"))
    assert customer.args == [window.customer]
    finding = int(html.split("finding:")[1].split("'")[0].split('"')[0])
    with qtbot.waitSignal(page.open_finding) as opened:
        page.follow_link(QUrl(f"finding:{finding}"))
    assert opened.args == [finding]


def test_today_is_highlighted_and_opens_first(page):
    assert page.grid.today == TODAY and page.grid.selected == TODAY
    assert page.day_title.text().startswith("Today · ")
    assert page.month_label.text() == f"{TODAY:%B %Y}"


def test_months_move_and_the_agenda_stays_on_the_next_30_days(page):
    agenda = page.agenda_view.toPlainText()
    page.next_button.click()
    later = (TODAY.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert page.month_label.text() == f"{later:%B %Y}"
    assert page.grid.selected == later  # not this month: its first day is shown
    assert page.agenda_view.toPlainText() == agenda
    page.today_button.click()
    assert page.month_label.text() == f"{TODAY:%B %Y}" and page.grid.selected == TODAY


def test_filter_by_kind_and_by_customer(page):
    kinds = {str(e.kind) for e in page.visible_events()}
    assert {"customer_invoice_run", "reconciliation_deadline", "nce_window_closes"} <= kinds
    page.kind_boxes["customer_invoice_run"].setChecked(False)
    assert "customer_invoice_run" not in {str(e.kind) for e in page.visible_events()}
    page.customer.setCurrentText("Fjord Architects")
    shown = page.visible_events()
    assert shown and all(e.customer == "Fjord Architects" for e in shown)
    assert "Acme Dental" not in page.agenda_view.toPlainText()
    page.customer.setCurrentText("All customers")
    assert any(e.customer != "Fjord Architects" for e in page.visible_events())


def test_a_crowded_day_shows_the_first_events_and_how_many_more(qtbot):
    grid = MonthGrid()
    qtbot.addWidget(grid)
    grid.resize(840, 620)
    grid.set_month(TODAY, TODAY)
    events = [CalendarEvent(TODAY, EventKind.CUSTOMER_INVOICE_RUN, f"Invoice {n}",
                            f"Customer {n:02}") for n in range(30)]
    grid.set_events(events)
    grid.show()
    qtbot.waitExposed(grid)
    image = grid.grab().toImage()
    assert not image.isNull()
    assert len(grid.by_day[TODAY]) == 30
    with qtbot.waitSignal(grid.day_clicked) as clicked:
        qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert clicked.args == [TODAY + timedelta(days=1)]
    assert grid.day_at(QPoint(-5, -5)) is None


def test_an_empty_workspace_says_what_to_do(qtbot, db_path):
    ws = Workspace.open(db_path)
    try:
        page = CalendarPage(ws, TaskRunner(inline=True), today=lambda: date(2026, 3, 15))
        qtbot.addWidget(page)
        kinds = {str(e.kind) for e in page.visible_events()}
        assert kinds == {"reconciliation_deadline"}  # the only event without any data
        assert "Nothing due" in page.day_view.toPlainText()
    finally:
        ws.close()
