"""The "Long piece" page of a tab whose domain `makes_pieces` (music): one piece of 4 to 64
bars chained from the model's 4-bar clips (`generators.music.piece`), drawn as one wide
picture that scrolls sideways, played through an audio transport and exported by
`Domain.write` (.mid, .wav or .png, atomically).

Generate takes the tab's seed, temperature and condition (the piece's first 4 bars are the
grid's clip of that seed); Morph A → B takes the tab's interpolation endpoints A and B and
moves from A to B across the piece, under A's labels (as `interpolate --bars` does). Both
run in a worker: a newer request supersedes the one in flight, which stops at its next clip
and whose result is dropped. `make_piece` is Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from generators.core import naming
from generators.core.conditions import Condition, ConditionSpace
from generators.core.fileio import ensure_writable_dir
from generators.music.art import playhead_x
from generators.music.piece import MAX_BARS, MIN_BARS, morph_piece, sample_piece

from .audio_transport import AudioTransport
from .conditions_panel import labels_text
from .context import ViewContext
from .flow_layout import FlowLayout, labelled
from .interpolation_panel import InterpolationPanel
from .long_work_page import LongWorkPage
from .qimage import to_pixmap
from .sampling_controls import SamplingControls
from .workers import Job

DEFAULT_BARS = 16


@dataclass(frozen=True)
class PieceMorph:
    """Morph A → B: the endpoints' latents and captions, and the one label set of the piece (A's)."""

    z_a: np.ndarray
    z_b: np.ndarray
    labels: tuple[str, ...]
    mode: str
    caption_a: str
    caption_b: str


@dataclass(frozen=True)
class PieceRequest:
    bars: int
    seed: int
    condition: Condition | None
    temperature: float
    morph: PieceMorph | None = None


@dataclass(frozen=True)
class PieceResult:
    request: PieceRequest
    clip: object  # the domain's asset: one clip of bars × steps_per_bar steps
    labels: tuple[str, ...]
    pixels: np.ndarray  # Domain.render of the piece


def make_piece(generator, request: PieceRequest, progress: Callable[[int, int], None] | None = None) -> PieceResult:
    """The piece of `request`, rendered. Runs in a worker; `progress(done, total)` once per clip
    after the first (it may raise to stop the piece there)."""
    morph = request.morph
    if morph is None:
        labels = tuple(generator.labels_for_seed(request.seed, request.condition))
        clip = sample_piece(
            generator, request.seed, request.bars, request.condition, request.temperature, progress=progress
        )
    else:
        labels = morph.labels
        clip = morph_piece(
            generator, morph.z_a, morph.z_b, list(morph.labels), request.bars, morph.mode, progress=progress
        )
    return PieceResult(request, clip, labels, generator.domain.render(clip))


def piece_stem(domain_name: str, request: PieceRequest) -> str:
    """The file stem of a piece, as the CLI names it (`naming.piece_stem`)."""
    return naming.piece_stem(domain_name, None if request.morph is not None else request.seed, request.bars)


def export_piece(generator, result: PieceResult, path: str | Path) -> list[Path]:
    """Write the piece (format by extension) atomically through `Domain.write`."""
    path = Path(path)
    generator.domain.check_format(path)
    ensure_writable_dir(path.parent)
    return generator.domain.write(result.clip, path)


def describe(result: PieceResult, space: ConditionSpace) -> str:
    """One line: what the piece is made of, and its labels as the grid's tiles show them."""
    request = result.request
    what = (
        f"morph {request.morph.caption_a} → {request.morph.caption_b}"
        if request.morph
        else f"seed {request.seed} at temperature {request.temperature:.2f}"
    )
    return f"{request.bars} bars from {what} · {labels_text(space, result.labels) or 'no labels'}"


class LongPiecePanel(LongWorkPage):
    """Bars, Generate, Morph A → B, Cancel, Export…, progress, the piece, Play."""

    noun = "piece"

    def __init__(
        self,
        context: ViewContext,
        controls: SamplingControls,
        interpolation: InterpolationPanel,
        parent: QWidget | None = None,
    ):
        noun = context.domain.item_noun[1]
        super().__init__(
            context,
            controls,
            interpolation,
            parent,
            generate_tip=f"Chain 4-bar {noun} into one piece from the tab's seed, temperature and condition; "
            "its first 4 bars are the grid's clip of that seed",
            export_tip="Write the piece as " + ", ".join(f".{f}" for f in context.domain.write_formats),
            steps="clips",
        )
        self.result: PieceResult | None = None

        self.bars = QSpinBox()
        self.bars.setRange(MIN_BARS, MAX_BARS)
        self.bars.setValue(DEFAULT_BARS)
        self.bars.setSuffix(" bars")
        self.bars.setToolTip(f"Piece length in bars ({MIN_BARS} to {MAX_BARS}), as `sample music --bars`")
        self.morph_button = QPushButton("Morph A → B")
        self.morph_button.clicked.connect(self.morph)
        self.view.setMinimumHeight(160)
        # The preview's transport already tells the status bar when audio is off.
        self.transport = AudioTransport(context, lambda: self.result.clip if self.result else None, self, quiet=True)
        self.transport.playhead.connect(self.show_playhead)

        row = FlowLayout()  # wraps onto a second row in a narrow window
        row.addWidget(labelled("Length:", self.bars))
        for widget in (
            self.generate_button,
            self.morph_button,
            self.cancel_button,
            self.export_button,
        ):
            row.addWidget(widget)
        # The progress bar sits beside the status line and keeps its room while hidden, so that
        # starting and finishing a piece never moves the picture.
        keep = self.progress.sizePolicy()
        keep.setRetainSizeWhenHidden(True)
        self.progress.setSizePolicy(keep)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.transport)
        layout.addLayout(bottom)
        interpolation.endpoint_changed.connect(lambda *_: self._update_enabled())
        self._update_enabled()

    # --- state --------------------------------------------------------------------------------

    def _update_enabled(self) -> None:
        ready = self._endpoints_ready()
        self.morph_button.setEnabled(ready)
        self.morph_button.setToolTip(
            "A piece that moves from endpoint A to B: clip k decodes the latent at t = k / (n - 1), under A's labels"
            if ready
            else "Set interpolation endpoints A and B first (Interpolation tab, or a tile's menu)"
        )
        self.cancel_button.setEnabled(self.busy)
        self.progress.setVisible(self.busy)
        self.export_button.setEnabled(self.result is not None and not self.busy)

    def request(self, morph: bool = False) -> PieceRequest:
        """What Generate (or, with `morph`, Morph A → B) makes now, from this page and the tab."""
        condition = self.context.condition
        bars, seed, temperature = self.bars.value(), self.controls.seed.value(), self.controls.temperature()
        if not morph:
            return PieceRequest(bars, seed, condition, temperature)
        a, b = self.interpolation.endpoints["A"], self.interpolation.endpoints["B"]
        shape = PieceMorph(
            np.asarray(a.latent, np.float32).copy(),
            np.asarray(b.latent, np.float32).copy(),
            tuple(a.labels),
            self.interpolation.mode(),
            a.caption,
            b.caption,
        )
        return PieceRequest(bars, seed, condition, temperature, shape)

    # --- generating ---------------------------------------------------------------------------

    def generate(self) -> Job:
        """Make the piece of the tab's seed in a worker (superseding one in flight)."""
        return self.start(self.request())

    def morph(self) -> Job | None:
        """Make a piece from endpoint A to B in a worker (superseding one in flight)."""
        if not self._endpoints_ready():
            self.context.status.emit("Set interpolation endpoints A and B first")
            return None
        return self.start(self.request(morph=True))

    def start(self, request: PieceRequest) -> Job:
        """Run `request` in a worker; a request still in flight is superseded: it stops at its
        next clip and nothing it made is shown."""
        generator = self.context.generator
        what = (
            f"a morph {request.morph.caption_a} → {request.morph.caption_b}"
            if request.morph
            else f"seed {request.seed}"
        )
        return self.run(
            lambda progress: make_piece(generator, request, progress),
            f"Making a piece of {request.bars} bars from {what}…",
        )

    def describe(self, result: PieceResult) -> str:
        return describe(result, self.context.domain.conditions)

    def show_result(self, result: PieceResult) -> None:
        self.transport.stop()  # the piece playing is not the one shown any more
        self.result = result
        self.view.set_marker(None)
        self.view.set_pixmap(to_pixmap(result.pixels))
        self._fit_height()
        self.transport.asset_changed(result.clip)
        self.status.setText(self.describe(result))
        self.context.status.emit(f"Long piece: {self.describe(result)}")

    def _fit_height(self) -> None:
        """Pixel for pixel, or smaller where the view is too short for the piece's height (at
        a zoom below 1 thin bar lines drop out); the length scrolls sideways."""
        pixmap = self.view.item.pixmap()
        if pixmap.isNull():
            return
        self.view.set_zoom(max(0.25, min(1.0, (self.view.viewport().height() - 4) / pixmap.height())))
        self.view.horizontalScrollBar().setValue(0)

    def show_playhead(self, fraction: float | None) -> None:
        width = self.view.item.pixmap().width()
        self.view.set_marker(None if fraction is None or width == 0 else playhead_x(width, fraction))

    # --- export -------------------------------------------------------------------------------

    def export_stem(self, result: PieceResult) -> str:
        return piece_stem(self.context.domain.name, result.request)

    def exporter(self) -> Callable[[PieceResult, Path], list[Path]]:
        generator = self.context.generator
        return lambda result, path: export_piece(generator, result, path)

    def shutdown(self) -> None:
        super().shutdown()
        self.transport.shutdown()
