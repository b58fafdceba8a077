"""The large preview: one latent (a grid item, an interpolation blend...) plus the offset of
the direction sliders, decoded on the UI thread (one latent is fast) under that item's labels,
which a line under the view names. A condition change moves those labels as it moves the
item's in the grid (`items.labels_under`)."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from generators.music.art import playhead_x

from .audio_transport import AudioTransport
from .conditions_panel import labels_text, labels_tooltip
from .context import ViewContext
from .items import Shown
from .preview import ZoomView


class PreviewPanel(QWidget):
    rendered = Signal(float)  # milliseconds of the last decode + render + pixmap (the paint follows)

    def __init__(self, context: ViewContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.shown: Shown | None = None  # the base latent, its caption and labels
        self.offset = np.zeros(context.generator.latent_size, dtype=np.float32)
        self.caption = ""
        self.asset = None  # the decoded asset shown now (what Play plays)
        self.view = ZoomView(self)
        self.view.setMinimumHeight(160)
        hint = QLabel(
            "Click a tile, scrub between two endpoints, or move a direction slider. Wheel zooms, drag scrolls."
        )
        hint.setWordWrap(True)
        self.labels_line = QLabel()
        self.labels_line.setWordWrap(True)
        self.labels_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.last_ms = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        # Domains whose assets are sound get Play/Stop and a tempo box (Space plays while the preview has focus).
        self.transport: AudioTransport | None = None
        if context.domain.plays_audio:
            self.transport = AudioTransport(context, lambda: self.asset, self)
            layout.addWidget(self.transport)
            self.act_play = QAction("Play / Stop", self)
            self.act_play.setShortcut(QKeySequence(Qt.Key.Key_Space))
            # Only while the preview itself has the focus: a space typed in the tempo box is a space.
            self.act_play.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.act_play.setEnabled(self.transport.play_button.isEnabled())
            self.act_play.triggered.connect(self.transport.toggle)
            self.view.addAction(self.act_play)
            self.transport.playhead.connect(self.show_playhead)
        layout.addWidget(self.labels_line)
        layout.addWidget(hint)
        context.condition_changed.connect(self._condition_changed)

    def show_playhead(self, fraction: float | None) -> None:
        """A line over the piano roll `fraction` (0..1) of the way through the clip; None clears it."""
        width = self.view.item.pixmap().width()
        self.view.set_marker(None if fraction is None or width == 0 else playhead_x(width, fraction))

    @property
    def base(self) -> np.ndarray | None:
        return None if self.shown is None else self.shown.latent

    def labels(self) -> tuple[str, ...]:
        """The label set the preview decodes under now."""
        return () if self.shown is None else self.shown.labels

    def latent(self) -> np.ndarray | None:
        """The latent shown now: base plus the direction offset."""
        return None if self.base is None else (self.base + self.offset).astype(np.float32)

    def set_base(self, shown: Shown | None) -> None:
        """Show a latent under its labels (None: nothing)."""
        self.shown = None if shown is None else shown._replace(latent=np.asarray(shown.latent, np.float32).copy())
        self.caption = "" if shown is None else shown.caption
        self.refresh()

    def _condition_changed(self) -> None:
        if self.shown is not None:
            self.shown = self.shown.under(self.context.generator, self.context.condition)
        self.refresh()

    def set_offset(self, offset: np.ndarray) -> None:
        self.offset = np.asarray(offset, dtype=np.float32)
        self.refresh()

    def refresh(self) -> None:
        latent = self.latent()
        if latent is None:
            return
        started = time.perf_counter()
        labels = self.labels()
        self.asset = self.context.decode(latent, labels)[0]  # kept for the audio transport
        self.view.set_pixels(self.context.domain.render(self.asset))
        if self.transport is not None:
            self.transport.asset_changed(self.asset)
        self.last_ms = (time.perf_counter() - started) * 1000
        moved = " + directions" if np.any(self.offset) else ""
        self.view.set_caption(f"{self.caption}{moved}")
        space = self.context.domain.conditions
        if space.groups:
            self.labels_line.setText(f"Shown under: {labels_text(space, labels)}")
            self.labels_line.setToolTip(f"The labels the preview decodes under\n{labels_tooltip(space, labels)}")
        self.rendered.emit(self.last_ms)
