"""The large preview: one latent (a grid item, an interpolation blend...) plus the offset of
the direction sliders, decoded on the UI thread (one latent is fast) under that item's labels.
Lines under the view say what it shows (which tile of the grid, or that it is no grid tile),
under which labels, and which directions move it, with a Reset: an offset never carries into
the next tile or map point unseen. A condition change moves the labels as it moves the item's
in the grid (`items.labels_under`)."""

from __future__ import annotations

import contextlib
import time
from typing import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from generators.music.art import playhead_x

from .audio_transport import AudioTransport
from .conditions_panel import labels_text, labels_tooltip
from .context import ViewContext
from .items import Shown
from .preview import ZoomView


class PreviewPanel(QWidget):
    rendered = Signal(float)  # milliseconds of the last decode + render + pixmap (the paint follows)
    reset_directions = Signal()  # the Reset beside the directions line

    def __init__(self, context: ViewContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.shown: Shown | None = None  # the base latent, its caption and labels
        self.tile: int | None = None  # the grid tile it is (None: not a tile of the grid)
        self.offset = np.zeros(context.generator.latent_size, dtype=np.float32)
        self.directions_text = ""  # the active directions, named ("pipe +3.00")
        self.scrubbing: Callable[[], bool] = lambda: False  # whether a slider is held (set by the tab)
        self.caption = ""
        self.asset = None  # the decoded asset shown now (what Play plays)
        self.view = ZoomView(self)
        self.view.setMinimumHeight(160)
        hint = QLabel(
            "Click a tile, scrub between two endpoints, or move a direction slider. Wheel zooms, drag scrolls."
        )
        hint.setWordWrap(True)
        self.labels_line = QLabel()
        self.labels_line.setWordWrap(True)
        self.labels_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.directions_line = QLabel()
        self.directions_line.setWordWrap(True)
        self.directions_line.setToolTip("The direction sliders add these offsets to whatever the preview shows")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Put every direction slider back to 0")
        self.reset_button.clicked.connect(self.reset_directions)
        directions = QHBoxLayout()
        directions.setContentsMargins(0, 0, 0, 0)
        directions.addWidget(self.directions_line, 1)
        directions.addWidget(self.reset_button)
        self.directions_row = QWidget()
        self.directions_row.setLayout(directions)
        self.directions_row.setVisible(False)
        self.last_ms = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        # Domains whose assets are sound get Play/Stop and a tempo box (Space plays while the preview has focus).
        self.transport: AudioTransport | None = None
        if context.domain.plays_audio:
            self.transport = AudioTransport(context, lambda: self.asset, self)
            layout.addWidget(self.transport)
            self.act_play = QAction("Play / Stop", self)
            self.act_play.setShortcut(QKeySequence(Qt.Key.Key_Space))
            # Only while the preview itself has the focus: a space typed in the tempo box is a space.
            self.act_play.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.act_play.setEnabled(self.transport.play_button.isEnabled())
            self.act_play.triggered.connect(self.transport.toggle)
            self.view.addAction(self.act_play)
            self.transport.playhead.connect(self.show_playhead)
        layout.addWidget(self.labels_line)
        layout.addWidget(self.directions_row)
        layout.addWidget(hint)
        context.condition_changed.connect(self._condition_changed)

    def show_playhead(self, fraction: float | None) -> None:
        """A line over the piano roll `fraction` (0..1) of the way through the clip; None clears it."""
        width = self.view.item.pixmap().width()
        self.view.set_marker(None if fraction is None or width == 0 else playhead_x(width, fraction))

    @property
    def base(self) -> np.ndarray | None:
        return None if self.shown is None else self.shown.latent

    def labels(self) -> tuple[str, ...]:
        """The label set the preview decodes under now."""
        return () if self.shown is None else self.shown.labels

    def latent(self) -> np.ndarray | None:
        """The latent shown now: base plus the direction offset."""
        return None if self.base is None else (self.base + self.offset).astype(np.float32)

    def set_base(self, shown: Shown | None, tile: int | None = None) -> None:
        """Show a latent under its labels (None: nothing); `tile` is its index in the grid, when
        it is a grid item (the tab moves it to the new grid's item when the grid changes)."""
        self.shown = None if shown is None else shown._replace(latent=np.asarray(shown.latent, np.float32).copy())
        self.caption = "" if shown is None else shown.caption
        self.tile = None if shown is None else tile
        self.refresh()

    def _condition_changed(self) -> None:
        if self.shown is not None:
            self.shown = self.shown.under(self.context.generator, self.context.condition)
        self.refresh()

    def set_offset(self, offset: np.ndarray, text: str = "", dragging: bool = False) -> None:
        """Add `offset` to what is shown; `text` names the directions it sums ("pipe +3.00").
        While a slider is being dragged the line keeps its words and only the picture follows:
        a word-wrapped line that changes re-lays out the whole panel, which doubled the time of
        every scrub step; the words catch up on release (`show_directions_text`)."""
        self.offset = np.asarray(offset, dtype=np.float32)
        if not (dragging and self.directions_row.isVisible() and np.any(self.offset)):
            self.show_directions_text(text)
        self.refresh()

    def show_directions_text(self, text: str) -> None:
        # An offset is never left unsaid, even by a caller that does not name it.
        self.directions_text = (text or "the sliders' offset") if np.any(self.offset) else ""
        self.directions_line.setText(f"Directions: {self.directions_text}" if self.directions_text else "")
        self.directions_row.setVisible(bool(self.directions_text))

    def where_text(self) -> str:
        """What the preview shows, for the line under it: a tile of the grid, or something else.
        Not the blend's caption ("A→B at 0.53"): it changes every scrub step, and the view shows
        it already; a changing word-wrapped line would re-lay out the panel at every step."""
        if self.tile is not None:
            return f"Grid tile {self.tile + 1} ({self.caption})"
        return "Not a grid tile (its caption says what it is)"

    def refresh(self) -> None:
        latent = self.latent()
        if latent is None:
            return
        started = time.perf_counter()
        labels = self.labels()
        # While a slider is held the domain may decode a quicker draft (images skip the denoiser);
        # the release refreshes at full quality.
        with self.context.domain.drafting() if self.scrubbing() else contextlib.nullcontext():
            self.asset = self.context.decode(latent, labels)[0]  # kept for the audio transport
        self.view.set_pixels(self.context.domain.render(self.asset))
        if self.transport is not None:
            self.transport.asset_changed(self.asset)
        self.last_ms = (time.perf_counter() - started) * 1000
        moved = " + directions" if np.any(self.offset) else ""
        self.view.set_caption(f"{self.caption}{moved}")
        space = self.context.domain.conditions
        if space.groups:
            self.set_labels_line(f"{self.where_text()}, shown under: {labels_text(space, labels)}")
            self.labels_line.setToolTip(f"The labels the preview decodes under\n{labels_tooltip(space, labels)}")
        else:
            self.set_labels_line(self.where_text())
        self.rendered.emit(self.last_ms)

    def set_labels_line(self, text: str) -> None:
        """Set the line under the preview. A blend scrubbed across t = 0.5 takes the other end's
        labels, and any new text in a word-wrapped label re-lays out the window, whose tab widget
        then repaints everything (the slowest 13% of scrub steps). So while a slider is held the
        line keeps its words, which catch up on release as the directions line's do; and it only
        ever grows taller, so that a shorter text does not make the view jump."""
        if text == self.labels_line.text() or (self.scrubbing() and self.labels_line.text()):
            return
        self.labels_line.setText(text)
        width = self.labels_line.width()
        needed = self.labels_line.heightForWidth(width) if width > 0 else -1
        if needed > self.labels_line.minimumHeight():
            self.labels_line.setMinimumHeight(needed)
