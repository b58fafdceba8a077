"""Benchmark of whole levels' character (`generators/levels/character.py`): do generated levels
split into ground and athletic ones as the originals do, or land in between?

    .venv/bin/python bench/bench_level_character.py --data DIR [DIR ...] [--checkpoint levels]
                                                    [--levels 40] [--length 200] [--seed 400] [--json FILE]

Level i comes from seed `--seed` + i with no condition (labels drawn as "any" draws them), exactly
as `sample levels --length L --seed i` makes it. Two sets from the same seeds, side by side:
- "without characters": no `--character`, the default (windows drawn independently, no pit limit);
- "with characters": `--character` as `LevelCharacters.draw` gives it for the seed, a mix in the
  training levels' proportion.
The originals are every level file under --data. Per set: the gap share of each level (share of
columns with no solid tile in the bottom row), its histogram overlap with the originals'
(`expressive.histogram_overlap`, 10 bins over the joint range), the share of athletic levels (gap
share above `ATHLETIC_GAP_SHARE`), the share in between (0.35 to 0.5, where no original lies),
and the widest floor pit (median and max over levels). A benchmark, not a test: it asserts nothing
and prints tables (see bench/README.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import common  # same folder: machine description, table printing and bench_main
import numpy as np

sys.path.insert(0, str(common.REPO_ROOT))

from generators.core.errors import UserError  # noqa: E402
from generators.levels.character import ATHLETIC_GAP_SHARE, characters_of, pit_widths, solid_tiles  # noqa: E402
from generators.levels.domain import read_level  # noqa: E402
from generators.levels.expressive import histogram_overlap  # noqa: E402
from generators.levels.long_level import sample_long_level  # noqa: E402
from generators.registry import load_generator  # noqa: E402

BETWEEN = (0.35, ATHLETIC_GAP_SHARE)  # gap shares no original has: neither ground nor athletic


def floors(levels, domain) -> list[np.ndarray]:
    """(W,) whether each column of each level has no solid tile in its bottom row."""
    solid = solid_tiles(domain.legend)
    return [~solid[domain.indices(level)[-1]] for level in levels]


def summary(name: str, open_floors: list[np.ndarray], reference: list[float] | None) -> dict:
    shares = np.array([row.mean() for row in open_floors])
    widest = np.array([max(pit_widths(row), default=0) for row in open_floors])
    return {
        "set": name,
        "levels": len(shares),
        "gap_share_overlap": None if reference is None else histogram_overlap(shares, reference),
        "athletic_share": float((shares > ATHLETIC_GAP_SHARE).mean()),
        "between_share": float(((shares > BETWEEN[0]) & (shares <= BETWEEN[1])).mean()),
        "widest_pit_median": float(np.median(widest)),
        "widest_pit_max": int(widest.max()),
        "gap_shares": shares.round(4).tolist(),
    }


def run(args) -> dict:
    generator = load_generator(args.checkpoint, "levels")
    domain = generator.domain
    if characters_of(generator) is None:
        raise UserError(f"{args.checkpoint}'s card records no level characters: nothing to compare")
    files = sorted(p for folder in args.data for p in Path(folder).glob("*.txt"))
    if not files:
        raise UserError("no level files (*.txt) under --data")
    originals = summary("originals", floors([read_level(p, domain.legend) for p in files], domain), None)
    characters = characters_of(generator)
    seeds = range(args.seed, args.seed + args.levels)
    rows = [originals]
    for name, character in (("without characters", lambda seed: None), ("with characters", characters.draw)):
        levels = [
            sample_long_level(generator, args.length, seed, None, character=character(seed)).level for seed in seeds
        ]
        rows.append(summary(name, floors(levels, domain), originals["gap_shares"]))
    headers = ["set", "levels", "gap-share overlap", "athletic", "in between", "widest pit (median)", "(max)"]
    print(
        common.table(
            headers,
            [
                [
                    r["set"],
                    r["levels"],
                    "-" if r["gap_share_overlap"] is None else r["gap_share_overlap"],
                    r["athletic_share"],
                    r["between_share"],
                    r["widest_pit_median"],
                    r["widest_pit_max"],
                ]
                for r in rows
            ],
        )
    )
    return {"machine": common.machine(), "length": args.length, "seeds": [seeds.start, seeds.stop], "sets": rows}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="levels")
    parser.add_argument("--data", nargs="+", required=True, help="VGLC game folders of the originals")
    parser.add_argument("--levels", type=common.positive, default=40)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--seed", type=int, default=400)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return common.bench_main("level_character", run, argv, parse=parse_args)


if __name__ == "__main__":
    sys.exit(main())
