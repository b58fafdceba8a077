"""How many palette colours an icon set needs: the PSNR of the training images quantised to a
palette of K colours (`generators/images/palette.py`'s fit), and the time the fit takes.

    .venv/bin/python bench/bench_palette.py --data ../shared/data/emoji/emoji-cache.npz [--sizes 32 64 128 256]

PSNR is measured on premultiplied RGBA (what the images measures use) over every pixel of every
training image, against its nearest palette colour. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import common  # same folder: the table helper every bench shares
import torch

from generators.core.likelihoods import PaletteCategorical
from generators.images.domain import ImagesDomain
from generators.images.palette import fit_palette
from generators.images.pixels import psnr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", required=True, help="an emoji cache or an image folder")
    parser.add_argument("--sizes", nargs="+", type=common.positive, default=[32, 64, 128, 256])
    args = parser.parse_args(argv)
    _, corpus = ImagesDomain.prepare_training([Path(p) for p in args.data])
    x = corpus.train.x
    rows = []
    for size in args.sizes:
        started = time.perf_counter()
        colours = fit_palette(x, size)
        seconds = time.perf_counter() - started
        palette = PaletteCategorical(colours)
        quantised = torch.cat([palette.image(palette.indices(part)) for part in x.split(256)])
        rows.append([size, len(colours), f"{float(psnr(quantised, x).mean()):.2f}", f"{seconds:.1f}"])
    print(f"{len(x)} training images; {common.machine()}")
    print(common.table(["asked", "colours", "PSNR dB (mean per image)", "fit s"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
