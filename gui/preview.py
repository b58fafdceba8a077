"""Zoomable previews: a view that fits or zooms a preview with nearest-neighbour scaling
(pixel art stays crisp), and a dialog that enlarges one item.

RGBA previews arrive already drawn over a transparency checkerboard (`qimage.to_pixmap`).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QGraphicsLineItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .qimage import to_pixmap
from .screen_size import resize_to_fit

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.05, 64.0
BACKDROP = QColor(72, 72, 72)
MARKER = QColor(220, 40, 40)  # the playhead


class ZoomView(QGraphicsView):
    """Shows one pixmap; fits the view until the user zooms (wheel, or zoom_in/zoom_out)."""

    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.FastTransformation)  # nearest neighbour
        self.scene().addItem(self.item)
        # A vertical line over the picture (a playhead), in picture pixels; hidden until set.
        self.marker = QGraphicsLineItem()
        pen = QPen(MARKER, 2)
        pen.setCosmetic(True)  # 2 screen px at any zoom
        self.marker.setPen(pen)
        self.marker.setZValue(1)
        self.marker.hide()
        self.scene().addItem(self.marker)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setAcceptDrops(False)  # files dropped here go to the main window
        self.viewport().setAcceptDrops(False)
        self.setBackgroundBrush(BACKDROP)  # sets the preview apart from the window
        # A caption floating over the view, outside any layout: changing its text on every
        # scrub step must not ask the window to lay itself out (and repaint the grid) again.
        self.caption = QLabel(self)
        self.caption.setStyleSheet("QLabel { background: rgba(0, 0, 0, 150); color: white; padding: 2px 6px; }")
        self.caption.move(6, 6)
        self.caption.hide()
        self.fitting = True
        self.setToolTip("Mouse wheel zooms, drag scrolls, double-click fits the view")

    def set_pixmap(self, pixmap: QPixmap) -> None:
        self.item.setPixmap(pixmap)
        self.scene().setSceneRect(self.item.boundingRect())
        if self.fitting:
            self.fit()

    def set_pixels(self, pixels: np.ndarray) -> None:
        self.set_pixmap(to_pixmap(pixels))

    def set_marker(self, x: float | None) -> None:
        """A vertical line at picture column `x` (None: no line)."""
        if x is None:
            self.marker.hide()
            return
        self.marker.setLine(x, 0.0, x, float(self.item.pixmap().height()))
        self.marker.show()

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)
        self.caption.adjustSize()
        self.caption.setVisible(bool(text))

    def image(self) -> QImage:
        """The preview shown now, at its own size (for tests and screenshots)."""
        return self.item.pixmap().toImage()

    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        self.fitting = True
        if not self.item.pixmap().isNull():
            self.fitInView(self.item, Qt.AspectRatioMode.KeepAspectRatio)
            self.zoom_changed.emit(self.zoom())

    def set_zoom(self, factor: float) -> None:
        factor = min(max(factor, MIN_ZOOM), MAX_ZOOM)
        self.fitting = False
        self.resetTransform()
        self.scale(factor, factor)
        self.zoom_changed.emit(factor)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / ZOOM_STEP)

    def wheelEvent(self, event) -> None:
        if event.angleDelta().y() > 0:
            self.zoom_in()
        elif event.angleDelta().y() < 0:
            self.zoom_out()

    def mouseDoubleClickEvent(self, event) -> None:
        self.fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.fitting:
            self.fit()


class EnlargeDialog(QDialog):
    """One item enlarged, with zoom buttons (Ctrl++, Ctrl+-, Ctrl+0 fits, Ctrl+1 is 1:1)."""

    def __init__(self, pixels: np.ndarray, caption: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(caption)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.view = ZoomView(self)
        self.view.set_pixels(pixels)
        self.zoom_label = QLabel()
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        buttons = QHBoxLayout()
        for text, slot, keys, tip in (
            ("Zoom in", self.view.zoom_in, QKeySequence.StandardKey.ZoomIn, "Zoom in (Ctrl++)"),
            ("Zoom out", self.view.zoom_out, QKeySequence.StandardKey.ZoomOut, "Zoom out (Ctrl+-)"),
            ("Fit", self.view.fit, QKeySequence("Ctrl+0"), "Fit the window (Ctrl+0)"),
            (
                "1:1",
                lambda: self.view.set_zoom(1.0),
                QKeySequence("Ctrl+1"),
                "One screen pixel per preview pixel (Ctrl+1)",
            ),
        ):
            button = QPushButton(text)
            button.setShortcut(keys)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.zoom_label)
        close = QPushButton("Close")
        close.setToolTip("Close this view (Esc)")
        close.clicked.connect(self.close)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        height, width = pixels.shape[:2]
        scale = max(1, min(4, 1000 // max(width, 1), 700 // max(height, 1)))
        resize_to_fit(self, QSize(min(width * scale + 40, 1200), min(height * scale + 90, 900)))
