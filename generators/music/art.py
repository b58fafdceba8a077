"""The piano-roll picture of a clip, drawn with numpy (no plotting library)."""

from __future__ import annotations

import numpy as np

from .roll import KEYS, LOWEST, Clip

STEP_PX, KEY_PX = 8, 4
BLACK_KEYS = {1, 3, 6, 8, 10}  # pitch classes of the black keys
WHITE_ROW, BLACK_ROW, C_LINE = (246, 244, 238), (228, 226, 220), (190, 186, 176)
BEAT_LINE, BAR_LINE = (212, 208, 200), (120, 116, 108)
NOTE, HEAD = (46, 134, 171), (18, 64, 94)


def piano_roll_picture(clip: Clip) -> np.ndarray:
    """(88*4, T*8, 3) uint8: high keys at the top; each note a bar from onset to release,
    its first pixels dark so repeated notes read as separate, a 1 px gap at its end."""
    width, height = clip.steps * STEP_PX, KEYS * KEY_PX
    image = np.empty((height, width, 3), dtype=np.uint8)
    for key in range(KEYS):
        row = height - (key + 1) * KEY_PX
        pc = (key + LOWEST) % 12
        image[row : row + KEY_PX] = BLACK_ROW if pc in BLACK_KEYS else WHITE_ROW
        if pc == 0:
            image[row + KEY_PX - 1] = C_LINE
    image[:, :: 4 * STEP_PX] = BEAT_LINE
    image[:, :: 16 * STEP_PX] = BAR_LINE
    for pitch, start, end in clip.notes():
        top = height - (pitch - LOWEST + 1) * KEY_PX
        left, right = start * STEP_PX, end * STEP_PX - 1
        image[top : top + KEY_PX - 1, left:right] = NOTE
        image[top : top + KEY_PX - 1, left : left + 2] = HEAD
    return image
