"""The sampling controls of a tab: Sample, temperature, seed, grid size and the spread of
"more like this", plus one control per decoding option the domain offers (music: how notes are
drawn), each built from its `DecodingOption`. They hold values and ask for work through
signals; they decode nothing."""

from __future__ import annotations

import secrets
from typing import Any, Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
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

from generators.core.domain import DecodingOption

MAX_SEED = 2**31 - 1
TEMPERATURE_STEPS = 20  # slider units per unit of temperature: steps of 0.05
MAX_TEMPERATURE = 2.0
OPTION_DECIMALS = 2  # a decoding option that is a number: its box's decimals
OPTION_MAX = 1e6  # ...and its top where the option sets none


def option_label(option: DecodingOption) -> str:
    return option.name.replace("_", " ").capitalize()


def decoding_control(option: DecodingOption, value: Any) -> QWidget:
    """A control for one decoding option, at `value`: a check box for a yes/no option, a combo
    box for a fixed set of choices, a decimal box for a number (within `above`, `at_most`)."""
    tip = f"{option.help[:1].upper()}{option.help[1:]} ({option.flag} on the command line)"
    if isinstance(option.default, bool):
        box = QCheckBox(option_label(option))
        box.setChecked(bool(value))
    elif option.choices:
        box = QComboBox()
        for choice in option.choices:
            box.addItem(str(choice), choice)
        box.setCurrentIndex(box.findData(value))
    else:
        box = QDoubleSpinBox()
        box.setDecimals(OPTION_DECIMALS)
        step = 10.0**-OPTION_DECIMALS
        low = -OPTION_MAX if option.above is None else option.above + step  # `above` itself is not allowed
        box.setRange(low, OPTION_MAX if option.at_most is None else option.at_most)
        box.setSingleStep(0.1)
        box.setValue(float(value))
    box.setToolTip(tip)
    return box


def control_value(box: QWidget) -> Any:
    if isinstance(box, QCheckBox):
        return box.isChecked()
    if isinstance(box, QComboBox):
        return box.currentData()
    return box.value()


class SamplingControls(QWidget):
    sample_requested = Signal()  # a new grid (a new seed if "new seed each time" is on)
    resample_requested = Signal()  # the same seeds again (temperature or grid size changed)
    decoding_changed = Signal(str, object)  # a decoding option's name and its new value

    def __init__(
        self,
        decoding_options: Sequence[DecodingOption] = (),
        decoding: Mapping[str, Any] | None = None,
        parent: QWidget | None = None,
    ):
        """`decoding_options` are the domain's (none for levels and images), shown at the
        values in `decoding` (their defaults where it has none)."""
        super().__init__(parent)
        self.sample_button = QPushButton("Sample")
        self.sample_button.setToolTip("Sample a new grid (Ctrl+R or F5)")
        self.sample_button.clicked.connect(self.sample_requested)

        self.temperature_slider = QSlider(Qt.Orientation.Horizontal)
        self.temperature_slider.setRange(0, int(MAX_TEMPERATURE * TEMPERATURE_STEPS))
        self.temperature_slider.setValue(TEMPERATURE_STEPS)
        self.temperature_slider.setPageStep(4)
        self.temperature_slider.setToolTip(
            "Temperature: the spread of the latents drawn (0 to 2; 1 is the prior). Release to resample the same seeds"
        )
        self.temperature_label = QLabel("0.00")
        self.temperature_label.setFixedSize(
            self.temperature_label.fontMetrics().horizontalAdvance("0.00") + 6,
            self.temperature_label.sizeHint().height(),
        )
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
        self.decoding: dict[str, QWidget] = {}
        for option in decoding_options:
            box = decoding_control(option, (decoding or {}).get(option.name, option.default))
            self.decoding[option.name] = box
            if isinstance(box, QCheckBox):  # the box carries its own label
                form.addRow("", box)
                signal = box.toggled
            else:
                form.addRow(f"{option_label(option)}:", box)
                form.labelForField(box).setToolTip(box.toolTip())
                signal = box.currentIndexChanged if isinstance(box, QComboBox) else box.valueChanged
            signal.connect(lambda *_, name=option.name: self._decoding_edited(name))
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

    def _decoding_edited(self, name: str) -> None:
        self.decoding_changed.emit(name, control_value(self.decoding[name]))

    def decoding_values(self) -> dict[str, Any]:
        """The value each decoding control shows, by option name."""
        return {name: control_value(box) for name, box in self.decoding.items()}

    def temperature(self) -> float:
        return self.temperature_slider.value() / TEMPERATURE_STEPS

    def set_temperature(self, value: float) -> None:
        self.temperature_slider.blockSignals(True)
        self.temperature_slider.setValue(round(value * TEMPERATURE_STEPS))
        self.temperature_slider.blockSignals(False)
        self.temperature_label.setText(f"{self.temperature():.2f}")

    def set_seed(self, value: int) -> None:
        self.seed.blockSignals(True)
        self.seed.setValue(value)
        self.seed.blockSignals(False)

    def set_spread(self, value: float) -> None:
        self.spread.blockSignals(True)
        self.spread.setValue(value)
        self.spread.blockSignals(False)

    def set_decoding_values(self, values: Mapping[str, Any]) -> None:
        """Show `values` in the decoding controls (names without a control are left out), asking
        for no work: what shows a restored grid must not decode it again."""
        for name, value in values.items():
            box = self.decoding.get(name)
            if box is None:
                continue
            box.blockSignals(True)
            if isinstance(box, QCheckBox):
                box.setChecked(bool(value))
            elif isinstance(box, QComboBox):
                box.setCurrentIndex(box.findData(value))
            else:
                box.setValue(float(value))
            box.blockSignals(False)

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
