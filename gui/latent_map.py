"""The latent map: the training set's encodings on their top-two principal plane, coloured
by a condition. Hovering shows the nearest training item; clicking (or dragging) anywhere
decodes that point of the plane into the preview, under the labels of the training item
nearest to it (with what the tab's condition requires or excludes applied).

View: t-SNE shows the same items (at most `tsne.MAX_POINTS`, a seeded subset) placed so that
neighbours in the latent space stay neighbours; it is computed in a worker with progress and
Cancel, and cached per checkpoint. It has no inverse, so a click there decodes the latent of the
nearest item; hovering works as on the plane.

The data are built by `corpus_map.build_map` in a worker (cached per checkpoint); this module
only draws points and turns mouse positions into plane coordinates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from generators.core.tsne import MAX_POINTS

from .conditions_panel import pretty
from .context import ViewContext
from .corpus_map import (
    MapCancelled,
    MapData,
    MapView,
    build_map,
    build_tsne,
    cache_path,
    colour_choices,
    colour_groups,
    label_text,
    plane_view,
    tsne_cache_path,
)
from .flow_layout import FlowLayout, labelled
from .qimage import scaled_nearest, to_pixmap
from .workers import Job

# Colour-blind-safe categories (Okabe-Ito); the first is for "without the label".
COLOURS = [QColor(c) for c in ("#9aa3ad", "#e69f00", "#0072b2", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#f0e442")]
POINT_RADIUS = 2.2
HOVER_PIXELS = 14  # how near the cursor a point must be for its item to show
MARGIN = 0.06  # of the data's extent on each side, so clicks can land beyond the data
HOVER_WIDTH = 190  # the hover preview and its caption, beside the map


class MapCanvas(QWidget):
    """Draws (N, 2) points with a colour index each; reports hovers and clicks in plane coordinates."""

    hovered = Signal(int)  # nearest point index, or -1
    clicked = Signal(float, float)  # plane coordinates

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.points = np.zeros((0, 2), np.float32)
        self.colours = np.zeros(0, int)
        self.bounds = QRectF(-1, -1, 2, 2)
        self.hover = -1
        self.marker: tuple[float, float] | None = None  # the last point decoded
        self.axis_name = "principal axis"  # "t-SNE axis" on the t-SNE view, whose axes mean nothing more
        self._backdrop: QPixmap | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(200, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Each dot is a training item (hover to see it); click or drag anywhere to decode that point")

    def sizeHint(self) -> QSize:
        return QSize(640, 520)

    def set_points(self, points: np.ndarray, colours: np.ndarray) -> None:
        self.points, self.colours = np.asarray(points, np.float32), np.asarray(colours, int)
        if len(self.points):
            # Robust bounds: a few far outliers must not squeeze everything into a corner.
            low, high = np.percentile(self.points, 0.5, axis=0), np.percentile(self.points, 99.5, axis=0)
            pad = (high - low) * MARGIN + 1e-3
            self.bounds = QRectF(
                float(low[0] - pad[0]),
                float(low[1] - pad[1]),
                float(high[0] - low[0] + 2 * pad[0]),
                float(high[1] - low[1] + 2 * pad[1]),
            )
        self.hover = -1
        self._backdrop = None
        self.update()

    # --- coordinates: plane y grows upwards, screen y downwards --------------------------------

    def to_screen(self, x: float, y: float) -> QPointF:
        b = self.bounds
        return QPointF((x - b.left()) / b.width() * self.width(), (1 - (y - b.top()) / b.height()) * self.height())

    def to_plane(self, point: QPointF) -> tuple[float, float]:
        b = self.bounds
        return (
            b.left() + point.x() / max(self.width(), 1) * b.width(),
            b.top() + (1 - point.y() / max(self.height(), 1)) * b.height(),
        )

    def screen_points(self) -> np.ndarray:
        b = self.bounds
        xs = (self.points[:, 0] - b.left()) / b.width() * self.width()
        ys = (1 - (self.points[:, 1] - b.top()) / b.height()) * self.height()
        return np.stack([xs, ys], axis=1)

    def nearest(self, point: QPointF) -> int:
        """The point within HOVER_PIXELS of a screen position, else -1."""
        if not len(self.points):
            return -1
        distances = ((self.screen_points() - np.array([point.x(), point.y()])) ** 2).sum(axis=1)
        index = int(np.argmin(distances))
        return index if distances[index] <= HOVER_PIXELS**2 else -1

    # --- painting and the mouse ---------------------------------------------------------------

    def _draw_backdrop(self) -> QPixmap:
        pixmap = QPixmap(self.size())
        pixmap.fill(QColor(250, 250, 250))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(210, 210, 210), 1, Qt.PenStyle.DashLine))
        origin = self.to_screen(0.0, 0.0)
        painter.drawLine(QPointF(origin.x(), 0), QPointF(origin.x(), self.height()))
        painter.drawLine(QPointF(0, origin.y()), QPointF(self.width(), origin.y()))
        painter.setPen(Qt.PenStyle.NoPen)
        screen = self.screen_points() if len(self.points) else np.zeros((0, 2))
        # Draw the "without" class first so the rarer labelled points sit on top.
        for colour_index in np.unique(self.colours):
            colour = QColor(COLOURS[int(colour_index) % len(COLOURS)])
            colour.setAlpha(190)  # overlapping points show where the data is dense
            painter.setBrush(colour)
            for x, y in screen[self.colours == colour_index]:
                painter.drawEllipse(QPointF(x, y), POINT_RADIUS, POINT_RADIUS)
        painter.setPen(QColor(110, 110, 110))
        painter.drawText(QRectF(6, self.height() - 22, 300, 18), f"{self.axis_name} 1 →")
        painter.save()
        painter.translate(14, 130)
        painter.rotate(-90)
        painter.drawText(QRectF(0, -12, 200, 18), f"{self.axis_name} 2 →")
        painter.restore()
        painter.end()
        return pixmap

    def paintEvent(self, event) -> None:
        if self._backdrop is None or self._backdrop.size() != self.size():
            self._backdrop = self._draw_backdrop()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._backdrop)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if 0 <= self.hover < len(self.points):
            painter.setPen(QPen(QColor(20, 20, 20), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(self.to_screen(*self.points[self.hover]), 7, 7)
        if self.marker is not None:
            centre = self.to_screen(*self.marker)
            painter.setPen(QPen(QColor(200, 0, 0), 2))
            painter.drawLine(centre + QPointF(-9, 0), centre + QPointF(9, 0))
            painter.drawLine(centre + QPointF(0, -9), centre + QPointF(0, 9))
        painter.end()

    def resizeEvent(self, event) -> None:
        self._backdrop = None

    def mouseMoveEvent(self, event) -> None:
        position = event.position()
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._click(position)
        index = self.nearest(position)
        if index != self.hover:
            self.hover = index
            self.update()
            self.hovered.emit(index)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._click(event.position())

    def leaveEvent(self, event) -> None:
        if self.hover != -1:
            self.hover = -1
            self.update()
            self.hovered.emit(-1)

    def _click(self, position: QPointF) -> None:
        self.marker = self.to_plane(position)
        self.update()
        self.clicked.emit(*self.marker)


class LatentMapPanel(QWidget):
    """The map with its controls: the data folder, colouring, progress, and a hover preview."""

    point_chosen = Signal(object)  # a Shown: latent (D,), caption, labels
    data_folder_chosen = Signal(str)

    def __init__(self, context: ViewContext, cache_dir: str | Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.cache = cache_path(cache_dir, context.generator.card)
        self.data_folder: str | None = None
        self.data: MapData | None = None
        self.view: MapView | None = None  # what the canvas shows of `data`
        self.tsne_view: MapView | None = None  # computed once per map
        self.job: Job | None = None
        self.requested = False  # a map was asked for (by showing the tab or choosing data)
        space = context.generator.domain.conditions

        self.load_button = QPushButton("Load training data…")
        self.load_button.setToolTip(
            "Choose the folder of the data this model was trained on; it is encoded once and cached"
        )
        self.load_button.clicked.connect(self.choose_data_folder)
        self.colour_by = QComboBox()
        for choice in colour_choices(space):
            self.colour_by.addItem(pretty(choice), choice)
        self.colour_by.setToolTip("Colour the points by this condition of each training item")
        self.colour_by.currentIndexChanged.connect(lambda _: self._recolour())
        self.view_by = QComboBox()
        self.view_by.addItem("PCA plane", "pca")
        self.view_by.addItem("t-SNE", "tsne")
        self.view_by.setToolTip(
            "PCA plane: the two directions the items vary most along; any point decodes.\n"
            "t-SNE: neighbours stay together (computed once, then cached); a click decodes the nearest item."
        )
        self.view_by.currentIndexChanged.connect(lambda _: self._show_view())
        self.progress = QProgressBar()
        self.progress.setFormat("encoding %v / %m")
        self.progress.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop encoding the training data")
        self.cancel_button.clicked.connect(self.cancel)
        self.legend = QLabel()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.canvas = MapCanvas()
        self.canvas.hovered.connect(self.show_hovered)
        self.canvas.clicked.connect(self.decode_at)
        self.hover_image = QLabel("Hover a point to see the training item")
        self.hover_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hover_image.setFixedSize(HOVER_WIDTH, 170)
        self.hover_image.setFrameShape(QLabel.Shape.StyledPanel)
        self.hover_image.setWordWrap(True)
        self.hover_caption = QLabel()
        self.hover_caption.setWordWrap(True)
        self.hover_caption.setFixedWidth(HOVER_WIDTH)
        self.hovered_index = -1

        self.legend.setWordWrap(True)
        top = FlowLayout()
        top.addWidget(self.load_button)
        top.addWidget(labelled("View:", self.view_by))
        top.addWidget(labelled("Colour by:", self.colour_by))
        top.addWidget(self.progress)
        top.addWidget(self.cancel_button)
        side = QVBoxLayout()
        side.addWidget(self.hover_image)
        side.addWidget(self.hover_caption)
        side.addWidget(self.legend)
        side.addStretch(1)
        middle = QHBoxLayout()
        middle.addWidget(self.canvas, 1)
        middle.addLayout(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(middle, 1)
        self._set_busy(False)
        self.status.setText(
            "The map shows this model's training items, encoded. Load training data… to build it (once; it is cached)."
        )

    # --- building the map --------------------------------------------------------------------

    def choose_data_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of this model's training data", self.data_folder or "")
        if folder:
            self.load_data(folder)

    def set_data_folder(self, folder: str | None) -> None:
        """The remembered data folder (from settings); nothing is loaded yet."""
        self.data_folder = folder or None

    def ensure_loaded(self) -> None:
        """Build the map the first time it is wanted: from the cache, or the remembered folder."""
        if self.requested:
            return
        self.requested = True
        if self.data_folder is not None or (self.cache is not None and self.cache.exists()):
            self.load_data(self.data_folder)

    def load_data(self, folder: str | Path | None) -> Job:
        """Build (or read from the cache) the map of `folder`'s training items in a worker."""
        self.requested = True
        self.cancel()
        if folder is not None:
            self.data_folder = str(folder)
            self.data_folder_chosen.emit(self.data_folder)
        generator, cache, data_folder = self.context.generator, self.cache, self.data_folder

        def work(job: Job) -> MapData | None:
            try:
                return build_map(generator, data_folder, cache, job.report, lambda: job.cancelled)
            except MapCancelled:
                return None

        self._set_busy(True)
        self.progress.setFormat("encoding %v / %m")
        self.status.setText(
            f"Reading the training data in {data_folder}…" if data_folder else "Reading the cached map…"
        )
        self.job = self.context.runner.start(
            work, on_success=self._loaded, on_failure=self._failed, on_progress=self._progress, on_done=self._done
        )
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _done(self) -> None:
        if self.job is not None and self.job.cancelled:
            self.status.setText("Encoding cancelled; Load training data… starts again.")
        self.job = None
        self._set_busy(False)

    def _show_view(self) -> None:
        """Show the view the View box asks for; t-SNE is computed (once) in a worker."""
        if self.data is None:
            return
        if self.view_by.currentData() != "tsne":
            self.view = plane_view(self.data)
            self._recolour()
            return
        if self.tsne_view is not None:
            self.view = self.tsne_view
            self._recolour()
            return
        if self.job is not None:
            return  # the map is still being built; its end shows the view asked for
        data, cache = self.data, tsne_cache_path(self.cache)

        def work(job: Job) -> MapView | None:
            try:
                return build_tsne(data, cache, job.report, lambda: job.cancelled)
            except MapCancelled:
                return None

        self._set_busy(True)
        self.progress.setFormat("t-SNE %v / %m")
        self.status.setText(f"Placing {min(len(data.latents), MAX_POINTS)} items by t-SNE (once; it is cached)…")
        self.job = self.context.runner.start(
            work,
            on_success=self._tsne_done,
            on_failure=self._failed,
            on_progress=self._progress,
            on_done=self._tsne_end,
        )

    def _tsne_done(self, view: MapView | None) -> None:
        if view is None or self.data is None:
            return
        self.tsne_view = view
        shown = len(view.index)
        of = "" if shown == len(self.data.latents) else f" (a seeded {shown} of {len(self.data.latents)})"
        self.status.setText(f"t-SNE of {shown} training items{of}. Click a point to decode its item.")
        if self.view_by.currentData() == "tsne":
            self.view = view
            self._recolour()

    def _tsne_end(self) -> None:
        cancelled = self.job is not None and self.job.cancelled
        self.job = None
        self._set_busy(False)
        if cancelled:
            self.status.setText("t-SNE cancelled; the PCA plane is shown. Choose t-SNE again to start over.")
            self.view_by.blockSignals(True)
            self.view_by.setCurrentIndex(0)
            self.view_by.blockSignals(False)
            self._show_view()

    def _failed(self, message: str) -> None:
        self.status.setText(f"No map: {message}")
        self.context.status.emit(f"Latent map: {message}")

    def _loaded(self, data: MapData | None) -> None:
        if data is None:
            return
        self.data, self.view, self.tsne_view = data, plane_view(data), None
        source = "encoded now and cached" if data.encoded_now else "from the cache"
        hover = (
            "" if data.assets is not None else "; the data folder is not readable, so hovering shows reconstructions"
        )
        self.status.setText(
            f"{len(data.latents)} training items of {Path(data.data_path).name or data.data_path}, {source}. "
            f"Click anywhere to decode that point{hover}."
        )
        self._recolour()
        if self.view_by.currentData() == "tsne":
            self._show_view()

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.load_button.setEnabled(not busy)
        self.view_by.setEnabled(not busy)
        if busy:
            self.progress.setRange(0, 0)  # indeterminate until the first report

    def _recolour(self) -> None:
        if self.data is None or self.view is None:
            return
        names, classify = colour_groups(self.context.generator.domain.conditions, self.colour_by.currentData() or "")
        colours = classify(self.data.labels[self.view.index])
        self.canvas.marker = None  # a marker of the other view would sit at a meaningless place
        self.canvas.axis_name = "principal axis" if self.view.decodes_anywhere else "t-SNE axis"
        self.canvas.set_points(self.view.points, colours)
        counts = np.bincount(colours, minlength=len(names))
        self.legend.setText(
            "<br>".join(
                f"<span style='color:{COLOURS[i % len(COLOURS)].name()}'>●</span> {pretty(name)} ({counts[i]})"
                for i, name in enumerate(names)
            )
        )

    # --- hover and click ----------------------------------------------------------------------

    def hover_at(self, position: QPointF) -> int:
        """What a mouse move at `position` shows (used by the canvas, and by tests)."""
        index = self.canvas.nearest(position)
        self.canvas.hover = index
        self.show_hovered(index)
        return index

    def show_hovered(self, shown: int) -> None:
        """Show the item of the canvas's point `shown` (an index into the points shown)."""
        data = self.data
        if data is None or self.view is None or not 0 <= shown < len(self.view.index):
            self.hovered_index = -1
            return
        index = self.hovered_index = int(self.view.index[shown])
        space = self.context.generator.domain.conditions
        if data.assets is not None:
            pixels = self.context.domain.render(data.assets[index])
            what = "training item"
        else:  # only the cache: show what the model makes of the item's encoding
            labels = space.decode(data.labels[index])
            pixels = self.context.domain.render(self.context.generator.decode(data.latents[index][None], labels)[0])
            what = "reconstruction of training item"
        self.hover_image.setPixmap(
            scaled_nearest(to_pixmap(pixels), self.hover_image.width() - 4, self.hover_image.height() - 4)
        )
        self.hover_caption.setText(f"<b>{data.names[index]}</b><br>{what}<br>{label_text(space, data.labels[index])}")

    def decode_at(self, x: float, y: float) -> np.ndarray | None:
        """Decode the map point (x, y) into the preview; returns its latent. On the plane that is
        the point itself; on t-SNE, which has no inverse, the nearest item's latent."""
        if self.data is None or self.view is None:
            return None
        nearest = self.view.nearest(x, y)
        if self.view.decodes_anywhere:
            latent, caption = self.data.latent_at(x, y), f"map ({x:+.2f}, {y:+.2f})"
        else:
            latent, caption = self.data.latents[nearest].copy(), f"map: {self.data.names[nearest]} (t-SNE)"
        self.canvas.marker = (x, y)
        self.canvas.update()
        # Under the labels of the training item nearest to the point, with the condition applied.
        own = self.context.generator.domain.conditions.decode(self.data.labels[nearest])
        self.point_chosen.emit(self.context.shown(latent, caption, own=own))
        return latent
