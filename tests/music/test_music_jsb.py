"""The JSB benchmark protocol on a synthetic file: voice-token windows, the padding mask, the
masked IWAE bound (which must equal the generic bound when no frame is padded), and the
transposition that keeps every pitch in range."""

from __future__ import annotations

import json

import torch

from generators.core.vae import ConditionalVAE, VAEConfig, iwae_bound
from generators.music.jsb import FRAMES, load_jsb, masked_iwae, scoring_windows, training_windows, transpose_windows
from generators.music.voices import LOWEST_PITCH, ONSET, PITCHES, REST, TOKENS, VOICES


def test_windows_padding_and_masked_bound(tmp_path):
    piece = [[60, 64, 67]] * 20 + [[62]] * 5  # 25 frames
    (tmp_path / "jsb.json").write_text(json.dumps({"train": [piece], "valid": [piece], "test": [piece, piece[:16]]}))
    splits = load_jsb(tmp_path / "jsb.json")
    assert splits["train"][0].shape == (25, 88) and splits["train"][0][0, 60 - 21]
    windows = training_windows(splits["train"])
    assert windows.shape == (25 - FRAMES + 1, TOKENS, FRAMES, VOICES)
    first = windows[0].argmax(0)  # (FRAMES, VOICES)
    assert first[0].tolist() == [ONSET + 67 - LOWEST_PITCH, ONSET + 64 - LOWEST_PITCH, REST, ONSET + 60 - LOWEST_PITCH]
    x, mask = scoring_windows(splits["test"])
    assert x.shape == (3, TOKENS, FRAMES, VOICES) and mask.sum(1).tolist() == [16, 9, 16]
    assert (x[1].argmax(0)[9:] == REST).all()
    torch.manual_seed(0)
    model = ConditionalVAE(VAEConfig((TOKENS, FRAMES, VOICES), 0, 4, (4, 8), "categorical", layout="sequence")).eval()
    full = torch.ones(3, FRAMES)
    ours = masked_iwae(model, x, full, k=60, chunk=50, seed=3)
    generic = iwae_bound(model, x, torch.zeros(3, 0), k=60, chunk=50, seed=3)
    assert torch.allclose(ours, generic, atol=1e-3)
    assert masked_iwae(model, x, mask, k=60, chunk=50, seed=3)[1] > ours[1]  # fewer frames to explain


def test_transposition_keeps_pitches_in_range():
    x = torch.zeros(64, TOKENS, FRAMES, VOICES)
    x[:, REST] = 1
    x[:32, REST, :4, 0], x[:32, ONSET, :4, 0] = 0, 1  # the lowest pitch: can only go up
    x[32:, REST, :4, 0], x[32:, ONSET + PITCHES - 1, :4, 0] = 0, 1  # the highest: can only go down
    moved, _ = transpose_windows(x, torch.zeros(64, 0), torch.Generator().manual_seed(0))
    assert moved.shape == x.shape and torch.equal(moved.sum(1), x.sum(1))
    pitch = moved[:, :, 0, 0].argmax(1) - ONSET
    assert (pitch[:32] >= 0).all() and (pitch[:32] <= 5).all() and (pitch[32:] >= PITCHES - 7).all()
    assert len(set(pitch.tolist())) > 4  # it does transpose


def test_padded_frames_sum_out_with_the_head_over_the_voices():
    """With the autoregressive head, what a padded frame holds still changes nothing in the
    likelihood of the real frames given z: a frame's voices hear only each other. (The encoder
    does see the padding, but any q gives a bound.)"""
    piece = [[60, 64, 67, 72]] * 7 + [[62, 65]] * 2  # 9 frames: one window, 7 of it padding
    x, mask = scoring_windows([load_roll(piece)])
    torch.manual_seed(0)
    config = VAEConfig((TOKENS, FRAMES, VOICES), 0, 4, (4, 8), "categorical", layout="sequence", autoregressive=8)
    model = ConditionalVAE(config).eval()
    with torch.no_grad():
        model.autoregression.readout.normal_(0.0, 1.0)
    other = x.clone()
    other[:, :, 9:] = 0
    other[:, ONSET + 70 - LOWEST_PITCH, 9:] = 1  # a pitch in every voice of every padded frame
    z, c = torch.randn(1, 4), torch.zeros(1, 0)

    def per_frame(target):
        return (target * torch.log_softmax(model.decode(z, c, target=target), dim=1)).sum(dim=(1, 3))[0]

    with torch.no_grad():
        a, b = per_frame(x), per_frame(other)
    assert mask[0, :9].all() and not mask[0, 9:].any()
    torch.testing.assert_close(a[:9], b[:9])
    assert not torch.allclose(a[9:], b[9:])
    assert masked_iwae(model, x, mask, k=20, seed=1) > masked_iwae(model, x, torch.ones_like(mask), k=20, seed=1)


def load_roll(frames: list[list[int]]):
    """One piece's frames as the (T, 88) roll `load_jsb` makes."""
    import numpy as np

    roll = np.zeros((len(frames), 88), dtype=bool)
    for t, frame in enumerate(frames):
        roll[t, [p - 21 for p in frame]] = True
    return roll
