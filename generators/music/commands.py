"""What the music wing adds to the CLI: its decoding options on `sample` and `interpolate`, and
`eval --jsb`, the JSB Chorales benchmark on the same architecture."""

from __future__ import annotations

from pathlib import Path

from generators.core.commands import Flag, WingCommands
from generators.core.errors import UserError

from .options import DECODING_OPTIONS


class MusicCommands(WingCommands):
    decoding_options = DECODING_OPTIONS
    flags = (
        Flag(
            "eval",
            "--jsb",
            {
                "metavar": "FILE",
                "help": "music: also run the JSB Chorales benchmark on this "
                "jsb-chorales-quarter.json (trains the same architecture, several minutes)",
            },
        ),
    )

    def apply(self, command, generator, args) -> None:
        super().apply(command, generator, args)
        if command == "eval" and args.jsb and not Path(args.jsb).is_file():
            raise UserError(f"{args.jsb} does not exist (expected jsb-chorales-quarter.json)")

    def evaluate(self, generator, corpus, args):
        if not args.jsb:
            return {}, None
        from .jsb import benchmark

        return {"jsb_chorales": benchmark(Path(args.jsb), generator.latent_size, args.iwae_k)}, None


COMMANDS = MusicCommands()
