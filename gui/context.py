"""What the panels of one domain tab share: the generator, its checkpoint, the condition the
tab asks (each label required, excluded or any), and a job runner for batch work. Panels read
it and listen to it."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QPixmap

from generators.core.conditions import Condition
from generators.core.generator import Generator

from .items import Shown, labels_under
from .qimage import to_pixmap
from .workers import JobRunner


def in_order(generator: Generator, condition: Condition) -> Condition:
    """The condition checked (ConditionError if it cannot be met), its labels in the model's order,
    so that equal conditions compare and hash equal."""
    condition = generator.check_condition(condition)
    order = generator.domain.conditions.labels
    return Condition(
        tuple(label for label in order if label in condition.required),
        tuple(label for label in order if label in condition.excluded),
    )


class ViewContext(QObject):
    condition_changed = Signal()
    status = Signal(str)  # a short message for the status bar

    def __init__(self, generator: Generator, checkpoint: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.generator = generator
        self.checkpoint = str(checkpoint)
        self.runner = JobRunner(self)
        self._condition = Condition()

    @property
    def domain(self):
        return self.generator.domain

    @property
    def condition(self) -> Condition:
        """What this tab asks of every item's labels now (nothing asked: `Condition()`)."""
        return self._condition

    def set_condition(self, condition: Condition) -> None:
        condition = in_order(self.generator, condition)
        if condition != self._condition:
            self._condition = condition
            self.condition_changed.emit()

    def labels_under(self, seed: int | None = None, own: Sequence[str] | None = None) -> tuple[str, ...]:
        """The labels an item of `seed` (or, without one, with labels `own`) takes under the
        condition now (`items.labels_under`)."""
        return labels_under(self.generator, self._condition, seed, own)

    def shown(self, latent: np.ndarray, caption: str, seed: int | None = None, own: Sequence[str] | None = None):
        """A latent to show, with its labels under the condition now."""
        labels = self.labels_under(seed, own)
        own = None if own is None else tuple(own)
        return Shown(np.asarray(latent, dtype=np.float32).copy(), caption, labels, seed, own)

    def decode(self, latents: np.ndarray, labels: Sequence[str]) -> list:
        """Assets of (N, D) latents under one label set (on this thread: one or two latents
        only; batches go through the runner)."""
        latents = np.asarray(latents, dtype=np.float32).reshape(-1, self.generator.latent_size)
        return self.generator.decode(latents, list(labels))

    def render(self, latents: np.ndarray, labels: Sequence[str]) -> list[np.ndarray]:
        """Decode (N, D) latents under one label set and render them."""
        return [self.domain.render(asset) for asset in self.decode(latents, labels)]

    def pixmap(self, latent: np.ndarray, labels: Sequence[str]) -> QPixmap:
        return to_pixmap(self.render(latent, labels)[0])
