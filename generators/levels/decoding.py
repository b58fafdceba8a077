"""Condition-faithful decoding of levels: the most likely grid that honours the conditions.

The decoder scores every cell independently, so its per-cell argmax can miss a sparse tile
the condition asks for (an enemy is likely *somewhere*, but never the single most likely
tile of any one cell) and can cut a two-column pipe in half. Under that factorised
likelihood, this module finds the most probable grid subject to three constraints:

1. tiles of a label that is off never appear (their log-probabilities are masked);
2. every pipe is well formed: broken pipe tiles are replaced by their best non-pipe tile;
3. a label that is on appears at least once: if the grid lacks it, the single cheapest
   change adds it (one tile, or a whole pipe standing on the ground for pipes).

Then structure the originals do not have is taken out (`metrics.defect_cells`): a pipe that
floats, sits level with the ground or is capped by a block goes (its cells become the likeliest
passable tile), an enemy with nothing under it drops to the ground below it (or goes), and a
lone ground tile goes; what a label asks for is added after that, only where it is sound.

Each step is exact for its own constraint; together they are a greedy approximation of
the constrained MAP. Shapes: log_probs (T, H, W), grids (H, W) of vocabulary indices.
"""

from __future__ import annotations

import numpy as np

from .metrics import PIPE_PARTS, broken_pipe_cells, defect_cells, neighbour, pipe_part_ids, tag_ids


def constrained_grid(
    log_probs: np.ndarray, legend: dict, wanted: dict[str, bool], sampled: np.ndarray | None = None
) -> np.ndarray:
    """The decoded (H, W) grid. `wanted` maps presence tags to on/off; `sampled` is a grid
    already drawn from the masked distribution (temperature > 0) to start from instead of
    the argmax."""
    tags = [tuple(t.lower() for t in v) for v in legend.values()]
    members = {tag: np.array([tag in t for t in tags]) for tag in wanted}
    log_probs = log_probs.copy()
    for tag, on in wanted.items():
        if not on:
            log_probs[members[tag]] = -np.inf
    grid = log_probs.argmax(axis=0) if sampled is None else sampled.copy()
    pipe_ids = pipe_part_ids(legend)
    has_pipes = all(pipe_ids[p] for p in PIPE_PARTS)
    if has_pipes:
        grid = _repair_pipes(grid, log_probs, legend, pipe_ids)
    if has_pipes:  # Mario-style side views; Lode Runner's ladders and lone bricks follow other rules
        grid = repair_structure(grid, log_probs, legend)
    protected = np.zeros(grid.shape, dtype=bool)
    for tag, on in wanted.items():
        if on:
            protected |= members[tag][grid]
    if has_pipes and wanted.get("pipe") and not members["pipe"][grid].any():
        grid, protected = _add_pipe(grid, log_probs, legend, pipe_ids, protected)
    solid = np.isin(grid, tag_ids(legend, "solid"))
    standing = neighbour(solid[None], 1, 0, False)[0] & ~solid  # cells an enemy can stand in
    for tag, on in wanted.items():
        if on and not members[tag][grid].any() and not (tag == "pipe" and has_pipes):
            allowed = standing if tag == "enemy" and has_pipes else None
            grid, protected = _add_tile(grid, log_probs, members[tag], protected, allowed)
    return grid


def repair_structure(grid: np.ndarray, log_probs: np.ndarray, legend: dict) -> np.ndarray:
    """The grid without floating, ground-level or capped pipes, floating enemies and lone ground
    tiles (module docstring). A few passes, since taking one thing out can leave another alone."""
    passable = np.array(
        ["solid" not in (t := [s.lower() for s in tags]) and "enemy" not in t for tags in legend.values()]
    )
    air = np.where(passable[:, None, None], log_probs, -np.inf).argmax(axis=0)  # likeliest passable tile
    solid_ids = tag_ids(legend, "solid")
    all_pipe = sorted(set().union(*pipe_part_ids(legend).values()))
    for _ in range(4):
        defects = {name: mask[0] for name, mask in defect_cells(grid[None], legend).items()}
        bad_pipe = defects["pipe_floating"] | defects["pipe_top_at_ground_level"] | defects["pipe_capped_or_capless"]
        fixed = grid.copy()
        if bad_pipe.any():
            whole = _connected(np.isin(grid, all_pipe), bad_pipe)
            fixed[whole] = air[whole]
        for y, x in zip(*np.nonzero(defects["enemy_floating"])):
            fixed[y, x] = air[y, x]
            below = y + 1
            while below + 1 < grid.shape[0] and passable[fixed[below + 1, x]]:
                below += 1
            if below + 1 < grid.shape[0] and fixed[below + 1, x] in solid_ids and passable[fixed[below, x]]:
                fixed[below, x] = grid[y, x]  # the enemy lands on the ground under it
        lone = defects["isolated_ground"]
        fixed[lone] = air[lone]
        if np.array_equal(fixed, grid):
            break
        grid = fixed
    return grid


def _connected(member: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The cells of `member` 4-connected to any cell of `seeds` (H, W): whole pipes from one tile."""
    reached = member & seeds
    while True:
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= member
        if np.array_equal(grown, reached):
            return reached
        reached = grown


def _repair_pipes(grid: np.ndarray, log_probs: np.ndarray, legend: dict, pipe_ids: dict) -> np.ndarray:
    """Replace broken pipe tiles by their most likely non-pipe tile until none is left."""
    all_pipe = sorted(set().union(*pipe_ids.values()))
    no_pipe = log_probs.copy()
    no_pipe[all_pipe] = -np.inf
    fallback = no_pipe.argmax(axis=0)
    for _ in range(grid.size):  # each pass removes at least one pipe tile
        broken = broken_pipe_cells(grid[None], legend)[0]
        if not broken.any():
            break
        grid = np.where(broken, fallback, grid)
    return grid


def _add_tile(grid, log_probs, member_mask, protected, allowed=None):
    """Put one tile of a label where it costs the least log-probability (among `allowed` cells)."""
    cost_now = np.take_along_axis(log_probs, grid[None], axis=0)[0]  # (H, W)
    candidates = np.where(member_mask[:, None, None], log_probs, -np.inf)  # (T, H, W)
    gain = candidates.max(axis=0) - cost_now
    gain[protected] = -np.inf
    if allowed is not None:
        gain[~allowed] = -np.inf
    if not np.isfinite(gain).any():
        return grid, protected
    y, x = np.unravel_index(np.argmax(gain), gain.shape)
    grid = grid.copy()
    grid[y, x] = candidates[:, y, x].argmax()
    protected = protected.copy()
    protected[y, x] = True
    return grid, protected


def _add_pipe(grid, log_probs, legend, pipe_ids, protected):
    """Place the most likely whole pipe: a cap at some row and body tiles down to the first
    solid non-pipe tile beneath (or the bottom edge), two columns wide."""
    tl, tr, bl, br = (min(pipe_ids[p]) for p in PIPE_PARTS)
    solid = np.array(["solid" in (t.lower() for t in tags) for tags in legend.values()])
    height, width = grid.shape
    cost_now = np.take_along_axis(log_probs, grid[None], axis=0)[0]
    best, best_gain = None, -np.inf
    for x in range(width - 1):
        for top in range(height):
            bottom = top
            while bottom + 1 < height and not (solid[grid[bottom + 1, x]] or solid[grid[bottom + 1, x + 1]]):
                bottom += 1
            if bottom + 1 < height and not (solid[grid[bottom + 1, x]] and solid[grid[bottom + 1, x + 1]]):
                continue  # a pipe stands on solid tiles under both columns, or on the bottom edge
            rows = slice(top, bottom + 1)
            if protected[rows, x : x + 2].any() or bottom == top:
                continue  # (a cap alone on the ground reads as green ground)
            if top and (solid[grid[top - 1, x]] or solid[grid[top - 1, x + 1]]):
                continue  # nothing may sit on a cap
            if 0 < x and x + 2 < width and solid[grid[top, x - 1]] and solid[grid[top, x + 2]]:
                continue  # a cap level with the ground on both sides reads as ground too
            gain = (
                log_probs[tl, top, x]
                + log_probs[tr, top, x + 1]
                + log_probs[bl, top + 1 : bottom + 1, x].sum()
                + log_probs[br, top + 1 : bottom + 1, x + 1].sum()
                - cost_now[rows, x : x + 2].sum()
            )
            if gain > best_gain:
                best, best_gain = (x, top, bottom), gain
    if best is None or not np.isfinite(best_gain):
        return grid, protected
    x, top, bottom = best
    grid, protected = grid.copy(), protected.copy()
    grid[top, x], grid[top, x + 1] = tl, tr
    grid[top + 1 : bottom + 1, x], grid[top + 1 : bottom + 1, x + 1] = bl, br
    protected[top : bottom + 1, x : x + 2] = True
    return grid, protected


def fit_counts(
    grid: np.ndarray, log_probs: np.ndarray, targets: list[tuple[np.ndarray, int, int | None]], avoid: np.ndarray
) -> np.ndarray:
    """The most likely change of `grid` whose count of each kind lies in its range.

    `targets` holds (members (T,) bool, fewest, most or None) per kind, handled in order;
    a cell changed for one kind is not changed again. Missing tiles go where a member tile
    costs the least log-probability, never over a tile of a counted kind (`avoid`, (T,)
    bool); surplus ones become their best tile outside every counted kind, dropping the
    least likely first. Under the decoder's factorised likelihood this is exact for each
    kind on its own."""
    grid, fixed = grid.copy(), np.zeros(grid.shape, dtype=bool)
    for members, fewest, most in targets:
        cost_now = np.take_along_axis(log_probs, grid[None], axis=0)[0]  # (H, W)
        has = members[grid]
        count = int(has.sum())
        if count < fewest:  # not over another counted kind's tile (a guard for a gold chest)
            allowed, change, needed = members, ~has & ~fixed & ~avoid[grid], fewest - count
        elif most is not None and count > most:
            allowed, change, needed = ~(members | avoid), has & ~fixed, count - most
        else:
            continue
        options = np.where(allowed[:, None, None], log_probs, -np.inf)  # (T, H, W)
        gain = np.where(change, options.max(axis=0) - cost_now, -np.inf)
        cells = np.argsort(-gain, axis=None, kind="stable")[:needed]
        cells = cells[np.isfinite(gain.reshape(-1)[cells])]
        ys, xs = np.unravel_index(cells, grid.shape)
        grid[ys, xs] = options.argmax(axis=0)[ys, xs]
        fixed[ys, xs] = True
    return grid
