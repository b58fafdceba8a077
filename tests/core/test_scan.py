"""`scan`: a folder ranked from least to most typical, where each file goes wrong, unreadable files
reported and skipped, and one clear line for bad input."""

from __future__ import annotations

import json
import random

import numpy as np
from conftest import LEVELS, level_text
from test_cli import cli_here

from generators.core.scan import overlay, percentile


def scrambled(rows: list[str], start: int, stop: int, seed: int = 0) -> list[str]:
    """The level with columns start..stop-1 replaced by random tiles: a planted anomaly."""
    rng = random.Random(seed)
    return ["".join(rng.choice("X-?SE<>[]o") if start <= x < stop else c for x, c in enumerate(row)) for row in rows]


def fixture_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for stem, rows in LEVELS.items():
        (folder / f"{stem}.txt").write_text(level_text(rows), encoding="utf-8")
    (folder / "planted.txt").write_text(level_text(scrambled(LEVELS["level-2"], 20, 30)), encoding="utf-8")
    (folder / "broken.txt").write_text("not a level ☃\n", encoding="utf-8")
    (folder / "notes.md").write_text("ignored: not a level format\n", encoding="utf-8")
    return folder


def test_a_planted_anomaly_ranks_first_and_its_band_is_found(tiny_checkpoint, tmp_path, capsys):
    folder = fixture_folder(tmp_path)
    out = tmp_path / "report" / "scan.json"
    proc = cli_here(
        ["scan", "levels", "--checkpoint", str(tiny_checkpoint), "--in", str(folder), "--json", str(out)], capsys
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    ranked = [row["file"].rsplit("/", 1)[1] for row in report["files"]]
    assert ranked[0] == "planted.txt" and len(ranked) == len(LEVELS) + 1
    worst = report["files"][0]["worst"]  # "columns a-b", 1-based, inside the scrambled band 21-30
    first, last = (int(v) for v in worst.split()[1].split("-"))
    assert 17 <= first and last <= 34
    assert report["reference"].endswith("held-out real items")
    assert [s["file"].rsplit("/", 1)[1] for s in report["skipped"]] == ["broken.txt"]
    assert "skipped" in proc.stderr and "broken.txt" in proc.stderr
    assert all(
        (out.parent / "scan-overlays").joinpath(p.rsplit("/", 1)[1]).is_file()
        for p in (row["overlay"] for row in report["files"])
    )
    percentiles = [row["percentile"] for row in report["files"]]
    assert percentiles[0] <= min(percentiles[1:]) and all(0 <= p <= 100 for p in percentiles)


def test_bad_inputs_are_one_line(tiny_checkpoint, tmp_path, capsys):
    argv = ["scan", "levels", "--checkpoint", str(tiny_checkpoint), "--in"]
    for folder, fragment in ((tmp_path / "nowhere", "is not a folder"), (tmp_path, "holds no levels files")):
        proc = cli_here([*argv, str(folder)], capsys)
        assert proc.returncode == 2 and fragment in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    (tmp_path / "a-file").write_text("x")
    proc = cli_here([*argv, str(fixture_folder(tmp_path)), "--json", str(tmp_path / "a-file" / "x.json")], capsys)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_percentile_and_overlay():
    reference = np.array([-30.0, -20.0, -10.0, 0.0])
    assert percentile(reference, -100.0) == 0.0 and percentile(reference, -15.0) == 50.0
    assert percentile(reference, 5.0) == 100.0
    heat = np.zeros((2, 2))
    heat[1, 0] = -50.0  # the worst cell turns red, the others stay as they were
    picture = overlay(np.full((4, 4, 3), 200, np.uint8), heat)
    assert picture[3, 0, 0] > picture[3, 0, 1] and (picture[:2] == 200).all()
