"""Playable Lode Runner screens: `sample --playable` for a single-screen model. A screen is
playable when our agent (`lode_agent`) can collect all its gold in one run from the spawn.

1. A latent search. The (1+λ) strategy of `evolve` starts from the seed's latent (the screen
   `sample` makes of that seed) and mutates the whole latent. A child scores by the share of the
   gold one run collects, then the share reachable at all. Children are kept inside the ball that
   holds 99.9% of the N(0, I) prior's draws: beyond it lie latents the decoder never saw trained.
2. A ladder repair, only where the search falls short. The shipped model draws ladders as short
   fragments that link no floors, so the fix is the one a designer would make: ladder shafts,
   each a column of cells turned into ladder from a cell the runner can stand on up to one he can
   step off at. The shaft that collects the most extra gold per tile changed is added first, and
   so on until the screen is solvable (else the screen is left as the search made it). A shaft
   never covers gold, the spawn or an enemy: what it replaces is air, brick, stone or rope.
Same seed, condition, temperature and budget: same screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from generators.core.errors import UserError

from .domain import Level
from .evolve import Strategy, evolve
from .lode_agent import LodeResult, reachable, solve, tile_kinds

# Chosen on seeds 0-199 of the shipped lode-runner model: sigma 0.5 and 0.7 solved fewer screens.
SEARCH = Strategy(population=8, sigma=1.0, grow=1.2, shrink=0.9)
SEARCH_BUDGET = 400  # screens the search decodes and plays at most (a decode and an agent run: ~5 ms each)
MAX_SHAFTS = 8  # ladder shafts the repair adds at most


@dataclass(frozen=True)
class PlayableScreen:
    """One screen for `sample --playable`, with what it took to make it playable."""

    level: Level
    latent: np.ndarray  # (D,) the latent the search settled on
    labels: list[str]  # the label set it was decoded under
    playable: bool  # the agent's verdict on `level`
    raw_playable: bool  # the verdict on the screen as sampled
    attempts: int  # screens the search decoded, the sampled one included
    ladder_tiles: int  # tiles the repair turned into ladder (0: none needed, or the repair failed)
    reason: str  # "" when playable, else the agent's reason


@dataclass(frozen=True)
class _Candidate:
    latent: np.ndarray
    level: Level
    result: LodeResult

    @property
    def fitness(self) -> tuple[float, float]:
        gold = max(self.result.gold, 1)
        return (self.result.gold_collectable / gold, self.result.gold_reachable / gold)


def screen_support(domain) -> str:
    """ "" when `sample --playable` can make single screens of this model, else why not
    (`Domain.playable_screen_support`)."""
    return domain.playable_screen_support()


def check_screen_support(domain) -> None:
    """A UserError saying why `sample --playable` cannot make screens of this model, if it cannot."""
    reason = screen_support(domain)
    if reason:
        raise UserError(f"--playable: {reason}")


def prior_radius(size: int, share: float = 0.999) -> float:
    """The radius of the ball holding `share` of N(0, I) draws in `size` dimensions (the
    Wilson-Hilferty approximation of the chi-square quantile; 6.28 for 16 dimensions)."""
    z = {0.99: 2.326, 0.999: 3.090}[share]  # standard normal quantiles
    k = float(size)
    return float(np.sqrt(k * (1 - 2 / (9 * k) + z * np.sqrt(2 / (9 * k))) ** 3))


def playable_screen(
    generator, seed: int, condition=None, temperature: float = 1.0, budget: int = SEARCH_BUDGET
) -> PlayableScreen:
    """The screen `sample` makes of `seed` if the agent solves it, else the best the latent search
    finds in `budget` more screens, ladder-repaired if the search did not make it solvable."""
    legend = generator.domain.legend
    labels = generator.labels_for_seed(seed, condition)
    radius = prior_radius(generator.latent_size)
    rng = np.random.default_rng([int(seed), 104_729])

    def evaluate(latent: np.ndarray) -> _Candidate:
        level = generator.decode(latent, labels)[0]
        return _Candidate(latent, level, solve(level, legend))

    def propose(parent: _Candidate, sigma: float) -> _Candidate:
        child = parent.latent + (sigma * rng.standard_normal(parent.latent.shape)).astype(np.float32)
        norm = float(np.linalg.norm(child))
        return evaluate(child * np.float32(radius / norm) if norm > radius else child)

    first = evaluate(generator.latent_for_seed(seed, temperature, labels))
    best, attempts = evolve(first, propose, lambda c: c.fitness, lambda c: c.result.solvable, budget, SEARCH)
    level, result, tiles = best.level, best.result, 0
    if not result.solvable:
        repaired, tiles = add_ladders(level, legend)
        if tiles:
            level, result = repaired, solve(repaired, legend)
    return PlayableScreen(
        level, best.latent, labels, result.solvable, first.result.solvable, attempts, tiles, result.reason
    )


def add_ladders(level: Level, legend: dict, max_shafts: int = MAX_SHAFTS) -> tuple[Level, int]:
    """`level` with ladder shafts added greedily until the agent solves it, and the tiles changed;
    `level` itself and 0 when it is solvable already or no `max_shafts` shafts make it so."""
    ladder = next(c for c, tags in legend.items() if "ladder" in (t.lower() for t in tags))
    result, current, changed = solve(level, legend), level, 0
    for _ in range(max_shafts):
        if result.solvable:
            return current, changed
        best = None
        for cells in shafts(current, legend):
            trial = _with(current, cells, ladder)
            after = solve(trial, legend)
            gain = after.gold_collectable - result.gold_collectable
            gain += (after.gold_reachable - result.gold_reachable) / 4  # reaching gold is a step towards collecting it
            if gain > 0 and (best is None or gain / len(cells) > best[0]):
                best = (gain / len(cells), trial, after, len(cells))
        if best is None:
            break
        _, current, result, added = best
        changed += added
    return (current, changed) if result.solvable else (level, 0)


def shafts(level: Level, legend: dict) -> list[tuple[tuple[int, int], ...]]:
    """Every ladder shaft the repair may add, as the cells it changes: column x from a foot row
    the runner can stand on up to a top row he can step off at, through no gold, spawn or enemy,
    touching a cell he can reach now (a shaft out of his reach changes nothing)."""
    kinds = tile_kinds(level, legend)
    solid, ladder, rope, gold = kinds["solid"], kinds["ladder"], kinds["rope"], kinds["gold"]
    blocked = gold | kinds["spawn"] | kinds["enemy"]
    height, width = solid.shape
    is_open = ~solid
    below = np.ones_like(solid)  # the bottom row stands on the map's floor
    below[:-1] = solid[1:] | ladder[1:]
    standing = is_open & below
    holds = standing | rope

    def beside(mask: np.ndarray) -> np.ndarray:
        """Cells with `mask` left or right of them."""
        out = np.zeros_like(mask)
        out[:, 1:] |= mask[:, :-1]
        out[:, :-1] |= mask[:, 1:]
        return out

    # At the top of a shaft he steps off sideways, or climbs one cell higher and steps off there.
    step_off = beside(holds | gold)
    step_off[1:] |= is_open[:-1] & (step_off[:-1] | gold[:-1])
    exits = is_open & step_off
    touch = reachable(level, legend)
    touch = touch | beside(touch)
    touch[1:] |= touch[:-1].copy()
    touch[:-1] |= touch[1:].copy()
    found: dict[tuple, None] = {}  # insertion-ordered set: the candidates' order is fixed
    for x in range(width):
        for foot in np.flatnonzero(standing[:, x] & ~blocked[:, x]):
            for top in range(foot, -1, -1):
                if blocked[top, x]:
                    break
                if top < foot and exits[top, x] and touch[top : foot + 1, x].any():
                    cells = tuple((y, x) for y in range(top, foot + 1) if not ladder[y, x])
                    if cells:
                        found[cells] = None
    return list(found)


def _with(level: Level, cells, char: str) -> Level:
    rows = [list(row) for row in level.rows]
    for y, x in cells:
        rows[y][x] = char
    return Level(tuple("".join(row) for row in rows))


def screens_report(generator, corpus, count: int, seed: int = 0, budget: int = SEARCH_BUDGET) -> dict:
    """The agent's solvable rate of `count` screens from seeds seed, seed+1, ... as `sample` makes
    them and as `sample --playable` does, beside the originals' (training and held-out levels);
    and how each set lays out its ladders and gold (`metrics.lode_runner_layout`), so a search or
    repair that made screens solvable by making them unlike Lode Runner would show."""
    from .metrics import lode_runner_layout, share_overlap, solvable_share

    domain = generator.domain
    made, seconds = [], []
    for item in range(seed, seed + count):
        started = time.monotonic()
        made.append(playable_screen(generator, item, budget=budget))
        seconds.append(time.monotonic() - started)
    tiles = np.array([m.ladder_tiles for m in made])
    originals = {
        "training_levels": corpus.train.x.argmax(dim=1).numpy(),
        "heldout_levels": corpus.holdout.x.argmax(dim=1).numpy(),
    }
    raw = np.stack(
        [domain.indices(s.asset) for item in range(seed, seed + count) for s in generator.sample(1, seed=item)]
    )
    layouts = {
        name: lode_runner_layout(domain.legend, domain.chars, grids)
        for name, grids in (
            ("training_levels", originals["training_levels"]),
            ("raw", raw),
            ("playable", np.stack([domain.indices(m.level) for m in made])),
        )
    }
    for name in ("raw", "playable"):
        layouts[f"ladder_length_overlap_{name}_vs_training"] = share_overlap(
            layouts[name]["ladder_length_shares"], layouts["training_levels"]["ladder_length_shares"]
        )
    return {
        "screens": count,
        "repair_budget": budget,
        "raw_solvable": float(np.mean([m.raw_playable for m in made])),
        "playable_solvable": float(np.mean([m.playable for m in made])),
        "solved_by_the_search_alone": float(np.mean([m.playable and not m.ladder_tiles for m in made])),
        "ladder_repaired": float(np.mean(tiles > 0)),
        "ladder_tiles_per_repaired_screen": float(tiles[tiles > 0].mean()) if (tiles > 0).any() else 0.0,
        "seconds_per_screen_median": float(np.median(seconds)),
        "originals_solvable": {name: solvable_share(domain, grids) for name, grids in originals.items()},
        "layout": layouts,
    }
