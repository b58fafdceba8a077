"""Writing grid items to files, each with a JSON sidecar that lets anyone regenerate it.

`export_items` is Qt-free and runs in a worker: it writes every item with `Domain.write`
(atomic), then `NAME.json` beside it recording the seed, the latent, the condition labels
and the checkpoint (path and weights hash). It checks `cancelled()` between items.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Sequence

from generators.core.fileio import ensure_writable_dir, write_text_atomic
from generators.core.generator import Generator

from .items import Item

SIDECAR_VERSION = 1


def item_stem(domain_name: str, item: Item, index: int) -> str:
    """A file name without extension: `levels-seed123`, or `levels-item04` without a seed."""
    if item.seed is not None:
        return f"{domain_name}-seed{item.seed}"
    return f"{domain_name}-item{index + 1:02d}"


def unique_stems(domain_name: str, items: Sequence[Item]) -> list[str]:
    """One stem per item, suffixed (-2, -3...) where two items would share a name."""
    seen: dict[str, int] = {}
    stems = []
    for index, item in enumerate(items):
        stem = item_stem(domain_name, item, index)
        seen[stem] = seen.get(stem, 0) + 1
        stems.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return stems


def sidecar(item: Item, generator: Generator, checkpoint: str | Path, asset_name: str, fmt: str) -> dict:
    """What regenerates `item`: its latent always; its seed and temperature when it has them."""
    record = {
        "sidecar_version": SIDECAR_VERSION,
        "asset": asset_name,
        "domain": generator.domain.name,
        "seed": item.seed,
        "temperature": item.temperature,
        "latent": [float(v) for v in item.latent.tolist()],
        "condition": list(item.labels),
        "checkpoint": {
            "path": str(checkpoint),
            "name": generator.name,
            "weights_sha256": generator.card.get("weights_sha256"),
        },
    }
    if item.origin:
        record["origin"] = item.origin
    if item.score is not None:
        record["elbo_nats"] = round(item.score, 4)  # the typicality badge: higher is more typical
    if item.seed is not None:
        record["command"] = " ".join(
            ["python main.py sample", generator.domain.name, "--checkpoint", _quote(str(checkpoint)),
             "-n 1 --seed", str(item.seed), "--temperature", f"{item.temperature:g}",
             *(["--condition", *item.labels] if item.labels else []), "--format", fmt, "--out OUT"]
        )
    return record


def _quote(text: str) -> str:
    return text if re.fullmatch(r"[\w./:+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


def export_items(
    generator: Generator,
    checkpoint: str | Path,
    items: Sequence[Item],
    folder: str | Path,
    fmt: str,
    report: Callable[[int, int], None] = lambda done, total: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[Path]:
    """Write each item as FOLDER/STEM.FMT plus FOLDER/STEM.json; returns every file written.
    Raises UserError (unwritable folder, unknown format); stops early when cancelled."""
    domain = generator.domain
    domain.check_format(f"x.{fmt}")
    folder = ensure_writable_dir(folder)
    written: list[Path] = []
    report(0, len(items))
    for done, (item, stem) in enumerate(zip(items, unique_stems(domain.name, items)), start=1):
        if cancelled():
            break
        path = folder / f"{stem}.{fmt}"
        written += domain.write(item.asset, path)
        side = folder / f"{stem}.json"
        write_text_atomic(side, json.dumps(sidecar(item, generator, checkpoint, path.name, fmt), indent=2) + "\n")
        written.append(side)
        report(done, len(items))
    return list(dict.fromkeys(written))  # a shared file (e.g. a tileset) once
