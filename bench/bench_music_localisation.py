"""Which localises a planted music anomaly better: the VAE's own per-step likelihood (what `scan`
uses) or a 1-D convolutional autoencoder over time? Issue 18 asks for the comparison.

    .venv/bin/python bench/bench_music_localisation.py --music-data music21-cache-1000.npz

The autoencoder is trained here, from scratch, on the shipped music model's training windows (the
same split, each moved to C as the VAE sees it): piano-roll planes (active and onset, 88 keys each)
over 64 sixteenth steps, three convolutions down to 8 steps of a 16-channel code and three back up,
Bernoulli per cell. A bar's score is the mean reconstruction log-likelihood of its steps.

Both read a clip's parts as `scan` does (`Domain.position_parts`: in the key the song opens in) and
are scored on the same normals and planted clips (`scan.detection_report`, the same seeds as
bench_scan.py), so only the per-bar score differs. Localisation: the share of planted clips whose
worst bar lies in the planted place (a random bar, or the tritone-moved second half).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import common
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from generators.core.scan import detection_report, reference_scores
from generators.music.roll import KEYS
from generators.music.voices import tokens_to_planes
from generators.registry import load_generator

BATCH = 128


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Music localisation: the VAE's likelihood against a 1-D autoencoder.")
    parser.add_argument("--music-data", nargs="+", type=Path, required=True, help="the music cache (prep_music.py)")
    parser.add_argument("--epochs", type=common.positive, default=20, help="autoencoder epochs (default 20)")
    parser.add_argument("--planted", type=common.positive, default=100, help="planted clips of each kind")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=common.positive, default=2, help="torch threads (default 2)")
    return parser.parse_args(argv)


class TimeAutoencoder(nn.Module):
    """(B, 2 * KEYS, 64) planes -> logits of the same shape, through (B, 16, 8)."""

    def __init__(self, width: int = 128, code: int = 16):
        super().__init__()
        planes = 2 * KEYS
        self.encode = nn.Sequential(
            nn.Conv1d(planes, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(width, width, 4, 2, 1),
            nn.ReLU(),
            nn.Conv1d(width, width, 4, 2, 1),
            nn.ReLU(),
            nn.Conv1d(width, code, 4, 2, 1),
        )
        self.decode = nn.Sequential(
            nn.ConvTranspose1d(code, width, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose1d(width, width, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose1d(width, width, 4, 2, 1),
            nn.ReLU(),
            nn.Conv1d(width, planes, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def planes_in_c(domain, clips: list) -> torch.Tensor:
    """(N, 2 * KEYS, 64): each clip's first 4 bars as the VAE reads them (moved to C), as planes."""
    out = np.zeros((len(clips), 2 * KEYS, 64), np.float32)
    for i, clip in enumerate(clips):
        active, onset = tokens_to_planes(domain.tokens_in_c(clip))
        out[i, :KEYS], out[i, KEYS:] = active.T, onset.T
    return torch.from_numpy(out)


def train_autoencoder(x: torch.Tensor, epochs: int) -> TimeAutoencoder:
    torch.manual_seed(0)
    model = TimeAutoencoder()
    optimiser = torch.optim.Adam(model.parameters(), 1e-3)
    start = time.perf_counter()
    for epoch in range(epochs):
        order, total = torch.randperm(len(x)), 0.0
        for i in range(0, len(x), BATCH):
            batch = x[order[i : i + BATCH]]
            loss = F.binary_cross_entropy_with_logits(model(batch), batch, reduction="sum") / len(batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        print(f"autoencoder epoch {epoch + 1}: {total / len(x):.1f} nats a window, {time.perf_counter() - start:.0f} s")
    return model.eval()


def autoencoder_locator(model: TimeAutoencoder):
    """A `detection_report` locate: per part, each step's reconstruction log-likelihood spread over
    the voices of a (64, VOICES) map, so `Domain.positions` turns it into bars as it does the VAE's."""

    @torch.inference_mode()
    def locate(generator, assets: list, scored: list) -> list:
        domain, found = generator.domain, []
        for asset, score in zip(assets, scored):
            parts = domain.position_parts(asset, score.parts)
            x = planes_in_c(domain, parts)
            per_step = -F.binary_cross_entropy_with_logits(model(x), x, reduction="none").sum(dim=1).numpy()
            voices = domain.shape[2]
            maps = [np.repeat(row[:, None] / voices, voices, axis=1) for row in per_step]
            found.append(domain.positions(asset, maps))
        return found

    return locate


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    info = common.machine()
    print(f"machine: {info['platform']}, {info['cpu_count']} CPUs, torch {info['torch']}")
    print(f"torch threads {info['torch_threads']}")
    generator = load_generator("music")
    domain = generator.domain
    corpus = domain.heldout_corpus(args.music_data, generator.card)
    windows = planes_in_c(domain, domain.scan_items(corpus.train))
    print(f"{len(windows)} training windows")
    locate = autoencoder_locator(train_autoencoder(windows, args.epochs))
    normals, _ = domain.detection_items(corpus.holdout)
    baseline = reference_scores(generator).baseline
    rows, pooled = [], {"vae": [], "ae": []}
    for seed in args.seeds:
        by = {
            name: detection_report(generator, normals, seed, args.planted, baseline=baseline, **extra)
            for name, extra in (("vae", {}), ("ae", {"locate": locate}))
        }
        for kind in by["vae"]:
            rows.append([seed, kind, by["vae"][kind]["planted"], *(f"{by[n][kind]['localisation']:.0%}" for n in by)])
            for name in by:
                pooled[name].append(by[name][kind]["localisation"])
    rows.append(["all", "pooled", "", *(f"{np.mean(pooled[n]):.0%}" for n in pooled)])
    headers = ["seed", "kind", "planted", "VAE per-step likelihood (scan)", "1-D autoencoder"]
    print("\nLocalisation: planted clips whose worst bar lies in the planted place (target 80%)")
    print(common.table(headers, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
