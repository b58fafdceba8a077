"""Grid items and the Qt-free operations that make them through the Generator facade.

An `Item` is one generated asset with everything needed to regenerate it: its latent
(numpy (D,)), the condition labels it was decoded under, the seed and temperature it was
sampled with (None for items not sampled from a seed), plus its rendered preview. The
functions here run in worker threads; they touch no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from generators.core.generator import Generator

Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class Item:
    latent: np.ndarray  # (D,) float32
    labels: tuple[str, ...]
    asset: Any
    pixels: np.ndarray | None  # uint8 (H, W, 3|4) preview from Domain.render (None: draw again)
    seed: int | None = None
    temperature: float | None = None
    origin: str = ""  # how an item without a seed was made, e.g. "near seed 12"
    score: float | None = None  # ELBO in nats (Generator.score); higher is more typical
    atypical: bool = False  # below the model's typicality floor (typicality.py)

    @property
    def caption(self) -> str:
        return f"seed {self.seed}" if self.seed is not None else self.origin or "encoded"


def decode_items(generator: Generator, latents: np.ndarray, labels: Sequence[str], **fields) -> list[Item]:
    """Decode (N, D) latents under `labels` and render each asset. `fields` may hold per-item
    lists (seed, origin) or one value for all (temperature)."""
    latents = np.asarray(latents, dtype=np.float32).reshape(-1, generator.latent_size)
    assets = generator.decode(latents, list(labels))
    items = []
    for i, (z, asset) in enumerate(zip(latents, assets)):
        extra = {key: (value[i] if isinstance(value, (list, tuple)) else value) for key, value in fields.items()}
        items.append(Item(z.copy(), tuple(labels), asset, generator.domain.render(asset), **extra))
    return items


def sample_items(generator: Generator, n: int, labels: Sequence[str], temperature: float, seed: int) -> list[Item]:
    """n fresh items; item i uses seed `seed + i` (the Generator's rule), as the CLI does."""
    samples = generator.sample(n, list(labels), temperature=temperature, seed=seed)
    return [
        Item(s.latent, tuple(s.condition), s.asset, generator.domain.render(s.asset), s.seed, temperature)
        for s in samples
    ]


def redecode_items(generator: Generator, items: Sequence[Item], labels: Sequence[str]) -> list[Item]:
    """The same items decoded under other labels; seeds and origins are kept. The latents
    stay too, except where the model's prior depends on the condition (a fitted mixture
    prior): a seeded item then takes its seed's latent under the new labels, as `sample`
    would have drawn it, and only encoded or edited items keep their latent."""
    if not items:
        return []

    def latent_of(item: Item) -> np.ndarray:
        if generator.prior is None or item.seed is None or item.temperature is None:
            return item.latent
        return generator.latent_for_seed(item.seed, item.temperature, labels)

    latents = np.stack([latent_of(item) for item in items])
    assets = generator.decode(latents, list(labels))
    return [
        replace(item, latent=z, labels=tuple(labels), asset=asset, pixels=generator.domain.render(asset))
        for item, z, asset in zip(items, latents, assets)
    ]


def items_near(
    generator: Generator, centre: Item, n: int, spread: float, seed: int, labels: Sequence[str]
) -> list[Item]:
    """n items around `centre`: z + spread * N(0, I), item i drawn with numpy seed `seed + i`."""
    noise = np.stack([np.random.default_rng(seed + i).standard_normal(centre.latent.shape) for i in range(n)])
    latents = (centre.latent[None, :] + spread * noise).astype(np.float32)
    around = f"near {centre.caption}"
    origins = [f"{around} #{i + 1}" for i in range(n)]
    return decode_items(generator, latents, labels, origin=origins)
