"""Controls for what a model's items must show, built from its ConditionSpace: a three-state
check box per label of a multi-label group (required, excluded, or any), a combo box for an
exclusive group (one label, or any). Emits the `Condition` chosen.

"Any" is the default everywhere: those labels are drawn per item, seeded by the item's seed,
from the label sets of the training data (`Generator.labels_for_seed`), so a grid with nothing
asked looks like the data. A model whose card has no label statistics (from before they were
kept) leaves an "any" label of a multi-label group off, and an "any" group at its first label.
"""

from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from generators.core.conditions import Condition, ConditionSpace

ANY, REQUIRED, EXCLUDED = Qt.CheckState.PartiallyChecked, Qt.CheckState.Checked, Qt.CheckState.Unchecked
STATE_TEXT = {ANY: "any", REQUIRED: "required", EXCLUDED: "excluded"}
STATE_STYLE = {ANY: "color: palette(mid);", REQUIRED: "font-weight: bold;", EXCLUDED: "text-decoration: line-through;"}


def pretty(label: str) -> str:
    """`question-block` -> `question block`, for display only."""
    return label.replace("-", " ")


def labels_text(space: ConditionSpace, labels: Iterable[str]) -> str:
    """A compact line for an item's label set: the labels on in each multi-label group, then the
    label of each exclusive group that has a choice (`enemy, pipe · super mario bros`)."""
    on = set(labels)
    parts = []
    for group in space.groups:
        chosen = [group.title(label) for label in group.labels if label in on]
        if not group.exclusive:
            # A group of one label reads "no pipe"; of several ("contains": enemy, pipe...), "none"
            # (the tooltip names the group): "no contains" read as a typo.
            empty = f"no {group.title(group.labels[0])}" if len(group.labels) == 1 else "none"
            parts.append(", ".join(chosen) or empty)
        elif len(group.labels) > 1 and chosen:
            parts.append(chosen[0])
    return " · ".join(parts)


def labels_tooltip(space: ConditionSpace, labels: Iterable[str]) -> str:
    """Every group with the labels an item has in it, one line each."""
    on = set(labels)
    return "\n".join(
        f"{group.name}: {', '.join(group.title(lb) for lb in group.labels if lb in on) or 'none'}"
        for group in space.groups
    )


class ConditionsPanel(QWidget):
    changed = Signal(object)  # the Condition now chosen

    def __init__(self, space: ConditionSpace, drawn: bool = True, parent: QWidget | None = None):
        """`drawn`: whether "any" labels are drawn from the training data's label sets (the
        model's card has them), else left at their defaults."""
        super().__init__(parent)
        self.space = space
        self.checks: dict[str, QCheckBox] = {}
        self.states: dict[str, QLabel] = {}  # each check box's state in words
        self.combos: dict[str, QComboBox] = {}
        any_means = (
            "drawn for each item as in the training data"
            if drawn
            else "left off (this model's card has no label statistics)"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if not space.groups:
            layout.addWidget(QLabel("This model takes no conditions."))
        for group in space.groups:
            if group.exclusive:
                combo = QComboBox()
                combo.addItem("any", None)
                for label in group.labels:
                    combo.addItem(group.title(label), label)
                group_any = "drawn for each item as in the training data" if drawn else f"the first {group.name}"
                combo.setToolTip(
                    f'Decode every item as this {group.name}, or "any": each item\'s {group.name} is {group_any}. '
                    "The grid keeps its latents"
                )
                combo.currentIndexChanged.connect(self._emit)
                form = QFormLayout()
                form.addRow(f"{group.name.capitalize()}:", combo)
                layout.addLayout(form)
                self.combos[group.name] = combo
                continue
            layout.addWidget(QLabel(f"{group.name.capitalize()}:"))
            grid = QGridLayout()
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setVerticalSpacing(0)
            for row, label in enumerate(group.labels):
                box = QCheckBox(group.title(label))
                box.setTristate(True)
                box.setCheckState(ANY)
                box.setToolTip(
                    f"{group.title(label).capitalize()}: click to go from any to required to excluded and back.\n"
                    f"  ▣ any: {any_means}\n"
                    f"  ☑ required: every item has {group.title(label)}\n"
                    f"  ☐ excluded: no item has {group.title(label)}\n"
                    "The grid keeps its latents"
                )
                state = QLabel()
                state.setToolTip(box.toolTip())
                box.stateChanged.connect(lambda _=0, lb=label: self._box_changed(lb))
                grid.addWidget(box, row, 0)
                grid.addWidget(state, row, 1)
                self.checks[label], self.states[label] = box, state
                self._show_state(label)
            grid.setColumnStretch(2, 1)
            layout.addLayout(grid)
            hint = QLabel(f"▣ any ({'drawn as in the data' if drawn else 'off'}) → ☑ required → ☐ excluded")
            hint.setWordWrap(True)
            font = hint.font()
            font.setPointSizeF(font.pointSizeF() * 0.9)
            hint.setFont(font)
            hint.setToolTip("Each click moves a label to its next state")
            layout.addWidget(hint)
        if space.groups:
            reset = QPushButton("All any")
            reset.setToolTip("Ask nothing: every label and group back to any")
            reset.clicked.connect(lambda: self.set_condition(Condition(), emit=True))
            row = QHBoxLayout()
            row.addWidget(reset)
            row.addStretch(1)
            layout.addLayout(row)
            self.reset_button = reset

    def condition(self) -> Condition:
        """What the controls ask now, its labels in the space's order."""
        required = {label for label, box in self.checks.items() if box.checkState() == REQUIRED}
        required |= {combo.currentData() for combo in self.combos.values() if combo.currentData() is not None}
        excluded = {label for label, box in self.checks.items() if box.checkState() == EXCLUDED}
        order = self.space.labels
        return Condition(tuple(lb for lb in order if lb in required), tuple(lb for lb in order if lb in excluded))

    def set_condition(self, condition: Condition, emit: bool = False) -> None:
        """Show `condition` (without emitting `changed` unless asked: used by undo and on start)."""
        widgets = (*self.checks.values(), *self.combos.values())
        for widget in widgets:
            widget.blockSignals(True)
        try:
            for label, box in self.checks.items():
                state = REQUIRED if label in condition.required else EXCLUDED if label in condition.excluded else ANY
                box.setCheckState(state)
                self._show_state(label)
            for group in self.space.groups:
                if group.exclusive:
                    chosen = next((label for label in group.labels if label in condition.required), None)
                    combo = self.combos[group.name]
                    combo.setCurrentIndex(0 if chosen is None else combo.findData(chosen))  # 0: any
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        if emit:
            self._emit()

    def _show_state(self, label: str) -> None:
        state = self.checks[label].checkState()
        self.states[label].setText(STATE_TEXT[state])
        self.states[label].setStyleSheet(STATE_STYLE[state])

    def _box_changed(self, label: str) -> None:
        self._show_state(label)
        self._emit()

    def _emit(self, *args) -> None:
        self.changed.emit(self.condition())
