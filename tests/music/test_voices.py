"""Clips as four voice tokens (`generators.music.voices`): voice assignment by pitch order,
held notes keeping their voice, exact round trips for textures of up to four voices, the
JSB frames' canonical assignment, and MIDI time and key signatures."""

from __future__ import annotations

import io

import numpy as np
import pretty_midi
import pytest

from generators.music.jsb import frame_tokens
from generators.music.midi import midi_bytes
from generators.music.roll import KEYS, LOWEST, Clip, notes_to_roll
from generators.music.voices import (
    HOLD,
    LOWEST_PITCH,
    ONSET,
    REST,
    VOICES,
    assign_voices,
    fold_pitch,
    notes_to_tokens,
    tokens_to_notes,
    voice_order,
    window_from,
)


def pitch_of(token: int) -> int:
    return LOWEST_PITCH + token - ONSET


def test_voice_order_keeps_soprano_and_bass():
    assert voice_order(4) == [0, 1, 2, 3]
    assert voice_order(3) == [0, 1, 3]  # the tenor rests
    assert voice_order(2) == [0, 3]
    assert voice_order(1) == [0]  # a tune is the top voice
    assert voice_order(0) == []


def test_a_held_note_keeps_its_voice_while_others_come_and_go():
    # A bass C3 held for 16 steps; a chord above it for the first 8, nothing after.
    notes = np.array([[48, 0, 16], [72, 0, 8], [67, 0, 8], [64, 0, 8]])
    tokens = notes_to_tokens(notes, 16)
    assert pitch_of(tokens[0, 3]) == 48 and (tokens[1:16, 3] == HOLD).all()  # one bass note, never struck again
    assert (tokens[8:, :3] == REST).all()
    assert tokens_to_notes(tokens).tolist() == sorted(notes.tolist(), key=lambda n: (n[1], n[0]))
    # Without holds (JSB frames) each step is assigned afresh: the lone note is the top voice.
    fresh = notes_to_tokens(notes, 16, holds=False)
    assert pitch_of(fresh[8, 0]) == 48 and fresh[8, 3] == REST


def test_new_notes_take_free_voices_in_pitch_order():
    # Soprano and bass are held; two new notes in between go to alto then tenor.
    assert assign_voices([72, 67, 64, 48], {0: 0, 3: 3}) == [0, 1, 2, 3]
    # A held alto (voice 1) with a new note above it: the new note takes the soprano.
    assert assign_voices([76, 67], {1: 1}) == [0, 1]


def test_four_voice_textures_round_trip_exactly():
    rng = np.random.default_rng(0)
    for _ in range(20):
        notes = []
        for voice, (low, high) in enumerate([(67, 79), (60, 72), (53, 65), (41, 55)]):  # SATB ranges, apart
            t = 0
            while t < 64:
                length = int(rng.integers(1, 8))
                if rng.random() < 0.85:
                    notes.append([int(rng.integers(low, high)), t, min(t + length, 64)])
                t += length
        notes = np.array(notes)
        active, onset = notes_to_roll(notes, 64)
        tokens = notes_to_tokens(notes, 64)
        back = tokens_to_notes(tokens)
        assert notes_to_roll(back, 64)[0].tolist() == active.tolist()
        assert notes_to_roll(back, 64)[1].tolist() == onset.tolist()


def test_more_than_four_notes_keep_the_top_three_and_the_bass():
    notes = np.array([[p, 0, 4] for p in (40, 52, 60, 64, 67, 72)])
    tokens = notes_to_tokens(notes, 4)
    assert [pitch_of(t) for t in tokens[0]] == [72, 67, 64, 40]


def test_pitches_fold_by_octaves_into_the_range():
    assert fold_pitch(20) == 32 and fold_pitch(100) == 88 and fold_pitch(60) == 60


def test_a_window_opens_with_the_note_held_over_its_start():
    notes = np.array([[60, 0, 10], [62, 10, 12]])
    tokens = notes_to_tokens(notes, 16)
    opened = window_from(tokens, 4, 8)
    assert pitch_of(opened[0, 0]) == 60 and (opened[1:6, 0] == HOLD).all() and pitch_of(opened[6, 0]) == 62


def test_jsb_frames_map_to_one_voice_assignment():
    roll = np.zeros((3, KEYS), dtype=bool)
    roll[0, [p - LOWEST for p in (72, 67, 64, 48)]] = True
    roll[1, [p - LOWEST for p in (71, 50)]] = True
    tokens = frame_tokens(roll)
    assert [pitch_of(t) for t in tokens[0]] == [72, 67, 64, 48]
    assert pitch_of(tokens[1, 0]) == 71 and tokens[1, 1] == tokens[1, 2] == REST and pitch_of(tokens[1, 3]) == 50
    assert (tokens[2] == REST).all() and tokens.shape == (3, VOICES)


@pytest.mark.parametrize("metre, signature", [("4/4", (4, 4)), ("3/4", (3, 4)), ("6/8", (6, 8))])
def test_midi_carries_time_and_key_signatures(metre, signature):
    active, onset = notes_to_roll(np.array([[62, 0, 4], [66, 4, 8]]), 48)
    clip = Clip(active, onset, 100.0, 0, metre=metre, key=("D", "minor"))
    midi = pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(clip)))
    (ts,) = midi.time_signature_changes
    assert (ts.numerator, ts.denominator) == signature
    (ks,) = midi.key_signature_changes
    assert pretty_midi.key_number_to_key_name(ks.key_number) == "D minor"


def test_a_whole_piece_is_read_up_to_a_cap_in_bars(tmp_path):
    """A stray note 5,000 bars late (pretty_midi refuses files much longer) is cut off and reported."""
    from test_music import MELODY, write_midi

    from generators.music.midi import MAX_PIECE_BARS, read_midi

    path = write_midi(tmp_path / "late.mid", MELODY + [(60, 16 * 5000, 16 * 5000 + 4)], tempo=240)
    clip = read_midi(path, steps=None)
    assert clip.steps == MAX_PIECE_BARS * 16
    assert any("after bar 1024" in note for note in clip.dropped)
