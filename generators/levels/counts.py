"""Count conditions for whole-level games: how many tiles of a kind a level holds, in bins.

Single-screen games such as Lode Runner are modelled as whole levels (see `levels.py`). Every
such level has enemies and gold, so presence labels say nothing; what varies is how many.
Each counted kind (gold, enemies) becomes an exclusive condition group of three bins, split
at the tertiles of the training levels:

    few:  count <  edges[0]      some: edges[0] <= count < edges[1]      many: count >= edges[1]

The edges travel in the checkpoint card, so a model labels a user's file as it labelled its
training data. Tiles of an "exact" kind (a player spawn) keep the count most training
levels have when a level is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Group name -> legend tags whose tiles it counts.
COUNTED = {"gold": ("gold", "pickupable"), "enemies": ("enemy",)}
EXACT_TAGS = ("spawn",)
# Label order within a group. An exclusive group with no label named takes its first one,
# so "some" comes first: a sample asked for nothing in particular is a typical level.
BINS = ("some", "few", "many")


def tag_members(legend: dict, tags: tuple[str, ...]) -> np.ndarray:
    """(T,) bool: the tiles of a legend carrying any of `tags`."""
    return np.array([any(t.lower() in tags for t in legend[c]) for c in legend], dtype=bool)


def tertile_edges(counts: np.ndarray) -> tuple[int, int]:
    """Integer edges (a, b), a < b, cutting whole-number counts into three bins as close to
    equal in size as ties allow."""
    counts = np.asarray(counts, dtype=np.int64)
    values = np.unique(counts)
    if len(values) < 3:  # too few distinct counts for three bins: keep few/some/many in order
        low = int(values[0])
        return low + 1, low + 2
    candidates = values[1:]  # an edge at the smallest value would leave "few" empty
    target = len(counts) / 3
    best, best_cost = (int(candidates[0]), int(candidates[-1])), float("inf")
    for i, a in enumerate(candidates):
        for b in candidates[i + 1 :]:
            sizes = np.array([(counts < a).sum(), ((counts >= a) & (counts < b)).sum(), (counts >= b).sum()])
            cost = float(((sizes - target) ** 2).sum())
            if cost < best_cost:
                best, best_cost = (int(a), int(b)), cost
    return best


@dataclass(frozen=True)
class CountBins:
    """One counted kind: its tags, bin edges and the fewest any training level had."""

    name: str
    tags: tuple[str, ...]
    edges: tuple[int, int]
    least: int = 0

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(f"{b}-{self.name}" for b in BINS)

    def bin_of(self, counts: np.ndarray) -> np.ndarray:
        """Index into `labels` (BINS order) of each count."""
        counts = np.asarray(counts)
        return np.where(counts < self.edges[0], 1, np.where(counts < self.edges[1], 0, 2))

    def range_of(self, label: str) -> tuple[int, int | None]:
        """(fewest, most) tiles a level of this bin label holds; most is None for "many"."""
        bin_name = BINS[self.labels.index(label)]
        if bin_name == "few":
            return min(self.least, self.edges[0] - 1), self.edges[0] - 1
        if bin_name == "some":
            return self.edges[0], self.edges[1] - 1
        return self.edges[1], None

    def to_card(self) -> dict:
        return {"name": self.name, "tags": list(self.tags), "edges": list(self.edges), "least": self.least}

    @classmethod
    def from_card(cls, data: dict) -> CountBins:
        return cls(
            data["name"], tuple(data["tags"]), (int(data["edges"][0]), int(data["edges"][1])), int(data["least"])
        )


def fit_count_bins(legend: dict, grids: list[np.ndarray]) -> tuple[tuple[CountBins, ...], dict[str, int]]:
    """Count groups and exact counts for a whole-level game, from its training grids
    ((H, W) vocabulary indices each). Only kinds the legend has are used."""
    bins, exact = [], {}
    for name, tags in COUNTED.items():
        members = tag_members(legend, tags)
        if members.any():
            counts = np.array([members[g].sum() for g in grids])
            bins.append(CountBins(name, tags, tertile_edges(counts), int(counts.min())))
    for tag in EXACT_TAGS:
        members = tag_members(legend, (tag,))
        if members.any():
            values, times = np.unique([members[g].sum() for g in grids], return_counts=True)
            exact[tag] = int(values[times.argmax()])  # the count most levels have
    return tuple(bins), exact
