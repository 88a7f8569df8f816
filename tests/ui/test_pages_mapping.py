"""The Mapping screen on a realistic workspace: accept and reject suggestions, map by hand,
search, overrides, unmap — and every table model it shows passes qtmodeltester."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from app.models.workspace import Workspace
from app.services import mapping as svc
from app.services.mapping_targets import psa_companies
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.sandbox.base import LoopbackServer
from app.ui.pages import mapping_models as mm
from app.ui.pages.mapping import MappingPage
from app.ui.pages.mapping_dialogs import OverrideDialog, TargetPicker
from app.ui.table import RowTableModel
from app.ui.tasks import TaskRunner
from tests.ui.pages_data import build


@pytest.fixture()
def ws(db_path):
    today = date.today()
    sandbox = ConnectWiseSandbox.seeded(companies=8, seed=1, today=today)
    with LoopbackServer(sandbox) as server:
        workspace = Workspace.open(db_path)
        build(workspace, sandbox, server.url, today, push=False)
        yield workspace
        workspace.close()


@pytest.fixture()
def page(qtbot, ws):
    widget = MappingPage(ws, TaskRunner(inline=True))
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    return widget


def _select(tab, predicate) -> object:  # noqa: ANN001
    for n, row in enumerate(tab.model.rows):
        if predicate(row):
            tab.view.selectRow(n)
            return row
    raise AssertionError("no such row")


def test_the_queue_and_the_suggestions_come_first(page):
    assert page.tabs.currentIndex() == 0 and page.tabs.tabText(0).startswith("To do (")
    kinds = [r.kind for r in page.queue_tab.model.rows]
    assert kinds[0] == "customer"  # the service's order: customers, products, subscriptions
    names = {s.vendor_name for s in page.suggestion_tab.model.rows}
    assert names == {"Delta Orthopaedics", "Harbor Veterinary Clinic",
                     "Exchange Online Plan 1 (NCE)"}
    assert not page.accept_button.isEnabled()  # nothing selected yet


def test_accept_a_suggestion(qtbot, page, ws):
    _select(page.suggestion_tab, lambda s: s.vendor_name == "Delta Orthopaedics")
    assert page.accept_button.isEnabled()
    qtbot.mouseClick(page.accept_button, Qt.MouseButton.LeftButton)
    overview = svc.list_mappings(ws)
    mapped = {c.vendor_customer_name: c for c in overview.customers}
    assert mapped["Delta Orthopaedics"].psa_company_name == "Delta Orthopedics"
    assert mapped["Delta Orthopaedics"].method == "suggestion"
    assert "Delta Orthopaedics" not in {s.vendor_name for s in page.suggestion_tab.model.rows}
    assert "Delta Orthopaedics" not in {q.name for q in page.queue_tab.model.rows
                                        if q.kind == "customer"}
    assert page.status.text() == "Mapped Delta Orthopaedics → Delta Orthopedics."
    assert page.customers_tab.model.rowCount() == len(overview.customers)


def test_selecting_a_queue_item_selects_its_suggestion(page):
    _select(page.queue_tab, lambda q: q.name == "Harbor Veterinary Clinic")
    assert page.suggestion_tab.selected().vendor_name == "Harbor Veterinary Clinic"


def test_reject_a_suggestion_for_good(page, ws):
    _select(page.suggestion_tab, lambda s: s.vendor_name == "Harbor Veterinary Clinic")
    page.reject_button.click()
    assert [s.vendor_name for s in svc.list_suggestions(ws, "rejected")] == [
        "Harbor Veterinary Clinic"]
    item = next(q for q in page.queue_tab.model.rows if q.name == "Harbor Veterinary Clinic")
    assert item.reason == "every suggestion was rejected; map by hand"


def test_map_by_hand_through_the_picker(qtbot, page, ws):
    item = _select(page.queue_tab, lambda q: q.name == "Northwind Traders")
    picker = TargetPicker("Map customer", "Choose", psa_companies(ws), page)
    qtbot.addWidget(picker)
    picker.search.setText("granite")
    assert picker.list.count() == 1
    picker.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert picker.chosen.name == "Granite Credit Union"
    page.map_item(item, picker.chosen)
    mapped = {c.vendor_customer_name: c.psa_company_name for c in svc.list_mappings(ws).customers}
    assert mapped["Northwind Traders"] == "Granite Credit Union"


def test_search_filters_every_tab_and_says_when_nothing_matches(page):
    page.search.setText("acme")
    assert all("acme" in mm.search_text(r) for r in page.queue_tab.model.rows)
    assert page.customers_tab.model.rowCount() == 1
    page.search.setText("no such thing")
    assert page.customers_tab.empty.is_empty
    assert "Nothing matches" in page.customers_tab.empty.message.text()
    page.search.clear()
    assert not page.customers_tab.empty.is_empty


def test_unmap_a_customer_after_confirming(page, ws, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.tabs.setCurrentWidget(page.customers_tab)
    _select(page.customers_tab, lambda c: c.vendor_customer_name == "Acme Dental")
    page.unmap_selected("customer")
    assert "Acme Dental" not in {c.vendor_customer_name for c in svc.list_mappings(ws).customers}
    assert page.status.text() == "Unmapped Acme Dental."


def test_override_dialog_validates_then_saves(qtbot, ws):
    saved = []
    dialog = OverrideDialog(["M365-BP", "O365-E3"], [], "USD",
                            lambda *args: saved.append(args) or svc.set_override(
                                ws, "ann", args[0], args[1], args[2], args[3]))
    qtbot.addWidget(dialog)
    dialog.sku.setCurrentText("O365-E3")
    dialog.price.setText("twelve")
    dialog._save()
    assert dialog.error.isVisibleTo(dialog) and "must be a number" in dialog.error.text()
    dialog.price.setText("-1")
    dialog._save()
    assert "non-negative" in dialog.error.text()
    dialog.price.setText("1,234.50")
    dialog._save()
    assert saved[-1][:2] == ("O365-E3", Decimal("1234.50"))
    rows = {o.sku: o for o in svc.list_mappings(ws).overrides}
    assert rows["O365-E3"].unit_price == Decimal("1234.50")


def test_every_mapping_table_model_passes_qtmodeltester(qtmodeltester, ws):
    overview = svc.list_mappings(ws)
    names = {(c.vendor_connection, c.vendor_customer_id): c.vendor_customer_name
             for c in overview.customers}
    for columns, rows in ((mm.QUEUE_COLUMNS, overview.unmapped),
                          (mm.SUGGESTION_COLUMNS, svc.list_suggestions(ws)),
                          (mm.CUSTOMER_COLUMNS, overview.customers),
                          (mm.subscription_columns(names), overview.subscriptions),
                          (mm.PRODUCT_COLUMNS, overview.products),
                          (mm.AGREEMENT_COLUMNS, overview.agreements),
                          (mm.override_columns("USD"), overview.overrides)):
        assert rows, columns[0].title
        model = RowTableModel(columns, rows)
        qtmodeltester.check(model)
        for column in range(model.columnCount()):
            model.sort(column, Qt.SortOrder.DescendingOrder)
        qtmodeltester.check(model)
