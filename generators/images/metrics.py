"""Quality measures for generated images: conditional accuracy by a classifier trained on
real images, diversity by nearest-neighbour distances, and denoising gain in PSNR.

Images are (N, 4, H, W) straight-alpha RGBA tensors in [0, 1]. Distances and PSNR are
computed on premultiplied RGBA (RGB times alpha, then alpha), so the colour under a fully
transparent pixel, which nobody sees, counts for nothing.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from generators.core.errors import CheckpointError
from generators.core.likelihoods import bits_per_dim

from .classifier import ImageClassifier, accuracy, group_targets, load_classifier

NOISE_SIGMA = 0.1  # Gaussian noise for the denoising measure, in units of the [0, 1] range


def premultiplied(x: torch.Tensor) -> torch.Tensor:
    """Straight RGBA (N, 4, H, W) -> premultiplied RGBA (N, 4, H, W)."""
    return torch.cat([x[:, :3] * x[:, 3:4], x[:, 3:4]], dim=1)


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio (dB, peak 1) per image on premultiplied RGBA: (N,)."""
    mse = (premultiplied(a) - premultiplied(b)).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(1.0 / mse.clamp(min=1e-10))


def _features(x: torch.Tensor) -> torch.Tensor:
    """Premultiplied RGBA at half resolution, flattened: (N, 4 * H/2 * W/2)."""
    return F.avg_pool2d(premultiplied(x), 2).flatten(1)


def nearest_distances(
    queries: torch.Tensor, references: torch.Tensor, exclude_self: bool = False, chunk: int = 256
) -> torch.Tensor:
    """RMS distance (per value, [0, 1] units) from each query image to its nearest reference
    image: (N,). With `exclude_self`, queries and references are the same set and an item
    is not its own neighbour."""
    q, r = _features(queries), _features(references)
    r_sq = r.pow(2).sum(1)
    best = []
    for start in range(0, len(q), chunk):
        part = q[start : start + chunk]
        d2 = part.pow(2).sum(1, keepdim=True) + r_sq[None] - 2.0 * part @ r.T  # (n, M)
        if exclude_self:
            rows = torch.arange(len(part))
            d2[rows, rows + start] = float("inf")
        best.append(d2.min(1).values.clamp(min=0.0))
    return (torch.cat(best) / q.shape[1]).sqrt()


def diversity(samples: torch.Tensor, train: torch.Tensor, holdout: torch.Tensor) -> dict:
    """Nearest-neighbour distances of samples to the training set and among themselves,
    beside the same for real held-out images (equal counts, since the nearest neighbour
    among n items gets closer as n grows)."""
    n = min(len(samples), len(holdout)) if len(holdout) else len(samples)
    report = {
        "items": n,
        "samples_to_train_nn_rms": float(nearest_distances(samples[:n], train).mean()),
        "samples_among_themselves_nn_rms": float(nearest_distances(samples[:n], samples[:n], exclude_self=True).mean()),
    }
    if len(holdout) > 1:
        report["heldout_to_train_nn_rms"] = float(nearest_distances(holdout[:n], train).mean())
        report["heldout_among_themselves_nn_rms"] = float(
            nearest_distances(holdout[:n], holdout[:n], exclude_self=True).mean()
        )
    return report


def add_noise(x: torch.Tensor, sigma: float = NOISE_SIGMA, seed: int = 0) -> torch.Tensor:
    """x plus seeded Gaussian noise on all four channels, clipped and snapped to 8 bits."""
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)) * sigma
    return torch.round((x + noise).clamp(0.0, 1.0) * 255.0) / 255.0


@torch.inference_mode()
def denoising_report(generator, holdout, sigma: float = NOISE_SIGMA, seed: int = 0, batch: int = 128) -> dict:
    """PSNR of noisy and of denoised held-out images against the clean ones. Denoising is
    the VAE's projection: encode the noisy image (posterior mean, under its own labels) and
    take the decoder's most likely image."""
    model, likelihood = generator.model, generator.model.likelihood
    noisy_psnr, clean_psnr = [], []
    for start in range(0, len(holdout), batch):
        x, c = holdout.x[start : start + batch], holdout.c[start : start + batch]
        noisy = add_noise(x, sigma, seed + start)
        mu, _ = model.encode(noisy, c)
        denoised = likelihood.mean(model.decode(mu, c))
        noisy_psnr.append(psnr(noisy, x))
        clean_psnr.append(psnr(denoised, x))
    noisy_db, denoised_db = float(torch.cat(noisy_psnr).mean()), float(torch.cat(clean_psnr).mean())
    return {
        "sigma": sigma,
        "items": len(holdout),
        "space": "premultiplied RGBA",
        "noisy_psnr_db": noisy_db,
        "denoised_psnr_db": denoised_db,
        "psnr_gain_db": denoised_db - noisy_db,
    }


def shipped_classifier(generator) -> tuple[ImageClassifier | None, str]:
    """The shipped image classifier if it names the same labels as the model, else (None, why)."""
    from generators.core.checkpoint import SHIPPED_DIR

    path = SHIPPED_DIR / "images-classifier.safetensors"
    try:
        classifier, _ = load_classifier(path)
    except CheckpointError as exc:
        return None, str(exc)
    wanted = tuple((g.name, g.labels) for g in generator.domain.conditions.groups if g.exclusive)
    if classifier.config.groups != wanted:
        return None, "the shipped classifier knows other labels than this model"
    return classifier, f"checkpoints/{path.name}"


@torch.inference_mode()
def generated_images(generator, condition_vectors: np.ndarray, seed: int) -> torch.Tensor:
    """Decode one seeded latent per condition vector, as the app shows samples (temperature 0
    pixels through the domain), grouped by distinct condition: (N, C, H, W)."""
    domain = generator.domain
    combos, inverse = np.unique(condition_vectors, axis=0, return_inverse=True)
    images = torch.zeros((len(condition_vectors), *domain.shape))
    for k, combo in enumerate(combos):
        rows = np.flatnonzero(inverse.reshape(-1) == k)
        labels = domain.conditions.decode(combo)
        z = np.stack(
            [generator.latent_for_seed(seed * 1_000_003 + k * 10_007 + i, 1.0, labels) for i in range(len(rows))]
        )
        assets = domain.from_output(generator.decode_output(z, labels), condition=labels)
        images[torch.from_numpy(rows)] = torch.stack([domain.to_tensor(a) for a in assets])
    return images


def per_label_accuracy(classifier: ImageClassifier, images: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Share classified as asked, per "group=label" that `targets` (N, groups) asks for."""
    predicted = classifier.predict(images)
    found = {}
    for g, (name, labels) in enumerate(classifier.config.groups):
        for index, label in enumerate(labels):
            asked = targets[:, g] == index
            if asked.any():
                found[f"{name}={label}"] = float((predicted[asked, g] == index).float().mean())
    return found


def balanced_conditions(space, samples: int) -> np.ndarray:
    """Condition vectors cycling through every combination of the exclusive groups' labels,
    so each requested label is asked for equally often: (samples, K)."""
    combos = [[]]
    for group in space.groups:
        if group.exclusive:
            combos = [c + [label] for c in combos for label in group.labels]
    vectors = np.stack([space.encode(c) for c in combos])
    return vectors[np.arange(samples) % len(vectors)]


def sample_report(generator, corpus, samples: int = 1000, seed: int = 0) -> dict:
    """Conditional accuracy, diversity and denoising for an images model on its corpus."""
    space = generator.domain.conditions
    vectors = balanced_conditions(space, samples)
    images = generated_images(generator, vectors, seed)
    report: dict = {"samples": samples}
    classifier, source = shipped_classifier(generator)
    if classifier is None:
        report["conditional_accuracy"] = f"not measured: {source}"
    else:
        targets = group_targets(space, torch.from_numpy(vectors), classifier.config)
        report["conditional_accuracy"] = accuracy(classifier, images, targets)
        report["conditional_accuracy_per_label"] = per_label_accuracy(classifier, images, targets)
        held = corpus.holdout
        if len(held):
            held_targets = group_targets(space, held.c, classifier.config)
            report["classifier_heldout_accuracy"] = accuracy(classifier, held.x, held_targets)
            # Samples ask for every label equally often; real held-out images do not (people and
            # flags are many, activities few). The label-balanced figure compares like with like.
            per_label = per_label_accuracy(classifier, held.x, held_targets)
            report["classifier_heldout_balanced_accuracy"] = {
                name: float(np.mean([v for k, v in per_label.items() if k.startswith(name + "=")]))
                for name, _ in classifier.config.groups
            }
            report["classifier_heldout_accuracy_per_label"] = per_label
        report["classifier"] = source
    report["diversity"] = diversity(images, corpus.train.x, corpus.holdout.x)
    if len(corpus.holdout):
        report["denoising"] = denoising_report(generator, corpus.holdout, seed=seed)
    return report


def bits_per_dim_report(report: dict, dims: int) -> dict:
    """Held-out bounds in nats per item -> bits per dimension (dims = C * H * W)."""
    return {
        key.replace("_nats", "_bits_per_dim"): bits_per_dim(report[key], dims)
        for key in ("negative_elbo_nats", "iwae_nats")
        if key in report
    }
