"""Damaged saved state never locks the user out: bad settings values fall back one by one, a
damaged favourites file is moved aside with a timestamp (good records kept), every write keeps
the previous file as a backup, and the window says once, in its status bar, what it repaired."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from gui.favourites_store import FavouritesStore
from gui.main_window import MainWindow
from gui.storage import AppStorage

GOOD = {"id": "ok", "latent": [0.5, -1.0], "model": "m", "condition": ["enemy"], "seed": 3, "temperature": 1.0}


def asides(folder):
    return sorted(p.name for p in folder.iterdir() if ".damaged-" in p.name)


@pytest.mark.parametrize(
    "damage, why",
    [
        ("{not json", "not readable JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (json.dumps({"favourites": {"not": "a list"}}), "not a favourites file"),
        (json.dumps([1, 2, 3]), "not a favourites file"),
        ("\udcff".encode("utf-8", "surrogateescape").decode("latin-1"), "not readable JSON"),
    ],
)
def test_a_wholly_damaged_favourites_file_is_moved_aside_and_said(tmp_path, damage, why):
    path = tmp_path / "favourites.json"
    path.write_text(damage, encoding="latin-1")
    store = FavouritesStore(path)
    assert store.records == []
    assert why in store.problem and "moved to favourites.json.damaged-" in store.problem
    (aside,) = asides(tmp_path)
    assert (tmp_path / aside).read_text(encoding="latin-1") == damage  # nothing the user had is destroyed
    assert not path.exists()
    assert FavouritesStore(path).problem is None  # said once: the next start is quiet


def test_bad_records_are_left_out_the_good_ones_kept_and_the_original_saved(tmp_path):
    path = tmp_path / "favourites.json"
    original = json.dumps({"version": 1, "favourites": [dict(GOOD, seed=2**70), dict(GOOD, id=["x"]), GOOD]})
    path.write_text(original)
    store = FavouritesStore(path)
    assert [r["id"] for r in store.records] == ["ok"]
    assert "2 of its 3 favourites are damaged" in store.problem and "1 favourite kept" in store.problem
    (aside,) = asides(tmp_path)
    assert (tmp_path / aside).read_text() == original
    again = FavouritesStore(path)  # the file now holds the good record alone
    assert again.problem is None and [r["id"] for r in again.records] == ["ok"]


def test_every_write_keeps_the_previous_file_as_a_backup(tmp_path):
    path = tmp_path / "favourites.json"
    store = FavouritesStore(path)
    assert store.problem is None and store.records == []  # a missing file is not damage
    store.add(dict(GOOD, id="first"))
    assert not store.backup_path.exists()  # nothing was replaced
    store.add(dict(GOOD, id="second"))
    backup = json.loads(store.backup_path.read_text())
    assert [r["id"] for r in backup["favourites"]] == ["first"]
    assert [r["id"] for r in json.loads(path.read_text())["favourites"]] == ["first", "second"]


def test_a_favourites_path_that_is_a_folder_does_not_stop_the_store(tmp_path):
    (tmp_path / "favourites.json").mkdir()
    store = FavouritesStore(tmp_path / "favourites.json")
    assert store.records == [] and "not a regular file" in store.problem
    store.add(GOOD)  # moved aside, so the next star writes a real file
    assert [r["id"] for r in FavouritesStore(tmp_path / "favourites.json").records] == ["ok"]


def window_on(qtbot, tmp_path, settings) -> MainWindow:
    missing = tmp_path / "no-model.safetensors"
    window = MainWindow(
        {"levels": "levels", "images": missing, "music": missing}, settings=settings, storage=AppStorage.under(tmp_path)
    )
    qtbot.addWidget(window)
    return window


def test_the_window_says_once_what_it_repaired(qtbot, tmp_path, monkeypatch):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("levels/temperature", "inf")
    settings.setValue("levels/seed", str(2**70))
    settings.sync()
    storage = AppStorage.under(tmp_path)
    storage.favourites_file.parent.mkdir(parents=True, exist_ok=True)
    storage.favourites_file.write_text("{half written")
    window = window_on(qtbot, tmp_path, settings)
    notice = window.repair_notice
    tip = notice.toolTip()
    assert "favourites file was damaged" in tip and "levels/temperature" in tip and "levels/seed" in tip
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: shown.append(text))
    notice.click()
    assert shown and "levels/seed" in shown[0]
    assert window.repair_notice is None  # dismissed
    window.close()
    quiet = window_on(qtbot, tmp_path, settings)  # the values were saved back whole on close
    assert quiet.repair_notice is None
    quiet.close()
