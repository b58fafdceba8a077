"""The palette likelihood: nearest colours on premultiplied RGBA, exact scores, crisp decoding,
seeded draws, the k-means fit, and the card checks that keep a model and its palette together."""

import json

import pytest
import torch
import torch.nn.functional as F
from conftest import refusal

from generators.core.errors import CheckpointError
from generators.core.likelihoods import PaletteCategorical, likelihood_for
from generators.images.palette import fit_palette

COLOURS = ((0, 0, 0, 0), (255, 0, 0, 255), (0, 0, 255, 255), (255, 255, 255, 128))


def rgba(*pixels) -> torch.Tensor:
    """Pixels as 0..255 tuples -> (1, 4, 1, n) in [0, 1]."""
    return torch.tensor(pixels, dtype=torch.float32).T[None, :, None, :] / 255.0


def test_indices_are_nearest_on_premultiplied_rgba():
    palette = PaletteCategorical(COLOURS)
    x = rgba((10, 250, 30, 0), (240, 20, 10, 255), (0, 10, 230, 250), (250, 250, 250, 120))
    # A transparent pixel is transparent whatever its colour; the rest go to their nearest.
    assert palette.indices(x).tolist() == [[[0, 1, 2, 3]]]


def test_log_prob_is_the_softmax_at_each_pixels_colour_and_sums_its_map():
    palette = PaletteCategorical(COLOURS)
    logits = torch.randn(2, 4, 3, 5)
    x = palette.image(torch.randint(0, 4, (2, 3, 5), generator=torch.Generator().manual_seed(1)))
    index = palette.indices(x)
    expected = F.log_softmax(logits, 1).gather(1, index[:, None]).squeeze(1)
    assert torch.allclose(palette.log_prob_map(logits, x), expected)
    assert torch.allclose(palette.log_prob(logits, x), expected.sum((1, 2)))


def test_decoding_takes_the_most_likely_colour_and_draws_are_seeded():
    palette = likelihood_for("palette", COLOURS)
    index = torch.randint(0, 4, (1, 8, 8), generator=torch.Generator().manual_seed(2))
    logits = F.one_hot(index, 4).permute(0, 3, 1, 2).float() * 6.0
    assert torch.equal(palette.mean(logits), palette.image(index))  # the mode, not an average
    assert torch.equal(palette.sample(logits, 0.0), palette.mean(logits))
    draws = [palette.sample(logits, 2.0, torch.Generator().manual_seed(s)) for s in (4, 4, 5)]
    assert torch.equal(draws[0], draws[1]) and not torch.equal(draws[0], draws[2])
    # Every drawn pixel is a palette colour: no in-between shades.
    assert set(palette.indices(draws[2]).flatten().tolist()) <= {0, 1, 2, 3}
    assert torch.equal(palette.image(palette.indices(draws[2])), draws[2])


def test_fit_recovers_the_colours_of_a_few_colour_image_set():
    x = torch.zeros(6, 4, 16, 16)
    x[:, :, :8] = torch.tensor([1.0, 0.0, 0.0, 1.0])[None, :, None, None]  # red top half
    x[:, :, 8:, :8] = torch.tensor([0.0, 0.5, 1.0, 1.0])[None, :, None, None]  # blue bottom left
    colours = fit_palette(x, size=3)  # the bottom right stays transparent
    assert colours[0] == (0, 0, 0, 0)
    assert sorted(colours[1:]) == [(0, 128, 255, 255), (255, 0, 0, 255)]
    assert fit_palette(x, size=3, seed=0) == colours  # seeded: a rebuild repeats


def test_a_training_set_with_no_visible_pixel_is_one_clear_error():
    from generators.core.errors import UserError

    with pytest.raises(UserError, match="fully transparent"):
        fit_palette(torch.zeros(3, 4, 16, 16))


def test_a_palette_model_card_is_checked_against_its_domain(tmp_path):
    from generators.core.card_check import model_config
    from generators.core.checkpoint import save_checkpoint
    from generators.core.vae import ConditionalVAE, VAEConfig
    from generators.images.domain import ImagesDomain
    from generators.registry import load_generator

    domain = ImagesDomain((("label", ("a", "b")),), palette=COLOURS)
    config = VAEConfig(domain.shape, 2, 4, (4, 8), "palette", palette=COLOURS, head_kernel=1)
    model = ConditionalVAE(config)
    assert model.head.kernel_size == (1, 1) and model.head.out_channels == 4
    path = tmp_path / "pal.safetensors"
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    card = {
        "name": "pal",
        "domain": "images",
        "domain_config": domain.to_card(),
        "model": config.to_dict(),
        "conditions": domain.conditions.to_card(),
    }
    save_checkpoint(path, tensors, card)
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["model"]["palette"] == card["domain_config"]["palette"] == [list(c) for c in COLOURS]
    generator = load_generator(path)
    assert generator.domain.palette == COLOURS
    assert generator.sample(1, ["a"], seed=1)[0].asset.pixels.shape == (64, 64, 4)

    def broken(edit) -> str:
        return refusal(path, edit, load_generator, tmp_path / "bad")

    assert "does not match the palette" in broken(lambda d: d["domain_config"]["palette"][1].__setitem__(0, 7))
    assert "model.palette[2]" in broken(lambda d: d["model"]["palette"].__setitem__(2, [0, 0, 300, 255]))
    assert "domain_config.palette[1]" in broken(lambda d: d["domain_config"]["palette"].__setitem__(1, "red"))
    assert "head_kernel" in broken(lambda d: d["model"].__setitem__("head_kernel", 5))
    with pytest.raises(CheckpointError, match="no palette"):
        model_config({"model": dict(card["model"], likelihood="logistic")})


def test_decoding_cleans_with_the_shipped_denoiser_unless_raw_pixels_is_asked():
    from generators.images.denoiser import shipped_denoiser
    from generators.images.domain import ImagesDomain

    denoiser, source = shipped_denoiser()
    assert denoiser is not None, source
    domain = ImagesDomain((("label", ("a", "b")),), palette=COLOURS)
    logits = torch.randn(3, 4, 64, 64, generator=torch.Generator().manual_seed(7))
    chosen = domain._likelihood.sample(logits, 0.0)
    cleaned = domain.from_output(logits)
    assert [p.pixels.tolist() for p in cleaned] == [
        p.pixels.tolist() for p in domain.from_tensor(denoiser.clean(chosen))
    ]
    domain.set_decoding("raw_pixels", True)
    raw = domain.from_output(logits)
    assert [p.pixels.tolist() for p in raw] == [p.pixels.tolist() for p in domain.from_tensor(chosen)]
    assert any((a.pixels != b.pixels).any() for a, b in zip(raw, cleaned))  # the pass changes something
