"""Variety of whole levels against the originals (histogram overlap of the expressive-range
metrics) and the difficulty control (asking for enemies against excluding them, same seed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import SHIPPED_LEVELS

from generators.levels.expressive import (
    METRICS,
    difficulty_control,
    expressive_metrics,
    histogram_overlap,
    long_level_report,
    range_overlap,
)


def test_histogram_overlap_by_hand():
    assert histogram_overlap([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]) == pytest.approx(1.0)
    assert histogram_overlap([0.0, 0.0], [1.0, 1.0]) == 0.0  # never meet
    # Over [0, 1] in 10 bins: a has half its mass in the first bin and half in the last, b all in the first.
    assert histogram_overlap([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]) == pytest.approx(0.5)
    assert histogram_overlap([0.5, 0.5], [0.5]) == 1.0  # one shared value: one bin, all shared
    assert histogram_overlap([], [0.5]) == 0.0


def test_range_overlap_reads_every_metric_against_the_reference():
    flat = {"linearity": 1.0, "leniency": 0.0, "density": 0.2, "gaps": 0.0}
    rough = {"linearity": 0.5, "leniency": -0.3, "density": 0.6, "gaps": 0.8}
    sets = {"original": [flat, rough], "same": [flat, rough], "flat_only": [flat, flat]}
    overlap = range_overlap(sets)
    assert set(overlap) == set(METRICS)
    for name in METRICS:
        assert overlap[name]["same"] == pytest.approx(1.0)
        assert overlap[name]["flat_only"] == pytest.approx(0.5)
        assert "original" not in overlap[name]


def test_long_level_report_gives_the_overlap_with_the_originals(tiny_generator, game_folder):
    from generators.core.domain import Split

    corpus = tiny_generator.domain.heldout_corpus([game_folder], tiny_generator.card)
    assert isinstance(corpus.train, Split)
    report, _ = long_level_report(tiny_generator, corpus, [game_folder], levels=2, length=60, seed=3, budget=1)
    overlap = report["overlap_with_original"]
    assert set(overlap) == set(METRICS)
    for name in METRICS:
        assert set(overlap[name]) == {"generated", "generated_playable"}
        assert all(0.0 <= value <= 1.0 for value in overlap[name].values())


@pytest.fixture(scope="module")
def mario():
    from generators.registry import load_generator

    return load_generator("levels")


@pytest.mark.skipif(not SHIPPED_LEVELS.exists(), reason="the shipped levels checkpoint is missing")
def test_difficulty_control_reads_the_levels_the_cli_makes(mario):
    from generators.levels.long_level import sample_long_level

    control = difficulty_control(mario, levels=3, length=60, seed=11)
    assert control["levels"] == 3 and control["columns"] == 60
    assert set(control["mean_leniency"]) == {"harder", "easier", "as drawn"}
    asked = [sample_long_level(mario, 60, seed, difficulty="harder").level for seed in range(11, 14)]
    leniency = [expressive_metrics(mario.domain.indices(lv), mario.domain.legend)["leniency"] for lv in asked]
    assert control["mean_leniency"]["harder"] == pytest.approx(sum(leniency) / 3)
    assert control["harder_when_asked"] in (0.0, 1 / 3, 2 / 3, 1.0)


@pytest.mark.skipif(not SHIPPED_LEVELS.exists(), reason="the shipped levels checkpoint is missing")
def test_harder_levels_are_less_lenient_than_easier_ones_from_the_same_seed(mario):
    """The shipped model, 6 seeds of 100 columns: with WINDOW_CANDIDATES (8) latents to choose from per window, the
    harder level is the less lenient for nearly every seed (30 of 30 seeds at 200 columns)."""
    from generators.levels.long_level import sample_long_level

    def leniency(seed, difficulty):
        level = sample_long_level(mario, 100, seed, difficulty=difficulty).level
        return expressive_metrics(mario.domain.indices(level), mario.domain.legend)["leniency"]

    harder = [leniency(seed, "harder") for seed in range(6)]
    easier = [leniency(seed, "easier") for seed in range(6)]
    assert sum(h < e for h, e in zip(harder, easier)) >= 5
    assert sum(harder) < sum(easier)


@pytest.mark.skipif(not SHIPPED_LEVELS.exists(), reason="the shipped levels checkpoint is missing")
def test_a_difficulty_is_seeded_and_checked(mario):
    from generators.core.errors import UserError
    from generators.levels.long_level import sample_long_level

    one = sample_long_level(mario, 60, 5, difficulty="harder").level
    assert sample_long_level(mario, 60, 5, difficulty="harder").level.rows == one.rows
    with pytest.raises(UserError, match="easier, harder"):
        sample_long_level(mario, 60, 5, difficulty="hard")


def test_window_labels_run_on_from_window_to_window(mario):
    """Open labels are drawn in runs: a window keeps the one before's with LABEL_PERSISTENCE."""
    from generators.levels.stitch import LABEL_PERSISTENCE, window_labels

    kept = total = 0
    for seed in range(40):
        labels = window_labels(mario, None, 20, seed)
        kept += sum(a == b for a, b in zip(labels, labels[1:]))
        total += len(labels) - 1
        assert window_labels(mario, None, 20, seed) == labels  # seeded
    # Kept on purpose (0.9), plus the draws that repeat by chance: at least 0.9, well under 1.
    assert LABEL_PERSISTENCE - 0.03 <= kept / total < 0.99
    # Asked labels hold in every window of the run.
    for labels in window_labels(mario, ["pipe"], 20, 3):
        assert "pipe" in labels


@pytest.mark.skipif(not SHIPPED_LEVELS.exists(), reason="the shipped levels checkpoint is missing")
def test_cli_difficulty_writes_that_level_and_needs_a_length(mario, tmp_path, capsys):
    from generators import cli
    from generators.levels.long_level import sample_long_level

    rc = cli.main(
        ["sample", "levels", "--length", "60", "--difficulty", "easier", "--seed", "8", "--out", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    assert rc == 0 and "difficulty=easier" in printed
    written = (tmp_path / "levels-seed8-len60.txt").read_text()
    assert written == sample_long_level(mario, 60, 8, difficulty="easier").level.text()
    assert written != sample_long_level(mario, 60, 8, difficulty="harder").level.text()
    rc = cli.main(["sample", "levels", "--difficulty", "harder", "--out", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert rc == 2 and err.strip() == "error: --difficulty needs --length: it chooses the windows of a whole level"
    assert not (tmp_path / "none").exists()
