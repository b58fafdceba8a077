"""Favourites, Qt-free: starred items saved as JSON (seed, latent, condition and checkpoint),
so they survive restarts and regenerate exactly. The file is rewritten atomically on every
change, and the file it replaces is kept beside it as `favourites.json.bak`. A damaged file
(bad JSON, too deep, too large, not a regular file, the wrong shape) is moved aside with a
timestamp, so nothing the user starred is destroyed; its good records are kept and the bad ones
left out. `problem` says once what happened, for the window's status bar."""

from __future__ import annotations

import json
import math
import secrets
import time
from pathlib import Path

import numpy as np

from generators.core.errors import UserError
from generators.core.fileio import write_bytes_atomic, write_text_atomic
from generators.core.generator import Generator

from .items import Item

STORE_VERSION = 1
MAX_FILE_BYTES = 32 * 2**20  # a favourites file larger than this is not ours: read as none
MAX_LATENT = 4096  # numbers in one favourite's latent (models stay far below)
MAX_TEXT = 4096  # characters of one text field


def _text(value, optional: bool = False) -> bool:
    return (optional and value is None) or (isinstance(value, str) and len(value) <= MAX_TEXT)


def _number(value, optional: bool = False) -> bool:
    if optional and value is None:
        return True
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))  # JSON's integers have no bound: 10**400 overflows float
    except OverflowError:
        return False


def valid_record(record) -> bool:
    """A favourite the app can show and regenerate: an id and model key of text, a latent of
    finite numbers, a condition of labels, a whole seed or none, a finite temperature or none.
    A sync tool, a crash mid-write or an older version can leave anything else in the file."""
    if not isinstance(record, dict) or not _text(record.get("id")) or not _text(record.get("model")):
        return False
    latent, condition = record.get("latent"), record.get("condition", [])
    if not isinstance(latent, list) or not 0 < len(latent) <= MAX_LATENT or not all(map(_number, latent)):
        return False
    if not isinstance(condition, list) or not all(map(_text, condition)):
        return False
    seed = record.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63):
        return False
    return _number(record.get("temperature"), optional=True) and all(
        _text(record.get(key), optional=True) for key in ("caption", "checkpoint", "added", "domain")
    )


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
        self.problem: str | None = None  # what was wrong with the file at start, once
        self.records = self._read(heal=True)

    @property
    def backup_path(self) -> Path:
        return self.path.with_name(self.path.name + ".bak")

    def _read(self, heal: bool = False) -> list[dict]:
        """Every valid favourite in the file; a missing file reads as none. With `heal`, a file
        that is damaged as a whole, or holds bad records, is moved aside and `problem` says so."""
        if not self.path.exists() and not self.path.is_symlink():
            return []
        records, why = self._parse()
        if heal and why:
            self.problem = self._move_aside(why, records)
        return records

    def _parse(self) -> tuple[list[dict], str | None]:
        """(the valid records, why the file is not wholly good, or None)."""
        try:
            if not self.path.is_file():
                return [], "it is not a regular file"
            if self.path.stat().st_size > MAX_FILE_BYTES:
                return [], f"it is larger than {MAX_FILE_BYTES // 2**20} MB"
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except RecursionError:
            return [], "it is nested too deeply"
        except (OSError, ValueError) as exc:
            return [], f"it is not readable JSON ({type(exc).__name__})"
        records = data.get("favourites") if isinstance(data, dict) else None
        if not isinstance(records, list):
            return [], "it is not a favourites file"
        good = [r for r in records if valid_record(r)]
        bad = len(records) - len(good)
        return good, (f"{bad} of its {len(records)} favourites are damaged" if bad else None)

    def _move_aside(self, why: str, records: list[dict]) -> str:
        """Rename the damaged file to favourites.json.damaged-YYYYMMDD-HHMMSS, write its good
        `records` back as the file (so the next start is quiet), and say so."""
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            self.path.rename(aside)
        except OSError as exc:
            return f"The favourites file could not be read ({why}) nor moved aside ({exc.strerror or exc})."
        if records:
            try:
                self._write_records(records)
            except (OSError, UserError):
                pass  # they are still shown; the next star writes them again
        return (
            f"The favourites file was damaged ({why}); it was moved to {aside.name}"
            f" and {len(records)} favourite{'' if len(records) == 1 else 's'} kept."
        )

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
        self._write_records(self.records)

    def _write_records(self, records: list[dict]) -> None:
        """Write `records` atomically; the file they replace becomes the backup first."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.is_file():
                write_bytes_atomic(self.backup_path, self.path.read_bytes())
        except OSError as exc:
            raise UserError(f"cannot write favourites to {self.path.parent}: {exc.strerror or exc}") from None
        write_text_atomic(self.path, json.dumps({"version": STORE_VERSION, "favourites": records}, indent=1) + "\n")
