"""Where a music model's held-out note F1 is lost: per style, and the kind of each missed note.

    python scripts/music_f1_by_style.py CHECKPOINT CACHE.npz [CLIPS]

Encodes a seeded CLIPS (default 256) of the held-out clips as a user's files are encoded
(`metrics.reconstructions`), decodes the likeliest tokens, and prints note F1 over all of them and
per style and, for every note of the originals that did not come back, what came back in its place.
"""

import collections
import sys
from pathlib import Path

import torch

from generators.core.domain import Split
from generators.music.metrics import note_f1, reconstructions
from generators.registry import load_generator


def report(generator, cache: Path, clips: int = 256) -> None:
    """Print F1 per style and the kinds of missed notes (see the module docstring)."""
    corpus = generator.domain.heldout_corpus([Path(cache)], generator.card)
    held = corpus.holdout
    rows = torch.randperm(len(held), generator=torch.Generator().manual_seed(0))[:clips]
    x, c = held.x[rows], held.c[rows]
    truth, guess = reconstructions(generator, Split(x, c, []), refine=True)
    styles = generator.domain.styles
    print("all", len(x), {k: round(v, 4) for k, v in note_f1(truth, guess).items()})
    for i, style in enumerate(styles):
        idx = [j for j in range(len(x)) if c[j, i] > 0.5]
        print(
            style,
            len(idx),
            {k: round(v, 3) for k, v in note_f1([truth[j] for j in idx], [guess[j] for j in idx]).items()},
        )
    kinds = collections.Counter()
    for original, decoded in zip(truth, guess):
        a = {(p, s) for p, s, _ in original.notes()}
        b = {(p, s) for p, s, _ in decoded.notes()}
        struck_at = collections.defaultdict(set)
        for p, s in b:
            struck_at[s].add(p)
        onsets_of = collections.defaultdict(set)
        for p, s in b:
            onsets_of[p].add(s)
        for p, s in a - b:
            if any(abs(s2 - s) <= 2 for s2 in onsets_of[p]):
                kinds["same pitch, onset within 2 steps"] += 1
            elif not struck_at[s]:
                kinds["nothing struck at that step"] += 1
            elif any(abs(q - p) == 12 for q in struck_at[s]):
                kinds["octave"] += 1
            elif any(abs(q - p) <= 2 for q in struck_at[s]):
                kinds["1-2 semitones"] += 1
            else:
                kinds["other pitch at that step"] += 1
        kinds["total missed"] += len(a - b)
        kinds["total true"] += len(a)
    print(dict(kinds))


if __name__ == "__main__":
    torch.set_num_threads(2)
    report(load_generator(Path(sys.argv[1])), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 256)
