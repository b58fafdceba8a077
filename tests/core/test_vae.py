"""The conditional VAE on tiny seeded models: shapes, the ELBO's sign and parts, free bits,
and the IWAE bound sitting above the ELBO."""

from __future__ import annotations

import pytest
import torch

from generators.core.likelihoods import get_likelihood
from generators.core.vae import ConditionalVAE, VAEConfig, elbo_per_item, elbo_terms, iwae_bound, kl_per_dimension

SHAPE = (11, 14, 28)  # tiles, rows, columns: the tiny levels domain


def tiny_model(seed: int = 0, likelihood: str = "categorical") -> ConditionalVAE:
    torch.manual_seed(seed)
    return ConditionalVAE(VAEConfig(SHAPE, condition_size=6, latent_size=4, channels=(8, 16), likelihood=likelihood))


def one_hot_batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    tiles = torch.randint(0, SHAPE[0], (n, SHAPE[1], SHAPE[2]), generator=generator)
    x = torch.nn.functional.one_hot(tiles, SHAPE[0]).movedim(-1, 1).float()
    c = torch.randint(0, 2, (n, 6), generator=generator).float()
    return x, c


def test_shapes_through_encoder_and_decoder_for_a_grid_not_a_power_of_two():
    model = tiny_model()
    x, c = one_hot_batch(3)
    mu, logvar = model.encode(x, c)
    assert mu.shape == logvar.shape == (3, 4)
    out, mu2, _ = model(x, c, generator=torch.Generator().manual_seed(0))
    assert out.shape == (3, *SHAPE)
    assert torch.equal(mu, mu2)


def test_config_round_trips_through_a_dict():
    config = VAEConfig(SHAPE, 6, 4, (8, 16))
    assert VAEConfig.from_dict(config.to_dict()) == config


def test_unknown_likelihood_is_refused():
    with pytest.raises(ValueError, match="unknown likelihood 'gaussian'"):
        get_likelihood("gaussian")


def test_kl_is_zero_exactly_at_the_prior_and_positive_elsewhere():
    assert torch.equal(kl_per_dimension(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2, 3))
    kl = kl_per_dimension(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))
    assert torch.allclose(kl, torch.tensor([[0.5, 0.5 * (torch.e - 2.0)]]))


def test_elbo_terms_add_up_and_the_elbo_is_a_negative_log_likelihood_bound():
    model = tiny_model()
    x, c = one_hot_batch(8)
    terms = elbo_terms(model, x, c, beta=1.0, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(terms.loss, terms.reconstruction + terms.kl)
    assert terms.reconstruction > 0 and terms.kl >= 0
    elbo = elbo_per_item(model, x, c, samples=4)
    assert elbo.shape == (8,) and (elbo < 0).all()  # categorical log p(x|z) <= 0 and KL >= 0


def test_elbo_per_item_is_seeded():
    model = tiny_model()
    x, c = one_hot_batch(4)
    assert torch.equal(elbo_per_item(model, x, c, samples=3, seed=5), elbo_per_item(model, x, c, samples=3, seed=5))
    assert not torch.equal(elbo_per_item(model, x, c, samples=3, seed=5), elbo_per_item(model, x, c, samples=3, seed=6))


def test_beta_scales_only_the_kl_part_of_the_loss():
    model = tiny_model()
    x, c = one_hot_batch(8)
    one = elbo_terms(model, x, c, beta=1.0, generator=torch.Generator().manual_seed(2))
    forty = elbo_terms(model, x, c, beta=40.0, generator=torch.Generator().manual_seed(2))
    assert torch.equal(forty.reconstruction, one.reconstruction)
    assert torch.equal(forty.kl, one.kl) and one.kl > 0
    assert torch.allclose(forty.loss - one.loss, 39.0 * one.kl, atol=5e-4)  # float32 sums near 950


def test_free_bits_floor_the_kl_in_the_loss_when_it_is_small():
    model = tiny_model()
    x, c = one_hot_batch(8)
    plain = elbo_terms(model, x, c, free_bits=0.0, generator=torch.Generator().manual_seed(3))
    floored = elbo_terms(model, x, c, free_bits=2.0, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        kl_dims = kl_per_dimension(*model.encode(x, c)).mean(0)
    assert (kl_dims < 2.0).all()  # a fresh model's posterior is close to the prior
    # Every dimension is floored at 2 nats: loss = reconstruction + 4 dims × 2 nats.
    assert torch.allclose(floored.loss, floored.reconstruction + 4 * 2.0)
    assert floored.loss > plain.loss + 1.0
    # Reported terms are never floored.
    assert torch.equal(floored.kl, plain.kl) and torch.equal(floored.reconstruction, plain.reconstruction)


def test_free_bits_below_every_dimensions_kl_change_nothing():
    model = tiny_model()
    x, c = one_hot_batch(8)
    plain = elbo_terms(model, x, c, free_bits=0.0, generator=torch.Generator().manual_seed(3))
    tiny_floor = elbo_terms(model, x, c, free_bits=1e-12, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(tiny_floor.loss, plain.loss)


def test_free_bits_stop_the_kl_gradient_below_the_floor():
    model = tiny_model()
    x, c = one_hot_batch(8)
    terms = elbo_terms(model, x, c, beta=1.0, free_bits=50.0, generator=torch.Generator().manual_seed(4))
    (terms.loss - terms.reconstruction).backward()  # only the floored KL part
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def trained_a_little(steps: int = 30) -> tuple[ConditionalVAE, torch.Tensor, torch.Tensor]:
    """A tiny model fitted for a few steps on 16 items, so its posterior is not the prior."""
    model = tiny_model(seed=1)
    x, c = one_hot_batch(16, seed=1)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        loss = elbo_terms(model, x, c, generator=generator).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.eval(), x, c


def test_iwae_bound_is_above_the_elbo_on_average():
    model, x, c = trained_a_little()
    elbo = elbo_per_item(model, x, c, samples=64, seed=0).mean()
    iwae = iwae_bound(model, x, c, k=50, chunk=25, seed=0).mean()
    single = iwae_bound(model, x, c, k=1, seed=0)  # k=1 is a one-draw ELBO estimate
    assert torch.isfinite(iwae) and iwae <= 0
    assert iwae >= elbo
    assert iwae >= single.mean()


def test_iwae_bound_is_seeded_and_does_not_depend_on_chunking():
    model, x, c = trained_a_little(steps=5)
    whole = iwae_bound(model, x[:4], c[:4], k=20, chunk=20, seed=3)
    assert whole.shape == (4,)
    assert torch.equal(whole, iwae_bound(model, x[:4], c[:4], k=20, chunk=20, seed=3))
    assert not torch.equal(whole, iwae_bound(model, x[:4], c[:4], k=20, chunk=20, seed=4))
    # The draws come from one stream, so chunk size (a memory knob) leaves the estimate alone.
    assert torch.allclose(iwae_bound(model, x[:4], c[:4], k=20, chunk=7, seed=3), whole, atol=1e-3)


def test_bernoulli_likelihood_scores_binary_grids():
    model = tiny_model(likelihood="bernoulli")
    x = (torch.rand(2, *SHAPE, generator=torch.Generator().manual_seed(0)) > 0.9).float()
    c = torch.zeros(2, 6)
    out, _, _ = model(x, c)
    log_p = model.likelihood.log_prob(out, x)
    assert log_p.shape == (2,) and (log_p < 0).all()
    assert ((model.likelihood.mean(out) >= 0) & (model.likelihood.mean(out) <= 1)).all()


def test_sequence_layout_convolves_time_only_and_keeps_the_item_shape():
    config = VAEConfig((2, 16, 11), 3, latent_size=5, channels=(8, 8, 8), likelihood="pianoroll", layout="sequence")
    model = ConditionalVAE(config)
    x = (torch.rand(4, 2, 16, 11) > 0.7).float()
    c = torch.eye(3)[[0, 1, 2, 0]]
    mu, logvar = model.encode(x, c)
    assert mu.shape == (4, 5) and logvar.shape == (4, 5)
    out = model.decode(mu, c)
    assert out.shape == (4, 2, 16, 11)
    # Each output key has its own head channels: perturbing one key's input changes the
    # encoder's answer, so keys are not pooled together.
    x2 = x.clone()
    x2[:, 0, :, 10] = 1 - x2[:, 0, :, 10]
    assert not torch.allclose(model.encode(x2, c)[0], mu)
    assert VAEConfig.from_dict(config.to_dict()) == config


def test_cards_written_before_layouts_existed_load_as_grids():
    data = VAEConfig((3, 8, 8), 2).to_dict()
    del data["layout"]
    assert VAEConfig.from_dict(data).layout == "grid"
    with pytest.raises(ValueError, match="layout"):
        ConditionalVAE(VAEConfig((3, 8, 8), 2, layout="spiral"))


def test_decoder_blocks_add_a_residual_conv_per_resolution_and_old_cards_have_none():
    plain = ConditionalVAE(VAEConfig(SHAPE, 6, 4, (8, 16, 32)))
    refined = ConditionalVAE(VAEConfig(SHAPE, 6, 4, (8, 16, 32), decoder_blocks=2))
    # Two upsamplings (32->16, 16->8 channels), two 3×3 convs each, each seeing the 6 condition planes.
    added = 2 * ((16 + 6) * 16 * 9 + 16) + 2 * ((8 + 6) * 8 * 9 + 8)
    assert sum(p.numel() for p in refined.parameters()) - sum(p.numel() for p in plain.parameters()) == added
    x, c = one_hot_batch(2)
    assert refined(x, c, generator=torch.Generator().manual_seed(0))[0].shape == (2, *SHAPE)
    data = plain.config.to_dict()
    del data["decoder_blocks"]
    assert VAEConfig.from_dict(data) == plain.config  # a card from before decoder blocks loads unchanged


def test_pianoroll_likelihood_scores_onsets_only_where_a_held_key_could_be_struck_again():
    likelihood = get_likelihood("pianoroll")
    active = torch.zeros(1, 6, 2)
    active[0, 1:5, 0] = 1  # key 0 sounds for steps 1..4: its onset at step 1 is forced
    onset = torch.zeros(1, 6, 2)
    onset[0, 1, 0] = 1
    onset[0, 3, 0] = 1  # struck again at step 3: a free choice the model pays for
    x = torch.stack([active, onset], dim=1)
    logits = torch.randn(1, 2, 6, 2)
    base = likelihood.log_prob(logits, x)
    free = torch.zeros(6, 2, dtype=torch.bool)
    free[2:5, 0] = True  # active now and one step earlier
    for t in range(6):
        for k in range(2):
            changed = logits.clone()
            changed[0, 1, t, k] += 3.0
            moved = not torch.allclose(likelihood.log_prob(changed, x), base)
            assert moved == bool(free[t, k]), (t, k)
    # The whole score is Bernoulli on the active plane plus Bernoulli on the free onsets.
    bernoulli = get_likelihood("bernoulli")
    onset_terms = -torch.nn.functional.binary_cross_entropy_with_logits(logits[0, 1], onset[0], reduction="none")
    assert torch.allclose(bernoulli.log_prob(logits[:, :1], x[:, :1]) + (free.float() * onset_terms).sum(), base)


def test_dropout_acts_in_training_only_and_stays_out_of_old_cards():
    torch.manual_seed(0)
    config = VAEConfig(SHAPE, condition_size=6, latent_size=4, channels=(8, 16), dropout=0.5)
    model = ConditionalVAE(config)
    z, c = torch.randn(3, 4), torch.zeros(3, 6)
    model.train()
    assert not torch.equal(model.decode(z, c), model.decode(z, c))  # a fresh mask each call
    model.eval()
    assert torch.equal(model.decode(z, c), model.decode(z, c))
    assert VAEConfig.from_dict(config.to_dict()) == config and config.to_dict()["dropout"] == 0.5
    plain = VAEConfig(SHAPE, condition_size=6, latent_size=4, channels=(8, 16))
    assert "dropout" not in plain.to_dict() and VAEConfig.from_dict(plain.to_dict()).dropout == 0.0
    assert set(ConditionalVAE(plain).state_dict()) == set(model.state_dict())  # no weights of its own
