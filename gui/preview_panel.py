"""The large preview: one latent (a grid item, an interpolation blend...) plus the offset of
the direction sliders, decoded on the UI thread (one latent is fast) under the tab's labels."""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

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
        self.view = ZoomView(self)
        self.view.setMinimumHeight(160)
        hint = QLabel("Click a tile, scrub between two endpoints, or move a direction slider. Wheel zooms, drag scrolls.")
        hint.setWordWrap(True)
        self.last_ms = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
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
        self.view.set_pixels(self.context.render(latent)[0])
        self.last_ms = (time.perf_counter() - started) * 1000
        moved = " + directions" if np.any(self.offset) else ""
        self.view.set_caption(f"{self.caption}{moved}")
        self.rendered.emit(self.last_ms)
