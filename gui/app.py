"""Start the desktop app: the QApplication (named for QSettings), the main window, the loop."""
from __future__ import annotations

import sys
import traceback

from PySide6.QtWidgets import QApplication

from .main_window import MainWindow
from .messages import show_error

ORGANISATION = "Latent Forge"
APPLICATION = "Latent Forge"


def install_error_hook(window: MainWindow) -> None:
    """An exception that escapes a slot is shown in a dialog, and the app keeps running."""

    def hook(kind, error, trace) -> None:
        traceback.print_exception(kind, error, trace)
        show_error(window, "Unexpected error", f"{kind.__name__}: {error}")

    sys.excepthook = hook


def run_app(argv: list[str] | None = None) -> int:
    """Open the main window with the shipped models and run until it closes."""
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    window = MainWindow()
    install_error_hook(window)
    window.show()
    return app.exec()
