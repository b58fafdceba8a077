"""A conditional mixture prior fitted to a trained model's posteriors (ex-post density estimation).

A VAE is trained against the prior N(0, I), but the codes its encoder actually uses for one
condition (say, twemoji-style flags) fill only part of that ball, and a decoder fed z from
the rest paints something between categories: a blurry blob. Fitting a density to the
posterior means after training and sampling from it instead avoids those holes (Ghosh et
al. 2020, "From variational to deterministic autoencoders", fit a Gaussian mixture the same
way). Here the mixture is fitted per condition combination, so the condition chooses where
in latent space a sample starts, as well as steering the decoder.

Shapes, for M condition combinations, K components and D latent dimensions:
    conditions (M, C)  the condition vectors of the combinations seen in training
    means      (M, K, D), spreads (M, K, D)  component centres and per-dimension sd
    weights    (M, K)  component weights (0 for the padding of a combination with fewer)

A sample for seed s at temperature t is  z = mean_k + spread_k * t * eps,  with eps the
seed's usual N(0, I) draw (`latent.sample_latent`) and k drawn from the weights by a second
stream of the same seed, so a seed still repeats its bytes and temperature 0 gives the
centre of a component. Stored in the checkpoint as `prior.conditions` etc.
"""

from __future__ import annotations

import numpy as np
import torch

PREFIX = "prior."


def kmeans(points: np.ndarray, k: int, seed: int, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ seeding: centres (k, D) and each point's cluster (N,)."""
    rng = np.random.default_rng(seed)
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):  # each next seed far from the chosen ones, with probability ~ distance^2
        gap = ((points[:, None, :] - np.stack(centres)[None]) ** 2).sum(-1).min(1)
        centres.append(
            points[rng.choice(len(points), p=gap / gap.sum())] if gap.sum() > 0 else points[rng.integers(len(points))]
        )
    centres = np.stack(centres).astype(np.float64)
    for _ in range(iterations):
        assign = ((points[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        moved = np.stack([points[assign == j].mean(0) if (assign == j).any() else centres[j] for j in range(k)])
        if np.allclose(moved, centres):
            break
        centres = moved
    return centres, ((points[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)


def fit_mixture_prior(
    means: np.ndarray, variances: np.ndarray, conditions: np.ndarray, components: int, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Fit the prior to posterior means (N, D) and variances (N, D) of the training items
    with their condition vectors (N, C): per distinct condition vector, k-means with up to
    `components` centres (at most one per 4 items). A component's spread is the sd of its
    items around the centre plus their mean posterior variance, so it covers what the
    encoder would draw for them. Returns the checkpoint tensors (see the module docstring)."""
    combos, inverse = np.unique(conditions, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    d = means.shape[1]
    out_means = np.zeros((len(combos), components, d), np.float32)
    out_spreads = np.ones((len(combos), components, d), np.float32)
    out_weights = np.zeros((len(combos), components), np.float32)
    for m in range(len(combos)):
        rows = np.flatnonzero(inverse == m)
        x, var = means[rows].astype(np.float64), variances[rows].astype(np.float64)
        k = max(1, min(components, len(rows) // 4))
        centres, assign = kmeans(x, k, seed + m)
        for j in range(k):
            members = assign == j
            within = ((x[members] - centres[j]) ** 2).mean(0) if members.sum() > 1 else var.mean(0)
            out_means[m, j] = centres[j]
            out_spreads[m, j] = np.sqrt(within + var[members].mean(0))
            out_weights[m, j] = members.mean()
    return {
        PREFIX + "conditions": torch.from_numpy(combos.astype(np.float32)),
        PREFIX + "means": torch.from_numpy(out_means),
        PREFIX + "spreads": torch.from_numpy(out_spreads),
        PREFIX + "weights": torch.from_numpy(out_weights),
    }


@torch.inference_mode()
def fit_to_model(
    model, x: torch.Tensor, c: torch.Tensor, components: int, seed: int = 0, batch: int = 256
) -> dict[str, torch.Tensor]:
    """`fit_mixture_prior` on a trained model's posteriors of items x (N, ...) with conditions c (N, C)."""
    parts = [model.encode(x[i : i + batch], c[i : i + batch]) for i in range(0, len(x), batch)]
    means = torch.cat([mu for mu, _ in parts]).numpy()
    variances = torch.cat([logvar for _, logvar in parts]).exp().numpy()
    return fit_mixture_prior(means, variances, c.numpy(), components, seed)


class MixturePrior:
    """The fitted prior, read back from checkpoint tensors."""

    def __init__(self, tensors: dict[str, torch.Tensor]):
        self.conditions = tensors[PREFIX + "conditions"].numpy()
        self.means = tensors[PREFIX + "means"].numpy()
        self.spreads = tensors[PREFIX + "spreads"].numpy()
        self.weights = tensors[PREFIX + "weights"].numpy().astype(np.float64)
        m, k, d = self.means.shape
        if self.spreads.shape != (m, k, d) or self.weights.shape != (m, k) or len(self.conditions) != m:
            raise ValueError("the mixture prior's tensors do not agree in shape")

    @classmethod
    def from_extras(cls, extras: dict[str, torch.Tensor]) -> MixturePrior | None:
        return cls(extras) if PREFIX + "means" in extras else None

    @property
    def components(self) -> int:
        return self.means.shape[1]

    def row(self, condition: np.ndarray) -> int | None:
        """Which fitted combination a condition vector (C,) is, or None if training never saw it."""
        hits = np.flatnonzero(np.all(np.isclose(self.conditions, condition[None]), axis=1))
        return int(hits[0]) if len(hits) else None

    def latent(self, condition: np.ndarray, seed: int, noise: np.ndarray) -> np.ndarray | None:
        """z (D,) for one seed: the component chosen by the seed, plus its spread times `noise`
        (the seed's N(0, t^2 I) draw). None where the condition was never seen in training,
        and the caller falls back to N(0, I)."""
        m = self.row(condition)
        if m is None:
            return None
        weights = self.weights[m] / self.weights[m].sum()
        k = int(np.random.default_rng([seed, 1]).choice(len(weights), p=weights))
        return (self.means[m, k] + self.spreads[m, k] * noise).astype(np.float32)
