"""Interpolation between two endpoints, A and B: their thumbnails, a slider that scrubs live
between them (lerp or slerp), and a strip of K frames decoded in a worker.

The panel owns the endpoints and the path; where an endpoint comes from (a grid tile, a
file, a random draw) is the owner's business: it asks with `open_requested` and
`random_requested`, and calls `set_endpoint`. Each scrub step emits `blend_changed`.

Each end has its own labels (a tile's, a file's own, a seed's), and a point of the path is
decoded under those of the nearer end, as `main.py interpolate` decodes its frames.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .context import ViewContext
from .flow_layout import FlowLayout, labelled
from .items import Shown, decode_shown
from .qimage import to_pixmap

SLIDER_STEPS = 100  # the path has SLIDER_STEPS + 1 latents, one per slider position
THUMB_HEIGHT = 72
FRAME_HEIGHT = 52


def thumbnail(pixmap: QPixmap, height: int) -> QPixmap:
    return pixmap.scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)


class FrameLabel(QLabel):
    """A strip frame; clicking it moves the slider there."""

    clicked = Signal(int)

    def __init__(self, index: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = index
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event) -> None:
        self.clicked.emit(self.index)


class InterpolationPanel(QWidget):
    blend_changed = Signal(object)  # a Shown: latent (D,), caption, labels
    endpoint_changed = Signal(str, object)  # "A" or "B", its Shown
    open_requested = Signal(str)  # "A" or "B"
    random_requested = Signal(str)

    def __init__(self, context: ViewContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.endpoints: dict[str, Shown | None] = {"A": None, "B": None}
        self.path: np.ndarray | None = None  # (SLIDER_STEPS + 1, D)
        self.frame_pixmaps: list[QPixmap] = []
        self._strip_generation = 0
        self.thumbs: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}

        ends = QGridLayout()
        for column, which in enumerate("AB"):
            ends.addLayout(self._endpoint_box(which), 0, column)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setPageStep(10)
        self.slider.setToolTip("Scrub from A (left) to B (right); the preview follows live")
        self.slider.valueChanged.connect(self._scrubbed)
        self.position = QLabel("t = 0.00")
        self.position.setFixedSize(
            self.position.fontMetrics().horizontalAdvance("set A and B") + 8, self.position.sizeHint().height()
        )
        # (fixed size: its text changes on every scrub step without relaying out the window)
        self.slerp = QRadioButton("slerp")
        self.slerp.setToolTip("Spherical interpolation: keeps the latent's norm typical of the prior")
        self.lerp = QRadioButton("lerp")
        self.lerp.setToolTip("Straight-line interpolation")
        self.slerp.setChecked(True)
        self.modes = QButtonGroup(self)
        self.modes.addButton(self.slerp)
        self.modes.addButton(self.lerp)
        self.modes.buttonToggled.connect(lambda button, on: on and self._rebuild())
        scrub = QHBoxLayout()
        scrub.addWidget(QLabel("A"))
        scrub.addWidget(self.slider, 1)
        scrub.addWidget(QLabel("B"))
        scrub.addWidget(self.position)
        path = QWidget()
        path_row = QHBoxLayout(path)
        path_row.setContentsMargins(0, 0, 0, 0)
        path_row.addWidget(QLabel("Path:"))
        path_row.addWidget(self.slerp)
        path_row.addWidget(self.lerp)
        self.frames = QSpinBox()
        self.frames.setRange(1, 16)
        self.frames.setValue(8)
        self.frames.setToolTip("How many frames the strip shows from A to B (1 to 16; 1 shows the midpoint)")
        self.frames.valueChanged.connect(lambda _: self.refresh_strip())
        modes = FlowLayout()  # one row, or two in a narrow panel
        modes.addWidget(path)
        modes.addWidget(labelled("Frames:", self.frames))

        self.strip = QWidget()
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(2, 2, 2, 2)
        self.strip_layout.setSpacing(3)
        self.strip_layout.addStretch(1)
        strip_area = QScrollArea()
        strip_area.setWidget(self.strip)
        strip_area.setWidgetResizable(True)
        strip_area.setFixedHeight(FRAME_HEIGHT + 26)
        strip_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        strip_area.setToolTip("Frames from A to B; click one to move the slider there")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(ends)
        layout.addLayout(scrub)
        layout.addLayout(modes)
        layout.addWidget(strip_area)
        layout.addStretch(1)
        context.condition_changed.connect(self._condition_changed)
        self._update_enabled()

    def _endpoint_box(self, which: str) -> QVBoxLayout:
        thumb = QLabel(f"no endpoint {which}")
        thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        thumb.setMinimumSize(THUMB_HEIGHT * 2, THUMB_HEIGHT)
        thumb.setFrameShape(QLabel.Shape.StyledPanel)
        thumb.setToolTip(
            f"Endpoint {which}: set it from a tile's context menu, a file (Open or drop one on the window) or at random"
        )
        caption = QLabel(f"{which}: not set")
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        caption.setWordWrap(True)  # a long file name wraps instead of widening the window
        open_button = QPushButton("Open…")
        open_button.setToolTip(f"Encode a file as endpoint {which}")
        open_button.clicked.connect(lambda: self.open_requested.emit(which))
        random_button = QPushButton("Random")
        random_button.setToolTip(f"Draw endpoint {which} from the prior with a new seed")
        random_button.clicked.connect(lambda: self.random_requested.emit(which))
        buttons = QHBoxLayout()
        buttons.addWidget(open_button)
        buttons.addWidget(random_button)
        box = QVBoxLayout()
        box.addWidget(thumb)
        box.addWidget(caption)
        box.addLayout(buttons)
        self.thumbs[which], self.captions[which] = thumb, caption
        return box

    # --- endpoints and path ---------------------------------------------------------------

    def mode(self) -> str:
        return "slerp" if self.slerp.isChecked() else "lerp"

    def set_mode(self, mode: str) -> None:
        (self.slerp if mode == "slerp" else self.lerp).setChecked(True)

    def set_endpoint(
        self,
        which: str,
        latent: np.ndarray,
        caption: str,
        labels: tuple[str, ...] | None = None,
        seed: int | None = None,
        own: tuple[str, ...] | None = None,
    ) -> None:
        """Endpoint `which` at `latent`, decoded under `labels` (None: as the condition now gives
        an item of `seed`, or with labels `own`; see `ViewContext.labels_under`)."""
        if labels is None:
            shown = self.context.shown(latent, caption, seed, own)
        else:
            shown = Shown(np.asarray(latent, dtype=np.float32).copy(), caption, tuple(labels), seed, own)
        self.endpoints[which] = shown
        self.captions[which].setText(f"{which}: {caption}")
        self._draw_thumb(which)
        self._rebuild()
        self.endpoint_changed.emit(which, shown)
        if self.path is None:  # only one endpoint so far: show it
            self.blend_changed.emit(shown._replace(caption=f"endpoint {which} ({caption})"))

    def next_free(self) -> str:
        """Where a dropped file goes: A, or B once A is set."""
        return (
            "B"
            if self.endpoints["A"] is not None and self.endpoints["B"] is None
            else ("A" if self.endpoints["A"] is None else "B")
        )

    def _draw_thumb(self, which: str) -> None:
        end = self.endpoints[which]
        if end is not None:
            self.thumbs[which].setPixmap(thumbnail(self.context.pixmap(end.latent, end.labels), THUMB_HEIGHT))
            self.thumbs[which].setToolTip(
                f"Endpoint {which}: {end.caption}, decoded under {', '.join(end.labels) or 'no labels'}"
            )

    def nearer_end(self, t: float) -> Shown:
        """The end whose labels the point at t in [0, 1] of the path is decoded under."""
        return self.endpoints["A"] if t < 0.5 else self.endpoints["B"]

    def _rebuild(self) -> None:
        a, b = self.endpoints["A"], self.endpoints["B"]
        self.path = (
            None
            if a is None or b is None
            else self.context.generator.interpolate(a.latent, b.latent, SLIDER_STEPS + 1, self.mode())
        )
        self._update_enabled()
        if self.path is not None:
            self._scrubbed(self.slider.value())
        self.refresh_strip()

    def _update_enabled(self) -> None:
        ready = self.path is not None
        self.slider.setEnabled(ready)
        if not ready:
            self.position.setText("set A and B")

    def _condition_changed(self) -> None:
        """Each end's labels follow the condition (as a grid item's do); then redraw."""
        generator, condition = self.context.generator, self.context.condition
        for which in "AB":
            if self.endpoints[which] is not None:
                self.endpoints[which] = self.endpoints[which].under(generator, condition)
            self._draw_thumb(which)
        self.refresh_strip()

    # --- scrubbing and the strip ------------------------------------------------------------

    def blend(self) -> np.ndarray | None:
        return None if self.path is None else self.path[self.slider.value()]

    def _scrubbed(self, value: int) -> None:
        self.position.setText(f"t = {value / SLIDER_STEPS:.2f}")
        if self.path is not None:
            t = value / SLIDER_STEPS
            self.blend_changed.emit(
                self.nearer_end(t)._replace(latent=self.path[value], caption=f"A→B at {t:.2f} ({self.mode()})")
            )

    def refresh_strip(self) -> None:
        """Decode K frames from A to B in a worker; a newer request supersedes an older one."""
        self._strip_generation += 1
        generation = self._strip_generation
        if self.path is None:
            self._show_frames([])
            return
        a, b, count = self.endpoints["A"], self.endpoints["B"], self.frames.value()
        generator = self.context.generator
        latents = generator.interpolate(a.latent, b.latent, count, self.mode())
        labels = [self.nearer_end(0.5 if count == 1 else i / (count - 1)).labels for i in range(count)]

        def decode(job):
            return decode_shown(generator, latents, labels)

        def done(frames):
            if generation == self._strip_generation:
                self._show_frames([to_pixmap(p) for p in frames])

        self.context.runner.start(decode, on_success=done, on_failure=self.context.status.emit)

    def _show_frames(self, pixmaps: list[QPixmap]) -> None:
        while self.strip_layout.count() > 1:
            widget = self.strip_layout.takeAt(0).widget()
            widget.deleteLater()
        self.frame_pixmaps = pixmaps
        count = len(pixmaps)
        for i, pixmap in enumerate(pixmaps):
            label = FrameLabel(i)
            label.setPixmap(thumbnail(pixmap, FRAME_HEIGHT))
            t = 0.5 if count == 1 else i / (count - 1)
            label.setToolTip(f"frame {i + 1} of {count}: t = {t:.2f}; click to scrub here")
            label.clicked.connect(self._frame_clicked)
            self.strip_layout.insertWidget(i, label)

    def _frame_clicked(self, index: int) -> None:
        count = len(self.frame_pixmaps)
        t = 0.5 if count == 1 else index / (count - 1)
        self.slider.setValue(round(t * SLIDER_STEPS))
