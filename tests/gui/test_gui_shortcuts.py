"""Shortcuts that are safe: a single-letter tile action (A, B, F, M) fires only while the grid
itself has the focus, never while a text field, another control or a dialog has it; and every
action with a shortcut sits in a menu of the menu bar, which shows it. Runs offscreen on the
tiny checkpoint."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtWidgets import QApplication, QLineEdit, QMenu, QWidget  # noqa: E402
from test_gui import errors, settings, view, wait_idle, window  # noqa: E402,F401 - shared fixtures

from gui.export_dialog import ExportDialog  # noqa: E402


def focus(qtbot, widget: QWidget) -> None:
    widget.window().activateWindow()
    qtbot.waitUntil(widget.window().isActiveWindow, timeout=5000)
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=5000)


def menu_bar_actions(window) -> set[QAction]:
    """Every action reachable from the window's menu bar (each menu opened, as a user would)."""
    found: set[QAction] = set()

    def walk(menu: QMenu) -> None:
        menu.aboutToShow.emit()  # the Tile menu fills itself from the current tab as it opens
        for action in menu.actions():
            found.add(action)
            if action.menu() is not None:
                walk(action.menu())

    for action in window.menuBar().actions():
        walk(action.menu())
    return found


def test_a_letter_typed_in_a_text_field_is_text_and_on_the_grid_a_shortcut(qtbot, window, view, errors):
    fired: list[str] = []
    for name, action in (("more", view.act_more), ("star", view.act_star), ("A", view.act_endpoint_a)):
        action.triggered.connect(lambda *_, name=name: fired.append(name))
    qtbot.mouseClick(view.grid.tiles[2], Qt.MouseButton.LeftButton)  # a current tile for the actions
    shown = [item.seed for item in view.items]

    # A text field of the window: the letters are text.
    field = QLineEdit()
    window.statusBar().addPermanentWidget(field)
    focus(qtbot, field)
    qtbot.keyClicks(field, "mfa")
    assert field.text() == "mfa" and fired == []

    # Another control of the window (no text in it): nothing either.
    focus(qtbot, view.controls.temperature_slider)
    qtbot.keyClick(view.controls.temperature_slider, Qt.Key.Key_M)
    assert fired == []

    # A dialog's text field (the export folder), the window behind it: text again.
    dialog = ExportDialog("16 levels", ["txt", "png"], str(field.text()), "txt", view)
    dialog.show()
    focus(qtbot, dialog.folder)
    qtbot.keyClicks(dialog.folder, "/m")
    assert dialog.folder.text().endswith("/m") and fired == []
    dialog.reject()
    assert [item.seed for item in view.items] == shown and view.favourites.list.count() == 0

    # The grid itself: M is More like this, the tile first, its variations after it.
    centre = view.items[2]
    focus(qtbot, view.grid)
    qtbot.keyClick(view.grid, Qt.Key.Key_M)
    assert fired == ["more"]
    wait_idle(qtbot, view)
    np.testing.assert_allclose(view.items[0].latent, centre.latent)
    assert [item.seed for item in view.items] != shown
    qtbot.keyClick(view.grid, Qt.Key.Key_F)
    assert fired == ["more", "star"] and view.favourites.list.count() == 1
    assert errors == []


def test_every_action_with_a_shortcut_sits_in_a_menu_that_shows_it(window, view):
    in_menus = menu_bar_actions(window)
    keyed = [action for action in window.findChildren(QAction) if not action.shortcut().isEmpty()]
    assert {"More like this", "Add to favourites", "Set as endpoint A", "Full level"} <= {
        action.text().replace("&", "") for action in keyed
    }
    assert [action.text() for action in keyed if action not in in_menus] == []
    # The letters act on the grid alone; the menu shows them all the same.
    for action in (view.act_more, view.act_star, view.act_endpoint_a, view.act_endpoint_b):
        assert action.shortcutContext() == Qt.ShortcutContext.WidgetShortcut
        assert len(action.shortcut().toString()) == 1
