"""Dashboard: what this workspace holds, and what to do next when it holds nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from app.services.workspace import Workspace, describe_workspace

LABELS = {
    "connections": "Connections",
    "vendor_customers": "Vendor customers",
    "vendor_subscriptions": "Vendor subscriptions",
    "charge_lines": "Vendor charge lines",
    "psa_companies": "PSA companies",
    "psa_billing_lines": "PSA billing lines",
    "findings": "Findings",
    "push_intents": "Push intents",
}


class DashboardPage(QWidget):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 28)
        layout.setSpacing(16)
        title = QLabel("Dashboard")
        title.setObjectName("pageTitle")
        font = title.font()
        font.setPointSize(font.pointSize() + 8)
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.form.setHorizontalSpacing(32)
        self.values: dict[str, QLabel] = {}
        for key, text in LABELS.items():
            value = QLabel()
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.values[key] = value
            self.form.addRow(text, value)
        layout.addLayout(self.form)
        layout.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        info = describe_workspace(self.workspace)
        for key, label in self.values.items():
            label.setText(f"{info.counts.get(key, 0):,}")
        if info.counts.get("connections", 0) == 0 and info.counts.get("charge_lines", 0) == 0:
            self.hint.setText(
                "This workspace is empty. Add a vendor and a PSA connection, or import a "
                "Partner Center reconciliation file, to start reconciling a billing period."
            )
        else:
            self.hint.setText(f"Workspace: {info.location}")
