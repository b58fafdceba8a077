"""The large preview: one latent (a grid item, an interpolation blend...) plus the offset of
the direction sliders, decoded on the UI thread (one latent is fast) under the tab's labels."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .audio_transport import AudioTransport
from .context import ViewContext
from .preview import ZoomView


class PreviewPanel(QWidget):
    rendered = Signal(float)  # milliseconds of the last decode + render + pixmap (the paint follows)

    def __init__(self, context: ViewContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.base: np.ndarray | None = None
        self.offset = np.zeros(context.generator.latent_size, dtype=np.float32)
        self.caption = ""
        self.asset = None  # the decoded asset shown now (what Play plays)
        self.view = ZoomView(self)
        self.view.setMinimumHeight(160)
        hint = QLabel(
            "Click a tile, scrub between two endpoints, or move a direction slider. Wheel zooms, drag scrolls."
        )
        hint.setWordWrap(True)
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
            self.act_play.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.act_play.setEnabled(self.transport.play_button.isEnabled())
            self.act_play.triggered.connect(self.transport.toggle)
            self.addAction(self.act_play)
        layout.addWidget(hint)
        context.labels_changed.connect(self.refresh)

    def latent(self) -> np.ndarray | None:
        """The latent shown now: base plus the direction offset."""
        return None if self.base is None else (self.base + self.offset).astype(np.float32)

    def set_base(self, latent: np.ndarray | None, caption: str = "") -> None:
        self.base = None if latent is None else np.asarray(latent, dtype=np.float32).copy()
        self.caption = caption
        self.refresh()

    def set_offset(self, offset: np.ndarray) -> None:
        self.offset = np.asarray(offset, dtype=np.float32)
        self.refresh()

    def refresh(self) -> None:
        latent = self.latent()
        if latent is None:
            return
        started = time.perf_counter()
        self.asset = self.context.decode(latent)[0]  # kept for the audio transport
        self.view.set_pixels(self.context.domain.render(self.asset))
        if self.transport is not None:
            self.transport.asset_changed(self.asset)
        self.last_ms = (time.perf_counter() - started) * 1000
        moved = " + directions" if np.any(self.offset) else ""
        self.view.set_caption(f"{self.caption}{moved}")
        self.rendered.emit(self.last_ms)
