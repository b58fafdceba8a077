"""The conditional mixture prior: fitting per condition, seeded sampling, and its use by the
Generator facade, the training command and the app's condition change."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from generators.core.checkpoint import load_checkpoint
from generators.core.latent import sample_latent
from generators.core.latent_prior import MixturePrior, fit_mixture_prior, kmeans
from generators.registry import generator_from_checkpoint
from generators.training_run import TrainingRequest, train_and_save


def two_conditions(n: int = 200, seed: int = 0):
    """Codes of condition A around (+4, 0, ...) in two tight clusters, B around (-4, 0, ...)."""
    rng = np.random.default_rng(seed)
    d = 3
    a = np.concatenate([rng.normal([4, 2, 0], 0.1, (n // 2, d)), rng.normal([4, -2, 0], 0.1, (n // 2, d))])
    b = rng.normal([-4, 0, 0], 0.1, (n, d))
    means = np.concatenate([a, b]).astype(np.float32)
    conditions = np.repeat(np.eye(2, dtype=np.float32), [len(a), len(b)], axis=0)
    return means, np.full_like(means, 0.01), conditions


def test_kmeans_finds_separated_clusters():
    means, _, _ = two_conditions()
    centres, assign = kmeans(means[:200], 2, seed=0)
    assert sorted(np.round(centres[:, 1]).tolist()) == [-2.0, 2.0]
    assert len(set(assign[:100].tolist())) == 1 and len(set(assign[100:200].tolist())) == 1


def test_samples_land_where_their_condition_was_encoded_and_repeat_with_the_seed():
    means, variances, conditions = two_conditions()
    prior = MixturePrior(fit_mixture_prior(means, variances, conditions, components=4, seed=0))
    a, b = np.eye(2, dtype=np.float32)
    za = np.stack([prior.latent(a, s, sample_latent(3, s)) for s in range(50)])
    zb = np.stack([prior.latent(b, s, sample_latent(3, s)) for s in range(50)])
    assert (za[:, 0] > 3).all() and (zb[:, 0] < -3).all()
    assert np.array_equal(prior.latent(a, 7, sample_latent(3, 7)), za[7])
    # Both of A's clusters are used, in proportion to their items.
    assert 10 < (za[:, 1] > 0).sum() < 40
    # Temperature 0 gives a component centre: a point among the codes, not between them.
    centre = prior.latent(a, 3, 0.0 * sample_latent(3, 3))
    assert abs(abs(centre[1]) - 2.0) < 0.2
    # A condition never seen in training has no component: the caller falls back to N(0, I).
    assert prior.latent(np.ones(2, np.float32), 0, sample_latent(3, 0)) is None


def test_a_condition_with_few_items_gets_fewer_components():
    means, variances, conditions = two_conditions(n=8)
    tensors = fit_mixture_prior(means, variances, conditions, components=16)
    assert tensors["prior.means"].shape == (2, 16, 3)
    assert ((tensors["prior.weights"] > 0).sum(1) == 2).all()  # 8 items: one component per 4
    assert torch.allclose(tensors["prior.weights"].sum(1), torch.ones(2))


def test_training_with_prior_components_ships_a_prior_the_generator_samples_from(game_folder, tmp_path):
    weights, _ = train_and_save(
        TrainingRequest.of(
            "levels",
            [game_folder],
            tmp_path / "m",
            epochs=1,
            latent_size=4,
            eval_samples=10,
            iwae_k=2,
            prior_components=3,
        ),
        log=lambda message: None,
    )
    ckpt = load_checkpoint(weights)
    assert ckpt.tensors["prior.means"].shape[1:] == (3, 4)
    generator = generator_from_checkpoint(ckpt)
    assert generator.prior is not None
    combo = generator.domain.conditions.decode(ckpt.tensors["prior.conditions"][0].numpy())
    z = generator.latent_for_seed(5, 1.0, combo)
    assert not np.allclose(z, sample_latent(4, 5))  # drawn from the mixture, not N(0, I)
    assert np.array_equal(generator.sample(1, generator.domain.conditions.pin(combo), seed=5)[0].latent, z)
    # The app's condition change: a seeded tile takes its seed's latent under the new labels;
    # a tile without a seed (encoded, edited) keeps its latent.
    from gui.items import Item, redecode_items, sample_items

    other = generator.domain.conditions.decode(ckpt.tensors["prior.conditions"][-1].numpy())
    pin = generator.domain.conditions.pin  # exactly these labels, whatever the seed draws
    seeded = sample_items(generator, 1, pin(combo), 1.0, 5)[0]
    encoded = Item(z * 0.5, tuple(combo), None, None)
    moved, kept = redecode_items(generator, [seeded, encoded], pin(other))
    np.testing.assert_array_equal(moved.latent, generator.latent_for_seed(5, 1.0, other))
    np.testing.assert_array_equal(kept.latent, z * 0.5)
    assert moved.seed == 5 and tuple(moved.labels) == tuple(generator.condition_labels(other))
    # Without the prior tensors the same checkpoint samples from N(0, I) as before.
    plain = generator_from_checkpoint(ckpt)
    plain.prior = None
    assert np.array_equal(plain.latent_for_seed(5, 1.0, combo), sample_latent(4, 5))


def test_prior_components_out_of_range_are_refused(game_folder, tmp_path):
    from generators.core.errors import UserError

    with pytest.raises(UserError, match="prior components must be between 0 and 256"):
        train_and_save(
            TrainingRequest.of("levels", [game_folder], tmp_path / "m", prior_components=-1), log=lambda message: None
        )


def test_a_checkpoint_with_a_broken_prior_is_one_clear_error(tmp_path):
    from generators.core.checkpoint import save_checkpoint
    from generators.core.errors import CheckpointError

    ckpt = load_checkpoint(
        __import__("generators.core.checkpoint", fromlist=["SHIPPED_DIR"]).SHIPPED_DIR / "images.safetensors"
    )
    tensors = dict(ckpt.tensors)
    tensors["prior.weights"] = tensors["prior.weights"][:, :3]  # no longer matches the means
    card = {k: v for k, v in ckpt.card.items() if k not in ("weights_file", "weights_sha256")}
    save_checkpoint(tmp_path / "broken", tensors, card)
    with pytest.raises(CheckpointError, match="broken mixture prior"):
        generator_from_checkpoint(load_checkpoint(tmp_path / "broken.safetensors"))
    del tensors["prior.weights"]
    save_checkpoint(tmp_path / "missing", tensors, card)
    with pytest.raises(CheckpointError, match="broken mixture prior"):
        generator_from_checkpoint(load_checkpoint(tmp_path / "missing.safetensors"))
