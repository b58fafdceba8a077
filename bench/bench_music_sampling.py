"""Benchmark: the music model's sample figures under each way of sampling it, beside held-out
real clips: how the shipped card's `sampling.temperature` was chosen (docs/music-quality.md).

    .venv/bin/python bench/bench_music_sampling.py --data music21-cache-1000.npz
        [--checkpoint music] [--per-style 200] [--settings likeliest:1:1.0 likeliest:1:0.85 draw:0.85:0.5]
        [--threads 2] [--json FILE]

A setting is SAMPLING:NOTE_TEMPERATURE:LATENT_TEMPERATURE: the decoding option `--sampling`
(likeliest, draw or rhythm), its `--note-temperature` (used by draw and rhythm only) and the latent temperature
`sample --temperature` gives. For each setting, each style gets `--per-style` samples made as
`eval music` makes them (`metrics.generated`, seeds 0.. per style, as eval's with --seed 0), and
the figures of `metrics.style_figures` are printed beside the same figures of the style's
held-out real clips; then the key figures of `metrics.key_report` (the tonic asked for against
the tonic a Krumhansl-Schmuckler estimate hears, and the tonics heard with no key asked for),
sized as `eval --samples 3 * per-style` sizes them. The targets (issue 15) are marked: a figure
within its tolerance of the real clips' gets a tick.
A benchmark, not a test: it asserts nothing and prints tables (see bench/README.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import common  # same folder: machine description, table printing and bench_main
import torch

from generators.core.errors import UserError
from generators.music.metrics import generated, key_report, real_clips, style_figures
from generators.music.options import SAMPLING
from generators.registry import load_generator

DEFAULT_SETTINGS = ("likeliest:1:1.0", "likeliest:1:0.85", "draw:0.85:0.5", "rhythm:1:0.85", "rhythm:1:1.0")
# Issue 15's tolerances against the real clips' figure: (kind, tolerance); "points" are shares.
TOLERANCE = {
    "top_voice_mean_step": ("difference", 0.5),
    "onsets_off_eighth_grid": ("difference", 0.02),
    "notes_per_bar": ("ratio", 0.10),
    "notes_outside_key": ("difference", 0.02),
}
TEXTURE_AT_LEAST = {"steps_with_4_notes": 0.85, "steps_with_at_most_1_note": 0.98}
KEY_AGREEMENT_AT_LEAST = 0.80
TONICS_AT_LEAST = 8


def setting(text: str) -> tuple[str, float, float]:
    """SAMPLING:NOTE_TEMPERATURE:LATENT_TEMPERATURE, checked."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in SAMPLING:
        raise argparse.ArgumentTypeError(f"expected {'|'.join(SAMPLING)}:NOTE_T:LATENT_T, got {text!r}")
    try:
        note, latent = float(parts[1]), float(parts[2])
    except ValueError:
        raise argparse.ArgumentTypeError(f"temperatures must be numbers, got {text!r}") from None
    if not (0 < note <= 10 and 0 <= latent <= 10):
        raise argparse.ArgumentTypeError(f"note temperature must be in (0, 10], latent in [0, 10], got {text!r}")
    return parts[0], note, latent


def meets(name: str, sample: float, real: float) -> bool | None:
    """Whether a sample figure meets its target against the real one (None: no target)."""
    if name in TEXTURE_AT_LEAST:
        return sample >= TEXTURE_AT_LEAST[name]
    if name not in TOLERANCE:
        return None
    kind, tolerance = TOLERANCE[name]
    if kind == "ratio":
        return abs(sample - real) <= tolerance * abs(real)
    return abs(sample - real) <= tolerance


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    generator = load_generator(args.checkpoint, domain="music")
    domain = generator.domain
    corpus = domain.heldout_corpus([Path(p) for p in args.data], generator.card)
    held = corpus.holdout
    if not len(held):
        raise UserError("the data has no held-out clips to compare with")
    real_all = real_clips(domain, held, range(len(held)))
    info = common.machine()
    print(f"machine: {info['platform']}, {info['cpu_count']} CPUs, torch threads {info['torch_threads']}")
    print(f"checkpoint {args.checkpoint}; {len(held)} held-out clips; {args.per_style} samples a style per setting")
    results: dict = {"machine": info, "settings": []}
    real_figures = {}
    for index, style in enumerate(domain.styles):
        real = [clip for clip, vector in zip(real_all, held.c) if vector[index] > 0.5]
        real_figures[style] = style_figures(real, style)
    results["real_heldout"] = real_figures
    summary = []
    for sampling, note_temperature, latent_temperature in args.settings:
        domain.set_decoding("sampling", sampling)
        domain.set_decoding("note_temperature", note_temperature)
        name = f"{sampling} note {note_temperature:g} latent {latent_temperature:g}"
        row: dict = {"setting": name, "styles": {}}
        missed = []
        for index, style in enumerate(domain.styles):
            _, clips = generated(generator, [style], args.per_style, index * args.per_style, latent_temperature)
            figures = style_figures(clips, style)
            row["styles"][style] = figures
            missed += [f"{style} {k}" for k, v in figures.items() if meets(k, v, real_figures[style][k]) is False]
        keys = key_report(generator, 0, latent_temperature, 3 * args.per_style)
        row["key_agreement"] = keys["key_agreement"]
        row["tonics_heard"] = {m: keys["tonic_coverage"][m]["tonics_heard"] for m in ("major", "minor")}
        if keys["key_agreement"] < KEY_AGREEMENT_AT_LEAST:
            missed.append("key agreement")
        missed += [f"{m} tonics" for m, n in row["tonics_heard"].items() if n < TONICS_AT_LEAST]
        row["missed"] = missed
        results["settings"].append(row)
        summary.append([name, keys["key_agreement"], *row["tonics_heard"].values(), len(missed)])
        print(f"\n{name}", flush=True)
        for style in domain.styles:
            headers = ["figure", "samples", "real", "target"]
            lines = []
            for key, value in row["styles"][style].items():
                if key == "clips":
                    continue
                ok = meets(key, value, real_figures[style][key])
                lines.append([key, value, real_figures[style][key], "" if ok is None else "yes" if ok else "MISSED"])
            print(f"  {style}:")
            print("    " + common.table(headers, lines).replace("\n", "\n    "))
        print(f"  key agreement {keys['key_agreement']:.3f}; tonics heard {row['tonics_heard']}; missed: {missed}")
    print("\nsummary (targets missed: style figures, key agreement >= 0.80, >= 8 tonics a mode)")
    print(common.table(["setting", "key agreement", "major tonics", "minor tonics", "targets missed"], summary))
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Music sample figures per way of sampling, beside real clips.")
    parser.add_argument(
        "--data", nargs="+", required=True, metavar="PATH", help="the prep_music.py cache it was trained on"
    )
    parser.add_argument("--checkpoint", default="music", help="shipped name or checkpoint path (default: music)")
    parser.add_argument("--per-style", type=common.positive, default=200, help="samples a style per setting (200)")
    parser.add_argument(
        "--settings", nargs="+", type=setting, default=[setting(s) for s in DEFAULT_SETTINGS], metavar="S:N:L"
    )
    parser.add_argument("--threads", type=common.positive, default=2, help="torch threads (default 2)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return common.bench_main("music_sampling", run, argv, parse=parse_args)


if __name__ == "__main__":
    sys.exit(main())
