"""Grid items and the Qt-free operations that make them through the Generator facade.

An `Item` is one generated asset with everything needed to regenerate it: its latent
(numpy (D,)), the label set it was decoded under, the seed and temperature it was sampled
with (None for items not sampled from a seed), plus its rendered preview. A `Shown` is a
latent shown elsewhere in a tab (an interpolation end, a palette corner, the preview) with
its labels. The functions here run in worker threads; they touch no Qt.

What the tab asks of the labels is a `Condition` (each label required, excluded or any). How
an item's labels follow it (`labels_under`): an item sampled from a seed takes the labels
`Generator.sample` draws for that seed under the condition; any other item (an encoded file,
"more like this", a point of the map) keeps its own labels, with what is required turned on
and what is excluded turned off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import numpy as np

from generators.core.conditions import Condition
from generators.core.generator import Generator

Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class Item:
    latent: np.ndarray  # (D,) float32
    labels: tuple[str, ...]  # the label set it was decoded under
    asset: Any
    pixels: np.ndarray | None  # uint8 (H, W, 3|4) preview from Domain.render (None: draw again)
    seed: int | None = None
    temperature: float | None = None
    origin: str = ""  # how an item without a seed was made, e.g. "near seed 12"
    score: float | None = None  # ELBO in nats (Generator.score); higher is more typical
    atypical: bool = False  # below the model's typicality floor (typicality.py)
    percentile: float | None = None  # share (0-100) of the model's own samples that score below it
    own_labels: tuple[str, ...] | None = None  # an item without a seed: the labels it came with

    @property
    def caption(self) -> str:
        return f"seed {self.seed}" if self.seed is not None else self.origin or "encoded"


class Shown(NamedTuple):
    """A latent a tab shows outside the grid, with the label set it is decoded under now;
    `seed` and `own` say how those labels follow a condition change (`labels_under`)."""

    latent: np.ndarray  # (D,) float32
    caption: str
    labels: tuple[str, ...]
    seed: int | None = None
    own: tuple[str, ...] | None = None  # without a seed: the labels it came with (default: `labels`)

    def under(self, generator: Generator, condition: Condition) -> Shown:
        """The same latent with its labels under `condition`."""
        own = self.labels if self.own is None else self.own
        return self._replace(labels=labels_under(generator, condition, self.seed, own), own=own)


def shown_of(item: Item) -> Shown:
    return Shown(item.latent, item.caption, item.labels, item.seed, item.own_labels)


def fit_labels(generator: Generator, labels: Iterable[str], condition: Condition) -> tuple[str, ...]:
    """`labels` with what `condition` requires turned on and what it excludes turned off (an
    exclusive group whose label is excluded takes its first allowed one)."""
    space = generator.domain.conditions
    condition = space.check(condition)
    on = set(space.decode(space.encode(labels)))
    for group in space.groups:
        required = [label for label in group.labels if label in condition.required]
        if group.exclusive:
            current = next(label for label in group.labels if label in on)
            allowed = [label for label in group.labels if label not in condition.excluded]
            chosen = required[0] if required else (current if current in allowed else allowed[0])
            on = (on - set(group.labels)) | {chosen}
        else:
            on = (on | set(required)) - set(condition.excluded)
    return tuple(label for label in space.labels if label in on)


def labels_under(
    generator: Generator, condition: Condition, seed: int | None = None, own: Sequence[str] | None = None
) -> tuple[str, ...]:
    """The label set an item takes under `condition`: a seeded one's are drawn for its seed
    (`Generator.labels_for_seed`, as `sample` draws them); another keeps `own`, fitted to the
    condition (`fit_labels`). With neither, those of seed 0 (what the CLI gives a file that
    shows no labels by itself)."""
    if seed is not None:
        return tuple(generator.labels_for_seed(seed, condition))
    if own is None:
        return tuple(generator.labels_for_seed(0, condition))
    return fit_labels(generator, own, condition)


def decode_items(generator: Generator, latents: np.ndarray, labels: Sequence[str], **fields) -> list[Item]:
    """Decode (N, D) latents under one label set and render each asset. `fields` may hold
    per-item lists (seed, origin) or one value for all (temperature)."""
    latents = np.asarray(latents, dtype=np.float32).reshape(-1, generator.latent_size)
    labels = tuple(generator.condition_labels(labels))
    assets = generator.decode(latents, list(labels))
    items = []
    for i, (z, asset) in enumerate(zip(latents, assets)):
        extra = {key: (value[i] if isinstance(value, (list, tuple)) else value) for key, value in fields.items()}
        items.append(Item(z.copy(), labels, asset, generator.domain.render(asset), **extra))
    return items


def sample_items(generator: Generator, n: int, condition: Condition, temperature: float, seed: int) -> list[Item]:
    """n fresh items; item i uses seed `seed + i` and its own labels, drawn for that seed under
    `condition` (the Generator's rules), as the CLI does."""
    samples = generator.sample(n, condition, temperature=temperature, seed=seed)
    return [
        Item(s.latent, tuple(s.condition), s.asset, generator.domain.render(s.asset), s.seed, temperature)
        for s in samples
    ]


def redecode_items(generator: Generator, items: Sequence[Item], condition: Condition) -> list[Item]:
    """The same items decoded under `condition`, each with its labels under it (`labels_under`);
    seeds and origins are kept. The latents stay too, except where the model's prior depends on
    the labels (a fitted mixture prior): a seeded item then takes its seed's latent under its
    new labels, as `sample` would have drawn it, and only encoded or edited items keep theirs."""
    if not items:
        return []
    labels = [
        labels_under(generator, condition, item.seed, item.labels if item.own_labels is None else item.own_labels)
        for item in items
    ]

    def latent_of(item: Item, item_labels: tuple[str, ...]) -> np.ndarray:
        if generator.prior is None or item.seed is None or item.temperature is None:
            return item.latent
        return generator.latent_for_seed(item.seed, item.temperature, item_labels)

    latents = np.stack([latent_of(item, lb) for item, lb in zip(items, labels)])
    assets = generator.decode_each(latents, labels)
    return [
        replace(item, latent=z, labels=lb, asset=asset, pixels=generator.domain.render(asset))
        for item, z, lb, asset in zip(items, latents, labels, assets)
    ]


def items_near(generator: Generator, centre: Item, n: int, spread: float, seed: int) -> list[Item]:
    """n items around `centre`, under its labels: z + spread * N(0, I), item i drawn with numpy
    seed `seed + i`."""
    noise = np.stack([np.random.default_rng(seed + i).standard_normal(centre.latent.shape) for i in range(n)])
    latents = (centre.latent[None, :] + spread * noise).astype(np.float32)
    around = f"near {centre.caption}"
    origins = [f"{around} #{i + 1}" for i in range(n)]
    items = decode_items(generator, latents, centre.labels, origin=origins)
    return [replace(item, own_labels=item.labels) for item in items]


def decode_shown(generator: Generator, latents: np.ndarray, labels: Sequence[Sequence[str]]) -> list[np.ndarray]:
    """Rendered assets of (N, D) latents, latent i under label set `labels[i]`."""
    latents = np.asarray(latents, dtype=np.float32).reshape(-1, generator.latent_size)
    return [generator.domain.render(asset) for asset in generator.decode_each(latents, [list(lb) for lb in labels])]
