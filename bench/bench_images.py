"""Benchmarks of the images model: decode-plus-render latency, training throughput against
a bare loop, and peak memory.

    .venv/bin/python bench/bench_images.py [--checkpoint images] [--data CACHE_OR_FOLDER] [--quick] [--json FILE]

1. Decode + render latency through the Generator facade (decode to RGBA images, then the
   domain's preview array per image), at batch 1 and 16: what the GUI pays per preview.
2. Training throughput of our Trainer against a bare PyTorch loop on the same model, data,
   seeds and batch order; both end on the same weights, which the table checks. The
   phases, measurements and tables are bench/common.py's, shared with the levels bench.
With --data (an emoji cache from prep_images.py, or an image folder) the training images are
real; without it, seeded random RGBA images of the model's shape. A benchmark, not a test:
it asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import common  # same folder: the phases, measurements and tables every model bench shares
import numpy as np
import torch

from generators.core.domain import Split
from generators.registry import load_generator


def training_data(args, generator) -> tuple[Split, str]:
    if args.data:
        _, corpus = type(generator.domain).prepare_training([Path(p) for p in args.data])
        return corpus.train, f"{len(corpus.train)} training images from {', '.join(args.data)}"
    count = args.steps * common.BATCH_SIZE if args.steps else 2048
    gen = torch.Generator().manual_seed(common.SEED)
    x = torch.randint(0, 256, (count, *generator.domain.shape), generator=gen).float() / 255.0
    c = torch.from_numpy(np.tile(generator.domain.conditions.encode([]), (count, 1)))
    return Split(x, c, []), f"synthetic: {count} random 8-bit RGBA images of shape {generator.domain.shape}"


def run(args) -> dict:
    results, memory = common.start(args)
    generator = load_generator(args.checkpoint, domain="images")
    memory.append(("load checkpoint", common.peak_rss_mib()))
    common.describe_checkpoint(args, generator, f"channels {generator.model.config.channels}, ")
    common.latency_phase(generator, args, results, memory)
    split, description = training_data(args, generator)
    return common.training_phase(args, generator, split, description, results, memory)


def main(argv=None) -> int:
    return common.bench_main("images", run, argv)


if __name__ == "__main__":
    sys.exit(main())
