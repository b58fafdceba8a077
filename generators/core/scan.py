"""`scan`: rank a folder of files by how typical a model finds them, and say where each goes wrong.

A file's score is its ELBO under the model (nats, higher is more typical; a long level or song is
scored by its parts, `Domain.scan_parts`, and averaged), read as a percentile among held-out real
items: the card's `typicality_reference`, recorded at training time. The 1st percentile means
"less typical than 99% of real data this model was measured on". Where a file goes wrong comes
from per-cell log-likelihoods at the posterior mean (`Generator.score_map`), which the domain
turns into positions (`Domain.positions`: level columns, image blocks, song bars).

`detection_report` measures the scan: known anomalies that each domain plants into real held-out
items (`Domain.plant_anomalies`), told from those items by ROC AUC and precision at 10, and found
in place (localisation); `eval --scan-anomalies N` and bench/bench_scan.py print it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import UserError
from .fileio import write_png_atomic

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
    overlay: Path | None = None  # the PNG showing where, when one was written


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
    """The entries under `folder` (recursively) whose extension the domain reads, sorted. Not
    only regular files: a named pipe, a device or a broken link with such a name is listed too, so
    that reading it refuses it with its reason (the scan lists it) instead of leaving it out unsaid."""
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder")
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_dir() and path.suffix.lower().lstrip(".") in formats:
            found.append(path)
            if len(found) > MAX_FILES:
                raise UserError(f"{folder} holds more than {MAX_FILES:,} files to scan; scan a smaller folder")
    return found


def scan_file(generator, path: Path, reference: np.ndarray, overlay_path: Path | None = None) -> ScannedFile:
    """Score one file (raises AssetError/UserError for one that cannot be read); with `overlay_path`,
    also write its picture with the worst-explained cells in red there, while the file is in hand."""
    domain = generator.domain
    asset = domain.read(path)
    parts = domain.scan_parts(asset)
    labels = generator.condition_labels(domain.labels_of(parts[0]))
    elbo = float(np.mean(generator.score(parts)))
    scores, names, heat = domain.positions(asset, list(generator.score_map(parts)))
    worst = names[int(np.argmin(scores))] if len(scores) else ""
    if overlay_path is not None:
        write_png_atomic(overlay_path, overlay(domain.render(asset), heat))
    positions = [float(s) for s in scores]
    return ScannedFile(path, elbo, percentile(reference, elbo), labels, worst, positions, overlay_path)


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


# --- measuring the scan: known anomalies planted among real items -----------------------

DETECTION_NORMALS = 400  # normal items scored at most (a seeded subset beyond that)
PRECISION_AT = 10


def roc_auc(normal: np.ndarray, anomalous: np.ndarray) -> float:
    """ROC AUC of telling anomalous items from normal ones by score, lower meaning more anomalous:
    the chance that a random anomalous item scores below a random normal one, ties counted half."""
    normal = np.sort(np.asarray(normal, dtype=np.float64))
    anomalous = np.asarray(anomalous, dtype=np.float64)
    if not len(normal) or not len(anomalous):
        raise ValueError("ROC AUC needs at least one normal and one anomalous score")
    above = len(normal) - np.searchsorted(normal, anomalous, side="right")  # normals scoring higher
    tied = np.searchsorted(normal, anomalous, side="right") - np.searchsorted(normal, anomalous, side="left")
    return float((above + 0.5 * tied).sum() / (len(normal) * len(anomalous)))


def precision_at(normal: np.ndarray, anomalous: np.ndarray, k: int = PRECISION_AT) -> float:
    """The share of anomalous items among the k lowest-scored of both sets (k: at most all of them).
    Items tied with the k-th lowest score share the places left, in proportion."""
    normal, anomalous = np.asarray(normal, dtype=np.float64), np.asarray(anomalous, dtype=np.float64)
    k = min(k, len(normal) + len(anomalous))
    if k == 0:
        raise ValueError("precision needs at least one score")
    cut = np.sort(np.concatenate([normal, anomalous]))[k - 1]
    below_a, below_n = int((anomalous < cut).sum()), int((normal < cut).sum())
    at_a, at_n = int((anomalous == cut).sum()), int((normal == cut).sum())
    left = k - below_a - below_n  # places for the items tied at the cut
    return float((below_a + left * at_a / (at_a + at_n)) / k)


def scan_scores(generator, assets: list, batch: int = 64) -> np.ndarray:
    """Each asset's score as `scan` gives a file (ELBO of its `scan_parts`, each under its own
    labels, averaged), the parts scored in batches as the card's reference was: (N,)."""
    parts, owner = [], []
    for i, asset in enumerate(assets):
        pieces = generator.domain.scan_parts(asset)
        parts += pieces
        owner += [i] * len(pieces)
    if not parts:
        return np.zeros(0)
    scores = np.concatenate([generator.score(parts[s : s + batch]) for s in range(0, len(parts), batch)])
    owner = np.asarray(owner)
    return np.bincount(owner, scores, len(assets)) / np.bincount(owner, minlength=len(assets))


def worst_position(generator, asset) -> int:
    """The index of the position `scan` names as where a file goes wrong (the lowest-scored)."""
    parts = generator.domain.scan_parts(asset)
    scores, _, _ = generator.domain.positions(asset, list(generator.score_map(parts)))
    return int(np.argmin(scores))


def plant(domain, assets: list, count: int, rng: np.random.Generator) -> dict[str, list[tuple]]:
    """`count` planted items of each kind the domain plants (`Domain.plant_anomalies`), each into a
    real item drawn at random; a kind that some items cannot take is planted into others."""
    planted: dict[str, list[tuple]] = {}
    for _ in range(4 * count):
        asset = assets[int(rng.integers(len(assets)))]
        for kind, made in domain.plant_anomalies(asset, rng).items():
            if len(planted.setdefault(kind, [])) < count:
                planted[kind].append(made)
        if planted and all(len(made) >= count for made in planted.values()):
            break
    return planted


def detection_report(
    generator,
    assets: list,
    seed: int,
    count: int = 50,
    outliers: dict[str, list] | None = None,
    max_normals: int = DETECTION_NORMALS,
) -> dict:
    """How well `scan` tells anomalies from real held-out `assets` (the normals): per kind, ROC AUC
    and precision at 10 with the scan's score (the ELBO; lower is more anomalous), and, where the
    kind has a place (`Domain.plant_anomalies` gives positions), the share of planted items whose
    worst position is inside it (`localisation`). Kinds are the domain's planted ones, `count`
    each, and `outliers`: real items anomalous by kind (`Domain.detection_items`), with no place.
    At most `max_normals` normals and outliers per kind are scored, a seeded subset beyond that."""
    if not assets:
        raise UserError("no held-out items to plant anomalies among")
    rng = np.random.default_rng(seed)

    def capped(items: list) -> list:
        if len(items) <= max_normals:
            return list(items)
        return [items[i] for i in np.sort(rng.permutation(len(items))[:max_normals])]

    normals = capped(assets)
    normal_scores = scan_scores(generator, normals)
    kinds = plant(generator.domain, normals, count, rng)
    kinds |= {kind: [(item, None) for item in capped(items)] for kind, items in (outliers or {}).items() if items}
    report: dict = {}
    for kind, made in kinds.items():
        scores = scan_scores(generator, [asset for asset, _ in made])
        row = {
            "normals": len(normals),
            "planted": len(made),
            "roc_auc": roc_auc(normal_scores, scores),
            "precision_at_10": precision_at(normal_scores, scores),
            "normal_median_elbo": float(np.median(normal_scores)),
            "planted_median_elbo": float(np.median(scores)),
        }
        placed = [(asset, where) for asset, where in made if where is not None]
        if placed:
            row["localisation"] = float(np.mean([worst_position(generator, a) in w for a, w in placed]))
        report[kind] = row
    return report
