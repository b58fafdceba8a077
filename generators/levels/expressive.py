"""Whole-level quality for `eval levels`: the agent's completion rate with and without
--playable, the expressive-range metrics of Smith & Whitehead (2010) as Summerville et al.
use them for Mario, and an expressive-range scatter plot (Pillow, no plotting library).

For a level of H rows × L columns, exactly:
- linearity = 1 - mean_c |h_c - (a c + b)| / H, over the columns c that hold any solid tile,
  where h_c = H - (row of the column's topmost solid tile) is the height of its highest
  platform and a c + b is the least-squares line through those heights. 1: every platform
  on one straight line; lower: heights jump around. (1 when fewer than two such columns.)
- leniency = -(enemies + 0.5 gap columns + 0.5 other hazard tiles) / L, where an enemy is a
  tile tagged "enemy", a gap column has no solid tile in the bottom row, and other hazards
  are tiles tagged "hazard" but not "enemy" (cannons). 0: nothing can hurt the player;
  more negative: less lenient. Per column, so levels of any length compare.
- density = solid tiles / (H L): the share of the level that is solid.
- gaps = gap columns / L: the originals are ground levels (0.02-0.32) or athletic ones
  (0.53-0.96), nothing between (`character.py`).
Original levels are the whole VGLC levels of the data folders (training and held-out), cut
to the model's height as for training.

Variety is read as the histogram overlap of each metric between generated and original levels
(`histogram_overlap`: the shared area of two normalised histograms on common bins), and the
difficulty control as how often `--difficulty harder` gives a less lenient level than
`--difficulty easier` from the same seed (`difficulty_control`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .character import character_of
from .domain import level_folders, read_level
from .long_level import sample_long_level
from .metrics import expressive_metrics
from .stitch import StitchConfig, window_count

METRICS = ("linearity", "leniency", "density", "gaps")
OVERLAP_BINS = 10  # equal bins over the two sets' common range; 37 originals hold about 4 a bin


def summarise(rows: list[dict[str, float]]) -> dict:
    """Mean and standard deviation of each metric over levels."""
    out: dict = {"levels": len(rows)}
    for name in METRICS:
        values = np.array([r[name] for r in rows], dtype=np.float64)
        out[name] = {"mean": float(values.mean()), "std": float(values.std())} if len(values) else {}
    return out


def histogram_overlap(a, b, bins: int = OVERLAP_BINS) -> float:
    """Shared area (0..1) of the normalised histograms of two samples, on `bins` equal bins over
    their joint range: 1 when the two spread the same way, 0 when they never meet."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if not len(a) or not len(b):
        return 0.0
    low, high = min(a.min(), b.min()), max(a.max(), b.max())
    if high - low < 1e-12:
        return 1.0
    edges = np.linspace(low, high, bins + 1)
    ha, hb = np.histogram(a, edges)[0] / len(a), np.histogram(b, edges)[0] / len(b)
    return float(np.minimum(ha, hb).sum())


def range_overlap(sets: dict[str, list[dict[str, float]]], reference: str = "original") -> dict:
    """Per metric, each set's `histogram_overlap` with the `reference` set's levels."""
    return {
        name: {
            s: histogram_overlap([r[name] for r in rows], [r[name] for r in sets[reference]])
            for s, rows in sets.items()
            if s != reference
        }
        for name in METRICS
    }


def difficulty_control(generator, levels: int = 50, length: int = 200, seed: int = 0) -> dict:
    """How well `--difficulty` steers a level: for each seed, the level sampled with
    `--difficulty harder` and with `--difficulty easier` (nothing else asked), and the share
    of seeds whose harder level is the less lenient, with the mean leniency of each and of the
    level the seed draws with no difficulty asked."""
    legend = generator.domain.legend
    leniency: dict[str, list[float]] = {"harder": [], "easier": [], "as drawn": []}
    for i in range(levels):
        for name in leniency:
            level = sample_long_level(
                generator, length, seed + i, difficulty=None if name == "as drawn" else name
            ).level
            leniency[name].append(expressive_metrics(generator.domain.indices(level), legend)["leniency"])
    harder, easier = np.array(leniency["harder"]), np.array(leniency["easier"])
    return {
        "levels": levels,
        "columns": length,
        "harder_when_asked": float(np.mean(harder < easier)),
        "mean_leniency": {name: float(np.mean(values)) for name, values in leniency.items()},
    }


def window_label_runs(generator, corpus, count: int, levels: int, seed: int) -> list[list[list[str]]]:
    """Per-window conditions for generated levels, as the data has them: for each level, a
    random training level and start, and the labels of its windows every (W - overlap)
    columns from there (wrapping round at its end)."""
    rng = np.random.default_rng([int(seed), 4_243])
    stems: dict[str, list[int]] = {}
    for i, name in enumerate(corpus.train.names):
        stems.setdefault(name.rsplit("@", 1)[0], []).append(i)
    runs = list(stems.values())
    step = generator.domain.width - StitchConfig().overlap
    vectors = corpus.train.c.numpy()
    result = []
    for _ in range(levels):
        rows = runs[int(rng.integers(len(runs)))]
        start = int(rng.integers(len(rows)))
        result.append(
            [generator.domain.conditions.decode(vectors[rows[(start + k * step) % len(rows)]]) for k in range(count)]
        )
    return result


def original_levels(generator, data: list) -> list:
    """The whole levels of the data folders, at the model's height."""
    domain = generator.domain
    folders = level_folders(data, games=list(domain.games) or None)
    return [domain.fit_height(read_level(p, domain.legend)) for f in folders for p in sorted(f.glob("*.txt"))]


@dataclass(frozen=True)
class PlayedSet:
    """Whole levels of one set and the agent's verdict on each, in order."""

    levels: tuple  # Level
    completable: tuple[bool, ...]


def long_level_report(
    generator, corpus, data: list, levels: int = 100, length: int = 200, seed: int = 0, budget: int = 24
) -> tuple[dict, dict[str, np.ndarray]]:
    """Completion rates and expressive range of `levels` generated levels of `length` columns
    (level i from seed `seed + i`, conditioned window by window like the data), raw and with
    --playable repair, against the original levels. Returns the report and the (N, 2)
    linearity/leniency points of each set for `expressive_range_image`."""
    report, points, _ = long_level_sets(generator, corpus, data, levels, length, seed, budget)
    return report, points


def long_level_sets(
    generator, corpus, data: list, levels: int = 100, length: int = 200, seed: int = 0, budget: int = 24
) -> tuple[dict, dict[str, np.ndarray], dict[str, PlayedSet]]:
    """`long_level_report`'s report and points, and the levels behind them with the agent's verdicts:
    sets "original", "generated" (raw) and "generated_playable" (--playable)."""
    from .agent import play

    legend = generator.domain.legend
    count = window_count(length, generator.domain.width, StitchConfig().overlap)
    conditions = window_label_runs(generator, corpus, count, levels, seed)
    raw_rows, fixed_rows, raw_ok, fixed_ok, attempts, seconds = [], [], [], [], [], []
    raw_levels, fixed_levels = [], []
    for i in range(levels):
        start = time.perf_counter()
        made = sample_long_level(generator, length, seed + i, conditions[i], playable=True, budget=budget)
        seconds.append(time.perf_counter() - start)
        # The repair's first evaluation is the level as sampled: its raw verdict and metrics.
        raw_level = (
            made.level if made.attempts == 1 else sample_long_level(generator, length, seed + i, conditions[i]).level
        )
        raw_levels.append(raw_level)
        fixed_levels.append(made.level)
        raw_rows.append(expressive_metrics(generator.domain.indices(raw_level), legend))
        fixed_rows.append(expressive_metrics(generator.domain.indices(made.level), legend))
        raw_ok.append(made.raw_playable)
        fixed_ok.append(made.playable)
        attempts.append(made.attempts)
    originals = original_levels(generator, data)
    original_rows = [expressive_metrics(generator.domain.indices(lv), legend) for lv in originals]
    original_ok = [play(lv, legend).completable for lv in originals]
    report = {
        "levels": levels,
        "columns": length,
        "repair_budget": budget,
        "completable_share": float(np.mean(raw_ok)),
        "completable_share_playable": float(np.mean(fixed_ok)),
        "mean_attempts_playable": float(np.mean(attempts)),
        "mean_seconds_per_level_playable": float(np.mean(seconds)),
        "generated": summarise(raw_rows),
        "generated_playable": summarise(fixed_rows),
        "original": {
            **summarise(original_rows),
            "completable_share": float(np.mean(original_ok)),
            "mean_columns": float(np.mean([lv.width for lv in originals])),
        },
        "overlap_with_original": range_overlap(
            {"generated": raw_rows, "generated_playable": fixed_rows, "original": original_rows}
        ),
        # Of each set, the share of athletic levels (more than half the columns gaps; `character.py`).
        "athletic_share": {
            name: float(np.mean([character_of(r["gaps"]) == "athletic" for r in rows])) if rows else 0.0
            for name, rows in (("generated", raw_rows), ("generated_playable", fixed_rows), ("original", original_rows))
        },
    }
    points = {
        name: np.array([[r["linearity"], r["leniency"]] for r in rows]).reshape(-1, 2)
        for name, rows in (("generated", raw_rows), ("generated --playable", fixed_rows), ("original", original_rows))
    }
    sets = {
        "original": PlayedSet(tuple(originals), tuple(original_ok)),
        "generated": PlayedSet(tuple(raw_levels), tuple(raw_ok)),
        "generated_playable": PlayedSet(tuple(fixed_levels), tuple(fixed_ok)),
    }
    return report, points, sets


COLOURS = {"original": (31, 119, 180), "generated": (255, 127, 14), "generated --playable": (44, 160, 44)}


def expressive_range_image(points: dict[str, np.ndarray], size: tuple[int, int] = (560, 420)) -> np.ndarray:
    """A scatter plot (H, W, 3) uint8 of leniency (y) against linearity (x), one colour per
    set drawn in order (later sets on top), axes ranged to the data, with a legend and the
    axis ranges written on it."""
    from PIL import Image, ImageDraw

    width, height = size
    left, right, top, bottom = 60, 20, 20, 50
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    every = (
        np.concatenate([p for p in points.values() if len(p)])
        if any(len(p) for p in points.values())
        else np.zeros((1, 2))
    )
    low, high = every.min(axis=0), every.max(axis=0)
    pad = np.maximum((high - low) * 0.05, 1e-3)
    low, high = low - pad, high + pad

    def place(xy: np.ndarray) -> tuple[float, float]:
        fx, fy = (xy - low) / (high - low)
        return left + fx * (width - left - right), height - bottom - fy * (height - top - bottom)

    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    # Repaired levels are rings, so the raw dot under an unchanged level still shows.
    ringed = {"generated --playable"}
    for name, pts in points.items():
        colour = COLOURS.get(name, (0, 0, 0))
        for xy in pts:
            x, y = place(xy)
            box = [x - 3, y - 3, x + 3, y + 3] if name not in ringed else [x - 5, y - 5, x + 5, y + 5]
            draw.ellipse(box, outline=colour, width=2) if name in ringed else draw.ellipse(box, fill=colour)
    for i, name in enumerate(points):
        y = top + 6 + 14 * i
        draw.rectangle([left + 8, y, left + 16, y + 8], fill=COLOURS.get(name, (0, 0, 0)))
        draw.text((left + 22, y - 2), f"{name} ({len(points[name])})", fill="black")
    draw.text((left, height - bottom + 4), f"{low[0]:.3f}", fill="black")
    draw.text((width - right - 40, height - bottom + 4), f"{high[0]:.3f}", fill="black")
    draw.text(((width - 60) // 2, height - bottom + 20), "linearity", fill="black")
    draw.text((4, height - bottom - 10), f"{low[1]:.3f}", fill="black")
    draw.text((4, top), f"{high[1]:.3f}", fill="black")
    draw.text((4, (height - 20) // 2), "leniency", fill="black")
    return np.asarray(image, dtype=np.uint8)


def plot_path(json_path: str | Path) -> Path:
    """Where the expressive-range plot goes: beside the --json file."""
    path = Path(json_path)
    return path.with_name(f"{path.stem}-expressive-range.png")
