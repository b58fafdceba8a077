"""The music yardstick (`generators.music.metrics`) on clips built in code, where the right
figure is known: texture, the top voice's step, off-grid onsets, notes per bar, notes outside
the key, onset profiles, note F1, and the two-sample test telling clusters from four-part chords."""

from __future__ import annotations

import numpy as np
import pytest

from generators.music.metrics import note_f1, onset_profile, style_figures, two_sample_test
from generators.music.roll import Clip, notes_to_roll


def clip_of(notes, steps: int = 64, metre: str = "4/4") -> Clip:
    active, onset = notes_to_roll(np.array(notes, dtype=np.int64).reshape(-1, 3), steps)
    return Clip(active, onset, metre=metre)


def chorale(rng: np.random.Generator) -> Clip:
    """Four voices in C major, a chord every quarter note: I IV V I in some voicing each bar."""
    voicings = [
        [(72, 67, 64, 48), (72, 69, 65, 53), (71, 67, 62, 43), (72, 67, 64, 48)],
        [(76, 72, 67, 48), (77, 72, 69, 53), (74, 71, 67, 55), (72, 67, 64, 48)],
    ]
    notes = []
    for beat in range(16):
        for pitch in voicings[int(rng.integers(2))][beat % 4]:
            notes.append((pitch, beat * 4, beat * 4 + 4))
    return clip_of(notes)


def cluster(rng: np.random.Generator) -> Clip:
    """Six adjacent keys at a time, struck on odd sixteenths: what the piano-roll model gave."""
    notes = []
    for start in range(1, 64, 6):
        low = int(rng.integers(55, 70))
        notes += [(p, start, start + 5) for p in range(low, low + 6)]
    return clip_of(notes)


def test_texture_melody_rhythm_density_and_scale_figures():
    rng = np.random.default_rng(0)
    four = style_figures([chorale(rng) for _ in range(3)], "chorale")
    assert four["steps_with_4_notes"] == 1.0 and four["onsets_off_eighth_grid"] == 0.0
    assert four["notes_per_bar"] == 16.0 and four["notes_outside_key"] == 0.0
    crowded = style_figures([cluster(rng)], "chorale")
    assert crowded["steps_with_4_notes"] == 0.0 and crowded["onsets_off_eighth_grid"] > 0.5
    # A C major scale up in eighths with one F#: the top voice steps 1-2 semitones, 1 note in 9 is outside.
    scale = [60, 62, 64, 65, 66, 67, 69, 71, 72]
    tune = style_figures([clip_of([(p, 2 * i, 2 * i + 2) for i, p in enumerate(scale)])], "folk")
    assert tune["steps_with_at_most_1_note"] == 1.0
    assert tune["top_voice_mean_step"] == pytest.approx(np.mean(np.abs(np.diff(scale))))
    assert tune["notes_outside_key"] == pytest.approx(1 / 9) and tune["notes_per_bar"] == pytest.approx(9 / 4)


def test_onset_profile_follows_the_bar_of_the_metre():
    waltz = clip_of([(60, b * 12, b * 12 + 4) for b in range(4)], 48, "3/4")
    profile = onset_profile([waltz])
    assert len(profile) == 12 and profile[0] == 1.0


def test_note_f1_matches_pitch_and_onset():
    truth = [clip_of([(60, 0, 4), (64, 4, 8)])]
    assert note_f1(truth, truth)["f1"] == 1.0
    late = [clip_of([(60, 1, 4), (64, 4, 8)])]
    assert note_f1(truth, late)["f1"] == pytest.approx(0.5)


def test_the_two_sample_test_tells_clusters_from_chorales_and_not_chorales_from_chorales():
    rng = np.random.default_rng(1)
    real = [chorale(rng) for _ in range(240)]
    fakes = [cluster(rng) for _ in range(80)]
    caught = two_sample_test(fakes, real[:160], real[160:], seed=0, epochs=4)
    same = two_sample_test(real[200:], real[:160], real[160:200], seed=0, epochs=4)
    assert caught["accuracy"] > 0.9, caught
    assert 0.3 < same["accuracy"] < 0.7 and 0.3 < caught["real_against_real"] < 0.7, same
