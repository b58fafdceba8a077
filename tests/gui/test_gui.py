"""The desktop app through pytest-qt: main window, grid, interpolation, conditions, directions,
export, drag and drop, errors and saved state. Runs offscreen on the tiny checkpoint; no
modal dialog is ever left to block (QMessageBox.critical is patched to record instead)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import LEVELS, REPO_ROOT, copy_checkpoint, files_under, level_text  # noqa: E402
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from generators.core.conditions import Condition  # noqa: E402
from gui.domain_view import DomainView  # noqa: E402
from gui.main_window import MainWindow, UnavailableView  # noqa: E402
from gui.storage import AppStorage  # noqa: E402

WAIT_MS = 20000


@pytest.fixture
def errors(monkeypatch) -> list[tuple[str, str]]:
    """Every error dialog the app shows, as (title, message), instead of a blocking box."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *rest: shown.append((title, text)))
    return shown


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def wait_idle(qtbot, view: DomainView) -> None:
    qtbot.waitUntil(lambda: not view.context.runner.busy, timeout=WAIT_MS)


def storage_for(settings: QSettings) -> AppStorage:
    """Cache and favourites folders beside the test's settings file (never the user's)."""
    return AppStorage.under(Path(settings.fileName()).parent / "app-files")


def make_window(qtbot, checkpoint, settings, others: dict | None = None) -> MainWindow:
    """A main window on `checkpoint` for levels. The images and music tabs get `others`
    (domain -> checkpoint), by default files that do not exist, so that tests about the
    levels view do not pay for loading and sampling the shipped models."""
    missing = Path(settings.fileName()).parent / "no-model.safetensors"
    others = {"images": missing, "music": missing} | dict(others or {})
    window = MainWindow({"levels": checkpoint, **others}, settings=settings, storage=storage_for(settings))
    qtbot.addWidget(window)
    window.show()
    view = window.views["levels"]
    if isinstance(view, DomainView):
        wait_idle(qtbot, view)
    return window


@pytest.fixture
def window(qtbot, tiny_checkpoint, settings, errors):
    window = make_window(qtbot, tiny_checkpoint, settings)
    yield window
    window.close()


@pytest.fixture
def view(window) -> DomainView:
    return window.views["levels"]


def image_bytes(image) -> bytes:
    return bytes(image.constBits())


# --- main window -------------------------------------------------------------------------


def test_main_window_opens_the_levels_model_and_says_what_else_is_missing(window, view, errors):
    assert window.tabs.count() == 3
    assert [window.tabs.tabText(i) for i in range(3)] == ["Levels", "Images", "Music"]
    assert isinstance(view, DomainView)
    assert len(view.items) == 16 and view.grid.rows == view.grid.cols == 4
    seed = view.controls.seed.value()
    assert [tile.caption for tile in view.grid.tiles[:2]] == [f"seed {seed}", f"seed {seed + 1}"]
    assert all(tile.pixmap is not None and not tile.pixmap.isNull() for tile in view.grid.tiles)
    for domain in ("images", "music"):  # the fixture points them at a file that does not exist
        assert isinstance(window.views[domain], UnavailableView)
        assert "could not be opened" in window.views[domain].message
    assert errors == []


def test_a_missing_shipped_model_shows_a_message_instead_of_crashing(qtbot, tmp_path, settings, errors):
    window = make_window(qtbot, tmp_path / "no-such-model.safetensors", settings)
    levels = window.views["levels"]
    assert isinstance(levels, UnavailableView)
    assert "could not be opened" in levels.message and "no checkpoint" in levels.message
    window.close()


def test_about_this_model_shows_the_card(window):
    dialog = window.show_about_model()
    sections = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert {"data", "conditions", "metrics", "training"} <= set(sections)
    assert dialog.command.toPlainText() == "test"  # the tiny checkpoint's recorded command
    dialog.close()


# --- the grid ------------------------------------------------------------------------------


def test_clicking_a_tile_and_its_context_action_sets_endpoint_a(qtbot, view):
    qtbot.mouseClick(view.grid.tiles[2], Qt.MouseButton.LeftButton)
    assert view.grid.selected() == [2]
    assert view.grid.tiles[2].selected
    menu = view.tile_menu(2)
    actions = {action.text(): action for action in menu.actions() if action.text()}
    assert {"Set as endpoint A", "Set as endpoint B", "Export…", "Copy seed", "More like this"} <= set(actions)
    actions["Set as endpoint A"].trigger()
    end = view.interpolation.endpoints["A"]
    np.testing.assert_array_equal(end.latent, view.items[2].latent)
    assert end.caption == view.items[2].caption
    assert end.labels == view.items[2].labels and end.seed == view.items[2].seed
    assert view.interpolation.thumbs["A"].pixmap() is not None


def test_ctrl_click_adds_to_the_selection(qtbot, view):
    qtbot.mouseClick(view.grid.tiles[0], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.grid.tiles[3], Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier)
    assert view.grid.selected() == [0, 3]
    qtbot.mouseClick(view.grid.tiles[0], Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier)
    assert view.grid.selected() == [3]


def test_double_click_enlarges_with_zoom(qtbot, view):
    dialog = view.enlarge(1)
    qtbot.addWidget(dialog)
    before = dialog.view.zoom()
    dialog.view.zoom_in()
    assert dialog.view.zoom() > before
    assert dialog.view.image().size().width() == view.items[1].pixels.shape[1]


def test_sampling_uses_seed_plus_i_like_the_cli(qtbot, view, tiny_generator):
    view.controls.random_seed.setChecked(False)
    view.controls.seed.setValue(1234)
    view.sample()
    wait_idle(qtbot, view)
    assert [item.seed for item in view.items] == list(range(1234, 1250))
    expected = tiny_generator.sample(2, view.context.condition, temperature=1.0, seed=1234)
    assert [item.asset for item in view.items[:2]] == [s.asset for s in expected]
    assert [item.labels for item in view.items[:2]] == [tuple(s.condition) for s in expected]


def test_more_like_this_fills_the_grid_around_an_item(qtbot, view):
    centre = view.items[5]
    view.more_like_this(5)
    wait_idle(qtbot, view)
    np.testing.assert_array_equal(view.items[0].latent, centre.latent)
    assert all(item.caption.startswith(f"near {centre.caption}") for item in view.items[1:])
    distances = [np.linalg.norm(item.latent - centre.latent) for item in view.items[1:]]
    assert 0 < max(distances) < 0.3 * 8 * np.sqrt(centre.latent.size)


def test_resizing_the_grid_resamples_the_same_seeds(qtbot, view):
    first = view.items[0]
    view.controls.rows.setValue(2)
    wait_idle(qtbot, view)
    assert len(view.items) == 8 and view.grid.rows == 2
    assert view.items[0].asset == first.asset


# --- interpolation and directions ----------------------------------------------------------


def distinct_latents(view: DomainView) -> tuple[np.ndarray, np.ndarray]:
    """Two latents the model decodes to different assets under the labels an endpoint set from a
    bare latent takes (`ViewContext.labels_under()`)."""
    size = view.generator.latent_size
    candidates = [item.latent for item in view.items] + [
        k * np.eye(size, dtype=np.float32)[i] for k in (-3, 3) for i in range(size)
    ]
    assets = view.generator.decode(np.stack(candidates), list(view.context.labels_under()))
    other = next(i for i, asset in enumerate(assets) if asset != assets[0])
    return candidates[0], candidates[other]


def test_moving_the_interpolation_slider_changes_the_preview(qtbot, view):
    view.conditions.checks["enemy"].setChecked(True)  # a tiny model's plain samples can all be empty sky
    wait_idle(qtbot, view)
    a, b = distinct_latents(view)
    view.interpolation.set_endpoint("A", a, "first")
    view.interpolation.set_endpoint("B", b, "second")
    view.interpolation.slider.setValue(0)
    at_a = image_bytes(view.preview.view.image())
    view.interpolation.slider.setValue(100)
    at_b = image_bytes(view.preview.view.image())
    assert at_a != at_b
    np.testing.assert_allclose(view.preview.latent(), b, atol=1e-5)
    wait_idle(qtbot, view)
    assert len(view.interpolation.frame_pixmaps) == view.interpolation.frames.value()


def test_lerp_and_slerp_give_different_midpoints(view):
    size = view.generator.latent_size
    a, b = np.zeros(size, np.float32), np.zeros(size, np.float32)
    a[0], b[1] = 2.0, 1.0
    view.interpolation.set_endpoint("A", a, "a")
    view.interpolation.set_endpoint("B", b, "b")
    view.interpolation.slider.setValue(50)
    slerp_mid = view.preview.latent()
    view.interpolation.lerp.setChecked(True)
    lerp_mid = view.preview.latent()
    np.testing.assert_allclose(lerp_mid, (a + b) / 2, atol=1e-6)
    assert not np.allclose(slerp_mid, lerp_mid)


def test_a_direction_slider_moves_the_preview_and_undoes(view):
    name = view.directions.names[0]
    view.set_endpoint_from_item(0, "A")
    before = image_bytes(view.preview.view.image())
    view.directions.sliders[name].setValue(300)  # not dragged: committed at once
    moved = view.preview.latent() - view.items[0].latent
    np.testing.assert_allclose(moved, 3.0 * view.directions.vectors[name], atol=1e-5)
    assert view.undo_stack.canUndo()
    view.undo_stack.undo()
    assert view.directions.sliders[name].value() == 0
    assert image_bytes(view.preview.view.image()) == before


# --- conditions ----------------------------------------------------------------------------------


def test_toggling_a_condition_redecodes_the_same_latents(qtbot, view):
    latents = [item.latent.copy() for item in view.items]
    assets = [item.asset for item in view.items]
    labels = [item.labels for item in view.items]
    view.conditions.checks["pipe"].setChecked(True)  # from any to required
    wait_idle(qtbot, view)
    assert view.context.condition == Condition(("pipe",))
    assert all("pipe" in item.labels for item in view.items)
    for item, latent in zip(view.items, latents):
        np.testing.assert_array_equal(item.latent, latent)
    assert [item.asset for item in view.items] != assets
    view.undo_stack.undo()
    assert view.conditions.checks["pipe"].checkState() == Qt.CheckState.PartiallyChecked
    assert view.context.condition == Condition()
    assert [item.asset for item in view.items] == assets and [item.labels for item in view.items] == labels


def test_a_condition_changed_while_sampling_applies_to_the_new_grid(qtbot, view):
    view.sample()
    view.conditions.checks["coin"].setChecked(True)
    wait_idle(qtbot, view)
    assert all("coin" in item.labels for item in view.items)
    assert view.grid.tiles[0].caption == f"seed {view.controls.seed.value()}"


# --- export ----------------------------------------------------------------------------------------


def test_export_writes_files_and_sidecars_that_regenerate_them(qtbot, view, tmp_path, tiny_generator, tiny_checkpoint):
    items = view.items[:3]
    out = tmp_path / "export"
    view.export_to(items, out, "txt")
    wait_idle(qtbot, view)
    for item in items:
        asset_path, sidecar_path = out / f"levels-seed{item.seed}.txt", out / f"levels-seed{item.seed}.json"
        assert asset_path.read_text() == item.asset.text()
        record = json.loads(sidecar_path.read_text())
        assert record["seed"] == item.seed and record["temperature"] == 1.0
        assert record["condition"] == list(item.labels)
        assert record["checkpoint"]["path"] == str(Path(tiny_checkpoint).resolve())
        assert record["checkpoint"]["weights_sha256"] == tiny_generator.card["weights_sha256"]
        latent = np.array(record["latent"], dtype=np.float32)
        np.testing.assert_array_equal(latent, item.latent)
        assert tiny_generator.decode(latent[None], record["condition"])[0] == item.asset
    assert not [name for name in files_under(out) if name.endswith(".tmp")]


def test_export_of_tiled_maps_writes_the_shared_tileset(qtbot, view, tmp_path):
    view.export_to(view.items[:2], tmp_path / "maps", "tmj")
    wait_idle(qtbot, view)
    names = files_under(tmp_path / "maps")
    assert sum(name.endswith(".tmj") for name in names) == 2
    assert sum(name.endswith(".json") for name in names) == 2
    assert sum(name.endswith(".png") for name in names) == 1


def test_export_to_an_unwritable_folder_shows_an_error_and_the_app_keeps_running(qtbot, view, tmp_path, errors):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    view.export_to(view.items[:2], blocker / "out", "png")
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert errors[0][0] == "Export failed" and "cannot write" in errors[0][1]
    view.export_to(view.items[:1], tmp_path / "ok", "png")
    wait_idle(qtbot, view)
    assert len(files_under(tmp_path / "ok")) == 2


def test_a_cancelled_export_leaves_only_whole_pairs(qtbot, view, tmp_path):
    job = view.export_to(view.items, tmp_path / "cancel", "txt")
    job.cancel()  # usually before the worker starts; either way nothing is half-written
    wait_idle(qtbot, view)
    names = files_under(tmp_path / "cancel")
    stems = {name.rsplit(".", 1)[0] for name in names}
    assert sorted(names) == sorted([f"{stem}.txt" for stem in stems] + [f"{stem}.json" for stem in stems])


# --- files: drops, endpoints, models ----------------------------------------------------------------


def drop(window: MainWindow, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)


def test_dropping_a_bad_file_shows_an_error_and_nothing_crashes(qtbot, window, view, tmp_path, errors):
    bad = tmp_path / "bad.txt"
    bad.write_text("XX\nX\n")  # ragged rows
    drop(window, [bad])
    assert len(errors) == 1 and "rows must be of equal length" in errors[0][1]
    binary = tmp_path / "noise.txt"
    binary.write_bytes(bytes(range(256)))
    drop(window, [binary])
    assert len(errors) == 2
    assert view.interpolation.endpoints == {"A": None, "B": None}
    view.sample()
    wait_idle(qtbot, view)
    assert len(view.items) == 16


def test_dropping_level_files_sets_a_then_b(window, view, tmp_path):
    paths = []
    for stem in ("level-1", "level-2"):
        path = tmp_path / f"{stem}.txt"
        path.write_text(level_text(LEVELS[stem]))
        paths.append(path)
    drop(window, paths[:1])
    assert view.interpolation.endpoints["A"][1] == "level-1.txt"
    drop(window, paths[1:])
    assert view.interpolation.endpoints["B"][1] == "level-2.txt"
    assert view.interpolation.path is not None
    assert "Encoded level-2.txt as endpoint B" in window.statusBar().currentMessage()


def test_opening_a_corrupt_checkpoint_shows_an_error(window, view, tiny_checkpoint, tmp_path, errors):
    weights, _ = copy_checkpoint(Path(tiny_checkpoint), tmp_path / "broken")
    weights.write_bytes(weights.read_bytes()[:100])
    assert window.open_model(weights) is False
    assert errors and errors[0][0] == "Cannot open model" and "corrupt" in errors[0][1]
    assert window.views["levels"] is view


def test_opening_a_model_replaces_its_domain_tab(qtbot, window, tiny_checkpoint, tmp_path, errors):
    weights, _ = copy_checkpoint(Path(tiny_checkpoint), tmp_path / "mine")
    window.tabs.setCurrentIndex(2)
    assert window.open_model(weights)
    view = window.views["levels"]
    assert window.tabs.currentWidget() is view and view.context.checkpoint == str(weights.resolve())
    wait_idle(qtbot, view)
    assert len(view.items) == 16 and errors == []


# --- saved state -------------------------------------------------------------------------------------


def test_the_seed_and_tab_are_restored_on_start(qtbot, tiny_checkpoint, settings, errors):
    first = make_window(qtbot, tiny_checkpoint, settings)
    view = first.views["levels"]
    view.controls.random_seed.setChecked(False)
    view.controls.seed.setValue(777)
    first.tabs.setCurrentIndex(1)
    first.close()
    second = make_window(qtbot, tiny_checkpoint, settings)
    again = second.views["levels"]
    assert again.controls.seed.value() == 777 and not again.controls.random_seed.isChecked()
    assert second.tabs.currentIndex() == 1
    assert not again.items  # a tab samples its first grid only when it is first shown
    second.tabs.setCurrentIndex(0)
    wait_idle(qtbot, again)
    assert again.items[0].seed == 777
    second.close()


# --- helpers and rules --------------------------------------------------------------------------------


def test_previews_become_qimages_with_a_checkerboard_under_transparency(qapp):
    from gui.qimage import CHECKER_LIGHT, to_pixmap, to_qimage

    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[1, 2] = (10, 20, 30)
    image = to_qimage(rgb)
    assert (image.width(), image.height()) == (3, 2)
    assert image.pixelColor(2, 1).getRgb()[:3] == (10, 20, 30)
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent
    shown = to_pixmap(rgba).toImage()
    assert shown.pixelColor(0, 0).getRgb()[:3] == CHECKER_LIGHT.getRgb()[:3]
    with pytest.raises(ValueError):
        to_qimage(np.zeros((2, 2), np.uint8))


def test_gui_never_imports_torch():
    for path in sorted((REPO_ROOT / "gui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not {m for m in modules if m.split(".")[0] == "torch"}, path.name


def test_edit_undo_and_redo_act_on_the_current_tab(qtbot, window, view):
    undo = next(a for a in window.menuBar().actions() if a.text() == "&Edit").menu().actions()[0]
    redo = next(a for a in window.menuBar().actions() if a.text() == "&Edit").menu().actions()[1]
    assert not undo.isEnabled()
    view.conditions.checks["coin"].setChecked(True)
    wait_idle(qtbot, view)
    assert undo.isEnabled()
    undo.trigger()
    assert view.conditions.checks["coin"].checkState() == Qt.CheckState.PartiallyChecked  # any again
    redo.trigger()
    assert view.conditions.checks["coin"].checkState() == Qt.CheckState.Checked
    assert all("coin" in item.labels for item in view.items)
    assert all(item.pixels is not None for item in view.items)
    window.tabs.setCurrentIndex(1)  # a tab without a model has no undo stack
    assert not undo.isEnabled()
