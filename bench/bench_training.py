"""Training benchmark: time to a usable model on a 1,000-window dataset, and one process
against two under torchrun on the same data and epochs.

Run from the repository root:

    .venv/bin/python bench/bench_training.py --vglc ../shared/data/vglc [--epochs 30]

It copies whole Super Mario Bros levels into a scratch folder until their 14×16 windows
number at least 1,000, plus one held-out level, then trains through the real CLI
(`main.py train`, and `torch.distributed.run --nproc_per_node 2 main.py train`) and reads
each run's card. A second single-process seed gives the seed-to-seed spread, the noise
against which the two-process validation loss is judged.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # same folder: machine description and table printing

REPO = Path(__file__).resolve().parent.parent
WINDOW = 16


def build_dataset(vglc: Path, target: int, scratch: Path) -> tuple[Path, str, int]:
    """A game folder with whole levels totalling >= `target` windows, and one more level to
    hold out. Returns (folder, held-out level name, training windows)."""
    source = vglc / "Super_Mario_Bros"
    folder = scratch / "Super_Mario_Bros"
    folder.mkdir(parents=True)
    shutil.copy(next(source.glob("*.json")), folder)
    windows, levels = 0, sorted(source.glob("*.txt"))
    for level in levels:
        width = len(level.read_text().splitlines()[0])
        shutil.copy(level, folder)
        if windows >= target:  # this one is the held-out level
            return folder, level.stem, windows
        windows += width - WINDOW + 1
    raise SystemExit(f"not enough levels in {source} for {target} windows")


def train(folder: Path, holdout: str, out: Path, epochs: int, seed: int, processes: int) -> dict:
    """One CLI training run; returns its card plus the wall time."""
    command = [
        "main.py",
        "train",
        "levels",
        "--data",
        str(folder),
        "--holdout",
        holdout,
        "--out",
        str(out),
        "--epochs",
        str(epochs),
        "--beta",
        "0.5",
        "--seed",
        str(seed),
        "--eval-samples",
        "200",
        "--iwae-k",
        "50",
    ]
    env = dict(os.environ)
    if processes > 1:
        # Two processes on two cores: one thread each, as torchrun itself defaults to.
        command = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes), *command]
        env["OMP_NUM_THREADS"] = "1"
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, *command], cwd=REPO, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"training failed:\n{proc.stderr[-3000:]}")
    card = json.loads(out.with_suffix(".json").read_text())
    card["wall_seconds"] = wall
    return card


def row(name: str, card: dict) -> list[str]:
    training, metrics = card["training"], card["metrics"]
    return [
        name,
        str(training["processes"]),
        f"{training['seconds']:.1f}",
        f"{card['wall_seconds']:.1f}",
        f"{training['items_per_second']:.0f}",
        f"{training['final']['val_negative_elbo']:.2f}",
        f"{metrics['reconstruction_accuracy'] * 100:.2f}",
        f"{metrics['iwae_nats']:.2f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vglc", type=Path, default=REPO.parent / "shared" / "data" / "vglc")
    parser.add_argument("--items", type=int, default=1000, help="training windows to reach")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    info = common.machine()
    print(f"machine: {info['platform']}, {info['cpu_count']} CPUs, python {info['python']}")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        folder, holdout, windows = build_dataset(args.vglc, args.items, scratch / "data")
        levels = len(list(folder.glob("*.txt"))) - 1
        print(f"data: {windows} training windows from {levels} SMB levels; held out: {holdout}")
        print(f"each run: {args.epochs} epochs, batch 64, beta 0.5, latent 32\n")
        runs = [
            ("1 process, seed 0", train(folder, holdout, scratch / "one-a", args.epochs, 0, 1)),
            ("2 processes, seed 0", train(folder, holdout, scratch / "two-a", args.epochs, 0, 2)),
            ("1 process, seed 1", train(folder, holdout, scratch / "one-b", args.epochs, 1, 1)),
        ]
    header = ["run", "procs", "train s", "wall s", "items/s", "val -ELBO", "recon %", "IWAE nats"]
    print(common.table(header, [row(name, card) for name, card in runs]))
    one, two, other_seed = (card for _, card in runs)
    speed = two["training"]["items_per_second"] / one["training"]["items_per_second"]
    gap = abs(two["training"]["final"]["val_negative_elbo"] - one["training"]["final"]["val_negative_elbo"])
    noise = abs(other_seed["training"]["final"]["val_negative_elbo"] - one["training"]["final"]["val_negative_elbo"])
    print(f"\n2-process / 1-process throughput: {speed:.2f}x")
    print(f"validation -ELBO gap, 2 vs 1 process: {gap:.2f} nats; seed-to-seed gap at 1 process: {noise:.2f} nats")
    print(f"time to a trained, measured model at {windows} windows (1 process, wall): {one['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
