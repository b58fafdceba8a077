"""The four-corner palette: a square whose corners are four latents (A top-left, B top-right,
C bottom-left, D bottom-right). Clicking or dragging anywhere decodes the bilinear blend there
into the preview, live. A mosaic of blends, decoded in a worker, shows the square's contents.

A and B follow the interpolation endpoints; C and D come from a grid tile or a random draw.
Each corner has its own labels, and a blend is decoded under those of the nearest corner.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from generators.core.latent import lerp

from .context import ViewContext
from .flow_layout import FlowLayout
from .items import Shown, decode_shown
from .qimage import to_pixmap

CORNERS = ("A", "B", "C", "D")
CORNER_UV = {"A": (0.0, 0.0), "B": (1.0, 0.0), "C": (0.0, 1.0), "D": (1.0, 1.0)}
MOSAIC = 5  # blends per side drawn under the square


def bilinear(corners: dict[str, np.ndarray], u: float, v: float) -> np.ndarray:
    """The blend at (u, v) in [0, 1]²: A at (0, 0), B at (1, 0), C at (0, 1), D at (1, 1)."""
    top = lerp(corners["A"], corners["B"], u)
    bottom = lerp(corners["C"], corners["D"], u)
    return lerp(top, bottom, v)


class PaletteSquare(QWidget):
    """The square itself: a mosaic backdrop, the corner names and the chosen point."""

    picked = Signal(float, float)  # u, v

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.mosaic: list[list[QPixmap]] = []
        self.point: tuple[float, float] | None = None
        self.setMinimumSize(150, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Click or drag anywhere: the preview shows the blend of the four corners there")

    def sizeHint(self) -> QSize:
        return QSize(260, 260)

    def square(self) -> QRectF:
        side = min(self.width(), self.height()) - 2
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def uv_at(self, position: QPointF) -> tuple[float, float]:
        square = self.square()
        u = (position.x() - square.left()) / max(square.width(), 1)
        v = (position.y() - square.top()) / max(square.height(), 1)
        return min(max(u, 0.0), 1.0), min(max(v, 0.0), 1.0)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        square = self.square()
        painter.fillRect(square, QColor(72, 72, 72))
        if self.mosaic:
            cell = square.width() / len(self.mosaic)
            for row, pixmaps in enumerate(self.mosaic):
                for col, pixmap in enumerate(pixmaps):
                    painter.drawPixmap(
                        QRectF(square.left() + col * cell, square.top() + row * cell, cell, cell).toRect(), pixmap
                    )
            painter.setPen(QPen(QColor(255, 255, 255, 90), 1))  # cell borders, so blends read as steps
            for k in range(1, len(self.mosaic)):
                painter.drawLine(
                    QPointF(square.left() + k * cell, square.top()), QPointF(square.left() + k * cell, square.bottom())
                )
                painter.drawLine(
                    QPointF(square.left(), square.top() + k * cell), QPointF(square.right(), square.top() + k * cell)
                )
        painter.setPen(QPen(QColor(40, 40, 40), 1))
        painter.drawRect(square)
        for name, (u, v) in CORNER_UV.items():
            at = QPointF(square.left() + u * (square.width() - 22) + 3, square.top() + v * (square.height() - 22) + 3)
            painter.fillRect(QRectF(at, QSize(18, 18)), QColor(0, 0, 0, 160))
            painter.setPen(QColor("white"))
            painter.drawText(QRectF(at, QSize(18, 18)), Qt.AlignmentFlag.AlignCenter, name)
        if self.point is not None:
            u, v = self.point
            centre = QPointF(square.left() + u * square.width(), square.top() + v * square.height())
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor("white"), 3))
            painter.drawEllipse(centre, 6, 6)
            painter.setPen(QPen(QColor(200, 0, 0), 2))
            painter.drawEllipse(centre, 6, 6)
        painter.end()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.picked.emit(*self.uv_at(event.position()))

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.picked.emit(*self.uv_at(event.position()))


class PalettePanel(QWidget):
    blend_changed = Signal(object)  # a Shown: latent (D,), caption, labels
    tile_requested = Signal(str)  # "C" or "D": the owner sets it from the current tile
    random_requested = Signal(str)

    def __init__(self, context: ViewContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.corners: dict[str, Shown | None] = {name: None for name in CORNERS}
        self._generation = 0
        self.square = PaletteSquare()
        self.square.picked.connect(self.pick)
        self.captions = QLabel()
        self.captions.setWordWrap(True)
        buttons = FlowLayout()  # two rows in a narrow panel
        for which in "CD":
            tile = QPushButton(f"{which} ← tile")
            tile.setToolTip(
                f"Corner {which} (bottom-{'left' if which == 'C' else 'right'}): the grid tile selected now"
            )
            tile.clicked.connect(lambda _=False, w=which: self.tile_requested.emit(w))
            rand = QPushButton(f"{which} random")
            rand.setToolTip(f"Draw corner {which} from the prior with a new seed")
            rand.clicked.connect(lambda _=False, w=which: self.random_requested.emit(w))
            buttons.addWidget(tile)
            buttons.addWidget(rand)
        intro = QLabel("A and B are the interpolation endpoints; C and D come from a tile or at random.")
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(intro)
        layout.addWidget(self.square, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.captions)
        context.condition_changed.connect(self._condition_changed)
        self._show_captions()

    def ready(self) -> bool:
        return all(self.corners[name] is not None for name in CORNERS)

    def set_corner(
        self,
        which: str,
        latent: np.ndarray | Shown,
        caption: str = "",
        labels: tuple[str, ...] | None = None,
        seed: int | None = None,
        own: tuple[str, ...] | None = None,
    ) -> None:
        """Corner `which` at `latent` (or a Shown, as the interpolation's endpoints come), decoded
        under `labels` (None: as the condition now gives an item of `seed`, or with labels `own`)."""
        if isinstance(latent, Shown):
            shown = latent
        elif labels is None:
            shown = self.context.shown(latent, caption, seed, own)
        else:
            shown = Shown(np.asarray(latent, dtype=np.float32).copy(), caption, tuple(labels), seed, own)
        self.corners[which] = shown._replace(latent=np.asarray(shown.latent, dtype=np.float32).copy())
        self._show_captions()
        self.refresh_mosaic()

    def _condition_changed(self) -> None:
        generator, condition = self.context.generator, self.context.condition
        for name, corner in self.corners.items():
            if corner is not None:
                self.corners[name] = corner.under(generator, condition)
        self.refresh_mosaic()

    def _show_captions(self) -> None:
        self.captions.setText(
            "  ".join(f"<b>{n}</b>: {c.caption if c else 'not set'}" for n, c in self.corners.items())
        )

    def latents(self) -> dict[str, np.ndarray]:
        return {name: corner.latent for name, corner in self.corners.items() if corner is not None}

    def nearest_corner(self, u: float, v: float) -> Shown:
        """The corner whose labels the blend at (u, v) is decoded under."""
        return self.corners[("A" if u < 0.5 else "B") if v < 0.5 else ("C" if u < 0.5 else "D")]

    def blend(self, u: float, v: float) -> np.ndarray | None:
        return bilinear(self.latents(), u, v) if self.ready() else None

    def pick(self, u: float, v: float) -> None:
        """Show the blend at (u, v) in the preview (on this thread: one latent is fast)."""
        latent = self.blend(u, v)
        if latent is None:
            missing = ", ".join(n for n in CORNERS if self.corners[n] is None)
            self.context.status.emit(f"Set every corner of the palette first (missing: {missing})")
            return
        self.square.point = (u, v)
        self.square.update()
        self.blend_changed.emit(
            self.nearest_corner(u, v)._replace(latent=latent, caption=f"palette ({u:.2f}, {v:.2f})")
        )

    def refresh_mosaic(self) -> None:
        """Decode MOSAIC × MOSAIC blends in a worker; a newer request supersedes an older one."""
        self._generation += 1
        generation = self._generation
        if not self.ready():
            self.square.mosaic = []
            self.square.update()
            return
        steps = np.linspace(0.0, 1.0, MOSAIC)
        latents = np.stack([self.blend(float(u), float(v)) for v in steps for u in steps])
        labels = [self.nearest_corner(float(u), float(v)).labels for v in steps for u in steps]
        generator = self.context.generator

        def decode(job):
            return decode_shown(generator, latents, labels)

        def done(frames):
            if generation == self._generation:
                pixmaps = [to_pixmap(p) for p in frames]
                self.square.mosaic = [pixmaps[row * MOSAIC : (row + 1) * MOSAIC] for row in range(MOSAIC)]
                self.square.update()

        self.context.runner.start(decode, on_success=done, on_failure=self.context.status.emit)
