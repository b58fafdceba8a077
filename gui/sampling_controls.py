"""The sampling controls of a tab: Sample, temperature, seed, grid size and the spread of
"more like this". They hold values and ask for work through signals; they decode nothing."""
from __future__ import annotations

import secrets

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

MAX_SEED = 2**31 - 1
TEMPERATURE_STEPS = 20  # slider units per unit of temperature: steps of 0.05
MAX_TEMPERATURE = 2.0


class SamplingControls(QWidget):
    sample_requested = Signal()  # a new grid (a new seed if "new seed each time" is on)
    resample_requested = Signal()  # the same seeds again (temperature or grid size changed)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.sample_button = QPushButton("Sample")
        self.sample_button.setToolTip("Sample a new grid (Ctrl+R or F5)")
        self.sample_button.clicked.connect(self.sample_requested)

        self.temperature_slider = QSlider(Qt.Orientation.Horizontal)
        self.temperature_slider.setRange(0, int(MAX_TEMPERATURE * TEMPERATURE_STEPS))
        self.temperature_slider.setValue(TEMPERATURE_STEPS)
        self.temperature_slider.setPageStep(4)
        self.temperature_slider.setToolTip("Temperature: the spread of the latents drawn (0 to 2; 1 is the prior). Release to resample the same seeds")
        self.temperature_label = QLabel("0.00")
        self.temperature_label.setFixedSize(self.temperature_label.fontMetrics().horizontalAdvance("0.00") + 6, self.temperature_label.sizeHint().height())
        self.temperature_slider.valueChanged.connect(self._temperature_moved)
        self.temperature_slider.sliderReleased.connect(self.resample_requested)
        self._temperature_moved(self.temperature_slider.value())

        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip("Seed of the first tile; tile i uses seed + i, as `main.py sample --seed` does")
        self.random_seed = QCheckBox("New seed each time")
        self.random_seed.setChecked(True)
        self.random_seed.setToolTip("Pick a new random seed on every Sample; uncheck to keep the seed above")

        self.rows, self.cols = QSpinBox(), QSpinBox()
        for box, what in ((self.rows, "rows"), (self.cols, "columns")):
            box.setRange(1, 8)
            box.setValue(4)
            box.setToolTip(f"Grid {what} (1 to 8); changing it resamples the same seeds")
            box.valueChanged.connect(self.resample_requested)

        self.spread = QDoubleSpinBox()
        self.spread.setRange(0.0, 1.0)
        self.spread.setSingleStep(0.05)
        self.spread.setValue(0.3)
        self.spread.setToolTip('How far "More like this" strays from the item: z + spread × N(0, I)')

        temperature = QHBoxLayout()
        temperature.addWidget(self.temperature_slider, 1)
        temperature.addWidget(self.temperature_label)
        size = QHBoxLayout()
        size.addWidget(self.rows)
        size.addWidget(QLabel("×"))
        size.addWidget(self.cols)
        size.addStretch(1)
        form = QFormLayout()
        form.addRow("Temperature:", temperature)
        form.addRow("Seed:", self.seed)
        form.addRow("", self.random_seed)
        form.addRow("Grid:", size)
        form.addRow("Spread:", self.spread)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sample_button)
        layout.addLayout(form)

    def _temperature_moved(self, value: int) -> None:
        self.temperature_label.setText(f"{value / TEMPERATURE_STEPS:.2f}")
        if not self.temperature_slider.isSliderDown() and self.isVisible():
            self.resample_requested.emit()  # keyboard or a click on the groove

    def temperature(self) -> float:
        return self.temperature_slider.value() / TEMPERATURE_STEPS

    def set_temperature(self, value: float) -> None:
        self.temperature_slider.blockSignals(True)
        self.temperature_slider.setValue(round(value * TEMPERATURE_STEPS))
        self.temperature_slider.blockSignals(False)
        self.temperature_label.setText(f"{self.temperature():.2f}")

    def take_seed(self) -> int:
        """The seed for a new grid: a fresh random one when asked for, shown in the box."""
        if self.random_seed.isChecked():
            self.seed.setValue(secrets.randbelow(MAX_SEED - 64))  # room for seed + i
        return self.seed.value()

    def shape(self) -> tuple[int, int]:
        return self.rows.value(), self.cols.value()

    def set_shape(self, rows: int, cols: int) -> None:
        for box, value in ((self.rows, rows), (self.cols, cols)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
