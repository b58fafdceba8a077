"""Condition spaces: named labels in groups, and their multi-hot vectors.

A group is either multi-label (any subset may be on, e.g. which tiles a level contains)
or exclusive (exactly one is on, e.g. which game). The vector is the groups' labels
concatenated in order. A label the user does not name is off; an exclusive group with no
label named takes its first label, so every vector looks like the ones the model saw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

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

    def decode(self, vector: np.ndarray) -> list[str]:
        """Label names that are on in a vector."""
        return [label for label, value in zip(self.labels, vector) if value > 0.5]

    def to_card(self) -> list[dict]:
        return [{"name": g.name, "labels": list(g.labels), "exclusive": g.exclusive} for g in self.groups]

    @classmethod
    def from_card(cls, groups: list[dict]) -> ConditionSpace:
        return cls(tuple(ConditionGroup(g["name"], tuple(g["labels"]), bool(g["exclusive"])) for g in groups))
