"""Controls for a model's conditions, built from its ConditionSpace: a checkbox per label
of a multi-label group, a combo box for an exclusive group. Emits the chosen labels."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from generators.core.conditions import ConditionSpace


def pretty(label: str) -> str:
    """`question-block` -> `question block`, for display only."""
    return label.replace("-", " ")


class ConditionsPanel(QWidget):
    changed = Signal(tuple)  # the labels now chosen

    def __init__(self, space: ConditionSpace, parent: QWidget | None = None):
        super().__init__(parent)
        self.space = space
        self.checks: dict[str, QCheckBox] = {}
        self.combos: dict[str, QComboBox] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if not space.groups:
            layout.addWidget(QLabel("This model takes no conditions."))
        for group in space.groups:
            if group.exclusive:
                combo = QComboBox()
                for label in group.labels:
                    combo.addItem(pretty(label), label)
                combo.setToolTip(f"Decode as this {group.name}; the grid keeps its latents")
                combo.currentIndexChanged.connect(self._emit)
                form = QFormLayout()
                form.addRow(f"{group.name.capitalize()}:", combo)
                layout.addLayout(form)
                self.combos[group.name] = combo
            else:
                title = QLabel(f"{group.name.capitalize()}:")
                layout.addWidget(title)
                for label in group.labels:
                    box = QCheckBox(pretty(label))
                    box.setToolTip(
                        f"Ask for items with {pretty(label)} (checked) or without (unchecked); "
                        "the grid keeps its latents"
                    )
                    box.toggled.connect(self._emit)
                    layout.addWidget(box)
                    self.checks[label] = box

    def labels(self) -> tuple[str, ...]:
        chosen = [label for label, box in self.checks.items() if box.isChecked()]
        chosen += [combo.currentData() for combo in self.combos.values()]
        return tuple(self.space.decode(self.space.encode(chosen)))  # in the space's order

    def set_labels(self, labels: Sequence[str]) -> None:
        """Show `labels` without emitting `changed` (used by undo and on start)."""
        wanted = set(labels)
        for widget in (*self.checks.values(), *self.combos.values()):
            widget.blockSignals(True)
        try:
            for label, box in self.checks.items():
                box.setChecked(label in wanted)
            for group in self.space.groups:
                if group.exclusive:
                    chosen = next((label for label in group.labels if label in wanted), group.labels[0])
                    self.combos[group.name].setCurrentIndex(group.labels.index(chosen))
        finally:
            for widget in (*self.checks.values(), *self.combos.values()):
                widget.blockSignals(False)

    def _emit(self, *args) -> None:
        self.changed.emit(self.labels())
