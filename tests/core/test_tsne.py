"""t-SNE for the latent map's second view: it keeps neighbours (three separated clusters stay
apart, and more neighbours survive than on the PCA plane), it is seeded, and it stops when asked."""

from __future__ import annotations

import numpy as np
import pytest

from generators.core.tsne import MAX_POINTS, TsneCancelled, subset, trustworthiness, tsne


def clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 5.0, (3, 16))
    labels = np.repeat(np.arange(3), 80)
    return centres[labels] + rng.normal(0.0, 1.0, (240, 16)), labels


def test_tsne_keeps_clusters_apart_and_neighbours_close():
    x, labels = clusters()
    y = tsne(x, seed=0, iterations=300)
    assert y.shape == (240, 2) and y.dtype == np.float32 and np.isfinite(y).all()
    centres = np.stack([y[labels == k].mean(axis=0) for k in range(3)])
    spread = np.mean([np.linalg.norm(y[labels == k] - centres[k], axis=1).mean() for k in range(3)])
    gap = min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3))
    assert gap > 3 * spread
    centred = x - x.mean(axis=0)
    plane = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
    assert trustworthiness(x, y) > trustworthiness(x, plane)  # t-SNE's whole point
    assert trustworthiness(x, y) > 0.9


def test_tsne_is_seeded_and_reports_and_stops():
    x, _ = clusters(1)
    seen = []
    first = tsne(x[:60], seed=3, iterations=50, report=lambda done, total: seen.append((done, total)))
    np.testing.assert_array_equal(first, tsne(x[:60], seed=3, iterations=50))
    assert seen[0] == (0, 50) and seen[-1] == (50, 50)
    with pytest.raises(TsneCancelled):
        tsne(x[:60], iterations=50, cancelled=lambda: True)
    assert tsne(x[:2]).shape == (2, 2)  # too few to place: zeros, no error


def test_a_large_map_embeds_a_seeded_subset():
    assert list(subset(10, seed=0)) == list(range(10))
    big = subset(MAX_POINTS * 3, seed=0)
    assert len(big) == MAX_POINTS and np.all(np.diff(big) > 0)
    np.testing.assert_array_equal(big, subset(MAX_POINTS * 3, seed=0))
