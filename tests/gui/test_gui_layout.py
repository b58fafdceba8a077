"""The window fits a 1280×720 screen: on every tab and every page (Samples, Latent map, Full level
before and after Generate; Interpolation, Palette, Favourites) of each shipped model, the window's
minimum stays within 1200×650, a 1280×720 window stays 1280×720, no visible label, button, check
box, spin box, combo box or tab shows less than its text, and a row that wraps (FlowLayout) never
overlaps itself. The first window size fits the screen. Skips a domain whose checkpoint is not in
`checkpoints/`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import REPO_ROOT  # noqa: E402
from PySide6.QtCore import QSettings, QSize  # noqa: E402
from PySide6.QtGui import QAction, QTextDocument  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QWidget,
)
from test_gui import errors  # noqa: E402,F401 - the shared fixture: error dialogs recorded, not shown
from test_gui_shortcuts import menu_bar_actions  # noqa: E402

from gui.domain_view import DomainView  # noqa: E402
from gui.flow_layout import FlowLayout  # noqa: E402
from gui.main_window import PREFERRED_SIZE, MainWindow  # noqa: E402
from gui.screen_size import FRAME_ROOM, fitted_size  # noqa: E402
from gui.storage import AppStorage  # noqa: E402

WAIT_MS = 120000
SHIPPED = REPO_ROOT / "checkpoints"
SCREEN = QSize(1280, 720)
MINIMUM = QSize(1200, 650)  # the most the window may ask for


def plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")  # mnemonics are not drawn


def label_need(label: QLabel) -> int:
    """The width a label's text takes on one line (rich text laid out as QLabel lays it out)."""
    text = label.text()
    if "<" in text:
        document = QTextDocument()
        document.setDocumentMargin(0)
        document.setDefaultFont(label.font())
        document.setHtml(text)
        return int(document.idealWidth() + 0.99)
    return max(label.fontMetrics().horizontalAdvance(line) for line in text.split("\n"))


def cut_texts(window: QWidget) -> list[str]:
    """Every visible widget whose text is wider than the room it has, described."""
    cut = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisible():
            continue
        style, metrics = widget.style(), widget.fontMetrics()
        if isinstance(widget, QLabel):
            if widget.wordWrap() or not widget.text() or not widget.pixmap().isNull():
                continue  # a word-wrapped label takes more lines, not more width
            need, room = label_need(widget), widget.contentsRect().width() - 2 * widget.margin()
        elif isinstance(widget, (QCheckBox, QRadioButton)):
            metric = (
                (QStyle.PixelMetric.PM_IndicatorWidth, QStyle.PixelMetric.PM_CheckBoxLabelSpacing)
                if isinstance(widget, QCheckBox)
                else (QStyle.PixelMetric.PM_ExclusiveIndicatorWidth, QStyle.PixelMetric.PM_RadioButtonLabelSpacing)
            )
            indicator = sum(style.pixelMetric(m, None, widget) for m in metric)
            need, room = metrics.horizontalAdvance(plain(widget.text())) + indicator, widget.width()
        elif isinstance(widget, QPushButton):
            need, room = metrics.horizontalAdvance(plain(widget.text())), widget.width()
        elif isinstance(widget, QAbstractSpinBox):
            edit = widget.lineEdit()
            need, room = edit.fontMetrics().horizontalAdvance(edit.text()), edit.width()
        elif isinstance(widget, QComboBox) and not widget.isEditable():
            option = QStyleOptionComboBox()
            widget.initStyleOption(option)
            field = style.subControlRect(
                QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, widget
            )
            need, room = metrics.horizontalAdvance(widget.currentText()), field.width()
        elif isinstance(widget, QTabBar):
            for index in range(widget.count()):
                tab, text = widget.tabRect(index), plain(widget.tabText(index))
                if metrics.horizontalAdvance(text) > tab.width() or not widget.rect().contains(tab):
                    cut.append(f"tab {text!r}: {tab.width()} px wide, at {tab.x()} in a bar of {widget.width()}")
            continue
        else:
            continue
        if need > room:
            text = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
            cut.append(f"{type(widget).__name__} {text!r}: needs {need} px, has {room}")
    return cut


def overlapping_rows(window: QWidget) -> list[str]:
    """Items of a visible FlowLayout that overlap one another or fall outside the layout."""
    found = []
    for flow in window.findChildren(FlowLayout):
        owner = flow.parentWidget()
        if owner is None or not owner.isVisible():
            continue
        shown = [flow.itemAt(i) for i in range(flow.count()) if not flow.itemAt(i).isEmpty()]
        boxes = [item.geometry() for item in shown]
        for i, box in enumerate(boxes):
            if not flow.geometry().contains(box):
                found.append(f"{type(owner).__name__}: an item at {box} outside its row {flow.geometry()}")
            found += [
                f"{type(owner).__name__}: items at {box} and {other} overlap"
                for other in boxes[:i]
                if box.intersects(other)
            ]
    return found


def settle(qtbot, view: QWidget) -> None:
    """Wait until the tab's workers (and a level being made) are done, then for the relayout."""
    if isinstance(view, DomainView):
        pages = [page for page in (view.long_level, view.long_piece) if page is not None]
        busy = lambda: view.context.runner.busy or any(page.busy for page in pages)  # noqa: E731
        qtbot.waitUntil(lambda: not busy(), timeout=WAIT_MS)
    for _ in range(3):
        QApplication.processEvents()


def check_fits(qtbot, window: MainWindow, where: str) -> None:
    settle(qtbot, window.tabs.currentWidget())
    hint = window.minimumSizeHint()
    assert hint.width() <= MINIMUM.width() and hint.height() <= MINIMUM.height(), f"{where}: minimum {hint}"
    assert window.size() == SCREEN, f"{where}: the window became {window.size()}"
    assert cut_texts(window) == [], where
    assert overlapping_rows(window) == [], where


@pytest.mark.parametrize("domain", ["levels", "images", "music"])
def test_every_tab_and_page_fits_a_1280_by_720_screen(qtbot, tmp_path, domain, errors):
    if not (SHIPPED / f"{domain}.safetensors").exists():
        pytest.skip(f"no shipped {domain} model")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    missing = tmp_path / "no-model.safetensors"
    checkpoints = {name: (domain if name == domain else missing) for name in ("levels", "images", "music")}
    window = MainWindow(checkpoints, settings=settings, storage=AppStorage.under(tmp_path))
    qtbot.addWidget(window)
    window.resize(SCREEN)
    window.show()
    try:
        for index in range(window.tabs.count()):  # the other tabs say why they have no model
            window.tabs.setCurrentIndex(index)
            check_fits(qtbot, window, window.tabs.tabText(index))
        view = window.views[domain]
        window.tabs.setCurrentWidget(view)
        settle(qtbot, view)
        view.random_endpoint("A")  # captions and strips with something in them
        view.random_endpoint("B")
        view.random_corner("C")
        view.random_corner("D")
        view.star_item(0)
        for page in range(view.centre.count()):
            view.centre.setCurrentIndex(page)
            for tool in range(view.tools.count()):
                view.tools.setCurrentIndex(tool)
                check_fits(qtbot, window, f"{domain}: {view.centre.tabText(page)}, {view.tools.tabText(tool)}")
        if view.long_level is not None:
            view.centre.setCurrentWidget(view.long_level)
            view.long_level.length.setValue(60)
            view.long_level.playable.setChecked(True)  # the longest verdict: with the repair's outcome
            view.long_level.generate()
            check_fits(qtbot, window, f"{domain}: Full level after Generate")
            assert view.long_level.result is not None
            view.long_level.morph.setChecked(True)
            view.long_level.generate()
            check_fits(qtbot, window, f"{domain}: Full level after a morph")
        if view.long_piece is not None:
            view.centre.setCurrentWidget(view.long_piece)
            view.long_piece.bars.setValue(64)  # the widest picture
            view.long_piece.generate()
            check_fits(qtbot, window, f"{domain}: Long piece after Generate")
            assert view.long_piece.result is not None
            view.long_piece.morph()
            check_fits(qtbot, window, f"{domain}: Long piece after a morph")
        in_menus = menu_bar_actions(window)  # Play / Stop too, where the items are sound
        keyed = [action for action in window.findChildren(QAction) if not action.shortcut().isEmpty()]
        assert [action.text() for action in keyed if action not in in_menus] == []
        assert errors == []
    finally:
        window.close()


def test_the_first_window_size_fits_the_screen(qtbot, tmp_path):
    big, small, minimum = QSize(2560, 1440), QSize(1280, 672), QSize(1100, 600)
    assert fitted_size(big, minimum, PREFERRED_SIZE) == PREFERRED_SIZE
    assert fitted_size(small, minimum, PREFERRED_SIZE) == QSize(1280 - FRAME_ROOM.width(), 672 - FRAME_ROOM.height())
    assert fitted_size(QSize(1024, 560), minimum, PREFERRED_SIZE) == minimum  # never below what the window needs

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    missing = tmp_path / "no-model.safetensors"
    window = MainWindow(
        dict.fromkeys(("levels", "images", "music"), missing), settings=settings, storage=AppStorage.under(tmp_path)
    )
    qtbot.addWidget(window)
    available = window.screen().availableGeometry().size()
    assert window.size() == fitted_size(available, window.minimumSizeHint(), PREFERRED_SIZE)
    window.close()


FIRST_SIZE = """
import sys
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.main_window import MainWindow
from gui.storage import AppStorage
folder = Path(sys.argv[1])
missing = folder / "no-model.safetensors"
settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
window = MainWindow(dict.fromkeys(("levels", "images", "music"), missing), settings, storage=AppStorage.under(folder))
window.show()
app.processEvents()
print(window.frameGeometry().width(), window.frameGeometry().height())
"""


@pytest.mark.parametrize("screen", [(1280, 720), (1366, 768), (1920, 1080)])
def test_on_a_screen_of_that_size_the_first_window_fits_it(tmp_path, screen):
    """The offscreen platform with one screen of `screen` pixels (its config file)."""
    config = tmp_path / "screen.json"
    width, height = screen
    config.write_text(json.dumps({"screens": [{"name": "one", "x": 0, "y": 0, "width": width, "height": height}]}))
    env = os.environ | {"QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_SIZE, str(tmp_path)], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    shown = tuple(int(word) for word in done.stdout.split()[-2:])
    assert shown[0] <= width and shown[1] <= height, shown
    if screen == (1920, 1080):
        assert shown[0] >= PREFERRED_SIZE.width() and shown[1] >= PREFERRED_SIZE.height()  # no smaller than asked


def test_damaged_saved_settings_fall_back_value_by_value(qtbot, tmp_path):
    """A hand-edited or half-written settings file never stops the app: each bad value is dropped."""
    path = tmp_path / "settings.ini"
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    for key, value in {
        "temperature": "inf",
        "seed": str(2**70),
        "rows": "abc",
        "cols": "3",
        "spread": "nan",
        "frames": "12",
    }.items():
        settings.setValue(f"levels/{key}", value)
    settings.sync()
    missing = tmp_path / "no-model.safetensors"
    window = MainWindow(
        {"levels": "levels", "images": missing, "music": missing}, settings=settings, storage=AppStorage.under(tmp_path)
    )
    qtbot.addWidget(window)
    view = window.views["levels"]
    controls = view.controls
    assert controls.temperature() == pytest.approx(1.0) and controls.seed.value() == 0  # the defaults
    assert (controls.rows.value(), controls.cols.value()) == (4, 3)  # the good value is kept
    assert controls.spread.value() == pytest.approx(0.3) and view.interpolation.frames.value() == 12
    window.close()
