"""The Generator facade: a trained model plus its domain, the one API every caller uses.

The GUI, the CLI, the benchmarks and the tests all go through `load_generator` and the
methods below. Inference runs under `torch.inference_mode()` with explicit seeds, so the
same checkpoint, seed and condition give the same bytes everywhere.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from . import latent as latent_ops
from .conditions import Condition, LabelDistribution
from .direction_check import failed
from .domain import Domain, Split
from .errors import UserError
from .latent_prior import MixturePrior
from .vae import ConditionalVAE, elbo_per_item, file_latents, posterior_means

MAX_FRAMES = 256  # frames of one interpolation
DECODE_BATCH = 32  # latents decoded at once (64x64 images at 256 a batch peaked near 1.2 GB for 2,560 items)


@dataclass
class Sample:
    """One generated item: its seed (None when not sampled from one), latent, labels and asset."""

    seed: int | None
    latent: np.ndarray  # (D,)
    condition: list[str]
    asset: Any


class Generator:
    """A trained conditional VAE and the domain that turns its tensors into assets."""

    def __init__(
        self, model: ConditionalVAE, domain: Domain, card: dict, extras: dict[str, torch.Tensor] | None = None
    ):
        self.model = model.eval()
        self.domain = domain
        self.card = card
        self._extras = extras or {}
        self.prior = MixturePrior.from_extras(self._extras)  # None: sample from N(0, I)
        # The training items' label sets, which `any` draws from; None in cards from before it was kept.
        rows = card.get("label_distribution")
        self.label_distribution = None if rows is None else LabelDistribution.from_card(domain.conditions, rows)

    @property
    def latent_size(self) -> int:
        return self.model.config.latent_size

    @property
    def default_temperature(self) -> float:
        """The latent temperature samples start at: the card's `sampling.temperature` where the
        model's measurements chose one (checked in `card_check`), else 1."""
        return float(self.card.get("sampling", {}).get("temperature", 1.0))

    @property
    def name(self) -> str:
        return self.card.get("name", self.domain.name)

    def condition_labels(self, condition: Iterable[str] | None) -> list[str]:
        """The full label set a list of labels makes (exactly those on; an exclusive group with none
        named takes its first). Raises ConditionError."""
        return self.domain.conditions.decode(self.domain.conditions.encode(condition))

    def check_condition(self, condition: Condition | Iterable[str] | None) -> Condition:
        """The condition, checked against this model's labels (ConditionError if it cannot be met)."""
        return self.domain.conditions.check(Condition.of(condition))

    def labels_for_seed(self, seed: int | tuple, condition: Condition | Iterable[str] | None = None) -> list[str]:
        """The label set `sample` decodes the item of `seed` under: what `condition` requires and
        excludes, the rest drawn for this seed from the training data's label sets (`conditions`)."""
        return self.domain.conditions.resolve(Condition.of(condition), self.label_distribution, seed)

    def _condition_batch(self, condition, n: int) -> torch.Tensor:
        vector = torch.from_numpy(self.domain.conditions.encode(condition))
        return vector.expand(n, -1)

    def sample(
        self, n: int, condition: Sequence[str] | None = None, temperature: float = 1.0, seed: int | None = None
    ) -> list[Sample]:
        """n items with latents from the prior at `temperature` (`latent_for_seed`). `condition`
        says what each item's labels must and must not be (a list: the labels it must show); the
        rest are drawn per item (`labels_for_seed`). Item i uses seed `seed + i`."""
        if n < 1:
            raise UserError("the number of samples must be at least 1")
        if not 0.0 <= temperature <= 10.0:
            raise UserError(f"temperature must be between 0 and 10, got {temperature}")
        base = secrets.randbelow(2**31) if seed is None else check_seed(int(seed), n)
        seeds = [base + i for i in range(n)]
        condition = self.check_condition(condition)
        labels = [self.labels_for_seed(s, condition) for s in seeds]
        z = np.stack([self.latent_for_seed(s, temperature, lb) for s, lb in zip(seeds, labels)])
        assets = self.decode_each(z, labels)
        return [Sample(s, zi, lb, a) for s, zi, lb, a in zip(seeds, z, labels, assets)]

    def decode_each(self, z: np.ndarray, labels: Sequence[Sequence[str]]) -> list:
        """Assets for latents (B, D), item i under label set `labels[i]` (items sharing a label set
        are decoded together)."""
        assets: list = [None] * len(labels)
        groups: dict[tuple, list[int]] = {}
        for i, item_labels in enumerate(labels):
            groups.setdefault(tuple(item_labels), []).append(i)
        for item_labels, rows in groups.items():
            for row, asset in zip(rows, self.decode(np.asarray(z)[rows], list(item_labels))):
                assets[row] = asset
        return assets

    def latent_for_seed(
        self, seed: int, temperature: float = 1.0, condition: Sequence[str] | None = None
    ) -> np.ndarray:
        """The latent (D,) that `sample` draws for one seed under `condition` (None: the
        default labels). z ~ N(0, temperature^2 I), unless the model carries a fitted
        mixture prior (`latent_prior`), which then places z by the condition."""
        noise = latent_ops.sample_latent(self.latent_size, check_seed(int(seed)), temperature)
        if self.prior is None:
            return noise
        vector = self.domain.conditions.encode(self.condition_labels(condition))
        z = self.prior.latent(vector, int(seed), noise)
        return noise if z is None else z

    @torch.inference_mode()
    def decode_output(self, z: np.ndarray, condition: Sequence[str] | None = None) -> torch.Tensor:
        """Raw decoder output (B, C', H, W) for latents (B, D)."""
        z = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1, self.latent_size)
        return self.model.decode(z, self._condition_batch(condition, len(z)), choose=self.domain.column_choice())

    def decode(self, z: np.ndarray, condition: Sequence[str] | None = None) -> list:
        """Assets for latents (B, D) or (D,), under one condition, DECODE_BATCH at a time: peak
        memory follows the decoder's activations for one batch, however many are asked for."""
        labels = self.condition_labels(condition)
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_size)
        assets: list = []
        for start in range(0, len(z), DECODE_BATCH):
            batch = self.decode_output(z[start : start + DECODE_BATCH], labels)
            assets.extend(self.domain.from_output(batch, condition=labels))
        return assets

    @torch.inference_mode()
    def encode(self, assets: Sequence, condition: Sequence[str] | None = None, refine: bool = False) -> np.ndarray:
        """Posterior means (B, D). Without a condition each asset is encoded under the labels
        its own content shows (e.g. the tiles a level contains). With `refine`, the latent a
        user's file gets (`file_latents`: the mean refined to explain it better, so that it comes
        back as itself); a projection (denoise, the latent map) keeps the mean."""
        x = torch.stack([self.domain.to_tensor(a) for a in assets])
        c = self._conditions_for(assets, condition)
        if refine:
            return file_latents(self.model, x, c).numpy()
        mu, _ = self.model.encode(x, c)
        return mu.numpy()

    def encode_split(self, split: Split) -> np.ndarray:
        """Posterior means (N, D) of a prepared data split (e.g. a training corpus for the
        latent map), under the conditions stored with it."""
        return posterior_means(self.model, split.x, split.c).numpy()

    def _conditions_for(self, assets: Sequence, condition, label_sets: Sequence[Sequence[str]] | None = None):
        """(B, C) condition vectors: asset i under label_sets[i] when given, else all under
        `condition`, else each under the labels it shows (`labels_of`)."""
        if label_sets is not None:
            if len(label_sets) != len(assets):
                raise ValueError(f"{len(label_sets)} label sets for {len(assets)} items")
            return torch.stack([torch.from_numpy(self.domain.conditions.encode(labels)) for labels in label_sets])
        if condition is not None:
            return self._condition_batch(condition, len(assets)).clone()
        return torch.stack([torch.from_numpy(self.domain.conditions.encode(self.domain.labels_of(a))) for a in assets])

    def interpolate(self, z_a: np.ndarray, z_b: np.ndarray, steps: int, mode: str = "slerp") -> np.ndarray:
        """`steps` latents from z_a to z_b inclusive, (steps, D)."""
        if not 1 <= steps <= MAX_FRAMES:
            raise UserError(f"steps must be between 1 and {MAX_FRAMES}, got {steps}")
        if mode not in ("slerp", "lerp"):
            raise UserError(f"unknown interpolation mode {mode!r}; use slerp or lerp")
        return latent_ops.interpolation_path(np.asarray(z_a, np.float32), np.asarray(z_b, np.float32), steps, mode)

    def stored_directions(self) -> dict[str, np.ndarray]:
        """Every latent direction the checkpoint holds (`directions.NAME`), unfiltered."""
        named = {key.split(".", 1)[1]: value for key, value in self._extras.items() if key.startswith("directions.")}
        return {name: value.numpy() for name, value in named.items()}

    def directions(self) -> dict[str, np.ndarray]:
        """Named unit-free latent directions for sliders: attribute vectors ("more pipe")
        and principal axes ("pc1"...), computed from the training set when it was trained.
        Left out: labels of exclusive groups (a game, a style: the condition controls set them,
        so a slider would duplicate them), of groups the domain applies on decode
        (`Domain.decode_only_groups`), and directions that failed the card's check
        (`direction_check`: +3 must make the label appear)."""
        groups = self.domain.conditions.groups
        dropped = {lb for g in groups if g.exclusive or g.name in self.domain.decode_only_groups for lb in g.labels}
        dropped |= failed(self.card.get("metrics", {}).get("directions"))
        return {name: value for name, value in self.stored_directions().items() if name not in dropped}

    @torch.inference_mode()
    def score_map(
        self,
        assets: Sequence,
        condition: Sequence[str] | None = None,
        label_sets: Sequence[Sequence[str]] | None = None,
    ) -> np.ndarray:
        """Per-cell log-likelihood (B, H, W) of each asset under the decoder at its posterior mean
        (each under its own labels, or as `_conditions_for` says): where the model explains it badly."""
        x = torch.stack([self.domain.to_tensor(a) for a in assets])
        c = self._conditions_for(assets, condition, label_sets)
        mu, _ = self.model.encode(x, c)
        return self.model.likelihood.log_prob_map(self.model.decode(mu, c, target=x), x).numpy()

    @torch.inference_mode()
    def score(
        self,
        assets: Sequence,
        condition: Sequence[str] | None = None,
        samples: int = 4,
        label_sets: Sequence[Sequence[str]] | None = None,
    ) -> np.ndarray:
        """ELBO per item (nats; higher is more typical), each under its own labels or as
        `_conditions_for` says. A seeded estimate: same input, same score."""
        x = torch.stack([self.domain.to_tensor(a) for a in assets])
        c = self._conditions_for(assets, condition, label_sets)
        return elbo_per_item(self.model, x, c, samples=samples).numpy()


MAX_SEED = 2**63 - 1


def check_seed(seed: int, count: int = 1) -> int:
    """A seed (and the count - 1 after it) that torch's generator accepts, else UserError."""
    if not 0 <= seed <= MAX_SEED - count:
        raise UserError(f"seed must be between 0 and {MAX_SEED - count}, got {seed}")
    return seed
