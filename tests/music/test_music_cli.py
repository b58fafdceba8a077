"""A tiny music model end to end: trained on a MIDI folder built in code (one subfolder per
style), saved and reloaded, then driven through the CLI: same seed -> same bytes, every
bad input exits 2 with one line, interpolation between two MIDI files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import files_under, run_cli, run_cli_many
from test_music import MELODY, write_midi

from generators.music.domain import MusicDomain
from generators.music.voices import TOKENS, VOICES
from generators.registry import load_generator


def write_music_folder(root: Path) -> Path:
    """Two styles, three 8-bar pieces each: chords (chorale) and a melody (folk)."""
    for k in range(3):
        chords = [(p + k, bar * 16, bar * 16 + 16) for bar in range(8) for p in (48, 60, 64, 67)]
        write_midi(
            (root / "chorale").mkdir(parents=True, exist_ok=True) or root / "chorale" / f"c{k}.mid", chords, tempo=80
        )
        tune = [(p + k, s + 64 * half, e + 64 * half) for half in range(2) for p, s, e in MELODY]
        write_midi((root / "folk").mkdir(parents=True, exist_ok=True) or root / "folk" / f"f{k}.mid", tune, tempo=110)
    return root


@pytest.fixture(scope="session")
def music_checkpoint(tmp_path_factory) -> Path:
    from generators.training_run import TrainingRequest, train_and_save

    root = tmp_path_factory.mktemp("tiny-music")
    folder = write_music_folder(root / "songs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MusicDomain, "model_channels", (4, 8))
        weights, card = train_and_save(
            TrainingRequest.of(
                domain="music",
                data=[folder],
                out=root / "tiny-music",
                epochs=1,
                latent_size=4,
                holdout=("folk/f2.mid", "chorale/c2.mid"),
                eval_samples=8,
                iwae_k=4,
                command="test",
            ),
            log=lambda message: None,
        )
    return weights


def test_checkpoint_round_trip_and_card(music_checkpoint):
    generator = load_generator(music_checkpoint, domain="music")
    card = json.loads(music_checkpoint.with_suffix(".json").read_text())
    assert card["domain"] == "music" and card["model"]["input_shape"] == [TOKENS, 64, VOICES]
    assert card["domain_config"]["styles"] == ["chorale", "folk"]
    assert card["data"]["per_style"]["folk"]["holdout_pieces"] >= 1
    metrics = card["metrics"]
    for key in ("iwae_nats_per_frame", "negative_elbo_nats_per_frame", "styles", "mode_accuracy", "key_agreement"):
        assert key in metrics
    texture = metrics["styles"]["chorale"]["real_heldout"]["steps_with_4_notes"]
    assert texture > 0.9  # the held-out chorale is four-note chords throughout (its last bars ring out)
    assert 0.0 <= metrics["reconstruction_notes"]["f1"] <= 1.0
    a = generator.sample(2, ["folk", "minor"], seed=5)
    b = load_generator(music_checkpoint).sample(2, ["folk", "minor"], seed=5)
    assert all(np.array_equal(x.asset.active, y.asset.active) for x, y in zip(a, b))
    assert a[0].asset.program == 73  # folk clips export as a flute


VARIANTS = {
    "mid": ["--format", "mid"],
    "png": ["--format", "png"],
    "draw": ["--format", "mid", "--sampling", "draw", "--note-temperature", "1.5", "--four-tracks"],
}


def test_sample_same_seed_same_bytes(music_checkpoint, tmp_path):
    runs = run_cli_many(
        [
            [
                "sample",
                "music",
                "--checkpoint",
                music_checkpoint,
                "-n",
                "2",
                "--seed",
                "7",
                *extra,
                "--out",
                tmp_path / f"{name}{i}",
            ]
            for name, extra in VARIANTS.items()
            for i in (1, 2)
        ]
    )
    assert [r.returncode for r in runs] == [0] * 6, [r.stderr for r in runs]
    for name, extra in VARIANTS.items():
        first, second = tmp_path / f"{name}1", tmp_path / f"{name}2"
        fmt = extra[1]
        assert files_under(first) == [f"music-seed7.{fmt}", f"music-seed8.{fmt}"] == files_under(second)
        assert all((first / n).read_bytes() == (second / n).read_bytes() for n in files_under(first))
    # Drawing at a high note temperature gives other notes than the likeliest ones.
    assert (tmp_path / "draw1" / "music-seed7.mid").read_bytes() != (tmp_path / "mid1" / "music-seed7.mid").read_bytes()


def test_music_only_options_are_refused_for_levels(tiny_checkpoint, tmp_path):
    proc = run_cli("sample", "levels", "--checkpoint", tiny_checkpoint, "--sampling", "draw", "--out", tmp_path / "o")
    assert proc.returncode == 2 and proc.stderr.strip() == "error: --sampling does not apply to levels"


def bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    truncated = tmp / "cut.mid"
    truncated.write_bytes(write_midi(tmp / "whole.mid", MELODY).read_bytes()[:40])
    text = tmp / "notes.mid"
    text.write_text("C D E F G\n")
    return {
        "truncated": (truncated, "truncated MIDI file"),
        "not-midi": (text, "not a MIDI file"),
        "no-notes": (write_midi(tmp / "empty.mid", []), "has no notes"),
        "drums-only": (write_midi(tmp / "drums.mid", [], drums=[(36, 0, 1), (38, 4, 5)]), "only drum tracks"),
    }


def test_every_bad_input_exits_2_with_one_line(music_checkpoint, tmp_path):
    cases = bad_inputs(tmp_path)
    commands = [
        [
            "interpolate",
            "music",
            "--checkpoint",
            music_checkpoint,
            "--from",
            path,
            "--seed-b",
            "1",
            "--out",
            tmp_path / name,
        ]
        for name, (path, _) in cases.items()
    ]
    commands.append(
        ["sample", "music", "--checkpoint", music_checkpoint, "--condition", "jazz", "--out", tmp_path / "cond"]
    )
    fragments = [fragment for _, fragment in cases.values()] + [
        "unknown condition 'jazz'; valid conditions: chorale, folk, major, minor, c, c#"
    ]
    for proc, fragment, name in zip(run_cli_many(commands), fragments, [*cases, "cond"]):
        assert proc.returncode == 2, (name, proc.stderr)
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in proc.stderr, (name, proc.stderr)
        assert files_under(tmp_path / name) == []


def test_interpolate_between_midi_files_reports_dropped_content(music_checkpoint, tmp_path):
    a = write_midi(tmp_path / "a.mid", MELODY + [(60, 80, 84)], drums=[(36, 0, 1)])
    b = write_midi(tmp_path / "b.mid", [(p, s, e) for p, s, e in MELODY if p != 76], tempo=70)
    proc = run_cli(
        "interpolate",
        "music",
        "--checkpoint",
        music_checkpoint,
        "--from",
        a,
        "--to",
        b,
        "--steps",
        "3",
        "--format",
        "mid",
        "--out",
        tmp_path / "out",
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 drum track" in proc.stderr and "1 note after bar 4" in proc.stderr
    assert files_under(tmp_path / "out") == [f"music-interp0{i}.mid" for i in range(3)]


def test_bad_files_and_empty_label_folders_are_reported_per_file(tmp_path):
    from generators.music.domain import MusicDomain

    root = write_music_folder(tmp_path / "songs")
    (root / "folk" / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")  # cut short
    (root / "chorale" / "notes.mid").write_text("not a midi file")
    (root / "fiddle").mkdir()  # a label folder left empty
    _, corpus = MusicDomain.prepare_training([root])
    skipped = {Path(s["file"]).name: s["reason"] for s in corpus.description["skipped"]}
    assert set(skipped) == {"broken.mid", "notes.mid", "fiddle"}
    assert skipped["fiddle"] == "label folder has no MIDI files"
    assert len(corpus.train) + len(corpus.holdout) > 0  # the good pieces still train


def test_fine_tuning_a_music_model_on_a_users_midi_folder(music_checkpoint, tmp_path):
    folder = write_music_folder(tmp_path / "mine")
    proc = run_cli(
        "train",
        "music",
        "--data",
        folder,
        "--init",
        music_checkpoint,
        "--epochs",
        "1",
        "--eval-samples",
        "4",
        "--iwae-k",
        "2",
        "--out",
        tmp_path / "tuned",
    )
    assert proc.returncode == 0, proc.stderr
    card = json.loads((tmp_path / "tuned.json").read_text())
    assert (
        card["lineage"][-1]["weights_sha256"]
        == json.loads(music_checkpoint.with_suffix(".json").read_text())["weights_sha256"]
    )
    assert card["model"] == json.loads(music_checkpoint.with_suffix(".json").read_text())["model"]
    # A style the parent model does not know is refused with one line.
    (folder / "jazz").mkdir()
    (folder / "chorale" / "c0.mid").rename(folder / "jazz" / "j0.mid")
    refused = run_cli(
        "train", "music", "--data", folder, "--init", music_checkpoint, "--epochs", "1", "--out", tmp_path / "t2"
    )
    assert refused.returncode == 2 and "jazz" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
