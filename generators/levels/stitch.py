"""Full-length levels: windows of a level model stitched into one level of any length.

The model decodes windows of H rows × W columns. A level of L columns is n overlapping
windows, each keeping W - o new columns (o = overlap). Window k+1 is decoded from a latent
matched to its neighbour: a cheap search (a batch of candidates around the window's own
latent) then a few gradient steps on z through the decoder, maximising

    log p(first o columns of window k+1 = last o tiles of window k | z) - anchor * |z - z_k|²

so its first columns continue the previous window, while z stays near the latent it was
asked for (its seed, or its point on a morph from A to B). Its overlap columns are then
dropped. The kept columns' log-probabilities are joined into one (T, H, L) array and
decoded once more with pipe repair (`decoding`), so no pipe is cut at a seam. The
first START_COLUMNS and last FINISH_COLUMNS columns become flat ground at the height of the
ground next to them: a level starts on solid ground and ends on a reachable finish area.

Shapes: latents (n, D); log-probabilities (T, H, W) per window; grids (H, L) of indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from generators.core import latent as latent_ops
from generators.core.conditions import Condition
from generators.core.errors import UserError

from .decoding import constrained_grid
from .domain import SEAM_OVERLAP, Level

MIN_LENGTH, MAX_LENGTH = 50, 1000
START_COLUMNS = 3  # flat ground the player starts on
FINISH_COLUMNS = 4  # flat ground at the end: the finish area
MAX_CLIMB = 4  # tiles Mario can jump up; the ground never steps more than this at a seam


@dataclass(frozen=True)
class StitchConfig:
    """How windows are matched at seams."""

    overlap: int = SEAM_OVERLAP  # columns window k+1 must agree with window k on, then dropped
    candidates: int = 16  # latents tried around z_k (z_k itself is the first)
    spread: float = 0.6  # standard deviation of the candidates around z_k
    steps: int = 4  # Adam steps on the best candidate
    learning_rate: float = 0.15
    anchor: float = 0.05  # weight of |z - z_k|²: how close a window stays to its own latent
    max_gap: int = 5  # columns without footing (`Stitcher.footing`) a candidate may leave in a row...
    gap_weight: float = 20.0  # ...before each extra one costs this much of its score (nats)
    # Columns with no floor (no solid tile in the bottom row) a candidate may leave in a row, each
    # extra one costing `gap_weight`; None: no limit. A ground level sets it to the width its
    # character's pits keep to in the training levels (`character.py`).
    widest_pit: int | None = None


@dataclass
class WindowState:
    """One stitched window: the latent it was decoded from and its kept log-probabilities."""

    base: np.ndarray  # (D,) the latent asked for
    latent: np.ndarray  # (D,) the latent decoded, after seam matching
    log_probs: np.ndarray  # (T, H, W) masked log-probabilities of the whole window
    overlap_log_likelihood: float  # log p of the matched overlap (0 for the first window)


@dataclass
class LongLevel:
    """A stitched level and how it was made."""

    level: Level
    windows: list[WindowState]
    seams: tuple[int, ...]  # level column where each window after the first starts its kept part
    labels: list[list[str]]  # condition labels of each window
    attempts: int = 1  # levels composed to get this one (1 + repair evaluations)
    playable: bool | None = None  # agent verdict, when it was asked
    raw_playable: bool | None = None  # agent verdict on the level as sampled, before any repair
    character: str | None = None  # "ground" or "athletic" (`character.py`) when one was asked for
    notes: list[str] = field(default_factory=list)

    @property
    def latents(self) -> np.ndarray:
        return np.stack([w.latent for w in self.windows])


def stitch_support(domain) -> str:
    """ "" when whole levels can be stitched from this level domain's windows, else why not
    (`LevelsDomain.stitch_support`, which the CLI and the GUI ask)."""
    return domain.stitch_support()


def check_length(length: int) -> int:
    """A level length the CLI accepts, else UserError."""
    if not MIN_LENGTH <= int(length) <= MAX_LENGTH:
        raise UserError(f"--length must be between {MIN_LENGTH} and {MAX_LENGTH} columns, got {length}")
    return int(length)


def window_count(length: int, width: int, overlap: int) -> int:
    """Windows needed for `length` columns when each after the first adds width - overlap."""
    step = width - overlap
    return 1 + max(0, -(-(length - width) // step))


def window_of_column(column: int, width: int, overlap: int) -> int:
    """The window whose kept columns contain a level column."""
    return 0 if column < width else 1 + (column - width) // (width - overlap)


# A whole level has a character (overworld, underground, athletic...) that its windows share.
# With each window's open labels drawn on their own, 20 windows average it away; so each window
# keeps the labels drawn for the one before with this probability (its labels are still a draw
# from the label distribution). On 60 levels of 200 columns with nothing asked (seeds 500-559),
# the histogram overlap of leniency and density with the 37 originals' goes from 0.60 and 0.40
# (labels drawn window by window) to 0.67 and 0.63 (`expressive.histogram_overlap`). Sharing
# part of the latent as well (window latents correlated 0.75) widened the spread further but made
# levels the Mario AI framework's A* agent loses twice as often (10 of 20 `--playable` levels won
# against 15 of 20, seeds 400-419), so it is not done.
LABEL_PERSISTENCE = 0.9


def seed_latents(generator, seed: int, count: int, temperature: float = 1.0) -> np.ndarray:
    """(count, D) window latents of one level: window 0 is the latent `sample` draws for
    `seed` (so its start is the short sample of that seed), the others come from one
    generator seeded with it."""
    first = generator.latent_for_seed(seed, temperature)
    rng = torch.Generator().manual_seed(int(seed))
    rest = torch.randn(count - 1, generator.latent_size, generator=rng).numpy() * float(temperature)
    return np.concatenate([first[None], rest.astype(np.float32)])


def morph_latents(z_a: np.ndarray, z_b: np.ndarray, count: int, mode: str = "slerp") -> np.ndarray:
    """(count, D): window k at t = k / (count - 1) between A and B."""
    if count == 1:
        return np.asarray(z_a, np.float32)[None]
    return latent_ops.interpolation_path(np.asarray(z_a, np.float32), np.asarray(z_b, np.float32), count, mode)


def trailing_run(mask: np.ndarray) -> int:
    """How many of the (W,) mask's last entries are set in a row."""
    unset = np.flatnonzero(~mask)
    return len(mask) if not len(unset) else len(mask) - 1 - int(unset[-1])


def widest_run(mask: np.ndarray, already: int = 0) -> int:
    """The longest run of set entries in the (W,) mask, a run at its start continuing `already`
    set entries before it (the run the level ends with). A mask that starts unset leaves those
    uncounted: they were scored with the window before."""
    run, best = already, 0
    for on in mask:
        run = run + 1 if on else 0
        best = max(best, run)
    return best


def ground_heights(grid: np.ndarray, solid: np.ndarray) -> np.ndarray:
    """(L,) per column: solid tiles stacked from the bottom row up (0: a gap)."""
    is_solid = solid[grid]  # (H, L)
    # Rows from the bottom until the first non-solid tile.
    from_bottom = np.cumprod(is_solid[::-1], axis=0)
    return from_bottom.sum(axis=0)


def seam_steps(grid: np.ndarray, solid: np.ndarray, seams: Sequence[int]) -> np.ndarray:
    """Ground height change across each seam (columns c-1 and c). A gap on either side
    counts as no step: the player jumps a gap, not a wall."""
    heights = ground_heights(grid, solid)
    steps = [abs(int(heights[c]) - int(heights[c - 1])) if heights[c] and heights[c - 1] else 0 for c in seams]
    return np.array(steps, dtype=np.int64)


class Stitcher:
    """Stitches windows of one generator under per-window conditions; keeps every window so a
    repair can change some latents and re-stitch from there."""

    def __init__(
        self,
        generator,
        labels: list[list[str]],
        length: int,
        config: StitchConfig = StitchConfig(),
        seed: int = 0,
        progress: Callable[[int, int], None] | None = None,
    ):
        domain = generator.domain
        if config.overlap < 1 or config.overlap > domain.width // 2:
            raise UserError(f"overlap must be between 1 and {domain.width // 2} columns, got {config.overlap}")
        self.generator, self.domain, self.config = generator, domain, config
        self.labels, self.length, self.seed = labels, length, seed
        # Called with (windows done, windows in all) after each window; an exception raised
        # there (a GUI's cancel) stops the stitching.
        self.progress = progress
        tags = [tuple(t.lower() for t in v) for v in domain.legend.values()]
        self.solid = np.array(["solid" in t for t in tags])
        self.pipe = np.array([any("pipe" in x for x in t) for t in tags])
        self.ground = next((i for i, t in enumerate(tags) if "ground" in t), int(np.argmax(self.solid)))
        self.empty = domain.chars.index(domain.empty_char)
        self.conditions = torch.stack([torch.from_numpy(domain.conditions.encode(x)) for x in labels])
        self.masks = [domain._mask(x).numpy() for x in labels]  # (T,) 0 or -inf per window

    # --- one window ------------------------------------------------------------------

    def _log_probs(self, output: torch.Tensor, k: int) -> np.ndarray:
        return (torch.log_softmax(output.float(), dim=1)[0].numpy() + self.masks[k][:, None, None]).astype(np.float32)

    def _overlap_score(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B,) log p of the target tiles (H, o) in the first o columns of each output."""
        o = target.shape[-1]
        log_probs = torch.log_softmax(output[:, :, :, :o], dim=1)
        picked = log_probs.gather(1, target.expand(len(output), 1, -1, -1))
        return picked.sum(dim=(1, 2, 3))

    def footing(self, grid: np.ndarray) -> np.ndarray:
        """(..., W) whether each column of (..., H, W) grids has a place to stand in its
        lower half (a solid tile under a non-solid one): where a jump can land."""
        solid = self.solid[grid]
        top = np.concatenate([np.zeros_like(solid[..., :1, :]), solid[..., :-1, :]], axis=-2)
        stand = solid & ~top
        return stand[..., grid.shape[-2] // 2 :, :].any(axis=-2)

    def _open_runs(self, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(..., W) two masks of (..., H, W) grids: columns without footing, and columns without floor."""
        return ~self.footing(grid), ~self.solid[grid[..., -1, :]]

    def _gap_penalty(self, output: torch.Tensor, k: int, open_runs: tuple[int, int]) -> torch.Tensor:
        """(B,) cost of the widest run of columns without footing in each candidate's kept columns,
        and with `widest_pit` of the widest run without floor, each counting the run the level
        already ends with (`open_runs`). Matching an empty overlap would otherwise favour windows
        that start empty too, and runs of emptiness grow into gaps nobody can jump."""
        cfg, o = self.config, self.config.overlap
        grid = (output + torch.from_numpy(self.masks[k])[None, :, None, None]).argmax(dim=1).numpy()  # (B, H, W)
        limits = (cfg.max_gap, cfg.widest_pit)
        cost = np.zeros(len(grid))
        for mask, already, limit in zip(self._open_runs(grid), open_runs, limits):
            if limit is not None:
                widest = np.array([widest_run(columns, already) for columns in mask[:, o:]])
                cost += cfg.gap_weight * np.maximum(widest - limit, 0.0)
        return torch.from_numpy(cost).float()

    def match(
        self, base: np.ndarray, k: int, target: np.ndarray, open_runs: tuple[int, int] = (0, 0)
    ) -> tuple[np.ndarray, torch.Tensor, float]:
        """(latent, decoder output (1, T, H, W), overlap log-likelihood) for window k whose
        first o columns should be `target` (H, o), after `open_runs` (columns without footing,
        columns without floor) the level ends with."""
        cfg, model = self.config, self.generator.model
        z_base = torch.from_numpy(np.asarray(base, np.float32))
        c = self.conditions[k : k + 1]
        target_t = torch.from_numpy(target)[None, None]  # (1, 1, H, o)
        noise = torch.Generator().manual_seed((int(self.seed) * 1_000_003 + k) % 2**63)
        with torch.inference_mode():
            jitter = torch.randn(cfg.candidates - 1, len(z_base), generator=noise) * cfg.spread
            z = torch.cat([z_base[None], z_base[None] + jitter])
            out = model.decode(z, c.expand(len(z), -1))
            score = self._overlap_score(out, target_t) - cfg.anchor * ((z - z_base) ** 2).sum(1)
            score = score - self._gap_penalty(out, k, open_runs)
            best = int(score.argmax())
        found, found_out, found_score = z[best : best + 1], out[best : best + 1], float(score[best])
        z = found.clone().requires_grad_(True)
        optimiser = torch.optim.Adam([z], lr=cfg.learning_rate)
        for _ in range(cfg.steps):
            loss = -self._overlap_score(model.decode(z, c), target_t).sum() + cfg.anchor * ((z - z_base) ** 2).sum()
            # Only z's gradient: the model's weights stay untouched and gather no .grad.
            z.grad = torch.autograd.grad(loss, z)[0]
            optimiser.step()
        with torch.inference_mode():
            out = model.decode(z.detach(), c)
            fit = float(self._overlap_score(out, target_t)[0])
            stepped = (
                fit
                - cfg.anchor * float(((z.detach() - z_base) ** 2).sum())
                - float(self._gap_penalty(out, k, open_runs)[0])
            )
            if stepped < found_score:  # the steps only see the overlap; they may open a gap
                z, out, fit = found, found_out, float(self._overlap_score(found_out, target_t)[0])
        return z.detach()[0].numpy().copy(), out, fit

    def window(self, base: np.ndarray, k: int, previous: WindowState | None) -> WindowState:
        if previous is None:
            z = np.asarray(base, np.float32)
            out, fit = self.generator.decode_output(z[None], self.labels[k]), 0.0
        else:
            o = self.config.overlap
            tiles = previous.log_probs.argmax(axis=0)  # (H, W)
            open_runs = tuple(trailing_run(mask) for mask in self._open_runs(tiles))
            z, out, fit = self.match(base, k, tiles[:, -o:], open_runs)
        return WindowState(np.asarray(base, np.float32), z, self._log_probs(out, k), fit)

    # --- the whole level -------------------------------------------------------------

    def stitch(self, bases: np.ndarray, windows: list[WindowState] | None = None, start: int = 0) -> list[WindowState]:
        """Windows for every latent in `bases`, reusing `windows[:start]`."""
        kept = list(windows[:start]) if windows else []
        for k in range(start, len(bases)):
            kept.append(self.window(bases[k], k, kept[-1] if kept else None))
            if self.progress is not None:
                self.progress(k + 1, len(bases))
        return kept

    def seams(self, count: int) -> tuple[int, ...]:
        width, step = self.domain.width, self.domain.width - self.config.overlap
        return tuple(c for c in (width + i * step for i in range(count - 1)) if c < self.length)

    def assemble(self, windows: list[WindowState]) -> Level:
        """One level from stitched windows: kept columns, flat start and finish, whole pipes."""
        o = self.config.overlap
        log_probs = np.concatenate([windows[0].log_probs] + [w.log_probs[:, :, o:] for w in windows[1:]], axis=2)
        log_probs = self._flatten_ends(log_probs[:, :, : self.length], log_probs[:, :, : self.length].argmax(axis=0))
        # Off labels are already -inf in each window's columns, and the flat ends allow only
        # their own tiles. This pass repairs pipes cut at a seam or by the flat ends, and adds
        # the cheapest tile of any label some window asked for but the level lacks (never
        # where that label is off: those cells cost -inf).
        grid = constrained_grid(log_probs, self.domain.legend, self._labels_on())
        return self.domain.level_from_indices(self._climbable_seams(grid))

    def _labels_on(self) -> dict[str, bool]:
        """Presence tags that are on in at least one window."""
        on: dict[str, bool] = {}
        for labels in self.labels:
            on.update({tag: True for tag, wanted in self.domain.wanted_presence(labels).items() if wanted})
        return on

    def _climbable_seams(self, grid: np.ndarray) -> np.ndarray:
        """Where the ground still steps more than MAX_CLIMB across a seam (the match is a
        search, not a guarantee), raise the lower side with ground tiles to a climbable step."""
        grid = grid.copy()
        height = grid.shape[0]
        for c in self.seams(len(self.labels)):
            heights = ground_heights(grid[:, c - 1 : c + 1], self.solid)
            if not heights.all() or abs(int(heights[0]) - int(heights[1])) <= MAX_CLIMB:
                continue
            low = int(np.argmin(heights))
            column = c - 1 + low
            grid[height - int(heights.max()) + MAX_CLIMB : height - int(heights[low]), column] = self.ground
        return grid

    def _flatten_ends(self, log_probs: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """Make the first and last columns flat ground, as high as the ground beside them
        (or one tile where that is a gap), so the player starts and finishes on it."""
        height, length = grid.shape
        heights = ground_heights(grid, self.solid)
        log_probs = log_probs.copy()
        for columns, neighbour in (
            (range(START_COLUMNS), START_COLUMNS),
            (range(length - FINISH_COLUMNS, length), length - FINISH_COLUMNS - 1),
        ):
            # Pipes stand on the ground: their height is not the floor's.
            floor = int(heights[neighbour]) if not self.pipe[grid[:, neighbour]].any() else 0
            floor = min(max(floor, 1), height - 4)
            tiles = np.full(height, self.empty)
            tiles[height - floor :] = self.ground
            for c in columns:
                log_probs[:, :, c] = -np.inf
                log_probs[tiles, np.arange(height), c] = 0.0
        return log_probs

    def compose(self, bases: np.ndarray) -> LongLevel:
        windows = self.stitch(bases)
        return LongLevel(self.assemble(windows), windows, self.seams(len(windows)), self.labels)


def window_labels(generator, condition, count: int, seed: int = 0) -> list[list[str]]:
    """Per-window label sets. `condition` is one label set per window (a list of lists, used as
    they are), or what every window is asked (a `Condition`, or a list of labels each must show,
    None: nothing): then the open labels are drawn, window 0's as the short sample of `seed` draws
    them; window k keeps window k - 1's with probability LABEL_PERSISTENCE, else draws its own
    with (seed, k), so the level varies along its length in runs, as the data's levels do."""
    if condition and not isinstance(condition, Condition) and not isinstance(condition[0], str):
        if len(condition) != count:
            raise UserError(f"expected {count} per-window conditions, got {len(condition)}")
        return [generator.condition_labels(c) for c in condition]
    asked = generator.check_condition(condition)
    keep = np.random.default_rng([int(seed), 5_501]).random(count) < LABEL_PERSISTENCE
    labels = [generator.labels_for_seed(seed, asked)]
    for k in range(1, count):
        labels.append(labels[-1] if keep[k] else generator.labels_for_seed((seed, k), asked))
    return labels


def compose_level(
    generator,
    latents: np.ndarray,
    condition=None,
    length: int | None = None,
    config: StitchConfig = StitchConfig(),
    seed: int = 0,
    progress: Callable | None = None,
) -> LongLevel:
    """A level from window latents (n, D), seams matched; `length` defaults to what n windows
    cover. `condition` is one label list for every window or a list per window. `long_level.morph_long_level`
    calls this with `morph_latents`."""
    domain = generator.domain
    latents = np.asarray(latents, np.float32).reshape(-1, generator.latent_size)
    full = domain.width + (len(latents) - 1) * (domain.width - config.overlap)
    length = full if length is None else min(int(length), full)
    stitcher = Stitcher(
        generator, window_labels(generator, condition, len(latents), seed), length, config, seed, progress
    )
    return stitcher.compose(latents)
