"""The training wizard's data report ranks the chosen folder's files by typicality, as a trained
model of the domain judges them (here the tiny checkpoint, standing in for the shipped model): a
planted anomaly ranks first, a ticked file is really left out of training (the run reads a copy of
the folder without it, and the card names it), a judge that cannot read the folder says so in one
line, the scan is bounded to MAX_SCANNED files, and Cancel stops it before its next file."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import LEGEND, LEVELS, level_text  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from test_gui_scan import hold_scan_in_file  # noqa: E402
from test_gui_training import (  # noqa: E402,F401 - shared fixtures and steps
    CHEAP,
    WAIT_MS,
    dialogs,
    storage,
    tiny_models,
    to_report,
    to_training,
    wait_finished,
)
from test_scan import scrambled  # noqa: E402

import gui.scan_panel as scan_panel  # noqa: E402
import gui.training_wizard as training_wizard  # noqa: E402
from generators.core.checkpoint import load_checkpoint  # noqa: E402
from gui.training_wizard import TrainingWizard  # noqa: E402


def planted_game(folder: Path) -> Path:
    """The tiny game (legend and four levels) plus a level with columns 20-29 scrambled."""
    folder.mkdir(parents=True)
    (folder / "tiny.json").write_text(json.dumps(LEGEND), encoding="utf-8")
    for stem, rows in LEVELS.items():
        (folder / f"{stem}.txt").write_text(level_text(rows), encoding="utf-8")
    (folder / "planted.txt").write_text(level_text(scrambled(LEVELS["level-2"], 20, 30)), encoding="utf-8")
    return folder


def judged_wizard(qtbot, storage, judge: Path) -> TrainingWizard:
    wizard = TrainingWizard(storage, request_options=CHEAP, judges={"levels": judge})
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def scan_finished(qtbot, page) -> None:
    qtbot.waitUntil(lambda: page.scan_job is None and page.scan_state != "scanning", timeout=WAIT_MS)


def ranked(page) -> list[str]:
    return [page.least.item(r, 1).text() for r in range(page.least.rowCount())]


def test_a_ticked_file_is_left_out_of_training(qtbot, storage, tiny_checkpoint, tmp_path, dialogs):
    folder = planted_game(tmp_path / "Tiny_Mario")
    wizard = judged_wizard(qtbot, storage, tiny_checkpoint)
    to_report(qtbot, wizard, folder)
    page = wizard.report_page
    scan_finished(qtbot, page)
    assert page.scan_state == "done", page.scan_title.text()
    assert ranked(page)[0] == "planted.txt" and len(ranked(page)) == 5
    assert page.least.item(0, 2).text().endswith("percentile") and page.least.item(0, 3).text().startswith("columns")
    assert "5 file(s)" in page.scan_title.text() and page.left_out() == []
    page.least.item(0, 0).setCheckState(Qt.CheckState.Checked)  # leave the planted level out
    assert page.left_out() == [folder / "planted.txt"]
    assert "1 file(s) will be left out" in page.left_out_note.text()
    out = tmp_path / "models" / "mine.safetensors"
    to_training(qtbot, wizard, 1, out)
    wait_finished(qtbot, wizard)
    assert wizard.training_page.state == "done", wizard.training_page.status.text()
    copy = out.parent / "mine-data" / folder.name
    assert sorted(p.name for p in copy.iterdir()) == [
        "level-1.txt",
        "level-2.txt",
        "level-3.txt",
        "level-4.txt",
        "tiny.json",
    ]
    assert (folder / "planted.txt").exists()  # the user's folder is untouched
    card = load_checkpoint(out).card
    assert card["data"]["train_levels"] == 3 and card["data"]["holdout_levels"] == ["level-4"]
    assert card["left_out"]["files"] == [str(folder / "planted.txt")] and card["left_out"]["copy"] == str(copy)
    assert str(copy) in card["training"]["command"]  # its command trains on the same files again
    wizard.close()


def test_leaving_out_the_held_out_level_holds_out_another(qtbot, storage, tiny_checkpoint, tmp_path, dialogs):
    folder = planted_game(tmp_path / "Tiny_Mario")
    wizard = judged_wizard(qtbot, storage, tiny_checkpoint)
    to_report(qtbot, wizard, folder)
    page = wizard.report_page
    scan_finished(qtbot, page)
    assert page.report.holdout == ("planted",)  # the last level is held out by default
    page.least.item(ranked(page).index("planted.txt"), 0).setCheckState(Qt.CheckState.Checked)
    assert "Held out for validation instead: level-4" in page.left_out_note.text()
    wizard.next()
    wizard.settings_page.out.setText(str(tmp_path / "m" / "m.safetensors"))
    request = wizard.training_request()
    assert request.holdout == ("level-4",) and request.data == [tmp_path / "m" / "m-data" / folder.name]
    wizard.close()


def test_a_judge_that_cannot_read_the_folder_says_so_in_one_line(qtbot, storage, tiny_checkpoint, tmp_path, dialogs):
    folder = tmp_path / "Bricks"
    folder.mkdir()
    legend = {"tiles": dict(LEGEND["tiles"], B=["solid", "brick"])}  # a tile the judge's legend lacks
    (folder / "bricks.json").write_text(json.dumps(legend), encoding="utf-8")
    for stem, rows in LEVELS.items():
        (folder / f"{stem}.txt").write_text(level_text([rows[0].replace("-", "B", 3), *rows[1:]]), encoding="utf-8")
    wizard = judged_wizard(qtbot, storage, tiny_checkpoint)
    to_report(qtbot, wizard, folder)
    page = wizard.report_page
    assert page.report is not None  # training itself can read the folder
    scan_finished(qtbot, page)
    assert page.scan_state == "failed" and page.least.rowCount() == 0
    text = page.scan_title.text()
    assert text.startswith("Typicality not shown") and "cannot read" in text and "'B'" in text
    assert page.isComplete()  # and the wizard moves on
    wizard.close()


def test_the_scan_is_bounded_and_cancel_stops_it(qtbot, storage, tiny_checkpoint, tmp_path, monkeypatch, dialogs):
    folder = planted_game(tmp_path / "Tiny_Mario")
    for i in range(20):
        (folder / f"copy-{i:02d}.txt").write_text(level_text(LEVELS["level-1"]), encoding="utf-8")
    monkeypatch.setattr(training_wizard, "MAX_SCANNED", 12)
    calls, reached, go = hold_scan_in_file(monkeypatch, 4)  # until Cancel has been pressed
    wizard = judged_wizard(qtbot, storage, tiny_checkpoint)
    to_report(qtbot, wizard, folder)
    page = wizard.report_page
    qtbot.waitUntil(reached.is_set, timeout=WAIT_MS)
    assert page.scan_cancel.isVisible() and page.scan_progress.maximum() == 12
    qtbot.mouseClick(page.scan_cancel, Qt.MouseButton.LeftButton)
    go.set()
    scan_finished(qtbot, page)
    assert len(calls) == 4 and page.least.rowCount() == 4
    assert page.scan_state == "cancelled" and "Cancelled after 4 of 12 files" in page.scan_title.text()
    assert not page.scan_cancel.isVisible()
    wizard.close()
