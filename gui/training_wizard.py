"""File → New model…: a wizard that trains a model on the user's own data.

Four pages: the domain, data folder and optional model to fine-tune; a data report (items per
label, held-out items, skipped files with reasons), read in a worker, and the folder's least
typical files as the shipped model (or the model being fine-tuned) judges them, scored in a worker
too, each of which the user can tick to leave out of training (training then reads a copy of the
folder without them, kept beside the new checkpoint and named in its card); the settings, each control
made from its TrainConfig field (label, help as the tooltip, range, default); and the training
itself, a job of `gui.workers.JobRunner`, with progress, time left, live loss curves, the log,
Cancel and Resume. When the checkpoint is written, the wizard says what its held-out measurement
means (or that there was none) and asks before the new model takes the place of the one its
domain's tab shows; `model_ready` announces it then (the main window opens it). Training
callbacks run in the worker thread and reach the UI only through the job's signals
(`TrainingProgress`); the card records the `main.py train` command that runs the same training
again. New models are saved under the app's data folder, in `models/`.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import Field, asdict, fields, replace
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from generators.core.checkpoint import checkpoint_paths
from generators.core.errors import TrainingCancelled, UserError
from generators.core.evaluation import heldout_note
from generators.core.naming import train_command
from generators.core.scan import files_in, reference_scores
from generators.core.train import TrainConfig, settings_for
from generators.registry import domain_class, load_generator
from generators.training_run import MEASURING_LINE, TrainingRequest, resume_path_for, train_and_save

from .loss_plot import LossPlot
from .scan_panel import ScanRow, percentile_text, scan_rows
from .screen_size import resize_to_fit
from .storage import AppStorage
from .training_report import (
    MAX_SCANNED,
    DataReport,
    available_domains,
    build_report,
    holdout_without,
    judge_for,
    kept_copy,
    kept_copy_path,
    scan_sample,
)
from .workers import Job, JobRunner

OUT_TIP = (
    "Where the checkpoint (.safetensors weights and .json card) is written. An existing "
    "checkpoint is never replaced without asking."
)

# The TrainConfig fields the wizard shows, in order. Each control is made from the field's
# metadata (kind, label, help, bounds) and default: nothing about a setting is retyped here.
WIZARD_SETTINGS = ("latent_size", "beta", "epochs", "contractive", "prior_components")
SETTINGS: dict[str, Field] = {spec.name: spec for spec in fields(TrainConfig)}
MAX_WHOLE = 2**31 - 1  # QSpinBox holds a C int; an open bound stops there
MAX_NUMBER = 1e6  # an open bound of a number box
DECIMALS = {"number": 4, "rate": 6}


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def range_text(least, most) -> str:
    if least is not None and most is not None:
        return f"{least:g} to {most:g}"
    if least is not None:
        return f"at least {least:g}"
    return "any value" if most is None else f"at most {most:g}"


def setting_control(spec: Field) -> QWidget:
    """A control for one TrainConfig field, from its metadata: a spin box for a whole number,
    a decimal box for a number or a rate (a rate above 0), a combo box for a choice; its value
    starts at the field's default, its tooltip is the field's help with the range and CLI flag."""
    meta = spec.metadata
    kind, (least, most) = meta["kind"], meta["bounds"]
    if kind == "choice":
        box = QComboBox()
        for choice in meta["choices"]:
            box.addItem(str(choice), choice)
        box.setCurrentIndex(box.findData(spec.default))
        allowed = ", ".join(map(str, meta["choices"]))
    elif kind == "whole":
        box = QSpinBox()
        box.setRange(-MAX_WHOLE if least is None else least, MAX_WHOLE if most is None else min(most, MAX_WHOLE))
        box.setValue(spec.default)
        allowed = range_text(least, most)
    else:
        box = QDoubleSpinBox()
        box.setDecimals(DECIMALS[kind])
        low = -MAX_NUMBER if least is None else least
        if kind == "rate":
            low = max(low, 10.0 ** -DECIMALS[kind])  # a rate of 0 would freeze the weights
        box.setRange(low, MAX_NUMBER if most is None else most)
        box.setSingleStep(spec.default / 10 if kind == "rate" else 0.1 if spec.default >= 1 else 0.01)
        box.setValue(spec.default)
        allowed = range_text(low, most) if kind == "rate" else range_text(least, most)
    if kind != "choice" and least == 0 and spec.default == 0:
        box.setSpecialValueText("off")
    box.setToolTip(f"{sentence(meta['help'])} Allowed: {allowed}. On the command line: {meta['flag']}.")
    return box


def control_value(box: QWidget):
    """The value a `setting_control` holds, of its field's type."""
    if isinstance(box, QComboBox):
        return box.currentData()
    return box.value()


def set_control_value(box: QWidget, value) -> None:
    if isinstance(box, QComboBox):
        box.setCurrentIndex(box.findData(value))
    else:
        box.setValue(value)


def hint(text: str) -> QLabel:
    label = QLabel(f"<small>{text}</small>")
    label.setContentsMargins(0, 0, 0, 6)
    return label


def models_folder(storage: AppStorage) -> Path:
    """Where new models are saved by default: `models/` in the app's data folder. Qt names that
    folder organisation/application, which for this app is ".../Latent Forge/Latent Forge"; the
    models go once under ".../Latent Forge", where a user looking for them finds them."""
    data = storage.data_dir
    if data.name and data.name == data.parent.name:
        data = data.parent
    return data / "models"


def heldout_summary(metrics: dict) -> str:
    """One sentence on what the card's held-out measurement says (or that there was none)."""
    if metrics.get("measured") is False:  # the user skipped the measuring: say so, and how to measure
        note = str(metrics.get("note", "measuring was skipped"))
        return f"<b>Not measured:</b> {note}."
    note = heldout_note(metrics)
    if note:
        return f"<b>Not measured on held-out data:</b> {note[:1].lower()}{note[1:]}."
    parts = [f"{metrics['heldout_items']} held-out items"]
    if "negative_elbo_nats" in metrics:
        parts.append(f"−ELBO {metrics['negative_elbo_nats']:.1f} nats per item")
    if "iwae_nats" in metrics:
        parts.append(f"IWAE bound {metrics['iwae_nats']:.1f}")
    if "reconstruction_accuracy" in metrics:
        parts.append(f"reconstruction {100 * metrics['reconstruction_accuracy']:.1f}% of cells")
    return "Measured on " + ", ".join(parts) + " (Help → About this model shows every metric)."


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "model"


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def table(headers: list[str], stretch: int) -> QTableWidget:
    widget = QTableWidget(0, len(headers))
    widget.setHorizontalHeaderLabels(headers)
    widget.verticalHeader().setVisible(False)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return widget


def fill_table(widget: QTableWidget, rows: list[tuple]) -> None:
    widget.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(str(value))
            item.setToolTip(str(value))
            if isinstance(value, int):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            widget.setItem(r, c, item)


# --- page 1: domain, data, base model -----------------------------------------------------


class SourcePage(QWizardPage):
    def __init__(self, base_checkpoint: str | Path | None):
        super().__init__()
        self.setTitle("Data")
        self.setSubTitle("Pick what to train and the folder of your own data.")
        self.domain = QComboBox()
        for name in available_domains():
            self.domain.addItem(name.capitalize(), name)
        self.domain.setToolTip("The kind of asset the new model makes. Domains not listed are not in this version yet.")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("data folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.fine_tune = QCheckBox("Fine-tune an existing model instead of starting from scratch")
        self.fine_tune.setToolTip(
            "Start from a trained model's weights (MidiMe-style personalisation on a small set). "
            "The new card records the model it descends from; its latent size is kept."
        )
        self.base = QLineEdit(str(base_checkpoint) if base_checkpoint else "")
        self.base.setPlaceholderText("checkpoint to fine-tune (.safetensors)")
        base_browse = QPushButton("Browse…")
        base_browse.clicked.connect(self.choose_base)
        base_row = QHBoxLayout()
        base_row.addWidget(self.base, 1)
        base_row.addWidget(base_browse)
        self.base_widgets = (self.base, base_browse)

        form = QFormLayout(self)
        form.addRow("Domain:", self.domain)
        form.addRow("", self.hint)
        form.addRow("Data folder:", folder_row)
        form.addRow(self.fine_tune)
        form.addRow("Base model:", base_row)
        self.domain.currentIndexChanged.connect(self._domain_changed)
        self.folder.textChanged.connect(self.completeChanged)
        self.base.textChanged.connect(self.completeChanged)
        self.fine_tune.toggled.connect(self._fine_tune_toggled)
        self._domain_changed()
        self._fine_tune_toggled(False)

    def domain_name(self) -> str:
        return self.domain.currentData() or ""

    def set_domain(self, name: str) -> None:
        self.domain.setCurrentIndex(max(0, self.domain.findData(name)))

    def init_checkpoint(self) -> str | None:
        return self.base.text().strip() if self.fine_tune.isChecked() and self.base.text().strip() else None

    def _domain_changed(self, *args) -> None:
        self.hint.setText(f"<small>{domain_class(self.domain_name()).training_folder_hint}</small>")

    def _fine_tune_toggled(self, on: bool) -> None:
        for widget in self.base_widgets:
            widget.setEnabled(on)
        self.completeChanged.emit()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def choose_base(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Model to fine-tune", self.base.text(), "Latent Forge checkpoints (*.safetensors *.json)"
        )
        if path:
            self.base.setText(path)

    def isComplete(self) -> bool:
        folder = self.folder.text().strip()
        if not folder or not Path(folder).is_dir():
            return False
        return not self.fine_tune.isChecked() or bool(self.base.text().strip())


# --- page 2: the data report --------------------------------------------------------------


class ReportPage(QWizardPage):
    report_ready = Signal(object)  # DataReport, or None when the data cannot be used

    def __init__(self, runner: JobRunner, judges: dict[str, Path] | None = None):
        """`judges`: the checkpoint that scores each domain's folders (default: the shipped ones)."""
        super().__init__()
        self.setTitle("Data report")
        self.setSubTitle("What training will see: items per label, held-out items, and files left out.")
        self.runner = runner
        self.judges = judges
        self.scan_job: Job | None = None
        self.scanned: list[ScanRow] = []  # the files scored, least typical first once done
        self.scan_state = "idle"  # scanning, done, cancelled, failed
        self.scan_total, self.scan_of, self.scan_judge = 0, 0, ""  # files scored, of how many, by which model
        self.report: DataReport | None = None
        self.error: str | None = None
        self._token = 0
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.labels = table(["Label", "Training items"], stretch=0)
        self.labels.setToolTip(
            "How many training items show each label. Labels can overlap, so the counts "
            "need not add up to the number of items."
        )
        self.skipped_title = QLabel()
        self.skipped = table(["File", "Reason"], stretch=1)
        self.skipped.setToolTip("Files that training leaves out, and why. Fix them, or train without them.")
        self.scan_title = QLabel()
        self.scan_title.setWordWrap(True)
        self.scan_progress = QProgressBar()
        self.scan_progress.setFormat("scoring %v of %m files")
        self.scan_cancel = QPushButton("Cancel")
        self.scan_cancel.setToolTip("Stop scoring before the next file; the files scored so far are listed")
        self.scan_cancel.clicked.connect(self.cancel_scan)
        self.least = table(["Leave out", "File", "Typicality", "Worst at"], stretch=1)
        self.least.setToolTip(
            "The folder's files, least typical first, as a trained model of this kind judges them. "
            "Tick a file to train without it."
        )
        self.least.itemChanged.connect(lambda item: item.column() == 0 and self._ticks_changed())
        self.left_out_note = QLabel()
        self.left_out_note.setWordWrap(True)
        scan_row = QHBoxLayout()
        scan_row.addWidget(self.scan_title, 1)
        scan_row.addWidget(self.scan_progress)
        scan_row.addWidget(self.scan_cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.summary)
        layout.addWidget(self.labels, 2)
        layout.addWidget(self.skipped_title)
        layout.addWidget(self.skipped, 1)
        layout.addLayout(scan_row)
        layout.addWidget(self.least, 2)
        layout.addWidget(self.left_out_note)
        self._show_scan_busy(False)

    def initializePage(self) -> None:
        source: SourcePage = self.wizard().source_page
        self.report, self.error = None, None
        self._token += 1
        token = self._token
        self.busy.show()
        self.summary.setText(f"Reading {source.folder.text().strip()}…")
        fill_table(self.labels, [])
        fill_table(self.skipped, [])
        self.skipped_title.setText("")
        self._reset_scan()
        domain, folder, init = source.domain_name(), source.folder.text().strip(), source.init_checkpoint()
        self.runner.start(
            lambda job: build_report(domain, folder, init),
            on_success=lambda report: self._show(token, report, None),
            on_failure=lambda message: self._show(token, None, message),
        )
        self.completeChanged.emit()

    def _show(self, token: int, report: DataReport | None, error: str | None) -> None:
        if token != self._token:
            return  # the user went back and asked again; this answer is stale
        self.busy.hide()
        self.report, self.error = report, error
        if report is None:
            self.summary.setText(
                f"<p style='color:#c0392b'><b>This folder cannot be used for training:</b><br>{error}</p>"
                "<p>Go <b>Back</b> and pick another folder.</p>"
            )
        else:
            held = f", {report.holdout_items} held out for validation" + (
                f" ({', '.join(report.holdout)})" if report.holdout else ""
            )
            parent = (
                f"<br>Fine-tuning <b>{report.parent_name}</b> (latent size {report.parent_latent})."
                if report.parent_name
                else ""
            )
            self.summary.setText(
                f"<b>{report.train_items} training items</b>"
                f"{held if report.holdout_items else ', none held out (no validation curves)'}."
                f"{parent}"
            )
            fill_table(self.labels, report.label_counts)
            folder = report.folder
            rows = []
            for file, reason in report.skipped:
                try:
                    short = str(Path(file).relative_to(folder))
                except ValueError:
                    short = file
                rows.append((short, reason.replace(file, short) if file else reason))
            fill_table(self.skipped, rows)
            self.skipped.setVisible(bool(rows))  # an empty table would take the room the ranked files need
            self.skipped_title.setText(f"<b>{len(rows)} file(s) skipped</b>" if rows else "No file was skipped.")
            self.start_scan(token, report)
        self.completeChanged.emit()
        self.report_ready.emit(report)

    # --- the least typical files, and those left out ----------------------------------------------

    def _reset_scan(self) -> None:
        if self.scan_job is not None:
            self.scan_job.cancel()  # a scan of the folder asked before; its rows no longer apply
        self.scan_job, self.scanned, self.scan_state = None, [], "idle"
        self.least.setRowCount(0)
        self.scan_title.setText("")
        self.left_out_note.setText("")
        self._show_scan_busy(False)

    def _show_scan_busy(self, busy: bool) -> None:
        self.scan_progress.setVisible(busy)
        self.scan_cancel.setVisible(busy)

    def start_scan(self, token: int, report: DataReport) -> Job | None:
        """Score up to MAX_SCANNED of the folder's files with the judging model, in the wizard's
        runner (after the report, which it waits for on the runner's one thread)."""
        source: SourcePage = self.wizard().source_page
        judge = judge_for(report.domain, source.init_checkpoint(), self.judges)
        if judge is None:
            self.scan_title.setText(f"No {report.domain} model to judge how typical these files are.")
            return None
        domain, folder = report.domain, report.folder

        def work(job: Job):
            generator = load_generator(judge, domain=domain)
            paths = files_in(folder, generator.domain.read_formats)
            chosen = scan_sample(paths, MAX_SCANNED)
            reference = reference_scores(generator)
            job.send(("started", len(chosen), len(paths), generator.name))
            return scan_rows(generator, chosen, reference, job)

        def current() -> bool:
            return token == self._token

        self.scan_state, self.scan_total, self.scan_of, self.scan_judge = "scanning", 0, 0, judge.stem
        self.scan_title.setText(f"Scoring the files with {judge.stem}…")
        self.scan_progress.setRange(0, 0)
        self._show_scan_busy(True)
        self.scan_job = self.runner.start(
            work,
            on_message=lambda message: current() and self._scan_message(message),
            on_progress=lambda done, total: current() and self._scan_progress(done, total),
            on_failure=lambda message: current() and self._scan_failed(message),
            on_done=lambda: current() and self._scan_done(),
        )
        return self.scan_job

    def _scan_progress(self, done: int, total: int) -> None:
        self.scan_progress.setRange(0, total)
        self.scan_progress.setValue(done)

    def cancel_scan(self) -> None:
        """Stop scoring before the next file; what was scored is listed."""
        if self.scan_job is not None and not self.scan_job.cancelled:
            self.scan_job.cancel()
            self.scan_state = "cancelled"
            self.scan_title.setText("Cancelling before the next file…")

    def _scan_message(self, message) -> None:
        if isinstance(message, ScanRow):
            self.scanned.append(message)
        else:
            _, self.scan_total, self.scan_of, self.scan_judge = message

    def _scan_failed(self, message: str) -> None:
        self.scan_state = "failed"
        self.scan_title.setText(f"Typicality not shown: {self.scan_judge} cannot judge this folder ({message}).")

    def _scan_done(self) -> None:
        self.scan_job = None
        self._show_scan_busy(False)
        if self.scan_state == "failed":
            return
        rows = sorted((r for r in self.scanned if r.scanned is not None), key=lambda r: r.scanned.score)
        unread = [r for r in self.scanned if r.scanned is None]
        self.scanned = rows + unread
        if not rows and unread:  # a model of this kind that cannot read this folder: one line, move on
            self.scan_state = "failed"
            self.scan_title.setText(
                f"Typicality not shown: {self.scan_judge} cannot read these files "
                f"(first: {unread[0].reason.replace(str(self.report.folder) + '/', '')})."
            )
            return
        done = len(self.scanned)
        sample = f" (an even sample of {self.scan_of})" if self.scan_total < self.scan_of else ""
        head = (
            f"Cancelled after {done} of {self.scan_total} files"
            if self.scan_state == "cancelled"
            else f"<b>{len(rows)} file(s)</b>{sample}"
        )
        self.scan_state = "cancelled" if self.scan_state == "cancelled" else "done"
        unread_text = f"; {len(unread)} it cannot read are not ranked" if unread else ""
        self.scan_title.setText(
            f"{head}, least typical first, as {self.scan_judge} judges them{unread_text}. "
            "Tick any to leave out of training."
        )
        self.least.blockSignals(True)
        self.least.setRowCount(len(rows))
        for r, row in enumerate(rows):
            tick = QTableWidgetItem()
            tick.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            tick.setCheckState(Qt.CheckState.Unchecked)
            tick.setData(Qt.ItemDataRole.UserRole, str(row.path))
            self.least.setItem(r, 0, tick)
            for c, text in enumerate(
                (self._short(row.path), percentile_text(row.scanned.percentile), row.scanned.worst)
            ):
                item = QTableWidgetItem(text)
                item.setToolTip(str(row.path) if c == 0 else text)
                self.least.setItem(r, c + 1, item)
        self.least.blockSignals(False)

    def _short(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.report.folder))
        except (ValueError, AttributeError):
            return str(path)

    def left_out(self) -> list[Path]:
        """The files ticked to leave out of training."""
        found = []
        for r in range(self.least.rowCount()):
            item = self.least.item(r, 0)
            if item is not None and item.checkState() == Qt.CheckState.Checked:
                found.append(Path(item.data(Qt.ItemDataRole.UserRole)))
        return found

    def _ticks_changed(self) -> None:
        gone = self.left_out()
        if not gone:
            self.left_out_note.setText("")
            return
        note = (
            f"<b>{len(gone)} file(s) will be left out of training.</b> The model trains on a copy of the "
            "folder without them, saved beside it (NAME-data); the counts above still include them."
        )
        if self.report is not None and holdout_without(self.report, gone) != tuple(self.report.holdout):
            held = ", ".join(holdout_without(self.report, gone)) or "nothing (no validation curves)"
            note += f" Held out for validation instead: {held}."
        self.left_out_note.setText(note)

    def isComplete(self) -> bool:
        return self.report is not None


# --- page 3: settings ---------------------------------------------------------------------


class SettingsPage(QWizardPage):
    def __init__(self, storage: AppStorage):
        super().__init__()
        self.setTitle("Settings")
        self.setSubTitle("Hover over a setting to see what it does.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Train")
        self.storage = storage
        self.resume = False
        self.defaults_shown = None  # the asset kind whose training defaults the controls were set to
        # One control per shown TrainConfig field, made from its metadata.
        self.controls: dict[str, QWidget] = {name: setting_control(SETTINGS[name]) for name in WIZARD_SETTINGS}
        self.out = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out, 1)
        out_row.addWidget(browse)
        form = QFormLayout(self)
        for name, widget in self.controls.items():
            meta = SETTINGS[name].metadata
            form.addRow(f"{meta['label']}:", widget)
            form.labelForField(widget).setToolTip(widget.toolTip())
            if meta["help"].lower() != meta["label"].lower():  # a line under it, unless it only repeats the label
                form.addRow("", hint(sentence(meta["help"])))
        self.out.setToolTip(OUT_TIP)
        form.addRow("Save as:", out_row)
        form.labelForField(out_row).setToolTip(OUT_TIP)
        self.out.textChanged.connect(self.completeChanged)

    def initializePage(self) -> None:
        report: DataReport = self.wizard().report_page.report
        # Start from what this asset kind trains best with (images: fewer epochs, a wider latent),
        # once per kind: coming back to this page keeps what the user set.
        if self.defaults_shown != report.domain:
            defaults = TrainConfig(**domain_class(report.domain).training_defaults)
            for name, control in self.controls.items():
                set_control_value(control, getattr(defaults, name))
            self.defaults_shown = report.domain
        latent = self.controls["latent_size"]
        latent.setEnabled(report.parent_latent is None)
        if report.parent_latent is not None:
            latent.setValue(report.parent_latent)  # fine-tuning keeps the parent's latent size
        stem = slug(f"{report.domain}-{report.folder.name}" + ("-tuned" if report.parent_name else ""))
        self.out.setText(str(models_folder(self.storage) / stem / f"{stem}.safetensors"))

    def choose_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the model as",
            self.out.text(),
            "Latent Forge checkpoints (*.safetensors)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.out.setText(path)

    def values(self) -> dict:
        """The shown settings by TrainConfig field name."""
        return {name: control_value(widget) for name, widget in self.controls.items()}

    def output(self) -> Path:
        return checkpoint_paths(self.out.text().strip())[0]

    def isComplete(self) -> bool:
        return bool(self.out.text().strip())

    def validatePage(self) -> bool:
        """Never replace a checkpoint silently; offer to continue an interrupted run."""
        try:
            weights, card = checkpoint_paths(self.out.text().strip())
        except UserError as error:
            QMessageBox.warning(self, "Cannot save there", str(error))
            return False
        self.resume = False
        if weights.exists() or card.exists():
            answer = QMessageBox.question(
                self,
                "Replace the model?",
                f"{weights} already exists. Replace it with the new model?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        if resume_path_for(weights).exists():
            answer = QMessageBox.question(
                self,
                "Continue the interrupted run?",
                f"An interrupted training run of {weights.name} was saved. Continue it from its last "
                "finished epoch? (No starts over.)",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes,
            )
            self.resume = answer == QMessageBox.StandardButton.Yes
        return True


# --- page 4: training ---------------------------------------------------------------------


class TrainingProgress:
    """Trainer callbacks in the worker thread, passed on through the run's Job: every step is
    `job.report(done, total)` over the whole run, every epoch a message ("epoch", record as a
    dict, total epochs), every log line a message ("log", line). When the job is cancelled,
    the trainer is asked to stop at its next step (every finished epoch stays resumable)."""

    def __init__(self, job: Job, epochs: int):
        self.job = job
        self.epochs = epochs
        self.trainer = None
        self.measuring = False  # training is over and the card's figures are being measured

    def trainer_ready(self, trainer) -> None:
        self.trainer = trainer
        if self.job.cancelled:  # cancelled while the data was read
            trainer.cancel()

    def on_step(self, epoch: int, step: int, steps_per_epoch: int) -> None:
        self.job.report((epoch - 1) * steps_per_epoch + step, self.epochs * steps_per_epoch)
        if self.job.cancelled and self.trainer is not None:
            self.trainer.cancel()  # the trainer checks right after this callback

    def on_epoch_end(self, record, total_epochs: int) -> None:
        self.job.send(("epoch", asdict(record), total_epochs))

    def log(self, line: str) -> None:
        """Pass a log line on; once the model is being measured, a Cancel skips the rest of the
        measuring (raised here, at the next phase, and caught by `train_and_save`, which then
        writes the card without figures: the trained model is kept)."""
        if self.measuring and self.job.cancelled:
            raise TrainingCancelled("measuring skipped")
        self.measuring = self.measuring or line == MEASURING_LINE
        self.job.send(("log", line))


def run_training(request: TrainingRequest, job: Job) -> Path:
    """The body of a training job: `train_and_save(request)`, reporting through `job`."""
    progress = TrainingProgress(job, request.config.epochs)
    left_out = request.extra_card.get("left_out")
    if left_out:
        copy = kept_copy(Path(left_out["folder"]), [Path(p) for p in left_out["files"]], Path(left_out["copy"]))
        progress.log(f"training on {copy}: {left_out['folder']} without {len(left_out['files'])} file(s) left out")
    return train_and_save(request, [progress], log=progress.log, trainer_ready=progress.trainer_ready)[0]


class TrainingPage(QWizardPage):
    run_started = Signal(object)  # the Job of a run, before it can report anything

    def __init__(self):
        super().__init__()
        self.setTitle("Training")
        self.setSubTitle("Training runs in the background; you can cancel and resume it.")
        self.runner = JobRunner(self, threads=1)
        self.job: Job | None = None
        self.request: TrainingRequest | None = None
        self.result: Path | None = None
        self.state = "idle"  # idle, running, measuring, cancelled, failed, done
        self.measured = ""  # what the finished model's card says of its held-out measurement
        self._run_started = 0.0
        self._first_step: tuple[float, int] | None = None  # (time, global step) of this run's first step
        self.status = QLabel("Starting…")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.time_left = QLabel("")
        self.time_left.setMinimumWidth(170)
        self.time_left.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.plot = LossPlot()
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip(
            "Plot the losses on a logarithmic axis, so the small KL curve is readable next to reconstruction"
        )
        self.log_scale.toggled.connect(self.plot.set_log_scale)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setFixedHeight(96)
        self.cancel_button = QPushButton("Cancel training")
        self.cancel_button.setToolTip(
            "Stop after the current step. Every finished epoch is saved, so the run can be resumed."
        )
        self.cancel_button.clicked.connect(self.cancel_training)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip(
            "Continue the cancelled run from its last finished epoch, with the optimiser state"
        )
        self.resume_button.clicked.connect(self.resume_training)
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.time_left)
        buttons = QHBoxLayout()
        buttons.addWidget(self.log_scale)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.resume_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.log)
        self._set_buttons()

    def initializePage(self) -> None:
        wizard: TrainingWizard = self.wizard()
        self.plot.clear()
        self.log.clear()
        try:
            request = wizard.training_request()
        except UserError as error:  # settings no training can use
            self.request = None
            self._failed(str(error), False)
            return
        self.start(request)

    # --- running ----------------------------------------------------------------------------

    def start(self, request: TrainingRequest) -> None:
        """Start (or resume) a run of `request` as a job of this page's runner."""
        self.request = request
        self.result = None
        self.plot.set_total_epochs(request.config.epochs)
        if request.resume and not self.plot.point_count():
            self._plot_saved_history(request.out)
        self._run_started, self._first_step = time.perf_counter(), None
        self.progress.setRange(0, 0)
        self.time_left.setText("")
        self.state = "running"
        self.status.setText("Resuming from the last finished epoch…" if request.resume else "Reading the data…")
        self._set_buttons()
        self.completeChanged.emit()
        # keep_result: a run that had finished when Cancel came still delivers its checkpoint.
        self.job = self.runner.start(
            lambda job: run_training(request, job),
            on_success=self._succeeded,
            on_failure=lambda message: self._failed(message, self.job is not None and self.job.cancelled),
            on_progress=self._step,
            on_message=self._message,
            keep_result=True,
            before_start=self.run_started.emit,
        )

    def cancel_training(self) -> None:
        if self.job is not None and self.state == "running":
            self.job.cancel()
            self.status.setText("Cancelling after the current step…")
            self.cancel_button.setEnabled(False)
        elif self.job is not None and self.state == "measuring":
            self.job.cancel()  # the model is saved; only its figures are skipped
            self.status.setText("Skipping the rest of the measuring at its next step; the model is kept…")
            self.cancel_button.setEnabled(False)

    def resume_training(self) -> None:
        if self.state == "cancelled" and self.request is not None and self.can_resume():
            self.start(replace(self.request, resume=True))

    def can_resume(self) -> bool:
        return self.request is not None and resume_path_for(checkpoint_paths(self.request.out)[0]).exists()

    def is_running(self) -> bool:
        return self.state in ("running", "measuring")

    def stop(self, msecs: int = 60000) -> None:
        """Cancel a run in progress and wait for it to end (the wizard is closing); no callback
        of this page runs afterwards."""
        self.runner.shutdown(msecs)

    def _plot_saved_history(self, out: Path) -> None:
        card = resume_path_for(checkpoint_paths(out)[0]).with_suffix(".json")
        try:
            history = json.loads(card.read_text(encoding="utf-8")).get("history", [])
            for record in history:
                self.plot.add_record(record)
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            pass  # the plot only misses the earlier epochs

    # --- news from the job --------------------------------------------------------------------

    def _step(self, done: int, total: int) -> None:
        """Step `done` (1-based) of the `total` steps of the whole run."""
        if self.state != "running":
            return
        epochs = self.request.config.epochs
        steps_per_epoch = max(total // epochs, 1)
        epoch, step = (done - 1) // steps_per_epoch + 1, (done - 1) % steps_per_epoch + 1
        now = time.perf_counter()
        if self._first_step is None:
            self._first_step = (now, done)
            self.status.setText(f"Training: epoch {epoch} of {epochs}")
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"epoch {epoch}/{epochs} · step {step}/{steps_per_epoch} · %p%")
        started, first = self._first_step
        if done > first:
            # Wall time per step of this run, validation included; the first step is the baseline.
            per_step = (now - started) / (done - first)
            self.time_left.setText(f"about {format_seconds(per_step * (total - done))} left")

    def _message(self, message: tuple) -> None:
        kind, *content = message
        if kind == "epoch":
            self._epoch_done(*content)
        elif kind == "log":
            self.log.appendPlainText(*content)
            if self.state == "measuring" and self.cancel_button.isEnabled():  # the phase it is in
                self.status.setText(f"Training done. Measuring the model: {content[0].strip()}")

    def _epoch_done(self, record: dict, total_epochs: int) -> None:
        self.plot.set_total_epochs(total_epochs)
        self.plot.add_record(record)
        val = record.get("val_negative_elbo")
        self.log.appendPlainText(
            f"epoch {record['epoch']}/{total_epochs}: train loss {record['train_loss']:.2f} "
            f"(reconstruction {record['train_reconstruction']:.2f}, KL {record['train_kl']:.2f})"
            + (f", validation −ELBO {val:.2f}" if val is not None else "")
            + f", {record['seconds']:.1f} s"
        )
        if self.state == "running":
            if record["epoch"] >= total_epochs:
                self.state = "measuring"
                self.progress.setRange(0, 0)
                self.progress.setFormat("")
                self.time_left.setText("")
                report = self.wizard().report_page.report
                held = report is None or report.holdout_items > 0
                measured = "on its held-out data" if held else "(nothing was held out: its samples only)"
                self.status.setText(f"Training done. Measuring the model {measured} and writing its card…")
                self._set_buttons()
            else:
                self.status.setText(f"Training: epoch {record['epoch'] + 1} of {total_epochs}")

    def _succeeded(self, weights: Path) -> None:
        self.state = "done"
        self.result = Path(weights)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("done")
        self.time_left.setText(f"took {format_seconds(time.perf_counter() - self._run_started)}")
        self.measured = self._measured(self.result)
        self.status.setText(f"<b>Done.</b> Saved {self.result} with its card. {self.measured}")
        self._set_buttons()
        self.completeChanged.emit()
        opened = self.wizard().offer_model(self.result)
        where = "It is open in the app." if opened else "It was not opened: File → Open model… (Ctrl+O) opens it."
        self.status.setText(f"<b>Done.</b> Saved {self.result} with its card. {where}<br>{self.measured}")

    @staticmethod
    def _measured(weights: Path) -> str:
        """What the card says of the held-out measurement, in a sentence."""
        try:
            card = json.loads(checkpoint_paths(weights)[1].read_text(encoding="utf-8"))
            return heldout_summary(card.get("metrics", {}))
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            return "Its card could not be read back to show its measurements."

    def _failed(self, message: str, cancelled: bool) -> None:
        self.time_left.setText("")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("stopped")
        if cancelled:
            self.state = "cancelled"
            epochs = self.plot.series[("train", "elbo")]
            last = epochs[-1][0] if epochs else 0
            if self.can_resume():
                self.status.setText(
                    f"<b>Training cancelled</b> after epoch {last} of {self.request.config.epochs}. "
                    "It was saved: <b>Resume</b> continues from there (also after closing this window, "
                    "by training to the same file again)."
                )
            else:
                self.status.setText(
                    "<b>Training cancelled</b> before the first epoch finished; nothing was saved to resume. "
                    "Resume starts it again."
                )
        else:
            self.state = "failed"
            self.status.setText(f"<p style='color:#c0392b'><b>Training failed:</b> {message}</p>")
        self.log.appendPlainText("cancelled; Resume continues from the last finished epoch" if cancelled else message)
        self._set_buttons()
        self.completeChanged.emit()

    def _set_buttons(self) -> None:
        self.cancel_button.setEnabled(self.state in ("running", "measuring"))
        self.cancel_button.setText("Skip measuring" if self.state == "measuring" else "Cancel training")
        self.resume_button.setEnabled(self.state == "cancelled")

    def isComplete(self) -> bool:
        return self.state == "done"


# --- the wizard ---------------------------------------------------------------------------


class TrainingWizard(QWizard):
    """File → New model…. `model_ready(path)` fires as soon as the checkpoint is written."""

    model_ready = Signal(object)

    def __init__(
        self,
        storage: AppStorage,
        base_checkpoint: str | Path | None = None,
        parent: QWidget | None = None,
        request_options: dict | None = None,
        judges: dict[str, Path] | None = None,
    ):
        """`base_checkpoint` is offered for fine-tuning (the open model); `request_options`
        are TrainConfig fields the page does not show (tests make evaluation cheap with them);
        `judges`: the model that scores each domain's data folder (default: the shipped one)."""
        super().__init__(parent)
        self.setWindowTitle("New model")
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.HaveFinishButtonOnEarlyPages, False)
        self.request_options = dict(request_options or {})
        self.runner = JobRunner(self, threads=1)
        self.source_page = SourcePage(base_checkpoint)
        self.report_page = ReportPage(self.runner, judges)
        self.settings_page = SettingsPage(storage)
        self.training_page = TrainingPage()
        for page in (self.source_page, self.report_page, self.settings_page, self.training_page):
            self.addPage(page)
        resize_to_fit(self, QSize(820, 680))

    def training_request(self) -> TrainingRequest:
        """The request the settings describe; its card records the CLI command that runs it again.
        Raises UserError for settings no training can use."""
        source, report, settings = self.source_page, self.report_page.report, self.settings_page
        defaults = domain_class(source.domain_name()).training_defaults
        config = settings_for(defaults, {**settings.values(), **self.request_options})
        folder, out, gone = Path(source.folder.text().strip()), settings.output(), self.report_page.left_out()
        data, holdout, extra = folder, tuple(report.holdout) if report else (), {}
        if gone and report is not None:
            # The domains read folders: training reads a copy without the left-out files (made by
            # `run_training`), which the card's command names, so that it trains the same again.
            data, holdout = kept_copy_path(out, folder), holdout_without(report, gone)
            extra = {"left_out": {"folder": str(folder), "files": [str(p) for p in gone], "copy": str(data)}}
        request = TrainingRequest(
            domain=source.domain_name(),
            data=[data],
            out=out,
            config=config,
            holdout=holdout,
            resume=settings.resume,
            init=source.init_checkpoint(),
            extra_card=extra,
        )
        command = train_command(
            request.domain, request.data, request.out, request.config, request.holdout, request.init
        )
        return replace(request, command=command)

    def offer_model(self, weights: Path) -> bool:
        """Open the new model in the app (`model_ready`), asking first: the app has one tab per
        domain, so it takes the place of the model that tab shows, which is the shipped one
        unless another was opened. Returns whether it was opened."""
        domain = self.request_domain()
        answer = QMessageBox.question(
            self,
            "Open the new model?",
            f"{weights.name} is saved. Open it now in the {domain.capitalize()} tab, in place of the "
            f"model that tab shows?\n\nNothing is deleted: the app opens its shipped {domain} model "
            "again on its next start, and File → Open model… opens either at any time.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.model_ready.emit(weights)
        return True

    def request_domain(self) -> str:
        page = self.training_page
        return page.request.domain if page.request is not None else self.source_page.domain_name()

    def reject(self) -> None:
        """Closing while training cancels the run (it stays resumable) before the window goes."""
        page = self.training_page
        if page.is_running():
            answer = QMessageBox.question(
                self,
                "Stop training?",
                "Training is still running. Stop it? Finished epochs are saved and can be resumed.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        super().reject()

    def done(self, result: int) -> None:
        self.training_page.stop()
        self.runner.shutdown()
        super().done(result)
