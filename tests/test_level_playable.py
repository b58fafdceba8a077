"""--playable: levels the agent finishes are kept, others are repaired by a bounded latent
search; what the budget cannot fix is written, marked and counted."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO_ROOT

from generators import cli, level_playable
from generators.level_agent import PlayResult, play
from generators.level_metrics import broken_pipe_cells
from generators.level_stitch import MAX_CLIMB, Stitcher, sample_long_level, seam_steps, seed_latents, window_count
from generators.levels import read_level

SHIPPED = REPO_ROOT / "checkpoints" / "levels.safetensors"
pytestmark = pytest.mark.skipif(not SHIPPED.exists(), reason="the shipped levels checkpoint is missing")


@pytest.fixture(scope="module")
def mario():
    from generators.generator import load_generator

    return load_generator("levels")


def stuck_at(column: int):
    """An agent that never finishes, stuck at `column`."""
    calls = []

    def agent(level, legend, **_):
        calls.append(level)
        return PlayResult(False, column, (), f"stuck at column {column}: test")

    agent.calls = calls
    return agent


def fails_first_time(column: int):
    """An agent that refuses the first level it sees, then judges like the real one."""
    calls = []

    def agent(level, legend, **kwargs):
        calls.append(level)
        if len(calls) == 1:
            return PlayResult(False, column, (), "test")
        return play(level, legend, **kwargs)

    agent.calls = calls
    return agent


def stitcher_for(mario, length, seed, labels):
    count = window_count(length, mario.domain.width, 6)
    return Stitcher(mario, [mario.condition_labels(labels)] * count, length, seed=seed), seed_latents(mario, seed, count)


def test_cli_playable_levels_pass_the_agent(mario, tmp_path, capsys):
    rc = cli.main(["sample", "levels", "--length", "60", "--playable", "--seed", "20", "-n", "3",
                   "--condition", "enemy", "pipe", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    lines = [line.split("\t") for line in out.splitlines() if line.endswith(tuple("0123456789"))]
    assert len(lines) == 3
    for path, seed, columns, verdict, attempts in lines:
        level = read_level(path, mario.domain.legend)
        assert (level.height, level.width) == (14, 60) and columns == "columns=60"
        assert verdict == f"playable={'yes' if play(level, mario.domain.legend).completable else 'no'}"
    assert sum(v == "playable=yes" for *_, v, _ in lines) >= 2


def test_repair_restitches_from_the_stuck_window(mario):
    stitcher, bases = stitcher_for(mario, 80, 4, ["enemy", "pipe"])
    raw = stitcher.compose(bases)
    agent = fails_first_time(50)  # window 4 holds column 51: windows 3-5 are mutated
    made = level_playable.repair(stitcher, bases, budget=12, seed=4, play=agent)
    assert made.attempts >= 2 and len(agent.calls) == made.attempts
    assert made.playable and play(made.level, mario.domain.legend).completable
    # Windows before the mutated ones are reused untouched, and the seams still hold.
    for before, after in zip(raw.windows[:3], made.windows[:3]):
        assert np.array_equal(before.latent, after.latent)
    assert not np.array_equal(raw.windows[4].base, made.windows[4].base)
    grid = mario.domain.indices(made.level)
    assert not broken_pipe_cells(grid[None], mario.domain.legend).any()
    assert seam_steps(grid, stitcher.solid, made.seams).max() <= MAX_CLIMB
    # Same seed, same search, same level.
    again = level_playable.repair(stitcher, bases, budget=12, seed=4, play=fails_first_time(50))
    assert again.level == made.level


def test_budget_runs_out(mario):
    stitcher, bases = stitcher_for(mario, 60, 9, ["coin"])
    agent = stuck_at(30)
    made = level_playable.repair(stitcher, bases, budget=5, seed=9, play=agent)
    assert made.playable is False and made.attempts == 6 == len(agent.calls)
    assert made.notes and "not playable after 5 repair attempts" in made.notes[0]


def test_cli_counts_levels_it_could_not_repair(mario, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(level_playable, "default_agent", lambda: stuck_at(20))
    rc = cli.main(["sample", "levels", "--length", "50", "--playable", "--repair-budget", "2", "--seed", "5",
                   "-n", "2", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert rc == 0
    assert "warning: 2 of 2 levels are not playable after 2 repair attempts each (seeds 5, 6)" in err
    assert out.count("playable=no") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["levels-seed5-len50.txt", "levels-seed6-len50.txt"]


def test_playable_without_repair_needed_is_the_raw_level(mario):
    # A level the agent finishes as sampled is returned as it is, after one evaluation.
    agent_calls = []

    def accepting(level, legend, **_):
        agent_calls.append(level)
        return PlayResult(True, level.width - 1, (), "")

    stitcher, bases = stitcher_for(mario, 60, 2, [])
    made = level_playable.repair(stitcher, bases, budget=8, seed=2, play=accepting)
    assert made.attempts == 1 and made.playable and made.level == sample_long_level(mario, 60, 2).level
