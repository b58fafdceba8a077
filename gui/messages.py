"""One place that shows errors and short waits to the user, so every failure looks the same (and
tests can patch `QMessageBox.critical` to keep dialogs from blocking)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """A modal error box with one clear line; the app keeps running afterwards."""
    QMessageBox.critical(parent, title, message)


@contextmanager
def busy_cursor() -> Iterator[None]:
    """The wait cursor for work of under a second or so done on the UI thread (longer work goes
    to a worker with a progress bar); restored however the work ends."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()
