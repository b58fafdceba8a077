"""The desktop app's latent map, typicality badges, four-corner palette and favourites,
through pytest-qt on the tiny checkpoint (offscreen, no blocking dialogs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from test_gui import (  # noqa: E402,F401 - fixtures shared with the main GUI tests
    distinct_latents,
    errors,
    image_bytes,
    make_window,
    settings,
    storage_for,
    view,
    wait_idle,
    window,
)

import gui.corpus_map as corpus_map  # noqa: E402
from gui.palette import bilinear  # noqa: E402
from gui.typicality import ordinal  # noqa: E402


def open_map(qtbot, view, folder) -> corpus_map.MapData:
    view.centre.setCurrentIndex(1)
    view.latent_map.load_data(folder)
    wait_idle(qtbot, view)
    assert view.latent_map.data is not None, view.latent_map.status.text()
    return view.latent_map.data


# --- latent map -------------------------------------------------------------------------------


def test_the_map_encodes_the_training_set_once_and_caches_it(qtbot, window, view, game_folder, settings, monkeypatch):
    data = open_map(qtbot, view, game_folder)
    assert data.encoded_now and data.assets is not None
    assert data.points.shape == (len(data.names), 2) and len(data.assets) == len(data.names)
    cache = view.latent_map.cache
    assert cache.exists() and cache.name == f"latent-map-{view.generator.card['weights_sha256']}.npz"
    with np.load(cache, allow_pickle=False) as stored:  # plain arrays: loads without pickles
        np.testing.assert_array_equal(stored["latents"], data.latents)
    window.close()

    def no_encoding(*args, **kwargs):
        raise AssertionError("the cached map was encoded again")

    monkeypatch.setattr(corpus_map, "encode_batches", no_encoding)
    again = make_window(qtbot, view.context.checkpoint, settings)
    second = again.views["levels"]
    assert second.latent_map.data_folder == str(game_folder)  # remembered per checkpoint
    second.centre.setCurrentIndex(1)  # showing the map loads it
    wait_idle(qtbot, second)
    reused = second.latent_map.data
    assert reused is not None and not reused.encoded_now
    np.testing.assert_array_equal(reused.latents, data.latents)
    again.close()


def test_encoding_stops_when_cancelled_and_writes_no_cache(tiny_generator, game_folder, tmp_path):
    cache = tmp_path / "map.npz"
    with pytest.raises(corpus_map.MapCancelled):
        corpus_map.build_map(tiny_generator, game_folder, cache, cancelled=lambda: True)
    assert not cache.exists()


def test_the_asset_fallback_encodes_like_the_facade(tiny_generator, game_folder):
    split = corpus_map.training_split(tiny_generator, game_folder)

    class NoSplitEncoder:  # a generator without Generator.encode_split
        domain, latent_size, encode = tiny_generator.domain, tiny_generator.latent_size, tiny_generator.encode

    direct = tiny_generator.encode(
        corpus_map.split_assets(tiny_generator, split)[:1],
        tiny_generator.domain.conditions.decode(np.asarray(split.c[0])),
    )
    fallback = corpus_map.encode_split(NoSplitEncoder(), split)
    assert fallback.shape == (len(split), tiny_generator.latent_size)
    np.testing.assert_allclose(fallback[0], direct[0], atol=1e-5)
    if hasattr(tiny_generator, "encode_split"):
        np.testing.assert_allclose(fallback, corpus_map.encode_split(tiny_generator, split), atol=1e-4)


def test_clicking_the_map_decodes_that_point_into_the_preview(qtbot, view, game_folder):
    view.conditions.checks["enemy"].setChecked(True)  # a tiny model's plain samples can all be empty sky
    wait_idle(qtbot, view)
    data = open_map(qtbot, view, game_folder)
    canvas = view.latent_map.canvas
    images = set()
    for fx, fy in ((0.05, 0.05), (0.95, 0.95), (0.05, 0.95), (0.95, 0.05), (0.5, 0.5)):
        position = QPoint(int(canvas.width() * fx), int(canvas.height() * fy))
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=position)
        x, y = canvas.to_plane(QPointF(position))
        np.testing.assert_allclose(view.preview.latent(), data.latent_at(x, y), atol=1e-5)
        assert view.preview.caption.startswith("map (")
        images.add(image_bytes(view.preview.view.image()))
    assert len(images) > 1  # different points of the plane decode to different levels


def test_hovering_shows_the_nearest_training_item(qtbot, view, game_folder):
    data = open_map(qtbot, view, game_folder)
    canvas = view.latent_map.canvas
    target = len(data.names) // 2
    where = canvas.to_screen(*data.points[target]) + QPointF(1.0, 1.0)
    move = QMouseEvent(
        QMouseEvent.Type.MouseMove,
        where,
        canvas.mapToGlobal(where),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(canvas, move)
    index = view.latent_map.hovered_index
    expected = int(np.argmin(((canvas.screen_points() - [where.x(), where.y()]) ** 2).sum(axis=1)))
    assert index == expected
    assert data.names[index] in view.latent_map.hover_caption.text()
    shown = view.latent_map.hover_image.pixmap()
    assert shown is not None and not shown.isNull()


def test_points_are_coloured_by_the_chosen_condition(qtbot, view, game_folder):
    data = open_map(qtbot, view, game_folder)
    panel = view.latent_map
    panel.colour_by.setCurrentIndex(panel.colour_by.findData("pipe"))
    column = view.generator.domain.conditions.labels.index("pipe")
    np.testing.assert_array_equal(panel.canvas.colours, (data.labels[:, column] > 0.5).astype(int))
    assert "pipe" in panel.legend.text()


# --- typicality badges -----------------------------------------------------------------------------


def test_every_tile_shows_its_typicality_as_a_percentile(view):
    floor = view.typicality.known_floor(view.context.condition)
    assert floor is not None
    reference = view.typicality.scores(view.context.condition)
    for tile, item in zip(view.grid.tiles, view.items):
        assert item.score is not None
        assert item.percentile == pytest.approx(100 * (reference <= item.score).mean())
        shown = max(1, min(99, round(item.percentile)))
        assert tile.badge == f"{ordinal(shown)} pct"
        assert tile.atypical == item.atypical == (item.score < floor)
        assert (
            "ELBO" in tile.toolTip()
            and ("Atypical" if item.atypical else f"{round(item.percentile)}%") in tile.toolTip()
        )


def test_ordinals_read_as_words():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 99, 101, 111)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "23rd",
        "99th",
        "101st",
        "111th",
    ]


def test_scores_follow_a_condition_change(qtbot, view):
    view.conditions.checks["coin"].setChecked(True)
    wait_idle(qtbot, view)
    # Each item is scored under its own labels (every one of them has coin now), those sharing a
    # label set in one batch (the ELBO estimate is seeded per batch).
    assert all("coin" in item.labels for item in view.items)
    expected = np.zeros(len(view.items))
    sets = {item.labels for item in view.items}
    for labels in sets:
        rows = [i for i, item in enumerate(view.items) if item.labels == labels]
        expected[rows] = view.generator.score([view.items[i].asset for i in rows], list(labels))
    np.testing.assert_allclose([item.score for item in view.items], expected, atol=1e-4)


# --- four-corner palette ----------------------------------------------------------------------------


def test_clicking_the_palette_decodes_the_blend(qtbot, view):
    view.conditions.checks["enemy"].setChecked(True)
    wait_idle(qtbot, view)
    a, b = distinct_latents(view)
    view.interpolation.set_endpoint("A", a, "a")
    view.interpolation.set_endpoint("B", b, "b")
    view.grid.select({3}, 3)
    view.set_corner_from_item(3, "C")
    view.palette.set_corner("D", b, "d")
    assert view.palette.ready()
    view.tools.setCurrentIndex(1)
    square = view.palette.square
    area = square.square()
    at_a = QPoint(int(area.left()) + 1, int(area.top()) + 1)
    at_b = QPoint(int(area.right()) - 1, int(area.top()) + 1)
    qtbot.mouseClick(square, Qt.MouseButton.LeftButton, pos=at_a)
    first = image_bytes(view.preview.view.image())
    qtbot.mouseClick(square, Qt.MouseButton.LeftButton, pos=at_b)
    assert image_bytes(view.preview.view.image()) != first
    middle = QPoint(int(area.center().x()), int(area.center().y()))
    qtbot.mouseClick(square, Qt.MouseButton.LeftButton, pos=middle)
    u, v = square.uv_at(QPointF(middle))
    np.testing.assert_allclose(view.preview.latent(), bilinear(view.palette.latents(), u, v), atol=1e-5)
    np.testing.assert_allclose(view.palette.latents()["C"], view.items[3].latent)
    wait_idle(qtbot, view)
    assert len(square.mosaic) == 5 and all(len(row) == 5 for row in square.mosaic)


def test_bilinear_blend_hits_each_corner():
    corners = {name: np.full(3, i, np.float32) for i, name in enumerate("ABCD")}
    for name, (u, v) in {"A": (0, 0), "B": (1, 0), "C": (0, 1), "D": (1, 1)}.items():
        np.testing.assert_allclose(bilinear(corners, u, v), corners[name])
    np.testing.assert_allclose(bilinear(corners, 0.5, 0.5), np.full(3, 1.5))


# --- favourites -------------------------------------------------------------------------------------


def test_favourites_persist_across_windows_and_restore_into_the_preview(qtbot, window, view, settings):
    menu = view.tile_menu(3)
    star = next(action for action in menu.actions() if action.text() == "Add to favourites")
    assert star.shortcut().toString() == "F"
    star.trigger()
    starred = view.items[3]
    view.directions.sliders[view.directions.names[0]].setValue(100)
    preview_record = view.star_preview()
    assert view.favourites.list.count() == 2
    stored = json.loads(storage_for(settings).favourites_file.read_text())
    assert [r["seed"] for r in stored["favourites"]] == [starred.seed, None]
    window.close()

    again = make_window(qtbot, view.context.checkpoint, settings)
    panel = again.views["levels"].favourites
    assert panel.list.count() == 2
    first = panel.list.item(0)
    assert first.text() == f"seed {starred.seed}"
    wait_idle(qtbot, again.views["levels"])
    assert not first.icon().isNull()  # thumbnail decoded in a worker
    panel.list.itemDoubleClicked.emit(first)
    restored = again.views["levels"]
    np.testing.assert_array_equal(restored.preview.latent(), starred.latent)
    assert restored.preview.labels() == starred.labels  # under its own labels, whatever the tab asks
    panel.list.itemDoubleClicked.emit(panel.list.item(1))
    np.testing.assert_allclose(restored.preview.latent(), np.array(preview_record["latent"], np.float32), atol=1e-6)
    again.close()


def test_favourites_export_with_sidecars(qtbot, view, tmp_path):
    view.star_item(0)
    view.star_item(1)
    exported = []
    view.favourites.export_requested.disconnect()
    view.favourites.export_requested.connect(exported.extend)
    wait_idle(qtbot, view)
    view.favourites.export()
    assert [item.seed for item in exported] == [view.items[0].seed, view.items[1].seed]
    view.export_to(exported, tmp_path / "favs", "txt")
    wait_idle(qtbot, view)
    names = sorted(p.name for p in (tmp_path / "favs").iterdir())
    assert names == sorted(f"levels-seed{item.seed}.{ext}" for item in exported for ext in ("txt", "json"))


def test_a_damaged_favourites_file_reads_as_empty(tmp_path):
    from gui.favourites_store import FavouritesStore

    path = tmp_path / "favourites.json"
    path.write_text("{not json")
    store = FavouritesStore(path)
    assert store.records == []
    store.add({"id": "x", "latent": [0.0], "model": "m"})
    assert json.loads(path.read_text())["favourites"][0]["id"] == "x"


def test_favourites_keep_only_records_the_app_can_use(tmp_path):
    from gui.favourites_store import FavouritesStore

    good = {"id": "ok", "latent": [0.5, -1.0], "model": "m", "condition": ["enemy"], "seed": 3, "temperature": 1.0}
    bad = [
        dict(good, id=["a", "list"]),
        dict(good, condition=7),
        dict(good, condition=[1, 2]),
        dict(good, latent="zeros"),
        dict(good, latent=[]),
        dict(good, latent=[10**400]),  # a JSON integer past float's range
        dict(good, seed=2**70),
        dict(good, seed=True),
        dict(good, temperature="warm"),
        dict(good, model=None),
        "a string",
    ]
    path = tmp_path / "favourites.json"
    path.write_text(json.dumps({"version": 1, "favourites": [*bad, good]}))
    assert [r["id"] for r in FavouritesStore(path).records] == ["ok"]
    path.write_text("[" * 100_000 + "]" * 100_000)  # nested far past the parser's recursion limit
    assert FavouritesStore(path).records == []
    path.write_text(json.dumps({"favourites": {"not": "a list"}}))
    assert FavouritesStore(path).records == []
    (tmp_path / "folder.json").mkdir()
    assert FavouritesStore(tmp_path / "folder.json").records == []


def test_busy_cursor_is_restored_however_the_work_ends(qtbot):
    from gui.messages import busy_cursor

    with busy_cursor():
        assert QApplication.overrideCursor().shape() == Qt.CursorShape.WaitCursor
    assert QApplication.overrideCursor() is None
    with pytest.raises(ValueError), busy_cursor():
        raise ValueError("the work failed")
    assert QApplication.overrideCursor() is None
