"""Observation models p(x | z): how a decoder's output scores an item and becomes an item.

Each likelihood maps decoder output of shape (B, out_channels, H, W) to a log-probability
per item (B,), summed over every cell. The domains pick one by name in the model config:

- `categorical`: one-hot tiles, a softmax over channels per cell (levels);
- `bernoulli`:   independent binary cells, logits per cell (the JSB benchmark's one-plane rolls);
- `pianoroll`:   two planes (note active, onset) where the onset is scored only where it is free;
- `logistic`:    8-bit values scaled to [0, 1], a discretised logistic per value (RGBA images);
- `palette`:     RGBA pixels, each one of K fitted colours: a softmax over the K per pixel (images).

All but `palette` are stateless classes; `palette` needs its colours, so `likelihood_for(config)`
builds an instance of it from the model config. Both expose the same calls.
"""

from __future__ import annotations

import math

import numpy as np
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
    def log_prob_map(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return (x * F.log_softmax(logits, dim=1)).sum(dim=1)  # (B, H, W): each cell's share of log_prob

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
    def log_prob_map(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)  # (B, H, W)

    @staticmethod
    def mean(logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)


class PianoRoll:
    """Two-plane piano rolls, planes (note active, onset) over (time, key).

    The active plane is Bernoulli per cell. The onset plane is not free everywhere: a
    key that is silent has no onset, and a key that starts sounding always has one
    (`generators.music.roll.consistent` makes every roll so). The only open question is whether a
    key that was already sounding is struck again, so the onset is scored only at cells
    active both now and one step earlier. This is an exact likelihood over valid rolls,
    and it stops the model paying for onsets that the active plane already fixes."""

    name = "pianoroll"

    @staticmethod
    def output_channels(input_channels: int) -> int:
        return input_channels

    @staticmethod
    def log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        active, onset = x[:, 0], x[:, 1]  # (B, T, K)
        held = torch.zeros_like(active)
        held[:, 1:] = active[:, 1:] * active[:, :-1]
        log_active = -F.binary_cross_entropy_with_logits(logits[:, 0], active, reduction="none")
        log_onset = -F.binary_cross_entropy_with_logits(logits[:, 1], onset, reduction="none") * held
        return (log_active + log_onset).sum(dim=(1, 2))  # (B,)

    @classmethod
    def log_prob_map(cls, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B, T, K): each (step, key) cell's share of log_prob."""
        active, onset = x[:, 0], x[:, 1]
        held = torch.zeros_like(active)
        held[:, 1:] = active[:, 1:] * active[:, :-1]
        log_active = -F.binary_cross_entropy_with_logits(logits[:, 0], active, reduction="none")
        return log_active - F.binary_cross_entropy_with_logits(logits[:, 1], onset, reduction="none") * held

    @staticmethod
    def mean(logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)


class DiscretisedLogistic:
    """8-bit values scaled to [0, 1]: each value is a logistic (mean, log-scale) integrated over
    its bin of width 1/255, with the whole tail below 0 given to value 0 and the tail above 1 to
    value 255 (PixelCNN++, one component). The decoder gives 2 channels per input channel:
    output[:, :C] holds the means, output[:, C:] the log-scales."""

    name = "logistic"
    levels = 255  # bins - 1: value k sits at k / 255
    min_log_scale = -8.0  # exp(-8) ~ 3e-4 (a 12th of a bin): 99% of the mass can sit in one bin

    @staticmethod
    def output_channels(input_channels: int) -> int:
        return 2 * input_channels

    @classmethod
    def split(cls, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoder output (B, 2C, H, W) -> means and clamped log-scales, each (B, C, H, W)."""
        mean, log_scale = params.chunk(2, dim=1)
        return mean, log_scale.clamp(min=cls.min_log_scale)

    @classmethod
    def log_prob_values(cls, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Log-probability of each value (B, C, H, W) of x on the 0..255 grid."""
        mean, log_scale = cls.split(params)
        inv_scale = torch.exp(-log_scale)
        half_bin = 0.5 / cls.levels
        centred = x - mean
        upper = inv_scale * (centred + half_bin)
        lower = inv_scale * (centred - half_bin)
        log_cdf_upper = upper - F.softplus(upper)  # log sigmoid(upper): mass below the bin's top (x = 0)
        log_sf_lower = -F.softplus(lower)  # log (1 - sigmoid(lower)): mass above its bottom (x = 1)
        mass = torch.sigmoid(upper) - torch.sigmoid(lower)
        # Where the bin mass underflows in float32, use the density at the centre times the bin width.
        middle = inv_scale * centred
        log_density = middle - log_scale - 2.0 * F.softplus(middle) - math.log(cls.levels)
        inner = torch.where(mass > 1e-5, torch.log(mass.clamp(min=1e-12)), log_density)
        low_edge = 0.5 / cls.levels
        return torch.where(x < low_edge, log_cdf_upper, torch.where(x > 1.0 - low_edge, log_sf_lower, inner))

    @classmethod
    def log_prob(cls, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return cls.log_prob_values(params, x).sum(dim=(1, 2, 3))  # (B,)

    @classmethod
    def log_prob_map(cls, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return cls.log_prob_values(params, x).sum(dim=1)  # (B, H, W): each pixel's share, channels summed

    @classmethod
    def mean(cls, params: torch.Tensor) -> torch.Tensor:
        """The logistic's centre clipped to [0, 1] and snapped to the 8-bit grid, (B, C, H, W)."""
        mean, _ = cls.split(params)
        return torch.round(mean.clamp(0.0, 1.0) * cls.levels) / cls.levels

    @classmethod
    def sample(
        cls, params: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Values drawn on the 8-bit grid, (B, C, H, W); temperature scales the logistic's
        scale, and 0 gives `mean`. Seeded by `generator`, so a seed repeats its bytes."""
        if temperature <= 0.0:
            return cls.mean(params)
        mean, log_scale = cls.split(params)
        u = torch.rand(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
        u = u.clamp(1e-5, 1.0 - 1e-5)
        x = mean + temperature * torch.exp(log_scale) * (torch.log(u) - torch.log1p(-u))
        return torch.round(x.clamp(0.0, 1.0) * cls.levels) / cls.levels


class PaletteCategorical:
    """RGBA pixels drawn from a fixed palette of K colours, one categorical per pixel.

    `x` stays RGBA (B, 4, H, W) in [0, 1], so the encoder sees real colours; a pixel's class is
    its nearest palette colour, measured on premultiplied RGBA (the colour under a transparent
    pixel counts for nothing). The decoder gives K logits per pixel (B, K, H, W). Decoding takes
    the most likely colour, or draws one at a temperature: no averaging, so edges stay hard where
    a mean-and-scale likelihood paints the average of the colours it hesitates between (blur).
    `colours` is (K, 4) straight RGBA in 0..255; entry 0 is fully transparent by convention."""

    name = "palette"

    def __init__(self, colours):
        # numpy, then from_numpy: card checks build models under torch.device("meta"), where a
        # tensor op here would import torch._dynamo (about 2 s of the app's cold start).
        rgba = np.asarray(colours, dtype=np.float32) / 255.0  # (K, 4)
        if rgba.ndim != 2 or rgba.shape[1] != 4 or len(rgba) < 2:
            raise ValueError("a palette is at least 2 colours of 4 values (R, G, B, A)")
        self.colours = torch.from_numpy(rgba)
        premultiplied = np.concatenate([rgba[:, :3] * rgba[:, 3:], rgba[:, 3:]], axis=1)  # (K, 4)
        self._premultiplied = torch.from_numpy(np.ascontiguousarray(premultiplied))

    def output_channels(self, input_channels: int) -> int:
        return len(self.colours)

    def indices(self, x: torch.Tensor, chunk: int = 1 << 16) -> torch.Tensor:
        """Nearest palette entry of each pixel of x (B, 4, H, W): (B, H, W) long."""
        pixels = x.permute(0, 2, 3, 1).reshape(-1, 4)
        pixels = torch.cat([pixels[:, :3] * pixels[:, 3:], pixels[:, 3:]], dim=1)
        palette = self._premultiplied.to(x.device)
        # |p - c|^2 = |p|^2 - 2 p.c + |c|^2, in chunks of pixels so memory stays flat.
        bias = palette.pow(2).sum(1)
        found = [(bias[None] - 2.0 * part @ palette.T).argmin(1) for part in pixels.split(chunk)]
        return torch.cat(found).view(x.shape[0], x.shape[2], x.shape[3])

    def log_prob_map(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B, H, W): each pixel's log-probability of its palette colour."""
        index = self.indices(x)
        return F.log_softmax(logits, dim=1).gather(1, index[:, None]).squeeze(1)

    def log_prob(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.log_prob_map(logits, x).sum(dim=(1, 2))  # (B,)

    def image(self, index: torch.Tensor) -> torch.Tensor:
        """Palette indices (B, H, W) -> straight RGBA (B, 4, H, W) in [0, 1]."""
        return self.colours.to(index.device)[index].permute(0, 3, 1, 2).contiguous()

    def mean(self, logits: torch.Tensor) -> torch.Tensor:
        """The most likely colour of each pixel (the mode, not an average): (B, 4, H, W)."""
        return self.image(logits.argmax(dim=1))

    def sample(
        self, logits: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Each pixel's colour drawn from softmax(logits / temperature) (Gumbel-max, seeded by
        `generator`); temperature 0 gives `mean`. (B, 4, H, W)."""
        if temperature <= 0.0:
            return self.mean(logits)
        u = torch.rand(logits.shape, generator=generator, dtype=logits.dtype, device=logits.device)
        gumbel = -torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
        return self.image((logits / temperature + gumbel).argmax(dim=1))


def bits_per_dim(nats: float | torch.Tensor, dims: int) -> float | torch.Tensor:
    """Nats per item -> bits per dimension (e.g. dims = 4 * 64 * 64 for an RGBA image)."""
    return nats / (dims * math.log(2.0))


LIKELIHOODS = {cls.name: cls for cls in (Categorical, Bernoulli, PianoRoll, DiscretisedLogistic, PaletteCategorical)}
MAX_PALETTE = 1024  # colours of a palette likelihood; cards claiming more are refused (`card_check`)


def get_likelihood(name: str):
    """Look up a likelihood by the name stored in a model config."""
    try:
        return LIKELIHOODS[name]
    except KeyError:
        raise ValueError(f"unknown likelihood {name!r}; known: {', '.join(LIKELIHOODS)}") from None


def likelihood_for(name: str, palette=()):
    """The likelihood a model config names, ready to call: the class itself for the stateless
    ones, an instance holding its colours for `palette`."""
    found = get_likelihood(name)
    return found(palette) if found is PaletteCategorical else found
