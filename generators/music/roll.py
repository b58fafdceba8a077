"""Piano rolls: the `Clip` asset, notes <-> two-plane rolls, and key/mode estimation.

A clip is 4 bars of 4/4 at 16 steps a bar, 88 keys (A0..C8, MIDI 21..108). Shapes:
    active (64, 88) bool  a key sounds during the step
    onset  (64, 88) bool  a note starts on the step (so a repeated note is two notes,
                          and a held note is one)
    notes  (N, 3) int     pitch (MIDI), start step, end step (exclusive)
Nothing here knows files or models: MIDI lives in `midi`, audio in `audio`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LOWEST, KEYS = 21, 88  # A0 and the number of piano keys
STEPS_PER_BAR, BARS = 16, 4
STEPS = STEPS_PER_BAR * BARS  # 64 sixteenth-note steps
STEPS_PER_QUARTER = 4
# The metres a clip may be in: (beats, beat unit, sixteenth steps a bar). A clip is 4 bars,
# so 3/4 and 6/8 clips are 48 steps; 2/4 and 2/2 music is read as 4/4 (two bars make one).
METRES = {"4/4": (4, 4, 16), "3/4": (3, 4, 12), "6/8": (6, 8, 12)}


@dataclass(eq=False)
class Clip:
    """A short song as two boolean planes plus what export needs (tempo, program, velocity)."""

    active: np.ndarray  # (T, 88) bool
    onset: np.ndarray  # (T, 88) bool, only where active
    tempo: float = 100.0  # beats (quarter notes) per minute
    program: int = 0  # General MIDI program, 0 = acoustic grand piano
    velocity: int = 80
    dropped: tuple[str, ...] = field(default_factory=tuple)  # what reading a file left out
    metre: str = "4/4"  # a key of METRES: bar lines, and the MIDI time signature
    key: tuple[str, str] | None = None  # (tonic, "major"|"minor") for the MIDI key signature; None: unknown
    heard_in: str | None = None  # the tonic the model hears it in (moved to C from); None: its own key estimate

    @property
    def steps(self) -> int:
        return self.active.shape[0]

    @property
    def steps_per_bar(self) -> int:
        return METRES[self.metre][2]

    def notes(self) -> np.ndarray:
        """(N, 3) pitch, start, end (steps), sorted by start then pitch."""
        return roll_to_notes(self.active, self.onset)

    def planes(self) -> np.ndarray:
        """(2, T, 88) float32: active then onset."""
        return np.stack([self.active, self.onset]).astype(np.float32)


def notes_to_roll(notes: np.ndarray, steps: int = STEPS) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) pitch/start/end notes, already inside the clip and the key range -> (active, onset).

    Overlapping notes of one pitch merge into the active plane; each keeps its onset."""
    active = np.zeros((steps, KEYS), dtype=bool)
    onset = np.zeros((steps, KEYS), dtype=bool)
    for pitch, start, end in np.asarray(notes, dtype=np.int64).reshape(-1, 3):
        key = pitch - LOWEST
        active[start : max(end, start + 1), key] = True
        onset[start, key] = True
    return active, onset


def consistent(active: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Onsets only where a key is active, and one wherever a key starts sounding: (T, 88)."""
    previous = np.zeros_like(active)
    previous[1:] = active[:-1]
    return active & (onset | ~previous)


def roll_to_notes(active: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Two planes -> (N, 3) notes. A note starts at an onset (or where a key starts sounding)
    and lasts while the key stays active without a new onset."""
    starts = consistent(active, onset)
    notes = []
    for key in np.flatnonzero(active.any(axis=0)):
        column, begins = active[:, key], np.flatnonzero(starts[:, key])
        for begin in begins:
            end = begin + 1
            while end < len(column) and column[end] and not starts[end, key]:
                end += 1
            notes.append((key + LOWEST, begin, end))
    if not notes:
        return np.zeros((0, 3), dtype=np.int64)
    out = np.array(notes, dtype=np.int64)
    return out[np.lexsort((out[:, 0], out[:, 1]))]


def empty_clip(steps: int = STEPS) -> Clip:
    return Clip(np.zeros((steps, KEYS), bool), np.zeros((steps, KEYS), bool))


# --- key and mode: Krumhansl-Schmuckler with the Krumhansl-Kessler profiles -------------

MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
TONIC_LABELS = tuple(name.lower() for name in PITCH_NAMES)  # the key condition's labels, as conditions compare them


def pitch_class_histogram(active: np.ndarray) -> np.ndarray:
    """(..., T, 88) active plane(s) -> (..., 12) sounding steps per pitch class."""
    per_key = active.sum(axis=-2).astype(np.float64)  # (..., 88)
    classes = (np.arange(KEYS) + LOWEST) % 12
    hist = np.zeros(per_key.shape[:-1] + (12,))
    for pc in range(12):
        hist[..., pc] = per_key[..., classes == pc].sum(axis=-1)
    return hist


def key_profiles() -> np.ndarray:
    """(24, 12) the 12 major then 12 minor key profiles, centred and of unit length, so a
    dot product with a centred unit histogram is their Pearson correlation."""
    profiles = np.stack([np.roll(p, k) for p in (MAJOR_PROFILE, MINOR_PROFILE) for k in range(12)])
    profiles = profiles - profiles.mean(axis=1, keepdims=True)
    return profiles / np.linalg.norm(profiles, axis=1, keepdims=True)


def _key_scores(hist: np.ndarray) -> np.ndarray:
    """(..., 12) histograms -> (..., 24) correlation with the 12 major then 12 minor keys."""
    centred = hist - hist.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(centred, axis=-1, keepdims=True)
    return (centred / np.where(norm > 0, norm, 1.0)) @ key_profiles().T


def estimate_key(active: np.ndarray) -> tuple[str, str] | None:
    """(tonic name, "major"|"minor") by Krumhansl-Schmuckler on duration-weighted pitch
    classes, or None for a silent roll."""
    hist = pitch_class_histogram(active)
    if hist.sum() == 0:
        return None
    best = int(np.argmax(_key_scores(hist)))
    return PITCH_NAMES[best % 12], ("major", "minor")[best // 12]


def estimate_modes(active: np.ndarray) -> np.ndarray:
    """(N, T, 88) active planes -> (N,) 0 major / 1 minor (silent rolls count as major)."""
    return (np.argmax(_key_scores(pitch_class_histogram(active)), axis=-1) >= 12).astype(np.int64)
