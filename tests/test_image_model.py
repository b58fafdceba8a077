"""The images model: the discretised logistic likelihood for 8-bit RGBA, bits per dimension."""
from __future__ import annotations

import math

import torch

from generators.likelihoods import DiscretisedLogistic, bits_per_dim, get_likelihood


def _params(mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    return torch.cat([mean, log_scale], dim=1)  # (B, 2C, H, W)


def test_logistic_is_registered_with_two_channels_per_input():
    assert get_likelihood("logistic") is DiscretisedLogistic
    assert DiscretisedLogistic.output_channels(4) == 8


def test_logistic_probabilities_over_256_values_sum_to_one():
    torch.manual_seed(0)
    # Means inside, at and beyond the edges; scales from a fraction of a bin to wide.
    means = torch.tensor([-0.3, 0.0, 0.002, 0.37, 0.5, 0.998, 1.0, 1.4])
    log_scales = torch.tensor([-8.0, -5.0, -3.0, -1.0, 0.5])
    mean = means.repeat_interleave(len(log_scales)).view(1, -1, 1, 1)
    log_scale = log_scales.repeat(len(means)).view(1, -1, 1, 1)
    params = _params(mean, log_scale)  # one channel per (mean, scale) pair
    values = torch.arange(256, dtype=torch.float32) / 255.0
    x = values.view(256, 1, 1, 1).expand(256, mean.shape[1], 1, 1)
    logp = DiscretisedLogistic.log_prob_values(params.expand(256, -1, -1, -1), x)  # (256, K, 1, 1)
    totals = logp.exp().sum(dim=0).flatten()
    assert torch.allclose(totals, torch.ones_like(totals), atol=2e-3), totals


def test_logistic_log_prob_shape_gradient_and_bits_per_dim():
    torch.manual_seed(1)
    params = torch.randn(3, 8, 5, 5, requires_grad=True)
    x = torch.randint(0, 256, (3, 4, 5, 5)).float() / 255.0
    logp = DiscretisedLogistic.log_prob(params, x)
    assert logp.shape == (3,)
    assert torch.all(logp < 0)
    logp.sum().backward()
    assert torch.isfinite(params.grad).all() and params.grad.abs().sum() > 0
    assert math.isclose(bits_per_dim(4 * 64 * 64 * math.log(2.0) * 3.5, 4 * 64 * 64), 3.5)


def test_logistic_sharp_mean_scores_its_value_well():
    x = torch.randint(0, 256, (2, 4, 6, 6)).float() / 255.0
    sharp = _params(x, torch.full_like(x, -8.0))
    blurred = _params(x + 0.2, torch.full_like(x, -2.0))
    # A sharp logistic centred on the data gives almost all mass to the right bin.
    assert DiscretisedLogistic.log_prob_values(sharp, x).exp().min() > 0.9
    assert torch.all(DiscretisedLogistic.log_prob(sharp, x) > DiscretisedLogistic.log_prob(blurred, x))


def test_logistic_mean_and_sample_shapes_grid_and_determinism():
    torch.manual_seed(2)
    params = torch.randn(2, 8, 7, 7)
    mean = DiscretisedLogistic.mean(params)
    assert mean.shape == (2, 4, 7, 7)
    assert mean.min() >= 0 and mean.max() <= 1
    assert torch.equal(torch.round(mean * 255) / 255, mean)  # on the 8-bit grid
    a = DiscretisedLogistic.sample(params, 1.0, torch.Generator().manual_seed(5))
    b = DiscretisedLogistic.sample(params, 1.0, torch.Generator().manual_seed(5))
    c = DiscretisedLogistic.sample(params, 1.0, torch.Generator().manual_seed(6))
    assert a.shape == (2, 4, 7, 7) and torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= 0 and a.max() <= 1 and torch.equal(torch.round(a * 255) / 255, a)
    assert torch.equal(DiscretisedLogistic.sample(params, 0.0), mean)


def test_logistic_samples_follow_the_distribution():
    # 20k draws from one logistic: the empirical frequency of each bin matches exp(log_prob).
    mean = torch.full((1, 1, 100, 200), 0.4)
    params = _params(mean, torch.full_like(mean, math.log(0.03)))
    draws = DiscretisedLogistic.sample(params, 1.0, torch.Generator().manual_seed(0)).flatten()
    counts = torch.bincount(torch.round(draws * 255).long(), minlength=256).float() / draws.numel()
    values = torch.arange(256, dtype=torch.float32).view(256, 1, 1, 1) / 255.0
    probs = DiscretisedLogistic.log_prob_values(params[:, :, :1, :1].expand(256, -1, -1, -1), values).exp().flatten()
    assert (counts - probs).abs().max() < 0.01
