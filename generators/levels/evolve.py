"""A (1+λ) evolution strategy: the bounded, derivative-free latent search that both playable
paths run, `playable` on stitched long levels and `lode_playable` on single Lode Runner screens.

Each generation proposes λ children of the best candidate so far, each a mutation of scale
sigma. The best child replaces the parent when it scores at least as well (so the search can
drift across plateaus); sigma grows after a generation that scored better and shrinks after one
that did not (a 1/5th-rule flavour). What a mutation is, how a candidate is scored and when it
is good enough are the caller's: the search knows only candidates and their fitness.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, TypeVar

Candidate = TypeVar("Candidate")


@dataclass(frozen=True)
class Strategy:
    population: int = 4  # λ: children per generation
    sigma: float = 0.7  # initial mutation scale, in prior standard deviations
    grow: float = 1.3  # sigma after a generation that scored better
    shrink: float = 0.85  # sigma after one that did not


def evolve(
    first: Candidate,
    propose: Callable[[Candidate, float], Candidate],
    fitness: Callable[[Candidate], tuple],
    done: Callable[[Candidate], bool],
    budget: int,
    strategy: Strategy = Strategy(),
    deadline: float | None = None,
) -> tuple[Candidate, int]:
    """The best candidate found from `first`, and how many were scored (`first` included).

    `propose(parent, sigma)` makes and scores one child. The search stops at a candidate that is
    `done`, after `budget` children, or past `deadline` (a `time.monotonic()` instant)."""
    best, attempts, sigma = first, 1, strategy.sigma
    while not done(best) and attempts <= budget:
        if deadline is not None and time.monotonic() > deadline:
            break
        children = []
        for _ in range(min(strategy.population, budget - attempts + 1)):
            children.append(propose(best, sigma))
            attempts += 1
            if done(children[-1]):
                break
        top = max(children, key=fitness)
        sigma *= strategy.grow if fitness(top) > fitness(best) else strategy.shrink
        if fitness(top) >= fitness(best):
            best = top
    return best, attempts
