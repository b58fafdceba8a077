"""Full-length levels from the shipped Mario model: seams (no half pipes, climbable ground
steps), flat start and finish, determinism, morphing, --length bounds and whole-length exports."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO_ROOT, SHIPPED_LEVELS, SHIPPED_LODE_RUNNER, files_under, run_cli

from generators.core.conditions import Condition
from generators.levels.domain import read_level
from generators.levels.long_level import sample_long_level
from generators.levels.metrics import broken_pipe_cells
from generators.levels.stitch import (
    FINISH_COLUMNS,
    MAX_CLIMB,
    START_COLUMNS,
    StitchConfig,
    Stitcher,
    compose_level,
    ground_heights,
    morph_latents,
    seam_steps,
    window_count,
    window_of_column,
)

pytestmark = pytest.mark.skipif(not SHIPPED_LEVELS.exists(), reason="the shipped levels checkpoint is missing")


@pytest.fixture(scope="module")
def mario():
    from generators.registry import load_generator

    return load_generator("levels")


def solid_of(generator) -> np.ndarray:
    return np.array(["solid" in tags for tags in generator.domain.legend.values()])


def test_window_arithmetic():
    # 16-column windows, overlap 6: each window after the first adds 10 columns.
    assert window_count(16, 16, 6) == 1
    assert window_count(50, 16, 6) == 5  # 16 + 4 * 10 = 56 >= 50
    assert window_count(56, 16, 6) == 5 and window_count(57, 16, 6) == 6
    assert [window_of_column(c, 16, 6) for c in (0, 15, 16, 25, 26)] == [0, 0, 1, 1, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seams_are_continuous(mario, seed):
    # Pipes on in every window make pipes likely at seams, where a careless stitch cuts them.
    made = sample_long_level(mario, 90, seed, ["pipe", "enemy", "coin"])
    grid = mario.domain.indices(made.level)
    assert grid.shape == (14, 90)
    assert not broken_pipe_cells(grid[None], mario.domain.legend).any()
    assert made.seams and seam_steps(grid, solid_of(mario), made.seams).max() <= MAX_CLIMB

    # The search for the seam found an overlap the next window decodes well: at most 0.6 nats per
    # cell on average, and under half what the same windows score unmatched (one candidate, no
    # steps: 0.93, 1.04 and 0.88 nats for seeds 0-2, against 0.38, 0.50 and 0.18 matched).
    def per_cell(config):
        made = sample_long_level(mario, 90, seed, ["pipe", "enemy", "coin"], config=config)
        return np.mean([w.overlap_log_likelihood for w in made.windows[1:]]) / (14 * config.overlap)

    matched, unmatched = per_cell(StitchConfig()), per_cell(StitchConfig(candidates=1, steps=0))
    assert matched > -0.6 and matched > unmatched / 2, (matched, unmatched)


def test_level_starts_and_ends_on_flat_ground(mario):
    made = sample_long_level(mario, 70, 3, ["enemy"])
    grid = mario.domain.indices(made.level)
    heights = ground_heights(grid, solid_of(mario))
    start, finish = grid[:, :START_COLUMNS], grid[:, -FINISH_COLUMNS:]
    for area, height in ((start, heights[0]), (finish, heights[-1])):
        assert height >= 1
        assert (area == area[:, :1]).all()  # every column the same
        chars = [mario.domain.chars[i] for i in area[:, 0]]
        assert chars[-height:] == ["X"] * height and set(chars[:-height]) == {"-"}


def test_same_seed_same_bytes_and_seeds_differ(mario):
    a = sample_long_level(mario, 60, 11, ["coin"]).level.text()
    b = sample_long_level(mario, 60, 11, ["coin"]).level.text()
    c = sample_long_level(mario, 60, 12, ["coin"]).level.text()
    assert a == b and a != c


def test_morph_starts_like_a_and_ends_like_b(mario):
    z_a, z_b = mario.latent_for_seed(5), mario.latent_for_seed(6)
    latents = morph_latents(z_a, z_b, 6, "slerp")
    assert np.allclose(latents[0], z_a) and np.allclose(latents[-1], z_b, atol=1e-5)
    made = compose_level(mario, latents, [mario.condition_labels(["enemy"])] * len(latents))  # exact, per window
    assert made.level.width == 16 + 5 * 10
    window_a = mario.domain.indices(mario.decode(z_a[None], ["enemy"])[0])
    grid = mario.domain.indices(made.level)
    # The first window is A's own window (bar the flat start), decoded the same way.
    assert (grid[:, START_COLUMNS:12] == window_a[:, START_COLUMNS:12]).mean() > 0.95
    # The last window was matched from B's latent and stayed near it.
    assert np.linalg.norm(made.windows[-1].latent - z_b) < np.linalg.norm(made.windows[-1].latent - z_a)


def test_per_window_conditions_turn_labels_off(mario):
    # The second half of the windows has coins off: none of their kept columns has a coin.
    count = window_count(80, 16, 6)
    labels = [["coin", "enemy"] if k < count // 2 else ["enemy"] for k in range(count)]
    made = compose_level(mario, np.stack([mario.latent_for_seed(s) for s in range(count)]), labels, 80)
    off_from = 16 + (count // 2 - 1) * 10
    assert "o" not in "".join(row[off_from:] for row in made.level.rows)


def test_txt_png_and_tiled_cover_the_whole_level(mario, tmp_path):
    made = sample_long_level(mario, 75, 7, ["pipe", "question-block"])
    paths = {ext: tmp_path / f"level.{ext}" for ext in ("txt", "png", "tmj", "tmx")}
    for path in paths.values():
        mario.domain.write(made.level, path)
    rows = paths["txt"].read_text(encoding="utf-8").splitlines()
    vglc = set("XS-?QE<>[]oBb")
    assert len(rows) == 14 and {len(r) for r in rows} == {75} and set("".join(rows)) <= vglc
    assert read_level(paths["txt"], mario.domain.legend) == made.level
    assert mario.domain.render(made.level).shape == (14 * 16, 75 * 16, 3)
    tiled = json.loads(paths["tmj"].read_text(encoding="utf-8"))
    assert (tiled["width"], tiled["height"]) == (75, 14)
    import xml.etree.ElementTree as ElementTree

    tmx = ElementTree.parse(paths["tmx"]).getroot()
    assert (tmx.get("width"), tmx.get("height")) == ("75", "14")


def test_length_out_of_bounds_exits_2(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("sample", "levels", "--length", "1001", "--seed", "1", "-n", "1", "--out", out)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "50 and 1000" in proc.stderr
    assert files_under(out) == []


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["sample", "levels", "--length", "49"], "50 and 1000"),
        (["sample", "levels", "--length", "-5", "--playable"], "50 and 1000"),
        (["sample", "levels", "--playable"], "--playable needs --length"),
        (["interpolate", "levels", "--seed-a", "1", "--seed-b", "2", "--length", "2000"], "50 and 1000"),
    ],
)
def test_bad_long_level_flags_exit_2_in_process(tmp_path, capsys, argv, fragment):
    from generators import cli

    out = tmp_path / "out"
    assert cli.main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1
    assert files_under(out) == []


def test_cli_long_levels_are_deterministic(tmp_path, capsys):
    # One run in a fresh process, one in this one: same seed, same bytes.
    from generators import cli

    argv = ["sample", "levels", "--length", "60", "--seed", "3", "-n", "2", "--condition", "pipe", "--out"]
    proc = run_cli(*argv, tmp_path / "a")
    assert proc.returncode == 0, proc.stderr
    assert cli.main([*argv, str(tmp_path / "b")]) == 0
    names = files_under(tmp_path / "a")
    assert names == ["levels-seed3-len60.txt", "levels-seed4-len60.txt"] == files_under(tmp_path / "b")
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_cli_morph_writes_one_level(tmp_path, capsys):
    from generators import cli

    assert (
        cli.main(["interpolate", "levels", "--seed-a", "1", "--seed-b", "2", "--length", "64", "--out", str(tmp_path)])
        == 0
    )
    assert "levels-morph-len64.txt\tcolumns=64\tfrom=seed:1\tto=seed:2" in capsys.readouterr().out
    level = read_level(
        tmp_path / "levels-morph-len64.txt",
        json.loads((REPO_ROOT / "checkpoints" / "levels.json").read_text())["domain_config"]["legend"],
    )
    assert (level.height, level.width) == (14, 64)


def test_stitcher_refuses_a_bad_overlap(mario):
    from generators.core.errors import UserError

    with pytest.raises(UserError, match="overlap"):
        Stitcher(mario, [[]], 60, StitchConfig(overlap=9))


def test_stitch_support_names_what_cannot_be_stitched(mario, domain):
    from generators.core.domain import Domain
    from generators.levels.stitch import stitch_support

    assert stitch_support(mario.domain) == "" and mario.domain.stitch_support() == ""
    assert "nothing to stitch" in Domain.stitch_support(type("Music", (), {"name": "music"})())
    no_ground = type(domain)({"-": ("passable", "empty"), "o": ("coin",)}, height=14, width=16)
    assert "no solid ground" in stitch_support(no_ground)
    assert "at least 12" in stitch_support(type(domain)(domain.legend, height=14, width=8))


def test_a_pipe_cut_by_a_seam_is_repaired(mario):
    # Window 1 has a pipe on its columns o-1 and o: dropping its overlap keeps only the right
    # half. Assembling must not leave that half pipe in the level.
    from generators.levels.stitch import WindowState

    domain, o = mario.domain, StitchConfig().overlap
    chars = domain.chars

    def window(grid_rows):
        idx = np.array([[chars.index(ch) for ch in row] for row in grid_rows])
        log_probs = np.full((len(chars), 14, 16), -20.0, dtype=np.float32)
        np.put_along_axis(log_probs, idx[None], 0.0, axis=0)
        return WindowState(np.zeros(32, np.float32), np.zeros(32, np.float32), log_probs, 0.0)

    flat = ["-" * 16] * 13 + ["X" * 16]
    piped = [row for row in flat]
    piped[10] = "-" * (o - 1) + "<>" + "-" * (16 - o - 1)
    piped[11] = piped[12] = "-" * (o - 1) + "[]" + "-" * (16 - o - 1)
    stitcher = Stitcher(mario, [[]] * 3, 36)
    level = stitcher.assemble([window(flat), window(piped), window(flat)])
    grid = domain.indices(level)
    assert level.width == 36
    assert not broken_pipe_cells(grid[None], domain.legend).any()
    assert not set("<>[]") & set("".join(level.rows))  # the half pipe became its best non-pipe tiles


def test_progress_reports_each_window_and_can_cancel(mario):
    seen = []
    sample_long_level(mario, 56, 1, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(k, 5) for k in range(1, 6)]

    class Cancelled(Exception):
        pass

    def cancel(done, total):
        if done == 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        sample_long_level(mario, 56, 1, progress=cancel)


def test_every_label_asked_for_appears(mario):
    every = ["enemy", "pipe", "coin", "breakable", "question-block"]
    for seed in (0, 1):
        text = "".join(sample_long_level(mario, 50, seed, every).level.rows)
        assert "E" in text and "<" in text and "o" in text and "S" in text and set("?Q") & set(text)
    # Excluded labels appear in no window; the labels left open are drawn window by window.
    only = Condition(("breakable",), ("enemy", "pipe", "coin"))
    assert not set("E<o") & set("".join(sample_long_level(mario, 50, 0, only).level.rows))
    drawn = sample_long_level(mario, 200, 0).labels
    assert len({tuple(window) for window in drawn}) > 1


@pytest.mark.skipif(not SHIPPED_LODE_RUNNER.exists(), reason="no shipped lode-runner model")
def test_whole_screen_models_refuse_length(tmp_path, capsys):
    from generators import cli

    assert (
        cli.main(["sample", "levels", "--checkpoint", "lode-runner", "--length", "100", "--out", str(tmp_path / "out")])
        == 2
    )
    assert "no windows to stitch" in capsys.readouterr().err
    assert files_under(tmp_path / "out") == []
