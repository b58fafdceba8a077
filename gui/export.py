"""Writing grid items to files, each with a JSON sidecar that lets anyone regenerate it.

`export_items` is Qt-free and runs in a worker: it writes every item with `Domain.write`
(atomic), then `NAME.json` beside it recording the seed, the latent, the condition labels
and the checkpoint (path and weights hash). It checks `cancelled()` between items.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

from generators.core import naming
from generators.core.fileio import ensure_writable_dir, write_text_atomic
from generators.core.generator import Generator

from .items import Item

SIDECAR_VERSION = 1


def unique_stems(domain_name: str, items: Sequence[Item]) -> list[str]:
    """One stem per item (`levels-seed123`, `levels-item04` without a seed), suffixed -2, -3...
    where two items would share a name."""
    return naming.unique(naming.item_stem(domain_name, item.seed, index) for index, item in enumerate(items))


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
        record["elbo_nats"] = round(item.score, 4)  # higher is more typical
    if item.percentile is not None:
        record["typicality_percentile"] = round(item.percentile, 1)  # the badge: among the model's own samples
    if item.seed is not None:
        # Every label pinned (required or excluded), so the command makes this very item.
        pinned = generator.domain.conditions.pin(item.labels)
        record["command"] = naming.sample_command(
            generator.domain.name, str(checkpoint), item.seed, item.temperature, pinned, fmt
        )
    return record


def export_with_sidecar(generator: Generator, asset, path: str | Path, record_for: Callable[[str, str], dict]) -> list:
    """Write one asset to `path` (format by its extension, atomically) and PATH.json beside it,
    holding `record_for(asset file name, format)`; returns both paths (and any shared file the
    format writes). The pages that make one whole item (a level, a screen) export through here."""
    path = Path(path)
    fmt = generator.domain.check_format(path)
    ensure_writable_dir(path.parent)
    written = generator.domain.write(asset, path)
    side = path.with_suffix(".json")
    write_text_atomic(side, json.dumps(record_for(path.name, fmt), indent=2) + "\n")
    return [*written, side]


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
