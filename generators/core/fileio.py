"""Atomic file writes: a file either appears whole under its final name or not at all.

Writers produce the bytes into a temporary file in the same folder, then `os.replace` it
over the destination, which is atomic on POSIX and Windows. A failure (full disk, no
permission, a crash) leaves the old file, or nothing, and no `*.tmp` litter behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import AssetError, UserError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it is renamed onto `path`.

    The temporary file is created with mode 0o666 less the umask, like any file the user
    writes, so the final file has ordinary permissions (mkstemp would make it private)."""
    path = Path(path)
    tmp_path = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        os.close(os.open(tmp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically, flushed to disk before the rename."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 `text` to `path` atomically, with the newlines exactly as given."""
    write_bytes_atomic(path, text.encode("utf-8"))


def ensure_writable_dir(folder: str | os.PathLike) -> Path:
    """Create `folder` if needed and prove we can write there, before any slow work starts."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"output folder {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe.", delete=True):
            pass
    except OSError as exc:
        raise UserError(f"cannot write to output folder {folder}: {exc.strerror or exc}") from None
    return folder


def png_bytes(pixels) -> bytes:
    """Encode a uint8 (H, W, 3|4) array as PNG bytes."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def write_png_atomic(path: str | os.PathLike, pixels) -> None:
    """Write a uint8 (H, W, 3|4) array as a PNG, atomically."""
    write_bytes_atomic(path, png_bytes(pixels))


def ensure_writable_file(path: str | os.PathLike) -> Path:
    """Prove `path` can be written (its folder exists or can be made), before slow work."""
    path = Path(path)
    try:
        ensure_writable_dir(path.resolve().parent)
    except UserError as error:
        raise UserError(f"cannot write {path}: {error}") from None
    if path.is_dir():
        raise UserError(f"cannot write {path}: it is a folder")
    return path


def read_user_bytes(path: str | os.PathLike, kind: str = "file") -> bytes:
    """The bytes of a file the user named, or an AssetError saying in one line why not.
    `kind` names what was expected ("level file", "MIDI file") for the folder case."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise AssetError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise AssetError(f"{path} is a folder, not a {kind}") from None
    except OSError as exc:
        raise AssetError(f"cannot read {path}: {exc.strerror or exc}") from None
