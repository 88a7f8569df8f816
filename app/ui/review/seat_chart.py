"""Vendor seats against PSA seats over the billing period, day by day, drawn with QPainter.

The vendor line is solid and the PSA line dashed (not only a different colour), and the
days where they differ are shaded, so the drift that costs money is visible at a glance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.ui import theme


@dataclass(frozen=True)
class Series:
    """Seats per day of the period (index 0 = the first day)."""

    label: str
    per_day: tuple[Decimal, ...]


def per_day(segments: list[dict[str, Any]], start: date, days: int) -> tuple[Decimal, ...]:
    """Segments `{start, end, quantity}` of the explanation as one value per day."""
    values = [Decimal(0)] * days
    for seg in segments or []:
        first = (date.fromisoformat(seg["start"]) - start).days
        last = (date.fromisoformat(seg["end"]) - start).days
        qty = Decimal(str(seg.get("quantity") or 0))
        for d in range(max(first, 0), min(last, days - 1) + 1):
            values[d] = qty
    return tuple(values)


def _nice_step(top: float) -> int:
    raw = max(top / 4, 1)
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return int(m * power)
    return int(10 * power)


class SeatChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start: date | None = None
        self.vendor: Series | None = None
        self.psa: Series | None = None
        self.setFixedHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Seats over the period: vendor against PSA")

    def sizeHint(self) -> QSize:
        return QSize(380, 150)

    def set_series(self, start: date, vendor: Series | None, psa: Series | None) -> None:
        self.start, self.vendor, self.psa = start, vendor, psa
        self.update()

    def clear(self) -> None:
        self.set_series(date.today(), None, None)

    def paintEvent(self, event: QPaintEvent) -> None:
        series = [s for s in (self.vendor, self.psa) if s is not None and s.per_day]
        if not series or self.start is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        colors = theme.colors()
        fm = QFontMetrics(self.font())
        days = len(series[0].per_day)
        top_value = max(float(max(s.per_day)) for s in series)
        step = _nice_step(top_value * 1.1 or 1)
        y_max = max(step * math.ceil((top_value * 1.1 or 1) / step), step)
        left = fm.horizontalAdvance(f"{y_max:,}") + 12
        legend_h = fm.height() + 8
        plot = QRectF(left, legend_h + 4, self.width() - left - 12,
                      self.height() - legend_h - fm.height() - 16)

        def x(day: float) -> float:
            return plot.left() + plot.width() * day / days

        def y(value: Decimal | float) -> float:
            return plot.bottom() - plot.height() * float(value) / y_max

        # grid and axes
        muted = QColor(colors["muted"])
        for tick in range(0, y_max + 1, step):
            p.setPen(QPen(QColor(colors["midlight"]), 1))
            p.drawLine(QPointF(plot.left(), y(tick)), QPointF(plot.right(), y(tick)))
            p.setPen(muted)
            p.drawText(QRectF(0, y(tick) - fm.height() / 2, left - 6, fm.height()),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                       f"{tick:,}")
        month = self.start.strftime("%b")
        for day in sorted({0, 7, 14, 21, days - 1}):
            label = f"{day + 1} {month}" if day in (0, days - 1) else str(day + 1)
            width = fm.horizontalAdvance(label) + 4
            if day == 0:
                box, align = QRectF(plot.left(), 0, width, 0), Qt.AlignmentFlag.AlignLeft
            elif day == days - 1:
                box, align = QRectF(plot.right() - width, 0, width, 0), Qt.AlignmentFlag.AlignRight
            else:
                box, align = QRectF(x(day + 0.5) - width / 2, 0, width, 0), \
                    Qt.AlignmentFlag.AlignHCenter
            box.setTop(plot.bottom() + 4)
            box.setHeight(fm.height())
            p.drawText(box, int(align), label)
        # drift shading
        vendor_color = QColor(theme.VENDOR_SERIES[1 if theme.is_dark() else 0])
        psa_color = QColor(theme.PSA_SERIES[1 if theme.is_dark() else 0])
        if self.vendor and self.psa:
            for day, (v, q) in enumerate(zip(self.vendor.per_day, self.psa.per_day,
                                             strict=False)):
                if v == q:
                    continue
                shade = QColor(vendor_color if v > q else psa_color)
                shade.setAlpha(60)
                p.fillRect(QRectF(x(day), y(max(v, q)), x(day + 1) - x(day),
                                  y(min(v, q)) - y(max(v, q))), shade)
        # the two step lines: vendor solid, PSA dashed on top
        for s, color, style, width in ((self.vendor, vendor_color, Qt.PenStyle.SolidLine, 2.6),
                                       (self.psa, psa_color, Qt.PenStyle.DashLine, 2.0)):
            if s is None:
                continue
            pen = QPen(color, width, style)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            p.setPen(pen)
            points = []
            for day, value in enumerate(s.per_day):
                points += [QPointF(x(day), y(value)), QPointF(x(day + 1), y(value))]
            p.drawPolyline(points)
        # legend
        lx = plot.left()
        for s, color, style in ((self.vendor, vendor_color, Qt.PenStyle.SolidLine),
                                (self.psa, psa_color, Qt.PenStyle.DashLine)):
            if s is None:
                continue
            p.setPen(QPen(color, 2.4, style))
            p.drawLine(QPointF(lx, legend_h / 2), QPointF(lx + 22, legend_h / 2))
            p.setPen(QColor(colors["text"]))
            text = s.label
            p.drawText(QPointF(lx + 28, legend_h / 2 + fm.ascent() / 2 - 1), text)
            lx += 28 + fm.horizontalAdvance(text) + 20
        p.end()
