"""Favourites, Qt-free: starred items saved as JSON (seed, latent, condition and checkpoint),
so they survive restarts and regenerate exactly. The file is rewritten atomically on every
change; a missing or damaged file reads as no favourites (and is replaced on the next star)."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import numpy as np

from generators.core.errors import UserError
from generators.core.fileio import write_text_atomic
from generators.core.generator import Generator

from .items import Item

STORE_VERSION = 1


def model_key(generator: Generator, checkpoint: str | Path) -> str:
    """What ties a favourite to its model: the weights hash (a copy of the file elsewhere is
    the same model), or the path for a checkpoint without one."""
    return generator.card.get("weights_sha256") or str(checkpoint)


def record_of(item: Item, generator: Generator, checkpoint: str | Path) -> dict:
    return {
        "id": secrets.token_hex(8),
        "domain": generator.domain.name,
        "caption": item.caption,
        "seed": item.seed,
        "temperature": item.temperature,
        "latent": [float(v) for v in np.asarray(item.latent).tolist()],
        "condition": list(item.labels),
        "checkpoint": str(checkpoint),
        "model": model_key(generator, checkpoint),
        "added": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def latent_of(record: dict) -> np.ndarray:
    return np.asarray(record["latent"], dtype=np.float32)


class FavouritesStore:
    """The favourites file: every model's favourites in one list, newest last."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.records = self._read()

    def _read(self) -> list[dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            records = data.get("favourites", []) if isinstance(data, dict) else []
            return [r for r in records if isinstance(r, dict) and "latent" in r and "id" in r]
        except (OSError, ValueError):
            return []

    def reload(self) -> None:
        self.records = self._read()

    def for_model(self, key: str) -> list[dict]:
        return [r for r in self.records if r.get("model") == key]

    def add(self, record: dict) -> None:
        self.reload()  # another window may have written since
        self.records.append(record)
        self._write()

    def remove(self, record_id: str) -> None:
        self.reload()
        self.records = [r for r in self.records if r["id"] != record_id]
        self._write()

    def _write(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot write favourites to {self.path.parent}: {exc.strerror or exc}") from None
        write_text_atomic(
            self.path, json.dumps({"version": STORE_VERSION, "favourites": self.records}, indent=1) + "\n"
        )
