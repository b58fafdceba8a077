"""What `scan` ranks files against (generators/core/scan.py): the label sets a file is tried under
(`explanations`), the best of them chosen, the baseline of how much there is to explain
(`Baseline`: fit, z-score, card round trip and every damaged field refused), the card's
`scan_reference` written by training and checked at load, and music's detection items in their
own metre (`Domain.scan_items`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from test_cli import cli_here
from test_music_cli import music_checkpoint, write_music_folder  # noqa: F401 - fixture

from generators.core.conditions import ConditionGroup, ConditionSpace
from generators.core.domain import Split
from generators.core.errors import CheckpointError
from generators.core.scan import (
    MAX_EXPLANATIONS,
    Baseline,
    explanations,
    reference_from_card,
    reference_scores,
    score_files,
)
from generators.music.domain import MusicDomain
from generators.music.roll import Clip
from generators.registry import load_generator

SPACE = ConditionSpace(
    (
        ConditionGroup("style", ("chorale", "folk", "fiddle"), exclusive=True),
        ConditionGroup("mode", ("major", "minor"), exclusive=True),
        ConditionGroup("flags", ("loud", "soft"), exclusive=False),
    )
)


def test_an_open_exclusive_group_is_tried_label_by_label():
    assert explanations(SPACE, ["minor", "folk"]) == [["minor", "folk"]]
    assert explanations(SPACE, ["minor"]) == [["minor", "chorale"], ["minor", "folk"], ["minor", "fiddle"]]
    both = explanations(SPACE, ["loud"])
    assert len(both) == 6 and ["loud", "fiddle", "minor"] in both  # 3 styles x 2 modes


def test_too_many_combinations_fall_back_to_what_the_file_shows():
    wide = ConditionSpace(
        (
            ConditionGroup("a", tuple(f"a{i}" for i in range(3)), exclusive=True),
            ConditionGroup("b", tuple(f"b{i}" for i in range(3)), exclusive=True),
        )
    )
    assert 9 > MAX_EXPLANATIONS and explanations(wide, []) == [[]]


class ScoresByLabels:
    """A stand-in generator whose ELBO depends only on the label set: "fiddle" explains best."""

    def __init__(self, domain):
        self.domain = domain
        self.calls = []

    def condition_labels(self, labels):
        return self.domain.conditions.decode(self.domain.conditions.encode(labels))

    def score(self, parts, label_sets):
        self.calls.append(len(parts))
        return np.array([-10.0 if "fiddle" in labels else -50.0 for labels in label_sets])


def tune(steps: int = 64, metre: str = "4/4") -> Clip:
    active = np.zeros((steps, 88), dtype=bool)
    onset = np.zeros((steps, 88), dtype=bool)
    for start in range(0, steps, 4):  # one voice: a tune, so its style is open
        active[start : start + 4, 40 + (start // 4) % 5] = True
        onset[start, 40 + (start // 4) % 5] = True
    return Clip(active, onset, metre=metre)


def test_a_tune_is_scored_under_the_style_that_explains_it_best():
    domain = MusicDomain()
    generator = ScoresByLabels(domain)
    [scored] = score_files(generator, [tune()], None)
    assert "chorale" not in domain.labels_of(tune())  # the style is open...
    assert "fiddle" in scored.labels and scored.elbo == -10.0 and scored.score == -10.0  # ...and fiddle wins
    assert sum(generator.calls) == len(domain.conditions.groups[0].labels)  # one try per style


def test_the_baseline_scores_a_z_score_around_what_items_with_that_much_score():
    rng = np.random.default_rng(0)
    notes = rng.uniform(10, 60, 200)
    features = np.stack([notes, rng.uniform(0, 1, 200)], axis=1)
    keys = [("chorale",) if i % 2 else ("folk",) for i in range(200)]
    elbos = np.where(np.array([k == ("chorale",) for k in keys]), -5.0 * notes, -2.0 * notes) + rng.normal(0, 1, 200)
    baseline = Baseline.fit(elbos, features, keys)
    assert set(baseline.fits) == {("*",), ("chorale",), ("folk",)}
    # An item exactly as expected scores about 0; 10 nats worse than a folk item with 30 notes, about -10.
    assert abs(baseline.z_score(-60.0, np.array([30.0, 0.5]), ("folk",))) < 0.5
    assert baseline.z_score(-70.0, np.array([30.0, 0.5]), ("folk",)) < -7
    assert baseline.z_score(-60.0, np.array([30.0, 0.5]), ("unseen",)) == baseline.z_score(
        -60.0, np.array([30.0, 0.5]), ("*",)
    )  # a key with too few items: the pooled fit
    again = Baseline.from_card(json.loads(json.dumps(baseline.to_card())), features=2)
    for key, (weights, spread) in baseline.fits.items():
        np.testing.assert_allclose(again.fits[key][0], weights, atol=1e-5)
        assert again.fits[key][1] == pytest.approx(spread, abs=1e-5)


GOOD = {"version": 1, "scores": [-2.0, 0.0, 1.0], "baseline": [{"labels": ["*"], "weights": [1.0, 2.0], "spread": 3.0}]}


@pytest.mark.parametrize(
    "damage, field",
    [
        (lambda r: r.update(version=2), "scan_reference"),
        (lambda r: r.update(scores={}), "scan_reference.scores"),
        (lambda r: r.update(scores=["x"]), "scan_reference.scores"),
        (lambda r: r.update(scores=[float("nan")]), "scan_reference.scores"),
        (lambda r: r.update(scores=[0.0] * 100_001), "scan_reference.scores"),
        (lambda r: r.update(baseline={}), "scan_reference.baseline"),
        (lambda r: r["baseline"][0].update(weights=[1.0]), "scan_reference.baseline"),
        (lambda r: r["baseline"][0].update(weights=[1.0, float("inf")]), "scan_reference.baseline"),
        (lambda r: r["baseline"][0].update(spread=0.0), "scan_reference.baseline"),
        (lambda r: r["baseline"][0].update(spread=True), "scan_reference.baseline"),
        (lambda r: r["baseline"][0].update(labels=["folk"]), "pooled fit"),
        (lambda r: r["baseline"][0].update(labels="*"), "scan_reference.baseline"),
    ],
)
def test_a_damaged_reference_is_refused_naming_its_field(damage, field):
    stored = json.loads(json.dumps(GOOD))
    assert len(reference_from_card(stored, features=1).scores) == 3
    damage(stored)
    with pytest.raises(CheckpointError, match=field.replace(".", r"\.")):
        reference_from_card(stored, features=1)


def test_a_baseline_for_a_domain_without_scan_features_is_refused():
    with pytest.raises(CheckpointError, match="no features"):
        reference_from_card(json.loads(json.dumps(GOOD)), features=0)


def test_training_records_the_reference_and_scan_reads_it(music_checkpoint):  # noqa: F811
    generator = load_generator(music_checkpoint, domain="music")
    stored = generator.card["scan_reference"]
    assert stored["features"] == list(MusicDomain.scan_features_names) and stored["baseline"]
    reference = reference_scores(generator)
    assert reference.baseline is not None and len(reference.scores) == len(stored["scores"]) >= 1
    assert "held-out real item" in reference.what and "as much" in reference.what


def test_a_damaged_reference_in_a_card_is_refused_at_load_in_one_line(music_checkpoint, tmp_path, capsys):  # noqa: F811
    weights = tmp_path / "m.safetensors"
    shutil.copyfile(music_checkpoint, weights)
    card = json.loads(music_checkpoint.with_suffix(".json").read_text())
    card["weights_file"] = weights.name
    card["scan_reference"]["scores"] = ["not a number"]
    weights.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=r"m\.json.*scan_reference\.scores"):
        load_generator(weights)
    proc = cli_here(["scan", "music", "--checkpoint", str(weights), "--in", str(tmp_path)], capsys)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "scan_reference" in proc.stderr


def test_music_detection_items_keep_their_metre():
    domain = MusicDomain()
    x = torch.stack([domain.to_tensor(tune(64, "4/4")), domain.to_tensor(tune(48, "3/4"))])
    c = torch.from_numpy(
        np.stack([domain.conditions.encode(["folk", "4/4"]), domain.conditions.encode(["folk", "3/4"])])
    )
    clips, outliers = domain.detection_items(Split(x, c, ["a", "b"]))
    assert [(clip.steps, clip.metre) for clip in clips] == [(64, "4/4"), (48, "3/4")] and outliers == {}
    assert [clip.steps for clip in domain.scan_items(Split(x, c, ["a", "b"]))] == [64, 48]
    assert not clips[1].active[48:].any()
    np.testing.assert_array_equal(domain.to_tensor(clips[1]), x[1])  # read back as it was cut


def test_scan_of_songs_ranks_by_the_z_score_and_says_so(music_checkpoint, tmp_path, capsys):  # noqa: F811
    folder = write_music_folder(tmp_path / "songs")
    out = tmp_path / "scan.json"
    argv = ["scan", "music", "--checkpoint", str(music_checkpoint), "--in", str(folder), "--json", str(out)]
    proc = cli_here(argv, capsys)
    assert proc.returncode == 0, proc.stderr
    assert "z-score" in proc.stdout.splitlines()[1] and "as much" in proc.stdout.splitlines()[0]
    rows = json.loads(out.read_text())["files"]
    assert len(rows) == 6 and [r["score"] for r in rows] == sorted(r["score"] for r in rows)
    styles = {Path(r["file"]).parent.name: set(r["labels"]) for r in rows}
    assert "chorale" in styles["chorale"]  # chords show their style; a tune is scored under the best one
    assert all(set(r["labels"]) & {"chorale", "folk", "fiddle"} for r in rows)


def test_a_model_with_nothing_held_out_is_read_against_its_own_samples(music_checkpoint, tmp_path):  # noqa: F811
    weights = tmp_path / "m.safetensors"
    shutil.copyfile(music_checkpoint, weights)
    card = json.loads(music_checkpoint.with_suffix(".json").read_text())
    card["weights_file"] = weights.name
    card["scan_reference"]["scores"] = []  # what training writes when nothing was held out
    weights.with_suffix(".json").write_text(json.dumps(card))
    reference = reference_scores(load_generator(weights))
    assert "own samples" in reference.what and len(reference.scores) == 200 and reference.baseline is not None
