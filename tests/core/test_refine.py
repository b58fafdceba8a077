"""Refining an encoded file's latent (`vae.refine_latents`, `Generator.encode(refine=True)`): it
explains the item better than the encoder's mean, each item on its own, from inference mode too;
a file keeps whichever of the two decodes more of it, and that is what `interpolate --from` uses."""

from __future__ import annotations

import numpy as np
import torch
from conftest import run_cli

from generators.core.vae import file_latents, refine_latents, refinement_path


def held_items(generator, count: int = 8):
    """A few of the tiny model's own decoded samples, as assets and tensors under their labels."""
    items = generator.sample(count, None, 1.0, 11)
    assets = [item.asset for item in items]
    x = torch.stack([generator.domain.to_tensor(a) for a in assets])
    c = generator._conditions_for(assets, None)
    return assets, x, c


def fit(model, x, c, z):
    with torch.inference_mode():
        return model.likelihood.log_prob(model.decode(z, c, target=x), x)


def test_refined_latents_explain_each_item_better_than_the_mean(tiny_generator):
    model = tiny_generator.model
    _, x, c = held_items(tiny_generator)
    with torch.inference_mode():
        mu, _ = model.encode(x, c)
    refined = refine_latents(model, x, c, mu)
    before, after = fit(model, x, c, mu), fit(model, x, c, refined)
    assert (after >= before - 1e-4).all() and (after > before + 1e-3).any(), (before, after)
    # Each item on its own: refining one alone gives (to float precision) its latent in the batch.
    alone = refine_latents(model, x[2:3], c[2:3], mu[2:3])
    assert torch.allclose(alone, refined[2:3], atol=1e-4)
    # No steps: the mean itself; the weights are left as they were.
    assert torch.equal(refine_latents(model, x, c, mu, steps=0), mu)
    assert all(p.grad is None for p in model.parameters())


def test_encode_refines_only_when_asked_and_works_from_inference_mode(tiny_generator):
    assets, x, c = held_items(tiny_generator, 4)
    labels = [tiny_generator.domain.labels_of(a) for a in assets[:1]][0]
    plain = tiny_generator.encode(assets[:1], labels)
    with torch.inference_mode():  # the GUI and the CLI call it from anywhere
        refined = tiny_generator.encode(assets[:1], labels, refine=True)
    assert plain.shape == refined.shape and not np.allclose(plain, refined)
    x1 = torch.stack([tiny_generator.domain.to_tensor(assets[0])])
    c1 = tiny_generator._conditions_for(assets[:1], labels)
    model = tiny_generator.model
    assert fit(model, x1, c1, torch.from_numpy(refined)) > fit(model, x1, c1, torch.from_numpy(plain))


def test_the_path_yields_every_few_steps_and_ends_where_refining_ends(tiny_generator):
    model = tiny_generator.model
    _, x, c = held_items(tiny_generator, 4)
    with torch.inference_mode():
        mu, _ = model.encode(x, c)
        path = list(refinement_path(model, x, c, mu, steps=25, every=10))
        assert torch.is_grad_enabled() is False  # the caller's mode survives the path's steps
    assert len(path) == 3  # after steps 10, 20 and 25
    assert torch.allclose(path[-1], refine_latents(model, x, c, mu, steps=25), atol=1e-5)
    assert len(list(refinement_path(model, x, c, mu, steps=25))) == 1
    assert not any(torch.equal(a, b) for a, b in zip(path, path[1:]))


def test_a_file_keeps_whichever_latent_on_the_path_decodes_most_of_it(tiny_generator):
    """`file_latents`: per item the mean or a latent along its path, whichever keeps most cells."""
    model = tiny_generator.model
    _, x, c = held_items(tiny_generator, 8)
    with torch.inference_mode():
        mu, _ = model.encode(x, c)
        chosen = file_latents(model, x, c, steps=30, every=10)
    candidates = [mu, *refinement_path(model, x, c, mu, steps=30, every=10)]

    def kept(z):
        with torch.inference_mode():
            return (model.decode(z, c).argmax(1) == x.argmax(1)).flatten(1).float().mean(1)

    best = torch.stack([kept(z) for z in candidates]).max(0).values
    assert torch.allclose(kept(chosen), best)
    assert all(any(torch.allclose(z, option[i]) for option in candidates) for i, z in enumerate(chosen))
    assert (best > kept(mu)).any()  # some item gains over its mean, or the check above is idle


def test_interpolate_from_a_file_starts_at_the_latent_a_file_gets(tiny_checkpoint, tiny_generator, tmp_path):
    """The first frame of `interpolate --from FILE` is the file decoded at `encode(refine=True)`."""
    assets, _, _ = held_items(tiny_generator, 2)
    source = tmp_path / "a.txt"
    source.write_text(assets[0].text())
    proc = run_cli(
        *("interpolate", "levels", "--checkpoint", tiny_checkpoint, "--from", source, "--seed-b", "3"),
        *("--steps", "2", "--format", "txt", "--out", tmp_path / "morph"),
    )
    assert proc.returncode == 0, proc.stderr
    first = tiny_generator.domain.read(sorted((tmp_path / "morph").iterdir())[0])
    asset = tiny_generator.domain.read(source)
    labels = tiny_generator.condition_labels(tiny_generator.domain.labels_of(asset))
    assert first == tiny_generator.decode(tiny_generator.encode([asset], labels, refine=True), labels)[0]
