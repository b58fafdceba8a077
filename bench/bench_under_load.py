"""How much slower the CLI gets when the machine is busy: each job quiet, then beside N busy loops.

Torch left to itself sizes its pool to every core and lets idle workers spin; beside other work a
descheduled worker then stalls every parallel region (issue 16 measured 10x). The CLI now sizes its
threads on purpose (`generators/core/threads.py`). This bench runs each job alone, then with
`--busy` pure-Python busy loops on the machine (one per core by default), alternating
quiet / busy / quiet / busy so a drift in the machine cancels out, and prints the ratio of the
median busy time to the median quiet time. The issue's target is at most 2x.

Jobs (each a fresh `python main.py` process, start-up included):
- sample: `sample levels --length 200 --playable -n 4 --seed 0`
- train: `train levels --data DATA --epochs 1` (one epoch on the given game folders)

    python bench/bench_under_load.py --data ../shared/data/vglc/Super_Mario_Bros [--rounds 2]

Run it alone: anything else running is more load than the bench asks for.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

BUSY_LOOP = "while True: pass"


def jobs(data: list[str], scratch: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "main.py"]
    return {
        "sample --length 200 --playable -n 4": [
            *cli, "sample", "levels", "--length", "200", "--playable", "-n", "4", "--seed", "0",
            "--out", str(scratch / "sample"),
        ],
        "train levels, 1 epoch": [
            *cli, "train", "levels", "--data", *data, "--epochs", "1", "--eval-samples", "4", "--iwae-k", "2",
            "--out", str(scratch / "train" / "model"),
        ],
    }  # fmt: skip


def timed(argv: list[str]) -> float:
    """The job as a user runs it: no thread variables set, so the CLI sizes its own pool."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return common.timed_command(argv, env)


def with_busy_loops(count: int, argv: list[str]) -> float:
    loops = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(count)]
    try:
        time.sleep(0.5)  # the loops are running before the job starts
        return timed(argv)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", required=True, help="game folders for the training job")
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2, help="busy loops (default: one per CPU)")
    parser.add_argument("--rounds", type=int, default=2, help="quiet/busy pairs per job (default 2)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-under-load-"))
    print(f"{os.cpu_count()} CPUs, {args.busy} busy loops, {args.rounds} rounds, python {sys.version.split()[0]}")
    print(f"{'job':<38} {'quiet s (median)':>16} {'busy s (median)':>15} {'busy/quiet':>10}")
    for name, argv in jobs(args.data, scratch).items():
        timed(argv)  # warm the file cache and any compiled kernels
        quiet, busy = [], []
        for _ in range(args.rounds):
            quiet.append(timed(argv))
            busy.append(with_busy_loops(args.busy, argv))
        q, b = statistics.median(quiet), statistics.median(busy)
        print(f"{name:<38} {q:>16.2f} {b:>15.2f} {b / q:>9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
