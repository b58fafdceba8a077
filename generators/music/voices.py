"""Clips as four voice tracks: what the music model reads and writes.

A piano roll scored key by key lets a decoder sound any number of keys at once, which gives
clusters and clashes. Here each step holds one token per voice instead, so a chorale can have
at most four notes sounding and a tune only one (the other three voices rest):

    tokens (T, VOICES) int, per voice and sixteenth step one of
        REST            the voice is silent
        HOLD            the voice's note goes on sounding (after a rest it means rest)
        ONSET + i       the voice strikes pitch LOWEST_PITCH + i
    one-hot (TOKENS, T, VOICES) float: the model's input, scored by the `categorical`
        likelihood (a softmax over the tokens of each voice and step)

Voices are assigned by pitch order, the same way for training data, a user's MIDI and the JSB
benchmark (whose frames carry no parts): voice 0 is the highest note and the last voice the
lowest, so soprano and bass are kept; a step with fewer notes leaves the middle voices silent
(one note alone is the top voice); a note held on keeps the voice it started in; a step with
more than VOICES notes keeps the highest ones and the lowest.
Pitches outside LOWEST_PITCH..HIGHEST_PITCH are moved by octaves into it.
"""

from __future__ import annotations

import numpy as np

from .roll import KEYS, LOWEST, roll_to_notes

VOICES = 4
LOWEST_PITCH, HIGHEST_PITCH = 28, 96  # E1..C7: JSB spans 43..96; the tunes sit inside it
PITCHES = HIGHEST_PITCH - LOWEST_PITCH + 1
REST, HOLD, ONSET = 0, 1, 2
TOKENS = ONSET + PITCHES


def fold_pitch(pitch: int) -> int:
    """A MIDI pitch moved by octaves into LOWEST_PITCH..HIGHEST_PITCH."""
    while pitch < LOWEST_PITCH:
        pitch += 12
    while pitch > HIGHEST_PITCH:
        pitch -= 12
    return pitch


def voice_order(count: int, voices: int = VOICES) -> list[int]:
    """The voices that the `count` notes of a step take, highest note first."""
    if count >= voices:
        return list(range(voices))
    if count <= 1:
        return [0] * count
    return list(range(count - 1)) + [voices - 1]  # top notes from the top down, lowest to the bass


def assign_voices(pitches_desc: list[int], kept: dict[int, int], voices: int = VOICES) -> list[int]:
    """Voices for the notes of one step, given highest first. `kept` maps a note's position in
    that list to the voice it already sounds in (a held note stays in its voice); the others
    take free voices so that the order stays highest-first where it can, nearest to the voice
    `voice_order` would give them."""
    default = voice_order(len(pitches_desc), voices)
    chosen = dict(kept)
    for i in range(len(pitches_desc)):
        if i in chosen:
            continue
        above = max((v for j, v in chosen.items() if j < i), default=-1)
        below = min((v for j, v in chosen.items() if j > i), default=voices)
        free = [v for v in range(voices) if v not in chosen.values()]
        fitting = [v for v in free if above < v < below] or free
        chosen[i] = min(fitting, key=lambda v: (abs(v - default[i]), v))
    return [chosen[i] for i in range(len(pitches_desc))]


def notes_to_tokens(notes: np.ndarray, steps: int, voices: int = VOICES, holds: bool = True) -> np.ndarray:
    """(N, 3) pitch/start/end notes -> (steps, voices) tokens. A held note keeps its voice. With
    `holds` False (frames without onsets, as in the JSB benchmark) every step is assigned afresh
    by pitch order and a sounding voice is always its pitch's token."""
    tokens = np.full((steps, voices), REST, dtype=np.int64)
    owner = np.full((steps, voices), -1, dtype=np.int64)  # which note each voice sounds
    notes = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    for t in range(steps):
        sounding = np.flatnonzero((notes[:, 1] <= t) & (notes[:, 2] > t))
        if not len(sounding):
            continue
        ordered = sounding[np.argsort(-notes[sounding, 0], kind="stable")]
        if len(ordered) > voices:  # keep the highest voices - 1 notes and the lowest one
            ordered = np.concatenate([ordered[: voices - 1], ordered[-1:]])
        previous = {int(n): v for v, n in enumerate(owner[t - 1]) if n >= 0} if holds and t > 0 else {}
        kept = {i: previous[int(n)] for i, n in enumerate(ordered) if int(n) in previous}
        for index, voice in zip(ordered, assign_voices(notes[ordered, 0].tolist(), kept, voices)):
            owner[t, voice] = index
            held = int(index) in previous and previous[int(index)] == voice
            tokens[t, voice] = HOLD if held else ONSET + fold_pitch(int(notes[index, 0])) - LOWEST_PITCH
    return tokens


def tokens_to_notes(tokens: np.ndarray) -> np.ndarray:
    """(T, V) tokens -> (N, 3) pitch/start/end notes, sorted by start then pitch."""
    notes = []
    for voice in range(tokens.shape[1]):
        current = None  # [pitch, start, end] of the voice's sounding note
        for t, token in enumerate(tokens[:, voice]):
            if token == HOLD and current is not None:
                current[2] = t + 1
                continue
            if current is not None:
                notes.append(current)
                current = None
            if token >= ONSET:
                current = [LOWEST_PITCH + int(token) - ONSET, t, t + 1]
        if current is not None:
            notes.append(current)
    if not notes:
        return np.zeros((0, 3), dtype=np.int64)
    out = np.array(notes, dtype=np.int64)
    return out[np.lexsort((out[:, 0], out[:, 1]))]


def planes_to_tokens(active: np.ndarray, onset: np.ndarray, steps: int) -> np.ndarray:
    """A clip's (T, 88) planes -> (steps, VOICES) tokens (cut or padded with rests)."""
    notes = roll_to_notes(active, onset)
    notes = notes[notes[:, 1] < steps]
    notes[:, 2] = np.minimum(notes[:, 2], steps)
    return notes_to_tokens(notes, steps)


def tokens_to_planes(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, V) tokens -> (active, onset) (T, 88) planes; two voices on one key merge."""
    steps = tokens.shape[0]
    active = np.zeros((steps, KEYS), dtype=bool)
    onset = np.zeros((steps, KEYS), dtype=bool)
    for pitch, start, end in tokens_to_notes(tokens):
        key = pitch - LOWEST
        if 0 <= key < KEYS:
            active[start:end, key] = True
            onset[start, key] = True
    return active, onset


def one_hot(tokens: np.ndarray) -> np.ndarray:
    """(..., T, V) tokens -> (..., TOKENS, T, V) float32, the model's layout."""
    out = np.eye(TOKENS, dtype=np.float32)[tokens]  # (..., T, V, TOKENS)
    return np.moveaxis(out, -1, -3)


def fold_pitches(pitches: np.ndarray) -> np.ndarray:
    """`fold_pitch` of every entry of an int array."""
    low = pitches < LOWEST_PITCH
    pitches = np.where(low, pitches + 12 * ((LOWEST_PITCH - pitches + 11) // 12), pitches)
    high = pitches > HIGHEST_PITCH
    return np.where(high, pitches - 12 * ((pitches - HIGHEST_PITCH + 11) // 12), pitches)


def transpose_tokens(tokens: np.ndarray, shift: int) -> np.ndarray:
    """Every pitch token moved by `shift` semitones, folded by octaves into the range."""
    pitched = tokens >= ONSET
    moved = fold_pitches(tokens - ONSET + LOWEST_PITCH + shift) - LOWEST_PITCH + ONSET
    return np.where(pitched, moved, tokens)


def window_from(tokens: np.ndarray, start: int, length: int) -> np.ndarray:
    """tokens[start:start+length] as a clip that opens there hears them: a note held over
    `start` is struck at it (its onset looked up before `start`), as every training window opens."""
    out = tokens[start : start + length].copy()
    for voice in np.flatnonzero(out[0] == HOLD):
        back = start - 1
        while back > 0 and tokens[back, voice] == HOLD:
            back -= 1
        out[0, voice] = tokens[back, voice] if back >= 0 and tokens[back, voice] >= ONSET else REST
    return out
