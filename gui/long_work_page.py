"""What the Full level and Long piece pages share: one long piece of work at a time, made in a
worker from the tab's seed, temperature, condition and interpolation endpoints, with a progress
bar, Cancel, and Export… in a worker.

A run is tagged with a generation number. Starting another run or pressing Cancel bumps it, so
the older run's callbacks no longer touch the page, and its worker stops at its next progress
report (the `progress` callable a run's work is given raises `Superseded` there). The page
builds the widgets both pages have (Generate, Cancel, Export…, the progress bar, the zoomable
view and the status line); a subclass lays them out with its own and gives `generate`,
`show_result`, `describe`, `export_stem`, `exporter` and `_update_enabled`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QWidget

from generators.core.errors import UserError

from .context import ViewContext
from .export_dialog import ask_save_path
from .interpolation_panel import InterpolationPanel
from .messages import show_error
from .preview import ZoomView
from .sampling_controls import SamplingControls
from .workers import Job

Progress = Callable[[int, int], None]


class Superseded(UserError):
    """A newer run, or Cancel, took over: the worker stops at its next progress report."""


class LongWorkPage(QWidget):
    """The shared state and the run, cancel and export machinery of a page that makes one long item."""

    noun = "item"  # what the page makes, in messages ("level", "piece")

    def __init__(
        self,
        context: ViewContext,
        controls: SamplingControls,
        interpolation: InterpolationPanel,
        parent: QWidget | None = None,
        *,
        generate_tip: str,
        export_tip: str,
        steps: str,
    ):
        """`steps`: what the progress bar counts ("clips", "windows")."""
        super().__init__(parent)
        self.context, self.controls, self.interpolation = context, controls, interpolation
        self.result: Any = None
        self.job: Job | None = None
        self._generation = 0
        self.last_export = str(Path.home())

        self.generate_button = QPushButton("Generate")
        # Ctrl+G is the Generate menu's entry for this page in the main window (it opens the page first).
        self.generate_button.setToolTip(generate_tip + " (Ctrl+G)")
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(f"Stop making this {self.noun} (Esc); the {self.noun} shown stays")
        self.cancel_button.setShortcut("Esc")
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(export_tip)
        self.export_button.clicked.connect(self.export_with_dialog)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setFormat(f"%v of %m {steps}")
        self.view = ZoomView()
        self.view.setToolTip(f"Mouse wheel zooms, drag scrolls sideways, double-click fits the whole {self.noun}")
        self.status = QLabel(f"Generate a {self.noun} (Ctrl+G)")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setWordWrap(True)  # a long line wraps instead of widening the window

    # --- what a subclass gives ------------------------------------------------------------------

    def generate(self) -> Job | None:
        raise NotImplementedError

    def show_result(self, result) -> None:
        raise NotImplementedError

    def export_stem(self, result) -> str:
        """The file name, without extension, that the export dialog offers."""
        raise NotImplementedError

    def describe(self, result) -> str:
        """One line on the result shown, for the status line."""
        raise NotImplementedError

    def exporter(self) -> Callable[[Any, Path], list[Path]]:
        """A function that writes a result to a path (format by extension, atomically) and returns
        the files written. Asked on the UI thread, so that it holds the tab's model of now; called
        in a worker."""
        raise NotImplementedError

    def _update_enabled(self) -> None:
        raise NotImplementedError

    # --- state --------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.job is not None

    def _endpoints_ready(self) -> bool:
        return all(self.interpolation.endpoints[w] is not None for w in "AB")

    # --- running ------------------------------------------------------------------------------

    def run(self, make: Callable[[Progress], Any], started: str) -> Job:
        """Run `make(progress)` in a worker, superseding a run in flight, with `started` in the
        status line; its result goes to `show_result`, its failure to a dialog."""
        self._drop_job()
        self._generation += 1
        generation = self._generation

        def current() -> bool:
            return generation == self._generation

        def work(job: Job):
            def progress(done: int, total: int) -> None:
                if job.cancelled:
                    raise Superseded(f"superseded by a newer {self.noun}")
                job.report(done, total)

            return make(progress)

        def done(result) -> None:
            if current():
                self.show_result(result)

        def failed(message: str) -> None:
            if current():
                self.status.setText(f"Failed: {message}")
                self.context.status.emit(f"Making the {self.noun} failed: {message}")
                show_error(self, f"Cannot make the {self.noun}", message)

        def moved(done: int, total: int) -> None:
            if current():
                self.progress.setRange(0, total)
                self.progress.setValue(done)

        def finished() -> None:
            if current():
                self.job = None
                self._update_enabled()

        self.status.setText(started)
        self.progress.setRange(0, 0)  # busy until the first step is reported
        self.job = self.context.runner.start(
            work, on_success=done, on_failure=failed, on_progress=moved, on_done=finished
        )
        self._update_enabled()
        return self.job

    def _drop_job(self) -> None:
        if self.job is not None:
            self.job.cancel()  # its result is dropped, and it stops at its next progress report
            self._generation += 1  # its callbacks no longer apply
            self.job = None

    def cancel(self) -> None:
        """Stop the run in flight; the result shown stays."""
        if self.job is None:
            return
        self._drop_job()
        shown = f"; showing the previous {self.noun}: {self.describe(self.result)}" if self.result else ""
        self.status.setText("Cancelled" + shown)
        self._update_enabled()

    # --- export -------------------------------------------------------------------------------

    def export_with_dialog(self) -> None:
        if self.result is None:
            return
        domain = self.context.domain
        stem = self.export_stem(self.result)
        path = ask_save_path(self, f"Export the {self.noun}", self.last_export, stem, domain.write_formats)
        if path is not None:
            self.export_to(path)

    def export_to(self, path: str | Path) -> Job | None:
        """Write the result shown in a worker; errors show in a dialog."""
        if self.result is None:
            return None
        result, path, write = self.result, Path(path), self.exporter()
        self.last_export = str(path.parent)

        def failed(message: str) -> None:
            show_error(self, "Export failed", message)
            self.context.status.emit(f"Export failed: {message}")

        return self.context.runner.start(
            lambda job: write(result, path),
            on_success=lambda paths: self.context.status.emit(
                f"Exported the {self.noun} to {', '.join(str(p) for p in paths)}"
            ),
            on_failure=failed,
        )

    def shutdown(self) -> None:
        self._drop_job()
