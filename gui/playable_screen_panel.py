"""The "Playable screen" page of a whole-screen levels tab (Lode Runner): one screen made
playable as `main.py sample levels --playable` makes it (`generators.levels.lode_playable`:
the seed's screen if the agent collects all its gold, else a latent search and a ladder
repair), shown with the verdict, and exported with a JSON sidecar whose command replays it.

`make_playable_screen`, `playable_sidecar` and `export_playable_screen` are Qt-free and run
in workers. The page takes the seed, temperature and condition of its tab, as the CLI's
`--seed`, `--temperature` and `--condition`/`--without`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtWidgets import QVBoxLayout, QWidget

from generators.core import naming
from generators.core.conditions import Condition
from generators.levels.lode_playable import SEARCH_BUDGET, PlayableScreen, playable_screen

from .context import ViewContext
from .export import export_with_sidecar, sidecar
from .flow_layout import FlowLayout
from .interpolation_panel import InterpolationPanel
from .items import Item
from .long_work_page import LongWorkPage, Progress
from .qimage import to_pixmap
from .sampling_controls import SamplingControls
from .workers import Job


def supports_playable_screens(domain) -> bool:
    """Whether a tab's domain gets the page: one whose single items an agent can play."""
    return domain.playable_screen_support() == ""


@dataclass(frozen=True)
class PlayableRequest:
    seed: int
    condition: Condition
    temperature: float
    budget: int = SEARCH_BUDGET


@dataclass(frozen=True)
class PlayableResult:
    request: PlayableRequest
    made: PlayableScreen
    pixels: np.ndarray  # Domain.render of the screen


def make_playable_screen(generator, request: PlayableRequest, progress: Progress | None = None) -> PlayableResult:
    """The screen `sample --playable` makes of the request, rendered. Runs in a worker.
    `playable_screen` reports no progress on the way (it takes about a second), so a Cancel
    cannot stop it mid-search: the page drops the result when it arrives instead."""
    made = playable_screen(generator, request.seed, request.condition, request.temperature, request.budget)
    return PlayableResult(request, made, generator.domain.render(made.level))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def status_text(result: PlayableResult) -> str:
    """The verdict: playable as sampled, playable after the search (and ladders), or not."""
    made = result.made
    if made.raw_playable:
        verdict = "Playable — as sampled"
    elif made.playable:
        verdict = f"Playable after {_plural(made.attempts, 'screen')} searched"
        if made.ladder_tiles:
            verdict += f", {_plural(made.ladder_tiles, 'ladder tile')} added"
    else:
        verdict = f"Not playable after {_plural(made.attempts, 'screen')}: {made.reason}"
    return f"{verdict} · seed {result.request.seed} · {', '.join(made.labels)}"


def replay_command(result: PlayableResult, domain: str, checkpoint: str, fmt: str) -> str:
    """The `main.py sample --playable` line that writes the same screen (as LEVELS-seedS.FMT)."""
    request = result.request
    return naming.sample_command(
        domain, checkpoint, request.seed, request.temperature, request.condition, fmt, None, request.budget
    )


def playable_sidecar(result: PlayableResult, generator, checkpoint: str, asset_name: str, fmt: str) -> dict:
    """The grid items' sidecar (`export.sidecar`: seed, temperature, the latent searched to,
    `condition`: the labels decoded under, the checkpoint) plus the verdict and what it took, and
    a command that replays the whole search and repair (the latent alone misses the ladders)."""
    request, made = result.request, result.made
    item = Item(made.latent, tuple(made.labels), made.level, None, request.seed, request.temperature)
    record = sidecar(item, generator, checkpoint, asset_name, fmt)
    record.update(
        {
            "labels": list(made.labels),
            "asked": {"required": list(request.condition.required), "excluded": list(request.condition.excluded)},
            "playable_requested": True,
            "playable": bool(made.playable),
            "playable_as_sampled": bool(made.raw_playable),
            "search_budget": request.budget,
            "attempts": int(made.attempts),
            "ladder_tiles": int(made.ladder_tiles),
            "reason": made.reason,
            "command": replay_command(result, generator.domain.name, str(checkpoint), fmt),
            "note": "latent: the one the search settled on; ladder_tiles were added to its decoded screen",
        }
    )
    return record


def export_playable_screen(generator, checkpoint: str, result: PlayableResult, path: str | Path) -> list[Path]:
    """Write the screen (format by extension, atomically) and PATH.json beside it."""
    return export_with_sidecar(
        generator,
        result.made.level,
        path,
        lambda name, fmt: playable_sidecar(result, generator, checkpoint, name, fmt),
    )


class PlayableScreenPanel(LongWorkPage):
    """Generate, Cancel and Export… for one playable screen of the tab's seed."""

    noun = "screen"

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
            generate_tip="Make the tab's seed's screen playable: searched and ladder-repaired "
            "until the agent collects all its gold, as `sample --playable`",
            export_tip="Write the screen (.txt, .png, .tmx…) and a .json sidecar whose command replays it",
            steps="screens",
        )
        self.progress.setFormat("searching…")
        self.status.setText("Generate a playable screen (Ctrl+G)")
        row = FlowLayout()  # wraps onto a second row in a narrow window
        for widget in (self.generate_button, self.cancel_button, self.export_button, self.progress):
            row.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self._update_enabled()

    def _update_enabled(self) -> None:
        self.generate_button.setEnabled(not self.busy)
        self.cancel_button.setEnabled(self.busy)
        self.progress.setVisible(self.busy)
        self.export_button.setEnabled(self.result is not None and not self.busy)

    def request(self) -> PlayableRequest:
        """What Generate makes now: the tab's seed, condition and temperature, as the CLI's."""
        return PlayableRequest(self.controls.seed.value(), self.context.condition, self.controls.temperature())

    def generate(self) -> Job | None:
        """Make the screen of `request()` in a worker; the UI stays live. The search cannot be
        interrupted mid-way, so Cancel drops its result when it arrives (the screen shown stays)."""
        if self.busy:
            return None
        request, generator = self.request(), self.context.generator
        return self.run(
            lambda progress: make_playable_screen(generator, request, progress),
            f"Making seed {request.seed}'s screen playable (searching up to {request.budget} screens)…",
        )

    def describe(self, result: PlayableResult) -> str:
        return status_text(result)

    def show_result(self, result: PlayableResult) -> None:
        self.result = result
        self.view.set_pixmap(to_pixmap(result.pixels))
        self.view.fit()
        self.status.setText(status_text(result))
        self.context.status.emit(f"Playable screen: {status_text(result)}")

    def export_stem(self, result: PlayableResult) -> str:
        return naming.seed_stem(self.context.domain.name, result.request.seed) + "-playable"

    def exporter(self) -> Callable[[PlayableResult, Path], list[Path]]:
        generator, checkpoint = self.context.generator, self.context.checkpoint
        return lambda result, path: export_playable_screen(generator, checkpoint, result, path)
