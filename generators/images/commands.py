"""What the images wing adds to the CLI:
- `denoise` cleans with the shipped dedicated denoiser (`denoiser.py`), or with the generative
  model's projection under `--with-model`;
- `eval` writes a contact sheet beside its JSON, 8 samples for every combination of labels
  (emoji: each category in each style), so that a figure of the yardstick always comes with a
  picture to check it against."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from generators.core.commands import Flag, WingCommands
from generators.core.errors import UserError
from generators.core.fileio import write_png_atomic

from .files import SIZE
from .options import DECODING_OPTIONS

PER_ROW = 8  # samples per label combination
LABEL_WIDTH = 190  # pixels of text at the left of each row
GAP = 4


def contact_sheet(generator, seed: int = 0) -> np.ndarray:
    """(H, W, 4) uint8: one row per label combination, its labels at the left, then PER_ROW
    samples on mid-grey, decoded as `eval` decodes them (`generated_images`)."""
    from .metrics import generated_images, label_combinations

    space = generator.domain.conditions
    combos = label_combinations(space)
    vectors = np.repeat(combos, PER_ROW, axis=0)
    images = generated_images(generator, vectors, seed, generator.default_temperature).numpy()  # (N, 4, 64, 64)
    row_height = SIZE + GAP
    sheet = Image.new("RGBA", (LABEL_WIDTH + PER_ROW * (SIZE + GAP), len(combos) * row_height), (128, 128, 128, 255))
    draw = ImageDraw.Draw(sheet)
    for row, combo in enumerate(combos):
        top = row * row_height
        draw.text((6, top + SIZE // 2 - 6), " / ".join(space.decode(combo)), fill=(255, 255, 255, 255))
        for col in range(PER_ROW):
            pixels = np.round(images[row * PER_ROW + col].transpose(1, 2, 0) * 255).astype(np.uint8)
            tile = Image.fromarray(pixels, "RGBA")
            sheet.alpha_composite(tile, (LABEL_WIDTH + col * (SIZE + GAP), top + GAP // 2))
    return np.asarray(sheet)


class ImagesCommands(WingCommands):
    decoding_options = DECODING_OPTIONS
    flags = (
        Flag(
            "denoise",
            "--with-model",
            {
                "action": "store_true",
                "help": "images: clean through the generative model (encode, decode) instead of the "
                "dedicated denoiser; --condition applies only then",
            },
        ),
    )

    def apply(self, command, generator, args) -> None:
        super().apply(command, generator, args)
        if command == "denoise" and args.condition is not None and not args.with_model:
            raise UserError("--condition applies to denoise images only with --with-model")

    def denoiser(self, generator, args):
        if args.with_model:
            return None
        from .denoiser import shipped_denoiser

        model, source = shipped_denoiser()
        if model is None:  # the generative model's projection still cleans: say why it is used
            print(f"note: {source}; cleaning through the images model instead", file=sys.stderr)
            return None
        domain = generator.domain

        def clean(pictures):
            x = torch.stack([domain.to_tensor(p) for p in pictures])
            return domain.from_tensor(model.clean(x))

        return clean, source

    def evaluate(self, generator, corpus, args):
        def write_sheet(json_path: Path) -> list[Path]:
            path = json_path.with_name(f"{json_path.stem}-contact-sheet.png")
            write_png_atomic(path, contact_sheet(generator, args.seed))
            return [path]

        return {}, write_sheet


COMMANDS = ImagesCommands()
