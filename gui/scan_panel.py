"""File → Scan folder…: a folder's files ranked by how typical the tab's model finds them, least
typical first, each with the domain's picture of it and red over where the model explains it worst.

The scan is `main.py scan`'s: `generators.core.scan` lists the files (`files_in`), reads the card's
held-out reference (`reference_scores`) and scores each file (`scan_file`), in a worker of the tab's
job runner. Each file's overlay is written as a PNG into a temporary folder while the file is in
hand, as the CLI writes its overlays, so no picture or heat map of a large folder is held in memory:
the list loads a thumbnail only for the rows it shows. Rows arrive one file at a time (`Job.send`)
and are placed by score as they come, so Cancel (which stops the worker before its next file) keeps
what was scanned. Files that cannot be read are listed after the ranked ones, with their reason.
Activating a row (double-click, Enter, or "Open as endpoint A") encodes the file as interpolation
endpoint A, the way File → Open file as endpoint… does (`DomainView.open_endpoint_file`).
"""

from __future__ import annotations

import bisect
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from generators.core.errors import UserError
from generators.core.scan import ScannedFile, files_in, reference_scores, scan_file

from .conditions_panel import labels_text, labels_tooltip
from .preview import ZoomView
from .screen_size import resize_to_fit
from .typicality import ATYPICAL_PERCENTILE, ordinal
from .workers import Job

THUMB = QSize(300, 44)  # the thumbnail box of a row: levels are wide and low, images square
THUMBS_KEPT = 300  # thumbnails held at once (the rows on screen, and some scrolled past)
COLUMNS = ("Picture", "File", "Typicality", "Worst at", "Labels")  # the last stretches: labels and reasons are long
DIALOG_SIZE = QSize(1180, 680)  # fits a 1280×720 screen with the window frame


@dataclass
class ScanRow:
    """One file of a scan: scored (`scanned`), or not readable (`reason`)."""

    path: Path
    scanned: ScannedFile | None = None
    reason: str = ""


def percentile_text(percentile: float) -> str:
    """A file's place among the reference, in words for the list: "3rd percentile"."""
    return f"{ordinal(min(99, max(1, round(percentile))))} percentile"


def percentile_tooltip(row: ScannedFile, reference: str) -> str:
    verdict = (
        f"Atypical: less typical than {100 - row.percentile:.0f}% of {reference}"
        if row.percentile < ATYPICAL_PERCENTILE
        else f"More typical than {row.percentile:.0f}% of {reference}"
    )
    under = f", scored as {', '.join(row.labels)}" if row.labels else ""
    return f"{verdict} (ELBO {row.elbo:.1f} nats{under}; higher is more typical)"


def scan_rows(
    generator,
    paths: list[Path],
    reference,
    job: Job,
    overlays: Path | None = None,
) -> int:
    """Score `paths` one by one in a worker, sending each as a ScanRow (`job.send`) and reporting
    progress; stops before the next file once the job is cancelled. With `overlays`, each file's
    overlay PNG is written there. Returns how many files were done."""
    done = 0
    for index, path in enumerate(paths, start=1):
        if job.cancelled:
            break
        png = None if overlays is None else overlays / f"{index:05d}-{path.stem}.png"  # numbered: stems repeat
        try:
            row = ScanRow(path, scan_file(generator, path, reference, png))
        except UserError as error:  # AssetError and every other one-line reason a file cannot be used
            row = ScanRow(path, reason=str(error))
        except Exception as error:  # noqa: BLE001 - one odd file must not end the scan of the rest
            row = ScanRow(path, reason=f"{type(error).__name__}: {error}")
        done = index
        job.send(row)
        job.report(index, len(paths))
    return done


class ScanModel(QAbstractTableModel):
    """The rows of a scan: ranked files by ELBO (least typical first), then the unreadable ones.
    Thumbnails are read from the overlay PNGs when a row is shown, and a bounded number kept."""

    def __init__(self, space, folder: Path, parent=None):
        super().__init__(parent)
        self.space = space  # the model's ConditionSpace, for the labels column
        self.folder = folder
        self.reference = ""  # what percentiles are among, in words
        self.ranked: list[ScanRow] = []
        self.unreadable: list[ScanRow] = []
        self._thumbs: dict[Path, QPixmap] = {}

    def rows(self) -> list[ScanRow]:
        return self.ranked + self.unreadable

    def row(self, index: int) -> ScanRow | None:
        rows = self.rows()
        return rows[index] if 0 <= index < len(rows) else None

    def add(self, row: ScanRow) -> int:
        """Place a row by its score; returns its index."""
        if row.scanned is None:
            at = len(self.ranked) + len(self.unreadable)
            self.beginInsertRows(QModelIndex(), at, at)
            self.unreadable.append(row)
        else:
            at = bisect.bisect_right([r.scanned.score for r in self.ranked], row.scanned.score)
            self.beginInsertRows(QModelIndex(), at, at)
            self.ranked.insert(at, row)
        self.endInsertRows()
        return at

    def name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.folder))
        except ValueError:
            return str(path)

    def reason(self, row: ScanRow) -> str:
        """Why a file cannot be read, naming it as the list does."""
        return row.reason.replace(str(row.path), self.name(row.path))

    def thumbnail(self, row: ScanRow) -> QPixmap | None:
        overlay = row.scanned.overlay if row.scanned is not None else None
        if overlay is None:
            return None
        if overlay not in self._thumbs:
            if len(self._thumbs) >= THUMBS_KEPT:
                self._thumbs.pop(next(iter(self._thumbs)))  # the oldest: rows scrolled past long ago
            pixmap = QPixmap(str(overlay))
            self._thumbs[overlay] = (
                pixmap
                if pixmap.isNull()
                else pixmap.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
            )
        return self._thumbs[overlay]

    # --- QAbstractTableModel -------------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.ranked) + len(self.unreadable)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        row = self.row(index.row())
        if row is None:
            return None
        column, scanned = index.column(), row.scanned
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self.thumbnail(row)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 1:
                return self.name(row.path)
            if column == 2:
                return percentile_text(scanned.percentile) if scanned else "cannot be read"
            if column == 3:
                return scanned.worst if scanned else "—"
            if column == 4:  # an unreadable file's reason, where it has the most room
                return labels_text(self.space, scanned.labels) if scanned else self.reason(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 1:
                return str(row.path)
            if column == 2 and scanned:
                return percentile_tooltip(scanned, self.reference)
            if column == 3 and scanned:
                return f"The model explains {scanned.worst} worst (red in the picture)"
            if column == 4:
                return labels_tooltip(self.space, scanned.labels) if scanned else row.reason
        if role == Qt.ItemDataRole.ForegroundRole and scanned is None:
            return QColor("#c0392b")
        return None


class ScanDialog(QDialog):
    """The ranked list of one folder's scan, with a large overlay of the selected file."""

    opened = Signal(object)  # the path opened as endpoint A

    def __init__(self, view, folder: str | Path, parent: QWidget | None = None):
        """`view`: the DomainView whose model scans and whose endpoint A a row opens."""
        super().__init__(parent)
        self.view = view
        self.folder = Path(folder)
        self.job: Job | None = None
        self.total = 0
        self.state = "idle"  # scanning, done, cancelled, failed
        self._closing = False
        self._overlays = tempfile.TemporaryDirectory(prefix="latent-forge-scan-")
        noun = view.generator.domain.item_noun[1]
        self.setWindowTitle(f"Scan {self.folder.name or self.folder} — {view.generator.name}")

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m files")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop before the next file; the files scanned so far stay listed")
        self.cancel_button.clicked.connect(self.cancel)

        self.model = ScanModel(view.generator.domain.conditions, self.folder, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(THUMB)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 6)
        self.table.verticalHeader().setToolTip("Rank: 1 is the least typical file")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, THUMB.width() + 8)
        header.resizeSection(1, 200)
        header.resizeSection(2, 120)
        header.resizeSection(3, 140)
        header.setStretchLastSection(True)
        self.table.setToolTip(
            f"The {noun} of {self.folder}, least typical first. Double-click or Enter opens one as endpoint A."
        )
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self._user_chose = False  # until the user picks a row, the least typical so far is shown
        self._auto_selecting = False
        self.table.activated.connect(lambda index: self.open_row(index.row()))

        self.picture = ZoomView()
        self.picture.setToolTip("Red: where the model explains the file worst. Wheel zooms, drag scrolls.")
        self.caption = QLabel("Select a file to see where the model finds it unusual.")
        self.caption.setWordWrap(True)
        self.open_button = QPushButton("Open as endpoint A")
        self.open_button.setToolTip("Encode the selected file as interpolation endpoint A in the tab (Enter)")
        self.open_button.clicked.connect(lambda: self.open_row(self.table.currentIndex().row()))
        self.open_button.setEnabled(False)
        close = QPushButton("Close")
        close.clicked.connect(self.close)

        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.progress)
        top.addWidget(self.cancel_button)
        lower = QWidget()
        below = QVBoxLayout(lower)
        below.setContentsMargins(0, 0, 0, 0)
        below.addWidget(self.picture, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.caption, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(close)
        below.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setChildrenCollapsible(False)
        split.setSizes([380, 200])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        resize_to_fit(self, DIALOG_SIZE)
        view.destroyed.connect(self.close)  # the tab's model was replaced: this scan is of the old one

    # --- the scan ------------------------------------------------------------------------------

    def start(self) -> Job:
        """Scan the folder in a worker of the tab's runner."""
        generator, folder, overlays = self.view.generator, self.folder, Path(self._overlays.name)

        def work(job: Job):
            paths = files_in(folder, generator.domain.read_formats)
            if not paths:
                formats = ", ".join(generator.domain.read_formats)
                raise UserError(f"{folder} holds no {generator.domain.name} files ({formats})")
            reference = reference_scores(generator)
            job.send(("started", len(paths), reference.what))
            return scan_rows(generator, paths, reference, job, overlays)

        self.state = "scanning"
        self.status.setText(f"Scanning {folder} with {generator.name}…")
        self.progress.setRange(0, 0)  # busy while the folder is listed
        self.progress.show()
        self.cancel_button.show()
        self.job = self.view.context.runner.start(
            work, on_message=self._message, on_progress=self._progress, on_failure=self._failed, on_done=self._done
        )
        return self.job

    def cancel(self) -> None:
        """Stop the worker before its next file; what was scanned stays listed."""
        if self.job is not None and not self.job.cancelled:
            self.job.cancel()
            self.state = "cancelled"
            self.status.setText("Cancelling before the next file…")

    def _message(self, message) -> None:
        if self._closing:
            return
        if isinstance(message, ScanRow):
            self.model.add(message)
            if not self._user_chose and self.model.ranked:
                self._auto_selecting = True
                self.table.selectRow(0)  # the least typical so far, until the user picks another
                self._auto_selecting = False
            elif self.table.currentIndex().isValid():
                self.show_row(self.table.currentIndex().row())  # a row inserted above renumbers it
        else:
            _, self.total, self.model.reference = message
            self.progress.setRange(0, self.total)

    def _progress(self, done: int, total: int) -> None:
        if not self._closing:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _failed(self, message: str) -> None:
        self.state = "failed"
        if not self._closing:
            self.status.setText(f"<span style='color:#c0392b'><b>Cannot scan:</b> {message}</span>")

    def _done(self) -> None:
        self.job = None
        if self._closing:
            self._release()
            return
        self.progress.hide()
        self.cancel_button.hide()
        if self.state == "failed":
            return
        ranked, unreadable = len(self.model.ranked), len(self.model.unreadable)
        scanned = ranked + unreadable
        if self.state == "cancelled":
            head = f"Cancelled after {scanned} of {self.total} files: {ranked} ranked so far"
        else:
            self.state = "done"
            head = f"{ranked} files ranked, least typical first"
        unread = f"; {unreadable} could not be read (listed last, in red)" if unreadable else ""
        self.status.setText(f"{head}{unread}. Percentiles among {self.model.reference}.")

    # --- rows ----------------------------------------------------------------------------------

    def _current_changed(self, current, previous) -> None:
        self._user_chose = self._user_chose or not self._auto_selecting
        self.show_row(current.row())

    def show_row(self, index: int) -> None:
        row = self.model.row(index)
        self.open_button.setEnabled(row is not None and row.scanned is not None)
        if row is None:
            return
        name = self.model.name(row.path)
        if row.scanned is None:
            self.picture.set_pixmap(QPixmap())
            self.caption.setText(f"<b>{name}</b> cannot be read: {row.reason}")
            return
        scanned = row.scanned
        self.picture.set_pixmap(QPixmap(str(scanned.overlay)) if scanned.overlay else QPixmap())
        self.caption.setText(
            f"<b>{index + 1}. {name}</b> · {percentile_text(scanned.percentile)} · worst at {scanned.worst} (red)"
        )

    def open_row(self, index: int) -> bool:
        """Open row `index`'s file as endpoint A of the tab, as File → Open file as endpoint… does."""
        row = self.model.row(index)
        if row is None or row.scanned is None:
            return False
        if self.view.open_endpoint_file(row.path, "A"):
            self.opened.emit(row.path)
            self.caption.setText(f"<b>{self.model.name(row.path)}</b> is endpoint A in the tab now.")
            return True
        return False

    # --- closing --------------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        """Stop the scan; the overlays go once the worker has left their folder."""
        self._closing = True
        if self.job is not None:
            self.job.cancel()
        else:
            self._release()
        event.accept()

    def _release(self) -> None:
        self._overlays.cleanup()
        self.deleteLater()


def ask_and_scan(view, parent: QWidget | None = None) -> ScanDialog | None:
    """File → Scan folder…: ask for a folder (starting in the tab's last-used one) and scan it."""
    folder = QFileDialog.getExistingDirectory(
        parent, f"Scan a folder with {view.generator.name}", view.last_open_folder
    )
    if not folder:
        return None
    return scan_folder(view, folder, parent)


def scan_folder(view, folder: str | Path, parent: QWidget | None = None) -> ScanDialog:
    """Open the scan dialog on `folder` and start its scan (the menu comes here; so do the tests)."""
    view.last_open_folder = str(folder)  # the next Open… starts where the user was looking
    dialog = ScanDialog(view, folder, parent)
    dialog.show()
    dialog.start()
    return dialog
