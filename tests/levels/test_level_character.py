"""A whole level's character (ground or athletic, `generators/levels/character.py`): read off the
training levels into the card, checked at load, drawn or asked for, and kept along the level."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import LEGEND, SHIPPED_LEVELS, run_cli

from generators.core.errors import CheckpointError, UserError
from generators.levels.character import (
    CARD_KEY,
    LevelCharacters,
    character_of,
    gap_share,
    level_characters,
    pit_widths,
    solid_tiles,
)
from generators.levels.domain import parse_vglc

needs_shipped = pytest.mark.skipif(not SHIPPED_LEVELS.exists(), reason="the shipped levels checkpoint is missing")

# 14 rows of 40 columns. Ground: a floor with one 3-column pit (gap share 3/40). Athletic: a
# platform row over a bottom row open under 30 of its 40 columns (0.75), in pits of 12 and 18.
GROUND = ["-" * 40] * 13 + ["X" * 30 + "---" + "X" * 7]
ATHLETIC = ["-" * 40] * 10 + ["--XXX-----XXX-----XXX-----XXX-----XXX---"] + ["-" * 40] * 2
ATHLETIC += ["XXXXX" + "-" * 12 + "XXXXX" + "-" * 18]


def game(folder, levels: dict[str, list[str]]):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.json").write_text(json.dumps(LEGEND), encoding="utf-8")
    for stem, rows in levels.items():
        (folder / f"{stem}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_gap_shares_and_pits_by_hand(domain):
    solid = solid_tiles(domain.legend)
    grid = domain.indices(parse_vglc("\n".join(ATHLETIC), "athletic", domain.legend))
    assert gap_share(grid, solid) == pytest.approx(30 / 40)
    assert pit_widths(np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], bool)) == [2, 1, 3]
    assert pit_widths(np.zeros(4, bool)) == []
    assert character_of(0.5) == "ground" and character_of(0.51) == "athletic"


def test_characters_are_read_off_the_training_levels(domain, tmp_path):
    folder = game(tmp_path / "Tiny_Mario", {"a": GROUND, "b": GROUND, "c": ATHLETIC})
    corpus = domain.dataset([folder])
    characters = level_characters(domain, corpus.train)
    assert characters.levels == {"ground": 2, "athletic": 1}
    assert characters.athletic_share == pytest.approx(1 / 3)
    # The ground levels' only pits are 3 wide; the athletic level's are 12 and 18 (95th percentile 17.7).
    assert characters.widest_pit == {"ground": 3, "athletic": 18}
    # 13 windows of 28 columns a level, a column apart: the first three miss the pit (columns 30-32),
    # the last eight hold all of it (3/28).
    ground = characters.window_gaps["ground"]
    assert ground[0] == 0.0 and ground[-1] == pytest.approx(3 / 28)
    assert min(characters.window_gaps["athletic"]) > 0.5
    # Levels of one character: nothing to tell apart, so no character is recorded.
    one = game(tmp_path / "One", {"a": GROUND, "b": GROUND})
    assert level_characters(domain, domain.dataset([one]).train) is None


def test_the_card_round_trip_and_damaged_cards_are_refused(domain, tmp_path):
    folder = game(tmp_path / "Tiny_Mario", {"a": GROUND, "c": ATHLETIC})
    characters = level_characters(domain, domain.dataset([folder]).train)
    card = json.loads(json.dumps(characters.to_card()))
    assert LevelCharacters.from_card(card) == characters
    damaged = [
        "not an object",
        {**card, "athletic_share": 1.5},
        {**card, "window_gap_quantiles": {"ground": [0.0, 0.5]}},
        {**card, "window_gap_quantiles": {**card["window_gap_quantiles"], "ground": [0.5, 0.1]}},
        {**card, "widest_pit": {"ground": 0, "athletic": 3}},
        {**card, "levels": {"ground": -1}},
    ]
    for bad in damaged:
        with pytest.raises(CheckpointError, match=CARD_KEY):
            LevelCharacters.from_card(bad)


@needs_shipped
def test_a_damaged_card_is_refused_at_load(tmp_path):
    from conftest import copy_checkpoint

    from generators.registry import load_generator

    weights, card_path = copy_checkpoint(SHIPPED_LEVELS, tmp_path / "levels")
    card = json.loads(card_path.read_text())
    card[CARD_KEY]["widest_pit"] = {"ground": "wide"}
    card_path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="level_characters widest_pit"):
        load_generator(weights)


def test_a_model_of_one_character_records_none_and_refuses_to_be_asked(tiny_generator):
    from generators.levels.long_level import sample_long_level

    assert CARD_KEY not in tiny_generator.card  # the tiny game's levels are all ground levels
    made = sample_long_level(tiny_generator, 60, 3)
    assert made.character is None
    with pytest.raises(UserError, match="records no level characters"):
        sample_long_level(tiny_generator, 60, 3, character="ground")
    with pytest.raises(UserError, match="ground, athletic"):
        sample_long_level(tiny_generator, 60, 3, character="watery")


@pytest.fixture(scope="module")
def mario():
    from generators.registry import load_generator

    return load_generator("levels")


@needs_shipped
def test_levels_keep_the_character_asked_for(mario):
    """The shipped model, 6 seeds of 200 columns each way: every ground level is a ground level,
    and the athletic level of a seed has more gap columns than its ground level."""
    from generators.levels.long_level import sample_long_level

    solid = solid_tiles(mario.domain.legend)

    def gaps(seed, character):
        made = sample_long_level(mario, 200, seed, character=character)
        assert made.character == character
        return float(gap_share(mario.domain.indices(made.level), solid))

    ground = [gaps(seed, "ground") for seed in range(6)]
    athletic = [gaps(seed, "athletic") for seed in range(6)]
    assert all(character_of(g) == "ground" for g in ground)
    assert all(a > g for a, g in zip(athletic, ground))
    assert sum(character_of(a) == "athletic" for a in athletic) >= 4


@needs_shipped
def test_a_drawn_character_follows_the_seed_and_the_training_mix(mario):
    from generators.levels.character import characters_of

    characters = characters_of(mario)
    drawn = [characters.draw(seed) for seed in range(400)]
    assert drawn == [characters.draw(seed) for seed in range(400)]  # seeded
    assert abs(drawn.count("athletic") / 400 - characters.athletic_share) < 0.06


@needs_shipped
def test_cli_character_is_written_and_checked(mario, tmp_path):
    from generators.levels.long_level import sample_long_level

    done = run_cli(
        "sample", "levels", "--length", "60", "--character", "athletic", "--seed", "4", "--out", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert "character=athletic" in done.stdout
    written = (tmp_path / "levels-seed4-len60.txt").read_text()
    assert written == sample_long_level(mario, 60, 4, character="athletic").level.text()
    done = run_cli("sample", "levels", "--character", "ground", "--out", str(tmp_path / "none"))
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --character needs --length: it chooses the windows of a whole level"
    assert not (tmp_path / "none").exists()
