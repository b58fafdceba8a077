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

# Original levels the agent cannot complete, each with the reason and the verdict of PlayAstar.jar
# (unpaced, 40 ms of search a tick, a 60 s game clock), checked: they must stay failures. Of the 37
# originals the two agents agree on 23; the jar's A* also loses 12 that ours completes (see
# docs/levels-agent.md).
KNOWN_FAILURES = {
    "SuperMarioBros2(J)-World1-2": "stuck at column 172: a wall 8 tiles high (PlayAstar: TIME_OUT at column 42 of 222)",
    "SuperMarioBros2(J)-World2-2": "stuck at column 182: gap of 10 columns (PlayAstar: LOSE at column 192 of 256)",
    "SuperMarioBros2(J)-World3-1": "stuck at column 121: a wall 5 tiles high (PlayAstar: LOSE at column 178 of 179)",
    "SuperMarioBros2(J)-World4-1": "stuck at column 73: gap of 5 columns (PlayAstar: LOSE at column 191 of 192)",
    "SuperMarioBros2(J)-World4-2": "stuck at column 111: a wall 5 tiles high (PlayAstar: LOSE at column 199 of 200)",
    "SuperMarioBros2(J)-World4-3": "stuck at column 22: gap of 21 columns (PlayAstar: LOSE at column 34 of 179)",
    "SuperMarioBros2(J)-World5-1": "stuck at column 319: a wall 11 tiles high (PlayAstar: TIME_OUT at column 1 of 362)",
    "SuperMarioBros2(J)-World8-1": "stuck at column 14: an enemy in the way (PlayAstar wins it)",
    "SuperMarioBros2(J)-WorldA-1": "stuck at column 181: a wall 3 tiles high (PlayAstar: TIME_OUT at column 2 of 218)",
    "SuperMarioBros2(J)-WorldB-3": "stuck at column 102: gap of 12 columns (PlayAstar: LOSE at column 115 of 203)",
    "SuperMarioBros2(J)-WorldC-2": "stuck at column 115: gap of 3 columns (PlayAstar: LOSE at column 25 of 188)",
    "SuperMarioBros2(J)-WorldD-1": "stuck at column 81: an enemy in the way (PlayAstar wins it)",
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


# Hand-made levels played by PlayAstar.jar (the Mario AI framework's A* agent, from the mario-gpt 0.1.3
# wheel; see generators/levels/oracle.py), large Mario starting in column 0: WIN (True) or not. Each
# case is (builder, size, verdict). Measured 2026-12-01 with the engine unpaced at 40 ms of search a tick.
def gap_after(run_up: int):
    """Ground, then a pit of `width` columns after `run_up` columns of ground (Mario starts in column 0)."""

    def build(width: int) -> Level:
        cells = grid()
        pit(cells, run_up, width)
        return level(cells)

    return build


def gap_up(height: int):
    """A pit of `width` columns at column 20, the ground after it `height` tiles higher."""

    def build(width: int) -> Level:
        cells = grid()
        pit(cells, 20, width)
        for row in range(GROUND - height, HEIGHT):
            for col in range(20 + width, WIDTH):
                cells[row][col] = "X"
        return level(cells)

    return build


def gap_down_3(width: int) -> Level:
    """Columns 0-19 are a plateau 3 tiles high, then a pit of `width` columns down to the ground."""
    cells = grid()
    for row in range(GROUND - 3, HEIGHT):
        for col in range(20):
            cells[row][col] = "X"
    pit(cells, 20, width)
    return level(cells)


def wall_at(col: int):
    def build(height: int) -> Level:
        cells = grid()
        wall(cells, col, height)
        return level(cells)

    return build


def ceiling_over_pit(width: int) -> Level:
    """A ceiling 3 rows above the ground from column 14, open to the sky over a pit of `width` columns at
    column 20."""
    cells = grid()
    for row in range(GROUND - 3):
        for col in range(14, 20 + width + 6):
            cells[row][col] = "-" if 20 <= col < 20 + width else "X"
    pit(cells, 20, width)
    return level(cells)


def tunnel_of(rows: int) -> Level:
    cells = grid()
    for row in range(GROUND - rows):
        for col in range(15, 26):
            cells[row][col] = "X"
    return level(cells)


ENGINE_VERDICTS = [
    # (case, builder, sizes the jar's Mario passes, sizes it does not)
    ("gap after a 20-column run-up", gap_after(20), range(4, 11), (12, 13)),
    ("gap from a 1-column ledge", gap_after(1), range(3, 9), (9,)),
    ("gap after a 2-column run-up", gap_after(2), range(3, 9), ()),
    ("gap after a 4-column run-up", gap_after(4), range(3, 10), ()),
    ("gap onto ground 2 higher", gap_up(2), range(3, 10), (10,)),
    ("gap onto ground 3 higher", gap_up(3), range(3, 8), (9, 10)),
    ("gap onto ground 4 higher", gap_up(4), range(3, 7), range(7, 11)),
    ("gap down from 3 higher", gap_down_3, range(9, 13), (14, 15)),
    ("wall at column 20", wall_at(20), (3, 4), (5,)),
    ("wall at column 2", wall_at(2), (3, 4), (5,)),
    ("tunnel rows", tunnel_of, (2, 3), (1,)),
    ("pit under a ceiling 3 rows up", ceiling_over_pit, (3, 4, 5, 6), ()),
]
# Where the jar's verdict and ours differ (4 of the 75 cases measured), our agent is the more lenient
# by one column at the limit of a jump: the engine's physics allows these jumps, the jar's A* does not
# find them. Kept here so that a change in the agent that moves them is noticed.
LENIENT_BY_ONE = [
    ("gap after a 20-column run-up", gap_after(20), 11),
    ("gap after a 2-column run-up", gap_after(2), 9),
    ("gap onto ground 3 higher", gap_up(3), 8),
    ("gap down from 3 higher", gap_down_3, 13),
]


@pytest.mark.parametrize(
    "build,size,won",
    [(b, n, True) for _, b, wins, _ in ENGINE_VERDICTS for n in wins]
    + [(b, n, False) for _, b, _, losses in ENGINE_VERDICTS for n in losses],
    ids=[f"{c}:{n}:win" for c, _, wins, _ in ENGINE_VERDICTS for n in wins]
    + [f"{c}:{n}:lose" for c, _, _, losses in ENGINE_VERDICTS for n in losses],
)
def test_agent_agrees_with_the_real_engine(build, size, won):
    lv = build(size)
    result = play(lv, LEGEND)
    assert result.completable == won, result.reason
    if won:
        assert_legal_path(lv, LEGEND, result)


@pytest.mark.parametrize("build,size", [(b, n) for _, b, n in LENIENT_BY_ONE], ids=[c for c, _, _ in LENIENT_BY_ONE])
def test_agent_is_lenient_by_one_column_at_the_limit_of_a_jump(build, size):
    assert play(build(size), LEGEND).completable
    assert not play(build(size + 1), LEGEND).completable


def test_a_run_up_lengthens_the_jump():
    """From a standing start on a one-column ledge 8 columns are cleared; with room to run, 10."""
    assert not play(gap_after(1)(9), LEGEND).completable
    assert play(gap_after(20)(10), LEGEND).completable


@pytest.mark.parametrize("width", [12, 20])
def test_gaps_too_wide_stop_the_agent_at_their_edge(width):
    cells = grid()
    pit(cells, 15, width)
    result = play(level(cells), LEGEND)
    assert not result.completable
    assert result.furthest_column == 14
    assert result.reason == f"stuck at column 14: gap of {width} columns"
    assert_legal_path(level(cells), LEGEND, result)


@pytest.mark.parametrize("height", [2, 4])
def test_walls_up_to_four_tiles_are_climbed(height):
    cells = grid()
    wall(cells, 20, height)
    result = play(level(cells), LEGEND)
    assert result.completable, result.reason
    assert min(row for row, col in result.path) <= GROUND - height - 1
    assert_legal_path(level(cells), LEGEND, result)


@pytest.mark.parametrize("height", [5, 9, GROUND])  # GROUND: up to the top row, no way over the top
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
    tunnel(cells, 15, 30, rows=2)  # room for large Mario, none to jump
    assert play(level(cells), LEGEND).completable
    cells[GROUND - 1][22] = "E"
    result = play(level(cells), LEGEND)
    assert not result.completable
    assert result.reason == "stuck at column 21: an enemy in the way"


def test_a_tunnel_one_tile_high_is_too_low_for_large_mario():
    cells = grid()
    tunnel(cells, 15, 30, rows=1)
    result = play(level(cells), LEGEND)
    assert result.reason == "stuck at column 14: a ceiling too low to pass under"


def test_a_flying_enemy_is_ignored_but_spikes_are_not():
    cells = grid()
    cells[GROUND - 3][20] = "E"  # in the air: it moves, so it does not count
    assert play(level(cells), LEGEND).completable
    cells = grid()
    tunnel(cells, 15, 30, rows=2)
    cells[GROUND - 1][22] = "^"
    result = play(level(cells), LEGEND)
    assert result.reason == "stuck at column 21: a hazard in the way"


def test_a_low_ceiling_still_allows_a_small_hop_over_a_pit():
    """Under a ceiling 3 rows above the ground (one row to jump in) a pit of 3 is hopped, one of 7 not."""
    cells = grid()
    tunnel(cells, 10, 30, rows=3)
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
