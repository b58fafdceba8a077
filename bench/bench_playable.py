"""Benchmark of full-length levels: how many the agent finishes, raw and with --playable,
what a level costs, and what seam matching buys over plain concatenation.

    .venv/bin/python bench/bench_playable.py [--checkpoint levels] [--data DIR ...] [--levels 100]
                                             [--length 200] [--budget 24] [--threads 1] [--quick] [--json FILE]

1. Playability and cost: level i comes from seed i, exactly as `sample levels --length L
   --seed i` (raw) or `... --playable` makes it. Per set: the share the agent
   (`generators.levels.agent.play`) completes, mean / p95 / max seconds per level (the --playable time
   includes the raw composition, the agent's verdicts and any repair), mean compositions.
2. Seams: the same latents stitched by plain concatenation (each window decoded from its own
   latent, overlap dropped, no matching) against the matched stitching of `generators.levels.stitch`:
   share of overlap cells where the next window's own tiles disagree with the previous one's,
   largest ground step at a seam, levels with a broken pipe, and the agent's raw share.
With --data (VGLC game folders) each level's windows are conditioned like a stretch of a
training level (as `eval levels` does); without it every window asks for enemies and coins.
A benchmark, not a test: it asserts nothing and prints tables (see bench/README.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import common  # same folder: machine description, table printing and bench_main
import numpy as np
import torch

from generators.levels.agent import play
from generators.levels.long_level import sample_long_level
from generators.levels.metrics import broken_pipe_cells
from generators.levels.stitch import StitchConfig, Stitcher, seam_steps, seed_latents, window_count
from generators.registry import load_generator

# Plain concatenation: no candidates around z_k, no gradient steps, no gap penalty.
PLAIN = StitchConfig(candidates=1, steps=0, gap_weight=0.0)


def conditions(generator, args, count: int) -> list[list[list[str]]]:
    """Per-level, per-window labels: like the data with --data, else enemies and coins."""
    if args.data:
        from generators.levels.expressive import window_label_runs

        corpus = generator.domain.heldout_corpus(args.data, generator.card)
        return window_label_runs(generator, corpus, count, args.levels, seed=0)
    return [[generator.condition_labels(["enemy", "coin"])] * count] * args.levels


def bench_levels(generator, args, labels) -> dict:
    """Raw and --playable levels of every seed, timed one by one."""
    legend = generator.domain.legend
    raw_s, fixed_s, raw_ok, fixed_ok, attempts = [], [], [], [], []
    for seed in range(args.levels):
        start = time.perf_counter()
        raw = sample_long_level(generator, args.length, seed, labels[seed])
        verdict = play(raw.level, legend).completable
        raw_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        fixed = sample_long_level(generator, args.length, seed, labels[seed], playable=True, budget=args.budget)
        fixed_s.append(time.perf_counter() - start)
        raw_ok.append(verdict)
        fixed_ok.append(play(fixed.level, legend).completable)  # checked again, not taken from the repair
        attempts.append(fixed.attempts)

    def row(name, seconds, ok, tries):
        seconds = np.array(seconds)
        return {
            "set": name,
            "levels": len(ok),
            "completable": float(np.mean(ok)),
            "mean_s": float(seconds.mean()),
            "p95_s": float(np.percentile(seconds, 95)),
            "max_s": float(seconds.max()),
            "mean_compositions": float(np.mean(tries)),
        }

    return {
        "rows": [row("raw", raw_s, raw_ok, [1] * len(raw_ok)), row("--playable", fixed_s, fixed_ok, attempts)],
        "unplayable_seeds": [s for s, ok in enumerate(fixed_ok) if not ok],
    }


def seam_quality(generator, args, labels, config: StitchConfig, name: str) -> dict:
    """Seam statistics of every level stitched with `config` from the seeds' latents."""
    domain, legend = generator.domain, generator.domain.legend
    count = window_count(args.length, domain.width, config.overlap)
    disagree, steps, broken, ok, seconds = [], [], 0, [], []
    for seed in range(args.levels):
        start = time.perf_counter()
        stitcher = Stitcher(generator, labels[seed], args.length, config, seed)
        made = stitcher.compose(seed_latents(generator, seed, count))
        seconds.append(time.perf_counter() - start)
        o = config.overlap
        disagree += [
            float((a.log_probs[:, :, -o:].argmax(0) != b.log_probs[:, :, :o].argmax(0)).mean())
            for a, b in zip(made.windows, made.windows[1:])
        ]
        grid = domain.indices(made.level)
        steps.append(int(seam_steps(grid, stitcher.solid, made.seams).max()))
        broken += bool(broken_pipe_cells(grid[None], legend).any())
        ok.append(play(made.level, legend).completable)
    return {
        "stitching": name,
        "overlap_disagreement": float(np.mean(disagree)),
        "max_seam_step": max(steps),
        "levels_with_broken_pipe": broken,
        "raw_completable": float(np.mean(ok)),
        "mean_s": float(np.mean(seconds)),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Playability and cost of full-length levels.")
    parser.add_argument("--checkpoint", default="levels", help="shipped name or checkpoint path (default: levels)")
    parser.add_argument("--data", nargs="+", metavar="DIR", help="VGLC game folders: condition windows like the data")
    parser.add_argument("--levels", type=common.positive, default=100, help="levels per set (default 100)")
    parser.add_argument("--length", type=common.positive, default=200, help="columns per level (default 200)")
    parser.add_argument("--budget", type=common.positive, default=24, help="--playable repair budget (default 24)")
    parser.add_argument(
        "--threads", type=common.positive, default=1, help="torch threads (default 1: steadier on a busy machine)"
    )
    parser.add_argument("--quick", action="store_true", help="10 levels: a smoke run")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.levels = min(args.levels, 10)
    return args


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    results: dict = {"machine": common.machine()}
    info = results["machine"]
    print(
        f"machine: {info['platform']}, {info['processor']}, {info['cpu_count']} CPUs, "
        f"torch threads {info['torch_threads']}"
    )
    generator = load_generator(args.checkpoint, domain="levels")
    count = window_count(args.length, generator.domain.width, StitchConfig().overlap)
    labels = conditions(generator, args, count)
    source = f"conditioned like {', '.join(args.data)}" if args.data else "every window: enemy, coin"
    print(
        f"checkpoint {args.checkpoint}; {args.levels} levels of {args.length} columns ({count} windows), "
        f"seeds 0..{args.levels - 1}; {source}"
    )

    # Untimed warm-up: the agent's jump-arc table and torch's first-call costs.
    sample_long_level(generator, args.length, args.levels, labels[0], playable=True, budget=1)
    results["playability"] = bench_levels(generator, args, labels)
    print(f"\nPlayability and cost per level (repair budget {args.budget} compositions)")
    keys = ["set", "levels", "completable", "mean_s", "p95_s", "max_s", "mean_compositions"]
    print(
        common.table(
            ["set", "levels", "completable", "mean s", "p95 s", "max s", "compositions"],
            [[r[k] for k in keys] for r in results["playability"]["rows"]],
        )
    )
    if results["playability"]["unplayable_seeds"]:
        print(f"not playable after repair: seeds {results['playability']['unplayable_seeds']}")

    results["seams"] = [
        seam_quality(generator, args, labels, PLAIN, "plain concatenation"),
        seam_quality(generator, args, labels, StitchConfig(), "matched (levels.stitch)"),
    ]
    print("\nSeams: plain concatenation of the same latents against matched stitching")
    keys = [
        "stitching",
        "overlap_disagreement",
        "max_seam_step",
        "levels_with_broken_pipe",
        "raw_completable",
        "mean_s",
    ]
    headers = ["stitching", "overlap disagreement", "max seam step", "broken-pipe levels", "raw completable", "mean s"]
    print(common.table(headers, [[r[k] for k in keys] for r in results["seams"]]))
    return results


def main(argv: list[str] | None = None) -> int:
    return common.bench_main("playable", run, argv, parse=parse_args)


if __name__ == "__main__":
    sys.exit(main())
