"""Atomic file writes: a file either appears whole under its final name or not at all.

Writers produce the bytes into a temporary file in the same folder, then `os.replace` it
over the destination, which is atomic on POSIX and Windows. A failure (full disk, no
permission, a crash, Ctrl-C or SIGTERM) leaves the old file, or nothing, and no `*.tmp` litter
behind: the temporary file is made inside the `try` whose `finally` removes it. Only a hard kill
(SIGKILL, power loss) can leave one; such leftovers of ours, older than STALE_AFTER seconds, are
swept from a folder the next time anything is written there.

`exclusive_lock` gives one process at a time a file (a training run its `--out`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import tempfile
import time
from pathlib import Path
from typing import Iterator

from .errors import AssetError, UserError

# Our temporary files: `.NAME.<12 hex>.tmp` (atomic_path) and `.probe.<8 of tempfile's>` (ensure_writable_dir).
OUR_TEMP = re.compile(r"\..+\.[0-9a-f]{12}\.tmp|\.probe\.[a-z0-9_]{8}")
STALE_AFTER = 15 * 60  # seconds: no write of ours takes this long between making its temp file and renaming it
_swept: dict[str, float] = {}  # folder -> when this process last swept it (time.monotonic)


def temp_path_for(path: Path) -> Path:
    """A fresh temporary name beside `path`, in the pattern `sweep_stale_temp_files` knows."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def sweep_stale_temp_files(folder: str | os.PathLike, older_than: float = STALE_AFTER) -> list[Path]:
    """Remove our temporary files (OUR_TEMP) in `folder` last modified over `older_than` seconds
    ago: what a killed writer left. Anyone else's files, and fresh ones (a write in progress in
    another process), stay. Returns what was removed; never raises."""
    removed = []
    cutoff = time.time() - older_than
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not OUR_TEMP.fullmatch(entry.name):
                    continue
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed.append(Path(entry.path))
    except OSError:
        pass
    return removed


def _sweep_now_and_then(folder: Path) -> None:
    """Sweep `folder` on a write there, at most once per STALE_AFTER / 4 per folder (a batch of a
    thousand files does not list the folder a thousand times)."""
    key, now = str(folder.resolve()), time.monotonic()
    if now - _swept.get(key, -float("inf")) >= STALE_AFTER / 4:
        _swept[key] = now
        sweep_stale_temp_files(folder)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it is renamed onto `path`.

    The temporary file is created with mode 0o666 less the umask, like any file the user
    writes, so the final file has ordinary permissions (mkstemp would make it private). It
    is created inside the `try` that removes it, so an interrupt at any point before the
    rename (KeyboardInterrupt, which the CLI also raises for SIGTERM) leaves no litter."""
    path = Path(path)
    _sweep_now_and_then(path.parent)
    tmp_path = temp_path_for(path)
    try:
        try:
            os.close(os.open(tmp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            yield tmp_path
            os.replace(tmp_path, path)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp_path.unlink()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically, flushed to disk before the rename."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def write_pair_atomic(first: str | os.PathLike, first_data: bytes, second: str | os.PathLike, second_data: bytes):
    """Two files that belong together (a checkpoint's weights and the card holding their hash):
    both are written and flushed in full first, then renamed one right after the other, so a
    kill can only land between two renames, not during the seconds of writing the weights."""
    with atomic_path(first) as first_tmp, atomic_path(second) as second_tmp:
        for tmp, data in ((first_tmp, first_data), (second_tmp, second_data)):
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
        _sweep_now_and_then(folder)
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


MAX_USER_FILE = 64 << 20  # bytes a file the user names may have unless its reader caps it lower


def read_user_bytes(path: str | os.PathLike, kind: str = "file", max_bytes: int = MAX_USER_FILE) -> bytes:
    """The bytes of a file the user named, or an AssetError saying in one line why not: only a
    regular file (a named pipe would hang, /dev/zero would never end) of at most `max_bytes`.
    `kind` names what was expected ("level file", "MIDI file")."""
    path = Path(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise AssetError(f"{path} is a folder, not a {kind}")
        if not stat.S_ISREG(info.st_mode):
            raise AssetError(f"{path} is not a regular file (a pipe, a device or a socket), so it is not read")
        if info.st_size > max_bytes:
            raise AssetError(f"{path} is {info.st_size:,} bytes; a {kind} may have at most {max_bytes:,}")
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)  # a file that grew since stat() is still capped
    except FileNotFoundError:
        raise AssetError(f"{path} does not exist") from None
    except OSError as exc:
        raise AssetError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise AssetError(f"{path} is over {max_bytes:,} bytes; a {kind} may have at most {max_bytes:,}")
    return data


MAX_CACHE_BYTES = 512 << 20  # a cache .npz on disk (the shipped data's are a few MB to ~100 MB)
MAX_CACHE_UNPACKED = 1 << 30  # what its arrays may claim once unpacked (a zip bomb claims far more)


def read_npz(path: str | os.PathLike, kind: str) -> dict:
    """The arrays of a cache `.npz` the user named, as {name: numpy array}, or one UserError line:
    a regular file within MAX_CACHE_BYTES whose members claim at most MAX_CACHE_UNPACKED bytes,
    holding no pickled objects (never loaded), with every array read whole. `kind` names it
    ("music cache"); the caller checks the arrays' shapes and values."""
    import io
    import zipfile

    import numpy as np

    blob = read_user_bytes(path, kind, MAX_CACHE_BYTES)
    try:
        members = zipfile.ZipFile(io.BytesIO(blob)).infolist()
        unpacked = sum(member.file_size for member in members)
        if unpacked > MAX_CACHE_UNPACKED:
            raise ValueError(f"its arrays claim {unpacked:,} bytes unpacked; at most {MAX_CACHE_UNPACKED:,}")
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, RuntimeError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        if "pickled" in reason:
            reason = "it holds pickled objects, which are never loaded"
        raise UserError(f"{path} is not a Latent Forge {kind} ({reason})") from None


# --- one writer at a time ------------------------------------------------------------


def _process_start(pid: int) -> str:
    """When process `pid` started (Linux: clock ticks since boot, /proc/PID/stat field 22), or ""
    where that cannot be read. With the pid it tells a live holder from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2 :].split()[19]
    except (OSError, ValueError, IndexError):
        return ""


def _alive(pid: int, start: str) -> bool:
    """Whether the process that wrote a lock (its pid, and its start time if recorded) still runs."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        pass
    except OSError:
        return False
    now = _process_start(pid)
    return not (start and now and now != start)  # the pid was reused by a process started since


def _holder(lock: Path) -> tuple[int, str] | None:
    """(pid, start) recorded in a lock file, or None when there is none or it is unreadable."""
    try:
        fields = lock.read_text(encoding="utf-8").split()
        return int(fields[0]), fields[1] if len(fields) > 1 else ""
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, IndexError):
        return (0, "")  # garbage: no live process wrote it whole (we write it in one atomic step)


def _create_lock(lock: Path, content: str) -> bool:
    """Create `lock` holding `content`, all at once; False if it exists. The content goes into a
    temp file that is then hard-linked to the lock's name (a link never replaces an existing
    file), so no reader ever sees a lock without its pid. Where the file system has no hard
    links, O_EXCL creation instead."""
    tmp = temp_path_for(lock)
    try:
        with open(tmp, "x", encoding="utf-8") as handle:
            handle.write(content)
        try:
            os.link(tmp, lock)
            return True
        except FileExistsError:
            return False
        except OSError:
            pass  # no hard links here (FAT, some network shares)
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        return True
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def exclusive_lock(lock: str | os.PathLike, what: str) -> Iterator[Path]:
    """Hold `lock` (a file holding our pid) while the block runs, so that one process at a time
    writes `what`; another process asking meanwhile gets a one-line UserError. The lock is
    removed on the way out, whatever happens. A lock left by a process that no longer runs (a
    `kill -9`, a crash, a reboot) is stale and taken over."""
    lock = Path(lock)
    content = f"{os.getpid()} {_process_start(os.getpid()) or '-'}\n"
    try:
        for _ in range(8):  # each round either takes the lock, refuses, or clears a stale one
            if _create_lock(lock, content):
                break
            holder = _holder(lock)
            if holder is None:
                continue  # released meanwhile: try again
            pid, start = holder
            if _alive(pid, "" if start == "-" else start):
                raise UserError(
                    f"{what} is already being written by another run (pid {pid}); wait for it to "
                    f"finish, or delete {lock} if no such process is running"
                )
            # Stale. Move it aside under a name of our own (a rename succeeds for one process only),
            # and put it back if what we moved turns out not to be the stale lock we read.
            aside = temp_path_for(lock)
            try:
                os.replace(lock, aside)
            except FileNotFoundError:
                continue
            try:
                if _holder(aside) != holder:
                    with contextlib.suppress(OSError):
                        os.link(aside, lock)  # another process's fresh lock: restore it
            finally:
                with contextlib.suppress(OSError):
                    aside.unlink()
        else:
            raise UserError(f"cannot take the lock {lock} for {what}: it keeps changing hands")
    except OSError as exc:
        raise UserError(f"cannot lock {what} ({lock}): {exc.strerror or exc}") from None
    try:
        yield lock
    finally:
        with contextlib.suppress(OSError):
            if lock.read_text(encoding="utf-8") == content:
                lock.unlink()
