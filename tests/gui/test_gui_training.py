"""File → New model…: the training wizard through pytest-qt. The data report on a mixed folder,
a short run with progress signals, live curves and a checkpoint the main window opens, cancel
then resume, and fine-tuning with lineage. Tiny conv widths and cheap evaluation keep it fast;
no dialog is ever left to block (QMessageBox is patched)."""

from __future__ import annotations

import json
import shlex
from dataclasses import fields
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import HOLDOUT, TINY_CHANNELS  # noqa: E402
from PySide6.QtCore import QObject, QSettings, Qt, Slot  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from generators.core.checkpoint import load_checkpoint  # noqa: E402
from generators.core.train import TrainConfig  # noqa: E402
from generators.levels.domain import LevelsDomain  # noqa: E402
from gui.domain_view import DomainView  # noqa: E402
from gui.loss_plot import TERMS, LossPlot  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from gui.storage import AppStorage  # noqa: E402
from gui.training_wizard import WIZARD_SETTINGS, TrainingWizard  # noqa: E402

WAIT_MS = 60000
CHEAP = {"eval_samples": 20, "iwae_k": 4}


@pytest.fixture(autouse=True)
def tiny_models(monkeypatch):
    monkeypatch.setattr(LevelsDomain, "model_channels", TINY_CHANNELS)


@pytest.fixture
def dialogs(monkeypatch) -> list[tuple[str, str]]:
    """Every message box, as (kind, title); questions are answered Yes."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *rest: shown.append(("critical", title)))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *rest: shown.append(("warning", title)))

    def question(parent, title, text, *rest):
        shown.append(("question", title))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return shown


@pytest.fixture
def storage(tmp_path) -> AppStorage:
    return AppStorage.under(tmp_path / "app-files")


def make_wizard(qtbot, storage, base=None) -> TrainingWizard:
    wizard = TrainingWizard(storage, base, request_options=CHEAP)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def to_report(qtbot, wizard: TrainingWizard, folder: Path, init: Path | None = None, domain: str = "levels") -> None:
    source = wizard.source_page
    source.set_domain(domain)
    source.folder.setText(str(folder))
    if init is not None:
        source.fine_tune.setChecked(True)
        source.base.setText(str(init))
    assert source.isComplete()
    wizard.next()
    page = wizard.report_page
    qtbot.waitUntil(lambda: page.report is not None or page.error is not None, timeout=WAIT_MS)


def to_training(qtbot, wizard: TrainingWizard, epochs: int, out: Path) -> None:
    assert wizard.report_page.isComplete(), wizard.report_page.error
    wizard.next()
    settings = wizard.settings_page
    settings.controls["epochs"].setValue(epochs)
    if settings.controls["latent_size"].isEnabled():  # fine-tuning keeps the parent's size
        settings.controls["latent_size"].setValue(4)
    settings.out.setText(str(out))
    wizard.next()
    assert wizard.currentPage() is wizard.training_page


def wait_finished(qtbot, wizard: TrainingWizard) -> None:
    page = wizard.training_page
    qtbot.waitUntil(lambda: page.state in ("done", "failed", "cancelled"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not page.runner.busy, timeout=WAIT_MS)  # the job has finished too


def test_the_data_report_lists_labels_held_out_items_and_every_skipped_file(qtbot, storage, game_folder, dialogs):
    (game_folder / "broken.txt").write_text("--Z--\n-----\n", encoding="utf-8")  # a tile the legend lacks
    (game_folder / "binary.txt").write_bytes(bytes(range(256)) * 4)  # not UTF-8 text
    wizard = make_wizard(qtbot, storage)
    assert wizard.source_page.domain.findData("levels") >= 0
    to_report(qtbot, wizard, game_folder)
    page = wizard.report_page
    report = page.report
    assert report is not None and page.isComplete()
    skipped = {Path(file).name: reason for file, reason in report.skipped}
    assert set(skipped) == {"broken.txt", "binary.txt"}
    assert "unknown tile 'Z'" in skipped["broken.txt"] and "not UTF-8" in skipped["binary.txt"]
    assert page.skipped.rowCount() == 2
    assert {page.skipped.item(r, 0).text() for r in range(2)} == {"broken.txt", "binary.txt"}
    # Four good 40-column levels give 25 windows of 16 columns each; the last level is held out.
    assert report.holdout == ("level-4",) and report.train_items == 75 and report.holdout_items == 25
    counts = dict(report.label_counts)
    assert counts["tiny-mario"] == 75 and 0 < counts["enemy"] <= 75
    shown = {page.labels.item(r, 0).text(): page.labels.item(r, 1).text() for r in range(page.labels.rowCount())}
    assert shown["tiny-mario"] == "75"
    assert "75 training items" in page.summary.text()


def test_a_folder_without_usable_data_says_why_and_lets_the_user_go_back(qtbot, storage, tmp_path, dialogs):
    empty = tmp_path / "nothing"
    empty.mkdir()
    wizard = make_wizard(qtbot, storage)
    to_report(qtbot, wizard, empty)
    page = wizard.report_page
    assert page.report is None and "no VGLC .txt levels" in page.error
    assert not page.isComplete() and "Back" in page.summary.text()
    wizard.back()
    assert wizard.currentPage() is wizard.source_page


class _Probe(QObject):
    """Records a training job's progress signals (done, total steps of the run) on the UI thread."""

    def __init__(self):
        super().__init__()
        self.steps: list[tuple[int, int]] = []

    @Slot(object, int, int)
    def step(self, job, done, total):
        self.steps.append((done, total))


def test_a_short_run_reports_progress_plots_curves_and_opens_in_the_main_window(
    qtbot, storage, game_folder, tmp_path, tiny_checkpoint, dialogs
):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    missing = tmp_path / "no-model.safetensors"  # the shipped images and music models are not needed here
    window = MainWindow(
        {"levels": tiny_checkpoint, "images": missing, "music": missing}, settings=settings, storage=storage
    )
    qtbot.addWidget(window)
    wizard = window.new_model()
    wizard.request_options.update(CHEAP)
    assert wizard.source_page.init_checkpoint() is None  # from scratch unless asked
    to_report(qtbot, wizard, game_folder)
    wizard.next()
    default_out = Path(wizard.settings_page.out.text())
    assert default_out.is_relative_to(storage.data_dir / "models")
    for name in ("latent_size", "beta", "epochs", "contractive", "prior_components"):
        assert wizard.settings_page.controls[name].toolTip()
    assert wizard.settings_page.controls["prior_components"].value() == 0  # off unless asked for
    wizard.back()
    probe = _Probe()
    out = tmp_path / "models" / "mine.safetensors"
    wizard.training_page.run_started.connect(lambda job: job.signals.progress.connect(probe.step))
    to_training(qtbot, wizard, epochs=2, out=out)
    wait_finished(qtbot, wizard)
    page = wizard.training_page
    assert page.state == "done", page.status.text()
    assert probe.steps and probe.steps[-1] == (4, 4)  # 2 epochs of 2 steps
    assert page.progress.format().startswith("done")
    assert page.progress.value() == page.progress.maximum()
    assert page.plot.point_count() == 12  # 6 curves (train and validation) × 2 epochs
    assert curve_pixels(page.plot, TERMS[1][2]) > 20  # the reconstruction curves are drawn
    assert page.isComplete()
    card = load_checkpoint(out).card
    assert card["lineage"] == [] and card["data"]["holdout_levels"] == [HOLDOUT] and card["training"]["epochs_run"] == 2
    words = shlex.split(card["training"]["command"])
    assert words[:4] == ["python", "main.py", "train", "levels"] and words[words.index("--epochs") + 1] == "2"
    qtbot.waitUntil(
        lambda: isinstance(window.views["levels"], DomainView)
        and Path(window.views["levels"].context.checkpoint) == out.resolve(),
        timeout=WAIT_MS,
    )
    assert not [d for d in dialogs if d[0] == "critical"]
    wizard.accept()
    window.close()


class _CancelOnFirstEpoch(QObject):
    """Presses Cancel on the UI thread while the training job waits (a blocking queued
    connection to its messages), so the run stops in epoch 2 on any machine, however fast."""

    def __init__(self, page):
        super().__init__()
        self.page = page

    @Slot(object, object)
    def message(self, job, message):
        if message[0] == "epoch" and message[1]["epoch"] == 1:
            self.page.cancel_training()


def test_cancel_then_resume_finishes_the_run(qtbot, storage, game_folder, tmp_path, dialogs):
    wizard = make_wizard(qtbot, storage)
    to_report(qtbot, wizard, game_folder)
    page = wizard.training_page
    canceller = _CancelOnFirstEpoch(page)

    def listen(job):
        if not page.request.resume:
            job.signals.message.connect(canceller.message, Qt.ConnectionType.BlockingQueuedConnection)

    page.run_started.connect(listen)
    out = tmp_path / "models" / "cancelled.safetensors"
    to_training(qtbot, wizard, epochs=3, out=out)
    wait_finished(qtbot, wizard)
    assert page.state == "cancelled", page.status.text()
    assert "Resume" in page.status.text() and "after epoch 1" in page.status.text()
    assert page.resume_button.isEnabled() and not page.cancel_button.isEnabled()
    assert out.with_name("cancelled.resume.safetensors").exists() and not out.exists()
    assert page.plot.point_count() == 6
    page.resume_button.click()
    assert page.request.resume
    wait_finished(qtbot, wizard)
    assert page.state == "done", page.status.text()
    assert page.plot.point_count() == 18
    card = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["training"]["epochs_run"] == 3
    assert not out.with_name("cancelled.resume.safetensors").exists()


def test_the_settings_are_made_from_the_train_config_fields(qtbot, storage):
    wizard = make_wizard(qtbot, storage)
    page = wizard.settings_page
    specs = {spec.name: spec for spec in fields(TrainConfig)}
    assert tuple(page.controls) == WIZARD_SETTINGS
    for name, control in page.controls.items():
        spec = specs[name]
        meta = spec.metadata
        least, most = meta["bounds"]
        assert control.value() == spec.default, name
        assert least is None or control.minimum() == least, name
        assert most is None or control.maximum() == most, name
        assert meta["help"][1:] in control.toolTip() and meta["flag"] in control.toolTip(), name
        assert page.layout().labelForField(control).text() == f"{meta['label']}:"
    latent = page.controls["latent_size"]
    assert (latent.minimum(), latent.maximum(), latent.value()) == (*specs["latent_size"].metadata["bounds"], 32)
    assert page.controls["prior_components"].maximum() == specs["prior_components"].metadata["bounds"][1]
    assert TrainConfig(**page.values()) == TrainConfig()  # untouched, the page asks for the defaults


def test_the_card_command_runs_the_same_training_from_the_command_line(
    qtbot, storage, game_folder, tmp_path, tiny_checkpoint, dialogs
):
    from generators.cli import build_parser
    from generators.core.train import settings_for
    from generators.registry import domain_class

    wizard = make_wizard(qtbot, storage, base=tiny_checkpoint)
    to_report(qtbot, wizard, game_folder, init=tiny_checkpoint)
    wizard.next()
    settings = wizard.settings_page
    settings.controls["epochs"].setValue(3)
    settings.controls["beta"].setValue(0.5)
    out = tmp_path / "my models" / "tuned.safetensors"  # a space: the command must quote it
    settings.out.setText(str(out))
    request = wizard.training_request()
    words = shlex.split(request.command)
    assert words[:4] == ["python", "main.py", "train", "levels"]
    for default in ("--seed", "--lr", "--batch-size", "--resume"):  # settings left at their defaults are left out
        assert default not in words
    args = build_parser().parse_args(words[2:])
    assert [Path(p) for p in args.data] == [game_folder] and Path(args.out) == out
    assert args.holdout == [HOLDOUT] and args.init == str(tiny_checkpoint)
    assert (args.epochs, args.beta, args.eval_samples, args.iwae_k) == (3, 0.5, CHEAP["eval_samples"], CHEAP["iwae_k"])
    given = {spec.name: getattr(args, spec.name) for spec in fields(TrainConfig)}
    assert settings_for(domain_class("levels").training_defaults, given) == request.config  # as `train` builds it


def test_settings_start_from_the_asset_kind_s_training_defaults_and_keep_edits(qtbot, storage, tmp_path):
    from PIL import Image

    from generators.images.domain import ImagesDomain

    folder = tmp_path / "icons" / "stars"
    folder.mkdir(parents=True)
    for i in range(3):
        Image.new("RGBA", (16, 16), (40 * i, 200, 90, 255)).save(folder / f"star{i}.png")
    wizard = make_wizard(qtbot, storage)
    to_report(qtbot, wizard, tmp_path / "icons", domain="images")
    assert wizard.report_page.isComplete(), wizard.report_page.error
    wizard.next()
    controls = wizard.settings_page.controls
    wanted = ImagesDomain.training_defaults
    assert controls["epochs"].value() == wanted["epochs"] and controls["latent_size"].value() == wanted["latent_size"]
    controls["epochs"].setValue(7)
    wizard.back()
    wizard.next()
    assert controls["epochs"].value() == 7  # coming back keeps the user's edit
    config = wizard.training_request().config
    assert (config.epochs, config.batch_size, config.lr_schedule) == (7, wanted["batch_size"], wanted["lr_schedule"])


def test_an_existing_checkpoint_is_never_replaced_without_asking(
    qtbot, storage, game_folder, tmp_path, tiny_checkpoint, monkeypatch
):
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: asked.append(args[1]) or QMessageBox.StandardButton.No)
    wizard = make_wizard(qtbot, storage)
    to_report(qtbot, wizard, game_folder)
    wizard.next()
    wizard.settings_page.out.setText(str(tiny_checkpoint))
    wizard.next()
    assert asked == ["Replace the model?"] and wizard.currentPage() is wizard.settings_page


def test_fine_tuning_fixes_the_latent_size_and_records_lineage(
    qtbot, storage, game_folder, tmp_path, tiny_checkpoint, dialogs
):
    wizard = make_wizard(qtbot, storage, base=tiny_checkpoint)
    to_report(qtbot, wizard, game_folder, init=tiny_checkpoint)
    assert wizard.report_page.report.parent_name == "tiny"
    out = tmp_path / "models" / "tuned.safetensors"
    to_training(qtbot, wizard, epochs=1, out=out)
    latent = wizard.settings_page.controls["latent_size"]
    assert not latent.isEnabled() and latent.value() == 4
    assert wizard.training_page.request.init == str(tiny_checkpoint)
    wait_finished(qtbot, wizard)
    assert wizard.training_page.state == "done", wizard.training_page.status.text()
    card = load_checkpoint(out).card
    parent = load_checkpoint(tiny_checkpoint).card
    assert card["model"]["latent_size"] == 4
    assert [entry["name"] for entry in card["lineage"]] == ["tiny"]
    assert card["lineage"][0]["weights_sha256"] == parent["weights_sha256"]


def curve_pixels(plot: LossPlot, colour: QColor) -> int:
    """Pixels of about `colour` inside the plot area (below the legend, above the axis)."""
    image = plot.grab().toImage()
    left, top, right, bottom = plot.MARGIN
    near = 0
    for y in range(top + 2, image.height() - bottom):
        for x in range(left + 1, image.width() - right):
            pixel = image.pixelColor(x, y)
            near += (
                abs(pixel.red() - colour.red())
                + abs(pixel.green() - colour.green())
                + abs(pixel.blue() - colour.blue())
                < 40
            )
    return near


def test_the_loss_plot_draws_each_epoch_and_replaces_a_repeated_one(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 240)
    record = {
        "epoch": 1,
        "train_loss": 9.0,
        "train_reconstruction": 8.0,
        "train_kl": 1.0,
        "val_negative_elbo": None,
        "val_reconstruction": None,
        "val_kl": None,
        "seconds": 0.1,
    }
    plot.add_record(record)
    plot.add_record(record | {"train_kl": 2.0})
    assert plot.point_count() == 3 and plot.series[("train", "kl")] == [(1, 2.0)]
    assert curve_pixels(plot, TERMS[2][2]) > 4  # one dot per curve
    plot.add_record(
        record
        | {"epoch": 2, "train_reconstruction": 4.0, "val_negative_elbo": 6.0, "val_reconstruction": 5.5, "val_kl": 0.5}
    )
    assert plot.point_count() == 9
    single = curve_pixels(plot, TERMS[2][2])
    assert single > 20  # now a line joins the dots
    plot.set_log_scale(True)
    assert curve_pixels(plot, TERMS[2][2]) > 20
