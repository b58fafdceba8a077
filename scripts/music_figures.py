"""The music yardstick's per-style figures for a folder of MIDI files (each file's first 4
bars), so clips from anywhere (an older model, another tool, your own) can be set beside
`eval music`'s table with the same code:

    python scripts/music_figures.py FOLDER --style chorale [--data CACHE] [--json FILE]

It prints the texture share (four notes a step for chorales, at most one for other styles),
the top voice's mean step, onsets off the eighth-note grid, notes per bar and notes outside
the estimated key (`generators.music.metrics.style_figures`). With --data (the music cache a
model trains on) it prints the same for the held-out real clips of that style beside them, and
runs the two-sample test of the folder's clips against them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators.core.errors import AssetError, UserError  # noqa: E402
from generators.music.data import MIDI_SUFFIXES  # noqa: E402
from generators.music.metrics import style_figures  # noqa: E402
from generators.music.midi import read_midi  # noqa: E402


def against_data(clips: list, style: str, cache: Path) -> dict:
    """The held-out real clips' figures of `style`, and the two-sample test of `clips` against them."""
    import torch

    from generators.music.domain import MusicDomain
    from generators.music.metrics import real_clips, two_sample_test

    domain, corpus = MusicDomain.prepare_training([cache])
    if style not in domain.styles:
        raise UserError(f"style {style!r} is not in {cache}: {', '.join(domain.styles)}")
    column = domain.styles.index(style)
    held = torch.nonzero(corpus.holdout.c[:, column] > 0.5).flatten().tolist()
    train = torch.nonzero(corpus.train.c[:, column] > 0.5).flatten()
    train = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[: 3 * len(clips)]].tolist()
    real = real_clips(domain, corpus.holdout, held)
    return {
        "real_heldout": style_figures(real, style),
        "two_sample": two_sample_test(clips, real_clips(domain, corpus.train, train), real),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--style", required=True, help="chorale (four voices), or any other style (one voice)")
    parser.add_argument("--data", type=Path, help="a prep_music.py cache: compare with its held-out clips")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"error: {args.folder} is not a folder", file=sys.stderr)
        return 2
    clips, skipped = [], 0
    for path in sorted(p for p in args.folder.iterdir() if p.suffix.lower() in MIDI_SUFFIXES):
        try:
            clips.append(read_midi(path))
        except (AssetError, UserError):
            skipped += 1
    if not clips:
        print(f"error: no readable MIDI files in {args.folder}", file=sys.stderr)
        return 2
    figures = {"files": style_figures(clips, args.style) | {"skipped_files": skipped}}
    if args.data:
        try:
            figures.update(against_data(clips, args.style, args.data))
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    for side, rows in figures.items():
        for key, value in rows.items():
            print(f"{side:14s} {key:28s} {value:.4f}" if isinstance(value, float) else f"{side:14s} {key:28s} {value}")
    if args.json:
        from generators.core.fileio import write_text_atomic

        write_text_atomic(args.json, json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
