"""Whole levels, the one entry the CLI, the GUI and the benchmarks use: sample a level of any
length from a seed (optionally repaired until the agent finishes it), or morph one from an
item A to an item B along its length.

`stitch` makes a level from window latents, `playable` repairs one, `agent` plays one; this
module composes them, so neither of those needs the other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from generators.core import naming
from generators.core.conditions import Condition
from generators.core.errors import UserError

from .character import CANDIDATES, characters_of, check_character, gap_share, solid_tiles
from .metrics import expressive_metrics
from .playable import repair
from .stitch import (
    LongLevel,
    StitchConfig,
    Stitcher,
    check_length,
    compose_level,
    morph_latents,
    seed_latents,
    window_count,
    window_labels,
)

REPAIR_BUDGET = 24  # repaired variants tried per level with --playable (the CLI's --repair-budget default)
DIFFICULTIES = ("easier", "harder")  # `--difficulty`; None: the level as the seed draws it
# Latents tried per window for a character or a difficulty (`window_latents`), each decoded alone.
WINDOW_CANDIDATES = CANDIDATES
# A window's gap share may miss its target by this much more than the nearest candidate's and
# still be chosen for its difficulty: two columns of a 16-column window.
CHARACTER_TOLERANCE = 2 / 16


@dataclass(frozen=True)
class Morph:
    """The ends of a morph along a level, each a latent with its labels; a seed where the end is
    the prior's latent of that seed at the model's default temperature (what `interpolate
    --seed-a/--seed-b` uses)."""

    z_a: np.ndarray
    z_b: np.ndarray
    mode: str = "slerp"
    caption_a: str = ""
    caption_b: str = ""
    seed_a: int | None = None
    seed_b: int | None = None
    labels_a: tuple[str, ...] = ()
    labels_b: tuple[str, ...] = ()


@dataclass(frozen=True)
class LongLevelRequest:
    """One whole level: sampled from `seed`, or with `morph`, morphing from one end to the other."""

    length: int
    seed: int
    condition: Condition | None  # what every window is asked; None (a morph only): each window the nearer end's labels
    temperature: float = 1.0
    playable: bool = False
    budget: int = REPAIR_BUDGET
    morph: Morph | None = None
    difficulty: str | None = None  # one of DIFFICULTIES, or None
    character: str | None = None  # one of character.CHARACTERS, or None: windows as drawn

    @property
    def stitch_seed(self) -> int:
        """The seed of the seam search: a morph uses A's where A is a seed."""
        return self.morph.seed_a if self.morph is not None and self.morph.seed_a is not None else self.seed


def make_long_level(generator, request: LongLevelRequest, progress: Callable | None = None) -> LongLevel:
    """The level `request` describes (the CLI, the GUI's Full level page and the benchmarks all ask here)."""
    morph = request.morph
    if morph is None:
        return sample_long_level(
            generator,
            request.length,
            request.seed,
            request.condition,
            request.temperature,
            playable=request.playable,
            budget=request.budget,
            progress=progress,
            difficulty=request.difficulty,
            character=request.character,
        )
    return morph_long_level(
        generator,
        (morph.z_a, morph.labels_a),
        (morph.z_b, morph.labels_b),
        request.length,
        morph.mode,
        request.condition,
        seed=request.stitch_seed,
        progress=progress,
    )


def replay_command(request: LongLevelRequest, domain: str, checkpoint: str, fmt: str) -> str | None:
    """The `main.py` line that writes the same level, or None (a morph between ends that are not
    seeds: the window latents are then the record)."""
    condition = request.condition or Condition()
    if request.morph is None:
        command = naming.sample_command(
            domain,
            checkpoint,
            request.seed,
            request.temperature,
            condition,
            fmt,
            request.length,
            request.budget if request.playable else None,
        )
        if request.difficulty is not None:
            command += f" --difficulty {request.difficulty}"
        return command if request.character is None else f"{command} --character {request.character}"
    morph = request.morph
    if morph.seed_a is None or morph.seed_b is None:
        return None
    return naming.morph_command(
        domain, checkpoint, morph.seed_a, morph.seed_b, morph.mode, request.length, condition, fmt
    )


def check_support(generator, length: int | None) -> int:
    """`length` if whole levels of it can be made with this model, else a UserError saying why."""
    reason = generator.domain.stitch_support()
    if reason:
        raise UserError(f"--length and --playable: {reason}")
    if length is None:
        raise UserError("--playable needs --length: the agent plays whole levels")
    return check_length(length)


def sample_long_level(
    generator,
    length: int,
    seed: int,
    condition=None,
    temperature: float = 1.0,
    playable: bool = False,
    budget: int = 24,
    config: StitchConfig = StitchConfig(),
    progress: Callable | None = None,
    difficulty: str | None = None,
    character: str | None = None,
) -> LongLevel:
    """One level of `length` columns from `seed`. With `playable`, a level the agent cannot
    finish is repaired by a bounded latent search (`playable.repair`), at most `budget`
    extra compositions; `result.playable` says whether it worked. `condition` is one label
    list for every window, or one per window. `character` ("ground", "athletic"; None: windows as
    drawn) and `difficulty` ("easier", "harder") pick each window's latent for them
    (`window_latents`); a card without level characters refuses a `character`."""
    length = check_length(length)
    if not 0.0 <= temperature <= 10.0:
        raise UserError(f"temperature must be between 0 and 10, got {temperature}")
    count = window_count(length, generator.domain.width, config.overlap)
    labels = window_labels(generator, condition, count, seed)
    bases = seed_latents(generator, seed, count, temperature)
    character = level_character(generator, character)
    bases = window_latents(generator, bases, labels, seed, temperature, character, difficulty)
    if character is not None and config.widest_pit is None:
        config = replace(config, widest_pit=characters_of(generator).widest_pit[character])
    stitcher = Stitcher(generator, labels, length, config, seed, progress)
    made = stitcher.compose(bases) if not playable else repair(stitcher, bases, budget=budget, seed=seed)
    made.character = character
    return made


def level_character(generator, character: str | None) -> str | None:
    """The character asked for, checked against the card (asking a card without characters is a
    UserError); None when none is asked. None is the default because a character costs variety
    where the issue measures it: drawing one per level raised the gap share's overlap with the
    originals from 0.38 to 0.66, but dropped leniency's from 0.69 to 0.47, density's from 0.73 to
    0.58 and `--difficulty harder` from 40 of 40 seeds to 32 (`eval levels --long-levels 40`)."""
    character = check_character(character)
    characters = characters_of(generator)
    if characters is None:
        if character is not None:
            raise UserError(
                f"--character: this model's card records no level characters (a whole-screen model, one trained "
                f"on levels of one character, or a card written before them); leave {character!r} out"
            )
        return None
    return character


def window_latents(
    generator,
    bases: np.ndarray,
    labels: list,
    seed: int,
    temperature: float,
    character: str | None = None,
    difficulty: str | None = None,
) -> np.ndarray:
    """Window latents (n, D) for a level of a character and a difficulty. For each window, of
    WINDOW_CANDIDATES prior draws (its own latent first), each decoded alone under its labels:
    with a `character`, those whose gap share lies within CHARACTER_TOLERANCE of the nearest to a
    target drawn for the window from that character's training windows (`character.py`); of these,
    with a `difficulty`, the least lenient ("harder": more enemies and gaps) or the most ("easier"),
    leniency as `metrics.expressive_metrics` reads it, else the nearest. Seeded by `seed`; with
    neither asked, the seed's own latents."""
    if difficulty is not None and difficulty not in DIFFICULTIES:
        raise UserError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    if character is None and difficulty is None:
        return np.asarray(bases, np.float32)
    domain, n, k = generator.domain, len(bases), WINDOW_CANDIDATES
    rng = np.random.default_rng([int(seed), 313])
    drawn = rng.standard_normal((n, k - 1, generator.latent_size)) * float(temperature)
    candidates = np.concatenate([np.asarray(bases, np.float32)[:, None], drawn.astype(np.float32)], axis=1)
    flat = candidates.reshape(-1, generator.latent_size)  # window-major: window i's candidates together
    windows = generator.decode_each(flat, [list(labels[i]) for i in range(n) for _ in range(k)])
    grids = np.stack([domain.indices(w) for w in windows])  # (n k, H, W)
    eligible = np.ones((n, k), bool)
    distance = np.zeros((n, k))
    if character is not None:
        targets = characters_of(generator).window_targets(character, n, np.random.default_rng([int(seed), 4_483]))
        distance = np.abs(gap_share(grids, solid_tiles(domain.legend)).reshape(n, k) - targets[:, None])
        eligible = distance <= distance.min(axis=1, keepdims=True) + CHARACTER_TOLERANCE
    if difficulty is None:
        pick = distance.argmin(axis=1)
    else:
        leniency = np.array([expressive_metrics(g, domain.legend)["leniency"] for g in grids]).reshape(n, k)
        pick = np.where(eligible, leniency if difficulty == "harder" else -leniency, np.inf).argmin(axis=1)
    return candidates[np.arange(n), pick]


def morph_long_level(
    generator,
    start: tuple[np.ndarray, Sequence[str]],
    end: tuple[np.ndarray, Sequence[str]],
    length: int,
    mode: str = "slerp",
    condition: Sequence[str] | None = None,
    seed: int = 0,
    progress: Callable | None = None,
) -> LongLevel:
    """One level whose window k decodes the latent at t = k / (n - 1) from `start` to `end`,
    each a (latent (D,), labels) pair. Every window is decoded under `condition`, or, without
    one, under the labels of the nearer end. `seed` seeds the seam search."""
    length = check_length(length)
    (z_a, labels_a), (z_b, labels_b) = start, end
    count = window_count(length, generator.domain.width, StitchConfig().overlap)
    latents = morph_latents(z_a, z_b, count, mode)
    if condition is not None:
        labels = condition  # resolved window by window (`stitch.window_labels`)
    else:
        labels = [list(labels_a if k / max(count - 1, 1) < 0.5 else labels_b) for k in range(count)]
    return compose_level(generator, latents, labels, length, seed=seed, progress=progress)
