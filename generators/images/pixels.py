"""Pixel arithmetic shared by the images measures: premultiplied alpha and PSNR.

Images are (N, 4, H, W) straight-alpha RGBA tensors in [0, 1]. Comparisons happen on
premultiplied RGBA (RGB times alpha, then alpha), so the colour under a fully transparent
pixel, which nobody sees, counts for nothing.
"""

from __future__ import annotations

import torch


def premultiplied(x: torch.Tensor) -> torch.Tensor:
    """Straight RGBA (N, 4, H, W) -> premultiplied RGBA (N, 4, H, W)."""
    return torch.cat([x[:, :3] * x[:, 3:4], x[:, 3:4]], dim=1)


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio (dB, peak 1) per image on premultiplied RGBA: (N,)."""
    mse = (premultiplied(a) - premultiplied(b)).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(1.0 / mse.clamp(min=1e-10))
