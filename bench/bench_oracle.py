"""Benchmark: our playability agent against the real game's, the A* agent of the Mario AI framework
(PlayAstar.jar of the mario-gpt wheel, see generators/levels/oracle.py), on original and generated
whole levels.

    .venv/bin/python bench/bench_oracle.py --oracle DIR --data VGLC_GAME_DIR ... [--levels 30]
        [--originals N] [--playable] [--length 200] [--budget 24] [--seed 0] [--checkpoint levels]
        [--threads 1] [--json FILE]

Originals are the whole levels of the --data folders (all of them, or the first --originals N in
file order), cut to the model's height. Generated level i is `sample_long_level(generator, LENGTH,
seed + i, conditions_i, playable=--playable)`, its windows conditioned like a stretch of a training
level of --data (as `eval levels` does). Every level is first made; then the levels are played one
at a time, originals and generated levels interleaved, each by our agent (`agent.play`) and by the
oracle. The jar's search is budgeted by wall-clock time per game tick, so run this alone on a quiet
machine. Per set the table gives our completable share, the oracle's WIN share and mean completion,
the share of levels where the two verdicts agree, and the disagreements each way.
A benchmark, not a test: it asserts nothing and prints tables (see bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import common  # same folder: machine description, table printing and bench_main
import numpy as np
import torch

from generators.levels.agent import play
from generators.levels.domain import level_folders
from generators.levels.expressive import original_levels, window_label_runs
from generators.levels.long_level import sample_long_level
from generators.levels.oracle import Oracle, OracleResult, agreement, interleaved
from generators.levels.stitch import StitchConfig, window_count
from generators.registry import load_generator


def java_version(java: str) -> str:
    """The first line `java -version` prints."""
    done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[0] if lines else "unknown"


def originals(generator, args) -> tuple[list[str], list]:
    """Names and levels of the originals, in file order (as `eval levels` reads them)."""
    folders = level_folders(args.data, games=list(generator.domain.games) or None)
    names = [p.stem for f in folders for p in sorted(f.glob("*.txt"))]
    levels = original_levels(generator, args.data)
    keep = len(levels) if args.originals is None else min(args.originals, len(levels))
    return names[:keep], levels[:keep]


def generated(generator, args) -> tuple[list[str], list, list[float]]:
    """Names, levels and seconds to make each of the generated levels."""
    count = window_count(args.length, generator.domain.width, StitchConfig().overlap)
    corpus = generator.domain.heldout_corpus(args.data, generator.card)
    labels = window_label_runs(generator, corpus, count, args.levels, args.seed)
    names, levels, seconds = [], [], []
    for i in range(args.levels):
        start = time.perf_counter()
        made = sample_long_level(
            generator, args.length, args.seed + i, labels[i], playable=args.playable, budget=args.budget
        )
        seconds.append(time.perf_counter() - start)
        names.append(f"seed {args.seed + i}")
        levels.append(made.level)
    return names, levels, seconds


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    oracle = Oracle(args.oracle, timeout=args.timeout)
    results: dict = {"machine": common.machine(), "java": java_version(oracle.java), "jar": str(oracle.jar)}
    info = results["machine"]
    print(
        f"machine: {info['platform']}, {info['processor']}, {info['cpu_count']} CPUs, "
        f"torch threads {info['torch_threads']}"
    )
    print(f"java: {results['java']}; oracle: {oracle.jar}")
    generator = load_generator(args.checkpoint, domain="levels")
    legend = generator.domain.legend
    generated_set = "generated --playable" if args.playable else "generated"
    names, levels = {}, {}
    names["original"], levels["original"] = originals(generator, args)
    names[generated_set], levels[generated_set], make_s = generated(generator, args)
    results["make_seconds_mean"] = float(np.mean(make_s)) if make_s else 0.0
    print(
        f"checkpoint {args.checkpoint}; {len(levels['original'])} originals of {', '.join(args.data)}; "
        f"{args.levels} {generated_set} levels of {args.length} columns, "
        f"seeds {args.seed}..{args.seed + args.levels - 1} (made in {results['make_seconds_mean']:.1f} s each)"
    )
    print("\nplaying one level at a time, sets interleaved:")
    rows = []
    for name, i in interleaved(levels):
        level = levels[name][i]
        start = time.perf_counter()
        ours = play(level, legend)
        ours_s = time.perf_counter() - start
        theirs = oracle.play(level, legend)
        rows.append(
            {
                "set": name,
                "level": names[name][i],
                "columns": level.width,
                "completable": ours.completable,
                "furthest_column": ours.furthest_column,
                "reason": ours.reason,
                "agent_seconds": ours_s,
                "oracle_status": theirs.status,
                "oracle_completion": theirs.completion,
                "oracle_seconds": theirs.seconds,
                "load_1min": os.getloadavg()[0],  # the jar's verdicts depend on how busy the machine is
                "text": level.text(),
            }
        )
        print(
            f"  {name:<20} {names[name][i]:<32} ours {'yes' if ours.completable else 'no ':<3} "
            f"(column {ours.furthest_column:>3})  oracle {theirs.status:<8} {theirs.completion:5.2f} "
            f"({theirs.seconds:.1f} s)",
            flush=True,
        )
    results["levels"] = rows
    results["mean_load_1min"] = float(np.mean([r["load_1min"] for r in rows]))
    results["sets"] = []
    for name in levels:
        mine = [r for r in rows if r["set"] == name]
        summary = agreement([r["completable"] for r in mine], [_result(r) for r in mine])
        results["sets"].append({"set": name, **summary})
    print(
        f"\nOur agent against the oracle (PlayAstar.jar), {args.length}-column generated levels; "
        f"mean 1-minute load while playing {results['mean_load_1min']:.2f} on {info['cpu_count']} CPUs"
    )
    keys = [
        "set",
        "levels",
        "completable_share",
        "oracle_win_share",
        "oracle_mean_completion",
        "agreement",
        "ours_only",
        "oracle_only",
        "oracle_mean_seconds",
    ]
    headers = ["set", "levels", "ours completable", "oracle WIN", "oracle completion", "agreement"]
    headers += ["ours only", "oracle only", "oracle s/level"]
    print(common.table(headers, [[r[k] for k in keys] for r in results["sets"]]))
    for name in levels:
        differ = [r for r in rows if r["set"] == name and r["completable"] != (r["oracle_status"] == "WIN")]
        if differ:
            listed = ", ".join(
                f"{r['level']} (ours {'yes' if r['completable'] else 'no'}, oracle {r['oracle_status']} "
                f"{r['oracle_completion']:.2f})"
                for r in differ
            )
            print(f"{name}: verdicts differ on {listed}")
    return results


def _result(row: dict) -> OracleResult:
    return OracleResult(row["oracle_status"], row["oracle_completion"], row["oracle_seconds"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Our playability agent against the Mario AI framework's A* agent.")
    parser.add_argument("--oracle", required=True, metavar="PATH", help="PlayAstar.jar, or the folder holding it")
    parser.add_argument(
        "--data", nargs="+", required=True, metavar="DIR", help="VGLC game folders: the originals and the conditions"
    )
    parser.add_argument("--levels", type=common.positive, default=30, help="generated levels (default 30)")
    parser.add_argument("--originals", type=common.positive, help="the first N originals (default: all of --data)")
    parser.add_argument("--playable", action="store_true", help="generate with --playable repair")
    parser.add_argument("--length", type=common.positive, default=200, help="columns per generated level (200)")
    parser.add_argument("--budget", type=common.positive, default=24, help="--playable repair budget (default 24)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first generated level (default 0)")
    parser.add_argument("--checkpoint", default="levels", help="shipped name or checkpoint path (default: levels)")
    parser.add_argument("--threads", type=common.positive, default=1, help="torch threads (default 1)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds before one oracle run is killed (default 600)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results (every level) as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return common.bench_main("oracle", run, argv, parse=parse_args)


if __name__ == "__main__":
    sys.exit(main())
