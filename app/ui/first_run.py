"""The first screen of a workspace without any connection: three ways to start, explained.

The buttons only emit signals; the main window routes them to the screens that do the work
(Settings for a connection, the import screen, the demo workspace).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui import theme
from app.ui.widgets import Card, muted

CHOICES = (
    ("connect", "connect", "Connect your systems",
     "Add a vendor (Pax8 or Microsoft Partner Center) and your PSA (ConnectWise PSA or "
     "Autotask). Secrets are kept in the system keyring, never in the workspace file.",
     "Add a connection…"),
    ("import", "import", "Import a file",
     "Start from a Partner Center reconciliation file or any vendor CSV or Excel export. "
     "No API keys needed.", "Import a file…"),
    ("demo", "demo", "Explore the demo",
     "Open a sample workspace with realistic customers, subscriptions and findings. Nothing "
     "is sent anywhere.", "Open the demo"),
)


class FirstRunPage(QWidget):
    connect_requested = Signal()
    import_requested = Signal()
    demo_requested = Signal()

    def __init__(self, location: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 40, 48, 32)
        layout.setSpacing(12)
        layout.addStretch(1)
        logo = QLabel()
        logo.setPixmap(theme.icon("trueup", "#0f5fa8").pixmap(56, 56))
        layout.addWidget(logo, 0, Qt.AlignmentFlag.AlignHCenter)
        title = QLabel("Welcome to TrueUp")
        title.setObjectName("pageTitle")
        layout.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        intro = muted("TrueUp compares what your distributors bill you with what your PSA bills "
                      "your customers, month by month, and shows the money at stake in every "
                      "difference. Choose how to begin:")
        intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
        intro.setFixedWidth(640)
        layout.addWidget(intro, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        row = QHBoxLayout()
        row.setSpacing(16)
        row.addStretch(1)
        self.buttons: dict[str, QPushButton] = {}
        signals = {"connect": self.connect_requested, "import": self.import_requested,
                   "demo": self.demo_requested}
        for n, (key, icon, heading, text, action) in enumerate(CHOICES):
            card = Card()
            card.setFixedWidth(260)
            badge = QLabel()
            badge.setPixmap(theme.icon(icon, theme.colors()["highlight"]).pixmap(32, 32))
            card.body.addWidget(badge)
            head = QLabel(heading)
            head.setObjectName("sectionTitle")
            card.body.addWidget(head)
            body = muted(text)
            body.setMinimumHeight(body.fontMetrics().lineSpacing() * 5)
            body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            card.body.addWidget(body, 1)
            button = QPushButton(action)
            button.setMinimumHeight(32)
            if n == 0:
                button.setObjectName("primary")
            button.clicked.connect(signals[key])
            self.buttons[key] = button
            card.body.addWidget(button)
            row.addWidget(card)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addSpacing(12)
        self.location = muted(f"Workspace: {location}\nAnother workspace can be opened or "
                              "created from the File menu.")
        self.location.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.location.setFixedWidth(812)
        layout.addWidget(self.location, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
