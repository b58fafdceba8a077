"""Observation models p(x | z): how a decoder's output scores an item and becomes an item.

Each likelihood maps decoder output of shape (B, out_channels, H, W) to a log-probability
per item (B,), summed over every cell. The domains pick one by name in the model config:

- `categorical`: one-hot tiles, a softmax over channels per cell (levels);
- `bernoulli`:   independent binary cells, logits per cell (music piano rolls).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


class Categorical:
    """One class per cell; `x` is one-hot over the channel axis."""

    name = "categorical"

    @staticmethod
    def output_channels(input_channels: int) -> int:
        return input_channels

    @staticmethod
    def log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return (x * F.log_softmax(logits, dim=1)).sum(dim=(1, 2, 3))  # (B,)

    @staticmethod
    def mean(logits: torch.Tensor) -> torch.Tensor:
        return F.softmax(logits, dim=1)


class Bernoulli:
    """Independent binary cells; `x` holds 0/1 values."""

    name = "bernoulli"

    @staticmethod
    def output_channels(input_channels: int) -> int:
        return input_channels

    @staticmethod
    def log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        return -nll.sum(dim=(1, 2, 3))  # (B,)

    @staticmethod
    def mean(logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)


LIKELIHOODS = {cls.name: cls for cls in (Categorical, Bernoulli)}


def get_likelihood(name: str):
    """Look up a likelihood by the name stored in a model config."""
    try:
        return LIKELIHOODS[name]
    except KeyError:
        raise ValueError(f"unknown likelihood {name!r}; known: {', '.join(LIKELIHOODS)}") from None
