"""Training data for the music domain: pieces as note lists, cut into 4-bar windows.

Two sources give the same thing, a list of `Piece`s (whole-piece notes and a style):
- a cache `.npz` written by `scripts/prep_music.py` from the music21 corpus (no pickle:
  plain integer and string arrays, read with allow_pickle=False);
- a user's MIDI folder with one subfolder per style label (or MIDI files directly in the
  folder, labelled with the folder's name).
Each piece keeps its metre (4/4, 3/4 or 6/8; MIDI files take their first time signature). The
domain cuts pieces into 4-bar windows (`MusicDomain.piece_windows`); whole pieces are held
out (never windows of one piece on both sides).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generators.core.errors import AssetError, UserError
from generators.core.fileio import read_npz

from .midi import MAX_PIECE_BARS
from .roll import METRES

MIDI_SUFFIXES = (".mid", ".midi", ".kar")
HOLDOUT_EVERY = 10  # one piece in ten (by a hash of its name) is held out for eval


@dataclass
class Piece:
    name: str
    style: str
    notes: np.ndarray  # (N, 3) pitch, start step, end step; starts at step 0 = bar 1
    metre: str = "4/4"  # a key of roll.METRES


def is_holdout(name: str, named: tuple[str, ...] = ()) -> bool:
    """Deterministic piece-level split: named pieces, plus one in HOLDOUT_EVERY by hash."""
    digest = int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:8], 16)
    return name in named or digest % HOLDOUT_EVERY == 0


# --- the cache --------------------------------------------------------------------------


def save_cache(path: Path, pieces: list[Piece], meta: dict) -> None:
    """Write pieces to an .npz cache atomically (integer and unicode arrays only)."""
    from generators.core.fileio import write_bytes_atomic

    counts = np.array([len(p.notes) for p in pieces], dtype=np.int64)
    arrays = {
        "notes": np.concatenate([p.notes for p in pieces]).astype(np.int32) if pieces else np.zeros((0, 3), np.int32),
        "offsets": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        "names": np.array([p.name for p in pieces], dtype=str),
        "styles": np.array([p.style for p in pieces], dtype=str),
        "metres": np.array([p.metre for p in pieces], dtype=str),
        "meta": np.array(json.dumps(meta)),
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_bytes_atomic(path, buffer.getvalue())


MAX_CACHE_STEP = MAX_PIECE_BARS * 16  # the last step a cached note may end on (1,024 bars of 4/4)


def checked_cache_arrays(path: Path, notes, offsets, n_names: int, n_styles: int) -> tuple[np.ndarray, np.ndarray]:
    """The cache's notes (N, 3: pitch, start step, end step) and offsets (pieces + 1), checked,
    as int64; a cache that lies about them is one UserError line, not an IndexError or an
    allocation of gigabytes later."""

    def refuse(what: str):
        raise UserError(f"{path} is not a sound Latent Forge music cache: {what}")

    if notes.ndim != 2 or notes.shape[1] != 3 or notes.dtype.kind not in "iu":
        refuse(f"its notes are {notes.dtype} of shape {list(notes.shape)}, not whole numbers of shape [N, 3]")
    if offsets.ndim != 1 or offsets.dtype.kind not in "iu" or n_names != n_styles or len(offsets) != n_names + 1:
        refuse(f"{len(offsets)} offsets, {n_names} names and {n_styles} styles do not describe the same pieces")
    notes, offsets = notes.astype(np.int64), offsets.astype(np.int64)
    if len(offsets) and (offsets[0] != 0 or offsets[-1] != len(notes) or np.any(np.diff(offsets) < 0)):
        refuse("its offsets do not cut its notes into pieces in order")
    if len(notes):
        pitch, start, end = notes.T
        if pitch.min() < 0 or pitch.max() > 127:
            refuse(f"a pitch of {int(pitch.min() if pitch.min() < 0 else pitch.max())} is outside MIDI's 0-127")
        if start.min() < 0 or np.any(end <= start) or end.max() > MAX_CACHE_STEP:
            refuse(f"a note's steps must run forwards, from step 0 to at most step {MAX_CACHE_STEP:,}")
    return notes, offsets


def load_cache(path: Path) -> tuple[list[Piece], dict]:
    """Pieces and description from a cache written by `save_cache`."""
    data = read_npz(path, "music cache")
    try:
        notes, offsets = data["notes"], data["offsets"]
        names, styles = [str(n) for n in data["names"]], [str(s) for s in data["styles"]]
        # Caches written before metres were kept: every piece reads as 4/4.
        metres = [str(m) for m in data["metres"]] if "metres" in data else ["4/4"] * len(names)
        meta = json.loads(str(data["meta"]))
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        reason = f"it has no {exc} array" if isinstance(exc, KeyError) else type(exc).__name__
        raise UserError(f"{path} is not a Latent Forge music cache ({reason})") from None
    notes, offsets = checked_cache_arrays(path, notes, offsets, len(names), len(styles))
    unknown = sorted(set(metres) - set(METRES))
    if unknown or len(metres) != len(names):
        raise UserError(f"{path}: metre {unknown[0] if unknown else '?'!r} is not one of {', '.join(METRES)}")
    pieces = [
        Piece(n, s, notes[offsets[i] : offsets[i + 1]], m) for i, (n, s, m) in enumerate(zip(names, styles, metres))
    ]
    return pieces, meta


# --- MIDI folders -----------------------------------------------------------------------


def midi_pieces(folder: Path, label: str, root: Path) -> tuple[list[Piece], list[str]]:
    """Every MIDI file directly in `folder` as a piece of style `label`; unreadable files
    are skipped and returned as {"file", "reason"} entries, as every domain reports them."""
    from .midi import read_midi

    pieces, skipped = [], []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in MIDI_SUFFIXES):
        try:
            clip = read_midi(path, steps=None)
        except AssetError as error:
            skipped.append({"file": str(path), "reason": str(error)})
            continue
        pieces.append(Piece(str(path.relative_to(root)), label, clip.notes()))
    return pieces, skipped


def folder_pieces(root: Path) -> tuple[list[Piece], dict]:
    """A MIDI folder: one subfolder per style label, or MIDI files directly in it."""
    from generators.core.conditions import normalise_label

    folders = sorted(p for p in root.iterdir() if p.is_dir())
    subfolders = [f for f in folders if any(q.suffix.lower() in MIDI_SUFFIXES for q in f.iterdir())]
    groups = [(f, normalise_label(f.name)) for f in subfolders] or [(root, normalise_label(root.name))]
    pieces = []
    # A label folder left empty is reported, not silently dropped.
    skipped = [
        {"file": str(f), "reason": "label folder has no MIDI files"}
        for f in folders
        if f not in subfolders and subfolders
    ]
    for folder, label in groups:
        found, bad = midi_pieces(folder, label, root)
        pieces += found
        skipped += bad
    return pieces, {"source": f"MIDI folder {root.name}", "skipped": skipped}


def load_pieces(paths: list[Path]) -> tuple[list[Piece], dict]:
    """Pieces from cache files and/or MIDI folders, with a description of the sources."""
    pieces, sources = [], []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UserError(f"music data {path} does not exist")
        if path.is_file():
            if path.suffix.lower() != ".npz":
                raise UserError(
                    f"{path}: music data is a .npz cache from scripts/prep_music.py or a folder of MIDI files"
                )
            found, meta = load_cache(path)
        else:
            found, meta = folder_pieces(path)
        if not found:
            raise UserError(f"no readable MIDI pieces in {path}")
        pieces += found
        sources.append(meta)
    skipped = [entry for meta in sources for entry in meta.pop("skipped", [])]
    return pieces, {"sources": sources, "skipped": skipped}
