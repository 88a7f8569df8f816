"""Adding or editing an API connection: its URL and settings to the workspace, its secret to
the OS keyring only, and never shown again.

A missing or locked keyring is not an inline error but a dialog that says what to install:
nothing is saved until the secret can be kept safely (no plain-text fallback).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from app.services.connections import (
    ConnectionSetupError,
    ConnectionView,
    KeyringUnavailableError,
    add_connection,
    update_connection,
)
from app.services.identity import current_user
from app.ui.pages.widgets import muted_label, tone_color


@dataclass(frozen=True)
class KindForm:
    title: str
    url_hint: str
    url_required: bool
    fields: tuple[tuple[str, str, bool], ...]  # (setting, label, required)
    secret_label: str


KINDS = {
    "connectwise": KindForm("ConnectWise PSA", "https://api-na.myconnectwise.net/v4_6_release/"
                            "apis/3.0", True,
                            (("company_id", "Company id", True), ("public_key", "Public key", True),
                             ("client_id", "Client id", True)), "Private key"),
    "autotask": KindForm("Autotask", "leave empty to look up your zone", False,
                         (("username", "API user name", True),
                          ("integration_code", "Tracking identifier", True)), "API secret"),
    "pax8": KindForm("Pax8", "https://api.pax8.com/v1", True,
                     (("client_id", "Client id", True), ("token_url", "Token URL (optional)",
                                                         False)), "Client secret"),
}


def show_keyring_help(parent: QWidget | None, message: str) -> QMessageBox:
    """The dialog for a missing keyring: the service's message already names what to install."""
    box = QMessageBox(QMessageBox.Icon.Critical, "No secure place for the secret",
                      "TrueUp keeps API secrets only in your operating system's keyring, and "
                      "no working keyring was found. Nothing was saved.", parent=parent)
    box.setInformativeText(message)
    box.setObjectName("keyringMissing")
    box.open()
    return box


class ConnectionDialog(QDialog):
    """`saved` holds the stored connection after a successful save."""

    def __init__(self, workspace, parent: QWidget | None = None, *,
                 existing: ConnectionView | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.existing = workspace, existing
        self.saved: ConnectionView | None = None
        self.setWindowTitle("Edit connection" if existing else "Add connection")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 20, 20, 16)
        layout.setSpacing(12)
        layout.addWidget(muted_label(
            "The secret goes to your operating system's keyring and is never shown again; "
            "the other fields are stored in the workspace."))
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(16)
        self.form.setVerticalSpacing(10)
        self.kind = QComboBox()
        for key, form in KINDS.items():
            self.kind.addItem(form.title, key)
        self.name = QLineEdit()
        self.url = QLineEdit()
        self.form.addRow("Kind", self.kind)
        self.form.addRow("Name", self.name)
        self.form.addRow("API URL", self.url)
        self.field_edits: dict[str, QLineEdit] = {}
        self.secret = QLineEdit()
        layout.addLayout(self.form)
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
        self.kind.currentIndexChanged.connect(lambda _i: self._build_fields())
        if existing is not None:
            self.kind.setCurrentIndex(max(0, self.kind.findData(existing.kind)))
            self.kind.setEnabled(False)
            self.name.setText(existing.name)
            self.name.setEnabled(False)  # the name keys the keyring entry
            self.url.setText(existing.base_url or "")
        self._build_fields()

    def _build_fields(self) -> None:
        while self.form.rowCount() > 3:
            self.form.removeRow(3)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        form = KINDS[self.kind.currentData()]
        self.url.setPlaceholderText(form.url_hint)
        if not self.existing and not self.name.text().strip():
            self.name.setPlaceholderText(form.title)
        self.field_edits = {}
        for key, label, _required in form.fields:
            edit = QLineEdit()
            if self.existing is not None:
                edit.setText(str(self.existing.settings.get(key, "")))
            self.field_edits[key] = edit
            self.form.addRow(label, edit)
        self.secret.setPlaceholderText("Stored in the keyring — type a new one to replace it"
                                       if self.existing else "")
        self.form.addRow(form.secret_label, self.secret)

    def show_error(self, text: str) -> None:
        self.error.setText(f"✕ {text}")
        self.error.show()

    def values(self) -> tuple[str, str | None, dict[str, str], str | None]:
        form = KINDS[self.kind.currentData()]
        name = self.name.text().strip() or self.name.placeholderText()
        settings = {k: e.text().strip() for k, e in self.field_edits.items() if e.text().strip()}
        for key, label, required in form.fields:
            if required and key not in settings:
                raise ConnectionSetupError(f"{label} is required.")
        url = self.url.text().strip() or None
        if form.url_required and not url:
            raise ConnectionSetupError("The API URL is required.")
        if url and not url.startswith(("https://", "http://")):
            raise ConnectionSetupError("The API URL starts with https://")
        secret = self.secret.text() or None
        if self.existing is None and not secret:
            raise ConnectionSetupError(f"The {form.secret_label.lower()} is required.")
        return name, url, settings, secret

    def save(self) -> None:
        try:
            name, url, settings, secret = self.values()
            user = current_user(self.workspace)
            if self.existing is None:
                self.saved = add_connection(self.workspace, name=name,
                                            kind=self.kind.currentData(), base_url=url,
                                            settings=settings, secret=secret, user=user)
            else:
                self.saved = update_connection(self.workspace, self.existing.name, base_url=url,
                                               settings=settings, secret=secret, user=user)
        except KeyringUnavailableError as exc:
            self.secret.clear()
            show_keyring_help(self, str(exc))
            return
        except ConnectionSetupError as exc:
            self.show_error(str(exc))
            return
        self.secret.clear()
        self.accept()
