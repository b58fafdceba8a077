"""The colours of a palette-likelihood images model, fitted to its training images.

An icon set uses few colours: 128 k-means centres in premultiplied RGBA reproduce the emoji
cache at 32.2 dB PSNR per image (64 at 30.0, 256 at 34.9: `bench/bench_palette.py`); 256
would double the output layer for 2.8 dB. Entry 0 is fully transparent, since most
of an icon's pixels are (37% of the emoji cache's are exactly that). Centres come back as
straight RGBA 0..255.
"""

from __future__ import annotations

import numpy as np
import torch

from generators.core.errors import UserError

PALETTE_SIZE = 128  # colours, transparent included
FIT_PIXELS = 200_000  # visible pixels sampled for the fit: more changes the centres little
FIT_ROUNDS = 25


def fit_palette(
    images: torch.Tensor, size: int = PALETTE_SIZE, seed: int = 0, rounds: int = FIT_ROUNDS
) -> tuple[tuple[int, int, int, int], ...]:
    """K-means colours of straight-RGBA images (N, 4, H, W) in [0, 1], transparent first.

    Distances are taken on premultiplied RGBA, as the likelihood takes them: two pixels that
    look the same (any colour under zero alpha) are the same. Seeded, so a rebuild repeats.
    Raises UserError when no pixel of any image is visible."""
    pixels = images.permute(0, 2, 3, 1).reshape(-1, 4).float()
    pixels = torch.cat([pixels[:, :3] * pixels[:, 3:], pixels[:, 3:]], dim=1)
    visible = pixels[pixels[:, 3] > 0]
    if len(visible) == 0:
        raise UserError("every training image is fully transparent: there are no colours to learn")
    generator = torch.Generator().manual_seed(seed)
    if len(visible) > FIT_PIXELS:
        visible = visible[torch.randperm(len(visible), generator=generator)[:FIT_PIXELS]]
    wanted = max(1, min(size - 1, len(visible)))
    centres = visible[torch.randperm(len(visible), generator=generator)[:wanted]].clone()
    for _ in range(rounds):
        nearest = torch.cdist(visible, centres).argmin(1)
        sums = torch.zeros_like(centres).index_add_(0, nearest, visible)
        counts = torch.bincount(nearest, minlength=len(centres)).float()
        used = counts > 0
        centres[used] = sums[used] / counts[used, None]  # an unused centre stays where it was
    return (0, 0, 0, 0), *_straight_colours(centres)


def _straight_colours(premultiplied: torch.Tensor) -> list[tuple[int, int, int, int]]:
    """Premultiplied centres (K, 4) -> distinct visible straight-RGBA colours 0..255, in order."""
    alpha = premultiplied[:, 3:].clamp(min=1.0 / 255.0)
    straight = torch.cat([(premultiplied[:, :3] / alpha).clamp(0.0, 1.0), premultiplied[:, 3:]], dim=1)
    values = np.round(straight.numpy() * 255.0).astype(int)
    seen: dict[tuple[int, int, int, int], None] = {}
    for colour in values:
        entry = tuple(int(v) for v in colour)
        if entry[3] > 0:
            seen.setdefault(entry, None)
    return list(seen)
