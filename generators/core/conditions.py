"""Condition spaces: named labels in groups, their multi-hot vectors, and what a user asks of them.

A group is either multi-label (any subset may be on, e.g. which tiles a level contains)
or exclusive (exactly one is on, e.g. which game). The vector is the groups' labels
concatenated in order.

Two things are called a condition and kept apart:
- a *label set* is exactly what one item is decoded under: the labels named are on, the
  others off, and an exclusive group with none named takes its first label (`encode`);
- a `Condition` is what a user asks: each label *required*, *excluded* or, by default,
  *any*. `ConditionSpace.resolve` turns it into one item's label set, drawing the labels left
  open from the training data's label sets (`LabelDistribution`, kept in the card) that agree
  with what was asked, seeded per item. So a sample with nothing asked looks like the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .errors import ConditionError


def normalise_label(name: str) -> str:
    """Labels are compared case-blind with spaces and underscores as hyphens."""
    return re.sub(r"[\s_]+", "-", name.strip().lower())


@dataclass(frozen=True)
class ConditionGroup:
    name: str
    labels: tuple[str, ...]
    exclusive: bool = False
    # How the app shows each label (`C#` for `c#`); not in the card, and not part of equality.
    titles: tuple[str, ...] = field(default=(), compare=False)

    def title(self, label: str) -> str:
        """A label as people read it: its title, else the label with hyphens as spaces."""
        if self.titles and label in self.labels:
            return self.titles[self.labels.index(label)]
        return label.replace("-", " ")


@dataclass(frozen=True)
class Condition:
    """What is asked of an item's labels: some required, some excluded, every other one any."""

    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @classmethod
    def of(cls, value: Condition | Iterable[str] | None) -> Condition:
        """A Condition as given, or one requiring a list of labels (None: nothing asked)."""
        if isinstance(value, Condition):
            return value
        return cls(tuple(value or ()))

    def describe(self) -> str:
        """`pipe, no enemy` for a tile caption; `any` when nothing is asked."""
        parts = [*self.required, *(f"no {label}" for label in self.excluded)]
        return ", ".join(parts) or "any"


class LabelDistribution:
    """The label sets of the training items with their counts: what `any` draws from.
    Stored in a checkpoint's card as `label_distribution`: [{"labels": [...], "count": n}, ...]."""

    def __init__(self, labels: Sequence[str], vectors: np.ndarray, counts: np.ndarray):
        self.labels = list(labels)
        self.vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, len(self.labels))  # (M, K) 0/1
        self.counts = np.asarray(counts, dtype=np.float64).reshape(-1)  # (M,)
        if len(self.vectors) != len(self.counts) or not np.isfinite(self.counts).all() or (self.counts < 0).any():
            raise ValueError("label distribution: one non-negative count per label set")

    @classmethod
    def from_vectors(cls, labels: Sequence[str], vectors: np.ndarray) -> LabelDistribution:
        """From the condition vectors (N, K) of the training items."""
        rows, counts = np.unique(np.asarray(vectors) > 0.5, axis=0, return_counts=True)
        return cls(labels, rows, counts)

    def to_card(self) -> list[dict]:
        return [
            {"labels": [lb for lb, on in zip(self.labels, row) if on > 0.5], "count": int(count)}
            for row, count in zip(self.vectors, self.counts)
        ]

    @classmethod
    def from_card(cls, space: ConditionSpace, rows: list[dict]) -> LabelDistribution:
        """Raises ConditionError for a label the space does not know."""
        vectors = [space.encode(row["labels"]) for row in rows]
        return cls(
            space.labels, np.stack(vectors) if vectors else np.zeros((0, space.size)), [r["count"] for r in rows]
        )

    def share(self) -> dict[str, float]:
        """The share of training items showing each label."""
        total = max(self.counts.sum(), 1.0)
        return {label: float((self.vectors[:, k] * self.counts).sum() / total) for k, label in enumerate(self.labels)}


@dataclass(frozen=True)
class ConditionSpace:
    groups: tuple[ConditionGroup, ...] = ()

    @property
    def labels(self) -> list[str]:
        return [label for group in self.groups for label in group.labels]

    @property
    def size(self) -> int:
        return len(self.labels)

    def encode(self, names: Iterable[str] | None = None) -> np.ndarray:
        """Multi-hot vector (size,) for a set of label names. Raises ConditionError."""
        wanted = [normalise_label(n) for n in (names or [])]
        known = self.labels
        unknown = [n for n in wanted if n not in known]
        if unknown:
            valid = ", ".join(known) if known else "none (this model takes no conditions)"
            raise ConditionError(f"unknown condition {unknown[0]!r}; valid conditions: {valid}")
        vector = np.zeros(self.size, dtype=np.float32)
        offset = 0
        for group in self.groups:
            chosen = [label for label in group.labels if label in wanted]
            if group.exclusive:
                if len(chosen) > 1:
                    raise ConditionError(f"choose one {group.name}, not {' and '.join(chosen)}")
                chosen = chosen or [group.labels[0]]
            for label in chosen:
                vector[offset + group.labels.index(label)] = 1.0
            offset += len(group.labels)
        return vector

    def check(self, condition: Condition | Iterable[str] | None) -> Condition:
        """The condition (a list: labels required) with its labels normalised, if it can be met,
        else a ConditionError."""
        condition = Condition.of(condition)
        required = tuple(dict.fromkeys(normalise_label(n) for n in condition.required))
        excluded = tuple(dict.fromkeys(normalise_label(n) for n in condition.excluded))
        self.encode(required)  # an unknown label, or two of one exclusive group
        for name in excluded:
            if name not in self.labels:
                valid = ", ".join(self.labels) if self.labels else "none (this model takes no conditions)"
                raise ConditionError(f"unknown condition {name!r}; valid conditions: {valid}")
        both = [n for n in required if n in excluded]
        if both:
            raise ConditionError(f"{both[0]!r} cannot be both required and excluded")
        for group in self.groups:
            if group.exclusive and all(label in excluded for label in group.labels):
                raise ConditionError(f"every {group.name} is excluded; leave at least one")
        return Condition(required, excluded)

    def pin(self, labels: Iterable[str]) -> Condition:
        """The condition that resolves to exactly this label set, whatever the seed: each label
        required, every other label of a multi-label group excluded (a replay command's)."""
        on = self.decode(self.encode(labels))
        off = [lb for group in self.groups if not group.exclusive for lb in group.labels if lb not in on]
        return Condition(tuple(on), tuple(off))

    def resolve(self, condition: Condition, distribution: LabelDistribution | None, seed: int | tuple) -> list[str]:
        """The label set of the item of `seed` under `condition`: what is required, none of what is
        excluded, and for the rest a training item's labels drawn (seeded) among those that agree.
        Without a distribution (a checkpoint from before there was one) the rest are off and an
        exclusive group takes its first allowed label, as such checkpoints always decoded."""
        condition = self.check(condition)
        index = {label: k for k, label in enumerate(self.labels)}
        required = [index[n] for n in condition.required]
        excluded = [index[n] for n in condition.excluded]
        if distribution is None:
            return self._defaults(condition)
        seeds = [int(s) for s in (seed if isinstance(seed, tuple) else (seed,))]
        rng = np.random.default_rng([*seeds, 0x1ABE1])  # this item's own draw, whatever the others ask
        vectors, counts = distribution.vectors, distribution.counts
        agree = (vectors[:, required] > 0.5).all(1) & (vectors[:, excluded] < 0.5).all(1) & (counts > 0)
        if agree.any():
            weights = counts * agree
            return self.decode(vectors[rng.choice(len(vectors), p=weights / weights.sum())])
        return self._draw_each(condition, distribution, rng)  # a combination the data never shows

    def _defaults(self, condition: Condition) -> list[str]:
        chosen = list(condition.required)
        for group in self.groups:
            if group.exclusive and not any(label in chosen for label in group.labels):
                chosen.append(next(label for label in group.labels if label not in condition.excluded))
        return self.decode(self.encode(chosen))

    def _draw_each(self, condition: Condition, distribution: LabelDistribution, rng) -> list[str]:
        """Each open label by its own training share (an exclusive group: one of its allowed labels)."""
        share, chosen = distribution.share(), list(condition.required)
        for group in self.groups:
            open_labels = [lb for lb in group.labels if lb not in condition.excluded and lb not in condition.required]
            if group.exclusive:
                if any(label in condition.required for label in group.labels):
                    continue
                weights = np.array([share[label] for label in open_labels]) + 1e-9
                chosen.append(open_labels[rng.choice(len(open_labels), p=weights / weights.sum())])
            else:
                chosen += [label for label in open_labels if rng.random() < share[label]]
        return self.decode(self.encode(chosen))

    def decode(self, vector: np.ndarray) -> list[str]:
        """Label names that are on in a vector."""
        return [label for label, value in zip(self.labels, vector) if value > 0.5]

    def to_card(self) -> list[dict]:
        return [{"name": g.name, "labels": list(g.labels), "exclusive": g.exclusive} for g in self.groups]

    @classmethod
    def from_card(cls, groups: list[dict]) -> ConditionSpace:
        return cls(tuple(ConditionGroup(g["name"], tuple(g["labels"]), bool(g["exclusive"])) for g in groups))
