"""Level quality metrics on hand-made grids: broken pipes, novelty and tile-pattern KL."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import LEVELS

from generators.levels.domain import Level
from generators.levels.metrics import broken_pipe_cells, broken_pipe_rate, novelty, pattern_counts, tile_pattern_kl


def grid(domain, *rows: str) -> np.ndarray:
    """(1, H, W) vocabulary indices from rows of tile characters."""
    return domain.indices(Level(rows))[None]


def test_a_well_formed_pipe_is_not_broken(domain, legend):
    pipe = grid(domain, "------", "--<>--", "--[]--", "--[]--", "XXXXXX")
    assert not broken_pipe_cells(pipe, legend).any()


def test_pipes_cut_by_the_window_edge_count_as_whole(domain, legend):
    cut = grid(domain, "----<", "----[", "XXXXX")  # the right half lies beyond the window
    assert not broken_pipe_cells(cut, legend).any()


def test_a_half_pipe_is_flagged_cell_by_cell(domain, legend):
    half = grid(domain, "------", "--<---", "--[---", "XXXXXX")
    broken = broken_pipe_cells(half, legend)[0]
    assert broken.sum() == 2
    assert broken[1, 2] and broken[2, 2]  # the cap and the body lack their right partners


def test_a_floating_pipe_body_is_flagged(domain, legend):
    floating = grid(domain, "------", "--[]--", "------", "XXXXXX")
    assert broken_pipe_cells(floating, legend)[0].sum() == 2


def test_a_pipe_hanging_from_a_ceiling_is_fine(domain, legend):
    ceiling = grid(domain, "XXXXXX", "--[]--", "--<>--", "------", "XXXXXX")
    assert not broken_pipe_cells(ceiling, legend).any()


def test_broken_pipe_rate_counts_grids_with_any_broken_tile(domain, legend):
    good = grid(domain, "--<>--", "--[]--", "XXXXXX")
    bad = grid(domain, "--<---", "--[]--", "XXXXXX")
    assert broken_pipe_rate(np.concatenate([good, bad, good, good]), legend) == 0.25
    assert broken_pipe_rate(np.zeros((0, 3, 6), dtype=np.int64), legend) == 0.0


def training_windows(domain) -> np.ndarray:
    """(52, 14, 28): every window of the four fixture levels."""
    return np.concatenate([domain.windows(Level(tuple(rows))) for rows in LEVELS.values()])


def test_the_fixture_levels_have_no_broken_pipes(domain, legend):
    assert broken_pipe_rate(training_windows(domain), legend) == 0.0


def test_novelty_is_zero_for_a_training_window(domain):
    train = training_windows(domain)
    assert np.array_equal(novelty(train[[0, 17, 40]], train, len(domain.chars)), [0, 0, 0])


def test_novelty_counts_the_cells_changed_from_the_nearest_window(domain):
    train = training_windows(domain)
    changed = train[[5]].copy()
    changed[0, 0, 0] = domain.chars.index("Q")  # a used block in the top-left sky: in no window
    assert novelty(changed, train, len(domain.chars)).tolist() == [1.0]
    changed[0, 0, 1:4] = domain.chars.index("Q")
    assert novelty(changed, train, len(domain.chars)).tolist() == [4.0]


def test_novelty_chunks_give_the_same_answer(domain):
    train = training_windows(domain)
    rng = np.random.default_rng(0)
    samples = rng.integers(0, len(domain.chars), (7, 14, 28))
    assert np.array_equal(novelty(samples, train, 11, chunk=2), novelty(samples, train, 11))


def test_pattern_counts_count_every_2x2_position():
    grids = np.array([[[0, 0, 1], [0, 0, 1]]])  # one 2×3 grid: two 2×2 windows
    counts = pattern_counts(grids, tiles=2)
    assert sum(counts.values()) == 2
    assert counts == {0b0000: 1, 0b0101: 1}  # codes read the window row by row, base `tiles`


def test_tile_pattern_kl_is_zero_for_identical_sets(domain):
    train = training_windows(domain)
    assert tile_pattern_kl(train, train, len(domain.chars)) == pytest.approx(0.0, abs=1e-12)
    shuffled = train[np.random.default_rng(1).permutation(len(train))]
    assert tile_pattern_kl(train, shuffled, len(domain.chars)) == pytest.approx(0.0, abs=1e-12)


def test_tile_pattern_kl_is_positive_for_different_sets(domain):
    train = training_windows(domain)
    all_ground = np.zeros_like(train[:5])  # index 0 is "X"
    noise = np.random.default_rng(0).integers(0, 11, train[:5].shape)
    near = tile_pattern_kl(train, train[:26], len(domain.chars))
    far = tile_pattern_kl(train, all_ground, len(domain.chars))
    assert 0 < near < far
    assert tile_pattern_kl(train, noise, len(domain.chars)) > near
