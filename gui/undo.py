"""Undo/redo of latent edits: the grid (resample, condition change, "more like this") and
the direction sliders. Each command holds the states before and after, so undo and redo
only show a state again; nothing is decoded. Grid states on the stack keep their assets but
not their rendered previews (a 8×8 grid of levels is ~19 MB of pixels), which are drawn
again from the assets when a state is shown."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from PySide6.QtGui import QUndoCommand

from generators.core.conditions import Condition

from .items import Item


@dataclass(frozen=True)
class GridState:
    """What the grid shows: its items (each with the labels it was decoded under), the condition
    the tab asked for them, and its shape."""

    items: tuple[Item, ...]
    condition: Condition
    rows: int
    cols: int


class StateCommand(QUndoCommand):
    """Switch between two states with one `apply` function (the first redo applies `after`)."""

    def __init__(self, text: str, apply: Callable[[object], None], before, after):
        super().__init__(text)
        self.apply, self.before, self.after = apply, before, after

    def redo(self) -> None:
        self.apply(self.after)

    def undo(self) -> None:
        self.apply(self.before)


def without_pixels(state: GridState) -> GridState:
    return replace(state, items=tuple(replace(item, pixels=None) for item in state.items))


class GridCommand(StateCommand):
    """A grid change; the first redo shows the full new state, later ones the stored light one."""

    def __init__(self, text: str, apply: Callable[[GridState], None], before: GridState, after: GridState):
        super().__init__(text, apply, without_pixels(before), without_pixels(after))
        self._first: GridState | None = after

    def redo(self) -> None:
        state, self._first = (self._first or self.after), None
        self.apply(state)
