"""File → New model…: a wizard that trains a model on the user's own data.

Four pages: the domain, data folder and optional model to fine-tune; a data report (items per
label, held-out items, skipped files with reasons), read in a worker; the settings, each with a
tooltip; and the training itself, in a QThread, with progress, time left, live loss curves,
the log, Cancel and Resume. The finished checkpoint is announced by `model_ready` (the main
window opens it at once). Training callbacks run in the worker thread and reach the UI only
through the signals of `TrainingSignals`.
"""
from __future__ import annotations

import json
import re
import threading
import time
import traceback
from dataclasses import asdict, replace
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Qt, Signal
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
from generators.training_run import TrainingRequest, resume_path_for, train_and_save

from .loss_plot import LossPlot
from .storage import AppStorage
from .training_report import FOLDER_HINTS, DataReport, available_domains, build_report
from .workers import JobRunner

TIPS = {
    "latent": "Size of the latent vector z: how many numbers describe one item. Larger sizes can "
              "reconstruct more detail but make the space sparser to sample from. Fixed by the parent "
              "model when fine-tuning.",
    "beta": "Weight of the KL term (a beta-VAE). Above 1: a smoother, more disentangled latent space "
            "and blurrier reconstructions. Below 1: sharper reconstructions, a less regular space. 1 is "
            "the plain VAE.",
    "epochs": "How many passes over the training data. More epochs fit the data more closely and take "
              "longer; the validation curve shows when more stops helping.",
    "contractive": "Weight of a contractive autoencoder's penalty on the encoder's Jacobian "
                   "(||∂μ/∂x||²): nearby inputs get nearby latents, for a smoother latent space. "
                   "0 turns it off; it makes each step about twice as slow.",
    "prior": "After training, fit a mixture of up to this many Gaussians per condition to the codes "
             "the encoder gives the training items, and sample from it instead of N(0, I). Samples "
             "then start where real items of their condition lie, which avoids the blurry in-between "
             "blobs of an empty region of the latent space. 0 keeps the standard normal prior.",
    "out": "Where the checkpoint (.safetensors weights and .json card) is written. An existing "
           "checkpoint is never replaced without asking.",
}


# One line under each setting; the tooltip says more.
HINTS = {
    "latent": "Numbers per item in the latent space.",
    "beta": "KL weight: above 1 smoother and more disentangled, below 1 sharper reconstructions.",
    "epochs": "Passes over the training data.",
    "contractive": "Jacobian penalty for a smoother latent space; off (0) by default.",
    "prior": "Mixture components per condition to sample from; off (0): N(0, I).",
}


def hint(text: str) -> QLabel:
    label = QLabel(f"<small>{text}</small>")
    label.setContentsMargins(0, 0, 0, 6)
    return label


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
        self.fine_tune.setToolTip("Start from a trained model's weights (MidiMe-style personalisation on a small set). "
                                  "The new card records the model it descends from; its latent size is kept.")
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
        self.hint.setText(f"<small>{FOLDER_HINTS.get(self.domain_name(), '')}</small>")

    def _fine_tune_toggled(self, on: bool) -> None:
        for widget in self.base_widgets:
            widget.setEnabled(on)
        self.completeChanged.emit()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def choose_base(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model to fine-tune", self.base.text(), "Latent Forge checkpoints (*.safetensors *.json)")
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

    def __init__(self, runner: JobRunner):
        super().__init__()
        self.setTitle("Data report")
        self.setSubTitle("What training will see: items per label, held-out items, and files left out.")
        self.runner = runner
        self.report: DataReport | None = None
        self.error: str | None = None
        self._token = 0
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.labels = table(["Label", "Training items"], stretch=0)
        self.labels.setToolTip("How many training items show each label. Labels can overlap, so the counts "
                               "need not add up to the number of items.")
        self.skipped_title = QLabel()
        self.skipped = table(["File", "Reason"], stretch=1)
        self.skipped.setToolTip("Files that training leaves out, and why. Fix them, or train without them.")
        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.summary)
        layout.addWidget(self.labels, 2)
        layout.addWidget(self.skipped_title)
        layout.addWidget(self.skipped, 1)

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
            self.summary.setText(f"<p style='color:#c0392b'><b>This folder cannot be used for training:</b><br>{error}</p>"
                                 "<p>Go <b>Back</b> and pick another folder.</p>")
        else:
            held = f", {report.holdout_items} held out for validation" + (f" ({', '.join(report.holdout)})" if report.holdout else "")
            parent = f"<br>Fine-tuning <b>{report.parent_name}</b> (latent size {report.parent_latent})." if report.parent_name else ""
            self.summary.setText(f"<b>{report.train_items} training items</b>{held if report.holdout_items else ', none held out (no validation curves)'}."
                                 f"{parent}")
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
            self.skipped_title.setText(f"<b>{len(rows)} file(s) skipped</b>" if rows else "No file was skipped.")
        self.completeChanged.emit()
        self.report_ready.emit(report)

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
        self.latent = QSpinBox()
        self.latent.setRange(2, 512)
        self.latent.setValue(32)
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.01, 50.0)
        self.beta.setDecimals(2)
        self.beta.setSingleStep(0.1)
        self.beta.setValue(1.0)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10000)
        self.epochs.setValue(60)
        self.contractive = QDoubleSpinBox()
        self.contractive.setRange(0.0, 100.0)
        self.contractive.setDecimals(4)
        self.contractive.setSingleStep(0.01)
        self.contractive.setSpecialValueText("off")
        self.prior = QSpinBox()
        self.prior.setRange(0, 256)
        self.prior.setSpecialValueText("off")
        self.out = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out, 1)
        out_row.addWidget(browse)
        form = QFormLayout(self)
        for label, widget, tip in (("Latent size:", self.latent, "latent"), ("Beta:", self.beta, "beta"),
                                   ("Epochs:", self.epochs, "epochs"), ("Contractive penalty:", self.contractive, "contractive"),
                                   ("Prior components:", self.prior, "prior")):
            widget.setToolTip(TIPS[tip])
            form.addRow(label, widget)
            form.labelForField(widget).setToolTip(TIPS[tip])
            form.addRow("", hint(HINTS[tip]))
        self.out.setToolTip(TIPS["out"])
        form.addRow("Save as:", out_row)
        form.labelForField(out_row).setToolTip(TIPS["out"])
        self.out.textChanged.connect(self.completeChanged)

    def initializePage(self) -> None:
        report: DataReport = self.wizard().report_page.report
        self.latent.setEnabled(report.parent_latent is None)
        if report.parent_latent is not None:
            self.latent.setValue(report.parent_latent)
        stem = slug(f"{report.domain}-{report.folder.name}" + ("-tuned" if report.parent_name else ""))
        self.out.setText(str(self.storage.data_dir / "models" / stem / f"{stem}.safetensors"))

    def choose_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the model as", self.out.text(), "Latent Forge checkpoints (*.safetensors)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.out.setText(path)

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
            answer = QMessageBox.question(self, "Replace the model?", f"{weights} already exists. Replace it with the new model?",
                                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        if resume_path_for(weights).exists():
            answer = QMessageBox.question(self, "Continue the interrupted run?",
                                          f"An interrupted training run of {weights.name} was saved. Continue it from its last "
                                          "finished epoch? (No starts over.)",
                                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
            self.resume = answer == QMessageBox.StandardButton.Yes
        return True


# --- page 4: training ---------------------------------------------------------------------


class TrainingSignals(QObject):
    """The bridge from the training thread to the UI: every callback becomes a signal."""

    step = Signal(int, int, int)  # epoch (1-based), step (1-based), steps per epoch
    epoch_done = Signal(object, int)  # EpochRecord as a dict, total epochs
    log_line = Signal(str)
    succeeded = Signal(object)  # the checkpoint's weights path
    failed = Signal(str, bool)  # message, cancelled

    # Trainer callbacks, called in the training thread.
    def on_step(self, epoch: int, step: int, steps_per_epoch: int) -> None:
        self.step.emit(epoch, step, steps_per_epoch)

    def on_epoch_end(self, record, total_epochs: int) -> None:
        self.epoch_done.emit(asdict(record), total_epochs)


class TrainingThread(QThread):
    """Runs `train_and_save(request)`; `cancel()` may be called from the UI thread at any time."""

    def __init__(self, request: TrainingRequest, signals: TrainingSignals):
        super().__init__()
        self.request = request
        self.signals = signals
        self._lock = threading.Lock()
        self._trainer = None
        self._cancel = False

    def cancel(self) -> None:
        with self._lock:
            self._cancel = True
            trainer = self._trainer
        if trainer is not None:
            trainer.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel

    def _trainer_ready(self, trainer) -> None:
        with self._lock:
            self._trainer = trainer
            cancel = self._cancel
        if cancel:
            trainer.cancel()

    def run(self) -> None:
        try:
            paths = train_and_save(self.request, [self.signals], log=self.signals.log_line.emit,
                                   trainer_ready=self._trainer_ready)
            self.signals.succeeded.emit(paths[0])
        except UserError as error:
            self.signals.failed.emit(str(error), self._cancel or isinstance(error, TrainingCancelled))
        except Exception as error:  # noqa: BLE001 - a bug must not end the app
            traceback.print_exc()
            self.signals.failed.emit(f"unexpected error: {type(error).__name__}: {error}", self._cancel)


class TrainingPage(QWizardPage):
    run_started = Signal(object)  # the TrainingSignals of a run, just before its thread starts

    def __init__(self):
        super().__init__()
        self.setTitle("Training")
        self.setSubTitle("Training runs in the background; you can cancel and resume it.")
        self.worker: TrainingThread | None = None
        self.signals: TrainingSignals | None = None
        self.request: TrainingRequest | None = None
        self.result: Path | None = None
        self.state = "idle"  # idle, running, measuring, cancelled, failed, done
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
        self.log_scale.setToolTip("Plot the losses on a logarithmic axis, so the small KL curve is readable next to reconstruction")
        self.log_scale.toggled.connect(self.plot.set_log_scale)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setFixedHeight(96)
        self.cancel_button = QPushButton("Cancel training")
        self.cancel_button.setToolTip("Stop after the current step. Every finished epoch is saved, so the run can be resumed.")
        self.cancel_button.clicked.connect(self.cancel_training)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the cancelled run from its last finished epoch, with the optimiser state")
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
        self.start(wizard.training_request())

    # --- running ----------------------------------------------------------------------------

    def start(self, request: TrainingRequest) -> None:
        """Start (or resume) a run of `request` in a fresh thread."""
        if self.worker is not None:
            self.worker.wait()  # the last run's thread is past its final signal; let it end
        self.request = request
        self.result = None
        self.plot.set_total_epochs(request.epochs)
        if request.resume and not self.plot.point_count():
            self._plot_saved_history(request.out)
        self.signals = TrainingSignals()
        self.signals.step.connect(self._step)
        self.signals.epoch_done.connect(self._epoch_done)
        self.signals.log_line.connect(self.log.appendPlainText)
        self.signals.succeeded.connect(self._succeeded)
        self.signals.failed.connect(self._failed)
        self.worker = TrainingThread(request, self.signals)
        self._run_started, self._first_step = time.perf_counter(), None
        self.progress.setRange(0, 0)
        self.time_left.setText("")
        self.state = "running"
        self.status.setText("Resuming from the last finished epoch…" if request.resume else "Reading the data…")
        self._set_buttons()
        self.completeChanged.emit()
        self.run_started.emit(self.signals)
        self.worker.start()

    def cancel_training(self) -> None:
        if self.worker is not None and self.state == "running":
            self.worker.cancel()
            self.status.setText("Cancelling after the current step…")
            self.cancel_button.setEnabled(False)

    def resume_training(self) -> None:
        if self.state == "cancelled" and self.request is not None and self.can_resume():
            self.start(replace(self.request, resume=True))

    def can_resume(self) -> bool:
        return self.request is not None and resume_path_for(checkpoint_paths(self.request.out)[0]).exists()

    def is_running(self) -> bool:
        return self.state in ("running", "measuring")

    def stop(self, msecs: int = 60000) -> None:
        """Cancel a run in progress and wait for its thread (the wizard is closing)."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(msecs)

    def _plot_saved_history(self, out: Path) -> None:
        card = resume_path_for(checkpoint_paths(out)[0]).with_suffix(".json")
        try:
            history = json.loads(card.read_text(encoding="utf-8")).get("history", [])
            for record in history:
                self.plot.add_record(record)
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            pass  # the plot only misses the earlier epochs

    # --- signals from the thread --------------------------------------------------------------

    def _step(self, epoch: int, step: int, steps_per_epoch: int) -> None:
        if self.state != "running":
            return
        total = self.request.epochs * steps_per_epoch
        done = (epoch - 1) * steps_per_epoch + step
        now = time.perf_counter()
        if self._first_step is None:
            self._first_step = (now, done)
            self.status.setText(f"Training: epoch {epoch} of {self.request.epochs}")
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"epoch {epoch}/{self.request.epochs} · step {step}/{steps_per_epoch} · %p%")
        started, first = self._first_step
        if done > first:
            # Wall time per step of this run, validation included; the first step is the baseline.
            per_step = (now - started) / (done - first)
            self.time_left.setText(f"about {format_seconds(per_step * (total - done))} left")

    def _epoch_done(self, record: dict, total_epochs: int) -> None:
        self.plot.set_total_epochs(total_epochs)
        self.plot.add_record(record)
        val = record.get("val_negative_elbo")
        self.log.appendPlainText(
            f"epoch {record['epoch']}/{total_epochs}: train loss {record['train_loss']:.2f} "
            f"(reconstruction {record['train_reconstruction']:.2f}, KL {record['train_kl']:.2f})"
            + (f", validation −ELBO {val:.2f}" if val is not None else "") + f", {record['seconds']:.1f} s")
        if self.state == "running":
            if record["epoch"] >= total_epochs:
                self.state = "measuring"
                self.progress.setRange(0, 0)
                self.progress.setFormat("")
                self.time_left.setText("")
                self.status.setText("Training done. Measuring the model on its held-out data and writing its card…")
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
        self.status.setText(f"<b>Done.</b> Saved {self.result} with its card, and opened it in the app.")
        self._set_buttons()
        self.completeChanged.emit()
        self.wizard().model_ready.emit(self.result)

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
                self.status.setText(f"<b>Training cancelled</b> after epoch {last} of {self.request.epochs}. "
                                    "It was saved: <b>Resume</b> continues from there (also after closing this window, "
                                    "by training to the same file again).")
            else:
                self.status.setText("<b>Training cancelled</b> before the first epoch finished; nothing was saved to resume. "
                                    "Resume starts it again.")
        else:
            self.state = "failed"
            self.status.setText(f"<p style='color:#c0392b'><b>Training failed:</b> {message}</p>")
        self.log.appendPlainText("cancelled; Resume continues from the last finished epoch" if cancelled else message)
        self._set_buttons()
        self.completeChanged.emit()

    def _set_buttons(self) -> None:
        self.cancel_button.setEnabled(self.state == "running")
        self.resume_button.setEnabled(self.state == "cancelled")

    def isComplete(self) -> bool:
        return self.state == "done"


# --- the wizard ---------------------------------------------------------------------------


class TrainingWizard(QWizard):
    """File → New model…. `model_ready(path)` fires as soon as the checkpoint is written."""

    model_ready = Signal(object)

    def __init__(self, storage: AppStorage, base_checkpoint: str | Path | None = None, parent: QWidget | None = None,
                 request_options: dict | None = None):
        """`base_checkpoint` is offered for fine-tuning (the open model); `request_options`
        are extra TrainingRequest fields (tests make evaluation cheap with them)."""
        super().__init__(parent)
        self.setWindowTitle("New model")
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.HaveFinishButtonOnEarlyPages, False)
        self.request_options = dict(request_options or {})
        self.runner = JobRunner(self, threads=1)
        self.source_page = SourcePage(base_checkpoint)
        self.report_page = ReportPage(self.runner)
        self.settings_page = SettingsPage(storage)
        self.training_page = TrainingPage()
        for page in (self.source_page, self.report_page, self.settings_page, self.training_page):
            self.addPage(page)
        self.resize(820, 680)

    def training_request(self) -> TrainingRequest:
        """The request the settings describe."""
        source, report, settings = self.source_page, self.report_page.report, self.settings_page
        return TrainingRequest(
            domain=source.domain_name(),
            data=[Path(source.folder.text().strip())],
            out=settings.output(),
            epochs=settings.epochs.value(),
            beta=settings.beta.value(),
            latent=settings.latent.value(),
            contractive=settings.contractive.value(),
            prior_components=settings.prior.value(),
            holdout=report.holdout if report else (),
            resume=settings.resume,
            init=source.init_checkpoint(),
            command="Latent Forge: File → New model…",
            **self.request_options,
        )

    def reject(self) -> None:
        """Closing while training cancels the run (it stays resumable) before the window goes."""
        page = self.training_page
        if page.is_running():
            answer = QMessageBox.question(self, "Stop training?",
                                          "Training is still running. Stop it? Finished epochs are saved and can be resumed.",
                                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        super().reject()

    def done(self, result: int) -> None:
        self.training_page.stop()
        self.runner.shutdown()
        super().done(result)
