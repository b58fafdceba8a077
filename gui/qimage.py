"""numpy RGB(A) previews -> QImage / QPixmap, and the transparency checkerboard under them.

Domains draw previews as uint8 arrays (H, W, 3) or (H, W, 4) (`Domain.render`). These helpers
copy the buffer into a QImage that owns its memory, so the array can be freed or reused.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

CHECKER_SIZE = 8  # pixels per checkerboard square, in image pixels
CHECKER_LIGHT = QColor(204, 204, 204)
CHECKER_DARK = QColor(153, 153, 153)


def to_qimage(pixels: np.ndarray) -> QImage:
    """A deep-copied QImage of a uint8 (H, W, 3) RGB or (H, W, 4) RGBA array."""
    array = np.asarray(pixels)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected a uint8 (H, W, 3|4) array, got {array.dtype} {array.shape}")
    array = np.ascontiguousarray(array)
    height, width, channels = array.shape
    fmt = QImage.Format.Format_RGB888 if channels == 3 else QImage.Format.Format_RGBA8888
    # QImage wraps the buffer without copying; .copy() detaches it from the numpy memory.
    return QImage(array.data, width, height, width * channels, fmt).copy()


def checkerboard(width: int, height: int, square: int = CHECKER_SIZE) -> QImage:
    """An opaque grey checkerboard of the given size."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(CHECKER_LIGHT)
    painter = QPainter(image)
    for y in range(0, height, square):
        for x in range((y // square + 1) % 2 * square, width, 2 * square):  # light top-left
            painter.fillRect(x, y, square, square, CHECKER_DARK)
    painter.end()
    return image


def to_pixmap(pixels: np.ndarray) -> QPixmap:
    """A pixmap of a preview; RGBA previews are drawn over a transparency checkerboard."""
    image = to_qimage(pixels)
    if image.hasAlphaChannel():
        background = checkerboard(image.width(), image.height())
        painter = QPainter(background)
        painter.drawImage(0, 0, image)
        painter.end()
        image = background
    return QPixmap.fromImage(image)


def scaled_nearest(pixmap: QPixmap, width: int, height: int) -> QPixmap:
    """The pixmap scaled to fit (width, height), keeping its aspect, without smoothing."""
    return pixmap.scaled(width, height, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
