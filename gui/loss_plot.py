"""A small live plot of training curves, drawn with QPainter: negative ELBO, reconstruction
and KL per epoch, solid for the training set and dashed for the held-out set."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

# (key, legend name, colour); each term has a train and a validation curve.
TERMS = (
    ("elbo", "−ELBO", QColor(31, 119, 180)),
    ("reconstruction", "reconstruction", QColor(230, 120, 20)),
    ("kl", "KL", QColor(44, 160, 44)),
)
SPLITS = (("train", "train", Qt.PenStyle.SolidLine), ("val", "validation", Qt.PenStyle.DashLine))


def nice_step(span: float, ticks: int = 5) -> float:
    """A 1-2-5 step that cuts `span` into about `ticks` parts."""
    raw = max(span, 1e-12) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def record_values(record: dict) -> dict[tuple[str, str], float | None]:
    """The six plotted values of one EpochRecord (as a dict). The train −ELBO is the
    unweighted reconstruction + KL, comparable with validation (the loss has beta in it)."""
    return {
        ("train", "elbo"): record["train_reconstruction"] + record["train_kl"],
        ("train", "reconstruction"): record["train_reconstruction"],
        ("train", "kl"): record["train_kl"],
        ("val", "elbo"): record.get("val_negative_elbo"),
        ("val", "reconstruction"): record.get("val_reconstruction"),
        ("val", "kl"): record.get("val_kl"),
    }


class LossPlot(QWidget):
    """Curves per epoch; `add_record` appends one epoch and repaints."""

    MARGIN = (58, 30, 16, 34)  # left, top, right, bottom

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.series: dict[tuple[str, str], list[tuple[int, float]]] = {
            (s, t): [] for s, _, _ in SPLITS for t, _, _ in TERMS
        }
        self.total_epochs = 1
        self.log_scale = False
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip(
            "Loss per epoch in nats per item (lower is better). Solid: training set; "
            "dashed: held-out validation set. −ELBO = reconstruction + KL."
        )

    def sizeHint(self) -> QSize:
        return QSize(560, 280)

    def clear(self) -> None:
        for points in self.series.values():
            points.clear()
        self.update()

    def set_total_epochs(self, epochs: int) -> None:
        self.total_epochs = max(1, int(epochs))
        self.update()

    def set_log_scale(self, on: bool) -> None:
        self.log_scale = bool(on)
        self.update()

    def add_record(self, record: dict) -> None:
        """One epoch's EpochRecord fields; an epoch seen before replaces its old points."""
        epoch = int(record["epoch"])
        for key, value in record_values(record).items():
            points = [p for p in self.series[key] if p[0] != epoch]
            if value is not None and math.isfinite(value):
                points.append((epoch, float(value)))
            self.series[key] = sorted(points)
        self.update()

    def point_count(self) -> int:
        return sum(len(points) for points in self.series.values())

    # --- drawing ----------------------------------------------------------------------------

    def _y(self, value: float) -> float:
        return math.log10(max(value, 1e-3)) if self.log_scale else value

    def _y_range(self) -> tuple[float, float]:
        values = [self._y(v) for points in self.series.values() for _, v in points]
        if not values:
            return (0.0, 1.0)
        low, high = (min(values), max(values)) if self.log_scale else (min(0.0, min(values)), max(values))
        if high - low < 1e-9:
            low, high = low - 0.5, high + 0.5
        step = nice_step(high - low)
        return (math.floor(low / step) * step, math.ceil(high / step) * step)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        left, top, right, bottom = self.MARGIN
        area = QRectF(left, top, max(1, self.width() - left - right), max(1, self.height() - top - bottom))
        low, high = self._y_range()
        last_epoch = max([self.total_epochs] + [e for points in self.series.values() for e, _ in points])

        def to_screen(epoch: float, value: float) -> QPointF:
            x = area.left() + (epoch - 1) / max(last_epoch - 1, 1) * area.width()
            y = area.bottom() - (self._y(value) - low) / (high - low) * area.height()
            return QPointF(x, y)

        self._draw_axes(painter, area, low, high, last_epoch)
        painter.setClipRect(area.adjusted(-4, -4, 4, 4))
        for split, _, style in SPLITS:
            for term, _, colour in TERMS:
                points = [to_screen(e, v) for e, v in self.series[(split, term)]]
                if not points:
                    continue
                painter.setPen(QPen(colour, 2, style))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                path = QPainterPath(points[0])
                for point in points[1:]:
                    path.lineTo(point)
                painter.drawPath(path)
                painter.setPen(QPen(colour, 1.5))
                painter.setBrush(colour if split == "train" else palette.color(QPalette.ColorRole.Base))
                for point in points:
                    painter.drawEllipse(point, 3, 3)
        painter.setClipping(False)
        self._draw_legend(painter, area)
        if not self.point_count():
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "The curves appear after the first epoch")
        painter.end()

    def _draw_axes(self, painter: QPainter, area: QRectF, low: float, high: float, last_epoch: int) -> None:
        text = self.palette().color(QPalette.ColorRole.Text)
        grid = QColor(text)
        grid.setAlpha(40)
        metrics = painter.fontMetrics()
        step = nice_step(high - low)
        value = low
        while value <= high + step / 2:
            y = area.bottom() - (value - low) / (high - low) * area.height()
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            label = f"{10**value:.3g}" if self.log_scale else f"{value:.4g}"
            painter.setPen(text)
            painter.drawText(
                QRectF(0, y - 8, area.left() - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            value += step
        epoch_step = max(1, int(nice_step(max(last_epoch - 1, 1), 6)))
        for epoch in range(1, last_epoch + 1):
            if epoch != 1 and epoch % epoch_step and epoch != last_epoch:
                continue
            x = area.left() + (epoch - 1) / max(last_epoch - 1, 1) * area.width()
            painter.setPen(text)
            painter.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() + 4))
            painter.drawText(
                QRectF(x - 20, area.bottom() + 4, 40, metrics.height()), Qt.AlignmentFlag.AlignHCenter, str(epoch)
            )
        painter.setPen(QPen(text, 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        painter.drawText(
            QRectF(area.left(), area.bottom() + 4 + metrics.height(), area.width(), metrics.height()),
            Qt.AlignmentFlag.AlignHCenter,
            "epoch",
        )

    def _draw_legend(self, painter: QPainter, area: QRectF) -> None:
        metrics = painter.fontMetrics()
        x, y = area.left(), 4.0
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        painter.drawText(QPointF(4, y + metrics.ascent()), "nats")
        x += 8
        for term, name, colour in TERMS:
            painter.setPen(QPen(colour, 2))
            painter.drawLine(QPointF(x, y + metrics.height() / 2), QPointF(x + 18, y + metrics.height() / 2))
            painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            painter.drawText(QPointF(x + 22, y + metrics.ascent()), name)
            x += 30 + metrics.horizontalAdvance(name)
        for split, name, style in SPLITS:
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Text), 1.5, style))
            painter.drawLine(QPointF(x, y + metrics.height() / 2), QPointF(x + 18, y + metrics.height() / 2))
            painter.drawText(QPointF(x + 22, y + metrics.ascent()), name)
            x += 30 + metrics.horizontalAdvance(name)
