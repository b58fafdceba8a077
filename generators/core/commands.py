"""What an asset kind adds to the command line, and how commands report what they wrote.

The CLI (`generators/cli.py`) owns the commands every domain shares. A wing adds its own flags
through a `WingCommands` object (`levels/commands.py`: whole levels; `music/commands.py`: the
JSB benchmark), which the registry hands out by domain name. The CLI adds every wing's flags to
its parser, so `--help` lists them all; once the model is loaded it refuses the flags of other
wings, then lets the model's own wing apply its flags and, where they ask for it, do the work.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .domain import DecodingOption
from .errors import UserError

DECODED = ("sample", "interpolate")  # the commands that decode, hence take decoding options


@dataclass(frozen=True)
class Flag:
    """One flag a wing adds to one command: argparse's name and keyword arguments."""

    command: str  # "sample", "interpolate", "eval"...
    name: str  # "--length"
    options: dict = field(default_factory=dict)  # help, type, default, action, metavar...

    @property
    def dest(self) -> str:
        return self.options.get("dest", self.name.lstrip("-").replace("-", "_"))

    @property
    def default(self):
        return self.options.get("default", False if self.options.get("action") == "store_true" else None)


def decoding_flag(option: DecodingOption, command: str) -> Flag:
    """A flag for a domain's decoding option: a switch for a yes/no option, else a value."""
    if option.choices == (False, True):
        return Flag(command, option.flag, {"action": "store_true", "help": option.help})
    if option.choices:
        return Flag(command, option.flag, {"choices": option.choices, "help": option.help})
    return Flag(command, option.flag, {"type": type(option.default), "help": option.help})


# What `eval` hands back after the table: a function writing extra files beside the JSON.
WriteBeside = Callable[[Path], list[Path]]


class WingCommands:
    """The CLI extension of one asset kind; the base adds nothing."""

    flags: tuple[Flag, ...] = ()
    decoding_options: tuple[DecodingOption, ...] = ()  # each becomes a flag of `sample` and `interpolate`

    def all_flags(self) -> list[Flag]:
        decoding = [decoding_flag(option, command) for command in DECODED for option in self.decoding_options]
        return [*self.flags, *decoding]

    def add_flags(self, command: str, parser: argparse.ArgumentParser) -> None:
        for flag in self.all_flags():
            if flag.command == command:
                parser.add_argument(flag.name, **flag.options)

    def given(self, command: str, args: argparse.Namespace) -> list[str]:
        """This wing's flags of `command` that the user set (not at their defaults)."""
        return [
            flag.name
            for flag in self.all_flags()
            if flag.command == command and getattr(args, flag.dest, flag.default) != flag.default
        ]

    def apply(self, command: str, generator, args: argparse.Namespace) -> None:
        """Before any work: set the decoding options given and check the wing's flags."""
        for option in self.decoding_options:
            value = vars(args).get(option.name)
            if value is not None and value is not False:
                generator.domain.set_decoding(option.name, value)

    def run(self, command: str, generator, args: argparse.Namespace, fmt: str) -> int | None:
        """Do the command's work where this wing's flags ask for it; None: the generic command runs."""
        return None

    def interpolate(self, generator, args: argparse.Namespace, fmt: str, start: tuple, end: tuple) -> int | None:
        """Blend between the two ends, each (latent, labels, description), where this wing's flags
        ask for its own way (a level that morphs along its length); None: the generic frames."""
        return None

    def denoiser(self, generator, args: argparse.Namespace) -> tuple[Callable[[list], list], str] | None:
        """A dedicated cleaner for `denoise` (assets in, cleaned assets out) and its name; None:
        the model's own projection (encode, decode the mean) cleans."""
        return None

    def evaluate(self, generator, corpus, args: argparse.Namespace) -> tuple[dict, WriteBeside | None]:
        """Rows this wing adds to `eval` for its flags, and what it writes beside --json."""
        return {}, None


def refuse_foreign_flags(command: str, args: argparse.Namespace, wings: dict[str, WingCommands], own: str) -> None:
    """A flag of another wing than the model's (`own`, a domain name) is a UserError naming it."""
    for name, wing in wings.items():
        if name != own:
            for flag in wing.given(command, args):
                raise UserError(f"{flag} does not apply to {own}")


def print_written(paths: list[Path], detail: str | None, listed: set) -> None:
    """Print the item's file with its detail, then any shared file (a tileset) once."""
    first, *shared = paths
    print(f"{first}\t{detail}" if detail is not None else str(first))
    for path in shared:
        if path not in listed:
            listed.add(path)
            print(path)


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text}")
    return value


def bounded_int(least: int, most: int):
    """argparse type: a whole number from `least` to `most`, so no flag asks for hours or gigabytes."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not least <= value <= most:
            raise argparse.ArgumentTypeError(f"expected a number from {least:,} to {most:,}, got {value:,}")
        return value

    return parse


MAX_ITEMS = 1_000_000  # -n: written in chunks, so memory stays flat however many
MAX_MEASURED = 100_000  # --samples, --iwae-k: beyond this a measurement runs for hours
SEED = bounded_int(0, 2**63 - 1)
