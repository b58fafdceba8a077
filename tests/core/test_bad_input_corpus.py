"""Every case of the bad-input corpus (`tests/bad_inputs.py`) through the CLI's `main`, in this
process: exit 2, one stderr line, no traceback, nothing on stdout, no new file in the output folder,
no hostile command run and no hang. The settings and favourites cases start the app on damaged
saved state: it must start, sample its first grid and say what it repaired."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest
from conftest import files_under
from test_cli import cli_here

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bad_inputs  # noqa: E402 - the corpus sits beside the test folders

CASES = bad_inputs.build_all()
HANG_SECONDS = 10  # a case that has not answered by then is a hang


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang(f"no answer within {HANG_SECONDS} s")


def test_the_corpus_is_large_and_covers_every_kind():
    counts = bad_inputs.census()
    assert sum(counts.values()) >= 300, counts
    for kind in ("flags", "levels", "images", "music", "checkpoints", "training", "eval", "settings"):
        assert counts.get(kind, 0) >= 10, (kind, counts)
    assert len({case.id for case in CASES}) == len(CASES)  # each case is its own


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_bad_input_is_refused_with_one_line(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a hostile label that reached a shell would write its marker here
    argv = case.build(tmp_path)
    planted = files_under(tmp_path / "out")  # what the case itself put there (a live run's lock)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    try:
        proc = cli_here(argv, capsys)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stdout == "", proc.stdout[-500:]
    assert files_under(tmp_path / "out") == planted  # nothing written, not even a temp file
    assert not any(path.name == bad_inputs.MARKER for path in tmp_path.rglob("*"))
    if any(str(tmp_path / "in") in arg for arg in argv):  # refused for the file, not for a flag
        assert str(tmp_path / "in") in lines[0], lines[0]
    if case.expect:
        assert case.expect in lines[0]


@pytest.fixture(scope="module")
def app_start(tmp_path_factory):
    """Start the main window on a scratch folder (the levels model only, so each start is quick)."""
    from PySide6.QtCore import QSettings

    from gui.main_window import MainWindow
    from gui.storage import AppStorage

    def start(folder: Path, qtbot) -> MainWindow:
        settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
        missing = folder / "no-model.safetensors"
        window = MainWindow(
            {"levels": "levels", "images": missing, "music": missing},
            settings=settings,
            storage=AppStorage.under(folder),
        )
        qtbot.addWidget(window)
        return window

    return start


@pytest.mark.parametrize("name", list(bad_inputs.SETTINGS_CASES))
def test_the_app_starts_on_damaged_settings(name, tmp_path, qtbot, app_start):
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    for key, value in bad_inputs.SETTINGS_CASES[name].items():
        settings.setValue(key, value)
    settings.sync()
    del settings
    window = app_start(tmp_path, qtbot)
    view = window.views["levels"]
    qtbot.waitUntil(lambda: len(view.items) > 0, timeout=20_000)
    window.close()


@pytest.mark.parametrize("name", list(bad_inputs.FAVOURITES_CASES))
def test_the_app_starts_on_damaged_favourites_and_says_so(name, tmp_path, qtbot, app_start):
    from gui.storage import AppStorage

    path = AppStorage.under(tmp_path).favourites_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bad_inputs.FAVOURITES_CASES[name].encode("utf-8", "surrogateescape"))
    window = app_start(tmp_path, qtbot)
    assert window.repair_notice is not None and "favourites" in window.repair_notice.toolTip()
    assert any(".damaged-" in p.name for p in path.parent.iterdir())  # moved aside, not lost
    window.close()
    json.loads(path.read_text()) if path.exists() else None  # what is left is sound JSON
