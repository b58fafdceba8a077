"""Benchmarks of the music model: decode-plus-render latency, WAV render time, training
throughput against a bare loop, and peak memory.

    .venv/bin/python bench/bench_music.py [--checkpoint music] [--data CACHE_OR_FOLDER] [--quick] [--json FILE]

1. Decode + render latency through the Generator facade (decode, then the piano-roll PNG
   array per clip), at batch 1 and 16: what the GUI pays per preview.
2. WAV render time of one clip: the built-in synthesiser, and FluidSynth when installed.
3. Training throughput of our Trainer against a bare PyTorch loop (the domain has no augment,
   so the two loops do the same arithmetic); both end on the same
   weights, which the table checks. The phases, measurements and tables are
   bench/common.py's, shared with the levels bench.
With --data (a prep_music.py cache or MIDI folder) the training windows are real; without
it, random sparse rolls of the model's shape. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import common  # same folder: the phases, measurements and tables every model bench shares
import numpy as np
import torch

from generators.core.domain import Split
from generators.music.audio import builtin_wav, fluidsynth_available, fluidsynth_wav
from generators.music.domain import MusicDomain
from generators.registry import load_generator


def training_data(args, generator) -> tuple[Split, str]:
    if args.data:
        _, corpus = MusicDomain.prepare_training([Path(p) for p in args.data])
        return corpus.train, f"{len(corpus.train)} training windows from {', '.join(args.data)}"
    count = args.steps * common.BATCH_SIZE if args.steps else 2048
    gen = torch.Generator().manual_seed(common.SEED)
    tokens_, steps, voices = generator.domain.shape
    tokens = torch.randint(0, tokens_, (count, steps, voices), generator=gen)
    x = torch.nn.functional.one_hot(tokens, tokens_).permute(0, 3, 1, 2).float()
    c = torch.from_numpy(np.tile(generator.domain.conditions.encode([]), (count, 1)))
    return Split(x, c, []), f"synthetic: {count} random voice-token clips of shape {generator.domain.shape}"


def bench_wav(generator, calls: int) -> list[dict]:
    clip = generator.sample(1, seed=common.SEED)[0].asset
    rows = []
    renderers = [("builtin", builtin_wav)] + ([("fluidsynth", fluidsynth_wav)] if fluidsynth_available() else [])
    for name, render in renderers:
        render(clip)
        seconds = []
        for _ in range(calls):
            start = time.perf_counter()
            render(clip)
            seconds.append(time.perf_counter() - start)
        rows.append(
            {"synth": name, "notes": len(clip.notes()), "calls": calls, "p50_ms": common.ms(np.array(seconds), 50)}
        )
    if not fluidsynth_available():
        rows.append({"synth": "fluidsynth", "notes": "-", "calls": 0, "p50_ms": "not installed"})
    return rows


def run(args) -> dict:
    results, memory = common.start(args)
    generator = load_generator(args.checkpoint, domain="music")
    common.describe_checkpoint(args, generator)
    common.latency_phase(generator, args, results, memory)

    results["wav"] = bench_wav(generator, max(args.preset["calls_16"] // 5, 2))
    print("\nWAV render of one clip (4 bars)")
    keys = ("synth", "notes", "calls", "p50_ms")
    print(common.table(["synth", "notes", "calls", "p50 ms"], [[r[k] for k in keys] for r in results["wav"]]))

    split, description = training_data(args, generator)
    return common.training_phase(args, generator, split, description, results, memory)


def main(argv=None) -> int:
    return common.bench_main("music", run, argv)


if __name__ == "__main__":
    sys.exit(main())
