"""How the app looks: a light and a dark palette that follow the system, one small style
sheet, the icons, and the status colours.

Status colours come from the Okabe-Ito set (distinguishable with the common colour-vision
deficiencies) and every status also carries an icon shape and a word, so colour is never the
only signal. Icons are single-colour SVGs drawn with `currentColor`, recoloured here from the
palette, so one file serves both palettes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons"
SPACING = 8  # the unit: margins and gaps are multiples of it
PAGE_MARGINS = (20, 16, 20, 12)


@dataclass(frozen=True)
class Look:
    """A status or a level as a person sees it: a word, an icon shape and a colour."""

    label: str
    icon: str
    light: str
    dark: str

    def color(self) -> QColor:
        return QColor(self.dark if is_dark() else self.light)


STATUS = {
    "open": Look("Open", "status-open", "#4f5b6b", "#aeb7c4"),
    "approved": Look("Approved", "status-approved", "#007a5a", "#3fcf9f"),
    "rejected": Look("Rejected", "status-rejected", "#b34700", "#ff9152"),
    "deferred": Look("Deferred", "status-deferred", "#8a5a00", "#f2b33d"),
    "pushed": Look("Pushed", "status-pushed", "#005fa8", "#6cb8f5"),
    "failed": Look("Push failed", "status-failed", "#a8005a", "#ff7ab8"),
}
LEVEL = {
    "info": Look("Info", "info", "#005fa8", "#6cb8f5"),
    "warning": Look("Warning", "warning", "#8a5a00", "#f2b33d"),
    "error": Look("Error", "status-failed", "#b3261e", "#ff8a80"),
    "success": Look("Done", "status-approved", "#007a5a", "#3fcf9f"),
}
VENDOR_SERIES = ("#0072b2", "#56b4e9")  # vendor line: blue (light, dark palette)
PSA_SERIES = ("#d55e00", "#e69f00")  # PSA line: vermillion / orange, drawn dashed too

LIGHT = {
    "window": "#f4f5f7", "text": "#1d2330", "base": "#ffffff", "alt": "#f7f8fa",
    "button": "#eceef2", "highlight": "#1f6fd1", "on_highlight": "#ffffff",
    "mid": "#c9ced6", "midlight": "#e3e6eb", "dark": "#9aa2ad", "muted": "#5f6876",
    "link": "#1f5fbf", "sidebar": "#e9ecf1", "card": "#ffffff", "tint": "#eef3fb",
}
DARK = {
    "window": "#1f2228", "text": "#e6e8eb", "base": "#17191d", "alt": "#1c1f24",
    "button": "#2b2f36", "highlight": "#3b7ddd", "on_highlight": "#ffffff",
    "mid": "#3a3f48", "midlight": "#2f333a", "dark": "#101214", "muted": "#9aa3b0",
    "link": "#7ab8f5", "sidebar": "#191b20", "card": "#23262c", "tint": "#243040",
}


def wants_dark() -> bool:
    """TRUEUP_THEME=dark|light overrides; otherwise the system's colour scheme decides."""
    override = os.environ.get("TRUEUP_THEME", "").lower()
    if override in {"dark", "light"}:
        return override == "dark"
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def colors() -> dict[str, str]:
    return DARK if is_dark() else LIGHT


def make_palette(dark: bool) -> QPalette:
    c = DARK if dark else LIGHT
    p = QPalette()
    role = QPalette.ColorRole
    for r, key in ((role.Window, "window"), (role.WindowText, "text"), (role.Base, "base"),
                   (role.AlternateBase, "alt"), (role.Text, "text"), (role.Button, "button"),
                   (role.ButtonText, "text"), (role.Highlight, "highlight"),
                   (role.HighlightedText, "on_highlight"), (role.Mid, "mid"),
                   (role.Midlight, "midlight"), (role.Dark, "dark"), (role.Link, "link"),
                   (role.ToolTipBase, "card"), (role.ToolTipText, "text"),
                   (role.PlaceholderText, "muted"), (role.Light, "base"),
                   (role.Shadow, "dark"), (role.BrightText, "on_highlight")):
        p.setColor(r, QColor(c[key]))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(disabled, r, QColor(c["dark"] if not dark else "#6b7280"))
    p.setColor(disabled, role.Highlight, QColor(c["mid"]))
    return p


def style_sheet(dark: bool) -> str:
    c = DARK if dark else LIGHT
    return f"""
QListWidget#navigation {{
    background: {c['sidebar']}; border: none; border-right: 1px solid {c['mid']};
    padding: 12px 8px; outline: 0;
}}
QListWidget#navigation::item {{ padding: 8px 10px; margin: 1px 0; border-radius: 6px; }}
QListWidget#navigation::item:selected {{
    background: {c['highlight']}; color: {c['on_highlight']};
}}
QListWidget#navigation::item:hover:!selected {{ background: {c['midlight']}; }}
QLabel#pageTitle {{ font-size: 17pt; font-weight: 600; }}
QLabel#sectionTitle {{ font-weight: 600; }}
QLabel#muted, QLabel#caption {{ color: {c['muted']}; }}
QLabel#bigNumber {{ font-size: 20pt; font-weight: 600; }}
QFrame#card {{
    background: {c['card']}; border: 1px solid {c['mid']}; border-radius: 8px;
}}
QFrame#card QLabel {{ background: transparent; }}
QFrame#banner {{ border-radius: 6px; border: 1px solid {c['mid']}; background: {c['tint']}; }}
QFrame#banner[level="error"] {{ border-color: {LEVEL['error'].dark if dark
                                                else LEVEL['error'].light}; }}
QFrame#banner[level="warning"] {{ border-color: {LEVEL['warning'].dark if dark
                                                  else LEVEL['warning'].light}; }}
QFrame#toolbar {{ background: transparent; }}
QPushButton#primary {{
    background: {c['highlight']}; color: {c['on_highlight']}; border: 1px solid
    {c['highlight']}; border-radius: 5px; padding: 6px 16px; font-weight: 600;
}}
QPushButton#primary:disabled {{ background: {c['mid']}; border-color: {c['mid']}; }}
QPushButton#primary:hover:!disabled {{ background: {QColor(c['highlight']).lighter(112).name()}; }}
QTableView {{ gridline-color: {c['midlight']}; }}
QStatusBar {{ border-top: 1px solid {c['mid']}; }}
QStatusBar QLabel {{ padding: 0 6px; }}
QToolTip {{ padding: 4px; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion everywhere (it honours the palette on every OS), re-applied when the system
    switches between light and dark."""
    app.setStyle("Fusion")
    _apply(app)
    hints = QGuiApplication.styleHints()
    if not app.property("trueup_theme_connected"):
        hints.colorSchemeChanged.connect(lambda _scheme: _apply(app))
        app.setProperty("trueup_theme_connected", True)
    app.setWindowIcon(icon("trueup", "#0f5fa8"))


def _apply(app: QApplication) -> None:
    dark = wants_dark()
    app.setPalette(make_palette(dark))
    app.setStyleSheet(style_sheet(dark))
    icon.cache_clear()


def _svg(name: str, color: str) -> QByteArray:
    text = (ICONS / f"{name}.svg").read_text(encoding="utf-8")
    return QByteArray(text.replace("currentColor", color).encode())


def _pixmap(data: QByteArray, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    QSvgRenderer(data).render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


@cache
def icon(name: str, color: str | None = None) -> QIcon:
    """An icon in `color` (default: the palette's text colour), in the highlighted-text
    colour when its row or item is selected, so it never vanishes into the selection."""
    fg = color or colors()["text"]
    result = QIcon()
    for size in (16, 20, 24, 32, 48):
        result.addPixmap(_pixmap(_svg(name, fg), size), QIcon.Mode.Normal)
        result.addPixmap(_pixmap(_svg(name, colors()["on_highlight"]), size),
                         QIcon.Mode.Selected)
    return result


def status_icon(status: str) -> QIcon:
    look = STATUS.get(status, STATUS["open"])
    return icon(look.icon, look.dark if is_dark() else look.light)


def level_icon(level: str) -> QIcon:
    look = LEVEL.get(level, LEVEL["info"])
    return icon(look.icon, look.dark if is_dark() else look.light)


ICON_SIZE = QSize(18, 18)
