"""--playable: levels the agent finishes are kept, others are repaired by a bounded latent
search; what the budget cannot fix is written, marked and counted."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHIPPED_LEVELS

from generators import cli
from generators.levels import playable as level_playable
from generators.levels.agent import PlayResult, play
from generators.levels.domain import read_level
from generators.levels.metrics import broken_pipe_cells
from generators.levels.stitch import MAX_CLIMB, Stitcher, seam_steps, seed_latents, window_count

pytestmark = pytest.mark.skipif(not SHIPPED_LEVELS.exists(), reason="the shipped levels checkpoint is missing")


@pytest.fixture(scope="module")
def mario():
    from generators.registry import load_generator

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
    return Stitcher(mario, [mario.condition_labels(labels)] * count, length, seed=seed), seed_latents(
        mario, seed, count
    )


def test_cli_playable_levels_pass_the_agent(mario, tmp_path, capsys):
    rc = cli.main(
        [
            "sample",
            "levels",
            "--length",
            "60",
            "--playable",
            "--seed",
            "20",
            "-n",
            "3",
            "--condition",
            "enemy",
            "pipe",
            "--out",
            str(tmp_path),
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    lines = [line.split("\t") for line in out.splitlines() if line.endswith(tuple("0123456789"))]
    assert len(lines) == 3
    verdicts = []
    for path, *fields in lines:
        detail = dict(field.split("=", 1) for field in fields)  # seed, columns, character, playable, attempts
        level = read_level(path, mario.domain.legend)
        assert (level.height, level.width) == (14, 60) and detail["columns"] == "60"
        assert "character" not in detail  # none asked for: windows as drawn
        assert detail["playable"] == ("yes" if play(level, mario.domain.legend).completable else "no")
        verdicts.append(detail["playable"])
    assert verdicts.count("yes") >= 2


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
    rc = cli.main(
        [
            "sample",
            "levels",
            "--length",
            "50",
            "--playable",
            "--repair-budget",
            "2",
            "--seed",
            "5",
            "-n",
            "2",
            "--out",
            str(tmp_path),
        ]
    )
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
    assert made.attempts == 1 and made.playable and made.level == stitcher.compose(bases).level


# --- eval: expressive range of whole levels -----------------------------------------------

LEGEND = {
    "X": ("solid", "ground"),
    "-": ("passable", "empty"),
    "E": ("enemy", "hazard"),
    "B": ("solid", "cannon", "hazard"),
}


def grid_of(rows: list[str]) -> np.ndarray:
    chars = list(LEGEND)
    return np.array([[chars.index(ch) for ch in row] for row in rows])


def test_expressive_metrics_by_hand():
    from generators.levels.expressive import expressive_metrics

    flat = grid_of(["----------"] * 3 + ["XXXXXXXXXX"])
    assert expressive_metrics(flat, LEGEND) == pytest.approx(
        {"linearity": 1.0, "leniency": 0.0, "density": 0.25, "gaps": 0.0}
    )
    # Two enemies, two gap columns and one cannon over 10 columns: -(2 + 0.5*2 + 0.5*1)/10.
    rough = grid_of(["----------", "--B-------", "-EX---E---", "XXX--XXXXX"])
    metrics = expressive_metrics(rough, LEGEND)
    assert metrics["leniency"] == pytest.approx(-0.35) and metrics["density"] == pytest.approx(10 / 40)
    assert metrics["gaps"] == pytest.approx(2 / 10)
    # A straight staircase is perfectly linear; a bump is not: heights 1,3,3,1 lie 1 off
    # their least-squares line (flat at 2) everywhere, so linearity = 1 - 1/4.
    stairs = grid_of(["---X", "--XX", "-XXX", "XXXX"])
    bump = grid_of(["----", "-XX-", "-XX-", "XXXX"])
    assert expressive_metrics(stairs, LEGEND)["linearity"] == pytest.approx(1.0)
    assert expressive_metrics(bump, LEGEND)["linearity"] == pytest.approx(0.75)


def test_expressive_range_plot_shows_every_set():
    from generators.levels.expressive import COLOURS, expressive_range_image

    points = {
        "original": np.array([[0.8, -0.2], [0.9, -0.1]]),
        "generated": np.array([[0.85, -0.3]]),
        "generated --playable": np.array([[0.7, -0.05]]),
    }
    image = expressive_range_image(points)
    assert image.shape == (420, 560, 3) and image.dtype == np.uint8
    for colour in COLOURS.values():
        assert (image == np.array(colour, dtype=np.uint8)).all(axis=2).sum() > 20  # dots and legend swatch


def test_eval_reports_long_levels_and_writes_the_plot(tiny_checkpoint, game_folder, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    rc = cli.main(
        [
            "eval",
            "levels",
            "--checkpoint",
            str(tiny_checkpoint),
            "--data",
            str(game_folder),
            "--samples",
            "4",
            "--iwae-k",
            "2",
            "--long-levels",
            "3",
            "--long-length",
            "60",
            "--repair-budget",
            "2",
            "--json",
            str(out),
        ]
    )
    printed, err = capsys.readouterr()
    assert rc == 0, err
    import json

    report = json.loads(out.read_text(encoding="utf-8"))["long_levels"]
    assert report["levels"] == 3 and report["columns"] == 60 and report["repair_budget"] == 2
    assert 0 <= report["completable_share"] <= report["completable_share_playable"] <= 1
    assert report["original"]["levels"] == 4 and report["generated"]["levels"] == 3
    for name in ("generated", "generated_playable", "original"):
        assert {"levels", "linearity", "leniency", "density"} <= set(report[name])
        assert set(report[name]["leniency"]) == {"mean", "std"} and report[name]["leniency"]["mean"] <= 0
    assert 0 <= report["original"]["completable_share"] <= 1
    plot = tmp_path / "metrics-expressive-range.png"
    assert plot.exists() and str(plot) in printed and "long_levels.completable_share" in printed


def test_eval_long_length_out_of_bounds(tiny_checkpoint, game_folder, capsys):
    rc = cli.main(
        ["eval", "levels", "--checkpoint", str(tiny_checkpoint), "--data", str(game_folder), "--long-length", "20"]
    )
    assert rc == 2 and "50 and 1000" in capsys.readouterr().err
