"""Build the images training cache from the emoji-datasource packages (Noto and Twemoji).

Fetch and unpack the two packages (74 and 62 MB tarballs; npm is only needed for this step):

    npm pack emoji-datasource-google@16.0.0 emoji-datasource-twitter@16.0.0
    mkdir -p google twitter
    tar -xzf emoji-datasource-google-16.0.0.tgz -C google     # -> google/package/
    tar -xzf emoji-datasource-twitter-16.0.0.tgz -C twitter   # -> twitter/package/
    python scripts/prep_images.py --google google/package --twitter twitter/package --out emoji-cache.npz

What is taken: the 64-px PNG of every emoji (`img/<set>/64/<image>`) that `emoji.json`
marks as drawn in that set (`has_img_google` / `has_img_twitter`), labelled with its
category (the 9 Unicode groups; "Component", the bare skin-tone and hair swatches, is left
out) and its art style (noto or twemoji). Skin-tone variations are left out by default:
they are ~1,900 recolourings of ~320 People & Body emoji, which would make that one
category over half the data while adding no new shapes. `--skin-tones` includes them
(each keeps its base emoji's split key, so it lands on the same side of the split).
The split key of an emoji is its short name, shared by its Noto and Twemoji drawings, so
both always fall on the same side of the ~10% held-out split (`generators.images.data.is_holdout`).
The cache is an `.npz` of uint8 pixels, integer labels and strings (never pickle), with the
licences and attribution that go into a model's card.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators.core.errors import UserError  # noqa: E402
from generators.images.data import ImageSet, is_holdout, save_cache  # noqa: E402
from generators.images.domain import EMOJI_CATEGORIES, EMOJI_STYLES  # noqa: E402
from generators.images.files import read_image  # noqa: E402

VERSION = "16.0.0"
# style -> (npm package, image set folder under img/, flag in emoji.json)
PACKAGES = {
    "noto": ("emoji-datasource-google", "google", "has_img_google"),
    "twemoji": ("emoji-datasource-twitter", "twitter", "has_img_twitter"),
}
LICENCES = {
    "noto": {
        "images": "Noto Emoji, Copyright Google Inc.",
        "licence": "Apache License 2.0",
        "licence_url": "https://github.com/googlefonts/noto-emoji/blob/main/LICENSE",
        "package": f"emoji-datasource-google@{VERSION}",
    },
    "twemoji": {
        "images": "Twemoji, Copyright Twitter, Inc and other contributors (https://github.com/jdecked/twemoji)",
        "licence": "Creative Commons Attribution 4.0 International (CC-BY-4.0)",
        "licence_url": "https://creativecommons.org/licenses/by/4.0/",
        "attribution": "Emoji graphics by Twemoji (Twitter, Inc and other contributors), licensed under CC-BY 4.0; "
        "downscaled to 64x64 by emoji-datasource and re-encoded as training data",
        "package": f"emoji-datasource-twitter@{VERSION}",
    },
    "metadata": {
        "source": f"emoji.json of emoji-datasource {VERSION} by Cal Henderson (https://github.com/iamcal/emoji-data)",
        "licence": "MIT",
    },
}


def category_slug(name: str) -> str:
    """'Smileys & Emotion' -> 'smileys-emotion' (a label that needs no quoting on a command line)."""
    return "-".join(name.lower().replace("&", " ").split())


def emoji_items(package: Path, style: str, skin_tones: bool, log) -> tuple[list, list[dict]]:
    """(pixels, category, name, key) for every usable emoji of one package, and skipped files."""
    _, folder, flag = PACKAGES[style]
    try:
        entries = json.loads((package / "emoji.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{package} is not an unpacked emoji-datasource package: {exc}") from None
    images = package / "img" / folder / "64"
    if not images.is_dir():
        raise UserError(f"{images} does not exist; is {package} the package/ folder of {PACKAGES[style][0]}?")
    items, skipped = [], []
    for entry in sorted(entries, key=lambda e: e["sort_order"]):
        category = category_slug(entry["category"])
        if category not in EMOJI_CATEGORIES:
            continue  # "Component"
        variants = [(entry["short_name"], entry)]
        if skin_tones:
            variants += [
                (f"{entry['short_name']}/{tone}", v) for tone, v in sorted((entry.get("skin_variations") or {}).items())
            ]
        for name, variant in variants:
            if not variant.get(flag):
                continue
            try:
                picture = read_image(images / variant["image"])
            except UserError as error:
                skipped.append({"file": str(images / variant["image"]), "reason": str(error)})
                continue
            items.append((picture.pixels, category, f"{style}/{name}", entry["short_name"]))
    log(f"{style}: {len(items)} images, {len(skipped)} skipped")
    return items, skipped


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--google", type=Path, help="the unpacked emoji-datasource-google package/ folder")
    parser.add_argument("--twitter", type=Path, help="the unpacked emoji-datasource-twitter package/ folder")
    parser.add_argument("--out", required=True, type=Path, help="the .npz cache to write")
    parser.add_argument("--skin-tones", action="store_true", help="also take every skin-tone variation")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    packages = {style: path for style, path in (("noto", args.google), ("twemoji", args.twitter)) if path}
    if not packages:
        print("error: give --google and/or --twitter (unpacked package folders)", file=sys.stderr)
        return 2
    try:
        items, skipped = [], []
        for style, path in packages.items():
            found, bad = emoji_items(path, style, args.skin_tones, log)
            items += [(pixels, category, style, name, key) for pixels, category, name, key in found]
            skipped += bad
        if not items:
            raise UserError("no emoji images found")
        keys = [item[4] for item in items]
        held = sum(is_holdout(k) for k in keys)
        data = ImageSet(
            pixels=np.stack([item[0] for item in items]),
            labels=np.array(
                [[EMOJI_CATEGORIES.index(item[1]), EMOJI_STYLES.index(item[2])] for item in items], dtype=np.int64
            ),
            groups=[("category", EMOJI_CATEGORIES), ("style", EMOJI_STYLES)],
            names=[item[3] for item in items],
            keys=keys,
            description={
                "source": f"emoji-datasource {VERSION} 64-px PNGs via scripts/prep_images.py",
                "styles": sorted(packages),
                "skin_tones": "included" if args.skin_tones else "base emoji only",
                "items": len(items),
                "heldout_by_rule": held,
                "licences": {k: v for k, v in LICENCES.items() if k == "metadata" or k in packages},
                "skipped": skipped,
            },
        )
        save_cache(args.out, data)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    log(f"{len(items)} images ({held} held out by the split rule) -> {args.out}")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
