"""Exporting from a tab: the dialog that picks a folder and a format, and the worker run
with a progress dialog that can cancel. The writing itself is `export.export_items`."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from .context import ViewContext
from .export import export_items
from .items import Item
from .messages import show_error
from .workers import Job


def ask_save_path(parent: QWidget, title: str, folder: str, stem: str, formats: Sequence[str]) -> str | None:
    """A save dialog for one file in one of `formats`, starting at `folder`/`stem`.`formats[0]`;
    the chosen filter's extension is added where the dialog leaves it off. None: cancelled."""
    filters = [f"{ext.upper()} (*.{ext})" for ext in formats]
    path, chosen = QFileDialog.getSaveFileName(
        parent, title, str(Path(folder) / f"{stem}.{formats[0]}"), ";;".join(filters)
    )
    if not path:
        return None
    if not Path(path).suffix and chosen in filters:
        path += "." + formats[filters.index(chosen)]
    return path


class ExportDialog(QDialog):
    """Folder and format for an export of items; `counted` names them ("1 level", "16 clips")."""

    def __init__(self, counted: str, formats: Sequence[str], folder: str, fmt: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Export {counted}")
        self.folder = QLineEdit(folder)
        self.folder.setToolTip("The folder the files and their JSON sidecars go to (created if needed)")
        browse = QPushButton("Browse…")
        browse.setToolTip("Choose the folder")
        browse.clicked.connect(self._browse)
        self.format = QComboBox()
        for ext in formats:
            self.format.addItem(f".{ext}", ext)
        self.format.setCurrentIndex(max(0, list(formats).index(fmt)) if fmt in formats else 0)
        self.format.setToolTip(
            "File format; each file also gets NAME.json recording its seed, latent, condition and checkpoint"
        )
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel(f"{counted[:1].upper()}{counted[1:]}, each with a JSON sidecar."))
        form.addRow("Folder:", row)
        form.addRow("Format:", self.format)
        form.addRow(buttons)
        self.resize(520, self.sizeHint().height())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def choice(self) -> tuple[str, str]:
        return self.folder.text().strip(), self.format.currentData()


def start_export(context: ViewContext, items: Sequence[Item], folder: str | Path, fmt: str, parent: QWidget) -> Job:
    """Write `items` in a worker, with a progress dialog whose Cancel stops after the current file."""
    items = list(items)
    generator, checkpoint = context.generator, context.checkpoint
    progress = QProgressDialog(f"Exporting {len(items)} files to {folder}…", "Cancel", 0, len(items), parent)
    progress.setWindowTitle("Export")
    progress.setWindowModality(Qt.WindowModality.NonModal)  # the app stays usable meanwhile
    progress.setMinimumDuration(300)
    progress.setAutoReset(False)
    progress.setAutoClose(False)
    progress.setValue(0)

    def work(job: Job) -> list[Path]:
        return export_items(generator, checkpoint, items, folder, fmt, job.report, lambda: job.cancelled)

    def succeeded(paths: list[Path]) -> None:
        context.status.emit(f"Exported {generator.domain.count_of(len(items))} to {folder} ({len(paths)} files)")

    def failed(message: str) -> None:
        progress.hide()  # hide, not close: closing a QProgressDialog emits `canceled`
        show_error(parent, "Export failed", message)
        context.status.emit(f"Export failed: {message}")

    def finished() -> None:
        if job.cancelled:
            context.status.emit(f"Export to {folder} cancelled; the files written so far are complete")
        progress.hide()
        progress.deleteLater()

    job = context.runner.start(
        work,
        on_success=succeeded,
        on_failure=failed,
        on_progress=lambda done, total: progress.setValue(done),
        on_done=finished,
    )
    progress.canceled.connect(job.cancel)
    return job
