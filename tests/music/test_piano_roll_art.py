"""The piano-roll picture: its keyboard strip (white and black keys, a label at each C), bar
lines from the clip's metre (3/4 and 6/8 bars are 12 steps, 4/4 bars 16), beat lines every beat
(a dotted quarter in 6/8), the playhead's column mapping, and the PNG export drawing the same."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from generators.music import art
from generators.music.art import (
    BAR_LINE,
    BEAT_LINE,
    BLACK_KEY,
    BLACK_KEY_PX,
    GLYPH_SCALE,
    GLYPHS,
    KEY_PX,
    KEYBOARD_PX,
    LABEL_INK,
    LABEL_PX,
    STEP_PX,
    WHITE_KEY,
    beat_steps,
    piano_roll_picture,
    playhead_x,
)
from generators.music.domain import MusicDomain
from generators.music.roll import KEYS, LOWEST, Clip, empty_clip, notes_to_roll


def clip_in(metre: str, bars: int = 4, notes=()) -> Clip:
    steps = bars * {"4/4": 16, "3/4": 12, "6/8": 12}[metre]
    active, onset = notes_to_roll(np.array(notes, dtype=np.int64).reshape(-1, 3), steps)
    return Clip(active, onset, metre=metre)


def column_colour(picture: np.ndarray, column: int) -> tuple:
    """The colour of a roll column at a row no note and no C line touch (D4's top pixel)."""
    row = picture.shape[0] - (62 - LOWEST + 1) * KEY_PX
    return tuple(int(v) for v in picture[row, column])


def roll_column(step: int) -> int:
    return KEYBOARD_PX + step * STEP_PX


@pytest.mark.parametrize(
    ("metre", "bar", "beat"),
    [("4/4", 16, 4), ("3/4", 12, 4), ("6/8", 12, 6)],
)
def test_bar_lines_follow_the_metre_and_beat_lines_every_beat(metre, bar, beat):
    clip = clip_in(metre)
    assert clip.steps_per_bar == bar and beat_steps(clip) == beat
    picture = piano_roll_picture(clip)
    assert picture.shape == (KEYS * KEY_PX, KEYBOARD_PX + clip.steps * STEP_PX, 3)
    for step in range(clip.steps):
        expected = BAR_LINE if step % bar == 0 else BEAT_LINE if step % beat == 0 else None
        colour = column_colour(picture, roll_column(step))
        if expected is None:
            assert colour not in (BAR_LINE, BEAT_LINE), (metre, step)
        else:
            assert colour == expected, (metre, step)


def test_three_four_and_four_four_differ_at_bar_positions():
    three, four = piano_roll_picture(clip_in("3/4", bars=4)), piano_roll_picture(clip_in("4/4", bars=3))
    assert three.shape == four.shape  # both 48 steps
    assert column_colour(three, roll_column(12)) == BAR_LINE and column_colour(four, roll_column(12)) == BEAT_LINE
    assert column_colour(four, roll_column(16)) == BAR_LINE and column_colour(three, roll_column(16)) == BEAT_LINE


def test_a_long_piece_has_a_bar_line_at_every_bar():
    clip = clip_in("3/4", bars=64)  # 768 steps
    picture = piano_roll_picture(clip)
    assert picture.shape[1] == KEYBOARD_PX + 768 * STEP_PX
    bars = [step // 12 for step in range(clip.steps) if column_colour(picture, roll_column(step)) == BAR_LINE]
    assert bars == list(range(64))


def test_keyboard_strip_has_black_keys_where_a_piano_does():
    picture = piano_roll_picture(empty_clip())
    height = picture.shape[0]
    for key in range(KEYS):
        pitch, row = key + LOWEST, height - (key + 1) * KEY_PX + 1  # a row inside the key, off its edge line
        inner = tuple(int(v) for v in picture[row, LABEL_PX + BLACK_KEY_PX // 2])
        outer = tuple(int(v) for v in picture[row, LABEL_PX + BLACK_KEY_PX + 2])
        black = pitch % 12 in (1, 3, 6, 8, 10)
        assert inner == (BLACK_KEY if black else WHITE_KEY), pitch
        assert outer == WHITE_KEY, pitch  # black keys are shorter than white ones


def expected_label(text: str) -> np.ndarray:
    """The ink mask of `text` as the strip draws it (GLYPH_SCALE, one blank font column between)."""
    glyphs = [np.array([[c == "#" for c in row] for row in GLYPHS[char]]) for char in text]
    gap = np.zeros((5, 1), dtype=bool)
    mask = np.concatenate([part for glyph in glyphs for part in (glyph, gap)][:-1], axis=1)
    return np.kron(mask, np.ones((GLYPH_SCALE, GLYPH_SCALE), dtype=bool))


@pytest.mark.parametrize("octave", [1, 2, 3, 4, 5, 6, 7])
def test_each_c_is_labelled_with_its_octave(octave):
    picture = piano_roll_picture(empty_clip())
    pitch = 12 * (octave + 1)  # C4 = MIDI 60
    bottom = picture.shape[0] - (pitch - LOWEST) * KEY_PX  # the C row's bottom edge
    mask = expected_label(f"C{octave}")
    region = picture[bottom - mask.shape[0] : bottom, 1 : 1 + mask.shape[1]]
    ink = np.all(region == LABEL_INK, axis=-1)
    assert np.array_equal(ink, mask), f"C{octave}"


def test_labels_differ_between_octaves_and_c8_stays_inside():
    picture = piano_roll_picture(empty_clip())
    labels = picture[:, :LABEL_PX]
    ink_rows = np.flatnonzero(np.all(labels == LABEL_INK, axis=-1).any(axis=1))
    assert ink_rows.min() == 0  # C8 at the very top, moved down to fit
    assert not np.array_equal(expected_label("C4"), expected_label("C5"))
    # Nothing but the label colour and its backdrop in the label column.
    colours = {tuple(c) for c in labels.reshape(-1, 3).tolist()}
    assert colours == {tuple(LABEL_INK), tuple(art.LABEL_BACK)}


def test_playhead_maps_zero_to_the_roll_start_and_one_to_the_right_edge():
    width = piano_roll_picture(clip_in("3/4")).shape[1]
    assert playhead_x(width, 0.0) == KEYBOARD_PX
    assert playhead_x(width, 1.0) == width
    assert playhead_x(width, 0.25) == roll_column(12)  # a quarter of 4 bars of 3/4: bar 2's line
    assert playhead_x(width, -1.0) == KEYBOARD_PX and playhead_x(width, 3.0) == width


def test_notes_sit_right_of_the_keyboard():
    clip = clip_in("4/4", notes=[(60, 0, 4)])
    picture = piano_roll_picture(clip)
    row = picture.shape[0] - (60 - LOWEST + 1) * KEY_PX
    assert tuple(picture[row, KEYBOARD_PX]) == art.HEAD
    assert tuple(picture[row, KEYBOARD_PX + 3 * STEP_PX]) == art.NOTE
    assert tuple(picture[row, KEYBOARD_PX + 4 * STEP_PX]) != art.NOTE


def test_png_export_draws_the_same_picture(tmp_path):
    clip = clip_in("6/8", notes=[(60, 0, 6), (67, 6, 12)])
    (path,) = MusicDomain().write(clip, tmp_path / "a.png")
    with Image.open(path) as image:
        written = np.asarray(image.convert("RGB"))
    assert np.array_equal(written, piano_roll_picture(clip))
