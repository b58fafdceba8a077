"""Peak memory and time of every rejected input in the bad-input corpus (`tests/bad_inputs.py`).

Each case runs in a child forked from one warm process (torch, numpy and the CLI already
imported, one torch thread), so the figure is the whole process's peak resident memory while it
refused that input, read with `os.wait4`; the warm parent's own size is printed beside it as the
floor. A case that has not finished after --hang seconds is killed and counted as a hang.

    OMP_NUM_THREADS=1 python bench/bench_bad_inputs.py [--only TEXT] [--json FILE]

Prints a table per category: cases, exits other than 2, hangs, peak RSS (max), time (max).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "core")]


def run_child(case, folder: Path) -> int:
    """In the forked child: build the case, run the CLI on it quietly, exit with its code."""
    from generators.cli import main

    os.chdir(folder)
    argv = case.build(folder)
    sink = io.StringIO()
    with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
        except BaseException:  # noqa: BLE001 - a traceback: reported as exit 1
            code = 1
    os._exit(int(code or 0))


def measure(case, hang_seconds: float) -> dict:
    # The case's files live in a folder of their own, removed once the child has gone.
    folder = Path(tempfile.mkdtemp(prefix="bad-input-"))
    try:
        return measure_in(case, folder, hang_seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure_in(case, folder: Path, hang_seconds: float) -> dict:
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        run_child(case, folder)
    deadline = started + hang_seconds
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            peak = usage.ru_maxrss / 1024
            return {"case": case.id, "code": None, "hang": True, "seconds": hang_seconds, "peak_mb": peak}
        time.sleep(0.005)
    code = os.waitstatus_to_exitcode(status)
    return {
        "case": case.id,
        "code": code,
        "hang": False,
        "seconds": time.perf_counter() - started,
        "peak_mb": usage.ru_maxrss / 1024,  # Linux reports kB
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the cases whose id contains this text")
    parser.add_argument("--hang", type=float, default=10.0, help="seconds before a case counts as a hang (10)")
    parser.add_argument("--json", help="write every case's figures here")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    import bad_inputs

    import generators.cli  # noqa: F401 - warm: the children inherit the imports
    from generators.registry import load_generator

    for name in ("levels", "images", "music"):
        load_generator(name)  # the first load pulls in each wing's modules
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cases = [case for case in bad_inputs.build_all() if not args.only or args.only in case.id]
    rows = [measure(case, args.hang) for case in cases]

    print(f"warm parent (torch, the CLI and the three wings imported): {floor:.0f} MB peak RSS")
    print(f"{'category':<12} {'cases':>5} {'exit!=2':>7} {'hangs':>5} {'peak MB (max)':>13} {'s (max)':>8}")
    by_category: dict[str, list[dict]] = {}
    for case, row in zip(cases, rows):
        by_category.setdefault(case.category, []).append(row)
    for category, group in [*by_category.items(), ("all", rows)]:
        wrong = sum(1 for r in group if r["code"] != 2)
        print(
            f"{category:<12} {len(group):>5} {wrong:>7} {sum(r['hang'] for r in group):>5} "
            f"{max(r['peak_mb'] for r in group):>13.0f} {max(r['seconds'] for r in group):>8.2f}"
        )
    heaviest = sorted(rows, key=lambda r: -r["peak_mb"])[:5]
    print("heaviest:", "; ".join(f"{r['case']} {r['peak_mb']:.0f} MB" for r in heaviest))
    slowest = sorted(rows, key=lambda r: -r["seconds"])[:5]
    print("slowest:", "; ".join(f"{r['case']} {r['seconds']:.2f} s" for r in slowest))
    for row in rows:
        if row["code"] != 2:
            print(f"NOT REFUSED: {row['case']} (exit {row['code']}, hang {row['hang']})")
    if args.json:
        Path(args.json).write_text(json.dumps({"floor_mb": floor, "cases": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
