"""Undo/redo of latent edits: the grid (resample, condition change, "more like this") and
the direction sliders. Each command holds the states before and after, so undo and redo
only show a state again; nothing is decoded. A grid state carries every control that went
into it (seed, temperature, spread, grid size, condition, decoding options), so that what the
controls show after an undo is what made the grid shown. Grid states on the stack keep their assets but
not their rendered previews (a 8×8 grid of levels is ~19 MB of pixels), which are drawn
again from the assets when a state is shown."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from PySide6.QtGui import QUndoCommand

from generators.core.conditions import Condition

from .items import Item


@dataclass(frozen=True)
class GridState:
    """What the grid shows: its items (each with the labels it was decoded under), the condition
    the tab asked for them, its shape, and the sampling controls it was made with (None: a state
    made before they were recorded, which leaves the controls as they are)."""

    items: tuple[Item, ...]
    condition: Condition
    rows: int
    cols: int
    seed: int | None = None  # the seed box: tile i has seed + i ("more like this": its noise seed)
    temperature: float | None = None
    spread: float | None = None  # of "more like this"
    decoding: Mapping[str, Any] = field(default_factory=dict)  # the domain's decoding options, by name


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
    """A grid change; the first redo shows the full new state, later ones the stored light one.
    `show_new`, where given, shows that first one instead of `apply`: a grid just made must leave
    the controls as the user has set them since (a seed typed for the next Sample), while an undo
    or a redo puts them back to those that made the grid."""

    def __init__(
        self,
        text: str,
        apply: Callable[[GridState], None],
        before: GridState,
        after: GridState,
        show_new: Callable[[GridState], None] | None = None,
    ):
        super().__init__(text, apply, without_pixels(before), without_pixels(after))
        self._first: GridState | None = after
        self._show_new = show_new or apply

    def redo(self) -> None:
        if self._first is not None:
            state, self._first = self._first, None
            self._show_new(state)
        else:
            self.apply(self.after)
