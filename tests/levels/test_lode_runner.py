"""Lode Runner, the second levels game: whole 22×32 levels with gold and enemy count bins.

A tiny Lode Runner-style game (6×8 single-screen levels) is built in code; one test reads the
real VGLC levels and skips when they are absent. The shipped `lode-runner` checkpoint is
checked for loading, sampling through the CLI and being steered by its count conditions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, TINY_CHANNELS, run_cli

from generators.core.errors import AssetError
from generators.levels.counts import CountBins, tertile_edges
from generators.levels.domain import Level, LevelsDomain, single_screen_size

LODE_LEGEND = {
    "B": ["solid", "ground"],
    "b": ["solid", "diggable", "ground"],
    ".": ["passable", "empty"],
    "-": ["passable", "climbable", "rope"],
    "#": ["passable", "climbable", "ladder"],
    "G": ["passable", "pickupable", "gold"],
    "E": ["damaging", "enemy"],
    "M": ["passable", "spawn"],
}
TEMPLATE = (
    "........",
    "..#.....",
    "bb#bbBbb",
    "..#-----",
    "........",
    "BBBBBBBB",
)
GOLD_CELLS = ((0, 0), (0, 1), (0, 3), (0, 4), (0, 5), (0, 6), (0, 7))
ENEMY_CELLS = ((4, 3), (4, 4), (4, 5), (4, 6), (4, 7))
# Level stem -> (gold, enemies): gold 1..6 and enemies 1,1,2,2,3,3 split into tertiles as
# few < 3 <= some < 5 <= many gold, and few < 2 <= some < 3 <= many enemies.
COUNTS = {f"lode-{i}": (i, (i + 1) // 2) for i in range(1, 7)}
DATA = REPO_ROOT.parent / "shared" / "data" / "vglc" / "Lode_Runner"


def lode_level(gold: int, enemies: int) -> Level:
    """The template with `gold` chests, `enemies` guards and one runner spawn."""
    grid = [list(row) for row in TEMPLATE]
    for y, x in GOLD_CELLS[:gold]:
        grid[y][x] = "G"
    for y, x in ENEMY_CELLS[:enemies]:
        grid[y][x] = "E"
    grid[4][0] = "M"
    return Level(tuple("".join(row) for row in grid))


def write_lode_game(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Loderunner.json").write_text(json.dumps({"tiles": LODE_LEGEND}), encoding="utf-8")
    for stem, (gold, enemies) in COUNTS.items():
        (folder / f"{stem}.txt").write_bytes(lode_level(gold, enemies).text().encode("utf-8"))
    return folder


@pytest.fixture
def lode_folder(tmp_path) -> Path:
    return write_lode_game(tmp_path / "Lode_Runner")


@pytest.fixture
def lode_domain(lode_folder) -> LevelsDomain:
    return LevelsDomain.for_data([lode_folder])


# --- whole levels and count bins ---------------------------------------------------------


def test_a_single_screen_game_is_modelled_as_whole_levels(lode_domain):
    assert lode_domain.whole_levels and lode_domain.shape == (8, 6, 8)
    assert lode_domain.presence_tags == ()  # enemies are counted, not merely present
    groups = {g.name: g for g in lode_domain.conditions.groups}
    assert groups["gold"].labels == ("some-gold", "few-gold", "many-gold") and groups["gold"].exclusive
    assert groups["enemies"].labels == ("some-enemies", "few-enemies", "many-enemies") and groups["enemies"].exclusive
    assert [(b.name, b.edges, b.least) for b in lode_domain.count_bins] == [("gold", (3, 5), 1), ("enemies", (2, 3), 1)]
    assert lode_domain.exact_counts == {"spawn": 1}


def test_side_scrollers_keep_their_windows(game_folder):
    domain = LevelsDomain.for_data([game_folder])  # the tiny Mario levels: 14 × 40, a strip
    assert not domain.whole_levels and domain.shape[1:] == (14, 16)
    assert domain.conditions.groups[0].name == "contains" and domain.count_bins == ()
    assert domain.augment is None


def test_single_screen_size_needs_one_size_no_wider_than_twice_the_height():
    assert single_screen_size([lode_level(1, 1), lode_level(2, 2)]) == (6, 8)
    strip = Level(("." * 13,) * 6)
    assert single_screen_size([strip]) is None
    assert single_screen_size([lode_level(1, 1), Level(("." * 8,) * 5)]) is None


def test_the_card_rebuilds_the_same_domain(lode_domain):
    rebuilt = LevelsDomain.from_card(json.loads(json.dumps(lode_domain.to_card())))
    assert rebuilt.conditions == lode_domain.conditions
    assert rebuilt.count_bins == lode_domain.count_bins and rebuilt.exact_counts == lode_domain.exact_counts
    assert (rebuilt.whole_levels, rebuilt.shape) == (True, (8, 6, 8))


def test_tertile_edges_balance_the_bins_and_survive_ties():
    assert tertile_edges(np.array([1, 1, 2, 2, 3, 3])) == (2, 3)
    assert tertile_edges(np.arange(1, 10)) == (4, 7)
    assert tertile_edges(np.array([3, 3, 3, 5])) == (4, 5)  # two values: few/some/many stay ordered


def test_count_bins_are_fitted_on_training_levels_only(lode_folder):
    domain = LevelsDomain.for_data([lode_folder], holdout=("lode-6", "lode-5"))  # gold 1..4 remain
    assert domain.count_bins[0].edges == tertile_edges(np.array([1, 2, 3, 4]))


@pytest.mark.parametrize("stem", sorted(COUNTS))
def test_labels_of_bins_the_counts(lode_domain, lode_folder, stem):
    gold, enemies = COUNTS[stem]
    expected_gold = "few-gold" if gold < 3 else "some-gold" if gold < 5 else "many-gold"
    expected_enemies = "few-enemies" if enemies < 2 else "some-enemies" if enemies < 3 else "many-enemies"
    level = lode_domain.read(lode_folder / f"{stem}.txt")
    assert lode_domain.labels_of(level) == [expected_gold, expected_enemies]
    vector = lode_domain.window_conditions(lode_domain.to_tensor(level)[None], "lode-runner")[0].numpy()
    assert lode_domain.conditions.decode(vector) == [expected_gold, expected_enemies, "lode-runner"]


def test_bin_ranges_cover_every_count_once():
    bins = CountBins("gold", ("gold",), (3, 5), least=1)
    assert [bins.range_of(label) for label in bins.labels] == [(3, 4), (1, 2), (5, None)]
    assert bins.bin_of(np.arange(0, 8)).tolist() == [1, 1, 1, 0, 0, 2, 2, 2]


def test_dataset_holds_whole_levels_and_skips_other_sizes(lode_domain, lode_folder):
    (lode_folder / "odd.txt").write_text("........\n" * 5 + "BBBBBBBB\n" + "BBBBBBBB\n")
    corpus = lode_domain.dataset([lode_folder], holdout=("lode-6",))
    assert (len(corpus.train), len(corpus.holdout)) == (5, 1)
    assert corpus.train.x.shape == (5, 8, 6, 8)
    assert corpus.description["whole_levels"] is True
    [skipped] = corpus.description["skipped"]
    assert "odd.txt" in skipped["file"] and "7 rows × 8 columns" in skipped["reason"]


def test_a_level_of_another_size_is_refused_in_one_line(lode_domain):
    with pytest.raises(AssetError, match=r"^level is 6 rows × 7 columns; this model makes whole 6 × 8 levels$"):
        lode_domain.to_tensor(Level(tuple(row[:7] for row in TEMPLATE)))


def test_mirroring_flips_levels_and_keeps_their_conditions(lode_domain, lode_folder):
    x = lode_domain.to_tensor(lode_domain.read(lode_folder / "lode-3.txt"))[None].repeat(64, 1, 1, 1)
    c = torch.ones(64, lode_domain.conditions.size)
    flipped, same_c = lode_domain.augment(x, c, torch.Generator().manual_seed(0))
    assert same_c is c
    mirrored = [bool(torch.equal(f, x[0].flip(2))) for f in flipped]
    assert all(m or torch.equal(f, x[0]) for m, f in zip(mirrored, flipped))
    assert 10 < sum(mirrored) < 54  # about half, seeded


# --- file round trips --------------------------------------------------------------------


def round_trips(domain: LevelsDomain, source: Path, out: Path) -> bool:
    """read -> tensor -> from_tensor -> write .txt gives the same bytes."""
    level = domain.from_tensor(domain.to_tensor(domain.read(source))[None])[0]
    domain.write(level, out)
    return out.read_bytes() == source.read_bytes()


def test_every_fixture_level_round_trips_byte_identical(lode_domain, lode_folder, tmp_path):
    assert all(round_trips(lode_domain, path, tmp_path / path.name) for path in sorted(lode_folder.glob("*.txt")))


@pytest.mark.skipif(not DATA.is_dir(), reason="the VGLC Lode Runner levels are not in ../shared/data")
def test_every_real_lode_runner_level_round_trips(tmp_path):
    paths = sorted(DATA.glob("*.txt"))
    assert len(paths) == 150
    domain = LevelsDomain.for_data([DATA])
    assert domain.whole_levels and domain.shape == (8, 22, 32)
    failed = [p.name for p in paths if not round_trips(domain, p, tmp_path / p.name)]
    assert failed == []


# --- count-faithful decoding -------------------------------------------------------------


@pytest.mark.parametrize("gold_label", ["few-gold", "some-gold", "many-gold"])
def test_decoding_under_a_condition_lands_in_the_bins_asked_for(lode_domain, gold_label):
    logits = torch.randn(16, *lode_domain.shape, generator=torch.Generator().manual_seed(5)) * 2.0
    levels = lode_domain.from_output(logits, condition=[gold_label, "many-enemies", "lode-runner"])
    for level in levels:
        assert lode_domain.labels_of(level) == [gold_label, "many-enemies"]
        assert sum(row.count("M") for row in level.rows) == 1  # exactly one runner spawn


def test_count_fixes_change_the_cheapest_cells_only(lode_domain, lode_folder):
    level = lode_domain.read(lode_folder / "lode-1.txt")  # 1 gold, 1 enemy: few and few
    logits = lode_domain.to_tensor(level)[None] * 10.0
    g = lode_domain.chars.index("G")
    logits[0, g, 4, 2] = 9.0  # one cell almost prefers gold; nothing else does
    [more] = lode_domain.from_output(logits, condition=["some-gold", "few-enemies"])
    changed = [(y, x) for y in range(6) for x in range(8) if more.rows[y][x] != level.rows[y][x]]
    assert len(changed) == 2 and (4, 2) in changed  # 1 -> 3 gold: the likeliest cell first
    assert all(more.rows[y][x] == "G" for y, x in changed)
    assert lode_domain.from_output(logits, condition=["few-gold", "few-enemies"])[0].rows[4][2] == "."


# --- a tiny trained whole-level model: eval metrics are game-aware ------------------------


def test_eval_of_a_whole_level_model_reports_counts_not_pipes(tmp_path):
    from generators.core.evaluation import evaluate
    from generators.registry import load_generator
    from generators.training_run import TrainingRequest, train_and_save

    folder = write_lode_game(tmp_path / "Lode_Runner")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LevelsDomain, "model_channels", TINY_CHANNELS)
        weights, _ = train_and_save(
            TrainingRequest.of(
                domain="levels",
                data=[folder],
                out=tmp_path / "tiny-lode",
                epochs=1,
                latent_size=4,
                holdout=("lode-6",),
                eval_samples=12,
                iwae_k=4,
                command="test",
            ),
            log=lambda message: None,
        )
    generator = load_generator(weights)
    assert generator.domain.whole_levels  # bins fitted without the held-out level (gold 1..5)
    assert generator.domain.count_bins[0].edges == tertile_edges(np.arange(1, 6))
    report = evaluate(generator, generator.domain.heldout_corpus([folder], generator.card), iwae_k=4, samples=12)
    assert "broken_pipe_rate" not in report and "training_windows_broken_pipe_rate" not in report
    assert set(report["conditional_accuracy"]) == {"gold", "enemies"}
    assert report["conditional_accuracy"]["gold"] == 1.0  # decoding keeps counts in their bins
    assert report["exactly_1_spawn_rate"] == 1.0
    assert report["heldout_items"] == 1 and "gold" in report["mean_count"]


# --- the shipped model --------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    from generators.registry import load_generator

    return load_generator("lode-runner", domain="levels")


def test_the_shipped_checkpoint_is_a_whole_level_lode_runner_model(shipped):
    domain = shipped.domain
    assert domain.whole_levels and domain.shape == (8, 22, 32)
    assert set(domain.chars) == set("Bb.-#GEM")
    assert [b.name for b in domain.count_bins] == ["gold", "enemies"]
    assert shipped.card["data"]["holdout_levels"]  # it was measured on levels it never saw


def test_cli_samples_22_by_32_lode_runner_levels(tmp_path, shipped):
    result = run_cli(
        "sample",
        "levels",
        "--checkpoint",
        "lode-runner",
        "-n",
        "3",
        "--seed",
        "7",
        "--condition",
        "many-gold",
        "--out",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    files = sorted(tmp_path.glob("*.txt"))
    assert [f.name for f in files] == [f"levels-seed{s}.txt" for s in (7, 8, 9)]
    for path in files:
        rows = path.read_text(encoding="utf-8").splitlines()
        assert len(rows) == 22 and all(len(row) == 32 for row in rows)
        assert set("".join(rows)) <= set("Bb.-#GEM")
        assert shipped.domain.labels_of(shipped.domain.read(path))[0] == "many-gold"


def test_the_count_conditions_steer_the_network_itself(shipped):
    """Expected gold (enemy) tiles under the decoder's own per-cell distribution, with no
    count fixing, over 64 seeded latents: more asked for gives more, clearly for gold."""
    z = np.stack([shipped.latent_for_seed(1000 + i) for i in range(64)])

    def expected(tile: str, labels: list[str]) -> float:
        probs = torch.softmax(shipped.decode_output(z, labels), dim=1)
        return float(probs[:, shipped.domain.chars.index(tile)].sum(dim=(1, 2)).mean())

    few, some, many = (expected("G", [f"{b}-gold", "some-enemies"]) for b in ("few", "some", "many"))
    edges = shipped.domain.count_bins[0].edges
    assert few < some < many
    assert few < edges[0] and many >= edges[1] * 0.75
    few, some, many = (expected("E", ["some-gold", f"{b}-enemies"]) for b in ("few", "some", "many"))
    assert few < some < many


def test_sampled_levels_have_the_gold_asked_for(shipped):
    def gold(label: str) -> np.ndarray:
        return np.array([s.asset.text().count("G") for s in shipped.sample(16, [label], seed=0)])

    few, many = gold("few-gold"), gold("many-gold")
    edges = shipped.domain.count_bins[0].edges
    assert few.max() < edges[0] <= edges[1] <= many.min()
    assert many.mean() > 2 * few.mean()
