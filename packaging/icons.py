"""Render resources/icons/trueup.svg into the app icons each OS wants: .ico (Windows),
.icns (macOS) and .png (Linux desktop files), into a build folder — generated, never committed.

Qt's own image plugins write all three, so the build needs no Pillow.
Usage: python packaging/icons.py OUT_DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "trueup.svg"
SIZE = 256  # the largest size Windows shows; macOS scales down from it


def render_icons(out_dir: Path) -> dict[str, Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for ext in ("png", "ico", "icns"):
        path = out_dir / f"trueup.{ext}"
        if not image.save(str(path), ext.upper()):
            raise RuntimeError(f"Qt could not write {path}")
        written[ext] = path
    return written


if __name__ == "__main__":
    for path in render_icons(Path(sys.argv[1])).values():
        print(path)
