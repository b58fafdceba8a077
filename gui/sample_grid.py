"""The grid of sampled items: tiles showing each preview with its caption (the seed), a detail
line under it (the item's labels, elided to fit; the whole in the tooltip) and a small badge
(the item's typicality score; red when the item is atypical).

Click selects a tile, Ctrl+click adds or removes one, Shift+click selects a range,
double-click (or Enter) enlarges, right-click asks the owner for a context menu. Arrow keys
move the selection. The grid shows pixmaps and captions only; it knows nothing of models.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

CAPTION_HEIGHT = 18
DETAIL_HEIGHT = 14  # the detail line under the caption, when any tile has one
BORDER = 3
SPACING = 6
BADGE_TYPICAL = QColor(30, 30, 30, 190)
BADGE_ATYPICAL = QColor(200, 30, 30, 230)
TILE_TIP = "Click to select, Ctrl+click to add to the selection, double-click to enlarge, right-click for more"


class Tile(QWidget):
    """One grid cell: a preview scaled to fit above its caption."""

    def __init__(self, grid: SampleGrid, index: int):
        super().__init__(grid)
        self.grid = grid
        self.index = index
        self.pixmap: QPixmap | None = None
        self._scaled: QPixmap | None = None  # the pixmap at its drawn size, made once per size
        self.caption = ""
        self.detail = ""  # a second, smaller line under the caption (e.g. the item's labels)
        self.badge = ""  # the typicality score, drawn top-right
        self.atypical = False
        self.selected = False
        self.setToolTip(TILE_TIP)

    def set_content(
        self,
        pixmap: QPixmap | None,
        caption: str,
        badge: str = "",
        atypical: bool = False,
        tip: str = "",
        detail: str = "",
    ) -> None:
        self.pixmap, self.caption, self._scaled = pixmap, caption, None
        self.badge, self.atypical, self.detail = badge, atypical, detail
        self.setAccessibleName(f"{caption}: {detail}" if detail else caption)
        self.setToolTip(f"{tip}\n{TILE_TIP}" if tip else TILE_TIP)
        self.update()

    def _paint_badge(self, painter: QPainter, image: QRect) -> None:
        text = ("⚠ " if self.atypical else "") + self.badge
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() * 0.8, 6.0))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(text) + 8, metrics.height() + 2
        box = QRect(image.right() - width - 1, image.top() + 2, width, height)
        painter.fillRect(box, BADGE_ATYPICAL if self.atypical else BADGE_TYPICAL)
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.setFont(self.font())

    def image_rect(self) -> QRect:
        """Where the preview is drawn: centred, aspect kept, above the caption."""
        area = self.rect().adjusted(BORDER + 2, BORDER + 2, -BORDER - 2, -self.grid.caption_height())
        if self.pixmap is None or self.pixmap.isNull() or area.width() <= 0 or area.height() <= 0:
            return area
        size = self.pixmap.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect(
            area.x() + (area.width() - size.width()) // 2,
            area.y() + (area.height() - size.height()) // 2,
            size.width(),
            size.height(),
        )

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if self.pixmap is not None and not self.pixmap.isNull():
            target = self.image_rect()
            if self._scaled is None or self._scaled.size() != target.size():
                # Smooth: tiles are usually smaller than the preview, and downscaling needs it.
                self._scaled = self.pixmap.scaled(
                    target.size(), Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            painter.drawPixmap(target.topLeft(), self._scaled)
            if self.badge:
                self._paint_badge(painter, target)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        below = self.grid.caption_height()
        caption_rect = QRect(0, self.height() - below, self.width(), CAPTION_HEIGHT - BORDER)
        painter.drawText(caption_rect, Qt.AlignmentFlag.AlignCenter, self.caption)
        if self.detail:
            font = QFont(self.font())
            font.setPointSizeF(max(font.pointSizeF() * 0.8, 6.0))
            painter.setFont(font)
            detail_rect = QRect(BORDER, caption_rect.bottom() - 1, self.width() - 2 * BORDER, DETAIL_HEIGHT)
            text = painter.fontMetrics().elidedText(self.detail, Qt.TextElideMode.ElideRight, detail_rect.width())
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(detail_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)
            painter.setFont(self.font())
        if self.selected:
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), BORDER)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.drawRect(self.rect().adjusted(1, 1, -2, -2))
        painter.end()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.grid.tile_clicked(self.index, event.modifiers())
        elif event.button() == Qt.MouseButton.RightButton and not self.selected:
            self.grid.tile_clicked(self.index, Qt.KeyboardModifier.NoModifier)

    def mouseDoubleClickEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.grid.activated.emit(self.index)

    def contextMenuEvent(self, event) -> None:
        self.grid.menu_requested.emit(self.index, event.globalPos())


class SampleGrid(QWidget):
    """rows × cols tiles; the owner fills them with `set_tiles`."""

    selection_changed = Signal(list)  # selected indices, in grid order
    clicked = Signal(int)  # a tile clicked (or reached with the arrow keys)
    activated = Signal(int)  # double-click or Enter
    menu_requested = Signal(int, QPoint)  # tile index, global position

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tiles: list[Tile] = []
        self.rows = self.cols = 0
        self.current = -1
        self._selected: set[int] = set()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("Arrow keys move, Enter enlarges, Ctrl+A selects all")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.aspect = 2.0  # width / height of the previews, so tiles hug them
        self.details = False  # whether the tiles have a detail line under the caption

    def caption_height(self) -> int:
        """The height under each preview: the caption, and the detail line when there is one."""
        return CAPTION_HEIGHT + (DETAIL_HEIGHT if self.details else 0)

    def sizeHint(self) -> QSize:
        return QSize(680, 560)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, 120)

    def set_shape(self, rows: int, cols: int) -> None:
        if (rows, cols) == (self.rows, self.cols):
            return
        for tile in self.tiles:
            tile.deleteLater()
        self.rows, self.cols = rows, cols
        self.tiles = [Tile(self, i) for i in range(rows * cols)]
        for tile in self.tiles:
            tile.show()
        self._place_tiles()
        self._set_selection(set(), -1)

    def resizeEvent(self, event) -> None:
        self._place_tiles()

    def _place_tiles(self) -> None:
        """Tiles as large as fits while keeping the previews' aspect, the block centred."""
        if not self.tiles:
            return
        free_w = (self.width() - SPACING * (self.cols + 1)) / self.cols
        free_h = (self.height() - SPACING * (self.rows + 1)) / self.rows
        pad = 2 * (BORDER + 2)
        below = self.caption_height()
        image_w = max(8.0, min(free_w - pad, (free_h - below - BORDER - 2) * self.aspect))
        tile_w = int(image_w + pad)
        tile_h = int(image_w / self.aspect + below + BORDER + 2)
        left = (self.width() - self.cols * tile_w - (self.cols - 1) * SPACING) // 2
        top = (self.height() - self.rows * tile_h - (self.rows - 1) * SPACING) // 2
        for i, tile in enumerate(self.tiles):
            row, col = divmod(i, self.cols)
            tile.setGeometry(
                left + col * (tile_w + SPACING), max(top, SPACING) + row * (tile_h + SPACING), tile_w, tile_h
            )

    def set_tiles(self, rows: int, cols: int, contents: list[tuple]) -> None:
        """Show (pixmap, caption[, badge, atypical, tooltip, detail]) per tile; the selection is
        kept where it still fits."""
        self.set_shape(rows, cols)
        sized = [content[0] for content in contents if content[0] is not None and not content[0].isNull()]
        details = any(len(content) > 5 and content[5] for content in contents)
        if (sized and sized[0].width() / sized[0].height() != self.aspect) or details != self.details:
            if sized:
                self.aspect = sized[0].width() / sized[0].height()
            self.details = details
            self._place_tiles()
        for tile, content in zip(self.tiles, contents):
            tile.set_content(*content)
        for tile in self.tiles[len(contents) :]:
            tile.set_content(None, "")
        keep = {i for i in self._selected if i < len(contents)}
        self._set_selection(keep, self.current if self.current in keep else (min(keep) if keep else -1))

    def selected(self) -> list[int]:
        return sorted(self._selected)

    def select(self, indices, current: int | None = None) -> None:
        indices = {i for i in indices if 0 <= i < len(self.tiles)}
        self._set_selection(indices, current if current is not None else (min(indices) if indices else -1))

    def select_all(self) -> None:
        self._set_selection(set(range(len(self.tiles))), self.current)

    def tile_clicked(self, index: int, modifiers) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            self._set_selection(self._selected ^ {index}, index)
        elif modifiers & Qt.KeyboardModifier.ShiftModifier and self.current >= 0:
            low, high = sorted((self.current, index))
            self._set_selection(self._selected | set(range(low, high + 1)), index)
        else:
            self._set_selection({index}, index)
        self.clicked.emit(index)

    def _set_selection(self, indices: set[int], current: int) -> None:
        changed = indices != self._selected
        self._selected, self.current = set(indices), current
        for i, tile in enumerate(self.tiles):
            if tile.selected != (i in indices):
                tile.selected = i in indices
                tile.update()
        if changed:
            self.selection_changed.emit(self.selected())

    def keyPressEvent(self, event) -> None:
        key = event.key()
        steps = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -self.cols, Qt.Key.Key_Down: self.cols}
        if key in steps and self.tiles:
            target = min(max((self.current if self.current >= 0 else 0) + steps[key], 0), len(self.tiles) - 1)
            self.tile_clicked(target, event.modifiers() & ~Qt.KeyboardModifier.ControlModifier)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current >= 0:
            self.activated.emit(self.current)
        elif key == Qt.Key.Key_A and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.select_all()
        else:
            super().keyPressEvent(event)
