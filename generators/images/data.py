"""Training data for the images domain: 64×64 RGBA items with labels in named groups.

Two sources give the same thing, an `ImageSet`:
- a cache `.npz` written by `scripts/prep_images.py` from the emoji-datasource packages
  (no pickle: uint8 pixels, integer label indices and unicode names, read with
  allow_pickle=False), labelled by category and art style;
- a user's image folder with one subfolder per label (the ImageFolder convention), or
  images directly in the folder, labelled with the folder's name. Files that cannot be
  read are skipped and reported, as every domain reports them.
Each item has a split key; whole keys are held out (an emoji's key is its name, so the
Noto and Twemoji drawings of one emoji are always on the same side).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generators.core.errors import AssetError, UserError
from generators.core.fileio import read_npz

from .files import SIZE, read_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
HOLDOUT_EVERY = 10  # one key in ten (by a hash of its name) is held out for eval
FOLDER_GROUP = "label"  # the one condition group of an ImageFolder tree


@dataclass
class ImageSet:
    """Items and their labels: pixels (N, 64, 64, 4) uint8; labels (N, G) indices into
    groups[g][1]; a display name and a split key per item; a description for the card."""

    pixels: np.ndarray
    labels: np.ndarray
    groups: list[tuple[str, tuple[str, ...]]]
    names: list[str]
    keys: list[str]
    description: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def label_names(self, index: int) -> list[str]:
        return [labels[self.labels[index, g]] for g, (_, labels) in enumerate(self.groups)]


def is_holdout(key: str, named: tuple[str, ...] = (), every: int = HOLDOUT_EVERY) -> bool:
    """Deterministic split by key: named keys, plus one in `every` by hash."""
    digest = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16)
    return key in named or digest % every == 0


# --- the cache --------------------------------------------------------------------------


def save_cache(path: Path, data: ImageSet) -> None:
    """Write an ImageSet to an .npz cache atomically (uint8, integer and unicode arrays only)."""
    from generators.core.fileio import write_bytes_atomic

    meta = dict(data.description, groups=[{"name": name, "labels": list(labels)} for name, labels in data.groups])
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        pixels=data.pixels.astype(np.uint8),
        labels=data.labels.astype(np.int16),
        names=np.array(data.names, dtype=str),
        keys=np.array(data.keys, dtype=str),
        meta=np.array(json.dumps(meta)),
    )
    write_bytes_atomic(path, buffer.getvalue())


def load_cache(path: Path) -> ImageSet:
    """An ImageSet from a cache written by `save_cache`."""
    archive = read_npz(path, "image cache")
    try:
        pixels, labels = archive["pixels"], archive["labels"].astype(np.int64)
        names, keys = [str(n) for n in archive["names"]], [str(k) for k in archive["keys"]]
        meta = json.loads(str(archive["meta"]))
        groups = [(g["name"], tuple(g["labels"])) for g in meta.pop("groups")]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        reason = f"it has no {exc} entry" if isinstance(exc, KeyError) else type(exc).__name__
        raise UserError(f"{path} is not a Latent Forge image cache ({reason})") from None
    n = len(names)
    if (
        pixels.shape != (n, SIZE, SIZE, 4)
        or pixels.dtype != np.uint8
        or labels.shape != (n, len(groups))
        or len(keys) != n
    ):
        raise UserError(f"{path} is not a Latent Forge image cache (its arrays do not match)")
    if n and (labels.min() < 0 or any(labels[:, g].max() >= len(ls) for g, (_, ls) in enumerate(groups))):
        raise UserError(f"{path} is not a Latent Forge image cache (a label index is out of range)")
    return ImageSet(pixels, labels, groups, names, keys, dict(meta, source=meta.get("source", str(path))))


# --- image folders ----------------------------------------------------------------------


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def folder_images(root: Path) -> ImageSet:
    """An ImageFolder tree: one subfolder per label, or image files directly in `root`."""
    from generators.core.conditions import normalise_label

    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    labelled = [f for f in folders if _images_in(f)]
    groups = [(f, normalise_label(f.name)) for f in labelled] or [(root, normalise_label(root.name))]
    # A label folder left empty is reported, not silently dropped.
    skipped = [
        {"file": str(f), "reason": "label folder has no image files"} for f in folders if f not in labelled and labelled
    ]
    label_names = list(dict.fromkeys(label for _, label in groups))
    pixels, labels, names, converted = [], [], [], 0
    for folder, label in groups:
        for path in _images_in(folder):
            try:
                picture = read_image(path)
            except AssetError as error:
                skipped.append({"file": str(path), "reason": str(error)})
                continue
            name = str(path.relative_to(root))
            pixels.append(picture.pixels)
            labels.append([label_names.index(label)])
            names.append(name)
            converted += bool(picture.notes)
    stacked = np.stack(pixels) if pixels else np.zeros((0, SIZE, SIZE, 4), np.uint8)
    # converted_files: how many were resized, padded, or changed mode (e.g. palette to RGBA)
    description = {"source": f"image folder {root}", "converted_files": converted, "skipped": skipped}
    return ImageSet(
        stacked,
        np.array(labels, dtype=np.int64).reshape(-1, 1),
        [(FOLDER_GROUP, tuple(label_names))],
        names,
        list(names),
        description,
    )


# --- several sources --------------------------------------------------------------------


def load_images(paths: list[Path]) -> ImageSet:
    """Items from cache files and/or image folders. Every source must label the same
    groups (all emoji caches, or all folders); their labels are merged."""
    sets = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UserError(f"image data {path} does not exist")
        if path.is_file():
            if path.suffix.lower() != ".npz":
                raise UserError(f"{path}: image data is a .npz cache from scripts/prep_images.py or a folder of images")
            found = load_cache(path)
        else:
            found = folder_images(path)
        if not len(found):
            raise UserError(f"no readable images in {path}")
        sets.append(found)
    if not sets:
        raise UserError("no image data given")
    return merge(sets)


def merge(sets: list[ImageSet]) -> ImageSet:
    first = sets[0]
    group_names = [name for name, _ in first.groups]
    for other in sets[1:]:
        if [name for name, _ in other.groups] != group_names:
            raise UserError(
                "image sources label different things (an emoji cache and a folder?); train on one kind at a time"
            )
    merged = [list(dict.fromkeys(label for s in sets for label in s.groups[g][1])) for g in range(len(group_names))]
    labels = []
    for s in sets:
        remap = [
            np.array([merged[g].index(label) for label in s.groups[g][1]], dtype=np.int64)
            for g in range(len(group_names))
        ]
        labels.append(
            np.stack([remap[g][s.labels[:, g]] for g in range(len(group_names))], axis=1) if len(s) else s.labels
        )
    sources = [dict(s.description) for s in sets]
    skipped = [entry for source in sources for entry in source.pop("skipped", [])]
    return ImageSet(
        np.concatenate([s.pixels for s in sets]),
        np.concatenate(labels),
        [(name, tuple(merged[g])) for g, name in enumerate(group_names)],
        [n for s in sets for n in s.names],
        [k for s in sets for k in s.keys],
        {"sources": sources, "skipped": skipped},
    )
