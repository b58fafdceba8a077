"""Benchmark: what opening a user's file costs with each shipped model, the encoder's mean against
the latent a file gets (`Generator.encode(refine=True)`: the best latent along `vae.refinement_path`,
as `interpolate --from` and the app's Open… and drop encode a file).

    .venv/bin/python bench/bench_open_file.py [--models levels lode-runner images music] [--calls 10] [--threads 2]

Each model encodes `--calls` of its own decoded samples, one at a time, under the labels each
shows (`Domain.labels_of`, as the app's Open… does). Medians and the ratio come from the same run.
A benchmark, not a test: it asserts nothing and prints a table (see bench/README.md).
"""

from __future__ import annotations

import argparse
import sys
import time

import common  # same folder: machine description and table printing
import numpy as np
import torch

from generators.core.errors import UserError
from generators.registry import load_generator

DEFAULT_MODELS = ("levels", "lode-runner", "images", "music")


def median_seconds(function, calls: int) -> float:
    """The median wall time of `calls` calls of `function`, after one untimed warm-up call."""
    function()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), help="shipped names or checkpoint paths")
    parser.add_argument("--calls", type=common.positive, default=10, help="files opened per model (default 10)")
    parser.add_argument("--threads", type=common.positive, default=2, help="torch threads (default 2)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"machine: {common.machine()}")
    rows = []
    for name in args.models:
        try:
            generator = load_generator(name)
        except UserError as error:
            print(f"{name}: {error}", file=sys.stderr)
            return 2
        assets = [item.asset for item in generator.sample(args.calls, None, generator.default_temperature, 0)]
        files = iter(assets * 2)  # the warm-up call takes one too

        def open_one(refine: bool) -> None:
            asset = next(files)
            generator.encode([asset], generator.domain.labels_of(asset) or None, refine=refine)

        mean = median_seconds(lambda: open_one(False), args.calls)
        files = iter(assets * 2)
        refined = median_seconds(lambda: open_one(True), args.calls)
        rows.append([name, f"{mean * 1e3:.1f}", f"{refined * 1e3:.0f}", f"{refined / mean:.0f}x"])
    print(common.table(["model", "mean only, ms", "a file's latent, ms", "ratio"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
