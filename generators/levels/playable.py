"""Playable long levels: a bounded derivative-free search in latent space towards a level
the agent (`agent.play`) can finish.

A (1+λ) evolution strategy (`evolve`) over the window latents. The parent is the level as
sampled. Each child mutates the latents of the windows around the column where the agent got
stuck (the window holding it and one either side), adding Gaussian noise of scale sigma,
and re-stitches from the first mutated window on (the prefix stays, so the seams stay
matched). A child replaces the parent when the agent gets at least as far. The search stops
when the agent finishes a level or after `budget` children. Same seed, same budget: same level.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .domain import Level
from .evolve import Strategy, evolve
from .stitch import LongLevel, Stitcher, WindowState, window_of_column


@dataclass(frozen=True)
class RepairConfig(Strategy):
    radius: int = 1  # windows mutated on each side of the stuck one


def default_agent() -> Callable:
    from .agent import play

    return play


@dataclass
class _Candidate:
    bases: np.ndarray
    windows: list[WindowState]
    level: Level
    result: object  # PlayResult

    @property
    def fitness(self) -> tuple[bool, int]:
        return (bool(self.result.completable), int(self.result.furthest_column))


def repair(
    stitcher: Stitcher,
    bases: np.ndarray,
    budget: int = 24,
    seed: int = 0,
    seconds: float | None = None,
    config: RepairConfig = RepairConfig(),
    play: Callable | None = None,
) -> LongLevel:
    """The sampled level if the agent finishes it, else the best level found within `budget`
    re-stitched children (and `seconds`, if given; a time limit makes the result depend on
    the machine's speed). `result.playable` is the agent's verdict on the level returned."""
    play = play or default_agent()
    legend = stitcher.domain.legend
    width, overlap = stitcher.domain.width, stitcher.config.overlap
    deadline = None if seconds is None else time.monotonic() + seconds
    rng = np.random.default_rng([int(seed), 7_919])

    def evaluate(candidate_bases: np.ndarray, parent: _Candidate | None, start: int) -> _Candidate:
        windows = stitcher.stitch(candidate_bases, parent.windows if parent else None, start)
        level = stitcher.assemble(windows)
        return _Candidate(candidate_bases, windows, level, play(level, legend))

    def propose(parent: _Candidate, sigma: float) -> _Candidate:
        # The obstacle lies just past the furthest column the agent reached.
        stuck = window_of_column(min(parent.result.furthest_column + 1, stitcher.length - 1), width, overlap)
        low, high = max(0, stuck - config.radius), min(len(parent.bases), stuck + config.radius + 1)
        child = parent.bases.copy()
        child[low:high] += (sigma * rng.standard_normal((high - low, child.shape[1]))).astype(np.float32)
        return evaluate(child, parent, low)

    first = evaluate(np.asarray(bases, np.float32), None, 0)
    best, attempts = evolve(
        first, propose, lambda c: c.fitness, lambda c: bool(c.result.completable), budget, config, deadline
    )
    raw_playable = bool(first.result.completable)
    stitched = LongLevel(
        best.level,
        best.windows,
        stitcher.seams(len(best.windows)),
        stitcher.labels,
        attempts,
        bool(best.result.completable),
        raw_playable,
    )
    if not best.result.completable:
        stitched.notes.append(f"not playable after {attempts - 1} repair attempts: {best.result.reason}")
    return stitched
