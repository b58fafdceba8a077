"""`sample --playable` for single Lode Runner screens (`lode_playable`): the latent search and
the ladder repair on hand-made screens and on the shipped `lode-runner` model, and the CLI path.

Tiles: `b` diggable brick, `B` stone, `.` empty, `#` ladder, `-` rope, `G` gold, `E` an enemy,
`M` the spawn.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import REPO_ROOT, SHIPPED_LODE_RUNNER
from test_lode_runner import LODE_LEGEND, lode_level

from generators import cli
from generators.levels import lode_playable
from generators.levels.domain import Level, LevelsDomain
from generators.levels.lode_agent import solve
from generators.levels.lode_playable import add_ladders, playable_screen, prior_radius, screen_support

needs_model = pytest.mark.skipif(not SHIPPED_LODE_RUNNER.exists(), reason="no shipped lode-runner checkpoint")

# Gold on a ledge above the runner, and nothing to climb.
UPSTAIRS = Level(("........", "..G.....", "BBBBB...", "........", "M.......", "BBBBBBBB"))
# Gold on two ledges, one each side: one shaft reaches one of them.
TWO_LEDGES = Level(("G......G", "BB....BB", "........", "...M....", "BBBBBBBB"))


@pytest.fixture(scope="module")
def lode():
    from generators.registry import load_generator

    return load_generator("lode-runner")


def changes(before: Level, after: Level) -> list[tuple[int, int, str, str]]:
    return [
        (y, x, a, b)
        for y, (row_a, row_b) in enumerate(zip(before.rows, after.rows))
        for x, (a, b) in enumerate(zip(row_a, row_b))
        if a != b
    ]


# --- the agent's graded score ------------------------------------------------------------


def test_the_agent_counts_the_most_gold_one_run_collects():
    # Each gold lies at the bottom of its own stone pit: either can be had, not both.
    pits = solve(Level(("..M..", "B.B.B", "BGBGB", "BBBBB")), LODE_LEGEND)
    assert (pits.gold, pits.gold_reachable, pits.gold_collectable, pits.solvable) == (2, 2, 1, False)
    ledge = solve(UPSTAIRS, LODE_LEGEND)
    assert (ledge.gold_reachable, ledge.gold_collectable) == (0, 0)
    flat = solve(Level(("M..G.G..", "BBBBBBBB")), LODE_LEGEND)
    assert flat.solvable and flat.gold_collectable == flat.gold == 2


# --- the ladder repair -------------------------------------------------------------------


def test_a_ledge_out_of_reach_gets_the_shortest_ladder_up_to_it():
    fixed, tiles = add_ladders(UPSTAIRS, LODE_LEGEND)
    assert solve(fixed, LODE_LEGEND).solvable
    # Rows 2-4 of column 5: he climbs to row 2, steps up off the top and walks left onto the ledge.
    assert changes(UPSTAIRS, fixed) == [(2, 5, ".", "#"), (3, 5, ".", "#"), (4, 5, ".", "#")]
    assert tiles == 3


def test_shafts_never_cover_gold_the_spawn_or_an_enemy():
    # The only column under the ledge's end holds an enemy; the ladder must go round it.
    level = Level(("........", "..G.....", "BBBBB...", ".....E..", "M.......", "BBBBBBBB"))
    fixed, tiles = add_ladders(level, LODE_LEGEND)
    assert solve(fixed, LODE_LEGEND).solvable and tiles > 0
    assert all(after == "#" and before in ".bB-" for _, _, before, after in changes(level, fixed))
    assert [fixed.text().count(c) for c in "GEM"] == [level.text().count(c) for c in "GEM"]


def test_each_shaft_is_added_only_as_needed():
    fixed, tiles = add_ladders(TWO_LEDGES, LODE_LEGEND)
    assert solve(fixed, LODE_LEGEND).solvable and tiles == 6  # two shafts of three
    assert len({x for _, x, _, _ in changes(TWO_LEDGES, fixed)}) == 2


def test_a_repair_that_falls_short_leaves_the_level_as_it_was():
    assert add_ladders(TWO_LEDGES, LODE_LEGEND, max_shafts=1) == (TWO_LEDGES, 0)


def test_a_solvable_level_is_not_touched():
    level = Level(("M.#..G..", "BB#BBBBB", "..#..G..", "BBBBBBBB"))
    assert solve(level, LODE_LEGEND).solvable
    assert add_ladders(level, LODE_LEGEND) == (level, 0)


@pytest.mark.skipif(not (REPO_ROOT.parent / "shared" / "data" / "vglc").is_dir(), reason="no VGLC levels")
def test_solvable_originals_are_not_touched():
    from test_lode_runner import DATA

    from generators.levels.domain import read_level

    levels = [read_level(p, LODE_LEGEND) for p in sorted(DATA.glob("Level_1*.txt"))[:12]]
    solvable = [lv for lv in levels if solve(lv, LODE_LEGEND).solvable]
    assert len(solvable) >= 8
    assert all(add_ladders(lv, LODE_LEGEND) == (lv, 0) for lv in solvable)


# --- the search on the shipped model -----------------------------------------------------


def test_the_prior_ball_holds_about_999_in_1000_draws():
    norms = np.linalg.norm(np.random.default_rng(0).standard_normal((200_000, 16)), axis=1)
    assert abs(np.mean(norms <= prior_radius(16)) - 0.999) < 0.0005


@needs_model
@pytest.mark.parametrize(("seed", "budget"), [(6, 400), (20, 400), (2, 16)])
def test_a_playable_screen_is_solvable_by_the_agent(lode, seed, budget):
    raw = lode.sample(1, seed=seed)[0]
    made = playable_screen(lode, seed, budget=budget)
    assert not solve(raw.asset, lode.domain.legend).solvable and not made.raw_playable
    assert made.playable and solve(made.level, lode.domain.legend).solvable and made.reason == ""
    assert made.labels == raw.condition  # searched under the labels the seed was sampled with
    assert made.level != raw.asset and np.linalg.norm(made.latent) <= prior_radius(16) + 1e-4
    assert made.attempts <= budget + 1


@needs_model
def test_the_repair_finishes_what_a_short_search_leaves(lode):
    made = playable_screen(lode, 2, budget=16)  # measured: the search alone does not get there
    assert made.ladder_tiles > 0 and made.attempts == 17
    searched = lode.decode(made.latent, made.labels)[0]
    assert not solve(searched, lode.domain.legend).solvable
    assert all(after == "#" for _, _, _, after in changes(searched, made.level))
    assert len(changes(searched, made.level)) == made.ladder_tiles


@needs_model
def test_the_same_seed_makes_the_same_screen(lode):
    for seed, budget in ((6, 400), (2, 16)):
        first, again = playable_screen(lode, seed, budget=budget), playable_screen(lode, seed, budget=budget)
        assert first.level == again.level and np.array_equal(first.latent, again.latent)
        assert (first.attempts, first.ladder_tiles) == (again.attempts, again.ladder_tiles)


@needs_model
def test_a_screen_solvable_as_sampled_is_the_sampled_screen(lode):
    raw = lode.sample(1, seed=208)[0]  # measured: solvable as sampled
    made = playable_screen(lode, 208)
    assert made.raw_playable and made.playable
    assert (made.level, made.attempts, made.ladder_tiles) == (raw.asset, 1, 0)


def test_only_lode_runner_screens_are_played():
    assert screen_support(LevelsDomain(LODE_LEGEND, 6, 8, whole_levels=True)) == ""
    other = {"X": ["solid", "ground"], ".": ["passable", "empty"], "G": ["gold"]}
    assert "only Lode Runner" in screen_support(LevelsDomain(other, 6, 8, whole_levels=True))
    assert "--length" in screen_support(LevelsDomain(LODE_LEGEND, 6, 8))


@needs_model
def test_the_report_sets_playable_beside_raw_and_the_originals(lode):
    grids = np.stack([lode.domain.indices(lode_level(gold, 1)) for gold in (1, 2, 3)])
    split = SimpleNamespace(x=lode.domain.one_hot(grids))
    report = lode_playable.screens_report(lode, SimpleNamespace(train=split, holdout=split), 2, seed=6, budget=30)
    assert report["screens"] == 2 and report["raw_solvable"] == 0.0 and report["playable_solvable"] == 1.0
    expected = float(np.mean([solve(lode_level(gold, 1), LODE_LEGEND).solvable for gold in (1, 2, 3)]))
    assert report["originals_solvable"] == {"training_levels": expected, "heldout_levels": expected}
    layout = report["layout"]
    assert layout["training_levels"]["gold_per_level"] == 2.0  # the three fixtures hold 1, 2 and 3 gold
    assert 0.0 <= layout["ladder_length_overlap_playable_vs_training"] <= 1.0
    assert layout["playable"]["gold_per_level"] > 0 and layout["raw"]["ladders_per_level"] > 0


# --- the command line --------------------------------------------------------------------


@needs_model
def test_cli_writes_playable_screens_marked_yes(lode, tmp_path, capsys):
    args = ["sample", "levels", "--threads", "1", "--checkpoint", "lode-runner", "--playable", "-n", "2", "--seed", "6"]
    assert cli.main([*args, "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 2 and err == ""
    for seed, line in zip((6, 7), lines):
        path, *fields = line.split("\t")
        assert path.endswith(f"levels-seed{seed}.txt") and f"seed={seed}" in fields and "playable=yes" in fields
        assert solve(lode.domain.read(path), lode.domain.legend).solvable
        assert lode.domain.read(path) == playable_screen(lode, seed).level  # the CLI and the API agree


@needs_model
def test_cli_counts_screens_it_could_not_make_playable(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(lode_playable, "add_ladders", lambda level, legend: (level, 0))
    args = ["sample", "levels", "--threads", "1", "--checkpoint", "lode-runner", "--playable", "--repair-budget", "1"]
    assert cli.main([*args, "-n", "2", "--seed", "6", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.count("playable=no") == 2 and out.count("ladder_tiles=0") == 2
    assert err.strip() == (
        "warning: 2 of 2 levels are not playable after 1 search attempts and a ladder repair each "
        "(seeds 6, 7); they were written, marked playable=no"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["levels-seed6.txt", "levels-seed7.txt"]


@needs_model
def test_cli_still_refuses_length_for_a_single_screen_model(tmp_path, capsys):
    args = ["sample", "levels", "--threads", "1", "--checkpoint", "lode-runner", "--playable", "--length", "100"]
    assert cli.main([*args, "--out", str(tmp_path)]) == 2
    assert "single-screen" in capsys.readouterr().err and not any(tmp_path.iterdir())
