"""Typicality badges, Qt-free: each grid item's ELBO (nats, higher is more typical) from
`Generator.score`, and whether it is atypical for the model.

Why a percentile of the model's own samples, not a z-score: an ELBO's scale depends on the
domain and the item size (a 14×16 level and a 64×64 image differ by orders of magnitude),
and its distribution has a long low tail (a few garbled items score far below the rest), so
mean ± k·std is pulled by that tail and has no fixed meaning. "Below the 5th percentile of
what this model generates at temperature 1 under the same condition" needs no assumption
about the shape, adapts to every model and condition, and reads plainly: about 1 in 20 of the
model's ordinary samples would be flagged. "The same condition" is what the tab asks: each item
of the reference batch has its own labels, drawn as a grid's items are, and is scored under
them. The reference batch is fixed-seed, so the threshold is the same every time, and it is
computed once per condition in the worker that samples the grid.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Sequence

import numpy as np

from generators.core.conditions import Condition
from generators.core.generator import Generator

from .items import Item

REFERENCE_COUNT = 64
REFERENCE_SEED = 2_000_000_000  # fixed: the same threshold in every session
ATYPICAL_PERCENTILE = 5.0


class TypicalityReference:
    """Per condition, the ELBO below which an item is atypical (thread-safe, computed lazily).
    The reference items are what the grid would show under that condition: each with its own
    labels, scored under them."""

    def __init__(self, generator: Generator, count: int = REFERENCE_COUNT):
        self.generator = generator
        self.count = count
        self._floors: dict[Condition, float] = {}
        self._lock = threading.Lock()

    def floor(self, condition: Condition) -> float:
        with self._lock:
            if condition in self._floors:
                return self._floors[condition]
        samples = self.generator.sample(self.count, condition, temperature=1.0, seed=REFERENCE_SEED)
        scores = score_each(self.generator, [s.asset for s in samples], [s.condition for s in samples])
        value = float(np.percentile(scores, ATYPICAL_PERCENTILE))
        with self._lock:
            self._floors[condition] = value
        return value

    def known_floor(self, condition: Condition) -> float | None:
        with self._lock:
            return self._floors.get(condition)


def score_each(generator: Generator, assets: Sequence, labels: Sequence[Sequence[str]]) -> np.ndarray:
    """ELBO per asset, asset i under label set `labels[i]` (those sharing a set scored together)."""
    scores = np.zeros(len(assets), dtype=np.float64)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, item_labels in enumerate(labels):
        groups.setdefault(tuple(item_labels), []).append(i)
    for item_labels, rows in groups.items():
        scores[rows] = generator.score([assets[i] for i in rows], list(item_labels))
    return scores


def with_scores(
    generator: Generator, items: Sequence[Item], condition: Condition, reference: TypicalityReference
) -> list[Item]:
    """The items with their ELBO scores (each under the labels it was decoded with) and flags
    against the floor of the condition they were made under."""
    if not items:
        return []
    scores = score_each(generator, [item.asset for item in items], [item.labels for item in items])
    floor = reference.floor(condition)
    return [replace(item, score=float(s), atypical=bool(s < floor)) for item, s in zip(items, scores)]


def badge_text(score: float | None) -> str:
    return "" if score is None else f"{score:.1f}"


def badge_tooltip(item: Item, floor: float | None) -> str:
    if item.score is None:
        return ""
    where = f"; atypical below {floor:.1f} (5th percentile of the model's own samples)" if floor is not None else ""
    verdict = "atypical" if item.atypical else "typical"
    return f"ELBO {item.score:.1f} nats ({verdict}; higher is more typical){where}"
