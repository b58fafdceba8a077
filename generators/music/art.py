"""The piano-roll picture of a clip, drawn with numpy (no plotting library): a keyboard strip at
the left edge (white and black keys, "C4"-style labels at each C, in a tiny built-in bitmap
font), then the roll, with a bar line every bar of the clip's metre and a beat line every beat.

The roll starts KEYBOARD_PX pixels from the left edge and each step is STEP_PX wide, so a
playhead a fraction f of the way through a clip sits at column `playhead_x(width, f)`.
"""

from __future__ import annotations

import numpy as np

from .roll import KEYS, LOWEST, Clip

STEP_PX, KEY_PX = 8, 4
BLACK_KEYS = {1, 3, 6, 8, 10}  # pitch classes of the black keys
WHITE_ROW, BLACK_ROW, C_LINE = (246, 244, 238), (228, 226, 220), (190, 186, 176)
BEAT_LINE, BAR_LINE = (212, 208, 200), (120, 116, 108)
NOTE, HEAD = (46, 134, 171), (18, 64, 94)

# The keyboard strip: a label column, then the keys (black keys reach LABEL_PX + BLACK_KEY_PX).
LABEL_PX, KEYS_PX, BLACK_KEY_PX = 16, 20, 12
KEYBOARD_PX = LABEL_PX + KEYS_PX  # the roll's first column: the GUI's playhead starts here
LABEL_BACK, LABEL_INK = (58, 56, 52), (240, 238, 232)
WHITE_KEY, BLACK_KEY, KEY_EDGE = (252, 252, 250), (30, 30, 32), (150, 146, 138)
GLYPH_SCALE = 2  # each font pixel is 2x2 picture pixels: labels 6x10 px a character

# A 3x5 bitmap font for the labels: "C" and the octave digits.
GLYPHS = {
    "C": ("###", "#..", "#..", "#..", "###"),
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", ".#.", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
}


def beat_steps(clip: Clip) -> int:
    """Steps a beat: a quarter (4) in x/4, a dotted quarter (6) in compound x/8 such as 6/8."""
    beats, unit = (int(part) for part in clip.metre.split("/"))
    unit_steps = max(16 // unit, 1)  # sixteenth steps in one beat unit
    return 3 * unit_steps if unit == 8 and beats % 3 == 0 else unit_steps


def pitch_name(pitch: int) -> str:
    """ "C4" for MIDI 60 (only Cs are labelled)."""
    return f"C{pitch // 12 - 1}"


def draw_text(image: np.ndarray, text: str, left: int, bottom: int, colour) -> None:
    """Draw `text` in the bitmap font with its bottom-left pixel at (bottom - 1, left), clipped."""
    height = 5 * GLYPH_SCALE
    for index, char in enumerate(text):
        glyph = np.array([[c == "#" for c in row] for row in GLYPHS[char]])
        mask = np.kron(glyph, np.ones((GLYPH_SCALE, GLYPH_SCALE), dtype=bool))
        x, y = left + index * 4 * GLYPH_SCALE, bottom - height
        top, cut = max(y, 0), max(-y, 0)
        region = image[top : y + height, x : x + mask.shape[1]]
        region[mask[cut : cut + region.shape[0], : region.shape[1]]] = colour


def keyboard_strip(height: int) -> np.ndarray:
    """(height, KEYBOARD_PX, 3): a label column naming each C, then the keys, high keys at the top."""
    strip = np.empty((height, KEYBOARD_PX, 3), dtype=np.uint8)
    strip[:, :LABEL_PX] = LABEL_BACK
    strip[:, LABEL_PX:] = WHITE_KEY
    for key in range(KEYS):
        row, pitch = height - (key + 1) * KEY_PX, key + LOWEST
        pc = pitch % 12
        if pc in BLACK_KEYS:
            strip[row : row + KEY_PX, LABEL_PX : LABEL_PX + BLACK_KEY_PX] = BLACK_KEY
        if pc in (0, 5):  # the edge between two white keys (B|C, E|F) under C and F
            strip[row + KEY_PX - 1, LABEL_PX:] = KEY_EDGE
        if pc == 0:
            draw_text(strip, pitch_name(pitch), 1, max(row + KEY_PX, 5 * GLYPH_SCALE), LABEL_INK)  # C8: inside
    strip[:, -1] = KEY_EDGE
    return strip


def playhead_x(width: int, fraction: float) -> float:
    """The picture column of a playhead `fraction` (0..1) of the way through the clip drawn in a
    picture `width` px wide: the keyboard strip's right edge at 0, the picture's right edge at 1."""
    return KEYBOARD_PX + min(max(float(fraction), 0.0), 1.0) * (width - KEYBOARD_PX)


def piano_roll_picture(clip: Clip) -> np.ndarray:
    """(88*4, KEYBOARD_PX + T*8, 3) uint8: the keyboard strip, then the roll, high keys at the top;
    each note a bar from onset to release, its first pixels dark so repeated notes read as separate,
    a 1 px gap at its end. A bar line every `clip.steps_per_bar` steps, a beat line every beat."""
    width, height = clip.steps * STEP_PX, KEYS * KEY_PX
    image = np.empty((height, width, 3), dtype=np.uint8)
    for key in range(KEYS):
        row = height - (key + 1) * KEY_PX
        pc = (key + LOWEST) % 12
        image[row : row + KEY_PX] = BLACK_ROW if pc in BLACK_KEYS else WHITE_ROW
        if pc == 0:
            image[row + KEY_PX - 1] = C_LINE
    image[:, :: beat_steps(clip) * STEP_PX] = BEAT_LINE
    image[:, :: clip.steps_per_bar * STEP_PX] = BAR_LINE
    for pitch, start, end in clip.notes():
        top = height - (pitch - LOWEST + 1) * KEY_PX
        left, right = start * STEP_PX, end * STEP_PX - 1
        image[top : top + KEY_PX - 1, left:right] = NOTE
        image[top : top + KEY_PX - 1, left : left + 2] = HEAD
    return np.concatenate([keyboard_strip(height), image], axis=1)
