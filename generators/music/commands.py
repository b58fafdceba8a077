"""What the music wing adds to the CLI: its decoding options on `sample` and `interpolate`,
longer pieces (`sample --bars N`, and `interpolate --bars N`: one piece from A to B), and
`eval --jsb`, the JSB Chorales benchmark on the same architecture."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from generators.core import naming
from generators.core.commands import Flag, WingCommands, bounded_int, print_written
from generators.core.conditions import Condition
from generators.core.errors import UserError
from generators.core.fileio import ensure_writable_dir
from generators.core.generator import check_seed

from .options import DECODING_OPTIONS
from .piece import MAX_BARS, MIN_BARS

BARS = bounded_int(MIN_BARS, MAX_BARS)


class MusicCommands(WingCommands):
    decoding_options = DECODING_OPTIONS
    flags = (
        Flag(
            "sample",
            "--bars",
            {
                "type": BARS,
                "metavar": "N",
                "help": f"music: make each item a piece of N bars ({MIN_BARS}-{MAX_BARS}), 4-bar clips chained "
                "at matched seams",
            },
        ),
        Flag(
            "interpolate",
            "--bars",
            {
                "type": BARS,
                "metavar": "N",
                "help": f"music: write one piece of N bars ({MIN_BARS}-{MAX_BARS}) that moves from the start "
                "to the end item, instead of --steps frames",
            },
        ),
        Flag(
            "eval",
            "--jsb",
            {
                "metavar": "FILE",
                "help": "music: also run the JSB Chorales benchmark on this "
                "jsb-chorales-quarter.json (trains the same architecture, several minutes)",
            },
        ),
    )

    def apply(self, command, generator, args) -> None:
        super().apply(command, generator, args)
        if command == "eval" and args.jsb:
            if not Path(args.jsb).exists():
                raise UserError(f"{args.jsb} does not exist (expected jsb-chorales-quarter.json)")
            from .jsb import load_jsb

            load_jsb(Path(args.jsb))  # a bad file is refused now, not after the slow evaluation

    def run(self, command, generator, args, fmt):
        if command == "sample" and args.bars is not None:
            return sample_pieces(generator, args, fmt)
        return None

    def interpolate(self, generator, args, fmt, start, end):
        return morph_to_piece(generator, args, fmt, start, end) if args.bars is not None else None

    def evaluate(self, generator, corpus, args):
        if not args.jsb:
            return {}, None
        from .jsb import benchmark

        return {"jsb_chorales": benchmark(Path(args.jsb), generator.model.config, args.iwae_k)}, None


def progress_line(label: str):
    """A progress callback that redraws one stderr line while a piece is matched clip by clip."""

    def show(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{label}: clip {done + 1}/{total}  ", end="", file=sys.stderr, flush=True)

    return show


def sample_pieces(generator, args, fmt: str) -> int:
    """`sample music --bars N`: item i is one piece of N bars from seed + i; its first 4 bars
    are the clip plain `sample` makes of that seed."""
    from .piece import sample_piece

    base = secrets.randbelow(2**31) if args.seed is None else check_seed(args.seed, args.n)
    out = ensure_writable_dir(args.out)
    asked = generator.check_condition(Condition(tuple(args.condition or ()), tuple(args.without or ())))
    listed: set = set()
    for seed in range(base, base + args.n):
        labels = generator.labels_for_seed(seed, asked)
        piece = sample_piece(generator, seed, args.bars, asked, args.temperature, progress_line(f"seed {seed}"))
        path = out / f"{naming.piece_stem(args.domain, seed, args.bars)}.{fmt}"
        print_written(
            generator.domain.write(piece, path), f"seed={seed}\tbars={args.bars}\tlabels={','.join(labels)}", listed
        )
    return 0


def morph_to_piece(generator, args, fmt: str, start: tuple, end: tuple) -> int:
    """`interpolate music --bars N`: one piece whose clip k decodes the latent at t = k / (n - 1)
    from the start item to the end item, under the start item's labels."""
    from .piece import morph_piece

    (z_a, labels_a, name_a), (z_b, _, name_b) = start, end
    piece = morph_piece(generator, z_a, z_b, labels_a, args.bars, args.mode, progress_line("morph"))
    out = ensure_writable_dir(args.out)
    path = out / f"{naming.piece_stem(args.domain, None, args.bars)}.{fmt}"
    print_written(
        generator.domain.write(piece, path),
        f"from={name_a}\tto={name_b}\tbars={args.bars}\tlabels={','.join(labels_a)}",
        set(),
    )
    return 0


COMMANDS = MusicCommands()
