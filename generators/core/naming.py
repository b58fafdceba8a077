"""File names of generated items and the commands that regenerate them, for the CLI and the GUI.

One place builds every name, so a file written by `sample` and one exported from the app are
called the same, and every replay command is quoted by `shlex.join`: a condition label comes from
a checkpoint's card, and a crafted one must never run when a user pastes the command into a shell.
"""

from __future__ import annotations

import shlex
from dataclasses import fields
from pathlib import Path
from typing import Iterable, Sequence

from .conditions import Condition


def seed_stem(domain: str, seed: int, length: int | None = None) -> str:
    """`levels-seed5`, or `levels-seed5-len200` for a whole level of 200 columns."""
    return f"{domain}-seed{seed}" + (f"-len{length}" if length is not None else "")


def seeds_stem(domain: str, first: int, last: int) -> str:
    """A batch of seeds in one file: `images-seed3-10`, or `images-seed3` for one."""
    return f"{domain}-seed{first}-{last}" if last != first else f"{domain}-seed{first}"


def frame_stem(domain: str, index: int | None = None) -> str:
    """Interpolation frame `index` (`music-interp03`), or the file holding every frame."""
    return f"{domain}-interp" + (f"{index:02d}" if index is not None else "")


def morph_stem(domain: str, length: int) -> str:
    """A whole level that morphs from one end to the other: `levels-morph-len200`."""
    return f"{domain}-morph-len{length}"


def piece_stem(domain: str, seed: int | None, bars: int) -> str:
    """A piece of `bars` bars: `music-seed5-16bars`, or `music-morph-16bars` (seed None: a morph)."""
    return f"{domain}-morph-{bars}bars" if seed is None else f"{seed_stem(domain, seed)}-{bars}bars"


def item_stem(domain: str, seed: int | None, index: int) -> str:
    """An exported grid item: named by its seed, else by its place (`levels-item04`)."""
    return seed_stem(domain, seed) if seed is not None else f"{domain}-item{index + 1:02d}"


def batch_path(stem: Path, fmt: str) -> Path:
    """Where a batch format puts many items: a sprite sheet is STEM-sheet(.png/.json), else STEM.FMT."""
    return stem.with_name(f"{stem.name}-sheet" if fmt == "sheet" else f"{stem.name}.{fmt}")


def unique(stems: Iterable[str]) -> list[str]:
    """The stems, with -2, -3... added where two would share a name."""
    out, seen = [], set()
    for stem in stems:
        n = 1
        while (stem if n == 1 else f"{stem}-{n}") in seen:
            n += 1
        out.append(stem if n == 1 else f"{stem}-{n}")
        seen.add(out[-1])
    return out


def denoised_stems(paths: Sequence[str | Path]) -> list[str]:
    """A distinct output stem per input file of `denoise`: STEM-denoised."""
    return [f"{stem}-denoised" for stem in unique(Path(p).stem or "item" for p in paths)]


def command(*args: object) -> str:
    """`python main.py ARGS...`, each argument shell-quoted where it needs it."""
    return shlex.join(["python", "main.py", *map(str, args)])


def condition_args(condition: Condition) -> list[str]:
    """`--condition A B --without C` for what a condition requires and excludes."""
    required = ["--condition", *condition.required] if condition.required else []
    return required + (["--without", *condition.excluded] if condition.excluded else [])


def sample_command(
    domain: str,
    checkpoint: str | Path,
    seed: int,
    temperature: float,
    condition: Condition,
    fmt: str,
    length: int | None = None,
    repair_budget: int | None = None,
) -> str:
    """The `sample` line that writes one item again (a whole level with `length`; `repair_budget`
    adds --playable)."""
    whole = ["--length", length] if length is not None else []
    playable = ["--playable", "--repair-budget", repair_budget] if repair_budget is not None else []
    return command(
        "sample",
        domain,
        "--checkpoint",
        checkpoint,
        "-n",
        1,
        "--seed",
        seed,
        "--temperature",
        f"{temperature:g}",
        *playable,
        *whole,
        *condition_args(condition),
        "--format",
        fmt,
        "--out",
        "OUT",
    )


def morph_command(
    domain: str,
    checkpoint: str | Path,
    seed_a: int,
    seed_b: int,
    mode: str,
    length: int,
    condition: Condition,
    fmt: str,
) -> str:
    """The `interpolate --length` line that writes a morphing whole level again."""
    return command(
        "interpolate",
        domain,
        "--checkpoint",
        checkpoint,
        "--seed-a",
        seed_a,
        "--seed-b",
        seed_b,
        "--mode",
        mode,
        "--length",
        length,
        *condition_args(condition),
        "--format",
        fmt,
        "--out",
        "OUT",
    )


def train_command(
    domain: str,
    data: Sequence[str | Path],
    out: str | Path,
    config,
    holdout: Sequence[str] = (),
    init: str | None = None,
) -> str:
    """The `train` line that runs a training again: its data and output, every TrainConfig setting that
    differs from its default (by the setting's own flag), the held-out items and the model it fine-tunes."""
    from .train import TrainConfig

    words: list = ["train", domain, "--data", *data, "--out", out]
    defaults = TrainConfig()
    for spec in fields(TrainConfig):
        value = getattr(config, spec.name)
        if value != getattr(defaults, spec.name):
            words += [spec.metadata["flag"], value]
    if holdout:
        words += ["--holdout", *holdout]
    if init:
        words += ["--init", init]
    return command(*words)


def running_command(argv: Sequence[str]) -> str:
    """The command that is running (`sys.argv[1:]`), as a user would type it: for a card."""
    return command(*argv)
