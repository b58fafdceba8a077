"""The "Full level" page of a levels tab: one whole level of 50-1000 columns stitched from
the model's windows (`generators.levels.stitch`), drawn with the path the playability agent
(`generators.levels.agent.play`) found, and exported with a JSON sidecar the CLI can replay.

`make_long_level` and `long_level_sidecar` are Qt-free and run in workers. The panel takes
the seed, temperature and condition of its tab, and the tab's interpolation endpoints A and
B for a morph along the level (window k decodes the latent at t = k / (n - 1)).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from generators.core import naming
from generators.core.conditions import Condition
from generators.levels import long_level
from generators.levels.agent import PlayResult, play
from generators.levels.character import CHARACTERS, characters_of
from generators.levels.long_level import DIFFICULTIES, REPAIR_BUDGET, WINDOW_CANDIDATES, LongLevelRequest, Morph
from generators.levels.stitch import MAX_LENGTH, MIN_LENGTH, LongLevel

from .context import ViewContext
from .export import export_with_sidecar, sidecar
from .flow_layout import FlowLayout, labelled
from .interpolation_panel import InterpolationPanel
from .items import Item
from .long_work_page import LongWorkPage, Progress
from .qimage import to_pixmap
from .sampling_controls import SamplingControls
from .workers import Job

DEFAULT_LENGTH = 200
PATH_COLOUR = QColor(255, 40, 200)  # magenta: stands out on sky, ground and pipes alike
STUCK_COLOUR = QColor(230, 30, 30)
VISIBLE_COLUMNS = 48  # columns shown across the view after Generate (a screen is 16)


@dataclass(frozen=True)
class LongLevelResult:
    request: LongLevelRequest
    made: LongLevel
    agent: PlayResult
    pixels: np.ndarray  # (H*16, L*16, 3) uint8, Domain.render of the level


def endpoint_seed(generator, latent: np.ndarray, caption: str, labels=None) -> int | None:
    """The seed an endpoint was drawn from, when its caption names one and its latent is that
    seed's at the model's default temperature under its labels (so `--seed-a`, which draws
    there, regenerates it), else None."""
    found = re.fullmatch(r"seed (\d+)", caption.strip())
    if not found:
        return None
    seed = int(found.group(1))
    drawn = generator.latent_for_seed(seed, generator.default_temperature, labels)
    return seed if np.allclose(drawn, latent, atol=1e-6) else None


def make_long_level(generator, request: LongLevelRequest, progress: Progress | None = None) -> LongLevelResult:
    """Make the level (`long_level.make_long_level`), play it, render it. Runs in a worker;
    `progress(windows done, windows)` after each window stitched (it may raise to stop there)."""
    made = long_level.make_long_level(generator, request, progress)
    agent = play(made.level, generator.domain.legend)
    return LongLevelResult(request, made, agent, generator.domain.render(made.level))


def status_text(result: LongLevelResult) -> str:
    """One line: the agent's verdict, and with Playable whether repair was needed and worked."""
    agent, made = result.agent, result.made
    text = (
        f"Completable — path of {max(len(agent.path) - 1, 0)} moves"
        if agent.completable
        else f"Not completable: {agent.reason}; furthest column {agent.furthest_column}"
    )
    if result.request.playable:
        repairs = made.attempts - 1
        if made.raw_playable:
            text += " · playable as sampled, no repair needed"
        elif made.playable:
            text += f" · repaired: playable after {repairs} repair attempt{'s' if repairs != 1 else ''}"
        else:
            text += f" · repair failed after {repairs} attempts"
    if made.character is not None:
        text = f"{made.character.capitalize()} level · {text}"
    return text


def long_level_sidecar(result: LongLevelResult, generator, checkpoint: str, asset_name: str, fmt: str) -> dict:
    """The grid items' sidecar (`export.sidecar`) for the first window (its `condition`: that
    window's labels), plus what makes the whole level: length, playable flag and verdicts, what
    was asked of the labels (`asked`: required and excluded; null for a morph whose windows take
    their ends' labels), morph endpoints, every window's latent and labels."""
    request, made = result.request, result.made
    first = Item(
        made.windows[0].base,
        tuple(made.labels[0]),
        made.level,
        None,
        None if request.morph else request.seed,
        request.temperature,
        origin="morph A→B along the level" if request.morph else "",
    )
    record = sidecar(first, generator, checkpoint, asset_name, fmt)
    record.update(
        {
            "length": made.level.width,
            "windows": len(made.windows),
            "window_latents": [[float(v) for v in w.latent] for w in made.windows],
            "window_labels": [list(labels) for labels in made.labels],
            "asked": None
            if request.condition is None
            else {"required": list(request.condition.required), "excluded": list(request.condition.excluded)},
            "playable_requested": request.playable,
            "difficulty": request.difficulty,
            "character": made.character,  # the one asked for, or None
            "completable": bool(result.agent.completable),
            "furthest_column": int(result.agent.furthest_column),
        }
    )
    if request.playable:
        record.update(
            {
                "repair_budget": request.budget,
                "repair_attempts": made.attempts - 1,
                "playable_as_sampled": made.raw_playable,
            }
        )
    if request.morph is not None:
        morph = request.morph
        record["morph"] = {
            "mode": morph.mode,
            "stitch_seed": request.stitch_seed,
            "a": {
                "caption": morph.caption_a,
                "seed": morph.seed_a,
                "labels": list(morph.labels_a),
                "latent": [float(v) for v in morph.z_a],
            },
            "b": {
                "caption": morph.caption_b,
                "seed": morph.seed_b,
                "labels": list(morph.labels_b),
                "latent": [float(v) for v in morph.z_b],
            },
        }
    command = long_level.replay_command(result.request, generator.domain.name, str(checkpoint), fmt)
    record["command"] = command
    if command is None:
        record["note"] = "endpoints A and B are not seeds: decode window_latents with the same stitching to regenerate"
    return record


def export_long_level(generator, checkpoint: str, result: LongLevelResult, path: str | Path) -> list[Path]:
    """Write the level (format by extension, atomically) and PATH.json beside it."""
    return export_with_sidecar(
        generator,
        result.made.level,
        path,
        lambda name, fmt: long_level_sidecar(result, generator, checkpoint, name, fmt),
    )


def draw_path(pixmap: QPixmap, agent: PlayResult, columns: int) -> QPixmap:
    """A copy of the level's pixmap with the agent's path over it: a polyline through the
    centres of its cells (rows above the map fall outside and are clipped), and where the
    agent got stuck, a red line down its furthest column."""
    out = QPixmap(pixmap)
    tile = pixmap.width() / max(columns, 1)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setClipRect(out.rect())
    if len(agent.path) > 1:
        points = QPolygonF([QPointF((c + 0.5) * tile, (r + 0.5) * tile) for r, c in agent.path])
        painter.setPen(
            QPen(
                PATH_COLOUR,
                max(2.0, tile / 5),
                Qt.PenStyle.SolidLine,
                Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin,
            )
        )
        painter.drawPolyline(points)
    if not agent.completable and agent.furthest_column >= 0:
        x = (agent.furthest_column + 1) * tile
        painter.setPen(QPen(STUCK_COLOUR, max(2.0, tile / 8), Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(x, 0), QPointF(x, out.height()))
    painter.end()
    return out


class LongLevelPanel(LongWorkPage):
    """Length, Playable, Morph A → B, Generate/Cancel, the level with its path, Export…"""

    noun = "level"

    def __init__(
        self,
        context: ViewContext,
        controls: SamplingControls,
        interpolation: InterpolationPanel,
        parent: QWidget | None = None,
    ):
        super().__init__(
            context,
            controls,
            interpolation,
            parent,
            generate_tip="Make a whole level from the tab's seed, temperature and condition",
            export_tip="Write the level as .txt, .png, .tmj or .tmx, with a JSON sidecar that replays it",
            steps="windows",  # a repair stitches again from where the agent got stuck
        )
        self.result: LongLevelResult | None = None
        self._pixmap: QPixmap | None = None

        self.length = QSpinBox()
        self.length.setRange(MIN_LENGTH, MAX_LENGTH)
        self.length.setValue(DEFAULT_LENGTH)
        self.length.setSuffix(" columns")
        self.length.setToolTip(f"Level length in columns ({MIN_LENGTH} to {MAX_LENGTH}), as `sample levels --length`")
        self.playable = QCheckBox("Playable")
        self.playable.setToolTip(
            f"Repair the level by a latent search until the agent can finish it "
            f"(at most {REPAIR_BUDGET} tries), as `--playable`"
        )
        self.difficulty = QComboBox()
        self.difficulty.addItem("as drawn", None)
        for name in DIFFICULTIES:
            self.difficulty.addItem(name, name)
        self.difficulty.setToolTip(
            f"Easier or harder: each window is chosen for it from {WINDOW_CANDIDATES} draws (fewer or "
            "more enemies and gaps), as `--difficulty`; as drawn: the seed's own"
        )
        self.character = QComboBox()
        self.character.addItem("any", None)
        for name in CHARACTERS:
            self.character.addItem(name, name)
        self.morph = QCheckBox("Morph A → B")
        self.morph.toggled.connect(self._update_enabled)
        self.show_path = QCheckBox("Show path")
        self.show_path.setChecked(True)
        self.show_path.setToolTip("Draw the agent's path over the level (and where it got stuck)")
        self.show_path.toggled.connect(self._redraw)

        row = FlowLayout()  # wraps onto a second row in a narrow window
        row.addWidget(labelled("Length:", self.length))
        row.addWidget(labelled("Character:", self.character))
        row.addWidget(labelled("Difficulty:", self.difficulty))
        for widget in (
            self.playable,
            self.morph,
            self.show_path,
            self.generate_button,
            self.cancel_button,
            self.export_button,
            self.progress,
        ):
            row.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        interpolation.endpoint_changed.connect(lambda *_: self._update_enabled())
        self._update_enabled()

    # --- state --------------------------------------------------------------------------------

    def _update_enabled(self) -> None:
        ready = self._endpoints_ready()
        self.morph.setEnabled(ready and not self.busy)
        if not ready and self.morph.isChecked():
            self.morph.setChecked(False)
        self.morph.setToolTip(
            "Window k of the level decodes the latent at t = k / (n - 1) from endpoint A to B"
            if ready
            else "Set interpolation endpoints A and B first (Interpolation tab, or a tile's menu)"
        )
        morphing = self.morph.isChecked()
        self.playable.setEnabled(not morphing and not self.busy)
        self.difficulty.setEnabled(not morphing and not self.busy)
        characters = self._has_characters()
        self.character.setEnabled(characters and not morphing and not self.busy)
        self.character.setToolTip(
            "Ground: a floor with a few pits; athletic: pits crossed on platforms, as `--character`; "
            "any: neither, windows as drawn"
            if characters
            else "This model's card records no level characters (a whole-screen model, or a card written before them)"
        )
        self.length.setEnabled(not self.busy)
        self.generate_button.setEnabled(not self.busy)
        self.cancel_button.setEnabled(self.busy)
        self.progress.setVisible(self.busy)
        self.export_button.setEnabled(self.result is not None and not self.busy)

    def request(self) -> LongLevelRequest:
        """What Generate makes now, from this panel and the tab: every window asked the tab's
        condition (its open labels drawn window by window); a morph with nothing asked takes
        each window's labels from the nearer end, as `main.py interpolate --length` does."""
        morph, condition = None, self.context.condition
        if self.morph.isChecked() and self._endpoints_ready():
            a, b = self.interpolation.endpoints["A"], self.interpolation.endpoints["B"]
            generator = self.context.generator
            morph = Morph(
                a.latent,
                b.latent,
                self.interpolation.mode(),
                a.caption,
                b.caption,
                endpoint_seed(generator, a.latent, a.caption, a.labels),
                endpoint_seed(generator, b.latent, b.caption, b.labels),
                tuple(a.labels),
                tuple(b.labels),
            )
            if condition == Condition():
                condition = None
        return LongLevelRequest(
            self.length.value(),
            self.controls.seed.value(),
            condition,
            self.controls.temperature(),
            self.playable.isChecked() and morph is None,
            REPAIR_BUDGET,
            morph,
            self.difficulty.currentData() if morph is None else None,
            self.character.currentData() if morph is None and self._has_characters() else None,
        )

    def _has_characters(self) -> bool:
        """Whether the tab's model can make whole levels of a character (its card records them)."""
        generator = self.context.generator
        return generator is not None and characters_of(generator) is not None

    # --- generating ---------------------------------------------------------------------------

    def generate(self) -> Job | None:
        """Make the level of `request()` in a worker; the UI stays live and Cancel stops it at
        its next window."""
        if self.busy:
            return None
        request, generator = self.request(), self.context.generator
        what = "a morph A → B" if request.morph else f"seed {request.seed}"
        return self.run(
            lambda progress: make_long_level(generator, request, progress),
            f"Making a level of {request.length} columns from {what}"
            + (" and repairing it until the agent can finish it…" if request.playable else "…"),
        )

    def describe(self, result: LongLevelResult) -> str:
        return status_text(result)

    def show_result(self, result: LongLevelResult) -> None:
        self.result = result
        self._pixmap = to_pixmap(result.pixels)
        self._redraw()
        self._fit_height()
        self.status.setText(status_text(result))
        self.context.status.emit(f"Full level: {result.made.level.width} columns — {status_text(result)}")

    def _redraw(self) -> None:
        if self._pixmap is None or self.result is None:
            return
        shown = (
            draw_path(self._pixmap, self.result.agent, self.result.made.level.width)
            if self.show_path.isChecked()
            else self._pixmap
        )
        fitting = self.view.fitting
        self.view.set_pixmap(shown)
        self.view.fitting = fitting

    def _fit_height(self) -> None:
        """Zoom so the level's height fits and about VISIBLE_COLUMNS columns show across the
        view: the rest of the length scrolls sideways."""
        pixmap, columns = self.view.item.pixmap(), self.result.made.level.width
        if pixmap.isNull():
            return
        viewport = self.view.viewport()
        across = (viewport.width() - 4) / (min(columns, VISIBLE_COLUMNS) * pixmap.width() / columns)
        self.view.set_zoom(max(0.25, min(4.0, (viewport.height() - 4) / pixmap.height(), across)))
        self.view.horizontalScrollBar().setValue(0)

    # --- export -------------------------------------------------------------------------------

    def export_stem(self, result: LongLevelResult) -> str:
        name, request = self.context.domain.name, result.request
        if request.morph:
            return naming.morph_stem(name, request.length)
        return naming.seed_stem(name, request.seed, request.length)

    def exporter(self) -> Callable[[LongLevelResult, Path], list[Path]]:
        generator, checkpoint = self.context.generator, self.context.checkpoint
        return lambda result, path: export_long_level(generator, checkpoint, result, path)
