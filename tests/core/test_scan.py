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
    assert report["reference"] in ("1 held-out real item", f"{report['reference'].split()[0]} held-out real items")
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


# --- measuring the scan: planted anomalies, ROC AUC, precision at 10 ----------------------


def test_roc_auc_perfect_reversed_random_and_ties():
    from generators.core.scan import roc_auc

    normal, low = np.array([-1.0, -2.0, -3.0]), np.array([-10.0, -20.0])
    assert roc_auc(normal, low) == 1.0 and roc_auc(low, normal) == 0.0  # lower scores are the anomalies
    assert roc_auc(np.full(5, -4.0), np.full(3, -4.0)) == 0.5  # all tied: every pair counts half
    # normals 1, 2, 3 against 2: above 3 (1 pair), tied with 2 (half a pair), below 1 (none)
    assert roc_auc(np.array([1.0, 2.0, 3.0]), np.array([2.0])) == 0.5
    assert roc_auc(np.array([1.0, 2.0, 3.0]), np.array([2.0, 0.0])) == (1.5 + 3.0) / 6
    rng = np.random.default_rng(0)
    assert abs(roc_auc(rng.normal(size=4000), rng.normal(size=4000)) - 0.5) < 0.02  # same distribution


def test_precision_at_10_counts_ties_in_proportion():
    from generators.core.scan import precision_at

    normal = np.arange(20, dtype=float)
    assert precision_at(normal, np.full(10, -5.0)) == 1.0
    assert precision_at(normal, np.full(10, 50.0)) == 0.0
    assert precision_at(normal, np.array([-1.0, -2.0])) == 0.2  # 2 anomalies, both in the lowest 10
    # normals 0-8 and anomalies 8, 8: two places left (9th, 10th) for three items tied at 8
    assert abs(precision_at(np.arange(9.0), np.array([8.0, 8.0])) - (2 * 2 / 3) / 10) < 1e-12
    assert precision_at(np.array([9.0, 10.0]), np.arange(8.0)) == 0.8
    assert precision_at(np.array([1.0]), np.array([0.0])) == 0.5  # k is at most every item


def test_a_scrambled_band_changes_only_the_band(domain):
    from generators.levels.domain import Level

    level = Level(tuple(LEVELS["level-1"]))
    for seed in range(20):
        made, where = domain.plant_anomalies(level, np.random.default_rng(seed))["scrambled_band"]
        assert (made.height, made.width) == (level.height, level.width) and set("".join(made.rows)) <= set(domain.chars)
        changed = [x for x in range(level.width) if any(a[x] != b[x] for a, b in zip(level.rows, made.rows))]
        assert 3 <= len(changed) and changed[-1] - changed[0] < 10  # random tiles over 6-10 columns
        assert list(where) == list(range(where[0], where[-1] + 1)) and 2 <= len(where) <= 4
        assert all(x // 4 in where for x in changed)  # the place given is the groups of 4 the band is in
        outside = [x for x in range(level.width) if x // 4 not in where]
        assert all(a[x] == b[x] for a, b in zip(level.rows, made.rows) for x in outside)


def test_a_tritone_moves_every_note_6_semitones_from_the_middle_on():
    from generators.music.domain import MusicDomain
    from generators.music.roll import Clip, notes_to_roll

    music = MusicDomain()
    # pitch, start, end (steps): one before the middle, one held across it, one after it
    notes = np.array([[60, 0, 4], [64, 28, 36], [67, 40, 48]])
    clip = Clip(*notes_to_roll(notes))
    made, where = music.plant_anomalies(clip, np.random.default_rng(0))["tritone_half"]
    assert where == (2, 3)  # bars 3 and 4
    assert (made.active[:32] == clip.active[:32]).all() and (made.onset[:32] == clip.onset[:32]).all()
    assert (made.active[32:] == np.roll(clip.active[32:], 6, axis=1)).all()
    assert made.notes().tolist() == [[60, 0, 4], [64, 28, 32], [70, 32, 36], [73, 40, 48]]
    # near the top of the keyboard it moves down instead (C8 is MIDI 108)
    high = Clip(*notes_to_roll(np.array([[60, 0, 4], [105, 40, 48]])))
    made, _ = music.plant_anomalies(high, np.random.default_rng(0))["tritone_half"]
    assert made.notes().tolist() == [[60, 0, 4], [99, 40, 48]]


def test_a_song_is_heard_in_the_key_it_opens_in_for_where_it_goes_wrong():
    """`position_parts` pins every part to the key of the song's first two sounding bars, and
    `tokens_in_c` moves a pinned part from that tonic, not from its own estimate."""
    from generators.music.domain import MusicDomain
    from generators.music.roll import Clip, estimate_key, notes_to_roll
    from generators.music.voices import planes_to_tokens, transpose_tokens

    music = MusicDomain()
    # a bar of rest, two bars in D (G major's chord, then D major's), then a bar of Db major's chord
    notes = [[67, 16, 20], [71, 20, 24], [74, 24, 28], [79, 28, 32], [62, 32, 36], [66, 36, 40], [69, 40, 44]]
    notes += [[74, 44, 48], [61, 48, 64], [65, 48, 64], [68, 48, 64]]
    clip = Clip(*notes_to_roll(np.array(notes)))
    assert estimate_key(clip.active) == ("C#", "major")  # what the whole clip would be moved from
    parts = music.position_parts(clip, music.scan_parts(clip))
    assert [p.heard_in for p in parts] == ["D"] and (parts[0].active == clip.active).all()
    as_written = planes_to_tokens(clip.active, clip.onset, 64)
    assert (music.tokens_in_c(parts[0]) == transpose_tokens(as_written, -2)).all()  # D down to C
    assert (music.tokens_in_c(clip) == transpose_tokens(as_written, -1)).all()  # C# down to C


def test_the_shipped_model_finds_the_half_a_tritone_moved():
    """A tune whose opening is weakly tonal (D F A, then B) and whose second half is plainly C major:
    moved a tritone, the second half wins the key estimate of the whole clip, so heard in its own
    key the clip's worst bar fell in the untouched first half (2 of 12 keys found). Heard in the
    key it opens in, the worst bar is in the moved half: 12 of 12 when this test was written."""
    from generators.core.scan import file_positions, score_files
    from generators.music.roll import Clip, notes_to_roll
    from generators.registry import load_generator

    generator = load_generator("music")
    pitches = [62, 65, 69, 65, 62, 65, 69, 71, 72, 67, 64, 67, 72, 67, 60]
    starts = [4 * i for i in range(15)]
    tune = np.array([[p, s, s + (8 if i == 14 else 4)] for i, (p, s) in enumerate(zip(pitches, starts))])
    found = 0
    for shift in range(-5, 7):
        clip = Clip(*notes_to_roll(tune + [shift, 0, 0]))
        made, where = generator.domain.plant_anomalies(clip, np.random.default_rng(0))["tritone_half"]
        scores, names, _ = file_positions(generator, [made], score_files(generator, [made], None))[0]
        assert names == ["bar 1", "bar 2", "bar 3", "bar 4"]
        found += int(np.argmin(scores)) in where
    assert found >= 11, found


def test_a_random_bar_changes_only_its_bar():
    from generators.music.domain import MusicDomain
    from generators.music.roll import Clip, notes_to_roll

    music = MusicDomain()
    clip = Clip(*notes_to_roll(np.array([[60 + (s // 4) % 8, s, s + 4] for s in range(0, 64, 4)])))
    for seed in range(10):
        made, (bar,) = music.plant_anomalies(clip, np.random.default_rng(seed))["random_bar"]
        inside = np.zeros(64, dtype=bool)
        inside[16 * bar : 16 * bar + 16] = True
        assert (made.active[~inside] == clip.active[~inside]).all() and made.active[inside].any()
        keys = np.flatnonzero(made.active[inside].any(axis=0)) + 21  # MIDI numbers
        assert keys.min() >= 60 - 3 and keys.max() <= 67 + 3  # the clip's own range, widened to an octave


def test_noise_is_planted_everywhere():
    from generators.images.domain import ImagesDomain
    from generators.images.files import Picture

    images = ImagesDomain()
    picture = Picture(np.full((64, 64, 4), 128, np.uint8))
    made, where = images.plant_anomalies(picture, np.random.default_rng(0))["gaussian_noise"]
    difference = made.pixels.astype(float) - picture.pixels
    assert where is None and 0.1 * 255 * 0.7 < difference.std() < 0.2 * 255 * 1.1


def test_an_image_is_tried_under_the_classifier_s_guesses():
    """Each group's likeliest label, and the next while the likeliest is under 90% sure."""
    import torch

    from generators.images.domain import ImagesDomain
    from generators.images.files import Picture

    images = ImagesDomain()
    categories, styles = (g.labels for g in images.conditions.groups)

    class Guessing(torch.nn.Module):
        config = type("Config", (), {"groups": (("category", categories), ("style", styles))})

        def forward(self, x):
            unsure = torch.zeros((len(x), len(categories)))
            unsure[:, 3], unsure[:, 5] = 2.0, 1.9  # two close guesses
            sure = torch.tensor([[-9.0, 9.0]]).expand(len(x), 2)  # the second style, surely
            return [unsure, sure]

    images._scan_classifier = Guessing()
    sets = images.scan_explanations(None, [Picture(np.zeros((64, 64, 4), np.uint8))] * 2)
    assert sets == [[[categories[3], styles[1]], [categories[5], styles[1]]]] * 2
    images._scan_classifier = None  # a model whose labels the shipped classifier does not know
    assert images.scan_explanations(None, [Picture(np.zeros((64, 64, 4), np.uint8))]) is None


def test_detection_report_and_eval_flag(tiny_generator, tiny_checkpoint, game_folder, capsys):
    from generators.core.scan import detection_report
    from generators.levels.domain import Level

    normals = [Level(tuple(rows)) for rows in LEVELS.values()]
    report = detection_report(tiny_generator, normals, seed=0, count=6)
    row = report["scrambled_band"]
    assert (row["normals"], row["planted"]) == (4, 6)
    assert 0.0 <= row["roc_auc"] <= 1.0 and 0.0 <= row["precision_at_10"] <= 1.0 and 0.0 <= row["localisation"] <= 1.0
    assert detection_report(tiny_generator, normals, seed=0, count=6) == report  # seeded
    argv = ["eval", "levels", "--checkpoint", str(tiny_checkpoint), "--data", str(game_folder)]
    proc = cli_here([*argv, "--samples", "4", "--iwae-k", "2", "--long-levels", "0", "--scan-anomalies", "3"], capsys)
    assert proc.returncode == 0, proc.stderr
    assert "scan_detection.scrambled_band.roc_auc" in proc.stdout
    assert "scan_detection.scrambled_band.localisation" in proc.stdout
    proc = cli_here([*argv, "--scan-anomalies", "-1"], capsys)
    assert proc.returncode == 2 and "--scan-anomalies" in proc.stderr


def test_eval_reports_files_of_another_set_beside_the_planted_kinds(tiny_checkpoint, game_folder, tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    for k in range(3):  # levels of noise: no game's
        (foreign / f"noise-{k}.txt").write_text(
            level_text(scrambled(LEVELS["level-1"], 0, 40, seed=k)), encoding="utf-8"
        )
    (foreign / "broken.txt").write_text("not a level ☃\n", encoding="utf-8")  # unreadable: left out
    argv = ["eval", "levels", "--checkpoint", str(tiny_checkpoint), "--data", str(game_folder)]
    quick = ["--samples", "4", "--iwae-k", "2", "--long-levels", "0"]
    proc = cli_here([*argv, *quick, "--scan-anomalies", "3", "--scan-foreign", str(foreign)], capsys)
    assert proc.returncode == 0, proc.stderr
    assert "scan_detection.other_set.roc_auc" in proc.stdout and "scan_detection.scrambled_band" in proc.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    for extra, fragment in (
        (["--scan-foreign", str(foreign)], "needs --scan-anomalies"),
        (["--scan-anomalies", "3", "--scan-foreign", str(tmp_path / "nowhere")], "is not a folder"),
        (["--scan-anomalies", "3", "--scan-foreign", str(empty)], "holds no readable levels files"),
    ):
        proc = cli_here([*argv, *quick, *extra], capsys)
        assert proc.returncode == 2 and fragment in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_pipe_or_a_device_in_the_folder_is_listed_with_its_reason(tiny_checkpoint, tmp_path, capsys):
    """Not left out unsaid: a named pipe and a link to /dev/zero with a level's extension are
    reported as skipped (and read neither forever nor at all), and the count says "1 file"."""
    import os

    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "one.txt").write_text(level_text(LEVELS["level-1"]), encoding="utf-8")
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    out = tmp_path / "scan.json"
    argv = ["scan", "levels", "--checkpoint", str(tiny_checkpoint), "--in", str(folder), "--json", str(out)]
    proc = cli_here(argv, capsys)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert sorted(s["file"].rsplit("/", 1)[1] for s in report["skipped"]) == ["pipe.txt", "zero.txt"]
    assert all("not a regular file" in s["reason"] for s in report["skipped"])
    assert proc.stdout.startswith("1 file ranked")
