"""Quality measures for generated levels: pipe integrity, novelty and tile-pattern statistics.

All take (N, H, W) arrays of vocabulary indices, so they work on data windows and samples
alike and can be checked on the original levels.
"""

from __future__ import annotations

import numpy as np
import torch

from .lode_agent import is_lode_runner

PIPE_PARTS = ("top-left pipe", "top-right pipe", "left pipe", "right pipe")


def pipe_part_ids(legend: dict) -> dict[str, set[int]]:
    """Vocabulary indices of each pipe part, by legend tag."""
    parts = {part: set() for part in PIPE_PARTS}
    for index, tags in enumerate(legend.values()):
        for part in PIPE_PARTS:
            if part in (t.lower() for t in tags):
                parts[part].add(index)
    return parts


def broken_pipe_cells(grids: np.ndarray, legend: dict) -> np.ndarray:
    """(N, H, W) bool: pipe tiles that do not belong to a well-formed pipe.

    A pipe is two columns wide: a top-left/top-right cap and left/right body tiles. Each
    part needs its partner beside it, and a body tile must hang from something solid
    above it: more pipe, its cap, or a ceiling (SMB2 has pipes coming down from ceilings,
    capped at the bottom). Neighbours outside the grid count as fitting, because a window
    may cut a pipe.
    """
    parts = pipe_part_ids(legend)
    tl, tr, bl, br = (np.isin(grids, list(parts[p])) for p in PIPE_PARTS)
    solid_ids = [i for i, tags in enumerate(legend.values()) if "solid" in (t.lower() for t in tags)]
    solid = np.isin(grids, solid_ids)

    def shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
        """What lies at (y+dy, x+dx) of each cell; True off the edge."""
        padded = np.pad(a, ((0, 0), (1, 1), (1, 1)), constant_values=True)
        h, w = a.shape[1:]
        return padded[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]

    above_solid = shifted(solid, -1, 0)
    broken = np.zeros(grids.shape, dtype=bool)
    broken |= tl & ~shifted(tr, 0, 1)
    broken |= tr & ~shifted(tl, 0, -1)
    broken |= bl & ~(shifted(br, 0, 1) & above_solid)
    broken |= br & ~(shifted(bl, 0, -1) & above_solid)
    return broken


def broken_pipe_rate(grids: np.ndarray, legend: dict) -> float:
    """Share of grids with at least one broken pipe tile."""
    if len(grids) == 0:
        return 0.0
    return float(broken_pipe_cells(grids, legend).any(axis=(1, 2)).mean())


def novelty(samples: np.ndarray, training: np.ndarray, tiles: int, chunk: int = 256) -> np.ndarray:
    """Minimum Hamming distance (cells that differ) from each sample to any training grid: (N,).

    Computed as cells - <one_hot(sample), one_hot(train)> with one matrix product per chunk."""
    cells = samples.shape[1] * samples.shape[2]
    train_hot = torch.nn.functional.one_hot(torch.from_numpy(training).reshape(len(training), -1), tiles)
    train_hot = train_hot.reshape(len(training), -1).float()  # (M, cells*T)
    best = []
    for start in range(0, len(samples), chunk):
        part = torch.from_numpy(samples[start : start + chunk]).reshape(-1, cells)
        hot = torch.nn.functional.one_hot(part, tiles).reshape(len(part), -1).float()
        matches = hot @ train_hot.T  # (n, M) cells that agree
        best.append(cells - matches.max(dim=1).values)
    return torch.cat(best).numpy()


def pattern_counts(grids: np.ndarray, tiles: int, size: int = 2) -> dict[int, int]:
    """Counts of every size×size tile pattern over all positions in all grids."""
    n, h, w = grids.shape
    codes = np.zeros((n, h - size + 1, w - size + 1), dtype=np.int64)
    for dy in range(size):
        for dx in range(size):
            codes = codes * tiles + grids[:, dy : dy + h - size + 1, dx : dx + w - size + 1]
    keys, counts = np.unique(codes, return_counts=True)
    return dict(zip(keys.tolist(), counts.tolist()))


def tile_pattern_kl(
    reference: np.ndarray, generated: np.ndarray, tiles: int, size: int = 2, epsilon: float = 1e-6
) -> float:
    """KL(P_reference || Q_generated) over size×size tile patterns (Lucas & Volz 2019).

    Both distributions range over the union of patterns seen in either set; each
    probability gets `epsilon` added and is renormalised, so unseen patterns cost a
    large but finite amount."""
    p_counts, q_counts = pattern_counts(reference, tiles, size), pattern_counts(generated, tiles, size)
    keys = sorted(set(p_counts) | set(q_counts))
    p = np.array([p_counts.get(k, 0) for k in keys], dtype=np.float64)
    q = np.array([q_counts.get(k, 0) for k in keys], dtype=np.float64)
    p = p / p.sum() + epsilon
    q = q / q.sum() + epsilon
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))


def sample_report(generator, corpus, samples: int = 1000, seed: int = 0) -> dict:
    """Metrics on `samples` generated windows, conditioned like the training data.

    Each sample's condition is a training window's label set drawn at random (seeded), so
    label combinations appear as often as in the data. Every latent is decoded twice: as the
    app does (condition-faithful decoding, `decoding`) and by the bare per-cell argmax
    of the network ("raw_decoder"), so the network's own fidelity stays visible."""
    domain = generator.domain
    rng = np.random.default_rng(seed)
    picked = corpus.train.c[rng.integers(0, len(corpus.train), samples)].numpy()
    combos, inverse = np.unique(picked, axis=0, return_inverse=True)
    shape = (samples, domain.height, domain.width)
    faithful, raw = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    for k, combo in enumerate(combos):
        rows = np.flatnonzero(inverse.reshape(-1) == k)
        labels = domain.conditions.decode(combo)
        z = np.stack(
            [generator.latent_for_seed(seed * 1_000_003 + k * 10_007 + i, 1.0, labels) for i in range(len(rows))]
        )
        output = generator.decode_output(z, labels)
        faithful[rows] = np.stack([domain.indices(lv) for lv in domain.from_output(output, condition=labels)])
        raw[rows] = np.stack([domain.indices(lv) for lv in domain.from_output(output)])
    train_grids = corpus.train.x.argmax(dim=1).numpy()
    held_grids = corpus.holdout.x.argmax(dim=1).numpy()
    wanted = picked[:, : domain.content_labels(corpus.train.x[:1]).shape[1]] > 0.5
    report = {"samples": samples, **_grid_metrics(domain, faithful, wanted, train_grids)}
    report["raw_decoder"] = _grid_metrics(domain, raw, wanted, train_grids)
    if has_pipes(domain.legend):
        report["training_windows_broken_pipe_rate"] = broken_pipe_rate(train_grids, domain.legend)
        # The same measure on both sides: defects per 16-column screen.
        report["structure_defects_per_screen"] = {
            "training_windows": defect_rates(train_grids, domain.legend),
            "heldout_windows": defect_rates(held_grids, domain.legend),
            "generated": defect_rates(faithful, domain.legend),
            "raw_decoder": defect_rates(raw, domain.legend),
        }
    if is_lode_runner(domain.legend):
        layouts = {
            name: lode_runner_layout(domain.legend, domain.chars, grids)
            for name, grids in (
                ("training_levels", train_grids),
                ("heldout_levels", held_grids),
                ("generated", faithful),
            )
        }
        layouts["ladder_length_overlap_generated_vs_training"] = share_overlap(
            layouts["generated"]["ladder_length_shares"], layouts["training_levels"]["ladder_length_shares"]
        )
        report["lode_runner_layout"] = layouts
        report["lode_runner_solvable_share"] = {  # whole levels: training, held-out and generated
            name: solvable_share(domain, grids)
            for name, grids in (
                ("training_levels", train_grids),
                ("heldout_levels", held_grids),
                ("generated", faithful),
            )
        }
    if domain.count_bins:
        counts = domain.counts(corpus.train.x)
        report["training_mean_count"] = {b.name: float(counts[:, j].mean()) for j, b in enumerate(domain.count_bins)}
    if len(held_grids):
        report["heldout_windows_tile_pattern_kl_2x2"] = tile_pattern_kl(train_grids, held_grids, len(domain.chars))
    return report


LADDER_BINS = ((1, 1), (2, 2), (3, 4), (5, 8), (9, 10**6))  # ladder run lengths, in tiles


def lode_runner_layout(legend: dict, chars: list[str], grids: np.ndarray) -> dict:
    """How a set of (N, H, W) Lode Runner grids (indices into `chars`) lays out its ladders and
    gold, the same for originals and samples: the vertical runs of ladder tiles (how many a level,
    their mean length, the share of 1-2-tile fragments, and the share in each LADDER_BINS length),
    and the gold (how many a level, the share resting on something, a solid tile, a ladder or the
    bottom row, and the share sealed: solid or the map's edge on all four sides)."""

    def tagged(tag: str) -> np.ndarray:
        return np.array([tag in (t.lower() for t in legend[c]) for c in chars])

    ladder, solid, gold = tagged("ladder")[grids], tagged("solid")[grids], tagged("gold")[grids]
    runs = []
    for level in ladder:
        for column in level.T:
            edges = np.diff(np.concatenate([[0], column.astype(np.int8), [0]]))
            runs += list(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1))
    runs = np.asarray(runs, dtype=np.int64)
    below = np.ones_like(solid)  # the bottom row rests on the map's floor
    below[:, :-1] = solid[:, 1:] | ladder[:, 1:]
    walled = np.pad(solid, ((0, 0), (1, 1), (1, 1)), constant_values=True)
    sealed = walled[:, :-2, 1:-1] & walled[:, 2:, 1:-1] & walled[:, 1:-1, :-2] & walled[:, 1:-1, 2:]
    golds = int(gold.sum())
    levels = max(len(grids), 1)
    return {
        "ladders_per_level": float(len(runs) / levels),
        "ladder_mean_length": float(runs.mean()) if len(runs) else 0.0,
        "ladder_fragments_1_2": float((runs <= 2).mean()) if len(runs) else 0.0,
        "ladder_length_shares": {
            (f"{lo}" if lo == hi else f"{lo}+" if hi > 100 else f"{lo}-{hi}"): (
                float(((runs >= lo) & (runs <= hi)).mean()) if len(runs) else 0.0
            )
            for lo, hi in LADDER_BINS
        },
        "gold_per_level": float(golds / levels),
        "gold_resting": float((gold & below).sum() / golds) if golds else 0.0,
        "gold_sealed": float((gold & sealed).sum() / golds) if golds else 0.0,
    }


def share_overlap(a: dict, b: dict) -> float:
    """Histogram overlap (the sum of the smaller share per bin) of two `ladder_length_shares`."""
    return float(sum(min(a[k], b.get(k, 0.0)) for k in a))


def solvable_share(domain, grids: np.ndarray) -> float | None:
    """Share of (N, H, W) Lode Runner grids with a spawn whose gold can all be collected (`lode_agent`)."""
    from .lode_agent import solve

    levels = [domain.level_from_indices(grid) for grid in grids]
    playable = [lv for lv in levels if any("M" in row for row in lv.rows)]
    return float(np.mean([solve(lv, domain.legend).solvable for lv in playable])) if playable else None


def has_pipes(legend: dict) -> bool:
    """Whether a game has Mario-style two-column pipes (broken-pipe metrics mean nothing otherwise)."""
    return all(pipe_part_ids(legend).values())


def _grid_metrics(domain, grids: np.ndarray, wanted: np.ndarray, train_grids: np.ndarray) -> dict:
    """Conditional accuracy, broken pipes (games with pipes), count statistics (games with
    count bins), novelty and pattern KL of generated grids.

    Accuracy is per label for presence labels, and per group for count bins (the share of
    grids whose count falls in the bin asked for)."""
    one_hot = domain.one_hot(grids)
    content = domain.content_labels(one_hot) > 0.5  # (N, K) presence, then count bins
    accuracy, offset = {}, 0
    for group in domain.conditions.groups[: len(domain.conditions.groups) - (1 if domain.games else 0)]:
        width = len(group.labels)
        agree = content[:, offset : offset + width] == wanted[:, offset : offset + width]
        if group.exclusive:
            accuracy[group.name] = float(agree.all(axis=1).mean())
        else:
            accuracy.update({label: float(agree[:, j].mean()) for j, label in enumerate(group.labels)})
        offset += width
    distances = novelty(grids, train_grids, len(domain.chars))
    report = {
        "conditional_accuracy": accuracy,
        "conditional_exact_match": float((content == wanted).all(axis=1).mean()),
    }
    if has_pipes(domain.legend):
        report["broken_pipe_rate"] = broken_pipe_rate(grids, domain.legend)
    if domain.count_bins:
        counts = domain.counts(one_hot)
        report["mean_count"] = {b.name: float(counts[:, j].mean()) for j, b in enumerate(domain.count_bins)}
    for tag, n in domain.exact_counts.items():
        members = np.array([tag in (t.lower() for t in tags) for tags in domain.legend.values()])
        report[f"exactly_{n}_{tag}_rate"] = float((members[grids].sum(axis=(1, 2)) == n).mean())
    report.update(
        {
            "novelty_min_hamming_tiles": float(distances.mean()),
            "novelty_min_hamming_fraction": float(distances.mean() / (grids.shape[1] * grids.shape[2])),
            "copies_of_training_windows": float((distances == 0).mean()),
            "tile_pattern_kl_2x2": tile_pattern_kl(train_grids, grids, len(domain.chars)),
        }
    )
    return report


# --- structural defects -------------------------------------------------------------------

SCREEN = 16  # columns of one screen: rates are given per screen, for windows and whole levels alike
DEFECTS = (
    "pipe_floating",  # a standing pipe whose lowest tile has nothing solid under it (not the bottom row)
    "pipe_top_at_ground_level",  # a cap with ground on both sides at its own height, or sitting on the ground
    "pipe_capped_or_capless",  # a cap under a solid tile, or a pipe with a cap at neither end
    "enemy_floating",  # an enemy with no solid tile under it
    "isolated_ground",  # a one-tile piece of ground touching no other solid tile (8 neighbours)
    "isolated_block",  # the same for any other solid tile (bricks, question blocks: the originals have them)
)


def tag_ids(legend: dict, tag: str) -> list[int]:
    return [i for i, tags in enumerate(legend.values()) if tag in (t.lower() for t in tags)]


def neighbour(a: np.ndarray, dy: int, dx: int, outside: bool) -> np.ndarray:
    """What lies at (y+dy, x+dx) of each cell of (N, H, W) `a`; `outside` off the edge."""
    k = max(abs(dy), abs(dx), 1)
    padded = np.pad(a, ((0, 0), (k, k), (k, k)), constant_values=outside)
    h, w = a.shape[1:]
    return padded[:, k + dy : k + dy + h, k + dx : k + dx + w]


def defect_cells(grids: np.ndarray, legend: dict) -> dict[str, np.ndarray]:
    """Each structural defect as an (N, H, W) bool mask marking one cell per instance (a pipe at
    the bottom or top of its left column, an enemy or a tile where it is). The same code scores
    generated levels and the originals, so VGLC's own quirks set the bar."""
    grids = np.asarray(grids)
    parts = pipe_part_ids(legend)
    tl, tr, bl, br = (np.isin(grids, list(parts[p])) for p in PIPE_PARTS)
    pipe = tl | tr | bl | br
    solid = np.isin(grids, tag_ids(legend, "solid"))
    ground = np.isin(grids, tag_ids(legend, "ground"))
    block = solid & ~pipe  # solid tiles that are not pipe: ground, bricks, blocks, cannons
    left = tl | bl  # a pipe's left column: cap or body
    below_left, above_left = neighbour(left, 1, 0, False), neighbour(left, -1, 0, False)
    run_bottom, run_top = left & ~below_left, left & ~above_left
    under = neighbour(block, 1, 0, True)  # solid below, or the bottom row
    over = neighbour(block, -1, 0, True)  # solid above, or the top row (a ceiling)
    hanging = run_top & over  # the top of a run that hangs from a ceiling...
    # ...is a hanging pipe when its cap is at the bottom (SMB2 has them): follow each run down.
    hangs = np.zeros_like(left)
    for y in range(grids.shape[1]):
        hangs[:, y] = left[:, y] & (hanging[:, y] | (hangs[:, y - 1] if y else False))
    hanging_pipe_bottom = run_bottom & hangs & tl
    beside = neighbour(block, 0, -1, False) & neighbour(block, 0, 2, False)  # ground at the cap's height
    on_ground = run_bottom & tl & under & neighbour(under, 0, 1, True)  # a cap alone, sitting on the ground
    defects = {
        "pipe_floating": run_bottom & ~under & ~hanging_pipe_bottom,
        "pipe_top_at_ground_level": tl & (beside | on_ground),
        # A cap with a block on it; a standing pipe with no cap on top; a hanging one with none below.
        "pipe_capped_or_capless": (tl & neighbour(block, -1, 0, False))
        | (run_top & ~tl & ~hangs)
        | (run_bottom & hangs & ~tl),
        "enemy_floating": np.isin(grids, tag_ids(legend, "enemy")) & ~neighbour(solid, 1, 0, True),
    }
    near = np.zeros_like(solid)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                near |= neighbour(solid, dy, dx, False)
    lonely = block & ~near
    defects["isolated_ground"] = lonely & ground
    defects["isolated_block"] = lonely & ~ground
    return defects


def defect_rates(grids: np.ndarray, legend: dict) -> dict[str, float]:
    """Instances of each defect per screen of 16 columns, over (N, H, W) grids of any width."""
    grids = np.asarray(grids)
    if grids.size == 0:
        return {name: 0.0 for name in DEFECTS}
    screens = grids.shape[0] * grids.shape[2] / SCREEN
    return {name: float(mask.sum() / screens) for name, mask in defect_cells(grids, legend).items()}


def level_defect_rates(levels: list[np.ndarray], legend: dict) -> dict[str, float]:
    """`defect_rates` over whole levels of different widths (each (H, W)), weighted by width."""
    totals = {name: 0.0 for name in DEFECTS}
    columns = 0
    for grid in levels:
        for name, mask in defect_cells(grid[None], legend).items():
            totals[name] += float(mask.sum())
        columns += grid.shape[1]
    return {name: total * SCREEN / max(columns, 1) for name, total in totals.items()}


def _tag_mask(legend: dict, tag: str) -> np.ndarray:
    return np.array([tag in (t.lower() for t in tags) for tags in legend.values()])


def expressive_metrics(grid: np.ndarray, legend: dict) -> dict[str, float]:
    """Linearity, leniency, density and the share of gap columns of one (H, L) index grid
    (formulas: `expressive`'s module doc)."""
    height, length = grid.shape
    solid = _tag_mask(legend, "solid")[grid]
    enemy = _tag_mask(legend, "enemy")[grid]
    hazard = _tag_mask(legend, "hazard")[grid] & ~enemy
    has_solid = solid.any(axis=0)
    columns = np.flatnonzero(has_solid)
    if len(columns) >= 2:
        heights = height - solid[:, columns].argmax(axis=0)  # topmost solid tile, counted from the bottom
        slope, intercept = np.polyfit(columns, heights, 1)
        linearity = 1.0 - float(np.abs(heights - (slope * columns + intercept)).mean()) / height
    else:
        linearity = 1.0
    gaps = int((~solid[-1]).sum())
    leniency = -(int(enemy.sum()) + 0.5 * gaps + 0.5 * int(hazard.sum())) / length
    return {"linearity": linearity, "leniency": leniency, "density": float(solid.mean()), "gaps": gaps / length}
