"""`scan`: rank a folder of files by how typical a model finds them, and say where each goes wrong.

A file is scored by its ELBO under the model (nats, higher is more typical; a long level or song by
its parts, `Domain.scan_parts`, averaged), under the labels that explain it best: the labels it
shows (`labels_of`), and for each exclusive group it shows none of (a one-voice tune's style, a
level's game), whichever label of the group gives the highest ELBO (`explanations`).

Where a domain can say how much there is to explain in an item (`Domain.scan_features`: music, its
notes), the ELBO is read against what real items with that much in them score (`Baseline`, fitted
on training items per group of `Domain.typicality_groups`): the score is the z-score of the ELBO
around that expectation. Without this, a busy fiddle reel scores thousands of nats below a sparse
hymn tune and swamps every planted wrong note. Other domains score by the ELBO itself.

The score is read as a percentile among held-out real items scored the same way (`ScanReference`,
the card's `scan_reference`, recorded at training time; older cards: `typicality_reference`, raw
ELBOs). The 1st percentile means "less typical than 99% of real data this model was measured on".
Where a file goes wrong comes from per-cell log-likelihoods at the posterior mean
(`Generator.score_map`, under the same labels, of the parts as `Domain.position_parts` gives them:
music hears every part in the key the song opens in), which the domain turns into positions
(`Domain.positions`: level columns, image blocks, song bars).

`detection_report` measures the scan: known anomalies that each domain plants into real held-out
items (`Domain.plant_anomalies`), told from those items by ROC AUC and precision at 10, and found
in place (localisation); `eval --scan-anomalies N` and bench/bench_scan.py print it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import CheckpointError, UserError
from .fileio import write_png_atomic

MAX_FILES = 100_000  # a folder larger than this is refused rather than read for hours
REFERENCE_SIZE = 1000  # held-out scores kept in a card
BASELINE_ITEMS = 2000  # training items a baseline is fitted on (a seeded subset beyond that)
MIN_GROUP_ITEMS = 30  # a label group with fewer fitting items uses the pooled fit
MAX_EXPLANATIONS = 8  # label sets tried per file; more combinations: each open group's first label
REFERENCE_VERSION = 1
BATCH = 64
SCAN_CHUNK = 32  # files `scan_paths` reads, then scores together


@dataclass
class ScannedFile:
    path: Path
    elbo: float  # nats per part, higher is more typical
    percentile: float  # of `score` among the reference scores
    labels: list[str]
    worst: str  # the position the model explains worst, in the domain's words
    positions: list[float] = field(default_factory=list)  # a score per position, low is unusual
    overlay: Path | None = None  # the PNG showing where, when one was written
    score: float = 0.0  # what files are ranked by: the baseline's z-score, or the ELBO without one


def explanations(space, shown: list[str]) -> list[list[str]]:
    """The label sets a file is tried under: what it shows, completed by every combination of the
    labels of the exclusive groups it shows none of. Without this an open group took its first
    label, and every one-voice tune was scored as a four-voice chorale. With more than
    MAX_EXPLANATIONS combinations (images: 9 categories × 2 styles) the first labels it is."""
    shown = list(shown)
    open_groups = [g for g in space.groups if g.exclusive and not any(label in shown for label in g.labels)]
    if math.prod(len(g.labels) for g in open_groups) > MAX_EXPLANATIONS:
        return [shown]
    return [shown + list(combination) for combination in itertools.product(*(g.labels for g in open_groups))]


# --- what real items score: the baseline and the reference -------------------------------------


@dataclass
class Baseline:
    """The ELBO a real item is expected to have from its `Domain.scan_features`, by least squares
    per group key (its labels in `Domain.typicality_groups`, e.g. ("chorale", "4/4")), with the
    spread of real items around it; keys with too few fitting items use the pooled fit ("*")."""

    fits: dict[tuple[str, ...], tuple[np.ndarray, float]]  # key -> (weights (1 + F,), spread)

    def z_score(self, elbo: float, features: np.ndarray, key: tuple[str, ...]) -> float:
        weights, spread = self.fits.get(key) or self.fits[("*",)]
        return float((elbo - weights @ np.concatenate([[1.0], features])) / spread)

    @classmethod
    def fit(cls, elbos: np.ndarray, features: np.ndarray, keys: list[tuple[str, ...]]) -> Baseline:
        def one(rows: np.ndarray) -> tuple[np.ndarray, float]:
            design = np.concatenate([np.ones((len(rows), 1)), features[rows]], axis=1)
            weights = np.linalg.lstsq(design, elbos[rows], rcond=None)[0]
            spread = float(np.std(elbos[rows] - design @ weights))
            return weights, max(spread, 1e-6)

        fits = {("*",): one(np.arange(len(elbos)))}
        for key in sorted(set(keys)):
            rows = np.flatnonzero([k == key for k in keys])
            if len(rows) >= MIN_GROUP_ITEMS:
                fits[key] = one(rows)
        return cls(fits)

    def to_card(self) -> list[dict]:
        return [
            {"labels": list(key), "weights": [round(float(w), 6) for w in weights], "spread": round(spread, 6)}
            for key, (weights, spread) in self.fits.items()
        ]

    @classmethod
    def from_card(cls, rows, features: int) -> Baseline:
        """From `to_card` output, checked (a card is data a user hands us): CheckpointError."""
        field_name = "scan_reference.baseline"
        if not isinstance(rows, list) or not 1 <= len(rows) <= 1000:
            raise CheckpointError(f"card field {field_name}: must be a list of 1 to 1000 fits")
        fits = {}
        for row in rows:
            ok = isinstance(row, dict) and isinstance(row.get("labels"), list) and isinstance(row.get("weights"), list)
            ok = ok and all(isinstance(label, str) and len(label) <= 100 for label in row["labels"])
            ok = ok and len(row["weights"]) == 1 + features and _finite(row["weights"])
            spread = row.get("spread") if ok else None
            if not ok or not _finite([spread]) or not spread > 0:
                raise CheckpointError(
                    f"card field {field_name}: each fit must be {{labels, {1 + features} finite weights, spread > 0}}"
                )
            fits[tuple(row["labels"])] = (np.asarray(row["weights"], dtype=np.float64), float(spread))
        if ("*",) not in fits:
            raise CheckpointError(f'card field {field_name}: the pooled fit (labels ["*"]) is missing')
        return cls(fits)


def _finite(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


@dataclass
class ScanReference:
    """Held-out real items' scores, sorted, what they are (for the user), and the baseline the
    scores are z-scores around (None: the scores are ELBOs)."""

    scores: np.ndarray
    what: str
    baseline: Baseline | None = None


def reference_scores(generator, fallback_samples: int = 200) -> ScanReference:
    """What files are ranked against: the card's `scan_reference` (checked); for older cards their
    `typicality_reference` (held-out ELBOs); for cards with neither, or a model that held nothing
    out, the model's own samples at temperature 1 (scored with the card's baseline), which is said."""
    card, baseline = generator.card, None
    stored = card.get("scan_reference")
    if stored is not None:
        reference = reference_from_card(stored, len(generator.domain.scan_features_names))
        if len(reference.scores):
            return reference
        baseline = reference.baseline  # a model trained with nothing held out
    elif card.get("typicality_reference"):
        return typicality_from_card(card["typicality_reference"])
    items = generator.sample(fallback_samples, None, 1.0, seed=0)
    scored = score_files(generator, [item.asset for item in items], baseline)
    scores = np.sort(np.array([s.score for s in scored]))
    return ScanReference(scores, f"{fallback_samples} of the model's own samples (no held-out reference)", baseline)


def typicality_from_card(old) -> ScanReference:
    """An older card's held-out ELBOs (`typicality_reference`), checked."""
    if not isinstance(old, list) or not 1 <= len(old) <= 100_000 or not _finite(old):
        raise CheckpointError("card field typicality_reference: must be a list of 1 to 100,000 finite numbers")
    return ScanReference(np.sort(np.asarray(old, dtype=np.float64)), held_out_text(len(old)))


def reference_from_card(stored, features: int) -> ScanReference:
    if not isinstance(stored, dict) or stored.get("version") != REFERENCE_VERSION:
        raise CheckpointError(f"card field scan_reference: must be an object of version {REFERENCE_VERSION}")
    scores = stored.get("scores")
    if not isinstance(scores, list) or len(scores) > 100_000 or not _finite(scores):
        raise CheckpointError("card field scan_reference.scores: must be a list of at most 100,000 finite numbers")
    baseline = None
    if stored.get("baseline") is not None:
        if not features:
            raise CheckpointError("card field scan_reference.baseline: this domain's scan has no features")
        baseline = Baseline.from_card(stored["baseline"], features)
    what = held_out_text(len(scores)) + (", each read against real items that hold as much" if baseline else "")
    return ScanReference(np.sort(np.asarray(scores, dtype=np.float64)), what, baseline)


def held_out_text(count: int) -> str:
    return f"{count} held-out real item{'' if count == 1 else 's'}"


# --- scoring files -----------------------------------------------------------------------------


@dataclass
class FileScore:
    elbo: float  # nats per part under `labels`
    score: float  # the z-score around the baseline, or the ELBO without one
    labels: list[str]  # the label set that explained the file best
    parts: list  # its `scan_parts`


def score_files(generator, assets: list, baseline: Baseline | None) -> list[FileScore]:
    """Each asset scored as `scan` scores a file (see the module docstring), the parts of all of
    them under all their label sets in batches of BATCH."""
    domain, space = generator.domain, generator.domain.conditions
    rows = []  # (asset index, candidate index, part)
    candidates = []
    all_parts = [domain.scan_parts(asset) for asset in assets]
    guessed = domain.scan_explanations(generator, [parts[0] for parts in all_parts]) if assets else None
    for i, parts in enumerate(all_parts):
        sets = guessed[i] if guessed is not None else explanations(space, domain.labels_of(parts[0]))
        tried = [generator.condition_labels(labels) for labels in sets]
        candidates.append((parts, tried))
        rows += [(i, j, part) for j in range(len(tried)) for part in parts]
    elbos = np.zeros(len(rows))
    for s in range(0, len(rows), BATCH):
        chunk = rows[s : s + BATCH]
        label_sets = [candidates[i][1][j] for i, j, _ in chunk]
        elbos[s : s + len(chunk)] = generator.score([part for _, _, part in chunk], label_sets=label_sets)
    totals: dict[tuple[int, int], list[float]] = {}
    for (i, j, _), elbo in zip(rows, elbos):
        totals.setdefault((i, j), []).append(float(elbo))
    results = []
    for i, (parts, tried) in enumerate(candidates):
        means = [np.mean(totals[(i, j)]) for j in range(len(tried))]
        best = int(np.argmax(means))
        labels, elbo = tried[best], float(means[best])
        score = elbo
        if baseline is not None:
            key = domain.typicality_key(labels)
            score = float(
                np.mean([baseline.z_score(e, domain.scan_features(p), key) for e, p in zip(totals[(i, best)], parts)])
            )
        results.append(FileScore(elbo, score, labels, parts))
    return results


def scan_items_subset(domain, split, limit: int, seed: int) -> list:
    """A split's `scan_items`, a seeded `limit` of them when there are more."""
    items = domain.scan_items(split)
    if len(items) <= limit:
        return items
    rows = np.sort(np.random.default_rng(seed).permutation(len(items))[:limit])
    return [items[i] for i in rows]


def scan_reference_card(generator, corpus, log=None) -> dict:
    """The card's `scan_reference`: the baseline fitted on up to BASELINE_ITEMS training items (for
    domains with `scan_features`), then up to REFERENCE_SIZE held-out items scored with it, sorted.
    Items are the splits as `scan` would read them from files (`Domain.scan_items`)."""
    domain = generator.domain
    baseline = None
    if domain.scan_features_names and len(corpus.train):
        fitting = scan_items_subset(domain, corpus.train, BASELINE_ITEMS, seed=1)
        if log:
            log(f"scan baseline: scoring {len(fitting)} training items")
        scored = score_files(generator, fitting, None)
        features = np.array([domain.scan_features(s.parts[0]) for s in scored], dtype=np.float64)
        keys = [domain.typicality_key(s.labels) for s in scored]
        baseline = Baseline.fit(np.array([s.elbo for s in scored]), features, keys)
    reference = []
    if len(corpus.holdout):
        held = scan_items_subset(domain, corpus.holdout, REFERENCE_SIZE, seed=0)
        if log:
            log(f"scan reference: scoring {len(held)} held-out items")
        reference = sorted(round(s.score, 4) for s in score_files(generator, held, baseline))
    card = {"version": REFERENCE_VERSION, "scores": reference}
    if baseline is not None:
        card["baseline"] = baseline.to_card()
        card["features"] = list(domain.scan_features_names)
    return card


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


def scan_file(generator, path: Path, reference: ScanReference, overlay_path: Path | None = None) -> ScannedFile:
    """Score one file (raises AssetError/UserError for one that cannot be read); with `overlay_path`,
    also write its picture with the worst-explained cells in red there, while the file is in hand."""
    return scan_assets(generator, [(path, generator.domain.read(path))], reference, [overlay_path])[0]


def scan_paths(generator, paths: list[Path], reference: ScanReference, overlay_for=None, chunk: int = SCAN_CHUNK):
    """Yield (path, ScannedFile) for each file, or (path, UserError) for one that cannot be read.
    Files are read one by one and scored `chunk` at a time: a batch is several times quicker per
    file than one file at a time. `overlay_for(index, path)` names each overlay PNG (None: none)."""
    for start in range(0, len(paths), chunk):
        read, overlays = [], []
        for index, path in enumerate(paths[start : start + chunk], start=start + 1):
            try:
                read.append((path, generator.domain.read(path)))
            except UserError as error:  # AssetError and every other one-line reason
                yield path, error
                continue
            overlays.append(None if overlay_for is None else overlay_for(index, path))
        if read:
            yield from zip((path for path, _ in read), scan_assets(generator, read, reference, overlays))


def scan_assets(generator, read: list[tuple[Path, object]], reference: ScanReference, overlays: list) -> list:
    """ScannedFiles of (path, asset) pairs, scored together; overlay PNGs written where named."""
    domain = generator.domain
    assets = [asset for _, asset in read]
    scored = score_files(generator, assets, reference.baseline)
    results = []
    for (path, asset), s, overlay_path, (scores, names, heat) in zip(
        read, scored, overlays, file_positions(generator, assets, scored)
    ):
        worst = names[int(np.argmin(scores))] if len(scores) else ""
        if overlay_path is not None:
            write_png_atomic(overlay_path, overlay(domain.render(asset), heat))
        positions = [float(v) for v in scores]
        score_percentile = percentile(reference.scores, s.score)
        results.append(ScannedFile(path, s.elbo, score_percentile, s.labels, worst, positions, overlay_path, s.score))
    return results


MAX_FOREIGN = 2000  # files of another set read for a detection report, at most


def foreign_items(domain, folder: Path) -> list:
    """Files of another set under `folder`, read as `scan` reads files (unreadable ones left out,
    MAX_FOREIGN at most, in name order): the `other_set` kind of a detection report."""
    paths = files_in(folder, domain.read_formats)
    items = []
    for path in paths:
        if len(items) >= MAX_FOREIGN:
            break
        try:
            items.append(domain.read(path))
        except UserError:
            continue
    if not items:
        raise UserError(f"{folder} holds no readable {domain.name} files ({', '.join(domain.read_formats)})")
    return items


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


def scan_scores(generator, assets: list, baseline: Baseline | None) -> tuple[np.ndarray, list[FileScore]]:
    """Each asset's score as `scan` gives a file (`score_files`): (N,) and the FileScores."""
    scored = score_files(generator, assets, baseline)
    return np.array([s.score for s in scored]), scored


def file_positions(generator, assets: list, scored: list[FileScore]) -> list[tuple[np.ndarray, list[str], np.ndarray]]:
    """Each asset's `Domain.positions` (scores, names, heat map), from the per-cell log-likelihoods
    of its parts as the domain reads positions (`Domain.position_parts`), under the labels that
    scored it best; the parts of all assets BATCH at a time."""
    domain = generator.domain
    parts = [(i, part) for i, (a, s) in enumerate(zip(assets, scored)) for part in domain.position_parts(a, s.parts)]
    maps = []
    for start in range(0, len(parts), BATCH):
        batch = parts[start : start + BATCH]
        label_sets = [scored[i].labels for i, _ in batch]
        maps += list(generator.score_map([part for _, part in batch], label_sets=label_sets))
    return [domain.positions(asset, [m for (j, _), m in zip(parts, maps) if j == i]) for i, asset in enumerate(assets)]


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
    baseline: Baseline | None = None,
    locate=file_positions,
) -> dict:
    """How well `scan` tells anomalies from real held-out `assets` (the normals): per kind, ROC AUC
    and precision at 10 with the scan's score (lower is more anomalous; `baseline` as the card's
    reference has it, see `reference_scores`), and, where the
    kind has a place (`Domain.plant_anomalies` gives positions), the share of planted items whose
    worst position is inside it (`localisation`). Kinds are the domain's planted ones, `count`
    each, and `outliers`: real items anomalous by kind (`Domain.detection_items`), with no place.
    At most `max_normals` normals and outliers per kind are scored, a seeded subset beyond that.
    `locate(generator, assets, scored)` gives each asset's positions as `file_positions` does
    (the default, what `scan` uses); a benchmark passes another to compare on the same items."""
    if not assets:
        raise UserError("no held-out items to plant anomalies among")
    rng = np.random.default_rng(seed)

    def capped(items: list) -> list:
        if len(items) <= max_normals:
            return list(items)
        return [items[i] for i in np.sort(rng.permutation(len(items))[:max_normals])]

    normals = capped(assets)
    normal_scores, normal_scored = scan_scores(generator, normals, baseline)
    kinds = plant(generator.domain, normals, count, rng)
    kinds |= {kind: [(item, None) for item in capped(items)] for kind, items in (outliers or {}).items() if items}
    report: dict = {}
    for kind, made in kinds.items():
        scores, scored = scan_scores(generator, [asset for asset, _ in made], baseline)
        row = {
            "normals": len(normals),
            "planted": len(made),
            "roc_auc": roc_auc(normal_scores, scores),
            "precision_at_10": precision_at(normal_scores, scores),
            "normal_median_elbo": float(np.median([s.elbo for s in normal_scored])),
            "planted_median_elbo": float(np.median([s.elbo for s in scored])),
        }
        placed = [(asset, where, s) for (asset, where), s in zip(made, scored) if where is not None]
        if placed:
            found = locate(generator, [a for a, _, _ in placed], [s for _, _, s in placed])
            row["localisation"] = float(np.mean([int(np.argmin(f[0])) in w for (_, w, _), f in zip(placed, found)]))
        report[kind] = row
    return report
