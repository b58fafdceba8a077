"""t-SNE of a stack of latents, for the latent map's second view: exact, numpy only, seeded.

The map shows at most MAX_POINTS items, so the exact O(N^2) method (van der Maaten and Hinton,
2008) is fast enough (about 10 s for 1,500 points on 2 cores) and needs no extra dependency:
scikit-learn, openTSNE and umap-learn each bring far more than this (scipy, numba and llvmlite)
for what the map needs. Steps:
- affinities P: a Gaussian per point whose width gives the asked perplexity (binary search on
  its precision), symmetrised and normalised;
- a Student-t kernel Q in 2-D, gradient descent with momentum and gains, early exaggeration of P
  for the first quarter of the iterations.
`report(done, total)` is called every few iterations and `cancelled()` stops the run early.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

MAX_POINTS = 1500  # items embedded (about 10 s on 2 cores); a larger set is shown as a seeded subset of this many
PERPLEXITY = 30.0
ITERATIONS = 500
REPORT_EVERY = 25


class TsneCancelled(Exception):
    """The caller's `cancelled()` said stop."""


def subset(count: int, seed: int, most: int = MAX_POINTS) -> np.ndarray:
    """The indices (sorted) of the items a map of `count` items embeds: all, or a seeded subset."""
    if count <= most:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).permutation(count)[:most])


def affinities(x: np.ndarray, perplexity: float = PERPLEXITY, tries: int = 50) -> np.ndarray:
    """(N, N) symmetric joint probabilities P of the points x (N, D)."""
    n = len(x)
    squared = np.square(x).sum(axis=1)
    distances = np.maximum(squared[:, None] + squared[None, :] - 2.0 * x @ x.T, 0.0)
    target = np.log(min(perplexity, max(n - 1, 1) / 3.0))  # entropy asked of each row, in nats
    p = np.zeros((n, n))
    for i in range(n):
        row = np.delete(distances[i], i)
        low, high, beta = 0.0, np.inf, 1.0
        for _ in range(tries):
            weights = np.exp(-(row - row.min()) * beta)
            total = weights.sum()
            entropy = np.log(total) + beta * ((row - row.min()) * weights).sum() / total
            if abs(entropy - target) < 1e-5:
                break
            if entropy > target:  # too flat: narrow the Gaussian
                low, beta = beta, beta * 2.0 if high == np.inf else (beta + high) / 2.0
            else:
                high, beta = beta, (beta + low) / 2.0
        p[i, np.arange(n) != i] = weights / total
    p = (p + p.T) / (2.0 * n)
    return np.maximum(p, 1e-12)


def tsne(
    x: np.ndarray,
    seed: int = 0,
    perplexity: float = PERPLEXITY,
    iterations: int = ITERATIONS,
    report: Callable[[int, int], None] = lambda done, total: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> np.ndarray:
    """(N, 2) float32 t-SNE embedding of x (N, D). Same input and seed, same output."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n < 3:
        return np.zeros((n, 2), np.float32)
    x = (x - x.mean(axis=0)) / (x.std() + 1e-12)
    p = affinities(x, perplexity).astype(np.float32)  # float32 in the loop: half the memory traffic
    y = np.random.default_rng(seed).normal(0.0, 1e-4, (n, 2)).astype(np.float32)
    velocity, gains = np.zeros_like(y), np.ones_like(y)
    exaggerate = iterations // 4
    for step in range(iterations):
        if step % REPORT_EVERY == 0:
            if cancelled():
                raise TsneCancelled()
            report(step, iterations)
        squared = np.square(y).sum(axis=1)
        kernel = 1.0 / (1.0 + np.maximum(squared[:, None] + squared[None, :] - 2.0 * y @ y.T, 0.0))
        np.fill_diagonal(kernel, 0.0)
        q = np.maximum(kernel / kernel.sum(), 1e-12)
        strength = ((12.0 if step < exaggerate else 1.0) * p - q) * kernel
        gradient = 4.0 * (strength.sum(axis=1)[:, None] * y - strength @ y)
        gains = np.where(np.sign(gradient) != np.sign(velocity), gains + 0.2, gains * 0.8).clip(0.01)
        momentum = 0.5 if step < exaggerate else 0.8
        velocity = momentum * velocity - 200.0 * gains * gradient
        y = y + velocity
        y -= y.mean(axis=0)
    report(iterations, iterations)
    return y.astype(np.float32)


def trustworthiness(x: np.ndarray, y: np.ndarray, k: int = 10) -> float:
    """How well y (N, 2) keeps the k nearest neighbours of x (N, D): 1 is perfect, about 0.5 is
    random (Venna and Kaski's measure). For tests and the map's status line."""
    n = len(x)

    def ranks(points: np.ndarray) -> np.ndarray:
        squared = np.square(points).sum(axis=1)
        distances = squared[:, None] + squared[None, :] - 2.0 * points @ points.T
        np.fill_diagonal(distances, np.inf)
        return np.argsort(np.argsort(distances, axis=1), axis=1)  # rank of j among i's neighbours

    rank_x = ranks(np.asarray(x, np.float64))
    near_y = np.argsort(
        np.where(np.eye(n, dtype=bool), np.inf, np.square(y[:, None, :] - y[None, :, :]).sum(-1)), axis=1
    )[:, :k]
    penalty = sum(max(int(rank_x[i, j]) - k + 1, 0) for i in range(n) for j in near_y[i])
    return float(1.0 - 2.0 / (n * k * (2 * n - 3 * k - 1)) * penalty)
