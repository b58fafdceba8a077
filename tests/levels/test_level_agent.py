"""The Mario playability agent: hand-made levels it must pass or fail, and the original VGLC levels."""

from __future__ import annotations

from pathlib import Path

import pytest

from generators.core.errors import UserError
from generators.levels.agent import PlayResult, play
from generators.levels.domain import Level, find_legend, load_legend, read_level

LEGEND = {
    "X": ("solid", "ground"),
    "S": ("solid", "breakable"),
    "-": ("passable", "empty"),
    "o": ("coin", "passable"),
    "E": ("enemy", "hazard"),
    "^": ("hazard", "spikes"),
}
HEIGHT, WIDTH, GROUND = 14, 40, 13  # ground on the bottom row; Mario stands on row 12
VGLC = Path(__file__).resolve().parents[3] / "shared" / "data" / "vglc"

# Original levels the agent cannot complete, each with the reason (checked: they must stay failures).
KNOWN_FAILURES = {
    "SuperMarioBros2(J)-World1-2": "left through an exit pipe at column 172: "
    "a brick wall up to the ceiling blocks the rest",
    "SuperMarioBros2(J)-World4-2": "nothing to stand on after column 191 (the last 9 columns are empty): "
    "the exit is not in the map",
    "SuperMarioBros2(J)-World4-3": "crossed on moving lifts, which the VGLC map does not contain "
    "(21-column gap at column 23)",
}


def grid(width: int = WIDTH) -> list[list[str]]:
    """Flat ground: air above one row of solid ground."""
    return [["-"] * width for _ in range(HEIGHT - 1)] + [["X"] * width]


def level(cells: list[list[str]]) -> Level:
    return Level(tuple("".join(row) for row in cells))


def pit(cells, first: int, width: int) -> None:
    for col in range(first, first + width):
        cells[GROUND][col] = "-"


def wall(cells, col: int, height: int, width: int = 2) -> None:
    for row in range(GROUND - height, GROUND):
        for c in range(col, col + width):
            cells[row][c] = "X"


def tunnel(cells, first: int, last: int, rows: int = 1) -> None:
    """Solid from the top row down to a tunnel `rows` high along the ground, over columns first..last."""
    for row in range(GROUND - rows):
        for col in range(first, last + 1):
            cells[row][col] = "S"


def assert_legal_path(lv: Level, legend: dict, result: PlayResult, goal_columns: int = 3) -> None:
    """The path starts standing, moves one orthogonal cell at a time through free cells (enemies only
    from above, as a stomp) and ends standing: in the goal columns when the level is completable."""
    solid = {c for c, tags in legend.items() if "solid" in tags}
    enemy = {c for c, tags in legend.items() if "enemy" in tags and c not in solid}
    deadly = {c for c, tags in legend.items() if "hazard" in tags and c not in solid} - enemy

    def tile(row, col):
        return lv.rows[row][col] if 0 <= row < lv.height else "-"

    def standing(row, col):
        return row + 1 < lv.height and tile(row + 1, col) in solid and tile(row, col) not in solid

    path = result.path
    assert path and standing(*path[0]) and standing(*path[-1])
    for (r0, c0), (r1, c1) in zip(path, path[1:]):
        assert abs(r1 - r0) + abs(c1 - c0) == 1, f"jump from {(r0, c0)} to {(r1, c1)}"
    highest_footing = path[0][0]
    for i, (row, col) in enumerate(path):
        assert 0 <= col < lv.width and row < lv.height
        assert row >= highest_footing - 5, f"rose more than a running jump to {(row, col)}"
        if standing(row, col):
            highest_footing = min(highest_footing, row)
        assert tile(row, col) not in solid | deadly, f"path enters {tile(row, col)!r} at {(row, col)}"
        if tile(row, col) in enemy and tile(row + 1, col) in solid:
            assert i > 0 and path[i - 1] == (row - 1, col), f"walked into the enemy at {(row, col)}"
    assert result.furthest_column == path[-1][1]
    if result.completable:
        assert path[-1][1] >= lv.width - goal_columns
        assert result.reason == ""


def test_flat_ground_is_completable_along_the_ground():
    lv = level(grid())
    result = play(lv, LEGEND)
    assert result.completable and result.reason == ""
    assert result.path[0] == (GROUND - 1, 0)
    assert result.furthest_column >= WIDTH - 3
    assert_legal_path(lv, LEGEND, result)


@pytest.mark.parametrize("width", [1, 3, 6, 9])
def test_gaps_up_to_nine_columns_are_jumped(width):
    cells = grid()
    pit(cells, 15, width)
    result = play(level(cells), LEGEND)
    assert result.completable, result.reason
    assert_legal_path(level(cells), LEGEND, result)


@pytest.mark.parametrize("width", [10, 12, 20])
def test_gaps_too_wide_stop_the_agent_at_their_edge(width):
    cells = grid()
    pit(cells, 15, width)
    result = play(level(cells), LEGEND)
    assert not result.completable
    assert result.furthest_column == 14
    assert result.reason == f"stuck at column 14: gap of {width} columns"
    assert_legal_path(level(cells), LEGEND, result)


def test_a_landing_higher_up_shortens_the_reach():
    """Across a pit onto ground 4 tiles higher: 7 columns can be cleared, not 9."""
    results = {}
    for width in (7, 9):
        cells = grid()
        for col in range(15, WIDTH):
            for row in range(GROUND - 4, HEIGHT):
                cells[row][col] = "X" if col >= 15 + width else "-"
        results[width] = play(level(cells), LEGEND).completable
    assert results == {7: True, 9: False}


@pytest.mark.parametrize("height", [2, 4, 5])
def test_walls_up_to_five_tiles_are_climbed(height):
    cells = grid()
    wall(cells, 20, height)
    result = play(level(cells), LEGEND)
    assert result.completable, result.reason
    assert min(row for row, col in result.path) <= GROUND - height - 1
    assert_legal_path(level(cells), LEGEND, result)


@pytest.mark.parametrize("height", [6, 9, GROUND])  # GROUND: up to the top row, no way over the top
def test_walls_too_high_stop_the_agent(height):
    cells = grid()
    wall(cells, 20, height)
    result = play(level(cells), LEGEND)
    assert not result.completable
    assert result.furthest_column == 19
    assert result.reason == f"stuck at column 19: a wall {height} tiles high"


def staircase(steps: int) -> Level:
    """`steps` steps one tile higher each from column 11, then a plateau 8 tiles high to the end."""
    cells = grid()
    for col in range(11, WIDTH):
        height = col - 10 if col - 10 <= steps else 8
        for row in range(GROUND - height, GROUND):
            cells[row][col] = "X"
    return level(cells)


def test_a_staircase_to_height_eight_is_climbed_step_by_step():
    lv = staircase(8)
    result = play(lv, LEGEND)
    assert result.completable, result.reason
    assert result.path[-1] == (GROUND - 9, result.furthest_column)  # up on the plateau
    assert_legal_path(lv, LEGEND, result)
    # From a one-tile step the plateau may be 4 tiles higher (5 needs a running jump's room), not 6.
    assert play(staircase(4), LEGEND).completable
    assert play(staircase(2), LEGEND).reason == "stuck at column 12: a wall 6 tiles high"


def test_an_enemy_on_flat_ground_is_jumped_or_stomped_not_walked_into():
    cells = grid()
    cells[GROUND - 1][20] = "E"
    cells[GROUND - 1][21] = "E"
    lv = level(cells)
    result = play(lv, LEGEND)
    assert result.completable, result.reason
    assert_legal_path(lv, LEGEND, result)


def test_an_enemy_in_a_low_tunnel_blocks_the_way():
    cells = grid()
    tunnel(cells, 15, 30)
    assert play(level(cells), LEGEND).completable
    cells[GROUND - 1][22] = "E"
    result = play(level(cells), LEGEND)
    assert not result.completable
    assert result.reason == "stuck at column 21: an enemy in the way"


def test_a_flying_enemy_is_ignored_but_spikes_are_not():
    cells = grid()
    cells[GROUND - 3][20] = "E"  # in the air: it moves, so it does not count
    assert play(level(cells), LEGEND).completable
    cells = grid()
    tunnel(cells, 15, 30)
    cells[GROUND - 1][22] = "^"
    result = play(level(cells), LEGEND)
    assert result.reason == "stuck at column 21: a hazard in the way"


def test_a_low_ceiling_still_allows_a_small_hop_over_a_pit():
    cells = grid()
    tunnel(cells, 10, 30, rows=2)
    pit(cells, 18, 3)
    lv = level(cells)
    result = play(lv, LEGEND)
    assert result.completable, result.reason
    assert_legal_path(lv, LEGEND, result)
    pit(cells, 18, 7)  # but not a long jump: that needs height
    assert play(level(cells), LEGEND).reason == "stuck at column 17: gap of 7 columns"


def test_solidity_comes_from_tags_not_characters():
    legend = {"#": ("solid",), ".": ("empty",), "@": ("enemy",)}
    cells = [[{"X": "#", "-": "."}[c] for c in row] for row in grid()]
    for row in range(GROUND - 6, GROUND):
        cells[row][20] = "#"
    result = play(level(cells), legend)
    assert result.reason == "stuck at column 19: a wall 6 tiles high"


def test_start_column_and_goal_columns():
    cells = grid()
    pit(cells, 0, 12)  # nothing to stand on at first
    lv = level(cells)
    assert play(lv, LEGEND).reason == "no place to stand in columns 0-7"
    assert play(lv, LEGEND).furthest_column == -1
    result = play(lv, LEGEND, start_column=12)
    assert result.completable and result.path[0] == (GROUND - 1, 12)
    cells = grid()
    wall(cells, WIDTH - 8, 6, width=8)  # the last 8 columns are a wall too high to climb
    assert play(level(cells), LEGEND).completable is False
    assert play(level(cells), LEGEND, goal_columns=10).completable is True


def test_unknown_tiles_are_a_user_error():
    cells = grid()
    cells[5][5] = "Z"
    with pytest.raises(UserError, match="'Z'"):
        play(level(cells), LEGEND)


def test_same_level_same_result():
    cells = grid()
    pit(cells, 12, 4)
    wall(cells, 25, 3)
    assert play(level(cells), LEGEND) == play(level(cells), LEGEND)


def original_levels():
    found = []
    for game in ("Super_Mario_Bros", "Super_Mario_Bros_2_Japan"):
        found += sorted((VGLC / game).glob("*.txt")) if (VGLC / game).is_dir() else []
    return found


def game_legend(path: Path) -> dict:
    """The game's legend, plus tiles the other Mario game's legend knows (SMB2J uses cannons, 'B'/'b',
    that its own smb.json leaves out)."""
    legend = {}
    for folder in (VGLC / "Super_Mario_Bros", path.parent):
        legend.update(load_legend(find_legend(folder)))
    return legend


@pytest.mark.skipif(not original_levels(), reason="the VGLC Mario levels are not in ../shared/data/vglc")
@pytest.mark.parametrize("path", original_levels(), ids=lambda p: p.stem)
def test_original_levels(path):
    legend = game_legend(path)
    lv = read_level(path, legend)
    result = play(lv, legend)
    if path.stem in KNOWN_FAILURES:
        assert not result.completable, f"{path.stem} is now completable; take it off KNOWN_FAILURES"
    else:
        assert result.completable, result.reason
        assert_legal_path(lv, legend, result)
