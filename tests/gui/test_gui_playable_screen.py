"""The "Playable screen" page of a whole-screen levels tab through pytest-qt, on the shipped
Lode Runner model: there only for models the agent can play, Generate makes the screen
`sample --playable` makes of the tab's seed, export writes it with a sidecar whose command
replays it byte for byte, and errors leave the app running. Runs offscreen."""

from __future__ import annotations

import json
import os
import shlex

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import SHIPPED_LEVELS, SHIPPED_LODE_RUNNER, run_cli  # noqa: E402
from test_gui import WAIT_MS, errors, make_window, settings, wait_idle  # noqa: E402,F401 - shared fixtures

from generators.levels.lode_playable import SEARCH_BUDGET, playable_screen  # noqa: E402
from gui.playable_screen_panel import PlayableScreenPanel, supports_playable_screens  # noqa: E402
from gui.qimage import to_pixmap  # noqa: E402

pytestmark = pytest.mark.skipif(not SHIPPED_LODE_RUNNER.exists(), reason="no shipped lode-runner checkpoint")
SEED = 3


@pytest.fixture
def window(qtbot, settings, errors):
    window = make_window(qtbot, SHIPPED_LODE_RUNNER, settings)
    yield window
    window.close()


@pytest.fixture
def view(window):
    return window.views["levels"]


@pytest.fixture
def panel(view) -> PlayableScreenPanel:
    assert view.playable_screen is not None
    view.centre.setCurrentWidget(view.playable_screen)
    view.controls.seed.setValue(SEED)
    return view.playable_screen


def generate(qtbot, panel: PlayableScreenPanel):
    assert panel.generate() is not None
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert panel.result is not None
    return panel.result


def test_the_page_is_there_for_the_lode_runner_tab_and_not_for_mario(qtbot, view, settings, errors):
    assert view.centre.tabText(view.centre.count() - 1) == "Playable screen"
    assert view.long_level is None and view.long_page_name() == "Playable screen"
    assert supports_playable_screens(view.generator.domain)
    if SHIPPED_LEVELS.exists():
        mario = make_window(qtbot, SHIPPED_LEVELS, settings).views["levels"]
        try:
            assert mario.playable_screen is None and not supports_playable_screens(mario.generator.domain)
            assert "Playable screen" not in [mario.centre.tabText(i) for i in range(mario.centre.count())]
        finally:
            mario.window().close()
    assert not errors


def test_generate_makes_the_cli_screen_of_the_tabs_seed_and_condition(qtbot, view, panel, errors):
    view.controls.set_temperature(0.9)
    assert not panel.export_button.isEnabled() and not panel.cancel_button.isEnabled()
    result = generate(qtbot, panel)
    expected = playable_screen(view.generator, SEED, view.context.condition, 0.9, SEARCH_BUDGET)
    made = result.made
    assert made.level.text() == expected.level.text() and made.labels == expected.labels
    assert (made.attempts, made.ladder_tiles, made.playable) == (expected.attempts, expected.ladder_tiles, True)
    np.testing.assert_allclose(made.latent, expected.latent, atol=1e-6)
    status = panel.status.text()
    if made.raw_playable:
        assert status.startswith("Playable — as sampled")
    else:
        assert status.startswith(f"Playable after {made.attempts} screens searched")
        # Ladders are named only when the repair added some.
        assert (f"{made.ladder_tiles} ladder tile" in status) == (made.ladder_tiles > 0)
    assert panel.view.image() == to_pixmap(view.generator.domain.render(made.level)).toImage()
    assert panel.generate_button.isEnabled() and not panel.cancel_button.isEnabled() and panel.export_button.isEnabled()
    assert not errors


def test_export_writes_the_screen_and_a_sidecar_whose_command_replays_it(qtbot, view, panel, tmp_path, errors):
    result = generate(qtbot, panel)
    target = tmp_path / "new folder" / "screen.txt"
    panel.export_to(target)
    wait_idle(qtbot, view)
    assert not errors
    assert target.read_text() == result.made.level.text()
    record = json.loads((tmp_path / "new folder" / "screen.json").read_text())
    assert record["asset"] == "screen.txt" and record["seed"] == SEED
    assert record["temperature"] == pytest.approx(view.controls.temperature())
    assert record["condition"] == record["labels"] == list(result.made.labels)
    assert record["asked"] == {"required": [], "excluded": []}
    assert record["playable"] is True and record["attempts"] == result.made.attempts
    assert record["ladder_tiles"] == result.made.ladder_tiles
    assert record["checkpoint"]["path"] == view.context.checkpoint
    assert "--playable" in record["command"]
    # The recorded command writes the same screen, byte for byte.
    out = tmp_path / "cli"
    args = shlex.split(record["command"].replace("--out OUT", f"--out {out}"))
    assert args[:2] == ["python", "main.py"]
    done = run_cli(*args[2:])
    assert done.returncode == 0, done.stderr
    assert (out / f"levels-seed{SEED}.txt").read_bytes() == target.read_bytes()
    assert "playable=yes" in done.stdout


@pytest.mark.parametrize("kind", ["under a file", "read-only"])
def test_a_bad_export_folder_shows_an_error_and_the_app_keeps_running(qtbot, view, panel, tmp_path, errors, kind):
    generate(qtbot, panel)
    if kind == "under a file":
        (tmp_path / "plain").write_text("not a folder")
        folder = tmp_path / "plain" / "sub"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o500)
    panel.export_to(folder / "screen.png")
    wait_idle(qtbot, view)
    assert len(errors) == 1 and errors[0][0] == "Export failed"
    assert str(folder) in errors[0][1]
    assert not (folder / "screen.png").exists() and not (folder / "screen.json").exists()
    # Still usable: another screen comes.
    view.controls.seed.setValue(SEED + 1)
    assert generate(qtbot, panel).request.seed == SEED + 1


def test_cancel_drops_the_screen_in_flight_and_keeps_the_last(qtbot, view, panel):
    first = generate(qtbot, panel)
    shown = panel.view.image()
    view.controls.seed.setValue(SEED + 1)
    panel.generate()
    assert panel.busy and panel.progress.isVisibleTo(panel) and not panel.generate_button.isEnabled()
    panel.cancel()
    assert not panel.busy and panel.generate_button.isEnabled() and panel.status.text().startswith("Cancelled")
    wait_idle(qtbot, view)  # the dropped worker finishes; its screen is not shown
    assert panel.result is first and panel.view.image() == shown


def test_a_failing_search_shows_an_error_and_the_app_keeps_running(qtbot, view, panel, errors, monkeypatch):
    import gui.playable_screen_panel as module
    from generators.core.errors import UserError

    def broken(*args, **kwargs):
        raise UserError("no screen today")

    monkeypatch.setattr(module, "playable_screen", broken)
    panel.generate()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert errors == [("Cannot make the screen", "no screen today")]
    assert panel.result is None and panel.generate_button.isEnabled() and "no screen today" in panel.status.text()


def test_the_page_fits_a_1280_by_720_screen_after_generate(qtbot, view, window, panel):
    from test_gui_layout import SCREEN, check_fits

    window.resize(SCREEN)
    generate(qtbot, panel)
    check_fits(qtbot, window, "Lode Runner: Playable screen after Generate")


def test_the_status_names_ladders_only_when_some_were_added():
    from types import SimpleNamespace

    from gui.playable_screen_panel import status_text

    def result(ladder_tiles: int):
        made = SimpleNamespace(
            raw_playable=False, playable=True, attempts=12, ladder_tiles=ladder_tiles, reason="", labels=["many-gold"]
        )
        return SimpleNamespace(made=made, request=SimpleNamespace(seed=1))

    assert status_text(result(0)).startswith("Playable after 12 screens searched")
    assert "ladder" not in status_text(result(0))
    assert "Playable after 12 screens searched, 3 ladder tiles added" in status_text(result(3))
