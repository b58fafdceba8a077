"""What the panels of one domain tab share: the generator, its checkpoint, the current
condition labels, and a job runner for batch work. Panels read it and listen to it."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QPixmap

from generators.core.generator import Generator

from .qimage import to_pixmap
from .workers import JobRunner


class ViewContext(QObject):
    labels_changed = Signal()
    status = Signal(str)  # a short message for the status bar

    def __init__(self, generator: Generator, checkpoint: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.generator = generator
        self.checkpoint = str(checkpoint)
        self.runner = JobRunner(self)
        self._labels = tuple(generator.condition_labels(None))

    @property
    def domain(self):
        return self.generator.domain

    @property
    def labels(self) -> tuple[str, ...]:
        """The condition every decode of this tab uses now (defaults filled in)."""
        return self._labels

    def set_labels(self, labels: Sequence[str]) -> None:
        labels = tuple(self.generator.condition_labels(labels))
        if labels != self._labels:
            self._labels = labels
            self.labels_changed.emit()

    def decode(self, latents: np.ndarray) -> list:
        """Assets of (N, D) latents under the current labels (on this thread: one or two
        latents only; batches go through the runner)."""
        latents = np.asarray(latents, dtype=np.float32).reshape(-1, self.generator.latent_size)
        return self.generator.decode(latents, list(self._labels))

    def render(self, latents: np.ndarray) -> list[np.ndarray]:
        """Decode (N, D) latents under the current labels and render them."""
        return [self.domain.render(asset) for asset in self.decode(latents)]

    def pixmap(self, latent: np.ndarray) -> QPixmap:
        return to_pixmap(self.render(latent)[0])
