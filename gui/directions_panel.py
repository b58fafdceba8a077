"""Direction sliders: move the preview's latent along the model's named directions.

Each slider runs from -3 to 3 (in steps of 0.05) and scales one direction vector from
`Generator.directions()`: attribute directions ("more pipe") and principal axes (pc1...).
The panel sums them into one offset (numpy (D,)), emitted live while dragging; releasing a
slider (or a keyboard change) commits the values, which the owner records for undo.
"""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from .conditions_panel import pretty

SCALE = 100  # slider units per unit of direction
RANGE = 3.0
TITLE_WIDTH = 110  # pixels; longer names wrap


def ordered_names(directions: dict[str, np.ndarray], labels: list[str]) -> list[str]:
    """Attribute directions in the condition space's order, then principal axes pc1, pc2..."""
    attributes = [label for label in labels if label in directions]
    principal = sorted((n for n in directions if re.fullmatch(r"pc\d+", n)), key=lambda n: int(n[2:]))
    others = sorted(n for n in directions if n not in attributes and n not in principal)
    return attributes + others + principal


def display_name(name: str) -> str:
    match = re.fullmatch(r"pc(\d+)", name)
    return f"axis {match.group(1)}" if match else pretty(name)


class DirectionsPanel(QWidget):
    offset_changed = Signal(object)  # numpy (D,) sum of value * direction
    committed = Signal(dict, dict)  # values before, values after

    def __init__(
        self, directions: dict[str, np.ndarray], labels: list[str], latent_size: int, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.names = ordered_names(directions, labels)
        self.vectors = {name: np.asarray(directions[name], dtype=np.float32) for name in self.names}
        self.latent_size = latent_size
        self.sliders: dict[str, QSlider] = {}
        self.value_labels: dict[str, QLabel] = {}
        self._committed = self.values()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        if not self.names:
            layout.addWidget(QLabel("This model has no stored directions."))
        for row, name in enumerate(self.names):
            title = QLabel(display_name(name))
            title.setWordWrap(True)  # a long name takes two lines, never an ellipsis
            title.setFixedWidth(min(title.fontMetrics().horizontalAdvance(title.text()) + 2, TITLE_WIDTH))
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(int(-RANGE * SCALE), int(RANGE * SCALE))
            slider.setSingleStep(5)
            slider.setPageStep(50)
            slider.setToolTip(f"{display_name(name)}: {self._tooltip(name)}")
            title.setToolTip(slider.toolTip())
            value = QLabel("+0.00")
            value.setFixedSize(
                value.fontMetrics().horizontalAdvance("+0.00") + 6, value.sizeHint().height()
            )  # no relayout per move
            slider.valueChanged.connect(lambda v, n=name: self._moved(n, v))
            slider.sliderReleased.connect(self._commit)
            grid.addWidget(title, row, 0)
            grid.addWidget(slider, row, 1)
            grid.addWidget(value, row, 2)
            self.sliders[name], self.value_labels[name] = slider, value
        reset = QPushButton("Reset directions")
        reset.setToolTip("Put every direction slider back to 0")
        reset.clicked.connect(self.reset)
        reset.setEnabled(bool(self.names))
        layout.addWidget(reset)

    @staticmethod
    def _tooltip(name: str) -> str:
        if re.fullmatch(r"pc\d+", name):
            return f"Principal axis {name[2:]} of the training data, in standard deviations (-3 to 3)"
        return f"Right: more like items with {pretty(name)}; left: less (-3 to 3 times the difference of the means)"

    def values(self) -> dict[str, float]:
        return {name: slider.value() / SCALE for name, slider in self.sliders.items()}

    def offset(self) -> np.ndarray:
        total = np.zeros(self.latent_size, dtype=np.float32)
        for name, value in self.values().items():
            if value:
                total += np.float32(value) * self.vectors[name]
        return total

    def active(self) -> dict[str, float]:
        """The directions whose slider is off 0, with their values, in slider order."""
        return {name: value for name, value in self.values().items() if value}

    def dragging(self) -> bool:
        """Whether the user holds a slider down now (a scrub in progress)."""
        return any(slider.isSliderDown() for slider in self.sliders.values())

    def active_text(self) -> str:
        """The active directions as the preview names them ("pipe +3.00, axis 1 -0.50"); "" when none."""
        return ", ".join(f"{display_name(name)} {value:+.2f}" for name, value in self.active().items())

    def set_values(self, values: dict[str, float]) -> None:
        """Show `values` (missing names are 0), emit the new offset, and commit without undo."""
        for name, slider in self.sliders.items():
            slider.blockSignals(True)
            slider.setValue(round(values.get(name, 0.0) * SCALE))
            slider.blockSignals(False)
            self.value_labels[name].setText(f"{slider.value() / SCALE:+.2f}")
        self._committed = self.values()
        self.offset_changed.emit(self.offset())

    def reset(self) -> None:
        before = self.values()
        self.set_values({})
        if any(before.values()):
            self.committed.emit(before, self.values())

    def _moved(self, name: str, value: int) -> None:
        self.value_labels[name].setText(f"{value / SCALE:+.2f}")
        self.offset_changed.emit(self.offset())
        if not self.sliders[name].isSliderDown():  # keyboard or click on the groove
            self._commit()

    def _commit(self) -> None:
        after = self.values()
        if after != self._committed:
            before, self._committed = self._committed, after
            self.committed.emit(before, after)
