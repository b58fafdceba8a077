"""The levels domain: VGLC tile maps as one-hot grids, windows for training, and exports.

A level is a grid of characters, one per tile, as in the Video Game Level Corpus (VGLC).
A JSON legend (e.g. `smb.json`) gives each character its tags ("solid", "pipe", ...);
the legend's characters in order are the model's tile vocabulary. Shapes:
    tensor of one window: (T, H, W) one-hot over T tile kinds, H rows, W columns
Conditions are computed from the tiles: whether a window contains any tile tagged
enemy / pipe / coin / breakable / question block, plus which game it came from.

Side-scrollers (Mario) are long strips of one height, cut into H×W windows. A game whose
levels are all one single screen (every level the same size, no wider than twice its
height, e.g. Lode Runner's 22×32) is modelled as whole levels instead, and conditioned on
how many gold and enemy tiles a level has, in bins (`counts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from generators.core.conditions import ConditionGroup, ConditionSpace, normalise_label
from generators.core.domain import Corpus, Domain, Split
from generators.core.errors import AssetError, UserError
from generators.core.fileio import read_user_bytes, write_png_atomic, write_text_atomic

from .art import TILE, tile_atlas
from .counts import CountBins, fit_count_bins, tag_members
from .decoding import constrained_grid, fit_counts
from .tiled import tmj_text, tmx_text

PRESENCE_TAGS = ("enemy", "pipe", "coin", "breakable", "question block")
VGLC_LICENCE = "MIT; The VGLC, Summerville, Snodgrass, Mateas and Ontañón 2016 (arXiv:1606.07487)"


@dataclass(frozen=True)
class Level:
    """A tile grid, one string per row, top row first."""

    rows: tuple[str, ...]

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.rows[0]) if self.rows else 0

    def text(self) -> str:
        """The exact VGLC text: rows joined by newlines, ending with one."""
        return "\n".join(self.rows) + "\n"


Legend = dict  # char -> tuple of tags, in vocabulary order


MAX_LEGEND_BYTES = 1 << 20  # VGLC's legends are under 2 kB
MAX_LEGEND_TILES = 256  # VGLC's games use at most a few dozen tiles


def load_legend(path: str | Path) -> Legend:
    """Read a VGLC legend JSON: {"tiles": {"X": ["solid", "ground"], ...}}."""
    path = Path(path)
    text = read_user_bytes(path, "legend", MAX_LEGEND_BYTES)
    try:
        data = json.loads(text.decode("utf-8"))
        tiles = data["tiles"]
        legend = {str(char): tuple(str(t) for t in tags) for char, tags in tiles.items()}
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise AssetError(f'{path} is not a VGLC legend (expected JSON with a "tiles" object)') from None
    if len(legend) > MAX_LEGEND_TILES:
        raise AssetError(f"{path}: the legend has {len(legend):,} tiles; at most {MAX_LEGEND_TILES} are supported")
    bad = [c for c in legend if len(c) != 1]
    if bad or not legend:
        raise AssetError(f"{path}: legend keys must be single characters, got {bad[0] if bad else 'none'!r}")
    return legend


def find_legend(folder: Path) -> Path:
    """The one legend JSON in a game folder."""
    candidates = sorted(folder.glob("*.json"))
    if not candidates:
        raise UserError(f"{folder} has no legend .json describing its tiles (like VGLC's smb.json)")
    if len(candidates) > 1:
        raise UserError(f"{folder} has several .json files; keep exactly one legend there")
    return candidates[0]


def parse_vglc(text: str, source: str, legend: Legend) -> Level:
    """Parse VGLC text, naming file, line and column for any unknown tile or ragged row."""
    lines = text.splitlines()
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise AssetError(f"{source}: the level is empty")
    width = len(lines[0])
    for number, line in enumerate(lines, start=1):
        if len(line) != width:
            column = min(len(line), width) + 1
            raise AssetError(
                f"{source}:{number}:{column}: row has {len(line)} tiles but row 1 has {width}; "
                "rows must be of equal length"
            )
        for column, char in enumerate(line, start=1):
            if char not in legend:
                raise AssetError(
                    f"{source}:{number}:{column}: unknown tile {char!r}; the legend knows {''.join(legend)}"
                )
    return Level(tuple(lines))


def read_level(path: str | Path, legend: Legend) -> Level:
    """Read a VGLC `.txt` level, checked against `legend`."""
    try:
        text = read_user_bytes(path, "level file", MAX_LEVEL_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise AssetError(f"{path} is not a text level file (not UTF-8)") from None
    return parse_vglc(text, str(path), legend)


def game_label(folder: Path) -> str:
    """A game's condition label, from its folder name: Super_Mario_Bros -> super-mario-bros."""
    return normalise_label(folder.name)


def readable_levels(folders: list[Path], legend: Legend) -> list[tuple[str, Level]]:
    """(file stem, level) of every level under the folders that reads with `legend`; bad
    files are left out here (`LevelsDomain.dataset` reports them)."""
    found = []
    for folder in folders:
        for path in sorted(folder.glob("*.txt")):
            try:
                found.append((path.stem, read_level(path, legend)))
            except AssetError:
                continue
    return found


def level_folders(paths: list[str | Path], games: list[str] | None = None) -> list[Path]:
    """Game folders (each with *.txt levels and a legend) from user paths.

    A path is a game folder itself, or a corpus root whose subfolders are game folders; with
    `games`, only the subfolders of those game labels are taken, in that order.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise UserError(f"data folder {path} does not exist" if not path.exists() else f"{path} is not a folder")
        if any(path.glob("*.txt")):
            found.append(path)
        else:
            found += sorted(p for p in path.iterdir() if p.is_dir() and any(p.glob("*.txt")))
    if games is not None:
        by_label = {game_label(f): f for f in found}
        missing = [g for g in games if g not in by_label]
        if missing:
            raise UserError(f"no folder for game {missing[0]!r} under {', '.join(map(str, paths))}")
        found = [by_label[g] for g in games]
    if not found:
        raise UserError(f"no VGLC .txt levels found in {', '.join(map(str, paths))}")
    return found


def single_screen_size(levels: list[Level]) -> tuple[int, int] | None:
    """(H, W) when every level has that one size and is no wider than twice its height (a
    game of single screens, modelled whole), else None (a side-scroller, cut in windows)."""
    sizes = {(level.height, level.width) for level in levels}
    if len(sizes) != 1:
        return None
    ((height, width),) = sizes
    return (height, width) if width <= 2 * height else None


MAX_LEVEL_BYTES = 1 << 20  # a VGLC level is a few kB; a 1,000-column level of 30 rows is 31 kB
SEAM_OVERLAP = 6  # columns a stitched window shares with the one before it (`stitch.StitchConfig.overlap`)


class LevelsDomain(Domain):
    """Tile-map levels of one or more VGLC games sharing one tile vocabulary.

    `whole_levels` models each level as one item of exactly height × width (single-screen
    games); otherwise items are windows of that size. `count_bins` (whole-level games)
    replace the presence labels of the kinds they count."""

    name = "levels"
    item_noun = ("level", "levels")
    likelihood = "categorical"
    write_formats = ("txt", "png", "tmj", "tmx")
    read_formats = ("txt",)  # VGLC text levels
    training_folder_hint = (
        "A folder of VGLC .txt levels plus one legend .json (like VGLC's smb.json), "
        "or a folder with one such game folder per game."
    )
    holds_out_by_source = True  # `--holdout mario-1-1`

    def __init__(
        self,
        legend: Legend,
        height: int = 14,
        width: int = 16,
        games: tuple[str, ...] = (),
        presence_tags=PRESENCE_TAGS,
        whole_levels: bool = False,
        count_bins: tuple[CountBins, ...] = (),
        exact_counts: dict[str, int] | None = None,
    ):
        self.legend = dict(legend)
        self.chars = list(self.legend)
        self.height, self.width = height, width
        self.games = tuple(games)
        self.whole_levels = bool(whole_levels)
        self.count_bins = tuple(count_bins)
        self.exact_counts = dict(exact_counts or {})
        counted = {t for bins in self.count_bins for t in bins.tags}
        tags_present = {t.lower() for tags in self.legend.values() for t in tags}
        self.presence_tags = tuple(t for t in presence_tags if t in tags_present and t not in counted)
        self.empty_char = next(
            (c for c, t in self.legend.items() if "empty" in t),
            next((c for c, t in self.legend.items() if "passable" in t), self.chars[0]),
        )
        # Code point -> vocabulary index (-1: not a tile), sized to the largest character.
        self._index_of = np.full(max(map(ord, self.chars)) + 1, -1, dtype=np.int64)
        for i, char in enumerate(self.chars):
            self._index_of[ord(char)] = i
        # (tags, T) membership: which tile kinds count for each presence label.
        self._tag_members = np.array(
            [[tag in (t.lower() for t in self.legend[c]) for c in self.chars] for tag in self.presence_tags], dtype=bool
        ).reshape(len(self.presence_tags), len(self.chars))
        # (bins, T) membership of each counted kind, and every tile any count or exact rule watches.
        self._count_members = np.array([tag_members(self.legend, b.tags) for b in self.count_bins], dtype=bool)
        self._count_members = self._count_members.reshape(len(self.count_bins), len(self.chars))
        self._counted_any = self._count_members.any(axis=0)
        for tag in self.exact_counts:
            self._counted_any |= tag_members(self.legend, (tag,))
        # Mirroring is a fair augmentation only when no tile has a left or right side (pipes do).
        self.mirror = self.whole_levels and not any(
            "left" in t or "right" in t for tags in self.legend.values() for t in tags
        )
        self._atlas = tile_atlas(self.legend)
        groups = []
        if self.presence_tags or not self.count_bins:
            groups.append(ConditionGroup("contains", tuple(normalise_label(t) for t in self.presence_tags)))
        groups += [ConditionGroup(bins.name, bins.labels, exclusive=True) for bins in self.count_bins]
        if self.games:
            groups.append(ConditionGroup("game", self.games, exclusive=True))
        self._conditions = ConditionSpace(tuple(groups))

    # --- the Domain seam -------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.chars), self.height, self.width)

    @property
    def conditions(self) -> ConditionSpace:
        return self._conditions

    @property
    def tileset_name(self) -> str:
        """A tileset file name shared by every map of this vocabulary."""
        import hashlib

        digest = hashlib.sha256(json.dumps(self.legend, sort_keys=True).encode()).hexdigest()[:8]
        return f"latent-forge-tiles-{digest}.png"

    def indices(self, level: Level) -> np.ndarray:
        """(H, W) vocabulary indices of a level of any size."""
        codes = np.array([[ord(ch) for ch in row] for row in level.rows], dtype=np.int64)
        inside = codes < len(self._index_of)
        if not inside.all() or (self._index_of[np.where(inside, codes, 0)] < 0).any():
            parse_vglc(level.text(), "level", self.legend)  # raises with line and column
        return self._index_of[codes]

    def level_from_indices(self, indices: np.ndarray) -> Level:
        chars = np.array(self.chars)[indices]
        return Level(tuple("".join(row) for row in chars))

    def fit_height(self, level: Level) -> Level:
        """Pad with empty rows on top, or drop top rows, to the model's height. Levels keep
        their ground at the bottom; VGLC games differ only in how much sky they record."""
        if level.height < self.height:
            pad = (self.empty_char * level.width,) * (self.height - level.height)
            return Level(pad + level.rows)
        return Level(level.rows[level.height - self.height :])

    def to_tensor(self, level: Level) -> torch.Tensor:
        """The first window of a level (a whole-level model: the level) as a one-hot (T, H, W) tensor."""
        if self.whole_levels:
            return self.one_hot(self.whole_indices(level))
        level = self.fit_height(level)
        if level.width < self.width:
            raise AssetError(f"level is {level.width} columns wide; this model needs at least {self.width}")
        idx = self.indices(level)[:, : self.width]
        return self.one_hot(idx)

    def one_hot(self, indices: np.ndarray) -> torch.Tensor:
        """(…, H, W) indices -> (…, T, H, W) float one-hot."""
        hot = torch.nn.functional.one_hot(torch.from_numpy(indices), len(self.chars)).float()
        return hot.movedim(-1, -3).contiguous()

    def from_output(
        self,
        output: torch.Tensor,
        output_temperature: float = 0.0,
        rng: torch.Generator | None = None,
        condition: list[str] | None = None,
    ) -> list[Level]:
        """Logits (B, T, H, W) -> levels.

        Without a condition this is a plain conversion: the most likely tile per cell, or with
        output_temperature > 0 a tile drawn from softmax(logits / output_temperature). With a condition (the
        label list a model was asked for) decoding is condition-faithful: labels that are off
        never appear, labels that are on appear, and pipes are whole (`decoding`)."""
        scaled = output / output_temperature if output_temperature > 0 else output
        log_probs = torch.log_softmax(scaled.float(), dim=1)
        if output_temperature > 0:
            if condition is not None:
                log_probs = log_probs + self._mask(condition)[None, :, None, None]
            probs = log_probs.exp().movedim(1, -1)  # (B, H, W, T)
            idx = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=rng).view(probs.shape[:-1]).numpy()
        else:
            idx = log_probs.argmax(dim=1).numpy()
        if condition is None:
            return [self.level_from_indices(grid) for grid in idx]
        wanted = self.wanted_presence(condition)
        lp = log_probs.numpy()
        grids = [
            constrained_grid(lp[i], self.legend, wanted, sampled=idx[i] if output_temperature > 0 else None)
            for i in range(len(idx))
        ]
        targets = self.count_targets(condition)
        if targets:
            grids = [fit_counts(grid, lp[i], targets, self._counted_any) for i, grid in enumerate(grids)]
        return [self.level_from_indices(grid) for grid in grids]

    def count_targets(self, condition: list[str]) -> list[tuple[np.ndarray, int, int | None]]:
        """(members, fewest, most) per counted kind for `fit_counts`: exact kinds (one player
        spawn) first, then the bin each count group's label in `condition` asks for."""
        labels = {normalise_label(c) for c in condition}
        targets = [(tag_members(self.legend, (tag,)), n, n) for tag, n in self.exact_counts.items()]
        for j, bins in enumerate(self.count_bins):
            chosen = [label for label in bins.labels if label in labels]
            if chosen:
                targets.append((self._count_members[j], *bins.range_of(chosen[0])))
        return targets

    def wanted_presence(self, condition: list[str]) -> dict[str, bool]:
        """Presence tag -> whether the condition labels turn it on."""
        labels = {normalise_label(c) for c in condition}
        return {tag: normalise_label(tag) in labels for tag in self.presence_tags}

    def _mask(self, condition: list[str]) -> torch.Tensor:
        """(T,) 0 or -inf: tiles of labels that are off are excluded from sampling."""
        mask = torch.zeros(len(self.chars))
        for j, (tag, on) in enumerate(self.wanted_presence(condition).items()):
            if not on:
                mask[torch.from_numpy(self._tag_members[j])] = float("-inf")
        return mask

    def render(self, level: Level) -> np.ndarray:
        """(H*16, W*16, 3) uint8 preview in the project's own tile art."""
        tiles = self._atlas[self.indices(level)]  # (H, W, 16, 16, 3)
        h, w = tiles.shape[:2]
        return tiles.transpose(0, 2, 1, 3, 4).reshape(h * TILE, w * TILE, 3)

    def read(self, path: str | Path) -> Level:
        path = Path(path)
        if path.suffix.lower() not in (".txt", ""):
            raise AssetError(f"{path}: levels are read from VGLC .txt files")
        return read_level(path, self.legend)

    def write(self, level: Level, path: str | Path) -> list[Path]:
        path = Path(path)
        ext = self.check_format(path)
        if ext == "txt":
            write_text_atomic(path, level.text())
            return [path]
        if ext == "png":
            write_png_atomic(path, self.render(level))
            return [path]
        tileset = path.with_name(self.tileset_name)
        write_png_atomic(tileset, np.concatenate(list(self._atlas), axis=1))
        make_text = tmj_text if ext == "tmj" else tmx_text
        tags = [self.legend[c] for c in self.chars]
        write_text_atomic(path, make_text(self.indices(level), self.chars, tags, tileset.name, TILE))
        return [path, tileset]

    def labels_of(self, level: Level) -> list[str]:
        """Presence labels of the tiles a level holds, and the bin of each counted kind."""
        content = self.content_labels(self.one_hot(self.indices(level))[None])[0]
        return [label for label, on in zip(self.conditions.labels, content) if on > 0.5]

    def content_labels(self, one_hot: torch.Tensor) -> np.ndarray:
        """(N, T, H, W) one-hot -> (N, K) float32: the condition vector's part read off the
        tiles (presence labels, then a one-hot bin per counted kind), in label order."""
        parts = [self.presence(one_hot).astype(np.float32)]
        if self.count_bins:
            counts = self.counts(one_hot)  # (N, bins)
            for j, bins in enumerate(self.count_bins):
                parts.append(np.eye(len(bins.labels), dtype=np.float32)[bins.bin_of(counts[:, j])])
        return np.concatenate(parts, axis=1)

    def counts(self, one_hot: torch.Tensor) -> np.ndarray:
        """(N, T, H, W) one-hot -> (N, bins) int: tiles of each counted kind per item."""
        per_tile = one_hot.sum(dim=(2, 3)).numpy()  # (N, T)
        return np.rint(per_tile @ self._count_members.T.astype(np.float32)).astype(np.int64)

    def presence(self, one_hot: torch.Tensor) -> np.ndarray:
        """(N, T, H, W) one-hot -> (N, tags) bool: does each window contain each tag."""
        tiles_present = one_hot.amax(dim=(2, 3)).numpy() > 0.5  # (N, T)
        return (tiles_present[:, None, :] & self._tag_members[None]).any(axis=2)

    def to_card(self) -> dict:
        return {
            "legend": {c: list(t) for c, t in self.legend.items()},
            "height": self.height,
            "width": self.width,
            "games": list(self.games),
            "presence_tags": list(self.presence_tags),
            "whole_levels": self.whole_levels,
            "count_bins": [bins.to_card() for bins in self.count_bins],
            "exact_counts": dict(self.exact_counts),
        }

    @classmethod
    def from_card(cls, data: dict) -> LevelsDomain:
        """Rebuild the domain from `to_card` output, every field checked first: a CheckpointError
        naming the field (`domain_config.legend`...) for anything a trained model's card never holds."""
        from generators.core.card_check import bad_field, is_whole, texts, whole
        from generators.core.vae import MAX_SIDE, MAX_WIDTH

        def field(name: str) -> str:
            return f"domain_config.{name}"

        for name in ("legend", "height", "width", "games", "presence_tags"):
            if name not in data:
                raise bad_field(field(name), "is missing")
        legend = data["legend"]
        if not isinstance(legend, dict) or not legend:
            raise bad_field(field("legend"), "must be an object of tile characters and their tags, not empty")
        if len(legend) > MAX_WIDTH:
            raise bad_field(field("legend"), f"has {len(legend)} tiles; at most {MAX_WIDTH}")
        for char, tags in legend.items():
            if len(char) != 1 or not char.isprintable():
                raise bad_field(field("legend"), f"has the key {char!r}"[:60] + "; tiles are single visible characters")
            if not isinstance(tags, list) or not all(isinstance(t, str) and t.isprintable() for t in tags):
                raise bad_field(field(f"legend[{char!r}]"), "must be a list of tags (visible text)")
        whole(data["height"], field("height"), 1, MAX_SIDE)
        whole(data["width"], field("width"), 1, MAX_SIDE)
        texts(data["games"], field("games"))
        texts(data["presence_tags"], field("presence_tags"))
        if not isinstance(data.get("whole_levels", False), bool):
            raise bad_field(field("whole_levels"), "must be true or false")
        bins = data.get("count_bins", [])
        if not isinstance(bins, list):
            raise bad_field(field("count_bins"), "is not a list")
        for i, b in enumerate(bins):
            where = field(f"count_bins[{i}]")
            if not isinstance(b, dict) or not {"name", "tags", "edges", "least"} <= set(b):
                raise bad_field(where, 'must be {"name", "tags", "edges", "least"}')
            texts([b["name"]], f"{where}.name")
            texts(b["tags"], f"{where}.tags", allow_empty=False)
            edges = b["edges"]
            if not (isinstance(edges, list) and len(edges) == 2 and all(map(is_whole, edges)) and edges[0] < edges[1]):
                raise bad_field(f"{where}.edges", "must be two whole numbers, the first the smaller")
            whole(b["least"], f"{where}.least", 0, 1 << 31)
        exact = data.get("exact_counts", {})
        if not isinstance(exact, dict):
            raise bad_field(field("exact_counts"), "is not an object")
        for tag, n in exact.items():
            whole(n, field(f"exact_counts[{tag!r}]"), 0, 1 << 31)
        return cls(
            {c: tuple(t) for c, t in legend.items()},
            data["height"],
            data["width"],
            tuple(data["games"]),
            tuple(data["presence_tags"]),
            whole_levels=bool(data.get("whole_levels", False)),  # cards before whole levels: windows
            count_bins=tuple(CountBins.from_card(b) for b in bins),
            exact_counts={str(k): int(v) for k, v in exact.items()},
        )

    def whole_indices(self, level: Level) -> np.ndarray:
        """(H, W) indices of a level that is exactly this whole-level model's size."""
        if (level.height, level.width) != (self.height, self.width):
            raise AssetError(
                f"level is {level.height} rows × {level.width} columns; this model makes whole "
                f"{self.height} × {self.width} levels"
            )
        return self.indices(level)

    @property
    def augment(self):
        """Training augmentation for the Trainer: random left-right mirroring for whole-level
        games without sided tiles (counts, hence conditions, do not change), else None."""
        return self._mirrored if self.mirror else None

    @staticmethod
    def _mirrored(x: torch.Tensor, c: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        flip = torch.rand(len(x), generator=generator) < 0.5  # (B,)
        return torch.where(flip[:, None, None, None], x.flip(3), x), c

    def _screen_starts(self, width: int) -> list[int]:
        """Columns where `scan` cuts a level into windows: every `self.width`, the last flush right."""
        if self.whole_levels or width <= self.width:
            return [0]
        return sorted({*range(0, width - self.width + 1, self.width), width - self.width})

    def scan_parts(self, level: Level) -> list[Level]:
        """A level is scanned window by window (a whole-level game: as one)."""
        return [Level(tuple(row[x : x + self.width] for row in level.rows)) for x in self._screen_starts(level.width)]

    def positions(self, level: Level, maps: list[np.ndarray]) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Per column (cells summed over rows, windows that overlap averaged), named by groups of 4."""
        width = max(level.width, maps[0].shape[1])
        heat, seen = np.zeros((maps[0].shape[0], width)), np.zeros(width)
        for x, cells in zip(self._screen_starts(level.width), maps):
            heat[:, x : x + cells.shape[1]] += cells
            seen[x : x + cells.shape[1]] += 1
        heat /= np.maximum(seen, 1)
        columns = heat.sum(axis=0)
        starts = range(0, width, 4)
        scores = np.array([columns[s : s + 4].mean() for s in starts])
        names = [f"columns {s + 1}-{min(s + 4, width)}" for s in starts]
        return scores, names, heat

    def plant_anomalies(self, level: Level, rng: np.random.Generator) -> dict[str, tuple[Level, tuple[int, ...]]]:
        """`scrambled_band`: 6-10 adjacent columns (all rows) replaced by tiles drawn uniformly from the
        vocabulary; its place is the groups of 4 columns (`positions`) the band touches."""
        band = int(min(rng.integers(6, 11), level.width))
        start = int(rng.integers(0, level.width - band + 1))
        chars = np.array(self.chars)[rng.integers(len(self.chars), size=(level.height, band))]
        rows = tuple(row[:start] + "".join(new) + row[start + band :] for row, new in zip(level.rows, chars))
        return {"scrambled_band": (Level(rows), tuple(range(start // 4, (start + band - 1) // 4 + 1)))}

    def detection_items(self, split: Split) -> tuple[list[Level], dict[str, list]]:
        """The held-out levels rebuilt from their windows (named `stem@column`) and cut into pieces of
        3 windows' width, one starting every window (the last flush right), as files of a few screens;
        a whole-level game's levels as they are."""
        if self.whole_levels or not split.names or len(split.names) != len(split):
            return super().detection_items(split)
        cells: dict[str, dict[int, np.ndarray]] = {}
        for name, window in zip(split.names, split.x.argmax(dim=1).numpy()):
            stem, _, column = name.rpartition("@")
            cells.setdefault(stem, {})[int(column)] = window
        pieces, wide = [], 3 * self.width
        for windows in cells.values():
            width = max(windows) + self.width
            grid = np.zeros((self.height, width), dtype=np.int64)
            for column, window in sorted(windows.items()):
                grid[:, column : column + self.width] = window
            level = self.level_from_indices(grid)
            starts = sorted({*range(0, max(width - wide, 0) + 1, self.width), max(width - wide, 0)})
            pieces += [Level(tuple(row[s : s + wide] for row in level.rows)) for s in starts]
        return pieces, {}

    def training_card(self, split) -> dict:
        """The training levels' characters (ground or athletic, `character.py`), what `--character`
        asks for; nothing for a whole-screen model or levels all of one character."""
        from .character import CARD_KEY, level_characters

        characters = level_characters(self, split)
        return {} if characters is None else {CARD_KEY: characters.to_card()}

    def check_training_card(self, card: dict) -> None:
        from .character import CARD_KEY, LevelCharacters

        if card.get(CARD_KEY) is not None:
            LevelCharacters.from_card(card[CARD_KEY])

    def stitch_support(self) -> str:
        """ "" when whole levels can be stitched from this model's windows (`stitch`), else why not."""
        if self.whole_levels:
            return "this model makes whole single-screen levels; there are no windows to stitch"
        if self.width < 2 * SEAM_OVERLAP:
            return f"its windows are {self.width} columns wide; stitching needs at least {2 * SEAM_OVERLAP}"
        if not any("solid" in (t.lower() for t in tags) for tags in self.legend.values()):
            return "its tiles have no solid ground to stand on"
        return ""

    def playable_screen_support(self) -> str:
        """ "" when `sample --playable` can make single screens of this model (`lode_playable`),
        else why not."""
        from .lode_agent import is_lode_runner

        if not self.whole_levels:
            return "this model makes windows of long levels; give --length to play whole levels"
        if not is_lode_runner(self.legend):
            return "only Lode Runner screens have an agent to play them (its tiles: ladders, ropes, gold, a spawn)"
        return ""

    def sample_report(self, generator, corpus: Corpus, report: dict, samples: int, seed: int) -> dict:
        from .metrics import sample_report

        return sample_report(generator, corpus, samples, seed)

    def encoding_note(self, level: Level) -> str | None:
        if self.whole_levels:
            return None  # to_tensor takes the whole level or refuses it
        if level.width < self.width:
            raise AssetError(f"level is {level.width} columns wide; this model needs at least {self.width}")
        if level.width > self.width:
            return f"{level.width} columns wide; encoding its first {self.width}"
        return None

    # --- training data ----------------------------------------------------------------

    @classmethod
    def prepare_training(cls, paths: list[Path], holdout: tuple[str, ...] = ()) -> tuple[LevelsDomain, Corpus]:
        folders = level_folders(paths)
        domain = cls.for_data(folders, holdout=holdout)
        return domain, domain.dataset(folders, holdout=holdout)

    def corpus(self, paths: list[Path], holdout: tuple[str, ...] = ()) -> Corpus:
        """Windows of the levels under `paths`, read with this domain's vocabulary (for
        fine-tuning a model on a user's own levels)."""
        return self.dataset(level_folders(paths), holdout=holdout)

    def heldout_corpus(self, paths: list[Path], card: dict) -> Corpus:
        folders = level_folders(paths, games=list(self.games) or None)
        return self.dataset(folders, holdout=tuple(card.get("data", {}).get("holdout_levels", ())))

    @classmethod
    def for_data(
        cls, folders: list[Path], width: int = 16, height: int = 14, holdout: tuple[str, ...] = ()
    ) -> LevelsDomain:
        """A domain covering the given game folders: the union of their legends, in order.

        The union matters for VGLC itself: SMB2 (Japan)'s legend omits the cannon tiles its
        levels use, which Super Mario Bros' legend defines. When every level is one single
        screen of one size, the domain models whole levels of that size, with count bins
        fitted to the levels not in `holdout`."""
        legend: Legend = {}
        owner: dict[str, Path] = {}
        for folder in folders:
            for char, tags in load_legend(find_legend(folder)).items():
                if char in legend and set(legend[char]) != set(tags):
                    raise UserError(
                        f"{owner[char].name} and {folder.name} use {char!r} for different tiles "
                        f"({', '.join(legend[char])} / {', '.join(tags)}); train them as separate models"
                    )
                legend.setdefault(char, tags)
                owner.setdefault(char, folder)
        games = tuple(game_label(f) for f in folders)
        levels = readable_levels(folders, legend)
        size = single_screen_size([level for _, level in levels])
        if size is None:
            return cls(legend, height, width, games)
        windows = cls(legend, *size, games)  # only to turn training levels into index grids
        bins, exact = fit_count_bins(legend, [windows.indices(level) for stem, level in levels if stem not in holdout])
        return cls(legend, *size, games, whole_levels=True, count_bins=bins, exact_counts=exact)

    def windows(self, level: Level, stride: int = 1) -> np.ndarray:
        """(N, H, W) index windows of a whole level, left to right (a whole-level model: the
        level itself, N = 1; AssetError if it is not the model's size)."""
        if self.whole_levels:
            return self.whole_indices(level)[None]
        idx = self.indices(self.fit_height(level))
        if idx.shape[1] < self.width:
            return np.zeros((0, self.height, self.width), dtype=np.int64)
        view = np.lib.stride_tricks.sliding_window_view(idx, self.width, axis=1)  # (H, N, W)
        return view.transpose(1, 0, 2)[::stride].copy()

    def window_conditions(self, one_hot: torch.Tensor, game: str | None) -> torch.Tensor:
        """(N, K) condition vectors computed from the tiles of each window, plus the game."""
        labels = self.content_labels(one_hot)
        if self.games:
            game_hot = np.zeros((len(one_hot), len(self.games)), dtype=np.float32)
            game_hot[:, self.games.index(game)] = 1.0
            labels = np.concatenate([labels, game_hot], axis=1)
        return torch.from_numpy(labels)

    def dataset(self, folders: list[Path], holdout: tuple[str, ...] = (), stride: int = 1) -> Corpus:
        """Windows of every level in the folders; the levels named in `holdout` (file stems)
        go whole into the held-out split."""
        splits = {"train": ([], [], []), "holdout": ([], [], [])}
        seen_holdout, levels, skipped = set(), [], []
        for folder in folders:
            # A game the model does not know (a user's own, when fine-tuning) is labelled as
            # the model's first game, so its condition vectors stay ones the model has seen.
            game = (game_label(folder) if game_label(folder) in self.games else self.games[0]) if self.games else None
            for path in sorted(folder.glob("*.txt")):
                # A bad file is reported and left out; it never stops training on the rest.
                try:
                    windows = self.windows(read_level(path, self.legend), stride)
                except AssetError as error:
                    skipped.append({"file": str(path), "reason": str(error)})
                    continue
                if not len(windows):
                    skipped.append({"file": str(path), "reason": f"narrower than the {self.width}-column window"})
                    continue
                one_hot = self.one_hot(windows)
                split = "holdout" if path.stem in holdout else "train"
                if split == "holdout":
                    seen_holdout.add(path.stem)
                else:
                    levels.append(path.stem)
                xs, cs, names = splits[split]
                xs.append(one_hot)
                cs.append(self.window_conditions(one_hot, game))
                names += [f"{path.stem}@{i * stride}" for i in range(len(windows))]
        missing = [h for h in holdout if h not in seen_holdout]
        if missing:
            raise UserError(f"held-out level {missing[0]!r} is not among the levels in the data folders")
        if not splits["train"][0]:
            reason = f"; {len(skipped)} file(s) skipped, first: {skipped[0]['reason']}" if skipped else ""
            raise UserError(f"no usable level in {', '.join(str(f) for f in folders)}{reason}")

        def stack(split):
            xs, cs, names = splits[split]
            if not xs:
                return Split(torch.zeros((0, *self.shape)), torch.zeros((0, self.conditions.size)), [])
            return Split(torch.cat(xs), torch.cat(cs), names)

        train, held = stack("train"), stack("holdout")
        description = {
            "folders": [f.name for f in folders],
            "games": list(self.games),
            "licence": VGLC_LICENCE,
            "window": [self.height, self.width],
            "whole_levels": self.whole_levels,
            "stride": stride,
            "train_levels": len(levels),
            "holdout_levels": sorted(seen_holdout),
            "train_windows": len(train),
            "holdout_windows": len(held),
            "skipped": skipped,
        }
        return Corpus(train, held, description)
