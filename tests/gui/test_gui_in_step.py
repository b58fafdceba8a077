"""One source of truth for what a tab shows, through pytest-qt (issue 16, item 4): undo and redo
put back every control that made the grid shown (seed, temperature, grid size, spread,
condition, decoding options) without sampling again; the preview follows the grid when it shows
a tile of it (after Sample, Ctrl+R, a condition change, an undo) and says so, or says that what
it shows is no grid tile; the active directions are named beside the preview, with a Reset, and
never carry unseen into the next tile or map point. Runs offscreen on the tiny checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import GAME, write_game  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from test_gui import errors, make_window, settings, view, wait_idle, window  # noqa: E402,F401 - fixtures
from test_gui_music import open_window, players  # noqa: E402,F401 - fixtures
from test_music_cli import music_checkpoint  # noqa: E402,F401 - fixture

from gui.directions_panel import display_name  # noqa: E402
from gui.items import Shown  # noqa: E402


def fixed_grid(qtbot, view, seed: int, temperature: float = 1.0) -> None:
    """A grid from `seed` at `temperature`, the seed box kept (no new seed each time)."""
    view.controls.random_seed.setChecked(False)
    view.controls.seed.setValue(seed)
    view.controls.set_temperature(temperature)
    view.resample()
    wait_idle(qtbot, view)


def seeds(view) -> list[int]:
    return [item.seed for item in view.items]


def assert_no_new_work(qtbot, view, undo_steps: int) -> None:
    """Showing a state asked for no grid: nothing runs, and no step was added to the stack."""
    qtbot.wait(100)
    assert not view.context.runner.busy and view.undo_stack.count() == undo_steps


def sample_action(window):
    """Generate → Sample, the action behind Ctrl+R and F5."""
    generate = next(a for a in window.menuBar().actions() if a.text() == "&Generate").menu()
    action = next(a for a in generate.actions() if a.text() == "&Sample")
    assert "Ctrl+R" in [key.toString() for key in action.shortcuts()]
    return action


def assert_preview_is_tile(view, index: int) -> None:
    item = view.items[index]
    assert view.preview.caption == item.caption
    np.testing.assert_array_equal(view.preview.base, item.latent)
    assert view.preview.labels() == item.labels
    assert view.preview.labels_line.text().startswith(f"Grid tile {index + 1} ({item.caption})")
    assert view.preview.tile == index


# --- undo and redo put the controls back ----------------------------------------------------------


def test_undo_of_sample_restores_the_seed_and_temperature_that_made_the_grid(qtbot, view):
    fixed_grid(qtbot, view, seed=100, temperature=1.0)
    first = [item.asset for item in view.items]
    view.controls.set_temperature(0.5)
    view.controls.seed.setValue(300)
    view.sample()
    wait_idle(qtbot, view)
    assert seeds(view) == list(range(300, 316)) and all(item.temperature == 0.5 for item in view.items)
    steps = view.undo_stack.count()

    view.undo_stack.undo()
    assert seeds(view) == list(range(100, 116)) and [item.asset for item in view.items] == first
    assert view.controls.seed.value() == 100
    assert view.controls.temperature() == 1.0 and view.controls.temperature_label.text() == "1.00"
    assert_no_new_work(qtbot, view, steps)
    assert [item.asset for item in view.items] == first  # still the restored grid, not a new one

    view.undo_stack.redo()
    assert seeds(view) == list(range(300, 316))
    assert view.controls.seed.value() == 300 and view.controls.temperature() == 0.5
    assert_no_new_work(qtbot, view, steps)


def test_undo_of_a_random_seed_sample_shows_the_seed_of_the_restored_grid(qtbot, view):
    fixed_grid(qtbot, view, seed=7)
    view.controls.random_seed.setChecked(True)  # Sample draws a fresh seed into the box
    view.sample()
    wait_idle(qtbot, view)
    drawn = view.controls.seed.value()
    assert seeds(view)[0] == drawn != 7
    view.undo_stack.undo()
    assert seeds(view)[0] == 7 and view.controls.seed.value() == 7
    view.undo_stack.redo()
    assert view.controls.seed.value() == drawn


def test_undo_of_a_temperature_release_puts_the_slider_back_without_resampling(qtbot, view):
    fixed_grid(qtbot, view, seed=40)
    view.controls.temperature_slider.setValue(10)  # a keyboard step: resamples the same seeds at 0.5
    wait_idle(qtbot, view)
    assert all(item.temperature == 0.5 for item in view.items)
    steps = view.undo_stack.count()
    view.undo_stack.undo()
    assert view.controls.temperature_slider.value() == 20 and view.controls.temperature() == 1.0
    assert all(item.temperature == 1.0 for item in view.items)
    assert_no_new_work(qtbot, view, steps)


def test_undo_of_more_like_this_restores_the_spread_grid_size_and_seed(qtbot, view):
    fixed_grid(qtbot, view, seed=60)
    view.controls.rows.setValue(2)  # resamples the same seeds in a 2 × 4 grid
    wait_idle(qtbot, view)
    view.controls.spread.setValue(0.5)
    view.controls.seed.setValue(900)
    view.more_like_this(1)
    wait_idle(qtbot, view)
    assert view.items[1].caption == "near seed 61 #1"
    view.controls.spread.setValue(0.1)  # edited after: not what made the grid
    view.controls.seed.setValue(5)
    view.undo_stack.undo()  # back to the 2 × 4 grid of seeds 60...
    assert seeds(view) == list(range(60, 68)) and view.controls.shape() == (2, 4)
    assert view.controls.seed.value() == 60 and view.controls.spread.value() == 0.3
    view.undo_stack.redo()
    assert view.items[1].caption == "near seed 61 #1"
    assert view.controls.seed.value() == 900 and view.controls.spread.value() == 0.5
    view.undo_stack.undo()
    view.undo_stack.undo()  # the 4 × 4 grid
    assert view.controls.shape() == (4, 4) and len(view.items) == 16


def test_a_condition_change_keeps_a_typed_seed_and_undo_brings_back_the_grid_s(qtbot, view):
    fixed_grid(qtbot, view, seed=80)
    view.controls.seed.setValue(5)  # typed for the next Sample (or the Full level page)
    view.conditions.checks["pipe"].setChecked(True)  # the same seeds decoded again
    wait_idle(qtbot, view)
    assert seeds(view)[0] == 80 and view.controls.seed.value() == 5
    view.undo_stack.undo()
    assert seeds(view)[0] == 80 and view.controls.seed.value() == 80
    view.controls.seed.setValue(5)
    view.undo_stack.redo()
    assert view.controls.seed.value() == 80  # the seed that made the grid shown


def test_undo_of_a_decoding_change_restores_the_option_and_its_control(
    qtbot, settings, errors, tiny_checkpoint, music_checkpoint, players
):
    window = open_window(qtbot, settings, tiny_checkpoint, music_checkpoint)
    try:
        view = window.views["music"]
        domain, sampling = view.generator.domain, view.controls.decoding["sampling"]
        default = domain.decoding["sampling"]
        assert default != "draw"
        before = [item.asset for item in view.items]
        steps = view.undo_stack.count()
        sampling.setCurrentIndex(sampling.findData("draw"))
        qtbot.waitUntil(lambda: view.undo_stack.count() == steps + 1, timeout=20000)
        wait_idle(qtbot, view)
        view.undo_stack.undo()
        assert domain.decoding["sampling"] == default and sampling.currentData() == default
        assert [item.asset for item in view.items] == before
        # The preview decodes under the restored option too: it shows the grid's own tile.
        assert np.array_equal(domain.render(view.preview.asset), view.items[view.preview.tile].pixels)
        assert_no_new_work(qtbot, view, steps + 1)
        view.undo_stack.redo()
        assert domain.decoding["sampling"] == "draw" and sampling.currentData() == "draw"
        wait_idle(qtbot, view)
        assert errors == []
    finally:
        window.close()


# --- the preview shows a tile of the grid, or says what it shows ---------------------------------


def test_the_preview_follows_the_grid_after_ctrl_r(qtbot, window, view):
    fixed_grid(qtbot, view, seed=0)
    qtbot.mouseClick(view.grid.tiles[2], Qt.MouseButton.LeftButton)
    assert view.preview.caption == "seed 2"
    view.controls.seed.setValue(500)
    sample_action(window).trigger()
    wait_idle(qtbot, view)
    assert seeds(view)[0] == 500
    assert view.preview.caption == "seed 502"  # not seed 2, which the grid no longer holds
    assert_preview_is_tile(view, 2)
    view.undo_stack.undo()
    assert view.preview.caption == "seed 2"
    assert_preview_is_tile(view, 2)


def test_the_first_grid_shows_its_first_tile_in_the_preview(qtbot, view):
    assert_preview_is_tile(view, 0)


def test_more_like_this_keeps_the_preview_on_its_item(qtbot, view):
    fixed_grid(qtbot, view, seed=20)
    qtbot.mouseClick(view.grid.tiles[5], Qt.MouseButton.LeftButton)
    view.more_like_this(5)
    wait_idle(qtbot, view)
    assert_preview_is_tile(view, 0)  # the centre, seed 25, leads the new grid
    assert view.preview.caption == "seed 25"


@pytest.fixture(scope="module")
def prior_checkpoint(tmp_path_factory):
    """A tiny levels model with a mixture prior: a seed's latent depends on its labels, so a
    condition change moves the grid's latents, not only their labels."""
    from conftest import train_tiny

    return train_tiny(tmp_path_factory.mktemp("tiny-prior"), "tiny-prior", prior_components=2, eval_samples=8, iwae_k=2)


def test_a_condition_change_moves_the_preview_with_its_tile(qtbot, settings, errors, prior_checkpoint):
    window = make_window(qtbot, prior_checkpoint, settings)
    try:
        view = window.views["levels"]
        assert view.generator.prior is not None
        fixed_grid(qtbot, view, seed=10)
        index = next(i for i, item in enumerate(view.items) if "pipe" not in item.labels)
        qtbot.mouseClick(view.grid.tiles[index], Qt.MouseButton.LeftButton)
        before = view.preview.base.copy()
        view.conditions.checks["pipe"].setChecked(True)  # required: each seed's latent under its new labels
        wait_idle(qtbot, view)
        assert "pipe" in view.items[index].labels and not np.array_equal(view.items[index].latent, before)
        assert_preview_is_tile(view, index)  # the grid's item, not the old latent under new labels
        view.undo_stack.undo()
        assert_preview_is_tile(view, index)
        np.testing.assert_array_equal(view.preview.base, before)
        assert errors == []
    finally:
        window.close()


def test_a_preview_from_elsewhere_says_it_is_no_grid_tile_and_stays(qtbot, view):
    fixed_grid(qtbot, view, seed=30)
    view.set_endpoint_from_item(0, "A")
    view.set_endpoint_from_item(1, "B")
    view.interpolation.slider.setValue(50)
    caption = view.preview.caption
    assert caption.startswith("A→B at 0.50")
    line = view.preview.labels_line.text()
    assert line.startswith("Not a grid tile") and "shown under:" in line
    assert view.preview.view.caption.text().startswith(caption)  # the view names the blend
    assert view.preview.tile is None
    view.controls.seed.setValue(800)
    view.sample()
    wait_idle(qtbot, view)
    assert view.preview.caption == caption and view.preview.tile is None  # a blend is not moved
    assert view.preview.labels_line.text().startswith("Not a grid tile")


# --- the active directions are named beside the preview ------------------------------------------


def test_active_directions_are_named_beside_the_preview_with_one_reset(qtbot, view):
    fixed_grid(qtbot, view, seed=50)
    first, second = view.directions.names[:2]
    line, row = view.preview.directions_line, view.preview.directions_row
    assert not row.isVisibleTo(view.preview)  # nothing moved: nothing to say
    view.directions.sliders[first].setValue(300)
    view.directions.sliders[second].setValue(-50)
    assert row.isVisibleTo(view.preview)
    assert line.text() == f"Directions: {display_name(first)} +3.00, {display_name(second)} -0.50"

    # The offset carries into the next tile and a map point, and the line keeps saying so.
    qtbot.mouseClick(view.grid.tiles[4], Qt.MouseButton.LeftButton)
    offset = 3.0 * view.directions.vectors[first] - 0.5 * view.directions.vectors[second]
    np.testing.assert_allclose(view.preview.latent(), view.items[4].latent + offset, atol=1e-5)
    assert row.isVisibleTo(view.preview) and display_name(first) in line.text()
    point = np.zeros(view.generator.latent_size, dtype=np.float32)
    view.latent_map.point_chosen.emit(Shown(point, "map (0.00, 0.00)", view.items[0].labels))
    assert row.isVisibleTo(view.preview) and display_name(first) in line.text()
    assert view.preview.labels_line.text().startswith("Not a grid tile")
    assert view.preview.caption == "map (0.00, 0.00)"

    # One Reset puts every slider back, as one undoable step.
    steps = view.undo_stack.count()
    qtbot.mouseClick(view.preview.reset_button, Qt.MouseButton.LeftButton)
    assert all(slider.value() == 0 for slider in view.directions.sliders.values())
    assert not row.isVisibleTo(view.preview) and line.text() == ""
    np.testing.assert_array_equal(view.preview.latent(), point)
    assert view.undo_stack.count() == steps + 1
    view.undo_stack.undo()
    assert view.directions.sliders[first].value() == 300 and row.isVisibleTo(view.preview)


def test_a_starred_preview_names_the_directions_it_was_moved_by(qtbot, view):
    fixed_grid(qtbot, view, seed=70)
    name = view.directions.names[0]
    view.directions.sliders[name].setValue(100)
    record = view.star_preview()
    assert record["caption"] == f"seed 70 + {display_name(name)} +1.00"


def test_while_a_slider_is_dragged_the_directions_line_waits_for_the_release(qtbot, view):
    """A drag re-decodes at every step, but the words under the preview change once, on release:
    a changing word-wrapped line re-lays out the whole panel at every step."""
    fixed_grid(qtbot, view, seed=60)
    name = view.directions.names[0]
    slider, line = view.directions.sliders[name], view.preview.directions_line
    slider.setSliderDown(True)
    slider.setValue(100)
    assert line.text() == f"Directions: {display_name(name)} +1.00"  # the first move is named at once
    before = view.preview.latent().copy()
    slider.setValue(250)
    assert line.text() == f"Directions: {display_name(name)} +1.00"  # held: the words wait
    assert not np.allclose(view.preview.latent(), before)  # ...the picture does not
    slider.setSliderDown(False)  # the release
    assert line.text() == f"Directions: {display_name(name)} +2.50"


def test_while_the_blend_is_dragged_past_half_the_labels_line_waits_for_the_release(qtbot, view):
    """Past t = 0.5 a blend is decoded under B's labels. While the slider is held the line under
    the preview keeps its words (new words in a wrapped line re-lay out and repaint the window);
    the release names B's labels, and a shorter line never makes the preview shrink."""
    fixed_grid(qtbot, view, seed=80)
    latent = view.items[0].latent
    view.interpolation.set_endpoint("A", latent, "a", ("pipe", "tiny-mario"))
    view.interpolation.set_endpoint("B", latent + 1, "b", ("enemy", "coin", "tiny-mario"))
    slider, line = view.interpolation.slider, view.preview.labels_line
    slider.setValue(20)
    assert "pipe" in line.text() and "enemy" not in line.text()
    slider.setSliderDown(True)
    slider.setValue(80)
    assert view.preview.labels() == ("enemy", "coin", "tiny-mario")  # the picture follows B...
    assert "pipe" in line.text() and "enemy" not in line.text()  # ...the words wait
    slider.setSliderDown(False)  # the release
    assert "enemy" in line.text() and "coin" in line.text() and "pipe" not in line.text()
    tallest = line.minimumHeight()
    slider.setValue(20)
    assert "pipe" in line.text() and line.minimumHeight() == tallest


def test_a_held_slider_decodes_drafts_and_its_release_the_full_item(qtbot, view, monkeypatch):
    """While the interpolation slider is held the preview decodes inside `Domain.drafting()`
    (images: raw pixels); the release decodes once more at full quality."""
    fixed_grid(qtbot, view, seed=70)
    view.set_endpoint_from_item(0, "A")
    view.set_endpoint_from_item(1, "B")
    domain = view.context.domain
    monkeypatch.setattr(domain, "draft_decoding", {"drafted": True}, raising=False)
    decoded_under = []
    real = view.context.decode

    def spy(latents, labels):
        decoded_under.append(domain.decoding.get("drafted", False))
        return real(latents, labels)

    monkeypatch.setattr(view.context, "decode", spy)
    slider = view.interpolation.slider
    slider.setSliderDown(True)
    slider.setValue(30)
    slider.setValue(60)
    assert decoded_under and all(decoded_under)  # every step of the drag: drafts
    decoded_under.clear()
    slider.setSliderDown(False)  # the release
    assert decoded_under == [False]  # one full decode
    assert "drafted" not in domain.decoding
