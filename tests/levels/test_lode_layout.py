"""Lode Runner layout figures (`levels.metrics.lode_runner_layout`), which `eval levels` gives for the
training, held-out and generated levels alike: ladder runs and gold placement on hand-made screens
whose figures are counted by hand here."""

from __future__ import annotations

import numpy as np
from test_lode_runner import LODE_LEGEND

from generators.levels.metrics import LADDER_BINS, lode_runner_layout, share_overlap

CHARS = list(LODE_LEGEND)


def grid(*rows: str) -> np.ndarray:
    return np.array([[CHARS.index(c) for c in row] for row in rows])


def test_ladder_runs_and_gold_placement_are_counted():
    level = grid(
        "G..#..",  # gold on the top row, over a brick: resting
        "bb.#.#",  # a 5-tile ladder in column 3, a 1-tile fragment in column 5
        "bGb#..",  # gold between bricks, brick above and below: sealed
        "bbb#.G",  # gold over nothing: hanging
        "B.B#..",
        "BBBBBB",
    )
    figures = lode_runner_layout(LODE_LEGEND, CHARS, level[None])
    assert figures["ladders_per_level"] == 2 and figures["ladder_mean_length"] == 3.0
    assert figures["ladder_fragments_1_2"] == 0.5
    assert figures["ladder_length_shares"] == {"1": 0.5, "2": 0.0, "3-4": 0.0, "5-8": 0.5, "9+": 0.0}
    assert figures["gold_per_level"] == 3
    assert figures["gold_resting"] == 2 / 3  # the top gold on brick, the sealed one on brick
    assert figures["gold_sealed"] == 1 / 3


def test_gold_at_the_map_s_edge_counts_the_edge_as_a_wall_and_the_bottom_row_as_a_floor():
    figures = lode_runner_layout(LODE_LEGEND, CHARS, grid("BB", "BG")[None])
    assert figures["gold_resting"] == 1.0 and figures["gold_sealed"] == 1.0


def test_overlap_of_ladder_lengths():
    a = {f"{i}": share for i, share in enumerate((0.5, 0.5, 0.0, 0.0, 0.0))}
    b = {f"{i}": share for i, share in enumerate((0.0, 0.5, 0.5, 0.0, 0.0))}
    assert share_overlap(a, a) == 1.0 and share_overlap(a, b) == 0.5 and len(LADDER_BINS) == 5
