"""The dedicated denoiser: it learns to remove both noise kinds from toy icons (so the test can
fail), and its loader refuses cards and tensors that disagree."""

import json

import pytest
import torch
from conftest import refusal

from generators.core.errors import CheckpointError
from generators.images.denoiser import Denoiser, DenoiserConfig, corrupt, load_denoiser, save_denoiser, train_denoiser
from generators.images.metrics import add_noise, add_salt_pepper
from generators.images.pixels import psnr


def icons(n: int, seed: int) -> torch.Tensor:
    """Opaque squares of one random colour each on transparency, 64×64."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 4, 64, 64)
    for i in range(n):
        top, left = torch.randint(4, 28, (2,), generator=g).tolist()
        size = int(torch.randint(12, 32, (1,), generator=g))
        x[i, :3, top : top + size, left : left + size] = torch.rand(3, 1, 1, generator=g)
        x[i, 3, top : top + size, left : left + size] = 1.0
    return torch.round(x * 255) / 255


def test_corruption_mixes_noise_kinds_and_leaves_some_clean():
    x = icons(60, 0)
    noisy = corrupt(x, torch.Generator().manual_seed(1))
    changed = (noisy != x).flatten(1).any(1)
    assert 10 < int(changed.sum()) < 60  # about a third stay clean
    assert noisy.min() >= 0 and noisy.max() <= 1


def test_trained_denoiser_raises_psnr_for_both_noise_kinds():
    model = train_denoiser(icons(96, 2), DenoiserConfig(width=8, blocks=1), epochs=6, batch_size=16, seed=0)
    clean = icons(24, 3)
    for noisy in (add_noise(clean, 0.1, seed=4), add_salt_pepper(clean, 0.05, seed=5)):
        gain = psnr(model.clean(noisy), clean).mean() - psnr(noisy, clean).mean()
        assert gain > 2.0, float(gain)


def test_loader_checks_the_card_against_the_tensors(tmp_path):
    model = Denoiser(DenoiserConfig(width=4, blocks=1))
    weights, card_path = save_denoiser(tmp_path / "d", model, {"name": "d"})
    loaded, card = load_denoiser(weights)
    assert loaded.config == model.config and card["kind"] == "image-denoiser"
    x = icons(2, 6)
    assert torch.equal(loaded.clean(x), model.clean(x))

    def refused(edit) -> str:
        return refusal(weights, edit, load_denoiser, tmp_path / "bad")

    assert "does not match its card" in refused(lambda d: d["denoiser"].__setitem__("blocks", 2))
    assert "denoiser.width" in refused(lambda d: d["denoiser"].__setitem__("width", 10**6))
    assert "not an image denoiser" in refused(lambda d: d.__setitem__("kind", "image-classifier"))
    assert "must be" in refused(lambda d: d.__setitem__("denoiser", [4, 1]))
