"""The "Full level" page of a levels tab through pytest-qt: a stitched level of the length
asked for from the tab's seed and condition, the agent's path drawn over it, a morph between
endpoints A and B, export with a sidecar whose command replays the level, and errors that
leave the app running. Runs offscreen on the tiny checkpoint (14 × 28 windows)."""

from __future__ import annotations

import json
import os
import shlex

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import SHIPPED_LEVELS, run_cli  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from test_gui import WAIT_MS, errors, make_window, settings, wait_idle  # noqa: E402,F401 - shared fixtures

from generators.core.conditions import Condition  # noqa: E402
from generators.levels.domain import LevelsDomain  # noqa: E402
from generators.levels.long_level import sample_long_level  # noqa: E402
from generators.levels.stitch import (  # noqa: E402
    StitchConfig,
    compose_level,
    morph_latents,
    stitch_support,  # noqa: E402
    window_count,
)
from gui.long_level_panel import PATH_COLOUR, LongLevelPanel, draw_path  # noqa: E402
from gui.qimage import to_pixmap  # noqa: E402

pytestmark = pytest.mark.skipif(not SHIPPED_LEVELS.exists(), reason="the shipped levels checkpoint is missing")


@pytest.fixture
def window(qtbot, settings, errors):
    # The shipped Mario model (16-column windows): the tiny test model decodes nearly every
    # latent to the same empty window, so seeds, temperatures and morphs would look alike.
    window = make_window(qtbot, SHIPPED_LEVELS, settings)
    yield window
    window.close()


@pytest.fixture
def view(window):
    return window.views["levels"]


@pytest.fixture
def panel(view) -> LongLevelPanel:
    assert view.long_level is not None
    view.centre.setCurrentWidget(view.long_level)
    view.controls.seed.setValue(5)
    view.long_level.length.setValue(60)
    return view.long_level


def generate(qtbot, panel: LongLevelPanel):
    assert panel.generate() is not None
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert panel.result is not None
    return panel.result


def pixel(image, x: float, y: float):
    colour = image.pixelColor(int(x), int(y))
    return colour.red(), colour.green(), colour.blue()


def test_the_page_is_there_for_window_models_only(view, legend):
    assert view.centre.tabText(view.centre.count() - 1) == "Full level"
    assert stitch_support(LevelsDomain(legend, height=14, width=28)) == ""
    assert "single-screen" in stitch_support(LevelsDomain(legend, height=14, width=28, whole_levels=True))
    assert "at least" in stitch_support(LevelsDomain(legend, height=14, width=8))
    no_ground = {"-": ("passable", "empty"), "o": ("coin", "passable")}
    assert "solid" in stitch_support(LevelsDomain(no_ground, height=14, width=28))


def test_generates_the_level_of_the_tabs_seed_and_condition_at_the_length_asked(qtbot, view, panel, errors):
    view.controls.set_temperature(0.8)
    result = generate(qtbot, panel)
    level = result.made.level
    assert (level.height, level.width) == (14, 60)
    # The same call the CLI makes, from the tab's seed, condition and temperature; character "any"
    # asks for none, as the CLI's default does.
    assert result.request.condition == view.context.condition == Condition() and result.request.character is None
    expected = sample_long_level(view.generator, 60, 5, view.context.condition, 0.8)
    assert level.text() == expected.level.text() and result.made.labels == expected.labels
    assert result.made.character is expected.character is None
    assert level.text() != sample_long_level(view.generator, 60, 6, view.context.condition, 0.8).level.text()
    image = panel.view.image()
    assert (image.width(), image.height()) == (60 * 16, 14 * 16)
    agent = result.agent
    status = panel.status.text()
    if agent.completable:
        assert status == f"Completable — path of {len(agent.path) - 1} moves"
    else:
        assert status.startswith(f"Not completable: {agent.reason}; furthest column {agent.furthest_column}")
    assert panel.generate_button.isEnabled() and not panel.cancel_button.isEnabled() and panel.export_button.isEnabled()
    assert not errors


def test_the_path_overlay_is_drawn_over_the_level_and_toggles(qtbot, panel):
    result = generate(qtbot, panel)
    assert panel.show_path.isChecked() and len(result.agent.path) > 1
    with_path = panel.view.image()
    panel.show_path.setChecked(False)
    without = panel.view.image()
    assert without == to_pixmap(result.pixels).toImage()  # the plain render
    assert with_path != without
    # The polyline passes through the centre of each path cell inside the map.
    row, column = next((r, c) for r, c in result.agent.path[1:] if 0 <= r < 14)
    assert pixel(with_path, column * 16 + 8, row * 16 + 8) == (
        PATH_COLOUR.red(),
        PATH_COLOUR.green(),
        PATH_COLOUR.blue(),
    )
    panel.show_path.setChecked(True)
    assert panel.view.image() == with_path


def test_path_cells_above_the_map_are_clipped():
    from generators.levels.agent import PlayResult

    pixels = np.zeros((14 * 16, 10 * 16, 3), np.uint8)
    agent = PlayResult(True, 9, ((12, 0), (-3, 4), (-2, 6), (12, 9)), "")
    drawn = draw_path(to_pixmap(pixels), agent, 10).toImage()
    assert (drawn.width(), drawn.height()) == (160, 224)  # nothing grew to hold the cells above
    assert pixel(drawn, 8, 12 * 16 + 8) != (0, 0, 0)


def test_morph_needs_both_endpoints_and_runs_from_a_to_b(qtbot, view, panel, errors):
    assert not panel.morph.isEnabled() and "endpoints A and B" in panel.morph.toolTip()
    generator = view.generator
    z_a, z_b = generator.latent_for_seed(11), generator.latent_for_seed(12)
    view.interpolation.set_endpoint("A", z_a, "seed 11", seed=11)
    assert not panel.morph.isEnabled()
    view.interpolation.set_endpoint("B", z_b, "seed 12", seed=12)
    assert panel.morph.isEnabled()
    panel.morph.setChecked(True)
    assert not panel.playable.isEnabled()  # repair would move the latents off the morph
    result = generate(qtbot, panel)
    morph = result.request.morph
    assert (morph.seed_a, morph.seed_b, morph.mode) == (11, 12, view.interpolation.mode())
    # Nothing asked: each window takes the labels of the nearer end, as `interpolate --length` does.
    labels_a, labels_b = generator.labels_for_seed(11), generator.labels_for_seed(12)
    assert (morph.labels_a, morph.labels_b) == (tuple(labels_a), tuple(labels_b))
    assert result.request.condition is None
    count = window_count(60, generator.domain.width, StitchConfig().overlap)
    latents = morph_latents(z_a, z_b, count, morph.mode)
    per_window = [labels_a if k / (count - 1) < 0.5 else labels_b for k in range(count)]
    expected = compose_level(generator, latents, per_window, 60, seed=11)
    assert result.made.level.text() == expected.level.text() and result.made.labels == per_window
    np.testing.assert_allclose(np.stack([w.base for w in result.made.windows]), latents, atol=1e-6)
    np.testing.assert_allclose(latents[[0, -1]], [z_a, z_b], atol=1e-5)
    assert result.made.level.text() != sample_long_level(generator, 60, 5, view.context.condition).level.text()
    wait_idle(qtbot, view)
    assert not errors


def test_export_writes_the_level_and_a_sidecar_whose_command_replays_it(qtbot, view, panel, tmp_path, errors):
    result = generate(qtbot, panel)
    target = tmp_path / "new folder" / "level.txt"
    panel.export_to(target)
    wait_idle(qtbot, view)
    assert not errors
    assert target.read_text() == result.made.level.text()
    record = json.loads((tmp_path / "new folder" / "level.json").read_text())
    assert record["asset"] == "level.txt" and record["seed"] == 5 and record["length"] == 60
    assert record["condition"] == list(result.made.labels[0]) and record["playable_requested"] is False
    assert record["window_labels"] == [list(labels) for labels in result.made.labels]
    assert record["asked"] == {"required": [], "excluded": []}
    assert record["checkpoint"]["path"] == view.context.checkpoint
    assert len(record["window_latents"]) == len(result.made.windows)
    # The recorded command writes the same level.
    out = tmp_path / "cli"
    args = shlex.split(record["command"].replace("--out OUT", f"--out {out}"))
    assert args[:2] == ["python", "main.py"]
    done = run_cli(*args[2:])
    assert done.returncode == 0, done.stderr
    assert (out / "levels-seed5-len60.txt").read_text() == target.read_text()


def test_export_of_a_morph_records_its_endpoints_and_writes_a_map(qtbot, view, panel, tmp_path, errors):
    generator = view.generator
    view.interpolation.set_endpoint("A", generator.latent_for_seed(3), "seed 3")
    view.interpolation.set_endpoint("B", generator.latent_for_seed(4) * 0.5, "seed 4")  # not seed 4's latent
    panel.morph.setChecked(True)
    generate(qtbot, panel)
    panel.export_to(tmp_path / "morph.tmj")
    wait_idle(qtbot, view)
    assert not errors
    assert json.loads((tmp_path / "morph.tmj").read_text())["width"] == 60
    record = json.loads((tmp_path / "morph.json").read_text())
    assert record["morph"]["a"]["seed"] == 3 and record["morph"]["b"]["seed"] is None
    np.testing.assert_allclose(record["morph"]["b"]["latent"], generator.latent_for_seed(4) * 0.5, atol=1e-6)
    assert record["command"] is None and "window_latents" in record["note"]


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
    panel.export_to(folder / "level.png")
    wait_idle(qtbot, view)
    assert len(errors) == 1 and errors[0][0] == "Export failed"
    assert str(folder) in errors[0][1] and "\n" not in errors[0][1]
    assert not (folder / "level.png").exists() and not (folder / "level.json").exists()
    # Still usable: another level comes.
    panel.length.setValue(70)
    assert generate(qtbot, panel).made.level.width == 70


def test_cancel_drops_the_level_in_flight_and_keeps_the_last(qtbot, view, panel):
    first = generate(qtbot, panel)
    shown = panel.view.image()
    panel.length.setValue(200)
    panel.playable.setChecked(True)
    panel.generate()
    assert panel.busy and panel.progress.isVisibleTo(panel) and not panel.generate_button.isEnabled()
    panel.cancel()
    assert not panel.busy and panel.generate_button.isEnabled() and panel.status.text().startswith("Cancelled")
    wait_idle(qtbot, view)  # the dropped worker finishes; its level is not shown
    assert panel.result is first and panel.view.image() == shown


def test_cancel_stops_the_worker_at_its_next_window(qtbot, view, panel, errors, monkeypatch):
    """Cancel does not just drop the result: the stitching stops at the next window it reports."""
    import threading

    import gui.long_level_panel as module

    real = module.long_level.make_long_level
    held, release, windows, outcome = threading.Event(), threading.Event(), [], []

    def slow(generator, request, progress=None):
        def gate(done, total):
            windows.append(done)
            if done == 1:
                held.set()
                release.wait(WAIT_MS / 1000)
            progress(done, total)

        try:
            return real(generator, request, gate)
        except Exception as error:
            outcome.append(type(error).__name__)
            raise

    monkeypatch.setattr(module.long_level, "make_long_level", slow)
    panel.length.setValue(200)
    panel.generate()
    assert held.wait(WAIT_MS / 1000)
    panel.cancel()
    release.set()
    qtbot.waitUntil(lambda: not view.context.runner.busy, timeout=WAIT_MS)
    assert outcome == ["Superseded"] and windows == [1]  # stopped at the window it was held at
    assert panel.result is None and not panel.busy and panel.status.text() == "Cancelled" and errors == []


def test_playable_reports_whether_repair_was_needed(qtbot, view, panel):
    panel.playable.setChecked(True)
    result = generate(qtbot, panel)
    assert result.request.playable and result.request.budget > 0
    text = panel.status.text()
    if result.made.raw_playable:
        assert "no repair needed" in text
    elif result.made.playable:
        assert f"playable after {result.made.attempts - 1} repair attempt" in text
    else:
        assert "repair failed" in text
    assert result.made.playable == result.agent.completable


def test_a_failing_level_shows_an_error_and_the_app_keeps_running(qtbot, view, panel, errors, monkeypatch):
    import gui.long_level_panel as module
    from generators.core.errors import UserError

    def broken(*args, **kwargs):
        raise UserError("no level today")

    monkeypatch.setattr(module.long_level, "make_long_level", broken)
    panel.generate()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert errors == [("Cannot make the level", "no level today")]
    assert panel.result is None and panel.generate_button.isEnabled() and "no level today" in panel.status.text()


def test_where_the_agent_got_stuck_is_marked():
    from generators.levels.agent import PlayResult
    from gui.long_level_panel import STUCK_COLOUR

    pixels = np.zeros((14 * 16, 10 * 16, 3), np.uint8)
    stuck = PlayResult(False, 4, ((12, 0), (12, 1)), "a gap too wide")
    drawn = draw_path(to_pixmap(pixels), stuck, 10).toImage()
    red = (STUCK_COLOUR.red(), STUCK_COLOUR.green(), STUCK_COLOUR.blue())
    assert pixel(drawn, 5 * 16, 2) == red  # the line after column 4, from the top
    finished = draw_path(to_pixmap(pixels), PlayResult(True, 9, stuck.path, ""), 10).toImage()
    assert pixel(finished, 5 * 16, 2) == (0, 0, 0)


def test_the_tabs_condition_reaches_every_window_and_the_sidecar(qtbot, view, panel, tmp_path, errors):
    view.conditions.checks["pipe"].setCheckState(Qt.CheckState.Checked)  # required
    view.conditions.checks["enemy"].setCheckState(Qt.CheckState.Unchecked)  # excluded
    wait_idle(qtbot, view)
    asked = Condition(("pipe",), ("enemy",))
    assert panel.request().condition == asked
    result = generate(qtbot, panel)
    assert len(result.made.labels) == len(result.made.windows) > 1
    assert all("pipe" in labels and "enemy" not in labels for labels in result.made.labels)
    assert result.made.level.text() == sample_long_level(view.generator, 60, 5, asked).level.text()
    # A morph asked for labels decodes every window under them too.
    generator = view.generator
    view.interpolation.set_endpoint("A", generator.latent_for_seed(3), "seed 3", seed=3)
    view.interpolation.set_endpoint("B", generator.latent_for_seed(4), "seed 4", seed=4)
    panel.morph.setChecked(True)
    assert panel.request().condition == asked
    panel.morph.setChecked(False)
    panel.export_to(tmp_path / "level.txt")
    wait_idle(qtbot, view)
    assert not errors
    record = json.loads((tmp_path / "level.json").read_text())
    assert record["asked"] == {"required": ["pipe"], "excluded": ["enemy"]}
    assert record["window_labels"] == [list(labels) for labels in result.made.labels]
    assert record["condition"] == list(result.made.labels[0])
    assert "--condition pipe --without enemy" in record["command"]


def test_the_choice_combos_list_their_values(panel):
    assert [panel.difficulty.itemText(i) for i in range(panel.difficulty.count())] == ["as drawn", "easier", "harder"]
    assert [panel.character.itemText(i) for i in range(panel.character.count())] == ["any", "ground", "athletic"]
    assert panel.character.isEnabled() and "athletic" in panel.character.toolTip()


@pytest.mark.parametrize("choice, value", [("difficulty", "harder"), ("character", "athletic")])
def test_a_difficulty_or_character_makes_the_cli_level_and_the_sidecar_replays_it(
    qtbot, view, panel, tmp_path, errors, choice, value
):
    combo = getattr(panel, choice)
    combo.setCurrentIndex(combo.findData(value))
    result = generate(qtbot, panel)
    assert getattr(result.request, choice) == value
    asked = sample_long_level(view.context.generator, 60, 5, Condition(), **{choice: value})
    assert result.made.level.rows == asked.level.rows
    if choice == "character":
        assert result.made.character == value and panel.status.text().startswith("Athletic level · ")
    target = tmp_path / "chosen.txt"
    panel.export_to(target)
    wait_idle(qtbot, view)
    assert not errors
    record = json.loads((tmp_path / "chosen.json").read_text())
    assert record[choice] == value and record["command"].endswith(f"--{choice} {value}")
    out = tmp_path / "cli"
    done = run_cli(*shlex.split(record["command"].replace("--out OUT", f"--out {out}"))[2:])
    assert done.returncode == 0, done.stderr
    assert (out / "levels-seed5-len60.txt").read_text() == target.read_text()


def test_the_character_is_off_for_a_morph_and_for_models_without_characters(qtbot, view, panel, monkeypatch):
    view.interpolation.set_endpoint("A", view.generator.latent_for_seed(11), "seed 11", seed=11)
    view.interpolation.set_endpoint("B", view.generator.latent_for_seed(12), "seed 12", seed=12)
    panel.character.setCurrentIndex(panel.character.findData("ground"))
    panel.morph.setChecked(True)
    assert not panel.character.isEnabled() and panel.request().character is None  # a morph's latents are its own
    panel.morph.setChecked(False)
    assert panel.character.isEnabled() and panel.request().character == "ground"
    # A card written before characters: the combo is off, says why, and asks for none.
    monkeypatch.setattr("gui.long_level_panel.characters_of", lambda generator: None)
    panel._update_enabled()
    assert not panel.character.isEnabled() and "records no level characters" in panel.character.toolTip()
    assert panel.request().character is None
