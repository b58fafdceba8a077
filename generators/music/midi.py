"""MIDI files <-> clips, with pretty_midi.

Reading takes any ordinary Standard MIDI File: several tracks, any tempo (even changing),
notes off the grid. Times are converted to beats through the file's own tempo map and
quantised to sixteenths. What does not fit a clip is dropped and reported in
`Clip.dropped`: drum tracks, notes outside A0..C8, notes after bar 4. A file that cannot
become a clip raises AssetError with one line: not MIDI, truncated, no notes, drums only.
Writing keeps the clip's tempo, program and velocity; a chorale can go out as four tracks.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np

from generators.core.errors import AssetError
from generators.core.fileio import read_user_bytes

from .roll import KEYS, LOWEST, METRES, PITCH_NAMES, STEPS, STEPS_PER_QUARTER, Clip, notes_to_roll

MAX_MIDI_BYTES = 8 << 20  # a long symphony is a few hundred kB
MAX_PIECE_BARS = 1024  # a whole piece read for training stops here: a stray late note must not allocate gigabytes
VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")


def check_smf_bytes(data: bytes, source: str) -> None:
    """Refuse non-MIDI and truncated files before a parser sees them: the header chunk must
    be MThd, and every chunk must be as long as its header says."""
    if data[:4] == b"RIFF" and data[8:12] == b"RMID":  # RIFF-wrapped MIDI: check the payload
        start = data.find(b"MThd")
        data = data[start:] if start >= 0 else b""
    if len(data) < 14 or data[:4] != b"MThd":
        raise AssetError(f"{source} is not a MIDI file (no MThd header)")
    position, tracks = 0, 0
    while position < len(data):
        if len(data) - position < 8:
            raise AssetError(f"{source} is a truncated MIDI file (a chunk header is cut off)")
        length = struct.unpack(">I", data[position + 4 : position + 8])[0]
        if position + 8 + length > len(data):
            raise AssetError(
                f"{source} is a truncated MIDI file ({len(data)} bytes; its chunks need {position + 8 + length})"
            )
        tracks += data[position : position + 4] == b"MTrk"
        position += 8 + length
    if tracks == 0:
        raise AssetError(f"{source} is a truncated MIDI file (it has no tracks)")


def read_midi(path: str | Path, steps: int | None = STEPS) -> Clip:
    """The first `steps` sixteenths (4 bars) of a MIDI file as a clip; None reads it whole."""
    import pretty_midi

    path = Path(path)
    data = read_user_bytes(path, "MIDI file", MAX_MIDI_BYTES)
    check_smf_bytes(data, str(path))
    try:
        midi = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:  # mido/pretty_midi raise many types for damaged files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AssetError(f"{path} is a corrupt MIDI file ({first})") from None
    return clip_from_pretty_midi(midi, str(path), steps)


def clip_from_pretty_midi(midi, source: str, steps: int | None = STEPS) -> Clip:
    """Quantise a parsed pretty_midi.PrettyMIDI into a clip, reporting what was dropped."""
    pitched = [inst for inst in midi.instruments if not inst.is_drum and inst.notes]
    drums = [inst for inst in midi.instruments if inst.is_drum and inst.notes]
    if not pitched:
        if drums:
            raise AssetError(f"{source} has only drum tracks; a clip needs pitched notes")
        raise AssetError(f"{source} has no notes")
    resolution = midi.resolution
    rows, velocities = [], []
    for inst in pitched:
        for note in inst.notes:
            start = round(midi.time_to_tick(note.start) / resolution * STEPS_PER_QUARTER)
            end = round(midi.time_to_tick(note.end) / resolution * STEPS_PER_QUARTER)
            rows.append((note.pitch, start, max(end, start + 1)))
            velocities.append(note.velocity)
    notes = np.array(rows, dtype=np.int64)
    metre = metre_of(midi)
    bar = METRES[metre][2]
    if steps == STEPS:  # "a clip": 4 bars of the file's own metre
        steps = 4 * bar
    if steps is None:  # the whole piece, in whole bars, up to MAX_PIECE_BARS
        steps = min(max(int(-(-notes[:, 2].max() // bar) * bar), bar), MAX_PIECE_BARS * bar)
    dropped = []
    if drums:
        count = sum(len(d.notes) for d in drums)
        dropped.append(f"{plural(len(drums), 'drum track')} ({plural(count, 'note')})")
    in_range = (notes[:, 0] >= LOWEST) & (notes[:, 0] < LOWEST + KEYS)
    if (~in_range).any():
        dropped.append(f"{plural(int((~in_range).sum()), 'note')} outside the piano range A0-C8")
    late = notes[:, 1] >= steps
    if (late & in_range).any():
        bars = int(notes[:, 1].max() // bar + 1)
        dropped.append(
            f"{plural(int((late & in_range).sum()), 'note')} after bar {steps // bar} (the file has {bars} bars)"
        )
    kept = notes[in_range & ~late]
    if not len(kept):
        raise AssetError(f"{source} has no piano-range notes in its first {steps // bar} bars")
    cut = kept[:, 2] > steps
    if cut.any():
        dropped.append(f"{plural(int(cut.sum()), 'note')} cut short at the end of bar {steps // bar}")
    kept[:, 2] = np.minimum(kept[:, 2], steps)
    active, onset = notes_to_roll(kept, steps)
    tempi = midi.get_tempo_changes()[1]
    main = max(pitched, key=lambda inst: len(inst.notes))
    velocity = int(np.median(np.array(velocities)[in_range & ~late]))
    tempo = round(float(tempi[0]), 2) if len(tempi) else 120.0  # MIDI stores whole microseconds a beat
    return Clip(active, onset, tempo, int(main.program), velocity, tuple(dropped), metre)


# A file's first time signature -> our metre; 2/4 and 2/2 read as 4/4, 3/8 as 6/8, others as 4/4.
METRE_OF_SIGNATURE = {(4, 4): "4/4", (2, 4): "4/4", (2, 2): "4/4", (3, 4): "3/4", (6, 8): "6/8", (3, 8): "6/8"}


def metre_of(midi) -> str:
    """The metre of a parsed file (4/4 when it has no time signature, or one we do not model)."""
    signatures = midi.time_signature_changes
    if not signatures:
        return "4/4"
    return METRE_OF_SIGNATURE.get((signatures[0].numerator, signatures[0].denominator), "4/4")


def key_number(tonic: str, mode: str) -> int:
    """pretty_midi's key number: 0..11 major keys from C, 12..23 minor."""
    return PITCH_NAMES.index(tonic) + 12 * (mode == "minor")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def voice_of_notes(notes: np.ndarray, voices: int = 4) -> np.ndarray:
    """(N,) voice index per note, 0 = highest: a note's rank (from the top) among the notes
    sounding when it starts, capped at the lowest voice."""
    ranks = np.zeros(len(notes), dtype=np.int64)
    for i, (pitch, start, _) in enumerate(notes):
        sounding = (notes[:, 1] <= start) & (notes[:, 2] > start)
        ranks[i] = int((notes[sounding, 0] > pitch).sum())
    return np.minimum(ranks, voices - 1)


def midi_bytes(clip: Clip, four_tracks: bool = False) -> bytes:
    """A Standard MIDI File for a clip: its tempo, program and velocity; one track, or one
    per voice (soprano, alto, tenor, bass by pitch order) with `four_tracks`."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=float(clip.tempo), resolution=480)
    beats, unit, _ = METRES[clip.metre]
    midi.time_signature_changes.append(pretty_midi.TimeSignature(beats, unit, 0.0))
    if clip.key is not None:
        midi.key_signature_changes.append(pretty_midi.KeySignature(key_number(*clip.key), 0.0))
    seconds_per_step = 60.0 / float(clip.tempo) / STEPS_PER_QUARTER
    notes = clip.notes()
    if four_tracks:
        voice = voice_of_notes(notes)
        tracks = [pretty_midi.Instrument(clip.program, name=name) for name in VOICE_NAMES]
    else:
        voice = np.zeros(len(notes), dtype=np.int64)
        tracks = [pretty_midi.Instrument(clip.program, name="Latent Forge")]
    for (pitch, start, end), v in zip(notes, voice):
        tracks[v].notes.append(
            pretty_midi.Note(int(clip.velocity), int(pitch), start * seconds_per_step, end * seconds_per_step)
        )
    midi.instruments.extend(tracks)
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()
