"""File → Scan folder… through pytest-qt, on the tiny levels checkpoint: a planted anomaly (a level
with a scrambled band of columns) ranks first with its overlay in the list, an unreadable file is
listed last with its reason, activating a row sets endpoint A as File → Open file as endpoint…
does, the menu action asks for a folder starting in the tab's last-used one, and Cancel stops the
worker before its next file."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import LEVELS, level_text  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402
from test_gui import WAIT_MS, errors, settings, view, window  # noqa: E402,F401 - shared fixtures
from test_scan import scrambled  # noqa: E402

import gui.scan_panel as scan_panel  # noqa: E402
from gui.conditions_panel import labels_text  # noqa: E402
from gui.scan_panel import ScanDialog, scan_folder  # noqa: E402


def scan_fixture(folder: Path, copies: int = 0) -> Path:
    """The tiny levels, one with columns 20-29 scrambled, a file that is no level, and a note
    that is not a level format; `copies` more copies of the levels make a folder slow to scan."""
    folder.mkdir(parents=True)
    for stem, rows in LEVELS.items():
        (folder / f"{stem}.txt").write_text(level_text(rows), encoding="utf-8")
    (folder / "planted.txt").write_text(level_text(scrambled(LEVELS["level-2"], 20, 30)), encoding="utf-8")
    (folder / "broken.txt").write_text("not a level ☃\n", encoding="utf-8")
    (folder / "notes.md").write_text("not a level format: never listed\n", encoding="utf-8")
    for i in range(copies):
        (folder / f"copy-{i:03d}.txt").write_text(level_text(LEVELS["level-1"]), encoding="utf-8")
    return folder


def finished(qtbot, dialog: ScanDialog) -> None:
    qtbot.waitUntil(lambda: dialog.job is None and dialog.state != "scanning", timeout=WAIT_MS)


def names(dialog: ScanDialog) -> list[str]:
    return [dialog.model.index(r, 1).data() for r in range(dialog.model.rowCount())]


def test_a_planted_anomaly_ranks_first_with_its_overlay_and_an_unreadable_file_is_listed(
    qtbot, window, view, tmp_path, errors
):
    dialog = scan_folder(view, scan_fixture(tmp_path / "mine"), window)
    qtbot.addWidget(dialog)
    finished(qtbot, dialog)
    assert dialog.state == "done", dialog.status.text()
    listed = names(dialog)
    assert listed[0] == "planted.txt"
    assert listed[-1] == "broken.txt" and "notes.md" not in listed
    assert sorted(listed[1:-1]) == sorted(f"{stem}.txt" for stem in LEVELS)
    elbos = [row.scanned.elbo for row in dialog.model.ranked]
    assert elbos == sorted(elbos)  # least typical first
    model = dialog.model
    assert model.index(0, 2).data().endswith("percentile")
    assert "held-out real items" in model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, 4).data() == labels_text(view.generator.domain.conditions, model.ranked[0].scanned.labels)
    first, last = (int(v) for v in model.index(0, 3).data().split()[1].split("-"))
    assert 17 <= first and last <= 34  # worst inside (or at the edge of) the scrambled band 21-30
    # The unreadable file says why, in the list.
    assert model.index(len(listed) - 1, 2).data() == "cannot be read"
    assert "broken.txt" in model.index(len(listed) - 1, 4).data() and model.index(len(listed) - 1, 3).data() == "—"
    assert "1 could not be read" in dialog.status.text()
    # The planted file's thumbnail is its picture with red over the worst columns.
    thumb = model.index(0, 0).data(Qt.ItemDataRole.DecorationRole)
    assert thumb is not None and not thumb.isNull() and thumb.width() <= scan_panel.THUMB.width()
    picture = QImage(str(dialog.model.ranked[0].scanned.overlay)).convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(picture.constBits(), np.uint8).reshape(picture.height(), picture.bytesPerLine())
    pixels = pixels[:, : picture.width() * 3].reshape(picture.height(), picture.width(), 3).astype(int)
    reddish = (pixels[..., 0] - pixels[..., 1] > 80) & (pixels[..., 0] - pixels[..., 2] > 80)
    columns = np.flatnonzero(reddish.any(axis=0)) // 16  # 16 pixels a tile
    assert len(columns) and 16 <= np.median(columns) <= 34  # red sits over the scrambled band
    # The least typical file is selected at once, with its overlay shown large.
    assert dialog.table.currentIndex().row() == 0
    assert not dialog.picture.item.pixmap().isNull() and "planted.txt" in dialog.caption.text()
    assert errors == []


def test_activating_a_row_opens_its_file_as_endpoint_a(qtbot, window, view, tmp_path, errors):
    dialog = scan_folder(view, scan_fixture(tmp_path / "mine"), window)
    qtbot.addWidget(dialog)
    finished(qtbot, dialog)
    assert view.interpolation.endpoints["A"] is None
    dialog.table.setFocus()
    dialog.table.selectRow(0)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)  # Enter activates the row
    end = view.interpolation.endpoints["A"]
    assert end is not None and end.caption == "planted.txt"
    # The same latent File → Open file as endpoint… gives.
    before = end.latent.copy()
    assert view.open_endpoint_file(tmp_path / "mine" / "planted.txt", "B")
    np.testing.assert_allclose(view.interpolation.endpoints["B"].latent, before, atol=1e-5)
    # Double-clicking another row replaces endpoint A; the unreadable row opens nothing.
    row = names(dialog).index("level-1.txt")
    rect = dialog.table.visualRect(dialog.model.index(row, 1))
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # as a user's first press
    assert view.interpolation.endpoints["A"].caption == "planted.txt"  # a click only selects
    assert "level-1.txt" in dialog.caption.text()
    qtbot.mouseDClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.interpolation.endpoints["A"].caption == "level-1.txt"
    assert not dialog.open_row(len(names(dialog)) - 1)
    assert view.interpolation.endpoints["A"].caption == "level-1.txt" and errors == []


def test_the_menu_asks_for_a_folder_from_the_tabs_last_one(qtbot, window, view, tmp_path, monkeypatch, errors):
    folder = scan_fixture(tmp_path / "mine")
    view.last_open_folder = str(tmp_path)
    asked: list[str] = []

    def choose(parent, title, start, *rest):
        asked.append(start)
        return str(folder)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", choose)
    action = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "S&can folder…")
    assert action.isEnabled()
    action.trigger()
    assert asked == [str(tmp_path)]
    dialog = window.findChild(ScanDialog)
    assert dialog is not None and dialog.folder == folder
    finished(qtbot, dialog)
    assert names(dialog)[0] == "planted.txt"
    assert view.last_open_folder == str(folder)  # the next Open… starts where the user looked
    dialog.close()


def hold_scan_in_file(monkeypatch, n: int) -> tuple[list[Path], threading.Event, threading.Event]:
    """Make the scan worker wait inside its n-th file: returns (the files it was given, set when it
    waits, set it to go on). Any scan in gui.scan_panel or the wizard (which calls the same
    `scan_file`) is held."""
    calls: list[Path] = []
    reached, go = threading.Event(), threading.Event()
    real = scan_panel.scan_file

    def held(generator, path, reference, png):
        calls.append(path)
        if len(calls) == n:
            reached.set()
            go.wait(30)
        return real(generator, path, reference, png)

    monkeypatch.setattr(scan_panel, "scan_file", held)
    return calls, reached, go


def test_cancel_stops_the_worker_before_its_next_file(qtbot, window, view, tmp_path, monkeypatch, errors):
    folder = scan_fixture(tmp_path / "many", copies=30)
    calls, reached, go = hold_scan_in_file(monkeypatch, 3)  # until Cancel has been pressed
    dialog = scan_folder(view, folder, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(reached.is_set, timeout=WAIT_MS)
    assert dialog.cancel_button.isVisible()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    go.set()
    finished(qtbot, dialog)
    assert len(calls) == 3  # the file in hand was finished; no further file was started
    assert dialog.state == "cancelled" and dialog.model.rowCount() == 3
    assert "Cancelled after 3 of 36 files" in dialog.status.text()
    assert not dialog.cancel_button.isVisible() and not view.context.runner.busy


def test_closing_while_scanning_stops_the_scan_and_removes_the_overlays(qtbot, window, view, tmp_path, monkeypatch):
    folder = scan_fixture(tmp_path / "many", copies=30)
    _, reached, go = hold_scan_in_file(monkeypatch, 1)
    dialog = scan_folder(view, folder, window)
    overlays = Path(dialog._overlays.name)
    qtbot.waitUntil(reached.is_set, timeout=WAIT_MS)
    dialog.close()
    go.set()
    qtbot.waitUntil(lambda: not view.context.runner.busy, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not overlays.exists(), timeout=WAIT_MS)
