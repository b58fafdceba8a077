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
computed once per condition in the worker that samples the grid. Where the domain names
`typicality_groups` (music: style and metre), an item is ranked among reference samples of its
own labels in them: a four-voice chorale has far more notes to explain than a one-voice tune,
and a 4/4 clip a third more steps than a 3/4 one, so among mixed ones these would look atypical.
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
    """Per condition, the sorted ELBOs of the model's own reference samples, hence the floor below
    which an item is atypical and any item's percentile (thread-safe, computed lazily). The
    reference items are what the grid would show under that condition: each with its own labels,
    scored under them."""

    def __init__(self, generator: Generator, count: int = REFERENCE_COUNT):
        self.generator = generator
        self.count = count
        self._scores: dict[Condition, np.ndarray] = {}
        self._lock = threading.Lock()

    def scores(self, condition: Condition) -> np.ndarray:
        """The reference ELBOs under `condition`, sorted ascending."""
        with self._lock:
            if condition in self._scores:
                return self._scores[condition]
        samples = self.generator.sample(self.count, condition, temperature=1.0, seed=REFERENCE_SEED)
        scores = np.sort(score_each(self.generator, [s.asset for s in samples], [s.condition for s in samples]))
        with self._lock:
            self._scores[condition] = scores
        return scores

    def narrowed(self, condition: Condition, labels: Sequence[str] = ()) -> Condition:
        """The condition an item with `labels` is ranked under: `condition`, plus the item's own
        label in each of the domain's `typicality_groups` that the condition leaves open."""
        required = list(condition.required)
        for group in self.generator.domain.conditions.groups:
            if group.name not in self.generator.domain.typicality_groups:
                continue
            label = next((lb for lb in labels if lb in group.labels), None)
            if label is not None and not any(lb in condition.required for lb in group.labels):
                required.append(label)
        return condition if len(required) == len(condition.required) else Condition(tuple(required), condition.excluded)

    def floor(self, condition: Condition, labels: Sequence[str] = ()) -> float:
        return float(np.percentile(self.scores(self.narrowed(condition, labels)), ATYPICAL_PERCENTILE))

    def known_floor(self, condition: Condition, labels: Sequence[str] = ()) -> float | None:
        with self._lock:
            known = self._scores.get(self.narrowed(condition, labels))
        return None if known is None else float(np.percentile(known, ATYPICAL_PERCENTILE))


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
    out = []
    for item, s in zip(items, scores):
        known = reference.scores(reference.narrowed(condition, item.labels))
        floor = float(np.percentile(known, ATYPICAL_PERCENTILE))
        rank = 100.0 * float(np.searchsorted(known, s, side="right")) / len(known)
        out.append(replace(item, score=float(s), atypical=bool(s < floor), percentile=rank))
    return out


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def badge_text(item: Item) -> str:
    """The tile's badge: where the item falls among the model's own samples, e.g. "62nd pct"."""
    if item.percentile is None:
        return ""
    return f"{ordinal(min(99, max(1, round(item.percentile))))} pct"


def badge_tooltip(item: Item, floor: float | None) -> str:
    if item.score is None:
        return ""
    if item.percentile is None:
        return f"ELBO {item.score:.1f} nats (higher is more typical)"
    share = round(item.percentile)
    verdict = (
        "Atypical: it scores below 95% of what this model makes under these conditions"
        if item.atypical
        else f"More typical than {share}% of what this model makes under these conditions"
    )
    return f"{verdict} (ELBO {item.score:.1f} nats; flagged below the 5th percentile)"
