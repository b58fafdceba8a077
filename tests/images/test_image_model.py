"""The images model: the discretised logistic likelihood for 8-bit RGBA, bits per dimension."""

from __future__ import annotations

import math

import torch

from generators.core.likelihoods import DiscretisedLogistic, bits_per_dim, get_likelihood


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


# --- classifier and sample metrics -----------------------------------------------------

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from generators.core.conditions import ConditionGroup, ConditionSpace  # noqa: E402
from generators.core.domain import Corpus, Split  # noqa: E402
from generators.core.errors import CheckpointError  # noqa: E402
from generators.images.classifier import (  # noqa: E402
    ClassifierConfig,
    accuracy,
    classifier_path,
    group_targets,
    load_classifier,
    save_classifier,
    train_classifier,
)
from generators.images.metrics import add_noise, balanced_conditions, diversity  # noqa: E402
from generators.images.pixels import premultiplied, psnr  # noqa: E402
from generators.images.yardstick import nearest_distances  # noqa: E402

SPACE = ConditionSpace(
    (ConditionGroup("colour", ("red", "blue"), True), ConditionGroup("size", ("small", "large"), True))
)


def toy_images(n: int, seed: int) -> Split:
    """Opaque squares on transparency: red or blue, small or large, jittered in place and shade."""
    rng = np.random.default_rng(seed)
    x = torch.zeros(n, 4, 64, 64)
    c = torch.zeros(n, 4)
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    for i in range(n):
        colour, large = int(rng.integers(2)), int(rng.integers(2))
        cy, cx = rng.uniform(24, 40, size=2)
        half = 16 if large else 6
        mask = ((yy - cy).abs() < half) & ((xx - cx).abs() < half)
        x[i, 3] = mask.float()
        x[i, 0 if colour == 0 else 2] = mask.float() * float(rng.uniform(0.6, 1.0))
        c[i, colour] = 1.0
        c[i, 2 + large] = 1.0
    return Split(x, c, [f"toy-{i}" for i in range(n)])


def test_classifier_learns_labels_and_round_trips(tmp_path):
    train, held = toy_images(96, 0), toy_images(32, 1)
    model = train_classifier(train, SPACE, epochs=12, batch_size=16, learning_rate=3e-3, seed=0)
    assert model.config.groups == (("colour", ("red", "blue")), ("size", ("small", "large")))
    targets = group_targets(SPACE, held.c, model.config)
    assert targets.shape == (32, 2)
    scores = accuracy(model, held.x, targets)
    assert scores["colour"] >= 0.75 and scores["size"] >= 0.75, scores  # chance is 0.5
    path = classifier_path(tmp_path / "toy.safetensors")
    assert path.name == "toy-classifier.safetensors"
    save_classifier(path, model, {"heldout_accuracy": scores})
    loaded, card = load_classifier(path)
    assert card["heldout_accuracy"] == scores
    assert torch.equal(loaded.predict(held.x), model.predict(held.x))


def test_per_label_accuracy_counts_each_asked_label_on_its_own():
    from generators.images.classifier import ImageClassifier
    from generators.images.metrics import per_label_accuracy

    class Fixed(ImageClassifier):  # predicts colour=red and size=large for everything
        def predict(self, x, batch=256):
            return torch.tensor([[0, 1]] * len(x))

    classifier = Fixed(ClassifierConfig.for_space(SPACE))
    targets = torch.tensor([[0, 1], [0, 0], [1, 1], [0, 1]])
    found = per_label_accuracy(classifier, torch.zeros(4, 4, 64, 64), targets)
    assert found == {"colour=red": 1.0, "colour=blue": 0.0, "size=small": 0.0, "size=large": 1.0}


def test_classifier_loader_refuses_other_checkpoints(tmp_path):
    from generators.core.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "other", {"model.w": torch.zeros(2)}, {"domain": "levels"})
    with pytest.raises(CheckpointError, match="not an image classifier"):
        load_classifier(tmp_path / "other.safetensors")
    config = ClassifierConfig.for_space(SPACE)
    assert ClassifierConfig.from_dict(config.to_dict()) == config


def test_premultiplied_psnr_and_noise():
    clear = torch.zeros(1, 4, 8, 8)
    hidden_colour = clear.clone()
    hidden_colour[:, :3] = 1.0  # colour under alpha 0 is invisible: no difference
    assert torch.equal(premultiplied(hidden_colour), premultiplied(clear))
    assert psnr(hidden_colour, clear).item() == pytest.approx(100.0)  # mse floored at 1e-10
    grey = torch.full((1, 4, 8, 8), 0.5)
    grey[:, 3] = 1.0
    shifted = grey.clone()
    shifted[:, :3] += 0.1  # mse = 3/4 * 0.01 over premultiplied RGBA
    assert psnr(shifted, grey).item() == pytest.approx(10 * np.log10(1 / 0.0075), abs=1e-3)
    noisy = add_noise(grey.expand(64, -1, -1, -1).clone(), 0.1, seed=3)
    assert torch.equal(noisy, add_noise(grey.expand(64, -1, -1, -1).clone(), 0.1, seed=3))
    assert torch.equal(torch.round(noisy * 255) / 255, noisy)
    assert psnr(noisy, grey).mean().item() == pytest.approx(20.0, abs=0.5)  # sigma 0.1 -> ~20 dB


def test_nearest_distances_and_diversity():
    a = torch.zeros(3, 4, 8, 8)
    a[:, 3] = 1.0
    a[1, 0] = 1.0  # red everywhere: RMS distance from black over 4 channels = sqrt(1/4)
    a[2] = a[0]  # a duplicate of item 0
    d = nearest_distances(a, a, exclude_self=True)
    assert d.tolist() == pytest.approx([0.0, 0.5, 0.0], abs=1e-6)
    assert nearest_distances(a[1:2], a[:1]).item() == pytest.approx(0.5, abs=1e-6)
    report = diversity(a, a[:1], a)
    assert report["items"] == 3 and report["samples_to_train_nn_rms"] == pytest.approx(0.5 / 3, abs=1e-6)


def test_balanced_conditions_ask_for_every_label_equally():
    vectors = balanced_conditions(SPACE, 8)
    assert vectors.shape == (8, 4)
    assert (vectors[:, :2].sum(0) == 4).all() and (vectors[:, 2:].sum(0) == 4).all()
    assert (vectors.sum(1) == 2).all()


def test_images_evaluation_reports_bits_per_dim_and_sample_metrics():
    from generators.core.evaluation import evaluate, format_table
    from generators.core.generator import Generator
    from generators.core.vae import ConditionalVAE, VAEConfig
    from generators.images.domain import ImagesDomain

    domain = ImagesDomain((("colour", ("red", "blue")), ("size", ("small", "large"))))
    torch.manual_seed(0)
    model = ConditionalVAE(VAEConfig(domain.shape, domain.conditions.size, 4, (4, 8), "logistic"))
    generator = Generator(model, domain, {"name": "toy"})
    corpus = Corpus(toy_images(12, 0), toy_images(6, 1))
    report = evaluate(generator, corpus, iwae_k=4, samples=8, seed=0)
    dims = 4 * 64 * 64 * np.log(2)
    assert report["negative_elbo_bits_per_dim"] == pytest.approx(report["negative_elbo_nats"] / dims)
    assert report["iwae_bits_per_dim"] <= report["negative_elbo_bits_per_dim"] + 1e-3
    assert report["conditional_accuracy"].startswith("not measured")  # no classifier for toy labels
    assert report["diversity"]["items"] == 6
    assert report["denoising"]["by_the_model"]["clean_input"]["denoised_psnr_db"] > 0
    for kind in ("gaussian_sigma_0.1", "salt_pepper_5%"):
        gain = report["denoising"]["by_the_model"][kind]
        assert gain["psnr_gain_db"] == pytest.approx(gain["denoised_psnr_db"] - gain["noisy_psnr_db"])
        assert f"denoising.by_the_model.{kind}.psnr_gain_db" in format_table(report)
    yardstick = report["yardstick"]
    assert 0.0 <= yardstick["two_sample_test"]["accuracy"] <= 1.0
    assert yardstick["sharpness"]["ratio_to_real"] > 0 and yardstick["copying"]["nearest_train_distance_ratio"] > 0


def test_too_few_samples_for_the_yardstick_say_so():
    from generators.core.evaluation import evaluate
    from generators.core.generator import Generator
    from generators.core.vae import ConditionalVAE, VAEConfig
    from generators.images.domain import ImagesDomain

    domain = ImagesDomain((("colour", ("red", "blue")), ("size", ("small", "large"))))
    torch.manual_seed(0)
    model = ConditionalVAE(VAEConfig(domain.shape, domain.conditions.size, 4, (4, 8), "logistic"))
    report = evaluate(Generator(model, domain, {"name": "toy"}), Corpus(toy_images(12, 0), toy_images(6, 1)), 2, 2)
    assert report["yardstick"] == "not measured: needs at least 4 samples and 2 held-out images (got 2 and 6)"


def test_shipped_images_model_and_classifier_load_and_agree_on_labels():
    from generators.core.checkpoint import SHIPPED_DIR
    from generators.images.metrics import shipped_classifier
    from generators.registry import load_generator

    generator = load_generator("images", domain="images")
    assert generator.model.config.likelihood == "palette" and len(generator.domain.palette) == 128
    assert (SHIPPED_DIR / "images.safetensors").stat().st_size < 15 * 2**20
    first = generator.sample(2, condition=["flags", "twemoji"], seed=11)
    again = generator.sample(2, condition=["flags", "twemoji"], seed=11)
    assert first[0].asset.pixels.shape == (64, 64, 4) and first[0].asset.pixels.dtype == np.uint8
    assert all(np.array_equal(a.asset.pixels, b.asset.pixels) for a, b in zip(first, again))
    classifier, source = shipped_classifier(generator)
    assert classifier is not None, source
    assert [name for name, _ in classifier.config.groups] == ["category", "style"]


def test_classifier_shifts_move_each_image_and_fill_with_transparency():
    from generators.images.classifier import shifted

    x = torch.zeros(3, 4, 64, 64)
    x[:, :, 30:34, 30:34] = 1.0
    moved = shifted(x, 6, torch.Generator().manual_seed(0))
    assert moved.shape == x.shape
    assert torch.equal(moved.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))  # a centred square never leaves the frame
    assert not torch.equal(moved, x)
    assert torch.equal(shifted(x, 0, torch.Generator()), x)
