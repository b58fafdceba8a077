"""Write a user-style image folder (one subfolder per label) from the emoji training cache, to
try "train on your own art" as a user would: `python scripts/emoji_folder.py --cache
../shared/data/emoji/emoji-cache.npz --out /tmp/my-icons --count 1000`.

Takes `count` images of one style, spread over the categories as evenly as they allow, chosen by
a seeded shuffle; the category is the label. The folder is ordinary PNGs, nothing else."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators.core.fileio import write_png_atomic  # noqa: E402
from generators.images.data import load_cache  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True, type=Path, help="emoji-cache.npz")
    parser.add_argument("--out", required=True, type=Path, help="a new folder")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--style", default="twemoji")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        parser.error(f"{args.out} is not an empty folder")
    data = load_cache(args.cache)
    (_, categories), (_, styles) = data.groups
    if args.style not in styles:
        parser.error(f"style {args.style!r} is not one of {', '.join(styles)}")
    rng = np.random.default_rng(args.seed)
    chosen = np.flatnonzero(data.labels[:, 1] == styles.index(args.style))
    by_category = [rng.permutation(chosen[data.labels[chosen, 0] == c]) for c in range(len(categories))]
    picked: list[int] = []
    while len(picked) < args.count and any(len(b) for b in by_category):  # round-robin over the categories
        for c, items in enumerate(by_category):
            if len(items) and len(picked) < args.count:
                picked.append(int(items[0]))
                by_category[c] = items[1:]
    for index in picked:
        folder = args.out / categories[data.labels[index, 0]]
        folder.mkdir(parents=True, exist_ok=True)
        write_png_atomic(folder / f"{data.keys[index]}.png", data.pixels[index])
    print(f"{len(picked)} images in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
