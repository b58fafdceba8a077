"""A dedicated denoising autoencoder for icons: `denoise images` uses it by default.

The generative VAE can only give back what its 64-number code holds, so its projection of a
noisy icon is softer than the noise it removes. This network is trained for the job instead:
inputs corrupted on the fly (Gaussian noise, salt and pepper, or none, so that a clean icon
passes through unchanged), the clean icon as the target, squared error on premultiplied RGBA
(the PSNR that `eval images` reports). It keeps full resolution beside a half-resolution
path and predicts a correction to its input, so detail it need not touch is not redrawn.

Shapes: x (B, 4, H, W) straight RGBA in [0, 1], any H and W divisible by 2; it trains on
32×32 crops and runs on whole 64×64 icons (fully convolutional). Saved as NAME.safetensors +
NAME.json with `kind: image-denoiser`; the card is checked against the tensors before use.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from generators.core.checkpoint import SHIPPED_DIR, load_checkpoint, save_checkpoint
from generators.core.errors import CheckpointError

from .pixels import premultiplied

KIND = "image-denoiser"
SHIPPED_NAME = "images-denoiser"
MAX_WIDTH = 512  # channels a card may ask for
MAX_BLOCKS = 16
CROP = 32
NOISE_SPREAD = 0.2  # Gaussian sigma drawn from 0..this per image
IMPULSE_SPREAD = 0.1  # share of salt-and-pepper pixels drawn from 0..this per image


@dataclass(frozen=True)
class DenoiserConfig:
    width: int = 32  # channels at full resolution; twice that at half resolution
    blocks: int = 3  # residual 3×3 convs at half resolution

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> DenoiserConfig:
        from generators.core.card_check import whole

        if not isinstance(data, dict) or set(data) != {"width", "blocks"}:
            raise CheckpointError('the denoiser card\'s "denoiser" field must be {"width": ..., "blocks": ...}')
        return cls(
            whole(data["width"], "denoiser.width", 1, MAX_WIDTH),
            whole(data["blocks"], "denoiser.blocks", 0, MAX_BLOCKS),
        )


class Denoiser(nn.Module):
    """stem (full res) -> down -> residual blocks (half res) -> up, joined with the stem -> correction."""

    def __init__(self, config: DenoiserConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.stem = nn.Conv2d(4, w, 3, padding=1)
        self.down = nn.Conv2d(w, 2 * w, 4, stride=2, padding=1)
        self.blocks = nn.ModuleList(nn.Conv2d(2 * w, 2 * w, 3, padding=1) for _ in range(config.blocks))
        self.up = nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1)
        self.out = nn.Conv2d(2 * w, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoised straight RGBA (B, 4, H, W) in [0, 1]."""
        skip = F.silu(self.stem(x))
        h = F.silu(self.down(skip))
        for block in self.blocks:
            h = h + F.silu(block(h))
        h = F.silu(self.up(h))
        return (x + self.out(torch.cat([h, skip], dim=1))).clamp(0.0, 1.0)

    @torch.inference_mode()
    def clean(self, x: torch.Tensor, batch: int = 128) -> torch.Tensor:
        """Denoised images on the 8-bit grid, `batch` at a time: (N, 4, H, W)."""
        self.eval()
        parts = [self(x[i : i + batch]) for i in range(0, len(x), batch)]
        return torch.round(torch.cat(parts) * 255.0) / 255.0


def corrupt(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A third of the batch with Gaussian noise, a third with salt and pepper, a third clean;
    each noisy image's strength drawn at random up to NOISE_SPREAD or IMPULSE_SPREAD."""
    kind = torch.randint(0, 3, (len(x),), generator=generator)
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    sigma = torch.rand(len(x), generator=generator) * NOISE_SPREAD
    share = torch.rand(len(x), generator=generator) * IMPULSE_SPREAD
    gaussian = (x + torch.randn(x.shape, generator=generator) * sigma[:, None, None, None]).clamp(0.0, 1.0)
    hit = torch.rand((len(x), 1, *x.shape[2:]), generator=generator) < share[:, None, None, None]
    white = (torch.rand((len(x), 1, *x.shape[2:]), generator=torch.Generator().manual_seed(seed)) < 0.5).float()
    impulse = torch.where(hit, white.expand_as(x), x)
    pick = kind[:, None, None, None]
    return torch.where(pick == 0, gaussian, torch.where(pick == 1, impulse, x))


def train_denoiser(
    images: torch.Tensor,
    config: DenoiserConfig = DenoiserConfig(),
    epochs: int = 20,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    seed: int = 0,
    log: Callable[[str], None] = lambda line: None,
) -> Denoiser:
    """Fit on clean images (N, 4, 64, 64): random 32×32 crops and horizontal flips, corrupted
    afresh each step. Seeded, so a rerun repeats it."""
    torch.manual_seed(seed)
    model = Denoiser(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=1e-4)
    steps = max(1, -(-len(images) // batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, learning_rate, total_steps=epochs * steps)
    generator = torch.Generator().manual_seed(seed)
    side = images.shape[2]
    for epoch in range(epochs):
        model.train()
        started, total = time.perf_counter(), 0.0
        order = torch.randperm(len(images), generator=generator)
        for start in range(0, len(images), batch_size):
            clean = images[order[start : start + batch_size]]
            top, left = torch.randint(0, side - CROP + 1, (2,), generator=generator).tolist()
            clean = clean[:, :, top : top + CROP, left : left + CROP]
            if bool(torch.rand(1, generator=generator) < 0.5):
                clean = clean.flip(3)
            loss = (premultiplied(model(corrupt(clean, generator))) - premultiplied(clean)).pow(2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(clean)
        log(
            f"denoiser epoch {epoch + 1}/{epochs}: loss {total / len(images):.6f} "
            f"({time.perf_counter() - started:.1f}s)"
        )
    return model.eval()


def save_denoiser(path: str | Path, model: Denoiser, card: dict) -> tuple[Path, Path]:
    card = dict(card, kind=KIND, denoiser=model.config.to_dict())
    return save_checkpoint(path, {f"denoiser.{k}": v for k, v in model.state_dict().items()}, card)


def load_denoiser(path: str | Path) -> tuple[Denoiser, dict]:
    """A saved denoiser and its card; a CheckpointError for anything else, or for tensors that
    do not match the card exactly (names, shapes, finite values)."""
    ckpt = load_checkpoint(path)
    if ckpt.card.get("kind") != KIND:
        raise CheckpointError(f"{path} is not an image denoiser")
    config = DenoiserConfig.from_dict(ckpt.card.get("denoiser"))
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in Denoiser(config).state_dict().items()}
    state = ckpt.group("denoiser")
    if {k: tuple(v.shape) for k, v in state.items()} != expected:
        raise CheckpointError(f"denoiser {path} does not match its card (tensor names or shapes differ)")
    if not all(bool(torch.isfinite(v).all()) for v in state.values()):
        raise CheckpointError(f"denoiser {path} is corrupt: a tensor holds NaN or infinite values")
    model = Denoiser(config)
    model.load_state_dict(state, strict=True)
    return model.eval(), ckpt.card


def shipped_denoiser() -> tuple[Denoiser | None, str]:
    """The shipped denoiser, or (None, why not); loaded once per process (decoding asks each time)."""
    path = SHIPPED_DIR / f"{SHIPPED_NAME}.safetensors"
    if not path.exists():
        return None, f"no {path.name} in checkpoints/"
    return _load_once(str(path))


@functools.lru_cache(maxsize=2)
def _load_once(path: str) -> tuple[Denoiser | None, str]:
    try:
        return load_denoiser(path)[0], f"checkpoints/{Path(path).name}"
    except CheckpointError as exc:
        return None, str(exc)
