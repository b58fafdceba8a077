"""The Lode Runner agent on hand-made screens it must solve or refuse, and on the VGLC originals.

Tiles: `b` diggable brick, `B` stone, `.` empty, `#` ladder, `-` rope, `G` gold, `M` the spawn.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_lode_runner import LODE_LEGEND

from generators.levels.domain import Level, read_level
from generators.levels.lode_agent import is_lode_runner, solve

LEGEND = LODE_LEGEND  # VGLC's Lode Runner tiles
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "vglc" / "Lode_Runner"


def verdict(*rows: str):
    return solve(Level(tuple(rows)), LEGEND)


def test_gold_on_the_same_floor_is_walked_to():
    assert verdict("........", "M.....G.", "BBBBBBBB").solvable


def test_a_ladder_leads_up_to_gold_and_without_it_the_gold_is_out_of_reach():
    with_ladder = verdict("..G.....", "BBBB#...", "....#...", "M...#...", "BBBBBBBB")
    assert with_ladder.solvable
    without = verdict("..G.....", "BBBB....", "........", "M.......", "BBBBBBBB")
    assert not without.solvable and without.reason == "1 of 1 gold out of reach"


def test_a_rope_carries_the_runner_over_a_gap_he_could_not_walk():
    # Walking off the ledge drops him into the pit; hanging on the rope he reaches the far side.
    rows = ("M------...", "BB.....BGB", "BB.....BBB", "BBBBBBBBBB")
    assert verdict(*rows).solvable
    assert not verdict("M.........", "BB.....BGB", "BB.....BBB", "BBBBBBBBBB").solvable


def test_digging_a_brick_opens_the_way_down_but_stone_cannot_be_dug():
    assert verdict("M.......", "bbbbbbbb", "..G.....", "BBBBBBBB").solvable
    refused = verdict("M.......", "BBBBBBBB", "..G.....", "BBBBBBBB")
    assert not refused.solvable and refused.gold_reachable == 0


def test_a_staircase_digs_down_several_rows():
    assert verdict("M.......", "bbbbbbbb", "bbbbbbbb", "bbbbbbbb", "...G....", "BBBBBBBB").solvable


def test_gold_that_traps_the_runner_before_the_rest_is_unsolvable():
    # Each gold lies at the bottom of its own stone pit: either can be had, not both.
    rows = ("..M..", "B.B.B", "BGBGB", "BBBBB")
    result = verdict(*rows)
    assert result.gold_reachable == result.gold == 2
    assert not result.solvable and result.reason == "the gold cannot all be collected in one run"


def test_the_legend_is_recognised_by_its_tags():
    assert is_lode_runner(LEGEND)
    assert not is_lode_runner({"X": ["solid", "ground"], "-": ["passable", "empty"], "E": ["enemy"]})


@pytest.mark.skipif(not DATA.is_dir(), reason="the VGLC Lode Runner levels are not in ../shared/data")
def test_most_original_levels_are_solvable():
    legend = json.loads(next(DATA.glob("*.json")).read_text())["tiles"]
    levels = [read_level(p, legend) for p in sorted(DATA.glob("*.txt"))]
    verdicts = [solve(lv, legend).solvable for lv in levels if any("M" in row for row in lv.rows)]
    # Measured: 131 of 149 (VGLC lacks the hidden escape ladders; enemies and dig timing are not modelled).
    assert sum(verdicts) / len(verdicts) >= 0.85
