"""Benchmarks of the levels model: latency, training throughput and peak memory.

    .venv/bin/python bench/bench_levels.py [--checkpoint levels] [--data DIR ...] [--quick] [--json FILE]

1. Decode-plus-render latency through the Generator facade only, as the GUI pays it:
   `g.decode(z, labels)` then `g.domain.render(a)` for every asset, at batch 1 and 16.
2. Training throughput (windows/s) of our Trainer against a bare PyTorch loop doing the
   same arithmetic: same model config and initial weights, batch, Adam, loss, beta, data
   order and reparameterisation noise. Both end on the same weights, which the table
   checks, so the ratio measures only the Trainer's overhead.
3. Peak resident memory of the process after each phase.

With --data (VGLC game folders) the training data is the real training split; without it,
random one-hot windows of the checkpoint domain's shape, so the bench runs anywhere.
The phases, measurements and tables are bench/common.py's, shared with the images and music
benches; this file supplies the levels checkpoint and training data.
This is a benchmark, not a test: it asserts nothing and prints tables (see bench/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import common  # same folder: the phases, measurements and tables every model bench shares
import torch

from generators.core.domain import Split
from generators.levels.domain import LevelsDomain
from generators.registry import load_generator


def training_data(args, domain: LevelsDomain) -> tuple[Split, str]:
    """The windows to train on and a description of where they came from."""
    if args.data:
        data_domain, corpus = LevelsDomain.prepare_training([Path(p) for p in args.data], holdout=())
        return corpus.train, f"VGLC {', '.join(data_domain.games)}: {len(corpus.train)} training windows"
    count = args.steps * common.BATCH_SIZE if args.steps else 4096
    gen = torch.Generator().manual_seed(common.SEED)
    channels, height, width = domain.shape
    indices = torch.randint(channels, (count, height, width), generator=gen).numpy()
    x = domain.one_hot(indices)
    c = domain.window_conditions(x, domain.games[0] if domain.games else None)
    return Split(x, c, []), f"synthetic: {count} random one-hot windows of shape {domain.shape}"


def run(args) -> dict:
    results, memory = common.start(args)
    generator = load_generator(args.checkpoint, domain="levels")
    memory.append(("load checkpoint", common.peak_rss_mib()))
    common.describe_checkpoint(args, generator)
    common.latency_phase(generator, args, results, memory)
    split, description = training_data(args, generator.domain)
    return common.training_phase(args, generator, split, description, results, memory)


def main(argv: list[str] | None = None) -> int:
    return common.bench_main("levels", run, argv)


if __name__ == "__main__":
    sys.exit(main())
