"""One tab: the views of one generator, whatever its domain (levels, images, music).

It wires the panels together: sampling controls and conditions feed the grid (decoded and
scored in a worker), tiles feed the preview, the interpolation endpoints, the four-corner
palette and the favourites; direction sliders, the palette and the latent map move the
preview. The controls, the grid and the preview stay in step: a grid state (and its undo)
carries the controls that made it, the preview follows the grid when it shows a tile of it, and
the active directions are named beside it. Everything domain-specific goes through the Generator
facade and its Domain (render, read, read_formats, write_formats, conditions, decoding_options,
stitch_support, makes_pieces); nothing here knows what a level is.
"""

from __future__ import annotations

import functools
import math
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QLabel,
    QMenu,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from generators.core.conditions import Condition
from generators.core.errors import UserError
from generators.core.generator import Generator

from .conditions_panel import ConditionsPanel, labels_text, labels_tooltip
from .context import ViewContext
from .directions_panel import DirectionsPanel
from .export_dialog import ExportDialog, start_export
from .favourites_panel import FavouritesPanel
from .favourites_store import FavouritesStore, record_of
from .flow_layout import VerticalScroll
from .interpolation_panel import InterpolationPanel
from .items import Item, Shown, items_near, redecode_items, sample_items, shown_of
from .latent_map import LatentMapPanel
from .long_level_panel import LongLevelPanel
from .long_piece_panel import LongPiecePanel
from .messages import busy_cursor, show_error
from .palette import PalettePanel
from .playable_screen_panel import PlayableScreenPanel, supports_playable_screens
from .preview import EnlargeDialog
from .preview_panel import PreviewPanel
from .qimage import to_pixmap
from .sample_grid import SampleGrid
from .sampling_controls import MAX_SEED, MAX_TEMPERATURE, SamplingControls
from .storage import AppStorage
from .typicality import TypicalityReference, badge_text, badge_tooltip, with_scores
from .undo import GridCommand, GridState, StateCommand
from .workers import Job

MakeItems = Callable[[Condition], list[Item]]  # condition -> items; runs in a worker


def group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.addWidget(widget)
    return box


def open_filter(domain_name: str, formats: Sequence[str]) -> str:
    """A file dialog filter for the formats a domain reads: "Level files (*.txt)", "Music files"."""
    kind = domain_name[:-1] if domain_name.endswith("s") else domain_name  # levels -> level
    return f"{kind.capitalize()} files ({' '.join('*.' + ext for ext in formats)})"


def saved_number(
    settings: QSettings, key: str, default, least, most, whole: bool = False, refused: list[str] | None = None
):
    """A number saved under `key`, or `default` when it is missing, not a number, not finite or
    outside least..most (a whole number when `whole`). A saved value that is refused is named in
    `refused` (as group/key), so the window can tell the user once."""
    if not settings.contains(key):
        return default
    raw = settings.value(key, default)
    try:
        value = float(raw)
        good = math.isfinite(value) and least <= value <= most and (not whole or value == int(value))
    except (TypeError, ValueError, OverflowError):
        good = False
    if not good:
        if refused is not None:
            refused.append(f"{settings.group()}/{key}".lstrip("/"))
        return default
    return int(value) if whole else value


class DomainView(QWidget):
    """Sample grid, controls, conditions, directions, preview and interpolation of one model."""

    def __init__(
        self,
        generator: Generator,
        checkpoint: str | Path,
        parent: QWidget | None = None,
        storage: AppStorage | None = None,
        favourites: FavouritesStore | None = None,
    ):
        super().__init__(parent)
        storage = storage or AppStorage.default()
        self.context = ViewContext(generator, checkpoint, self)
        self.generator = generator
        self.items: list[Item] = []
        self.grid_condition = self.context.condition  # the condition self.items were made under
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(100)
        self._grid_generation = 0
        self._grid_pending = False
        self.last_export_folder = str(Path.home())
        self.last_open_folder = str(Path.home())  # where Open… starts: the user's files, not the app's folder
        self.last_export_format = generator.domain.write_formats[0] if generator.domain.write_formats else ""

        self.controls = SamplingControls(generator.domain.decoding_options, generator.domain.decoding)
        # The controls self.items were made with (a GridState without its items).
        self.grid_made = self._made_with(self.controls.seed.value())
        self.conditions = ConditionsPanel(generator.domain.conditions, generator.label_distribution is not None)
        self.directions = DirectionsPanel(
            generator.directions(), generator.domain.conditions.labels, generator.latent_size
        )
        self.grid = SampleGrid()
        self.preview = PreviewPanel(self.context)
        self.interpolation = InterpolationPanel(self.context)
        self.palette = PalettePanel(self.context)
        self.latent_map = LatentMapPanel(self.context, storage.cache_dir)
        # Whole stitched items (levels from windows), only where the domain says it can stitch.
        stitchable = generator.domain.stitch_support() == ""
        self.long_level = LongLevelPanel(self.context, self.controls, self.interpolation) if stitchable else None
        # One long piece chained from clips, only where the domain makes pieces.
        pieces = generator.domain.makes_pieces
        self.long_piece = LongPiecePanel(self.context, self.controls, self.interpolation) if pieces else None
        # One playable screen, only where the domain makes whole screens the agent can play (Lode Runner).
        playable = supports_playable_screens(generator.domain)
        self.playable_screen = (
            PlayableScreenPanel(self.context, self.controls, self.interpolation) if playable else None
        )
        self.favourites = FavouritesPanel(self.context, favourites or FavouritesStore(storage.favourites_file))
        self.typicality = TypicalityReference(generator)
        self._make_actions()
        self._lay_out()
        self._connect()

    @property
    def domain_name(self) -> str:
        return self.generator.domain.name

    # --- layout and wiring -----------------------------------------------------------------

    def _lay_out(self) -> None:
        card = self.generator.card
        about = QLabel(
            f"<b>{card.get('name', self.domain_name)}</b> · {self.domain_name} · "
            f"latent {self.generator.latent_size}<br>"
            f"<small>{Path(self.context.checkpoint).name} · Help → About this model (F1)</small>"
        )
        about.setToolTip(f"Checkpoint: {self.context.checkpoint}")
        about.setWordWrap(True)
        sidebar = QWidget()
        side = QVBoxLayout(sidebar)
        side.addWidget(about)
        side.addWidget(group("Sample", self.controls))
        side.addWidget(group("Conditions", self.conditions))
        side.addWidget(group("Directions (move the preview)", self.directions))
        side.addStretch(1)
        scroll = VerticalScroll(sidebar)  # as narrow as its controls allow, scrolling when short

        self.tools = QTabWidget()
        self.tools.setElideMode(Qt.TextElideMode.ElideNone)
        self.tools.addTab(VerticalScroll(self.interpolation), "Interpolation")
        self.tools.addTab(self.palette, "Palette")
        self.tools.addTab(self.favourites, "Favourites")
        self.tools.setTabToolTip(1, "Four-corner palette: click anywhere in the square to blend four latents")
        self.tools.setTabToolTip(2, "Starred items of this model (F on a tile); double-click one to restore it")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(group("Preview", self.preview))
        right.addWidget(self.tools)
        right.setSizes([460, 360])
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setChildrenCollapsible(False)

        self.centre = QTabWidget()
        self.centre.setElideMode(Qt.TextElideMode.ElideNone)
        self.centre.addTab(self.grid, "Samples")
        self.centre.addTab(self.latent_map, "Latent map")
        self.centre.setTabToolTip(1, "The training set's encodings on a 2-D plane; click anywhere to decode that point")
        if self.long_level is not None:
            index = self.centre.addTab(self.long_level, "Full level")
            self.centre.setTabToolTip(
                index, "One whole level of 50 to 1000 columns, stitched from windows, with the agent's path (Ctrl+G)"
            )
        if self.long_piece is not None:
            index = self.centre.addTab(self.long_piece, "Long piece")
            self.centre.setTabToolTip(
                index, "One piece of 4 to 64 bars chained from 4-bar clips, to play and export (Ctrl+G)"
            )
        if self.playable_screen is not None:
            index = self.centre.addTab(self.playable_screen, "Playable screen")
            self.centre.setTabToolTip(
                index, "One screen of the tab's seed made playable, as `sample --playable`, with the verdict (Ctrl+G)"
            )
        self.centre.currentChanged.connect(lambda index: index == 1 and self.latent_map.ensure_loaded())

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self.centre)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)  # the sidebar keeps its width; the grid takes what is left
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([scroll.sizeHint().width(), 700, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

    def _make_actions(self) -> None:
        """Tile actions, for the tile's context menu and the main window's Tile menu (which show
        their shortcuts). A shortcut fires only while the grid itself has the focus, so that a
        letter typed in a text field, another panel or a dialog is never taken for one."""

        def action(text: str, slot, keys: str | Sequence[str] | None, tip: str) -> QAction:
            act = QAction(text, self)
            if keys:
                act.setShortcuts([QKeySequence(key) for key in ([keys] if isinstance(keys, str) else keys)])
                act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            act.setToolTip(tip)
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            self.grid.addAction(act)
            return act

        current = lambda: self.grid.current  # noqa: E731 - the tile the menu or shortcut is about
        self.act_endpoint_a = action(
            "Set as endpoint A",
            lambda: self.set_endpoint_from_item(current(), "A"),
            "A",
            "Use this tile as interpolation endpoint A",
        )
        self.act_endpoint_b = action(
            "Set as endpoint B",
            lambda: self.set_endpoint_from_item(current(), "B"),
            "B",
            "Use this tile as interpolation endpoint B",
        )
        self.act_enlarge = action(
            "Enlarge",
            lambda: self.enlarge(current()),
            ("Return", "Enter"),
            "Show this tile large, with zoom (double-click, Enter)",
        )
        self.act_export = action("Export…", self.export_selected, None, "Export the selected tiles (Ctrl+E)")
        self.act_copy_seed = action(
            "Copy seed", lambda: self.copy_seed(current()), "Ctrl+C", "Copy this tile's seed to the clipboard"
        )
        self.act_more = action(
            "More like this",
            lambda: self.more_like_this(current()),
            "M",
            "Fill the grid with variations of this tile (spread in the Sample box)",
        )
        self.act_star = action(
            "Add to favourites",
            lambda: self.star_item(current()),
            "F",
            "Star this tile: it is kept in the Favourites tab across restarts",
        )
        self.act_corner_c = action(
            "Set as palette corner C",
            lambda: self.set_corner_from_item(current(), "C"),
            None,
            "Use this tile as the palette's bottom-left corner",
        )
        self.act_corner_d = action(
            "Set as palette corner D",
            lambda: self.set_corner_from_item(current(), "D"),
            None,
            "Use this tile as the palette's bottom-right corner",
        )
        self.act_select_all = action(
            "Select all tiles", self.grid.select_all, "Ctrl+A", "Select every tile of the grid (for Export selected)"
        )
        self.grid.clicked.connect(lambda _: self.update_tile_actions())
        self.grid.selection_changed.connect(lambda _: self.update_tile_actions())
        self.update_tile_actions()

    def _connect(self) -> None:
        self.controls.sample_requested.connect(self.sample)
        self.controls.resample_requested.connect(self.resample)
        self.controls.decoding_changed.connect(self.set_decoding)
        self.conditions.changed.connect(self.set_condition)
        self.grid.clicked.connect(self._tile_clicked)
        self.grid.activated.connect(self.enlarge)
        self.grid.menu_requested.connect(self._show_tile_menu)
        self.directions.offset_changed.connect(
            lambda offset: self.preview.set_offset(offset, self.directions.active_text(), self.directions.dragging())
        )
        self.preview.reset_directions.connect(self.directions.reset)
        self.directions.committed.connect(
            lambda before, after: self.undo_stack.push(
                StateCommand("Move direction sliders", self.directions.set_values, before, after)
            )
        )
        self.directions.committed.connect(lambda *_: self.preview.show_directions_text(self.directions.active_text()))
        # A held slider decodes drafts (`Domain.drafting`); its release shows the full decode.
        self.preview.scrubbing = lambda: self.interpolation.slider.isSliderDown() or self.directions.dragging()
        self.interpolation.slider.sliderReleased.connect(self.preview.refresh)
        self.directions.committed.connect(lambda *_: self.preview.refresh())
        self.interpolation.blend_changed.connect(self.preview.set_base)
        self.interpolation.open_requested.connect(self.choose_endpoint_file)
        self.interpolation.random_requested.connect(self.random_endpoint)
        self.interpolation.endpoint_changed.connect(self.palette.set_corner)
        self.palette.blend_changed.connect(self.preview.set_base)
        self.palette.tile_requested.connect(lambda which: self.set_corner_from_item(self.grid.current, which))
        self.palette.random_requested.connect(self.random_corner)
        self.latent_map.point_chosen.connect(self.preview.set_base)
        self.favourites.restore_requested.connect(self.restore_favourite)
        self.favourites.export_requested.connect(self._export_with_dialog)
        self.favourites.star_preview_requested.connect(self.star_preview)

    # --- the grid ---------------------------------------------------------------------------

    def sample(self) -> None:
        """A new grid: seeds seed..seed+n-1 (a fresh seed first if the box asks for one)."""
        self._sample_with_seed(self.controls.take_seed())

    def resample(self) -> None:
        """The same seeds again, under the current temperature and grid size."""
        self._sample_with_seed(self.controls.seed.value())

    def _sample_with_seed(self, seed: int) -> None:
        rows, cols = self.controls.shape()
        temperature = self.controls.temperature()
        generator = self.generator
        self._start_grid_job(
            f"Sample seed {seed}",
            lambda condition: sample_items(generator, rows * cols, condition, temperature, seed),
            rows,
            cols,
            self._made_with(seed),
        )
        self.context.status.emit(f"Sampling {self.generator.domain.count_of(rows * cols)} from seed {seed}…")

    def set_condition(self, condition: Condition) -> None:
        """Decode the grid under a new condition: no new seeds, each item's labels under it
        (see `items.redecode_items`)."""
        try:
            self.context.set_condition(condition)
        except UserError as error:
            show_error(self, "Cannot ask for that", str(error))
            self.conditions.set_condition(self.context.condition)
            return
        if self._grid_pending:
            return  # the job in flight notices the new condition and re-decodes its own result
        items, generator = list(self.items), self.generator
        rows, cols = self.grid.rows, self.grid.cols
        text = f"Condition: {self.context.condition.describe()}"
        made = self.grid_made  # the same items: the controls that made them still hold
        self._start_grid_job(text, lambda asked: redecode_items(generator, items, asked), rows, cols, made)

    def set_decoding(self, name: str, value) -> None:
        """Set one of the domain's decoding options, then decode the preview and the grid again
        (the same items, in a worker, like a condition change; a grid still coming is sampled
        again from its seeds)."""
        try:
            self.generator.domain.set_decoding(name, value)
        except UserError as error:
            show_error(self, "Cannot change decoding", str(error))
            return
        self.preview.refresh()
        shown = f"{name.replace('_', ' ')} {value}"
        if self._grid_pending or not self.items:
            self.resample()
            return
        items, generator = list(self.items), self.generator
        rows, cols = self.grid.rows, self.grid.cols
        made = replace(self.grid_made, decoding=dict(self.generator.domain.decoding))
        self._start_grid_job(
            f"Decoding: {shown}", lambda asked: redecode_items(generator, items, asked), rows, cols, made
        )

    def more_like_this(self, index: int) -> None:
        """The item first, then variations z + spread * N(0, I), seeded from the seed box."""
        if not 0 <= index < len(self.items):
            return
        centre, spread, seed = self.items[index], self.controls.spread.value(), self.controls.take_seed()
        rows, cols = self.controls.shape()
        generator = self.generator

        def make(condition):
            again = redecode_items(generator, [centre], condition)[0]  # its labels under the condition now
            return [again, *items_near(generator, again, rows * cols - 1, spread, seed)]

        self._start_grid_job(f"More like {centre.caption}", make, rows, cols, self._made_with(seed))

    def _made_with(self, seed: int) -> GridState:
        """The controls a new grid is made with now (its items and shape come when it is done)."""
        return GridState(
            (),
            self.context.condition,
            *self.controls.shape(),
            seed=seed,
            temperature=self.controls.temperature(),
            spread=self.controls.spread.value(),
            decoding=dict(self.generator.domain.decoding),
        )

    def _start_grid_job(self, text: str, make: MakeItems, rows: int, cols: int, made: GridState) -> Job:
        """Make a grid in a worker; `made` holds the controls it is made with, which its state
        (and so its undo) carries."""
        self._grid_generation += 1
        generation, condition = self._grid_generation, self.context.condition
        self._grid_pending = True

        def done(items: list[Item]) -> None:
            if generation != self._grid_generation:
                return  # superseded by a newer request
            if condition != self.context.condition:  # the condition changed while we worked
                again = lambda new: redecode_items(self.generator, items, new)  # noqa: E731
                self._start_grid_job(text, again, rows, cols, made)
                return
            self._grid_pending = False
            self.show_grid_state(replace(made, items=tuple(items), condition=condition, rows=rows, cols=cols), text)

        def failed(message: str) -> None:
            if generation == self._grid_generation:
                self._grid_pending = False
                show_error(self, "Cannot decode", message)

        generator, reference = self.generator, self.typicality

        def work(job: Job) -> list[Item]:
            # Scores come with the items, from the same worker: the UI thread never scores.
            return with_scores(generator, make(condition), condition, reference)

        return self.context.runner.start(work, on_success=done, on_failure=failed)

    def grid_state(self) -> GridState:
        return replace(
            self.grid_made,
            items=tuple(self.items),
            condition=self.grid_condition,
            rows=self.grid.rows,
            cols=self.grid.cols,
        )

    def show_grid_state(self, state: GridState, text: str) -> None:
        """Show a new grid as one undoable step (the very first grid is not undoable)."""
        if not self.items:
            self._apply_grid(state, controls=False)
        else:
            new = lambda shown: self._apply_grid(shown, controls=False)  # noqa: E731
            self.undo_stack.push(GridCommand(text, self._apply_grid, self.grid_state(), state, new))
        seeds = [item.seed for item in state.items if item.seed is not None]
        detail = f" (seeds {seeds[0]}–{seeds[-1]})" if len(seeds) > 1 else ""
        self.context.status.emit(f"{text}: {self.generator.domain.count_of(len(state.items))}{detail}")

    def _apply_grid(self, state: GridState, controls: bool = True) -> None:
        """Show a grid state; with `controls`, the sampling controls that made it too (an undo, a
        redo). A grid just made leaves them as they are: they made it, or the user has moved on."""
        # What is shown now wins over any grid job still in flight (e.g. after an undo).
        self._grid_generation += 1
        self._grid_pending = False
        render = self.generator.domain.render
        self.items = [
            item if item.pixels is not None else replace(item, pixels=render(item.asset)) for item in state.items
        ]
        self.grid_condition = state.condition
        self.grid_made = replace(state, items=())
        if controls:
            self._show_controls(state)
        else:
            self.controls.set_shape(state.rows, state.cols)
        self.conditions.set_condition(state.condition)
        self.context.set_condition(state.condition)
        space = self.generator.domain.conditions
        self.grid.set_tiles(
            state.rows,
            state.cols,
            [
                (
                    to_pixmap(item.pixels),
                    item.caption,
                    badge_text(item),
                    item.atypical,
                    "\n".join(
                        filter(
                            None,
                            [
                                labels_tooltip(space, item.labels),
                                badge_tooltip(item, self.typicality.known_floor(state.condition, item.labels)),
                            ],
                        )
                    ),
                    labels_text(space, item.labels),
                )
                for item in self.items
            ],
        )
        self._preview_follows_grid()
        self.update_tile_actions()

    def _show_controls(self, state: GridState) -> None:
        """Put the controls back to those that made `state`, asking for no work (an undo shows a
        grid; it never samples one)."""
        self.controls.set_shape(state.rows, state.cols)
        if state.seed is not None:
            self.controls.set_seed(state.seed)
        if state.temperature is not None:
            self.controls.set_temperature(state.temperature)
        if state.spread is not None:
            self.controls.set_spread(state.spread)
        domain = self.generator.domain
        changed = {name: value for name, value in state.decoding.items() if domain.decoding.get(name) != value}
        for name, value in changed.items():
            domain.set_decoding(name, value)  # the value was checked when it was first set
        self.controls.set_decoding_values(changed)
        if changed and self.preview.tile is None:
            self.preview.refresh()  # a tile is decoded again as it follows the grid

    def _preview_follows_grid(self) -> None:
        """A preview showing a grid tile (or nothing yet) moves to the new grid: to the same item
        where it is still there (same seed or origin), else to the tile at the same place, else
        the first. Anything else it shows (a blend, a map point, a favourite) stays, and says so."""
        if not self.items or (self.preview.shown is not None and self.preview.tile is None):
            return
        captions = [item.caption for item in self.items]
        if self.preview.shown is not None and self.preview.caption in captions:
            index = captions.index(self.preview.caption)
        elif self.preview.tile is not None and self.preview.tile < len(self.items):
            index = self.preview.tile
        else:
            index = 0
        self.preview.set_base(shown_of(self.items[index]), index)

    # --- tile actions -----------------------------------------------------------------------

    def _item(self, index: int) -> Item | None:
        return self.items[index] if 0 <= index < len(self.items) else None

    def _tile_clicked(self, index: int) -> None:
        item = self._item(index)
        if item is not None:
            self.preview.set_base(shown_of(item), index)

    def tile_actions(self) -> list[QAction | None]:
        """The actions on the current tile, in menu order (None: a separator)."""
        return [
            self.act_endpoint_a,
            self.act_endpoint_b,
            self.act_corner_c,
            self.act_corner_d,
            None,
            self.act_enlarge,
            self.act_export,
            self.act_copy_seed,
            self.act_star,
            None,
            self.act_more,
        ]

    def menu_actions(self) -> list[QAction | None]:
        """What the main window's Tile menu lists for this tab: the tile actions, Select all, and
        Play / Stop where the domain's items are sound."""
        play = [None, self.preview.act_play] if self.preview.transport is not None else []
        return [*self.tile_actions(), None, self.act_select_all, *play]

    def update_tile_actions(self) -> None:
        """Enable the tile actions where there is a current tile (Copy seed: one with a seed)."""
        item = self._item(self.grid.current)
        for act in filter(None, self.tile_actions()):
            act.setEnabled(item is not None and (act is not self.act_copy_seed or item.seed is not None))
        self.act_select_all.setEnabled(bool(self.items))

    def tile_menu(self, index: int) -> QMenu:
        """The context menu of a tile (selecting it first, so the actions apply to it)."""
        if index not in self.grid.selected():
            self.grid.tile_clicked(index, Qt.KeyboardModifier.NoModifier)
        self.grid.current = index
        self.update_tile_actions()
        menu = QMenu(self)
        for act in self.tile_actions():
            if act is None:
                menu.addSeparator()
            else:
                menu.addAction(act)
        return menu

    def _show_tile_menu(self, index: int, position) -> None:
        menu = self.tile_menu(index)
        menu.exec(position)
        menu.deleteLater()

    def set_endpoint_from_item(self, index: int, which: str) -> None:
        item = self._item(index)
        if item is not None:
            self.interpolation.set_endpoint(which, item.latent, item.caption, item.labels, item.seed, item.own_labels)
            self.context.status.emit(f"Endpoint {which}: {item.caption}")

    def set_corner_from_item(self, index: int, which: str) -> None:
        item = self._item(index)
        if item is None:
            self.context.status.emit(f"Select a tile first to make it palette corner {which}")
            return
        self.palette.set_corner(which, shown_of(item))
        self.context.status.emit(f"Palette corner {which}: {item.caption}")

    def random_draw(self) -> Shown:
        """A fresh seed's item at the grid's temperature: its labels drawn under the condition."""
        seed = secrets.randbelow(MAX_SEED)
        labels = self.context.labels_under(seed)
        latent = self.generator.latent_for_seed(seed, self.controls.temperature(), labels)
        return Shown(latent, f"seed {seed}", labels, seed)

    def random_corner(self, which: str) -> None:
        self.palette.set_corner(which, self.random_draw())

    # --- favourites -------------------------------------------------------------------------------

    def star_item(self, index: int) -> dict | None:
        """Add grid item `index` to the favourites (saved at once)."""
        item = self._item(index)
        if item is None:
            return None
        return self._star(item)

    def star_preview(self) -> dict | None:
        """Add what the preview shows (base + direction offsets) to the favourites."""
        latent = self.preview.latent()
        if latent is None:
            return None
        moved = self.directions.active_text()
        caption = self.preview.caption + (f" + {moved}" if moved else "")
        render, labels = self.generator.domain.render, self.preview.labels()
        asset = self.generator.decode(latent[None], list(labels))[0]
        return self._star(Item(latent, labels, asset, render(asset), origin=caption or "preview", own_labels=labels))

    def _star(self, item: Item) -> dict | None:
        record = record_of(item, self.generator, self.context.checkpoint)
        try:
            self.favourites.add(record, item)
        except UserError as error:
            show_error(self, "Cannot save favourite", str(error))
            return None
        self.context.status.emit(f"Added {item.caption} to the favourites")
        return record

    def restore_favourite(self, record: dict) -> None:
        """Show a favourite in the preview under its own labels (whatever the tab asks now), with
        the sliders at 0. A later condition change moves them as it moves a grid item's."""
        try:
            labels = tuple(self.generator.condition_labels(record.get("condition", ())))
        except UserError as error:
            show_error(self, "Cannot restore favourite", str(error))
            return
        self.directions.reset()
        seed = record.get("seed")
        caption = f"seed {seed}" if seed is not None else record.get("caption", "favourite")
        latent = np.asarray(record["latent"], dtype=np.float32)
        self.preview.set_base(Shown(latent, f"★ {caption}", labels, seed, None if seed is not None else labels))
        self.context.status.emit(f"Restored favourite {caption} ({', '.join(labels) or 'no labels'})")

    def copy_seed(self, index: int) -> None:
        item = self._item(index)
        if item is not None and item.seed is not None:
            QGuiApplication.clipboard().setText(str(item.seed))
            self.context.status.emit(f"Copied seed {item.seed}")

    def enlarge(self, index: int) -> EnlargeDialog | None:
        item = self._item(index)
        if item is None:
            return None
        dialog = EnlargeDialog(item.pixels, f"{self.domain_name}: {item.caption}", self)
        dialog.show()
        return dialog

    # --- interpolation endpoints from files or at random ------------------------------------------

    def choose_endpoint_file(self, which: str) -> None:
        formats = self.generator.domain.read_formats
        filters = [open_filter(self.domain_name, formats)] if formats else []
        path, _ = QFileDialog.getOpenFileName(
            self, f"Open a file as endpoint {which}", self.last_open_folder, ";;".join(filters + ["All files (*)"])
        )
        if path:
            self.last_open_folder = str(Path(path).parent)
            self.open_endpoint_file(path, which)

    def file_labels(self, asset) -> tuple[str, ...]:
        """The labels a file is encoded and decoded under: those it shows by itself
        (`Domain.labels_of`), so that an original comes back as itself; where it shows none
        (an image), those the condition gives seed 0, as `main.py interpolate` does."""
        own = self.generator.domain.labels_of(asset)
        return tuple(self.generator.condition_labels(own or self.context.labels_under(0)))

    def open_endpoint_file(self, path: str | Path, which: str | None = None) -> bool:
        """Read and encode a file as endpoint `which` (A, or B once A is set), under its own
        labels (`file_labels`), its latent refined as the CLI refines it. Errors go to a dialog."""
        path = Path(path)
        try:
            asset = self.generator.domain.read(path)
            labels = self.file_labels(asset)
            with busy_cursor():  # refining the latent takes 0.1-0.5 s
                latent = self.generator.encode([asset], list(labels), refine=True)[0]  # as `interpolate --from`
            note = self.generator.domain.encoding_note(asset)
        except UserError as error:
            show_error(self, "Cannot open file", str(error))
            return False
        except Exception as error:  # noqa: BLE001 - a file we could not foresee must not end the app
            show_error(self, "Cannot open file", f"{path}: {type(error).__name__}: {error}")
            return False
        which = which or self.interpolation.next_free()
        self.interpolation.set_endpoint(which, latent, path.name, labels, None, labels)
        shown = ", ".join(labels) or "no labels"
        self.context.status.emit(
            f"Encoded {path.name} as endpoint {which} under {shown}" + (f" ({note})" if note else "")
        )
        return True

    def random_endpoint(self, which: str) -> None:
        """Draw endpoint `which` from the prior (at the grid's temperature) with a fresh seed."""
        drawn = self.random_draw()
        self.interpolation.set_endpoint(which, drawn.latent, drawn.caption, drawn.labels, drawn.seed)

    # --- export -------------------------------------------------------------------------------

    def export_selected(self) -> None:
        chosen = [self.items[i] for i in self.grid.selected() if i < len(self.items)]
        if not chosen:
            self.context.status.emit("Select tiles to export first (click, Ctrl+click), or use Export all")
            return
        self._export_with_dialog(chosen)

    def export_all(self) -> None:
        if self.items:
            self._export_with_dialog(self.items)

    def _export_with_dialog(self, items: Sequence[Item]) -> None:
        formats = self.generator.domain.write_formats
        dialog = ExportDialog(
            self.generator.domain.count_of(len(items)), formats, self.last_export_folder, self.last_export_format, self
        )
        if dialog.exec():
            folder, fmt = dialog.choice()
            if folder:
                self.export_to(items, folder, fmt)

    def export_to(self, items: Sequence[Item], folder: str | Path, fmt: str) -> Job:
        """Export without a dialog (the dialog's OK and the tests come here)."""
        self.last_export_folder, self.last_export_format = str(folder), fmt
        return start_export(self.context, items, folder, fmt, self)

    # --- state ----------------------------------------------------------------------------------

    def save_settings(self, settings: QSettings) -> None:
        settings.beginGroup(self.domain_name)
        settings.setValue("seed", self.controls.seed.value())
        settings.setValue("new_seed_each_time", self.controls.random_seed.isChecked())
        settings.setValue("temperature", self.controls.temperature())
        settings.setValue("rows", self.controls.rows.value())
        settings.setValue("cols", self.controls.cols.value())
        settings.setValue("spread", self.controls.spread.value())
        settings.setValue("interpolation_mode", self.interpolation.mode())
        settings.setValue("frames", self.interpolation.frames.value())
        settings.setValue("export_folder", self.last_export_folder)
        settings.setValue("export_format", self.last_export_format)
        settings.setValue("open_folder", self.last_open_folder)
        settings.endGroup()
        self.save_map_folder(settings)

    def restore_settings(self, settings: QSettings) -> list[str]:
        """Each saved value is read on its own and checked (a whole number in range, a finite
        number): a damaged, hand-edited or older settings file loses only the values it spoils,
        and the app always starts. Returns the keys whose saved values were refused."""
        refused: list[str] = []
        number = functools.partial(saved_number, settings, refused=refused)
        settings.beginGroup(self.domain_name)
        try:
            self.controls.seed.setValue(number("seed", 0, 0, MAX_SEED, whole=True))
            self.controls.random_seed.setChecked(str(settings.value("new_seed_each_time", "true")).lower() == "true")
            temperature = number("temperature", self.generator.default_temperature, 0.0, MAX_TEMPERATURE)
            self.controls.set_temperature(temperature)
            self.controls.set_shape(number("rows", 4, 1, 8, whole=True), number("cols", 4, 1, 8, whole=True))
            self.controls.spread.setValue(number("spread", 0.3, 0.0, 1.0))
            self.interpolation.set_mode(str(settings.value("interpolation_mode", "slerp")))
            self.interpolation.frames.setValue(number("frames", 8, 1, 16, whole=True))
            self.last_export_folder = str(settings.value("export_folder", self.last_export_folder))
            self.last_export_format = str(settings.value("export_format", self.last_export_format))
            self.last_open_folder = str(settings.value("open_folder", self.last_open_folder))
        finally:
            settings.endGroup()
        folder = settings.value(self._map_key())
        self.latent_map.set_data_folder(str(folder) if folder else None)
        return refused

    def _map_key(self) -> str:
        """Settings key of the map's data folder, per checkpoint (by weights hash when known)."""
        model = self.generator.card.get("weights_sha256") or self.context.checkpoint
        return f"latent_map/{model}"

    def save_map_folder(self, settings: QSettings) -> None:
        if self.latent_map.data_folder:
            settings.setValue(self._map_key(), self.latent_map.data_folder)

    def generate_long(self) -> None:
        """Generate → Full level, Long piece or Playable screen (Ctrl+G): whichever page this tab has."""
        if self.long_piece is not None:
            self.centre.setCurrentWidget(self.long_piece)
            self.long_piece.generate()
        elif self.playable_screen is not None:
            self.centre.setCurrentWidget(self.playable_screen)
            self.playable_screen.generate()
        else:
            self.generate_full_level()

    def long_page_name(self) -> str | None:
        """The Ctrl+G page of this tab ("Full level", "Long piece", "Playable screen"), None when it has none."""
        if self.long_piece is not None:
            return "Long piece"
        if self.playable_screen is not None:
            return "Playable screen"
        return "Full level" if self.long_level is not None else None

    def generate_full_level(self) -> None:
        """Generate → Full level (Ctrl+G): show the Full level page and make a level there."""
        if self.long_level is None:
            self.context.status.emit(
                f"This model's {self.generator.domain.item_noun[1]} cannot be stitched into whole items"
            )
            return
        self.centre.setCurrentWidget(self.long_level)
        self.long_level.generate()

    started = False  # whether start() has run: the main window starts a tab when first shown

    def start(self) -> None:
        """The first grid, from the seed shown (restored from the last session)."""
        self.started = True
        self.resample()

    def shutdown(self) -> None:
        """Stop background work before the tab goes away."""
        if self.preview.transport is not None:
            self.preview.transport.shutdown()
        for page in (self.long_piece, self.long_level, self.playable_screen):
            if page is not None:
                page.shutdown()
        self.context.runner.shutdown()
