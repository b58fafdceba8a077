"""One place that shows errors to the user, so every failure looks the same (and tests can
patch `QMessageBox.critical` to keep dialogs from blocking)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """A modal error box with one clear line; the app keeps running afterwards."""
    QMessageBox.critical(parent, title, message)
