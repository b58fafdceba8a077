"""Writes leave no litter: an interrupt (Ctrl-C, or SIGTERM, which the CLI turns into one) at any
point of an atomic write removes its temp file; what a hard kill left is swept on the next write
to that folder; `sample` stopped by SIGTERM exits 130 with no temp file behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT, files_under

from generators.core import fileio
from generators.core.errors import UserError
from generators.core.fileio import OUR_TEMP, STALE_AFTER, sweep_stale_temp_files, write_bytes_atomic


def temp_files(folder: Path) -> list[str]:
    return [name for name in files_under(folder) if name.endswith(".tmp") or ".probe." in name]


@pytest.fixture(autouse=True)
def _fresh_sweeps(monkeypatch):
    monkeypatch.setattr(fileio, "_swept", {})  # every test sees its folders as never swept


def test_an_interrupt_right_after_the_temp_file_is_made_leaves_nothing(tmp_path, monkeypatch):
    real_open = os.open

    def open_then_interrupt(path, *args, **kwargs):
        fd = real_open(path, *args, **kwargs)  # the temp file now exists...
        os.close(fd)
        raise KeyboardInterrupt  # ...and a signal arrives before the writer can do anything with it

    monkeypatch.setattr(fileio.os, "open", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_bytes_atomic(tmp_path / "level.txt", b"XXXX\n")
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("where", ["while writing", "at the rename"])
def test_an_interrupt_later_in_the_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch, where):
    target = tmp_path / "level.txt"
    target.write_bytes(b"old\n")
    if where == "at the rename":

        def replace(*args):
            raise KeyboardInterrupt

        monkeypatch.setattr(fileio.os, "replace", replace)
        with pytest.raises(KeyboardInterrupt):
            write_bytes_atomic(target, b"new\n")
    else:
        with pytest.raises(KeyboardInterrupt), fileio.atomic_path(target) as tmp:
            tmp.write_bytes(b"ne")
            raise KeyboardInterrupt
    assert files_under(tmp_path) == ["level.txt"]
    assert target.read_bytes() == b"old\n"


def age(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_stale_temp_files_of_ours_are_swept_on_the_next_write_there(tmp_path):
    ours_old = tmp_path / ".levels-seed1.txt.0123456789ab.tmp"
    probe_old = tmp_path / ".probe.ab_c12de"
    ours_fresh = tmp_path / ".levels-seed2.txt.fedcba987654.tmp"  # a write in progress elsewhere
    foreign = [tmp_path / name for name in (".notes.tmp", "draft.0123456789ab.tmp", ".x.0123456789AB.tmp", "a.tmp")]
    for path in (ours_old, probe_old, ours_fresh, *foreign):
        path.write_bytes(b"")
    for path in (ours_old, probe_old, *foreign):
        age(path, STALE_AFTER + 60)
    assert OUR_TEMP.fullmatch(ours_old.name) and OUR_TEMP.fullmatch(probe_old.name)

    write_bytes_atomic(tmp_path / "levels-seed3.txt", b"X\n")
    left = set(files_under(tmp_path))
    assert ours_old.name not in left and probe_old.name not in left
    assert {ours_fresh.name, "levels-seed3.txt", *(p.name for p in foreign)} == left


def test_the_sweep_skips_folders_and_links_and_never_raises(tmp_path):
    (tmp_path / ".a.txt.0123456789ab.tmp").mkdir()  # a folder with our name: not ours to delete
    target = tmp_path / "keep.txt"
    target.write_bytes(b"keep")
    link = tmp_path / ".b.txt.0123456789ab.tmp"
    link.symlink_to(target)
    os.utime(link, (0, 0), follow_symlinks=False)
    assert sweep_stale_temp_files(tmp_path) == []
    assert sweep_stale_temp_files(tmp_path / "no such folder") == []
    assert target.read_bytes() == b"keep"


def test_a_sigterm_during_sample_exits_130_and_leaves_no_temp_file(tmp_path):
    out = tmp_path / "out"
    argv = [sys.executable, "main.py", "sample", "levels", "-n", "3000", "--seed", "1", "--format", "png"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [*argv, "--out", str(out)], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    deadline = time.monotonic() + 120

    def whole_files() -> int:  # a temp file mid-write is not yet a file; counting it made this test racy
        return len(set(files_under(out)) - set(temp_files(out)))

    while whole_files() < 5 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    written = files_under(out)
    assert proc.returncode == 130, stderr.decode()[-2000:]
    assert stderr.decode().splitlines()[-1] == "interrupted"
    assert 5 <= len(written) < 3000  # it was stopped mid-batch
    assert temp_files(out) == []
    assert len(stdout.decode().splitlines()) <= len(written)  # each file printed is a whole file


def test_a_pair_is_written_in_full_before_either_is_renamed(tmp_path, monkeypatch):
    """Weights and card: a failure writing the second leaves both old files as they were."""
    first, second = tmp_path / "m.safetensors", tmp_path / "m.json"
    fileio.write_pair_atomic(first, b"old weights", second, b"old card")
    real_fsync, calls = os.fsync, []

    def failing_fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # the second file's flush
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", failing_fsync)
    with pytest.raises(UserError, match="No space left"):
        fileio.write_pair_atomic(first, b"new weights", second, b"new card")
    assert (first.read_bytes(), second.read_bytes()) == (b"old weights", b"old card")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]  # no temp files left
    monkeypatch.setattr(fileio.os, "fsync", real_fsync)
    fileio.write_pair_atomic(first, b"new weights", second, b"new card")
    assert (first.read_bytes(), second.read_bytes()) == (b"new weights", b"new card")
