"""The JSB benchmark protocol on a synthetic file: windows, padding mask, and the masked
IWAE bound (which must equal the generic bound when no frame is padded)."""

from __future__ import annotations

import json

import torch

from generators.core.vae import ConditionalVAE, VAEConfig, iwae_bound
from generators.music.jsb import FRAMES, load_jsb, masked_iwae, scoring_windows, training_windows


def test_windows_padding_and_masked_bound(tmp_path):
    piece = [[60, 64, 67]] * 20 + [[62]] * 5  # 25 frames
    (tmp_path / "jsb.json").write_text(json.dumps({"train": [piece], "valid": [piece], "test": [piece, piece[:16]]}))
    splits = load_jsb(tmp_path / "jsb.json")
    assert splits["train"][0].shape == (25, 88) and splits["train"][0][0, 60 - 21]
    assert training_windows(splits["train"]).shape == (25 - FRAMES + 1, 1, FRAMES, 88)
    x, mask = scoring_windows(splits["test"])
    assert x.shape == (3, 1, FRAMES, 88) and mask.sum(1).tolist() == [16, 9, 16]
    assert x[1, 0, 9:].sum() == 0
    torch.manual_seed(0)
    model = ConditionalVAE(VAEConfig((1, FRAMES, 88), 0, 4, (4, 8), "bernoulli")).eval()
    full = torch.ones(3, FRAMES)
    ours = masked_iwae(model, x, full, k=60, chunk=50, seed=3)
    generic = iwae_bound(model, x, torch.zeros(3, 0), k=60, chunk=50, seed=3)
    assert torch.allclose(ours, generic, atol=1e-3)
    assert masked_iwae(model, x, mask, k=60, chunk=50, seed=3)[1] > ours[1]  # fewer frames to explain
