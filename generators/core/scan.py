"""`scan`: rank a folder of files by how typical a model finds them, and say where each goes wrong.

A file's score is its ELBO under the model (nats, higher is more typical; a long level or song is
scored by its parts, `Domain.scan_parts`, and averaged), read as a percentile among held-out real
items: the card's `typicality_reference`, recorded at training time. The 1st percentile means
"less typical than 99% of real data this model was measured on". Where a file goes wrong comes
from per-cell log-likelihoods at the posterior mean (`Generator.score_map`), which the domain
turns into positions (`Domain.positions`: level columns, image blocks, song bars).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import UserError

MAX_FILES = 100_000  # a folder larger than this is refused rather than read for hours
REFERENCE_SIZE = 1000  # held-out scores kept in a card


@dataclass
class ScannedFile:
    path: Path
    elbo: float  # nats per part, higher is more typical
    percentile: float  # among the reference scores
    labels: list[str]
    worst: str  # the position the model explains worst, in the domain's words
    positions: list[float] = field(default_factory=list)  # a score per position, low is unusual
    heat: np.ndarray | None = None  # aligned with the domain's render of the file


def reference_scores(generator, fallback_samples: int = 200) -> tuple[np.ndarray, str]:
    """Sorted reference ELBOs and what they are: the card's held-out scores, or (for cards from
    before they were kept) the model's own samples at temperature 1, which is said."""
    stored = generator.card.get("typicality_reference")
    if stored:
        return np.sort(np.asarray(stored, dtype=np.float64)), f"{len(stored)} held-out real items"
    items = generator.sample(fallback_samples, None, 1.0, seed=0)
    scores = generator.score([item.asset for item in items])
    return np.sort(scores.astype(np.float64)), f"{fallback_samples} of the model's own samples (no held-out reference)"


def heldout_reference(generator, corpus) -> list[float]:
    """Held-out items' ELBOs, scored as `scan` scores files (each under the labels it shows), rounded."""
    if len(corpus.holdout) == 0:
        return []
    rng = np.random.default_rng(0)
    rows = np.sort(rng.permutation(len(corpus.holdout))[:REFERENCE_SIZE])
    assets = generator.domain.from_tensor(corpus.holdout.x[rows])
    scores = np.concatenate([generator.score(assets[i : i + 64]) for i in range(0, len(assets), 64)])
    return [round(float(s), 3) for s in np.sort(scores)]


def percentile(reference: np.ndarray, score: float) -> float:
    """The share (0-100) of reference scores below `score`."""
    return float(100.0 * np.searchsorted(reference, score, side="left") / max(len(reference), 1))


def files_in(folder: Path, formats: tuple[str, ...]) -> list[Path]:
    """The files under `folder` (recursively) whose extension the domain reads, sorted."""
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder")
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower().lstrip(".") in formats:
            found.append(path)
            if len(found) > MAX_FILES:
                raise UserError(f"{folder} holds more than {MAX_FILES:,} files to scan; scan a smaller folder")
    return found


def scan_file(generator, path: Path, reference: np.ndarray) -> ScannedFile:
    """Score one file (raises AssetError/UserError for one that cannot be read)."""
    domain = generator.domain
    asset = domain.read(path)
    parts = domain.scan_parts(asset)
    labels = generator.condition_labels(domain.labels_of(parts[0]))
    elbo = float(np.mean(generator.score(parts)))
    scores, names, heat = domain.positions(asset, list(generator.score_map(parts)))
    worst = names[int(np.argmin(scores))] if len(scores) else ""
    return ScannedFile(path, elbo, percentile(reference, elbo), labels, worst, [float(s) for s in scores], heat)


def overlay(picture: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """The domain's picture (h, w, 3|4) with red over the cells of `heat` (H, W) the model explains
    worst: the lowest fifth of cells, most strongly the lowest."""
    rgb = picture[..., :3].astype(np.float32)
    if picture.shape[-1] == 4:  # composite on grey, as the images are shown
        alpha = picture[..., 3:4].astype(np.float32) / 255.0
        rgb = rgb * alpha + 128.0 * (1.0 - alpha)
    h, w = rgb.shape[:2]
    rows = (np.arange(h) * heat.shape[0] // h)[:, None]
    cols = (np.arange(w) * heat.shape[1] // w)[None, :]
    cell = heat[rows, cols]
    cut = np.quantile(heat, 0.2)
    low = float(heat.min())
    strength = np.clip((cut - cell) / max(cut - low, 1e-9), 0.0, 1.0)[..., None] * 0.7
    red = np.array([230.0, 20.0, 20.0])
    return (rgb * (1 - strength) + red * strength).round().astype(np.uint8)
