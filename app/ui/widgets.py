"""Small building blocks every screen uses, so spacing and wording look the same everywhere:
a page title, a card, an inline message banner and an empty state that says what to do."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme


def page_title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("pageTitle")
    return label


def section_title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


def muted(text: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setObjectName("muted")
    label.setWordWrap(wrap)
    return label


class Card(QFrame):
    """A bordered panel with a title and a body layout."""

    def __init__(self, title: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(16, 14, 16, 14)
        self.body.setSpacing(theme.SPACING)
        if title:
            self.body.addWidget(section_title(title))


class Banner(QFrame):
    """An inline message above the content (never a modal): an icon, a headline, the detail
    and an optional action button. Errors stay until dismissed or acted upon."""

    action_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(10)
        self.icon = QLabel()
        self.icon.setFixedSize(20, 20)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.text, 1)
        self.action = QPushButton()
        self.action.clicked.connect(self.action_clicked)
        layout.addWidget(self.action, 0, Qt.AlignmentFlag.AlignTop)
        self.close_button = QPushButton("Dismiss")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.level = "info"
        self.hide()

    def show_message(self, level: str, headline: str, detail: str = "",
                     action: str | None = None) -> None:
        self.level = level
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self.icon.setPixmap(theme.level_icon(level).pixmap(20, 20))
        body = f"<b>{_escape(headline)}</b>"
        if detail:
            body += f"<br>{_escape(detail)}"
        self.text.setText(body)
        self.action.setVisible(action is not None)
        self.action.setText(action or "")
        self.show()

    def message(self) -> str:
        return self.text.text()


class EmptyState(QWidget):
    """A centred explanation of why there is nothing here and what to do about it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        layout.addStretch(1)
        self.icon = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.icon)
        self.headline = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.headline.setObjectName("sectionTitle")
        self.headline.setWordWrap(True)
        layout.addWidget(self.headline)
        self.detail = muted()
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setMaximumWidth(520)
        layout.addWidget(self.detail, 0, Qt.AlignmentFlag.AlignHCenter)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        self.buttons.addStretch(1)
        layout.addLayout(self.buttons)
        layout.addStretch(2)

    def set_content(self, icon: str, headline: str, detail: str,
                    actions: Sequence[tuple[str, Callable[[], None]]] = ()) -> None:
        self.icon.setPixmap(theme.icon(icon, theme.colors()["muted"]).pixmap(40, 40))
        self.headline.setText(headline)
        self.detail.setText(detail)
        while self.buttons.count() > 2:
            item = self.buttons.takeAt(1)
            if item.widget():
                item.widget().deleteLater()
        for n, (text, slot) in enumerate(actions):
            button = QPushButton(text)
            if n == 0:
                button.setObjectName("primary")
            button.clicked.connect(slot)
            self.buttons.insertWidget(1 + n, button)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
