"""Condition-faithful level decoding: off labels never appear, on labels do, pipes are whole, and
no structure the original levels lack survives (floating or capped pipes, pipe tops level with the
ground, enemies standing on nothing, lone ground tiles)."""

import numpy as np
import pytest
import torch

from generators.levels.decoding import constrained_grid
from generators.levels.domain import Level
from generators.levels.metrics import DEFECTS, broken_pipe_cells, defect_cells, defect_rates

SKY, GROUND = "-", "X"


def logits_for(domain, rows: list[str], boosts: dict[tuple[int, int, str], float] | None = None) -> torch.Tensor:
    """(1, T, H, W) logits whose argmax is `rows`, with optional extra logit per (y, x, char)."""
    idx = domain.indices(Level(tuple(rows)))
    logits = torch.nn.functional.one_hot(torch.from_numpy(idx), len(domain.chars)).float().movedim(-1, 0) * 4.0
    for (y, x, char), value in (boosts or {}).items():
        logits[domain.chars.index(char), y, x] += value
    return logits[None]


def flat_level(domain) -> list[str]:
    return [SKY * domain.width] * 13 + [GROUND * domain.width]


def count(level: Level, chars: str) -> int:
    return sum(row.count(c) for row in level.rows for c in chars)


def test_without_a_condition_decoding_is_the_plain_argmax(domain):
    rows = flat_level(domain)
    rows[12] = "E" + rows[12][1:]
    assert domain.from_output(logits_for(domain, rows))[0] == Level(tuple(rows))


def test_a_label_that_is_off_never_appears(domain):
    rows = flat_level(domain)
    rows[12] = "E" + "o" + rows[12][2:]
    logits = logits_for(domain, rows, {(12, 0, SKY): 2.0})  # sky is the runner-up under the enemy
    level = domain.from_output(logits, condition=["coin"])[0]
    assert count(level, "E") == 0 and count(level, "o") == 1
    assert level.rows[12][0] == SKY  # the enemy's cell falls back to its next most likely tile


def test_a_label_that_is_on_appears_where_it_costs_least(domain):
    rows = flat_level(domain)
    # The enemy is nowhere the argmax, but most likely at (12, 5).
    logits = logits_for(domain, rows, {(12, 5, "E"): 3.5, (3, 9, "E"): 1.0})
    assert count(domain.from_output(logits)[0], "E") == 0
    level = domain.from_output(logits, condition=["enemy"])[0]
    assert count(level, "E") == 1 and level.rows[12][5] == "E"


def test_a_requested_pipe_is_added_whole_and_standing_on_ground(domain):
    rows = flat_level(domain)
    # The network leans towards a pipe at columns 6-7, cap on row 11, but argmax says sky.
    boosts = {(11, 6, "<"): 3.0, (11, 7, ">"): 3.0, (12, 6, "["): 3.0, (12, 7, "]"): 3.0}
    logits = logits_for(domain, rows, boosts)
    assert count(domain.from_output(logits)[0], "<>[]") == 0
    level = domain.from_output(logits, condition=["pipe"])[0]
    grid = domain.indices(level)[None]
    assert not broken_pipe_cells(grid, domain.legend).any()
    assert level.rows[11][6:8] == "<>" and level.rows[12][6:8] == "[]" and level.rows[13][6:8] == "XX"
    assert count(level, "<>[]") == 4  # exactly one pipe


def test_half_pipes_are_repaired_away(domain):
    rows = flat_level(domain)
    rows[11] = rows[11][:4] + "<" + rows[11][5:]  # a cap without its right half
    rows[12] = rows[12][:4] + "[" + rows[12][5:]
    before = domain.indices(Level(tuple(rows)))[None]
    assert broken_pipe_cells(before, domain.legend).any()
    level = domain.from_output(logits_for(domain, rows), condition=[])[0]
    assert count(level, "<>[]") == 0


@pytest.mark.parametrize("seed", range(5))
def test_sampling_with_a_temperature_still_honours_the_condition(domain, seed):
    torch.manual_seed(seed)
    logits = torch.randn(4, len(domain.chars), domain.height, domain.width)
    rng = torch.Generator().manual_seed(seed)
    for level in domain.from_output(logits, output_temperature=1.0, rng=rng, condition=["enemy"]):
        grid = domain.indices(level)[None]
        assert count(level, "E") >= 1
        assert count(level, "o?QS") == 0  # coin, question block and breakable are off
        assert not broken_pipe_cells(grid, domain.legend).any()


def test_constrained_grid_is_the_argmax_when_nothing_is_asked(domain):
    rng = np.random.default_rng(0)
    log_probs = rng.standard_normal((len(domain.chars), 5, 7))
    # No pipe, enemy or ground tiles in the argmax -> nothing to repair, nothing to add.
    unsound = [domain.chars.index(c) for c in "<>[]EX"]
    log_probs[unsound] = -10
    grid = constrained_grid(log_probs, domain.legend, {})
    assert np.array_equal(grid, log_probs.argmax(axis=0))


# --- structural defects: measured the same way on any grid, and never decoded ---------------


def with_rows(domain, changes: dict[int, str]) -> list[str]:
    """The flat level with some rows replaced (each padded with sky to the window's width)."""
    rows = flat_level(domain)
    for y, text in changes.items():
        rows[y] = text.ljust(domain.width, SKY)
    return rows


EVERYTHING = ["enemy", "pipe", "coin", "breakable", "question-block"]  # decoded as the app does, all allowed
UNSOUND = {
    # name: (rows changed, the defect it must show)
    "floating pipe": ({6: "----<>", 7: "----[]"}, "pipe_floating"),
    "pipe top in the ground row": ({13: "XXXX<>XXXXXXXXXX"}, "pipe_top_at_ground_level"),
    "pipe capped by a block": ({10: "----XX", 11: "----<>", 12: "----[]"}, "pipe_capped_or_capless"),
    "pipe with no cap": ({11: "----[]", 12: "----[]"}, "pipe_capped_or_capless"),
    "floating enemy": ({5: "------E"}, "enemy_floating"),
    "lone ground tile": ({7: "---------X"}, "isolated_ground"),
}


@pytest.mark.parametrize("name", UNSOUND)
def test_each_defect_is_measured_and_never_decoded(domain, name):
    changes, defect = UNSOUND[name]
    rows = with_rows(domain, changes)
    grid = domain.indices(Level(tuple(rows)))[None]
    found = {kind: int(mask.sum()) for kind, mask in defect_cells(grid, domain.legend).items()}
    assert found[defect] >= 1, found  # the measure sees it...
    level = domain.from_output(logits_for(domain, rows), condition=EVERYTHING)[0]  # ...and decoding takes it out
    assert defect_rates(domain.indices(level)[None], domain.legend)[defect] == 0.0, level.rows


def test_a_floating_enemy_lands_on_the_ground_under_it(domain):
    level = domain.from_output(logits_for(domain, with_rows(domain, {5: "------E"})), condition=["enemy"])[0]
    assert level.rows[5][6] == SKY and level.rows[12][6] == "E"


def test_a_sound_level_has_no_defect_and_decodes_as_itself(domain):
    rows = with_rows(domain, {9: "---S?S", 11: "---------<>", 12: "--E------[]---o"})
    grid = domain.indices(Level(tuple(rows)))[None]
    assert all(mask.sum() == 0 for name, mask in defect_cells(grid, domain.legend).items() if name in DEFECTS[:5])
    assert domain.from_output(logits_for(domain, rows), condition=EVERYTHING)[0] == Level(tuple(rows))


def test_a_required_enemy_is_added_only_where_it_can_stand(domain):
    # The network's likeliest enemy cell is in mid-air; the next is on the ground.
    logits = logits_for(domain, flat_level(domain), {(4, 3, "E"): 3.9, (12, 9, "E"): 3.0})
    level = domain.from_output(logits, condition=["enemy"])[0]
    assert count(level, "E") == 1 and level.rows[12][9] == "E"
