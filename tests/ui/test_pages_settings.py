"""Settings: a connection saved with its secret in the (in-memory) keyring and never shown
again, the missing-keyring dialog, a connection test, policies validated inline, the user
name, and import profiles with their preview."""

from __future__ import annotations

from datetime import date

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app.models.workspace import Workspace
from app.services.connections import get_connection, list_connections
from app.services.identity import current_user
from app.services.imports import list_profiles
from app.services.policies import show_policy
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.sandbox.base import LoopbackServer
from app.ui.pages.connection_dialog import ConnectionDialog
from app.ui.pages.settings import CONNECTION_COLUMNS, SettingsPage
from app.ui.pages.settings_profiles import PROFILE_COLUMNS, ProfileDialog
from app.ui.table import RowTableModel
from app.ui.tasks import TaskRunner
from tests.ui.pages_data import connect_cw, ingram_profile


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    yield workspace
    workspace.close()


@pytest.fixture()
def page(qtbot, ws):
    widget = SettingsPage(ws, TaskRunner(inline=True))
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    return widget


def _fill_cw(dialog: ConnectionDialog, secret: str = "pr1vate-key") -> None:
    dialog.kind.setCurrentIndex(dialog.kind.findData("connectwise"))
    dialog.name.setText("ConnectWise")
    dialog.url.setText("https://cw.example.com/v4_6_release/apis/3.0")
    dialog.field_edits["company_id"].setText("acme")
    dialog.field_edits["public_key"].setText("pub")
    dialog.field_edits["client_id"].setText("client-1")
    dialog.secret.setText(secret)


def _message_box(name: str) -> QMessageBox | None:
    return next((w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QMessageBox) and w.objectName() == name and w.isVisible()),
                None)


def test_save_a_connection_into_the_keyring(qtbot, page, ws, memory_keyring):
    assert page.connections.empty.is_empty
    assert "No connections yet" in page.connections.empty.message.text()
    dialog = page.add_connection()
    _fill_cw(dialog)
    dialog.save()
    assert dialog.result() == ConnectionDialog.DialogCode.Accepted
    view = get_connection(ws, "ConnectWise")
    assert view.settings == {"company_id": "acme", "public_key": "pub", "client_id": "client-1"}
    assert "pr1vate-key" in memory_keyring.store.values()
    assert "pr1vate-key" not in repr(view) and dialog.secret.text() == ""
    assert page.connections.model.rowCount() == 1 and not page.connections.empty.is_empty
    assert page.connections.status.text().startswith("Saved ConnectWise")

    page.connections.view.selectRow(0)
    edit = page.connections.edit_selected()
    assert edit.secret.text() == "" and "keyring" in edit.secret.placeholderText()
    assert not edit.name.isEnabled()
    edit.field_edits["client_id"].setText("client-2")
    edit.save()  # no new secret typed: the stored one is kept
    assert get_connection(ws, "ConnectWise").settings["client_id"] == "client-2"
    assert list(memory_keyring.store.values()) == ["pr1vate-key"]


def test_a_connection_needs_its_fields_and_says_which(qtbot, page, ws):
    dialog = page.add_connection()
    _fill_cw(dialog, secret="")
    dialog.field_edits["public_key"].clear()
    dialog.save()
    assert dialog.error.text() == "✕ Public key is required."
    dialog.field_edits["public_key"].setText("pub")
    dialog.save()
    assert "private key is required" in dialog.error.text()
    assert list_connections(ws) == []


def test_a_missing_keyring_explains_what_to_install(qtbot, page, ws):
    keyring.set_keyring(fail.Keyring())
    dialog = page.add_connection()
    _fill_cw(dialog)
    dialog.save()
    box = _message_box("keyringMissing")
    assert box is not None
    assert "Nothing was saved" in box.text()
    assert "gnome-keyring" in box.informativeText()
    assert list_connections(ws) == [] and dialog.secret.text() == ""
    box.close()


def test_test_a_connection_against_the_sandbox(qtbot, page, ws):
    sandbox = ConnectWiseSandbox.seeded(companies=2, seed=1, today=date.today())
    with LoopbackServer(sandbox) as server:
        connect_cw(ws, sandbox, server.url)
        page.refresh()
        page.connections.view.selectRow(0)
        qtbot.mouseClick(page.connections.test_button, Qt.MouseButton.LeftButton)
        assert page.connections.status.text().startswith("✓ Connected to ConnectWise")
        keyring.get_keyring().store.clear()  # the secret is gone from the keyring
        page.connections.test_selected()
        assert page.connections.status.text() == (
            "✕ No secret is stored for connection 'ConnectWise'; edit the connection and "
            "enter it again.")
        sandbox.inject("500", path="system/info", times=5)
        connect_cw(ws, sandbox, server.url, name="CW copy")
        page.refresh()
        page.connections.view.selectRow(0)
        page.connections.test_selected()
        assert page.connections.status.text().startswith("✕ CW copy did not answer")


def test_policies_refuse_a_bad_value_inline(qtbot, page, ws):
    page.tabs.setCurrentWidget(page.policies)
    tolerance = page.policies.rows["tolerance"]
    tolerance.editor.setCurrentText("a lot")
    tolerance.commit()
    assert tolerance.error.isVisibleTo(page.policies) and "Kept 0.01" in tolerance.error.text()
    assert {p.key: p.value for p in show_policy(ws)}["tolerance"] == "0.01"
    tolerance.editor.setCurrentText("0.50")
    tolerance.commit()
    assert not tolerance.error.isVisibleTo(page.policies)
    assert {p.key: p.value for p in show_policy(ws)}["tolerance"] == "0.50"
    page.policies.rows["timing"].editor.setCurrentText("arrears")  # a list: saved on choice
    assert {p.key: p.value for p in show_policy(ws)}["timing"] == "arrears"
    assert not page.policies.rows["internal"].editor.isEnabled()  # per customer only


def test_the_user_name_recorded_in_the_audit_log(page, ws):
    page.tabs.setCurrentWidget(page.general)
    page.general.user.setText("Dana Bookkeeper")
    page.general.currency.setText("eu")
    assert page.general.save() is False
    assert "three-letter" in page.general.error.text()
    page.general.currency.setText("eur")
    assert page.general.save() is True
    assert current_user(ws) == "Dana Bookkeeper"


def test_create_a_profile_from_a_sample_header(qtbot, page, ws, tmp_path):
    dialog = ProfileDialog(ws, page)
    qtbot.addWidget(dialog)
    dialog.name.setText("Ingram EU")
    dialog.vendor.setText("Ingram Micro")
    dialog.save()
    assert "customer_id needs a column or a constant" in dialog.error.text()
    dialog.delimiter.setCurrentText(";")
    dialog.use_header(["Customer Id", "SKU", "Quantity", "Unit cost", "Kunde"])
    assert dialog.columns["customer_id"].currentText() == "Customer Id"
    assert dialog.columns["quantity"].currentText() == "Quantity"
    dialog.currency.setText("eur")
    dialog.save()
    [profile] = list_profiles(ws)
    assert profile.settings.constants == {"currency": "EUR"}
    assert profile.settings.columns["sku"] == "SKU" and profile.settings.delimiter == ";"
    page.profiles.refresh()
    assert page.profiles.model.rowCount() == 1


def test_settings_models_pass_qtmodeltester(qtmodeltester, ws):
    connect_cw(ws, ConnectWiseSandbox.seeded(companies=1, seed=1), "http://127.0.0.1:9")
    ingram_profile(ws)
    for columns, rows in ((CONNECTION_COLUMNS, list_connections(ws)),
                          (PROFILE_COLUMNS, list_profiles(ws))):
        model = RowTableModel(columns, rows)
        qtmodeltester.check(model)
        model.sort(0, Qt.SortOrder.DescendingOrder)
        qtmodeltester.check(model)
