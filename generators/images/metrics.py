"""Quality measures for generated images: conditional accuracy by a classifier trained on
real images, diversity by nearest-neighbour distances, denoising gain in PSNR, and the
yardstick (`yardstick.py`) that `eval images` reports first.

Images are (N, 4, H, W) straight-alpha RGBA tensors in [0, 1]. Distances and PSNR are
computed on premultiplied RGBA (RGB times alpha, then alpha), so the colour under a fully
transparent pixel, which nobody sees, counts for nothing.
"""

from __future__ import annotations

import numpy as np
import torch

from generators.core.errors import CheckpointError
from generators.core.likelihoods import bits_per_dim

from .classifier import ImageClassifier, accuracy, group_targets, load_classifier
from .denoiser import shipped_denoiser
from .pixels import psnr
from .yardstick import nearest_distances, yardstick

NOISE_SIGMA = 0.1  # Gaussian noise for the denoising measure, in units of the [0, 1] range
MIN_YARDSTICK_SAMPLES = 4  # the two-sample test needs samples on both its training and its test side
SALT_PEPPER_SHARE = 0.05  # pixels replaced by opaque white or transparent black


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


def add_salt_pepper(x: torch.Tensor, share: float = SALT_PEPPER_SHARE, seed: int = 0) -> torch.Tensor:
    """x with a seeded `share` of its pixels set to opaque white or transparent black, half each."""
    generator = torch.Generator().manual_seed(seed)
    hit = torch.rand((x.shape[0], 1, *x.shape[2:]), generator=generator) < share
    white = torch.rand((x.shape[0], 1, *x.shape[2:]), generator=generator) < 0.5
    return torch.where(hit, white.float().expand_as(x), x)


NOISE_KINDS = {
    f"gaussian_sigma_{NOISE_SIGMA:g}": lambda x, seed: add_noise(x, NOISE_SIGMA, seed),
    f"salt_pepper_{SALT_PEPPER_SHARE:.0%}": lambda x, seed: add_salt_pepper(x, SALT_PEPPER_SHARE, seed),
}


@torch.inference_mode()
def denoising_gains(clean, holdout, seed: int = 0, batch: int = 128) -> dict:
    """PSNR before and after `clean(noisy, c) -> denoised` on held-out images, per noise kind,
    and on clean input (what denoising costs an icon that had no noise)."""
    report: dict = {"items": len(holdout), "space": "premultiplied RGBA"}
    for kind, corrupt in dict(NOISE_KINDS, clean_input=lambda x, seed: x).items():
        before, after = [], []
        for start in range(0, len(holdout), batch):
            x, c = holdout.x[start : start + batch], holdout.c[start : start + batch]
            noisy = corrupt(x, seed + start)
            before.append(psnr(noisy, x))
            after.append(psnr(clean(noisy, c), x))
        noisy_db, denoised_db = float(torch.cat(before).mean()), float(torch.cat(after).mean())
        if kind == "clean_input":  # nothing to remove, so no gain: how closely a clean icon comes back
            report[kind] = {"denoised_psnr_db": denoised_db}
        else:
            report[kind] = {
                "noisy_psnr_db": noisy_db,
                "denoised_psnr_db": denoised_db,
                "psnr_gain_db": denoised_db - noisy_db,
            }
    return report


def denoising_report(generator, holdout, seed: int = 0) -> dict:
    """`denoising_gains` of the model's own projection (encode the noisy image at its posterior
    mean under its labels, take the decoder's most likely image) and, when one is shipped, of
    the dedicated denoiser that `denoise images` uses by default."""
    model = generator.model
    report = {
        "by_the_model": denoising_gains(
            lambda x, c: model.likelihood.mean(model.decode(model.encode(x, c)[0], c)), holdout, seed
        )
    }
    denoiser, source = shipped_denoiser()
    if denoiser is None:
        report["by_the_denoiser"] = f"not measured: {source}"
    else:
        report["by_the_denoiser"] = denoising_gains(lambda x, c: denoiser.clean(x), holdout, seed) | {
            "denoiser": source
        }
    return report


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
def generated_images(generator, condition_vectors: np.ndarray, seed: int, temperature: float = 1.0) -> torch.Tensor:
    """Decode one seeded latent per condition vector at `temperature`, as the app shows samples
    (temperature 0 pixels through the domain), grouped by distinct condition: (N, C, H, W)."""
    domain = generator.domain
    combos, inverse = np.unique(condition_vectors, axis=0, return_inverse=True)
    images = torch.zeros((len(condition_vectors), *domain.shape))
    for k, combo in enumerate(combos):
        rows = np.flatnonzero(inverse.reshape(-1) == k)
        labels = domain.conditions.decode(combo)
        z = np.stack(
            [
                generator.latent_for_seed(seed * 1_000_003 + k * 10_007 + i, temperature, labels)
                for i in range(len(rows))
            ]
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


def label_combinations(space) -> np.ndarray:
    """The condition vector of every combination of the exclusive groups' labels, first group
    slowest: (combinations, K)."""
    combos = [[]]
    for group in space.groups:
        if group.exclusive:
            combos = [c + [label] for c in combos for label in group.labels]
    return np.stack([space.encode(c) for c in combos])


def balanced_conditions(space, samples: int) -> np.ndarray:
    """Condition vectors cycling through every label combination, so that each requested label
    is asked for equally often: (samples, K)."""
    vectors = label_combinations(space)
    return vectors[np.arange(samples) % len(vectors)]


def sample_report(generator, corpus, samples: int = 1000, seed: int = 0) -> dict:
    """The yardstick (`yardstick`), conditional accuracy, diversity and denoising for an images
    model on its corpus; every label combination is asked for equally often."""
    space = generator.domain.conditions
    vectors = balanced_conditions(space, samples)
    images = generated_images(generator, vectors, seed, generator.default_temperature)
    report: dict = {"samples": samples, "temperature": generator.default_temperature}
    if len(corpus.holdout) < 2 or samples < MIN_YARDSTICK_SAMPLES:
        report["yardstick"] = (
            f"not measured: needs at least {MIN_YARDSTICK_SAMPLES} samples and 2 held-out images "
            f"(got {samples} and {len(corpus.holdout)})"
        )
    else:
        report["yardstick"] = yardstick(images, corpus.train.x, corpus.holdout.x, seed)
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
            if isinstance(report.get("yardstick"), dict):  # recognisability: samples against real, like for like
                report["yardstick"]["recognisability"] = {
                    f"{name}_accuracy_of_samples": report["conditional_accuracy"][name]
                    for name, _ in classifier.config.groups
                } | {
                    f"{name}_balanced_accuracy_on_real": value
                    for name, value in report["classifier_heldout_balanced_accuracy"].items()
                }
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
