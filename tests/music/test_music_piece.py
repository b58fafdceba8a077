"""Longer pieces (`generators.music.piece`, `sample music --bars`, `interpolate music --bars`):
lengths in bars of each metre, the first clip is plain `sample`'s, seams are matched (the next
clip's first bar replays the last bar it continues better than an unmatched clip does), a morph
runs A -> B, and bad lengths are refused with one line."""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest
from conftest import files_under, run_cli
from test_music_cli import music_checkpoint  # noqa: F401 - fixture

from generators.core.errors import UserError
from generators.music.piece import PieceMaker, clip_count, morph_piece, sample_piece, seed_latents
from generators.music.voices import window_from
from generators.registry import load_generator


def test_clip_count_gives_three_new_bars_a_clip():
    assert [clip_count(b) for b in (4, 5, 7, 8, 16, 64)] == [1, 2, 2, 3, 5, 21]


@pytest.mark.parametrize("metre, bar", [("4/4", 16), ("3/4", 12), ("6/8", 12)])
def test_a_piece_has_the_bars_asked_for_and_opens_with_the_sample_of_its_seed(music_checkpoint, metre, bar):
    generator = load_generator(music_checkpoint, domain="music")
    piece = sample_piece(generator, 11, 10, ["folk", metre])
    assert piece.steps == 10 * bar and piece.metre == metre
    (plain,) = generator.sample(1, ["folk", metre], seed=11)
    assert plain.asset.steps == 4 * bar
    assert np.array_equal(piece.active[: 4 * bar], plain.asset.active)


def test_seams_are_matched(music_checkpoint):
    """Each matched latent makes the bar it continues likelier as its opening than the clip's
    own latent does."""
    import torch

    generator = load_generator(music_checkpoint, domain="music")
    for seed in range(3):
        labels = generator.labels_for_seed(seed, ["chorale"])
        maker = PieceMaker(generator, labels)
        bases = seed_latents(generator, seed, 4, labels, 1.0)
        maker.compose(bases, 13)
        for k in range(1, 4):
            opening = window_from(maker.tokens(maker.latents[k - 1]), 3 * maker.bar, maker.bar)
            with torch.no_grad():
                matched = maker.opening_log_prob(torch.from_numpy(maker.latents[k][None]), opening)
                own = maker.opening_log_prob(torch.from_numpy(bases[k][None].astype(np.float32)), opening)
            assert matched > own, (seed, k)


def test_a_morph_runs_from_a_to_b(music_checkpoint):
    generator = load_generator(music_checkpoint, domain="music")
    z_a, z_b = generator.latent_for_seed(1), generator.latent_for_seed(2)
    labels = generator.labels_for_seed(1)
    piece = morph_piece(generator, z_a, z_b, labels, 16)
    assert piece.steps == 16 * piece.steps_per_bar
    with pytest.raises(UserError, match="4 to 64 bars"):
        morph_piece(generator, z_a, z_b, labels, 65)


def test_the_cli_writes_pieces_and_refuses_bad_lengths(music_checkpoint, tmp_path):
    proc = run_cli(
        "sample", "music", "--checkpoint", music_checkpoint, "-n", "2", "--seed", "3", "--bars", "8",
        "--condition", "4/4", "--format", "mid", "--out", tmp_path / "o",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert files_under(tmp_path / "o") == ["music-seed3-8bars.mid", "music-seed4-8bars.mid"]
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "o" / "music-seed3-8bars.mid"))
    assert midi.time_signature_changes[0].numerator == 4 and midi.get_end_time() <= 8 * 4 * 60 / 80 + 0.5
    morph = run_cli(
        "interpolate", "music", "--checkpoint", music_checkpoint, "--seed-a", "1", "--seed-b", "2",
        "--bars", "12", "--format", "mid", "--out", tmp_path / "m",
    )  # fmt: skip
    assert morph.returncode == 0, morph.stderr
    assert files_under(tmp_path / "m") == ["music-morph-12bars.mid"]
    for bad in ("3", "65", "x"):
        refused = run_cli("sample", "music", "--checkpoint", music_checkpoint, "--bars", bad, "--out", tmp_path / bad)
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert files_under(tmp_path / bad) == []
