"""What a tab asks of its items' labels, through pytest-qt: each label required, excluded or any
(the default), each exclusive group one label or any; every grid item decoded under its own
labels (drawn for its seed where it has one), shown on its tile and in the preview; undo; and
files encoded under the labels they show by themselves. Runs offscreen on the tiny checkpoint,
whose card keeps the training data's label sets."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import HOLDOUT, LEVELS, copy_checkpoint, level_text  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from test_gui import drop, errors, make_window, settings, view, wait_idle, window  # noqa: E402,F401 - fixtures

from generators.core.conditions import Condition  # noqa: E402
from gui.conditions_panel import labels_text, labels_tooltip  # noqa: E402
from gui.sample_grid import CAPTION_HEIGHT  # noqa: E402

ANY, REQUIRED, EXCLUDED = Qt.CheckState.PartiallyChecked, Qt.CheckState.Checked, Qt.CheckState.Unchecked


def fixed_grid(qtbot, view, seed: int = 100) -> None:
    view.controls.random_seed.setChecked(False)
    view.controls.seed.setValue(seed)
    view.resample()
    wait_idle(qtbot, view)


def set_state(qtbot, view, label: str, state) -> None:
    view.conditions.checks[label].setCheckState(state)
    wait_idle(qtbot, view)


def write_level(tmp_path, stem: str):
    path = tmp_path / f"{stem}.txt"
    path.write_text(level_text(LEVELS[stem]))
    return path


# --- the controls ---------------------------------------------------------------------------------


def test_any_is_the_default_of_every_label_and_group(view):
    panel = view.conditions
    assert view.context.condition == panel.condition() == Condition()
    assert panel.checks and all(box.isTristate() and box.checkState() == ANY for box in panel.checks.values())
    assert all(state.text() == "any" for state in panel.states.values())
    for combo in panel.combos.values():
        assert combo.currentIndex() == 0 and combo.currentText() == "any" and combo.currentData() is None
        assert "any" in combo.toolTip()
    tip = panel.checks["pipe"].toolTip()
    assert "any" in tip and "required" in tip and "excluded" in tip and "training data" in tip


def test_clicking_a_label_goes_from_any_to_required_to_excluded_and_back(qtbot, view):
    box, state = view.conditions.checks["coin"], view.conditions.states["coin"]
    asked = []
    view.conditions.changed.connect(asked.append)
    for expected, text, condition in (
        (REQUIRED, "required", Condition(("coin",))),
        (EXCLUDED, "excluded", Condition((), ("coin",))),
        (ANY, "any", Condition()),
    ):
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(6, box.height() // 2))  # on the box
        assert box.checkState() == expected and state.text() == text
        assert asked[-1] == condition
        wait_idle(qtbot, view)
        assert view.context.condition == condition


def test_choosing_a_label_in_a_group_requires_it_and_any_frees_it(qtbot, view):
    combo = view.conditions.combos["game"]
    combo.setCurrentIndex(combo.findData("tiny-mario"))
    wait_idle(qtbot, view)
    assert view.context.condition == Condition(("tiny-mario",))
    combo.setCurrentIndex(0)
    wait_idle(qtbot, view)
    assert view.context.condition == Condition()


def test_all_any_resets_every_control(qtbot, view):
    set_state(qtbot, view, "coin", REQUIRED)
    set_state(qtbot, view, "enemy", EXCLUDED)
    assert view.context.condition == Condition(("coin",), ("enemy",))
    view.conditions.reset_button.click()
    wait_idle(qtbot, view)
    assert view.context.condition == Condition()
    assert all(box.checkState() == ANY for box in view.conditions.checks.values())


# --- the grid under the three states --------------------------------------------------------------


def test_any_draws_each_items_labels_for_its_seed_from_the_data(qtbot, view, tiny_generator):
    assert tiny_generator.label_distribution is not None  # the card keeps the data's label sets
    fixed_grid(qtbot, view)
    for item in view.items:
        assert item.labels == tuple(tiny_generator.labels_for_seed(item.seed, Condition()))
    assert len({item.labels for item in view.items}) > 1  # a mix, as the data has
    mixed = [lb for lb in ("pipe", "coin", "breakable") if 0 < sum(lb in item.labels for item in view.items) < 16]
    assert mixed


def test_a_required_label_is_in_every_item_and_an_excluded_one_in_none(qtbot, view, tiny_generator):
    fixed_grid(qtbot, view)
    set_state(qtbot, view, "coin", REQUIRED)
    assert all("coin" in item.labels for item in view.items)
    set_state(qtbot, view, "enemy", EXCLUDED)
    asked = Condition(("coin",), ("enemy",))
    assert view.context.condition == asked
    assert all("coin" in item.labels and "enemy" not in item.labels for item in view.items)
    # Each seeded item is what `sample` makes of its seed under the condition (item i: seed + i).
    expected = tiny_generator.sample(16, asked, temperature=1.0, seed=100)
    assert [item.labels for item in view.items] == [tuple(s.condition) for s in expected]
    assert [item.asset for item in view.items] == [s.asset for s in expected]
    # Sampling anew keeps to the condition.
    view.controls.random_seed.setChecked(True)
    view.sample()
    wait_idle(qtbot, view)
    assert all("coin" in item.labels and "enemy" not in item.labels for item in view.items)


def test_undo_restores_the_condition_and_each_items_labels(qtbot, view):
    fixed_grid(qtbot, view)
    before = [item.labels for item in view.items]
    set_state(qtbot, view, "pipe", EXCLUDED)
    set_state(qtbot, view, "coin", REQUIRED)
    after = [item.labels for item in view.items]
    view.undo_stack.undo()
    assert view.context.condition == Condition((), ("pipe",))
    assert view.conditions.checks["pipe"].checkState() == EXCLUDED
    assert view.conditions.checks["coin"].checkState() == ANY
    assert all("pipe" not in item.labels for item in view.items)
    view.undo_stack.undo()
    assert view.context.condition == Condition() and view.conditions.condition() == Condition()
    assert [item.labels for item in view.items] == before
    view.undo_stack.redo()
    view.undo_stack.redo()
    assert view.conditions.checks["coin"].checkState() == REQUIRED
    assert [item.labels for item in view.items] == after


def test_each_tile_shows_the_labels_its_item_was_decoded_under(qtbot, view):
    fixed_grid(qtbot, view)
    space = view.generator.domain.conditions
    for tile, item in zip(view.grid.tiles, view.items):
        assert tile.caption == f"seed {item.seed}"
        assert tile.detail == labels_text(space, item.labels) and tile.detail
        assert labels_tooltip(space, item.labels) in tile.toolTip()
    first = view.items[0]
    on = [lb.replace("-", " ") for lb in space.groups[0].labels if lb in first.labels]
    assert view.grid.tiles[0].detail == (", ".join(on) or "none")
    set_state(qtbot, view, "breakable", REQUIRED)
    assert all("breakable" in tile.detail for tile in view.grid.tiles)
    assert view.grid.details and view.grid.caption_height() > CAPTION_HEIGHT  # room for the labels line


def test_the_preview_names_its_items_labels_and_follows_the_condition(qtbot, view, tiny_generator):
    fixed_grid(qtbot, view)
    qtbot.mouseClick(view.grid.tiles[3], Qt.MouseButton.LeftButton)
    item = view.items[3]
    assert view.preview.labels() == item.labels
    assert labels_text(view.generator.domain.conditions, item.labels) in view.preview.labels_line.text()
    assert view.preview.asset == tiny_generator.decode(item.latent[None], list(item.labels))[0]
    set_state(qtbot, view, "coin", EXCLUDED)
    assert view.preview.labels() == view.items[3].labels  # the seed's labels under the new condition
    assert "coin" not in view.preview.labels()


def test_items_without_a_seed_keep_their_labels_with_the_condition_applied(qtbot, view):
    fixed_grid(qtbot, view)
    centre = next(i for i, item in enumerate(view.items) if "pipe" in item.labels)
    view.more_like_this(centre)
    wait_idle(qtbot, view)
    own = view.items[0].labels
    assert all(item.labels == own for item in view.items[1:])  # variations: the centre's labels
    set_state(qtbot, view, "pipe", EXCLUDED)
    assert all(item.labels == tuple(lb for lb in own if lb != "pipe") for item in view.items[1:])
    set_state(qtbot, view, "pipe", ANY)
    assert all(item.labels == own for item in view.items[1:])  # their own labels again


def test_interpolation_decodes_each_point_under_the_nearer_ends_labels(qtbot, view):
    fixed_grid(qtbot, view)
    first = view.items[0]
    index = next(i for i, item in enumerate(view.items) if item.labels != first.labels)
    other = view.items[index]
    view.set_endpoint_from_item(0, "A")
    view.set_endpoint_from_item(index, "B")
    view.interpolation.slider.setValue(40)
    assert view.preview.labels() == first.labels
    view.interpolation.slider.setValue(60)
    assert view.preview.labels() == other.labels
    wait_idle(qtbot, view)
    assert len(view.interpolation.frame_pixmaps) == view.interpolation.frames.value()
    set_state(qtbot, view, "question-block", REQUIRED)
    assert all("question-block" in end.labels for end in view.interpolation.endpoints.values())


# --- files come back under their own labels -------------------------------------------------------


def test_opening_a_level_file_encodes_and_decodes_it_under_its_own_labels(qtbot, window, view, tmp_path):
    path = write_level(tmp_path, HOLDOUT)  # the held-out level
    generator = view.generator
    asset = generator.domain.read(path)
    own = tuple(generator.condition_labels(generator.domain.labels_of(asset)))
    assert "coin" in own and "enemy" in own
    set_state(qtbot, view, "coin", EXCLUDED)  # what the panel asks does not change a file's labels
    assert view.open_endpoint_file(path, "A")
    end = view.interpolation.endpoints["A"]
    assert end.labels == own and end.seed is None
    np.testing.assert_allclose(end.latent, generator.encode([asset], list(own), refine=True)[0], atol=1e-5)
    assert view.preview.labels() == own
    assert view.preview.asset == generator.decode(end.latent[None], list(own))[0]
    # A dropped file goes the same way (to B, A being set).
    drop(window, [write_level(tmp_path, "level-1")])
    dropped = generator.domain.read(tmp_path / "level-1.txt")
    assert view.interpolation.endpoints["B"].labels == tuple(
        generator.condition_labels(generator.domain.labels_of(dropped))
    )
    # A later change of the condition applies to the file's own labels, and undoes.
    set_state(qtbot, view, "enemy", EXCLUDED)
    assert view.interpolation.endpoints["A"].labels == tuple(lb for lb in own if lb not in ("coin", "enemy"))
    set_state(qtbot, view, "enemy", ANY)
    set_state(qtbot, view, "coin", ANY)
    assert view.interpolation.endpoints["A"].labels == own


# --- a model from before label statistics ---------------------------------------------------------


def test_a_card_without_label_statistics_leaves_any_labels_off(qtbot, tiny_checkpoint, settings, tmp_path, errors):
    weights, card_path = copy_checkpoint(tiny_checkpoint, tmp_path / "old")
    card = json.loads(card_path.read_text())
    card.pop("label_distribution")
    card_path.write_text(json.dumps(card))
    window = make_window(qtbot, weights, settings)
    view = window.views["levels"]
    assert view.generator.label_distribution is None
    assert "no label statistics" in view.conditions.checks["pipe"].toolTip()
    assert all(item.labels == ("tiny-mario",) for item in view.items)  # as such models always sampled
    set_state(qtbot, view, "pipe", REQUIRED)
    assert all(item.labels == ("pipe", "tiny-mario") for item in view.items)
    assert not errors
    window.close()
