"""A whole level keeps one character along its length, as the originals do.

The VGLC Mario levels are of two kinds. Ground levels stand on a floor with a few pits: 2-32% of
their columns have no solid tile in the bottom row. Athletic levels (SMB 1-3, 3-3, 5-3, 6-3 and
SMB2J's x-3) are pits crossed on platforms: 53-96%. Nothing lies between. Windows sampled
independently mix the two, so a stitched level came out as neither: 10-65% of its columns open,
ground stretches broken by athletic ones, and the Mario AI framework's A* agent lost most of the
sparse ones (docs/levels-agent.md).

So a whole level can be asked for in a character (`--character`). Each window's latent is then
chosen from `CANDIDATES` prior draws (its own first): the one whose gap share, decoded alone under
its labels, is nearest a target drawn for that window from the windows of training levels of that
character; and the seam search holds the level's floor pits to `widest_pit`, the PIT_QUANTILE of
that character's pit widths (8 columns for the shipped model's ground levels). The card keeps what
this needs (`level_characters`: the athletic levels' share, per character quantiles of the
windows' gap shares and the widest pit), recorded from the training levels; a card without it
refuses `--character`. It is not the default: asked per level in the training proportion
(`LevelCharacters.draw`), it brings the gap shares close to the originals' but costs leniency
and density overlap and difficulty control (figures in `long_level.level_character`).

Shapes: a window is an (H, W) index grid; a gap column has no solid tile in its bottom row (the
same gap `metrics.expressive_metrics` counts for leniency).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from generators.core.errors import CheckpointError, UserError

CHARACTERS = ("ground", "athletic")
ATHLETIC_GAP_SHARE = 0.5  # a level open under more than this share of its columns is athletic
QUANTILES = 21  # of each character's window gap shares kept in the card (0%, 5%, ..., 100%)
PIT_QUANTILE = 0.95  # a level of a character keeps its pits (runs of gap columns) to this quantile's width
CANDIDATES = 8  # prior draws per window (its own latent first)
CARD_KEY = "level_characters"


def solid_tiles(legend: dict) -> np.ndarray:
    """(T,) whether each tile of the legend is solid."""
    return np.array(["solid" in (t.lower() for t in tags) for tags in legend.values()])


def gap_share(grid: np.ndarray, solid: np.ndarray) -> np.ndarray:
    """(...,) the share of columns of (..., H, W) index grids with no solid tile in the bottom row."""
    return (~solid[grid[..., -1, :]]).mean(axis=-1)


def character_of(share: float) -> str:
    """The character of a level whose gap share is `share`."""
    return "athletic" if share > ATHLETIC_GAP_SHARE else "ground"


@dataclass(frozen=True)
class LevelCharacters:
    """What the training levels say of the two characters: how often each comes (`athletic_share`,
    of the levels) and how open their windows are (`window_gaps`: quantiles of the windows' gap
    shares, per character)."""

    athletic_share: float
    window_gaps: dict[str, tuple[float, ...]]
    levels: dict[str, int]
    widest_pit: dict[str, int]  # per character, the PIT_QUANTILE of its pits' widths, in columns

    def draw(self, seed: int) -> str:
        """A character for `seed` in the training levels' proportion (`bench_level_character.py`
        asks for these, to compare a mix like the originals' with levels of no character)."""
        rng = np.random.default_rng([int(seed), 4_481])
        return "athletic" if rng.random() < self.athletic_share else "ground"

    def window_targets(self, character: str, count: int, rng: np.random.Generator) -> np.ndarray:
        """(count,) gap shares drawn for a level's windows from that character's windows."""
        quantiles = np.asarray(self.window_gaps[character], np.float64)
        return np.interp(rng.random(count), np.linspace(0.0, 1.0, len(quantiles)), quantiles)

    def to_card(self) -> dict:
        return {
            "athletic_gap_share": ATHLETIC_GAP_SHARE,
            "athletic_share": self.athletic_share,
            "levels": dict(self.levels),
            "window_gap_quantiles": {k: list(v) for k, v in self.window_gaps.items()},
            "pit_quantile": PIT_QUANTILE,
            "widest_pit": dict(self.widest_pit),
        }

    @classmethod
    def from_card(cls, data) -> LevelCharacters:
        """The card's `level_characters`, checked; a CheckpointError names what is wrong."""

        def bad(why: str) -> CheckpointError:
            return CheckpointError(f"checkpoint card: {CARD_KEY} {why}")

        if not isinstance(data, dict):
            raise bad("is not an object")
        share = data.get("athletic_share")
        if not isinstance(share, (int, float)) or not 0.0 <= share <= 1.0:
            raise bad("athletic_share is not a number from 0 to 1")
        gaps = data.get("window_gap_quantiles")
        if not isinstance(gaps, dict) or set(gaps) != set(CHARACTERS):
            raise bad(f"window_gap_quantiles does not give {' and '.join(CHARACTERS)}")
        window_gaps = {}
        for name in CHARACTERS:
            values = gaps[name]
            if (
                not isinstance(values, list)
                or len(values) < 2
                or not all(isinstance(v, (int, float)) and 0.0 <= v <= 1.0 for v in values)
                or any(b < a for a, b in zip(values, values[1:]))
            ):
                raise bad(f"window_gap_quantiles.{name} is not a rising list of shares from 0 to 1")
            window_gaps[name] = tuple(float(v) for v in values)
        levels = data.get("levels", {})
        if not isinstance(levels, dict) or not all(isinstance(v, int) and v >= 0 for v in levels.values()):
            raise bad("levels is not a count per character")
        pits = data.get("widest_pit")
        if (
            not isinstance(pits, dict)
            or set(pits) != set(CHARACTERS)
            or not all(isinstance(v, int) and 1 <= v <= 100_000 for v in pits.values())
        ):
            raise bad("widest_pit is not a width in columns per character")
        return cls(float(share), window_gaps, {k: int(v) for k, v in levels.items()}, dict(pits))


def level_characters(domain, split) -> LevelCharacters | None:
    """The characters of the training levels behind `split` (windows named `STEM@COLUMN`, as
    `LevelsDomain.dataset` names them), or None when they cannot be told apart: a whole-screen
    model, a legend without solid tiles, or training levels all of one character."""
    if domain.whole_levels or not len(split):
        return None
    solid = solid_tiles(domain.legend)
    if not solid.any():
        return None
    grids = split.x.argmax(dim=1).numpy()  # (N, H, W) index windows
    bottoms: dict[str, dict[int, np.ndarray]] = defaultdict(dict)
    for name, grid in zip(split.names, grids):
        stem, _, column = name.rpartition("@")
        if not stem or not column.isdigit():
            return None
        bottoms[stem][int(column)] = ~solid[grid[-1]]
    shares: dict[str, list[float]] = {name: [] for name in CHARACTERS}
    pits: dict[str, list[int]] = {name: [] for name in CHARACTERS}
    levels = dict.fromkeys(CHARACTERS, 0)
    for windows in bottoms.values():
        columns = sorted(windows)
        # Column c of the level is column 0 of the window starting at c; the last window adds the rest.
        row = np.concatenate([[windows[c][0] for c in columns[:-1]], windows[columns[-1]]])
        character = character_of(float(row.mean()))
        levels[character] += 1
        shares[character] += [float(windows[c].mean()) for c in columns]
        pits[character] += pit_widths(row)
    if not all(levels.values()):
        return None
    quantiles = np.linspace(0.0, 1.0, QUANTILES)
    window_gaps = {k: tuple(float(q) for q in np.quantile(v, quantiles)) for k, v in shares.items()}
    widest = {k: max(1, int(round(np.quantile(v, PIT_QUANTILE)))) if v else 1 for k, v in pits.items()}
    return LevelCharacters(levels["athletic"] / sum(levels.values()), window_gaps, levels, widest)


def pit_widths(gaps: np.ndarray) -> list[int]:
    """The widths of the runs of set entries of a (L,) gap-column mask, left to right."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], gaps.astype(np.int8), [0]])))
    return [int(b - a) for a, b in zip(edges[::2], edges[1::2])]


def characters_of(generator) -> LevelCharacters | None:
    """The generator's level characters, from its card (None: a card written before them)."""
    data = generator.card.get(CARD_KEY)
    return None if data is None else LevelCharacters.from_card(data)


def check_character(character: str | None) -> str | None:
    """`character` itself when it is None or one of CHARACTERS; else a UserError."""
    if character is not None and character not in CHARACTERS:
        raise UserError(f"character must be one of {', '.join(CHARACTERS)}, got {character!r}")
    return character
