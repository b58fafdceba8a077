"""The oracle (generators/levels/oracle.py): PlayAstar.jar of the mario-gpt wheel, run by Java.

No test needs Java or the jar: an empty file stands for the jar, and either a fake `java` script on
PATH or an injected runner prints the lines the jar prints.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from types import SimpleNamespace

import pytest
from conftest import REPO_ROOT

from generators import cli
from generators.core.errors import UserError
from generators.levels.commands import COMMANDS
from generators.levels.domain import Level
from generators.levels.oracle import (
    Oracle,
    OracleResult,
    agreement,
    find_jar,
    interleaved,
    jar_text,
    jar_tiles,
    parse_output,
    play_sets,
)

SMB = {
    "X": ("solid", "ground"),
    "S": ("solid", "breakable"),
    "-": ("passable", "empty"),
    "?": ("solid", "question block", "full question block"),
    "Q": ("solid", "question block", "empty question block"),
    "E": ("enemy", "damaging", "hazard", "moving"),
    "<": ("solid", "top-left pipe", "pipe"),
    ">": ("solid", "top-right pipe", "pipe"),
    "[": ("solid", "left pipe", "pipe"),
    "]": ("solid", "right pipe", "pipe"),
    "o": ("coin", "collectable", "passable"),
    "B": ("Cannon top", "cannon", "solid", "hazard"),
    "b": ("Cannon bottom", "cannon", "solid"),
}
FLAT = Level(("----", "----", "XXXX"))
WITH_ENEMY = Level(("----", "--E-", "XXXX"))
WIN_LINE = "Game Status: WIN Percentage Completion: 1.0"
JAR_OUTPUT = (
    "Running Astar agent with render: false\n=========================\n" + "*" * 64 + "\n"
    "{status}\nLives: 1 Coins: 2 Remaining Time: 191\nMario State: 1 (Mushrooms: 0 Fire Flowers: 0)\n" + "*" * 64
)


def one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert text and "\n" not in text
    return text


@pytest.fixture
def jar_folder(tmp_path):
    """A folder holding a stand-in PlayAstar.jar (never run) and img/."""
    folder = tmp_path / "simulator"
    (folder / "img").mkdir(parents=True)
    (folder / "PlayAstar.jar").write_bytes(b"")
    return folder


@pytest.fixture
def fake_java(tmp_path, monkeypatch):
    """A `java` on PATH that plays like the jar: LOSE at 0.5 when the level file holds an E, else WIN."""
    if sys.platform == "win32":
        pytest.skip("the fake java is a POSIX shell script")
    folder = tmp_path / "bin"
    folder.mkdir()
    java = folder / "java"
    java.write_text(
        "#!/bin/sh\n"
        '[ "$2" = "-jar" ] && [ "$5" = "norender" ] || { echo "bad arguments: $*" >&2; exit 3; }\n'
        'if grep -q E "$4"; then echo "Game Status: LOSE Percentage Completion: 0.5"; '
        'else echo "Game Status: WIN Percentage Completion: 1.0"; fi\n',
        encoding="utf-8",
    )
    java.chmod(java.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return java


def runner_printing(stdout: str = "", stderr: str = "", returncode: int = 0, seen: list | None = None):
    """A stand-in for subprocess.run that records each command and the level file it was given."""

    def run(command, **kwargs):
        if seen is not None:
            seen.append((command, open(command[4], encoding="utf-8").read(), kwargs))
        return subprocess.CompletedProcess(command, returncode, stdout, stderr)

    return run


# --- reading the jar's output ------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        (WIN_LINE, ("WIN", 1.0)),
        ("Game Status: LOSE Percentage Completion: 0.40942517", ("LOSE", 0.40942517)),
        ("Game Status: TIME_OUT Percentage Completion: 0.75", ("TIME_OUT", 0.75)),
    ],
)
def test_parse_output_reads_status_and_completion(line, expected):
    assert parse_output(JAR_OUTPUT.format(status=line)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Running Astar agent with render: false",
        "Game Status: RUNNING Percentage Completion: 0.2",
        "Game Status: WIN Percentage Completion: NaN",
        'Exception in thread "main" java.lang.ArrayIndexOutOfBoundsException: Index 0',
    ],
)
def test_unreadable_output_is_one_clear_line(text):
    with pytest.raises(UserError) as error:
        parse_output(text)
    assert "cannot read the oracle's result" in one_line(error)


# --- tiles -------------------------------------------------------------------------------


def test_the_vglc_mario_tiles_reach_the_jar_unchanged():
    assert jar_tiles(SMB) == {c: c for c in SMB}
    level = Level(("-o--?Q-", "<>-SB--", "[]-Eb--", "XXXXXXX"))
    assert jar_text(level, SMB) == level.text()


def test_tiles_the_jar_does_not_know_become_the_nearest_it_knows():
    legend = {
        "=": ("solid", "ground"),  # a block the jar does not know
        "#": ("solid",),  # the jar's pyramid block: solid, kept
        "T": ("solid",),  # the jar's flower pipe: not plain solid, so a block
        "B": ("solid", "breakable"),  # the jar's cannon: not a cannon here, so a block
        "p": ("solid", "pipe"),
        "c": ("solid", "cannon", "hazard"),
        "e": ("enemy", "damaging"),
        "^": ("hazard", "damaging"),  # spikes: a Spiky, which cannot be stomped
        "$": ("coin", "passable"),
        ".": ("passable", "empty"),
        "M": ("passable", "spawn"),  # the jar's start marker: not given to it
    }
    assert jar_tiles(legend) == {
        "=": "X",
        "#": "#",
        "T": "X",
        "B": "X",
        "p": "X",
        "c": "B",
        "e": "E",
        "^": "y",
        "$": "o",
        ".": "-",
        "M": "-",
    }
    assert jar_text(Level(("M.$e", "==^=")), legend) == "--oE\nXXyX\n"


def test_a_tile_outside_the_legend_is_refused():
    with pytest.raises(UserError) as error:
        jar_text(Level(("--Z-", "XXXX")), SMB)
    assert "'Z'" in one_line(error)


# --- finding the jar and Java --------------------------------------------------------------


def test_find_jar_takes_the_jar_or_its_folder(jar_folder):
    jar = (jar_folder / "PlayAstar.jar").resolve()
    assert find_jar(jar_folder) == jar and find_jar(jar_folder / "PlayAstar.jar") == jar


def test_a_missing_jar_is_one_line_saying_how_to_get_it(tmp_path):
    for path in (tmp_path, tmp_path / "nowhere" / "PlayAstar.jar"):
        with pytest.raises(UserError) as error:
            find_jar(path)
        text = one_line(error)
        assert "no PlayAstar.jar" in text and "pip download mario-gpt==0.1.3" in text
    other = tmp_path / "level.txt"
    other.write_text("X\n", encoding="utf-8")
    with pytest.raises(UserError) as error:
        find_jar(other)
    assert "not a .jar" in one_line(error)


def test_missing_java_is_one_line(jar_folder, tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(UserError) as error:
        Oracle(jar_folder)
    assert "no `java` on PATH" in one_line(error)


# --- playing -------------------------------------------------------------------------------


def test_play_runs_the_jar_on_a_temporary_level_file(jar_folder, fake_java):
    seen: list = []
    oracle = Oracle(jar_folder, timeout=30, runner=runner_printing(JAR_OUTPUT.format(status=WIN_LINE), seen=seen))
    result = oracle.play(FLAT, SMB)
    assert result.won and result.status == "WIN" and result.completion == 1.0 and result.seconds >= 0
    (command, text, kwargs), *_ = seen
    assert command[0] == str(fake_java) and command[2:4] == ["-jar", str(jar_folder.resolve() / "PlayAstar.jar")]
    assert command[5] == "norender" and command[6].rstrip(os.sep).endswith("img")
    assert text == FLAT.text() and kwargs["timeout"] == 30 and kwargs["capture_output"] and kwargs["text"]
    assert not os.path.exists(command[4])  # the temporary level file is gone


def test_play_through_a_fake_java_on_path(jar_folder, fake_java):
    oracle = Oracle(jar_folder)
    assert oracle.java == str(fake_java)
    assert oracle.play(FLAT, SMB).status == "WIN"
    lost = oracle.play(WITH_ENEMY, SMB)
    assert (lost.status, lost.completion, lost.won) == ("LOSE", 0.5, False)


def test_a_crashing_jar_is_one_line(jar_folder, fake_java):
    crash = 'Exception in thread "main" java.lang.NullPointerException\n\tat engine.core.MarioGame.gameLoop(X.java:1)'
    oracle = Oracle(jar_folder, runner=runner_printing(stderr=crash, returncode=1))
    with pytest.raises(UserError) as error:
        oracle.play(FLAT, SMB)
    assert "exit 1" in one_line(error) and "NullPointerException" in str(error.value)


def test_a_run_past_the_timeout_is_one_line(jar_folder, fake_java):
    def too_slow(command, **kwargs):
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    with pytest.raises(UserError) as error:
        Oracle(jar_folder, timeout=5, runner=too_slow).play(FLAT, SMB)
    assert "within 5 s" in one_line(error)


def test_sets_are_played_interleaved_and_a_repeated_level_once():
    assert interleaved({"a": [1, 2, 3], "b": [1], "c": [1, 2]}) == [
        ("a", 0),
        ("b", 0),
        ("c", 0),
        ("a", 1),
        ("c", 1),
        ("a", 2),
    ]

    class Counting:
        def __init__(self):
            self.played = []

        def play(self, level, legend):
            self.played.append(level)
            return OracleResult("LOSE" if "E" in "".join(level.rows) else "WIN", 1.0, 0.0)

    oracle = Counting()
    sets = {"original": [FLAT, WITH_ENEMY], "generated": [WITH_ENEMY], "generated_playable": [FLAT]}
    results = play_sets(oracle, sets, SMB)
    assert oracle.played == [FLAT, WITH_ENEMY]  # WITH_ENEMY and FLAT each once
    assert [r.status for r in results["original"]] == ["WIN", "LOSE"]
    assert results["generated"][0].status == "LOSE" and results["generated_playable"][0].status == "WIN"


def test_agreement_counts_each_way():
    theirs = [OracleResult(s, c, 2.0) for s, c in (("WIN", 1.0), ("LOSE", 0.5), ("TIME_OUT", 0.25), ("WIN", 1.0))]
    summary = agreement([True, True, False, False], theirs)
    assert summary["levels"] == 4 and summary["completable_share"] == 0.5 and summary["oracle_win_share"] == 0.5
    assert summary["agreement"] == 0.5 and summary["ours_only"] == 1 and summary["oracle_only"] == 1
    assert summary["oracle_mean_completion"] == pytest.approx(0.6875) and summary["oracle_mean_seconds"] == 2.0
    assert summary["oracle_statuses"] == {"WIN": 2, "LOSE": 1, "TIME_OUT": 1}
    with pytest.raises(ValueError):
        agreement([True], theirs)


# --- eval levels --oracle ------------------------------------------------------------------


def eval_args(**overrides):
    values = dict(oracle="/nowhere", long_levels=3, long_length=60, seed=0, repair_budget=2, data=[])
    return SimpleNamespace(**{**values, **overrides})


def test_eval_refuses_the_oracle_where_windows_cannot_be_stitched():
    single_screens = SimpleNamespace(domain=SimpleNamespace(stitch_support=lambda: "it makes single screens"))
    with pytest.raises(UserError) as error:
        COMMANDS.evaluate(single_screens, None, eval_args())
    assert one_line(error) == "--oracle plays whole levels: it makes single screens"


def test_eval_refuses_the_oracle_without_whole_levels(tiny_checkpoint, game_folder, jar_folder, fake_java, capsys):
    rc = cli.main(
        ["eval", "levels", "--checkpoint", str(tiny_checkpoint), "--data", str(game_folder)]
        + ["--samples", "2", "--iwae-k", "2", "--long-levels", "0", "--oracle", str(jar_folder)]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "--long-levels" in err and len(err.strip().splitlines()) == 1


def test_eval_refuses_a_missing_jar(tiny_checkpoint, game_folder, tmp_path, capsys):
    rc = cli.main(
        ["eval", "levels", "--checkpoint", str(tiny_checkpoint), "--data", str(game_folder)]
        + ["--samples", "2", "--iwae-k", "2", "--long-levels", "2", "--oracle", str(tmp_path / "nothing")]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "no PlayAstar.jar" in err and len(err.strip().splitlines()) == 1


LODE_DATA = REPO_ROOT.parent / "shared" / "data" / "vglc" / "Lode_Runner"


@pytest.mark.skipif(not LODE_DATA.is_dir(), reason="the VGLC Lode Runner levels are not in ../shared/data/vglc")
def test_eval_of_a_single_screen_model_refuses_the_oracle(jar_folder, fake_java, capsys):
    rc = cli.main(
        ["eval", "levels", "--checkpoint", "lode-runner", "--data", str(LODE_DATA)]
        + ["--samples", "2", "--iwae-k", "2", "--oracle", str(jar_folder)]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "--oracle plays whole levels" in err and len(err.strip().splitlines()) == 1


def test_eval_reports_the_oracle_beside_the_agent(
    tiny_checkpoint, game_folder, jar_folder, fake_java, tmp_path, capsys
):
    out = tmp_path / "metrics.json"
    rc = cli.main(
        ["eval", "levels", "--checkpoint", str(tiny_checkpoint), "--data", str(game_folder)]
        + ["--samples", "2", "--iwae-k", "2", "--long-levels", "2", "--long-length", "60", "--repair-budget", "1"]
        + ["--oracle", str(jar_folder), "--json", str(out)]
    )
    printed, err = capsys.readouterr()
    assert rc == 0, err
    report = json.loads(out.read_text(encoding="utf-8"))["long_levels"]
    oracle = report["oracle"]
    assert oracle["jar"] == str((jar_folder / "PlayAstar.jar").resolve())
    assert oracle["original"]["levels"] == report["original"]["levels"] == 4
    assert oracle["generated"]["levels"] == oracle["generated_playable"]["levels"] == 2
    assert oracle["original"]["completable_share"] == report["original"]["completable_share"]
    assert oracle["generated"]["completable_share"] == report["completable_share"]
    assert oracle["generated_playable"]["completable_share"] == report["completable_share_playable"]
    for name in ("original", "generated", "generated_playable"):
        row = oracle[name]
        assert 0 <= row["agreement"] <= 1 and 0 <= row["oracle_win_share"] <= 1
        assert sum(row["oracle_statuses"].values()) == row["levels"]
    # The fake java loses every level with an enemy in it: every tiny original has one.
    assert oracle["original"]["oracle_win_share"] == 0.0
    assert "long_levels.oracle.original.agreement" in printed
