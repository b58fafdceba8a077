"""The latent map's t-SNE view: chosen in the View box, computed in a worker and cached by the
checkpoint's hash (a second window reads it instead of computing again), Cancel returns to the
plane, hovering names the item under the cursor, and a click decodes the nearest item's latent."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from test_gui import errors, make_window, settings, view, wait_idle, window  # noqa: E402,F401 - fixtures
from test_gui_features import open_map  # noqa: E402

import gui.corpus_map as corpus_map  # noqa: E402


def choose_tsne(qtbot, view) -> None:
    panel = view.latent_map
    panel.view_by.setCurrentIndex(panel.view_by.findData("tsne"))
    wait_idle(qtbot, view)


def test_the_tsne_view_is_computed_once_then_read_from_its_cache(
    qtbot, window, view, game_folder, settings, monkeypatch
):
    data = open_map(qtbot, view, game_folder)
    panel = view.latent_map
    choose_tsne(qtbot, view)
    shown = panel.view
    assert shown is not None and shown.name == "tsne" and len(shown.index) == len(data.latents)
    assert panel.canvas.points.shape == (len(data.latents), 2)
    assert not np.allclose(panel.canvas.points, data.points)  # not the plane
    assert "t-SNE of" in panel.status.text()
    cache = corpus_map.tsne_cache_path(panel.cache)
    assert cache.exists() and view.generator.card["weights_sha256"] in cache.name
    panel.view_by.setCurrentIndex(panel.view_by.findData("pca"))
    np.testing.assert_array_equal(panel.canvas.points, data.points)  # back to the plane
    window.close()

    def no_tsne(*args, **kwargs):
        raise AssertionError("the cached t-SNE was computed again")

    monkeypatch.setattr(corpus_map, "tsne", no_tsne)
    again = make_window(qtbot, view.context.checkpoint, settings)
    second = again.views["levels"]
    open_map(qtbot, second, game_folder)
    choose_tsne(qtbot, second)
    np.testing.assert_array_equal(second.latent_map.view.points, shown.points)
    again.close()


def test_a_click_on_tsne_decodes_the_nearest_item_and_hover_names_it(qtbot, view, game_folder):
    data = open_map(qtbot, view, game_folder)
    choose_tsne(qtbot, view)
    panel, canvas = view.latent_map, view.latent_map.canvas
    target = len(data.latents) // 2
    where = canvas.to_screen(*panel.view.points[target])
    assert panel.hover_at(where) == target and panel.hovered_index == int(panel.view.index[target])
    assert data.names[panel.hovered_index] in panel.hover_caption.text()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(where.x()), int(where.y())))
    x, y = canvas.to_plane(QPointF(int(where.x()), int(where.y())))
    item = panel.view.nearest(x, y)
    np.testing.assert_allclose(view.preview.latent(), data.latents[item], atol=1e-6)
    assert view.preview.caption == f"map: {data.names[item]} (t-SNE)"


def test_cancel_stops_the_tsne_and_shows_the_plane(qtbot, view, game_folder, monkeypatch):
    data = open_map(qtbot, view, game_folder)
    corpus_map.tsne_cache_path(view.latent_map.cache).unlink(missing_ok=True)  # computed, not read
    real = corpus_map.tsne

    def cancelled_at_once(x, seed, report, cancelled):
        # The worker can start before the UI thread has stored its job (a busy machine ran it
        # first); a user's Cancel click comes after, so wait for the job the button cancels.
        deadline = time.monotonic() + 10
        while view.latent_map.job is None and time.monotonic() < deadline:
            time.sleep(0.005)
        view.latent_map.cancel()  # as the Cancel button does, while the worker runs
        return real(x, seed=seed, report=report, cancelled=cancelled)

    monkeypatch.setattr(corpus_map, "tsne", cancelled_at_once)
    choose_tsne(qtbot, view)
    panel = view.latent_map
    assert panel.tsne_view is None and panel.view.name == "pca"
    assert panel.view_by.currentData() == "pca" and "cancelled" in panel.status.text()
    np.testing.assert_array_equal(panel.canvas.points, data.points)
    assert not corpus_map.tsne_cache_path(panel.cache).exists()
