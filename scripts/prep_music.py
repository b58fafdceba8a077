"""Build the music training cache from the music21 corpus (needs the `data` extra: music21).

    python scripts/prep_music.py --out ../music-cache.npz [--max-per-style 600]

What the corpus ships (music21 9/10) and what is taken:
- chorale: Bach's four-part chorales (`corpus.getComposer('bach')`), all voices, every
  file that parses to 3-5 parts (this keeps the chorales and skips the few other works);
- folk:    the Essen Folksong Collection (`essenFolksong`, 31 ABC files of many tunes each),
           tunes taken round-robin across the files up to the cap;
- fiddle:  O'Neill's Music of Ireland 1850 (`oneills1850`, ABC files of tunes) and Ryan's
           Mammoth Collection (`ryansMammoth`, one ABC file per tune), half the cap each.
Each piece becomes notes in sixteenth steps (tied notes merged, grace notes skipped), with
a pickup bar shifted so bar lines fall on multiples of 16 steps. Pieces in other metres
keep 16 steps per quarter note (a "bar" of the model is 4 quarters). The cache is an
`.npz` of integer and string arrays (never pickle), so parsing (minutes) is paid once.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators.music.data import Piece, save_cache  # noqa: E402
from generators.music.roll import KEYS, LOWEST  # noqa: E402

ATTRIBUTION = {
    "corpus": "music21 corpus (music21 is BSD-3-Clause; https://www.music21.org)",
    "chorale": "J. S. Bach, four-part chorales (public domain works), encodings shipped with music21",
    "folk": "Essen Folksong Collection (Helmut Schaffrath, ed. Dahlig), ABC transcriptions shipped with music21",
    "fiddle": "O'Neill's Music of Ireland (1850) and Ryan's Mammoth Collection (1883), public domain, "
    "ABC shipped with music21",
}


# Time signatures -> the metre a clip is cut in (generators.music.roll.METRES). 2/4 and 2/2
# become 4/4 (two bars make one of ours), 3/8 becomes 6/8; any other metre is skipped.
METRE_OF = {"4/4": "4/4", "2/4": "4/4", "2/2": "4/4", "3/4": "3/4", "6/8": "6/8", "3/8": "6/8"}


def score_metre(score) -> str | None:
    """The metre of a score (its time signatures must all map to one), or None to skip it."""
    found = {METRE_OF.get(ts.ratioString) for ts in score.recurse().getElementsByClass("TimeSignature")}
    if not found:
        return "4/4"  # music21 reads a score without a time signature as 4/4
    return found.pop() if len(found) == 1 and None not in found else None


def score_notes(score) -> np.ndarray:
    """(N, 3) pitch, start, end in sixteenth steps for every voice of a music21 score."""
    score = score.stripTies(inPlace=False)
    shift = 0.0
    measures = score.recurse().getElementsByClass("Measure")
    first = measures.first() if measures else None
    if first is not None:
        try:
            missing = first.barDuration.quarterLength - first.duration.quarterLength
            shift = missing if 0 < missing < first.barDuration.quarterLength else 0.0
        except Exception:  # noqa: BLE001 - some ABC measures have no time signature
            shift = 0.0
    rows = []
    for element in score.flatten().notes:
        length = float(element.duration.quarterLength)
        if length <= 0:
            continue  # grace note
        start = round((float(element.offset) + shift) * 4)
        end = max(round((float(element.offset) + shift + length) * 4), start + 1)
        for pitch in element.pitches:
            if LOWEST <= pitch.midi < LOWEST + KEYS:
                rows.append((pitch.midi, start, end))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def abc_tunes(path: Path) -> list[str]:
    """The tunes of an ABC file as separate texts (each starts at its X: line)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    parts = re.split(r"(?m)^(?=X:)", text)
    return [p for p in parts if p.startswith("X:")]


def chorales(limit: int, log) -> list[Piece]:
    from music21 import corpus

    pieces = []
    for path in corpus.getComposer("bach"):
        if len(pieces) >= limit:
            break
        try:
            score = corpus.parse(path)
        except Exception as exc:  # noqa: BLE001 - a corpus file music21 cannot read is skipped
            log(f"skip {path.name}: {exc}")
            continue
        if not 3 <= len(score.parts) <= 5:
            continue
        notes, metre = score_notes(score), score_metre(score)
        if len(notes) and metre:
            pieces.append(Piece(f"bach/{Path(path).stem}", "chorale", notes, metre))
    return pieces


def abc_pieces(files: list[Path], style: str, collection: str, limit: int, log) -> list[Piece]:
    """Up to `limit` tunes taken round-robin over the ABC files of a collection."""
    from music21 import converter

    queues = [[(f, i, t) for i, t in enumerate(abc_tunes(f))] for f in files]
    pieces, depth = [], 0
    while len(pieces) < limit and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth >= len(queue) or len(pieces) >= limit:
                continue
            path, index, tune = queue[depth]
            try:
                score = converter.parse(tune, format="abc")
                notes, metre = score_notes(score), score_metre(score)
            except Exception as exc:  # noqa: BLE001 - a malformed tune is skipped
                log(f"skip {path.name}#{index}: {str(exc)[:80]}")
                continue
            if len(notes) and metre:
                pieces.append(Piece(f"{collection}/{path.stem}#{index}", style, notes, metre))
            elif len(notes):
                log(f"skip {path.name}#{index}: a metre other than 4/4, 3/4 or 6/8")
        depth += 1
    return pieces


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="the .npz cache to write")
    parser.add_argument("--max-per-style", type=int, default=600, help="cap on pieces per style (default 600)")
    parser.add_argument("--styles", nargs="*", default=["chorale", "folk", "fiddle"])
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        from music21 import corpus
    except ImportError:
        print("error: music21 is not installed; pip install 'latent-forge[data]' (or music21>=9)", file=sys.stderr)
        return 2
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    cap, pieces, counts = args.max_per_style, [], {}
    for style in args.styles:
        started = time.perf_counter()
        if style == "chorale":
            found = chorales(cap, log)
        elif style == "folk":
            found = abc_pieces(sorted(corpus.getComposer("essenFolksong")), "folk", "essen", cap, log)
        elif style == "fiddle":
            found = abc_pieces(sorted(corpus.getComposer("oneills1850")), "fiddle", "oneills1850", cap // 2, log)
            found += abc_pieces(
                sorted(corpus.getComposer("ryansMammoth")), "fiddle", "ryansMammoth", cap - len(found), log
            )
        else:
            print(f"error: unknown style {style!r}; choose from chorale, folk, fiddle", file=sys.stderr)
            return 2
        counts[style] = len(found)
        pieces += found
        log(f"{style}: {len(found)} pieces in {time.perf_counter() - started:.0f} s")
    metres = {}
    for piece in pieces:
        metres.setdefault(piece.style, {}).setdefault(piece.metre, 0)
        metres[piece.style][piece.metre] += 1
    meta = {
        "metres_per_style": metres,
        "source": "music21 corpus via scripts/prep_music.py",
        "music21_version": __import__("music21").__version__,
        "max_per_style": cap,
        "pieces_per_style": counts,
        "attribution": {k: v for k, v in ATTRIBUTION.items() if k == "corpus" or k in counts},
    }
    save_cache(args.out, pieces, meta)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
