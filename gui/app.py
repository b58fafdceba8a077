"""Start the desktop app: the QApplication (named for QSettings), the main window, the loop."""

from __future__ import annotations

import os
import sys
import time
import traceback

from PySide6.QtCore import QEvent, QObject
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


class FirstPaintExit(QObject):
    """For bench/bench_gui.py: once any widget of the window has painted, print "painted"
    with the process time and leave at once (the benchmark reads the line, not the exit)."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and getattr(watched, "window", lambda: None)() is self.window:
            print(f"painted {time.perf_counter():.6f}", flush=True)
            os._exit(0)  # no teardown: the worker sampling the first grid is not waited for
        return False


def limit_allocator_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas. Every worker thread that decodes would otherwise get an
    arena of its own (up to 8 per core), each keeping freed tensors' memory: with three
    models' workers that is ~100 MB of RSS holding nothing. A no-op off glibc."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def run_app(argv: list[str] | None = None, threads: int | None = None) -> int:
    """Open the main window with the shipped models and run until it closes. Torch's pool is
    sized on purpose, as in the CLI (`generators/core/threads.py`): `threads`, or the CPUs this
    process may use (at most 8), with one inter-op thread and sleeping OpenMP waits."""
    from generators.core.threads import configure_threads

    limit_allocator_arenas()
    configure_threads(threads)
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    window = MainWindow()
    install_error_hook(window)
    if os.environ.get("LATENT_FORGE_EXIT_AFTER_PAINT") == "1":
        app.installEventFilter(FirstPaintExit(window))
    window.show()
    return app.exec()


def scratch_window(prefix: str = "latent-forge-", checkpoints: dict | None = None) -> MainWindow:
    """A shown 1400×860 main window on fresh settings and a scratch cache, leaving the user's
    own untouched: for benchmarks and screenshots. A QApplication must exist. `checkpoints`:
    domain -> checkpoint for tabs not on their shipped default (as MainWindow takes them)."""
    import tempfile
    from pathlib import Path

    from PySide6.QtCore import QSettings

    from .storage import AppStorage

    limit_allocator_arenas()  # as run_app does, so benchmarks measure the app's own memory
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(checkpoints, settings=settings, storage=AppStorage.under(scratch))
    window.resize(1400, 860)
    window.show()
    return window
