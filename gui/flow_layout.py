"""Layouts that fit narrow windows: a row of controls that wraps onto further rows instead of
widening the window (or squeezing its buttons until their text is cut), and a scroll area that
scrolls vertically only, as narrow as its contents allow."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLayout, QLayoutItem, QScrollArea, QStyle, QWidget


class FlowLayout(QLayout):
    """Items left to right at their size hints, wrapping onto a new row when the next one does
    not fit. Its minimum width is its widest item's, its height follows from the width."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6, row_spacing: int = 4):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing, self._row_spacing = spacing, row_spacing
        self.setContentsMargins(0, 0, 0, 0)

    # --- the QLayout interface ---------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if 0 <= index < len(self._items):
            item = self._items.pop(index)
            self.invalidate()
            return item
        return None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        """Everything on one row."""
        shown = self._shown()
        margins = self.contentsMargins()
        width = sum(item.sizeHint().width() for item in shown) + self._spacing * max(len(shown) - 1, 0)
        height = max((item.sizeHint().height() for item in shown), default=0)
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:
        """The widest item across; one row high (heightForWidth says how many rows a width needs)."""
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize().expandedTo(item.sizeHint()))
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    # --- placing ------------------------------------------------------------------------------

    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _arrange(self, rect: QRect, move: bool) -> int:
        """Place (or only measure) the items in `rect`; the height they take."""
        area = rect.marginsRemoved(self.contentsMargins())
        x, y, row_height = area.x(), area.y(), 0
        for item in self._shown():
            hint = item.sizeHint().expandedTo(item.minimumSize())
            width = min(hint.width(), max(area.width(), 1))
            if x > area.x() and x + width > area.right() + 1:
                x, y, row_height = area.x(), y + row_height + self._row_spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), QSize(width, hint.height())))
            x += width + self._spacing
            row_height = max(row_height, hint.height())
        margins: QMargins = self.contentsMargins()
        return y + row_height - rect.y() + margins.bottom()


def labelled(text: str, widget: QWidget) -> QWidget:
    """A label and its control as one item, so that a flow never puts them on different rows."""
    pair = QWidget()
    layout = QHBoxLayout(pair)
    layout.setContentsMargins(0, 0, 0, 0)
    label = QLabel(text)
    label.setBuddy(widget)
    label.setToolTip(widget.toolTip())
    layout.addWidget(label)
    layout.addWidget(widget)
    return pair


class VerticalScroll(QScrollArea):
    """Scrolls its widget up and down only: as narrow as the widget's minimum width (plus the
    scroll bar), and as short as a few lines, so that a tall panel never makes the window tall."""

    MIN_HEIGHT = 80

    def __init__(self, widget: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidget(widget)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        widget.installEventFilter(self)

    def _extra(self) -> int:
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        return bar + 2 * self.frameWidth()

    def minimumSizeHint(self) -> QSize:
        inner = self.widget().minimumSizeHint() if self.widget() is not None else QSize(0, 0)
        return QSize(inner.width() + self._extra(), min(inner.height(), self.MIN_HEIGHT))

    def sizeHint(self) -> QSize:
        inner = self.widget().sizeHint() if self.widget() is not None else QSize(0, 0)
        return QSize(inner.width() + self._extra(), inner.height() + 2 * self.frameWidth())

    def eventFilter(self, watched, event) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the widget's minimum width may have changed
        return super().eventFilter(watched, event)
