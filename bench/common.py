"""Helpers the benchmarks share, so that no benchmark imports another (see bench/README.md).

- Measurement and report: `timed_command` (wall seconds of one CLI run), `peak_rss_mib`,
  `machine`, `ms` (a percentile in milliseconds),
  `table` (a plain-text table) and `positive` (an argparse type).
- The model benches (bench_levels.py, bench_images.py, bench_music.py), which run the same
  phases on their own domain's checkpoint: their presets and training constants, their shared
  options (`parse_args`), the phases in order (`start`, `describe_checkpoint`,
  `latency_phase`, `training_phase`: decode + render latency, our Trainer against a bare
  PyTorch loop, peak RSS) with the measurements and tables behind them, and `bench_main`,
  which parses, runs, reports errors and writes --json for any bench.

Each bench is run as a script (`bench/` is then first on sys.path) and does `import common`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

from generators.core.domain import Split
from generators.core.errors import CheckpointError, UserError
from generators.core.train import TrainConfig, Trainer
from generators.core.vae import ConditionalVAE, VAEConfig, elbo_terms

REPO_ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
BETA = 1.0
SEED = 0

# (timed calls at batch 1, timed calls at batch 16, warm-up calls, epochs, steps/epoch, rounds)
FULL = dict(calls_1=200, calls_16=50, warmup=10, epochs=2, steps=12, rounds=2)
QUICK = dict(calls_1=30, calls_16=10, warmup=3, epochs=1, steps=4, rounds=1)


# --- measurement and report helpers -----------------------------------------------------


def timed_command(argv: list[str], env: dict | None = None, what: str = "") -> float:
    """Wall seconds of one command run from the repository root; a failure stops the bench with its
    last stderr line (`what` names it)."""
    import subprocess

    started = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"{what or ' '.join(argv[1:4])} failed: {last}")
    return seconds


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def ms(seconds: np.ndarray, q: float) -> float:
    """The q-th percentile of `seconds` (numpy's linear interpolation), in milliseconds."""
    return float(np.percentile(seconds, q) * 1e3)


def table(headers: list[str], rows: list[list]) -> str:
    """A plain-text table, numbers right-aligned."""
    cells = [list(headers)] + [[f"{v:.2f}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


# --- decode + render latency ------------------------------------------------------------


def bench_latency(generator, batch: int, calls: int, warmup: int) -> dict:
    """Per-call wall time of decode + render at one batch size, with the split between them."""
    rng = np.random.default_rng(SEED)
    # One condition the GUI would send: the first label (e.g. "enemy"), defaults for the rest.
    labels = generator.condition_labels(generator.domain.conditions.labels[:1])
    latents = rng.standard_normal((warmup + calls, batch, generator.latent_size)).astype(np.float32)
    decode_s, render_s = np.zeros(calls), np.zeros(calls)
    for i, z in enumerate(latents):
        start = time.perf_counter()
        assets = generator.decode(z, labels)
        decoded = time.perf_counter()
        _ = [generator.domain.render(a) for a in assets]  # timed, not kept
        done = time.perf_counter()
        if i >= warmup:  # warm-up calls fill allocator caches and oneDNN kernel choices
            decode_s[i - warmup], render_s[i - warmup] = decoded - start, done - decoded
    total = decode_s + render_s
    return {
        "batch": batch,
        "calls": calls,
        "p50_ms": ms(total, 50),
        "p95_ms": ms(total, 95),
        "p50_ms_per_item": ms(total, 50) / batch,
        "p95_ms_per_item": ms(total, 95) / batch,
        "decode_p50_ms": ms(decode_s, 50),
        "render_p50_ms": ms(render_s, 50),
    }


# --- training throughput ----------------------------------------------------------------


def subset(split: Split, steps: int) -> Split:
    """A seeded random subset of steps * batch windows, so one epoch is exactly `steps` steps."""
    if not steps or steps * BATCH_SIZE >= len(split):
        return split
    keep = torch.randperm(len(split), generator=torch.Generator().manual_seed(SEED + 1))[: steps * BATCH_SIZE]
    return Split(split.x[keep], split.c[keep], [])


def model_config(generator, split: Split) -> VAEConfig:
    """The checkpoint's architecture, resized to the training data (its vocabulary may differ)."""
    return dataclasses.replace(
        generator.model.config, input_shape=tuple(split.x.shape[1:]), condition_size=split.c.shape[1]
    )


def fresh_model(config: VAEConfig) -> ConditionalVAE:
    # Seeding here also leaves the global RNG in the same state for both loops, so their
    # reparameterisation noise (elbo_terms draws from it) is the same too.
    torch.manual_seed(SEED)
    return ConditionalVAE(config)


def fit_bare(model: ConditionalVAE, split: Split, epochs: int) -> None:
    """The minimal hand-written loop the Trainer is measured against."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    model.train()
    for epoch in range(epochs):
        # The Trainer's shuffle seed, so both loops see the same batches and end on the same weights.
        order = torch.randperm(len(split), generator=torch.Generator().manual_seed(SEED * 100_003 + epoch))
        noise = torch.Generator().manual_seed(SEED * 100_003 + epoch + 50_000)
        for start in range(0, len(split), BATCH_SIZE):
            index = order[start : start + BATCH_SIZE]
            terms = elbo_terms(model, split.x[index], split.c[index], beta=BETA, generator=noise)
            optimizer.zero_grad(set_to_none=True)
            terms.loss.backward()
            optimizer.step()


def fit_ours(model: ConditionalVAE, split: Split, epochs: int) -> None:
    # warmup_epochs=0 holds the KL weight at BETA from the first step, as the bare loop does;
    # no validation split, so only training is timed.
    config = TrainConfig(
        epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, beta=BETA, warmup_epochs=0.0, seed=SEED
    )
    Trainer(model, config).fit(split, None)


LOOPS = {"bare": fit_bare, "ours": fit_ours}


def timed_fit(loop: str, config: VAEConfig, split: Split, epochs: int) -> tuple[float, ConditionalVAE]:
    model = fresh_model(config)
    start = time.perf_counter()
    LOOPS[loop](model, split, epochs)
    return time.perf_counter() - start, model


def max_weight_difference(a: ConditionalVAE, b: ConditionalVAE) -> float:
    with torch.no_grad():
        return max(float((pa - pb).abs().max()) for pa, pb in zip(a.parameters(), b.parameters()))


def bench_training(config: VAEConfig, split: Split, epochs: int, rounds: int) -> dict:
    """Alternate the two loops round by round and report windows/s of each run."""
    warm = subset(split, 2)
    for loop in LOOPS:  # untimed: first-call costs (allocator, kernel selection) go here
        timed_fit(loop, config, warm, 1)
    runs, differences = [], []
    for r in range(rounds):
        # ABBA order: a steady drift in machine load (another job, thermals) cancels out.
        order = ["bare", "ours"] if r % 2 == 0 else ["ours", "bare"]
        models = {}
        for loop in order:
            seconds, models[loop] = timed_fit(loop, config, split, epochs)
            windows = len(split) * epochs
            runs.append(
                {
                    "round": r + 1,
                    "loop": loop,
                    "windows": windows,
                    "seconds": seconds,
                    "windows_per_s": windows / seconds,
                }
            )
        differences.append(max_weight_difference(models["bare"], models["ours"]))
    speeds = {loop: [x["windows_per_s"] for x in runs if x["loop"] == loop] for loop in LOOPS}
    median = {loop: float(np.median(v)) for loop, v in speeds.items()}
    # On a busy machine the fastest run is the one least disturbed, so the best-of ratio
    # is the steadier estimate of the Trainer's own overhead; the median shows the spread.
    best = {loop: max(v) for loop, v in speeds.items()}
    return {
        "runs": runs,
        "bare_windows_per_s": median["bare"],
        "ours_windows_per_s": median["ours"],
        "ratio_ours_over_bare": median["ours"] / median["bare"],
        "bare_best_windows_per_s": best["bare"],
        "ours_best_windows_per_s": best["ours"],
        "ratio_best_ours_over_bare": best["ours"] / best["bare"],
        "max_weight_difference": max(differences),
        "steps_per_run": epochs * -(-len(split) // BATCH_SIZE),
    }


# --- the model benches' tables ----------------------------------------------------------


def print_latency(rows: list[dict]) -> None:
    print("\nDecode + render latency (Generator.decode, then domain.render per asset)")
    headers = ["batch", "calls", "p50 ms", "p95 ms", "p50 ms/item", "p95 ms/item", "decode p50 ms", "render p50 ms"]
    keys = [
        "batch",
        "calls",
        "p50_ms",
        "p95_ms",
        "p50_ms_per_item",
        "p95_ms_per_item",
        "decode_p50_ms",
        "render_p50_ms",
    ]
    print(table(headers, [[row[k] for k in keys] for row in rows]))


def print_training(result: dict, data: str, epochs: int) -> None:
    print(
        f"\nTraining throughput, batch {BATCH_SIZE}, Adam lr {LEARNING_RATE}, beta {BETA}, "
        f"{epochs} epoch(s) = {result['steps_per_run']} steps per run"
    )
    print(f"data: {data}")
    rows = [[x["round"], x["loop"], x["windows"], x["seconds"], x["windows_per_s"]] for x in result["runs"]]
    print(table(["round", "loop", "windows", "seconds", "windows/s"], rows))
    summary = [
        ["median", result["bare_windows_per_s"], result["ours_windows_per_s"], f"{result['ratio_ours_over_bare']:.3f}"],
        [
            "best",
            result["bare_best_windows_per_s"],
            result["ours_best_windows_per_s"],
            f"{result['ratio_best_ours_over_bare']:.3f}",
        ],
    ]
    print(table(["windows/s", "bare", "ours", "ours/bare"], summary))
    print(
        f"max |weight difference| ours vs bare after a run: {result['max_weight_difference']:.3g} "
        "(0 or float noise: both loops did the same work)"
    )


def print_memory(phases: list[tuple[str, float]]) -> None:
    print("\nPeak RSS (process high-water mark, so it never falls)")
    print(table(["after phase", "peak RSS MiB"], [[name, mib] for name, mib in phases]))


# --- the model benches' options and phases ----------------------------------------------


# What --data holds for each benchmark that shares these options.
DATA_HELP = {
    "levels": "VGLC game folders to train on",
    "music": "MIDI folders or a music21 cache (.npz) to train on",
    "images": "image folders or an emoji cache (.npz) to train on",
}


def parse_args(argv: list[str] | None, name: str = "levels") -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=f"Latency, training throughput and memory of the {name} model.")
    parser.add_argument("--checkpoint", default=name, help=f"shipped name or checkpoint path (default: {name})")
    parser.add_argument(
        "--data", nargs="+", metavar="PATH", help=f"{DATA_HELP.get(name, 'data')} (default: synthetic items)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer calls and steps: a smoke run")
    parser.add_argument(
        "--threads", type=positive, default=torch.get_num_threads(), help="torch threads for every phase"
    )
    parser.add_argument("--epochs", type=positive, help="epochs per training run")
    parser.add_argument("--steps", type=int, help="steps per epoch (a random subset of the data); 0: the whole split")
    parser.add_argument("--rounds", type=positive, help="training rounds; each runs both loops")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    for key in ("epochs", "steps", "rounds"):
        if getattr(args, key) is None:
            setattr(args, key, preset[key])
    args.preset = preset
    return args


def start(args: argparse.Namespace) -> tuple[dict, list[tuple[str, float]]]:
    """The first phase of a model bench: set the torch threads, print the machine, and return
    the results so far (the machine) and the peak-RSS phases so far (start)."""
    torch.set_num_threads(args.threads)  # one setting for every phase and both loops
    results: dict = {"machine": machine()}
    memory = [("start", peak_rss_mib())]
    info = results["machine"]
    print(f"machine: {info['platform']}, {info['processor']}, {info['cpu_count']} CPUs")
    print(f"python {info['python']}, torch {info['torch']}, torch threads {info['torch_threads']}")
    return results, memory


def describe_checkpoint(args: argparse.Namespace, generator, details: str = "") -> None:
    """Print the checkpoint line: its name, latent size, `details` and parameter count."""
    parameters = sum(p.numel() for p in generator.model.parameters())
    print(f"checkpoint: {args.checkpoint} (latent {generator.latent_size}, {details}{parameters} parameters)")


def latency_phase(generator, args: argparse.Namespace, results: dict, memory: list) -> None:
    """Decode + render latency at batch 1 and 16 with the preset's calls: printed, and added
    to `results` and (peak RSS after it) to `memory`."""
    p = args.preset
    results["latency"] = [
        bench_latency(generator, 1, p["calls_1"], p["warmup"]),
        bench_latency(generator, 16, p["calls_16"], p["warmup"]),
    ]
    memory.append(("latency", peak_rss_mib()))
    print_latency(results["latency"])


def training_phase(args, generator, split: Split, description: str, results: dict, memory: list) -> dict:
    """The training-throughput and memory part every domain's bench shares: time our Trainer
    against the bare loop on `split` (a seeded subset of `args.steps` batches), print both
    tables, and return `results` with the training figures and peak RSS added."""
    available = len(split)
    split = subset(split, args.steps)
    if len(split) < available:
        description += f"; timed on a seeded subset of {len(split)}"
    memory.append(("training data", peak_rss_mib()))
    results["training"] = bench_training(model_config(generator, split), split, args.epochs, args.rounds)
    results["training"]["data"] = description
    memory.append(("training", peak_rss_mib()))
    print_training(results["training"], description, args.epochs)
    results["peak_rss_mib"] = dict(memory)
    print_memory(memory)
    return results


def bench_main(name: str, run_bench, argv: list[str] | None = None, parse=None) -> int:
    """Parse the options (the shared ones for the `name` model unless `parse` is given), run
    one benchmark, print and optionally save it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv) if parse else parse_args(argv, name)
    try:
        results = run_bench(args)
    except UserError as exc:
        hint = (
            f"; pass --checkpoint PATH (train one with `main.py train {name}`)"
            if isinstance(exc, CheckpointError)
            else ""
        )
        print(f"bench_{name}: {exc}{hint}", file=sys.stderr)
        return 2
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0
