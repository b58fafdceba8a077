"""Training wizard fixes (issue 16, item 8), through pytest-qt: a trained model asks before it
takes the place of the model its tab shows; the card's command is a `main.py train` line that,
run as it is, trains the same model again; the default save path names the app's folder once;
and a model with nothing held out says plainly what its measurement lacks, in the wizard, the
card and the `eval` table. Tiny conv widths and cheap evaluation keep each run to seconds."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import GAME, LEGEND, LEVELS, level_text  # noqa: E402
from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402
from test_gui_training import (  # noqa: E402,F401 - helpers and fixtures
    CHEAP,
    dialogs,
    make_wizard,
    storage,
    tiny_models,
    to_report,
    to_training,
    wait_finished,
)

from generators import cli  # noqa: E402
from generators.core.checkpoint import checkpoint_paths, load_checkpoint  # noqa: E402
from generators.core.evaluation import NO_HELDOUT  # noqa: E402
from gui.domain_view import DomainView  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from gui.storage import AppStorage  # noqa: E402


def one_level_folder(root: Path) -> Path:
    """A game folder with a single level: the wizard holds nothing out of it."""
    folder = root / GAME
    folder.mkdir(parents=True)
    (folder / "tiny.json").write_text(json.dumps(LEGEND), encoding="utf-8")
    (folder / "level-1.txt").write_text(level_text(LEVELS["level-1"]), encoding="utf-8")
    return folder


def answering(monkeypatch, answers: dict[str, QMessageBox.StandardButton]) -> list[str]:
    """Answer each question box by its title (Yes where `answers` has none); returns the titles asked."""
    asked: list[str] = []

    def question(parent, title, text, *rest):
        asked.append(title)
        return answers.get(title, QMessageBox.StandardButton.Yes)

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


# --- a trained model asks before it replaces the tab's model ---------------------------------------


def test_a_trained_model_asks_before_it_takes_the_place_of_the_tab_s_model(
    qtbot, storage, game_folder, tmp_path, tiny_checkpoint, monkeypatch
):
    answers = {"Open the new model?": QMessageBox.StandardButton.No}
    asked = answering(monkeypatch, answers)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    missing = tmp_path / "no-model.safetensors"
    window = MainWindow(
        {"levels": tiny_checkpoint, "images": missing, "music": missing}, settings=settings, storage=storage
    )
    qtbot.addWidget(window)
    try:
        shown = window.views["levels"]
        wizard = window.new_model()
        wizard.request_options.update(CHEAP)
        to_report(qtbot, wizard, game_folder)
        out = tmp_path / "models" / "asked.safetensors"
        to_training(qtbot, wizard, epochs=1, out=out)
        wait_finished(qtbot, wizard)
        page = wizard.training_page
        assert page.state == "done", page.status.text()
        assert out.exists() and asked == ["Open the new model?"]
        qtbot.wait(50)
        assert window.views["levels"] is shown  # No: the tab keeps its model
        assert Path(shown.context.checkpoint) == Path(tiny_checkpoint).resolve()
        assert "was not opened" in page.status.text() and "File → Open model" in page.status.text()
        # Asked again and answered Yes, the tab opens it.
        answers["Open the new model?"] = QMessageBox.StandardButton.Yes
        assert wizard.offer_model(page.result)
        qtbot.waitUntil(
            lambda: isinstance(window.views["levels"], DomainView)
            and Path(window.views["levels"].context.checkpoint) == out.resolve(),
            timeout=20000,
        )
        wizard.accept()
    finally:
        window.close()


# --- the card's command trains the same model again ---------------------------------------------


def test_the_card_command_run_as_it_is_trains_the_same_model_again(
    qtbot, storage, game_folder, tmp_path, dialogs, capsys, monkeypatch
):
    wizard = make_wizard(qtbot, storage)
    to_report(qtbot, wizard, game_folder)
    out = tmp_path / "my models" / "again.safetensors"  # a space: the command quotes it
    to_training(qtbot, wizard, epochs=1, out=out)
    wait_finished(qtbot, wizard)
    assert wizard.training_page.state == "done", wizard.training_page.status.text()
    first = load_checkpoint(out).card
    command = first["training"]["command"]
    assert "File → New model" not in command
    words = shlex.split(command)
    assert words[:4] == ["python", "main.py", "train", "levels"]
    assert words[words.index("--epochs") + 1] == "1" and words[words.index("--latent") + 1] == "4"
    wizard.accept()

    for path in checkpoint_paths(out):  # the command must make the model anew, not find it
        path.unlink()
    monkeypatch.setattr("sys.argv", words[1:])  # as `python main.py train ...` runs: the card records argv
    assert cli.main(words[2:]) == 0, capsys.readouterr().err
    again = load_checkpoint(out).card
    assert again["training"]["config"] == first["training"]["config"]
    assert again["training"]["command"] == command  # the command it records is itself
    assert again["data"]["holdout_levels"] == first["data"]["holdout_levels"] == ["level-4"]
    assert again["model"] == first["model"] and again["training"]["epochs_run"] == 1


# --- the default save path ----------------------------------------------------------------------


@pytest.fixture
def app_names():
    """The app's own organisation and application names, with Qt's test locations (never the
    user's folders), put back afterwards."""
    from gui.app import APPLICATION, ORGANISATION

    app = QCoreApplication.instance()
    before = app.organizationName(), app.applicationName()
    QStandardPaths.setTestModeEnabled(True)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    yield ORGANISATION, APPLICATION
    app.setOrganizationName(before[0])
    app.setApplicationName(before[1])
    QStandardPaths.setTestModeEnabled(False)


def test_the_default_save_path_names_the_app_folder_once(qtbot, game_folder, app_names, dialogs):
    storage = AppStorage.default()
    assert storage.data_dir.parts[-2:] == app_names  # Qt's location: organisation/application
    wizard = make_wizard(qtbot, storage)
    to_report(qtbot, wizard, game_folder)
    wizard.next()
    out = Path(wizard.settings_page.out.text())
    assert "Latent Forge/Latent Forge" not in out.as_posix()
    assert out.parent.parent == storage.data_dir.parent / "models"
    assert out.name == f"{out.parent.name}.safetensors" == "levels-tiny-mario.safetensors"


def test_a_storage_of_its_own_keeps_its_models_under_its_data_folder(qtbot, storage, game_folder, dialogs):
    wizard = make_wizard(qtbot, storage)  # tests and benchmarks: folders of their own
    to_report(qtbot, wizard, game_folder)
    wizard.next()
    assert Path(wizard.settings_page.out.text()).parent.parent == storage.data_dir / "models"


# --- nothing held out ---------------------------------------------------------------------------


def test_a_model_with_nothing_held_out_says_plainly_what_it_was_not_measured_on(
    qtbot, storage, tmp_path, dialogs, capsys
):
    folder = one_level_folder(tmp_path / "one")
    wizard = make_wizard(qtbot, storage)
    to_report(qtbot, wizard, folder)
    assert wizard.report_page.report.holdout_items == 0
    assert "none held out" in wizard.report_page.summary.text()
    out = tmp_path / "models" / "unmeasured.safetensors"
    to_training(qtbot, wizard, epochs=1, out=out)
    wait_finished(qtbot, wizard)
    page = wizard.training_page
    assert page.state == "done", page.status.text()
    status = page.status.text()
    assert "Not measured on held-out data" in status and "whether it overfits" in status
    assert "−ELBO" not in status
    metrics = load_checkpoint(out).card["metrics"]
    assert metrics["heldout_items"] == 0 and metrics["heldout"] == NO_HELDOUT
    wizard.accept()

    # `eval` on the same data says it in its table, not only as `heldout_items 0`.
    capsys.readouterr()
    args = ["eval", "levels", "--checkpoint", str(out), "--data", str(folder), "--samples", "8", "--iwae-k", "2"]
    args += ["--long-levels", "0", "--threads", "1"]  # no whole levels: seconds, not minutes
    assert cli.main(args) == 0
    table = capsys.readouterr().out
    assert "heldout_items" in table and "nothing was held out" in table


def test_a_model_with_held_out_data_reports_its_measurement(qtbot, storage, game_folder, tmp_path, dialogs):
    wizard = make_wizard(qtbot, storage)
    to_report(qtbot, wizard, game_folder)
    out = tmp_path / "models" / "measured.safetensors"
    to_training(qtbot, wizard, epochs=1, out=out)
    wait_finished(qtbot, wizard)
    status = wizard.training_page.status.text()
    metrics = load_checkpoint(out).card["metrics"]
    assert metrics["heldout_items"] == 25 and "heldout" not in metrics
    assert "Measured on 25 held-out items" in status and f"{metrics['negative_elbo_nats']:.1f} nats" in status
    assert "Not measured" not in status
    wizard.accept()
