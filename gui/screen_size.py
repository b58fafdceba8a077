"""Window sizes that fit the screen they open on: a preferred size, shrunk to the screen's
available area (`QScreen.availableGeometry()`, less room for the window manager's frame and
title bar), never below what the window needs."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget

FRAME_ROOM = QSize(16, 48)  # left for the window manager's frame and title bar


def fitted_size(available: QSize, minimum: QSize, preferred: QSize) -> QSize:
    """`preferred`, shrunk to `available` less FRAME_ROOM, and grown back to `minimum`."""
    room = QSize(max(available.width() - FRAME_ROOM.width(), 0), max(available.height() - FRAME_ROOM.height(), 0))
    return preferred.boundedTo(room).expandedTo(minimum)


def resize_to_fit(window: QWidget, preferred: QSize) -> QSize:
    """Resize a window (or dialog) to `preferred`, or less where its screen is smaller."""
    parent = window.parentWidget()
    screen = (parent.screen() if parent is not None else None) or window.screen()
    size = fitted_size(screen.availableGeometry().size(), window.minimumSizeHint(), preferred)
    window.resize(size)
    return size
