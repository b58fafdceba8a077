"""The bad-input corpus: hundreds of inputs a user (or a damaged disk) can hand us, built in code.

Each `Case` writes its inputs under a scratch folder and returns the command line that reads them.
`tests/core/test_bad_input_corpus.py` runs every case through `generators.cli.main` in one
process and holds each to the same rule: exit 2, exactly one line on stderr, no traceback, nothing
on stdout, no file left in the output folder, and no code of the input's run (hostile names must
not reach a shell). The settings and favourites cases start the app instead: it must start, and
say what it repaired.

Categories: flags, levels, images, music, checkpoints, training (data and outputs), eval and scan,
settings. The field-by-field checkpoint card cases (a legend shorter than the vocabulary, a NaN
prior, ...) live in `tests/core/test_bad_checkpoints.py`; the checkpoint cases here damage the
files themselves.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "checkpoints"
MARKER = "code-was-run"  # a hostile input tries to create this file; it must never exist

# A sound 14 x 32 Mario level in the shipped model's tiles: ground, a pipe, a ? block, an enemy.
GOOD_LEVEL_ROWS = (
    ["-" * 32] * 7
    + ["-" * 10 + "?" + "-" * 21]
    + ["-" * 32] * 2
    + ["-" * 20 + "<>" + "-" * 10]
    + ["-" * 6 + "E" + "-" * 13 + "[]" + "-" * 10]
    + ["X" * 32] * 2
)


@dataclass(frozen=True)
class Case:
    """One bad input. `build(folder)` writes what it needs under `folder` (outputs go to
    `folder / "out"`) and returns the argv. `expect` is a fragment of the one error line."""

    category: str
    name: str
    build: Callable[[Path], list[str]] = field(repr=False)
    expect: str = ""

    @property
    def id(self) -> str:
        return f"{self.category}: {self.name}"


CASES: list[Case] = []


def add(category: str, name: str, build: Callable[[Path], list], expect: str = "") -> None:
    CASES.append(Case(category, name, lambda folder: [str(a) for a in build(folder)], expect))


# --- files -------------------------------------------------------------------------------------


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def level_text(rows) -> str:
    return "\n".join(rows) + "\n"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, body: bytes = b"") -> bytes:
    """A PNG header that claims width x height (8-bit RGBA), with `body` as its only IDAT."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b"")


def big_zero_png(side: int) -> bytes:
    """A real, valid PNG of side x side 1-bit pixels: tiny on disk, huge once decoded."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    data = zlib.compress(row * side, 9)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")


def good_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (200, 40, 40, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def var_len(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def midi_file(events: bytes, tracks: int = 1, division: int = 480, fmt: int = 0) -> bytes:
    """A standard MIDI file with `tracks` copies of one track of raw `events` (end of track added)."""
    track = events + b"\x00\xff\x2f\x00"
    body = (b"MTrk" + struct.pack(">I", len(track)) + track) * tracks
    return b"MThd" + struct.pack(">IHHH", 6, fmt, tracks, division) + body


def note(pitch: int, delay: int, length: int) -> bytes:
    return var_len(delay) + bytes([0x90, pitch, 96]) + var_len(length) + bytes([0x80, pitch, 0])


def good_midi_events(notes: int = 32) -> bytes:
    return b"".join(note(60 + (i % 12), 0, 240) for i in range(notes))


def sparse(folder: Path, name: str, size: int) -> Path:
    """A file of `size` bytes that takes no disk (all zeros)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def fifo(folder: Path, name: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def link(folder: Path, name: str, target: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    return path


def folder_named(folder: Path, name: str) -> Path:
    path = folder / name
    path.mkdir(parents=True)
    return path


# Bad files of each kind: name -> builder(folder) -> path. One table per kind serves every
# command that reads that kind.
def special_files(ext: str) -> dict[str, Callable[[Path], Path]]:
    return {
        "missing": lambda f: f / f"missing.{ext}",
        "a folder": lambda f: folder_named(f, f"folder.{ext}"),
        "a named pipe": lambda f: fifo(f, f"pipe.{ext}"),
        "a link to /dev/zero": lambda f: link(f, f"zero.{ext}", "/dev/zero"),
        "a dangling link": lambda f: link(f, f"dangling.{ext}", str(f / "nowhere")),
        "empty": lambda f: write(f, f"empty.{ext}", b""),
        "random bytes": lambda f: write(f, f"random.{ext}", np.random.default_rng(0).bytes(4096)),
        "70 MB of zeros": lambda f: sparse(f, f"huge.{ext}", 70 << 20),
    }


BAD_LEVELS: dict[str, Callable[[Path], Path]] = special_files("txt") | {
    "only newlines": lambda f: write(f, "newlines.txt", "\n" * 20),
    "NUL bytes": lambda f: write(f, "nul.txt", b"\x00" * 14 * 33),
    "not UTF-8": lambda f: write(f, "latin.txt", level_text(GOOD_LEVEL_ROWS).replace("-", "\xe9").encode("latin-1")),
    "UTF-16": lambda f: write(f, "utf16.txt", level_text(GOOD_LEVEL_ROWS).encode("utf-16")),
    "ragged rows": lambda f: write(f, "ragged.txt", level_text(GOOD_LEVEL_ROWS[:-1] + ["X" * 20])),
    "an unknown tile": lambda f: write(f, "unknown.txt", level_text(GOOD_LEVEL_ROWS[:-1] + ["X" * 31 + "%"])),
    "an emoji tile": lambda f: write(f, "emoji.txt", level_text(GOOD_LEVEL_ROWS[:-1] + ["X" * 31 + "\U0001f600"])),
    "5 columns": lambda f: write(f, "narrow.txt", level_text(row[:5] for row in GOOD_LEVEL_ROWS)),
    "2 MB of one row": lambda f: write(f, "row.txt", "-" * (2 << 20)),
    "a PNG named .txt": lambda f: write(f, "image.txt", good_png()),
    "a shell command as text": lambda f: write(f, "shell.txt", f"$(touch {MARKER})\n`touch {MARKER}`\n"),
}

BAD_IMAGES: dict[str, Callable[[Path], Path]] = special_files("png") | {
    "text named .png": lambda f: write(f, "text.png", "not an image\n"),
    "the PNG signature alone": lambda f: write(f, "sig.png", b"\x89PNG\r\n\x1a\n"),
    "a truncated PNG": lambda f: write(f, "cut.png", good_png()[:100]),
    "a header claiming 100,000 x 100,000": lambda f: write(f, "claim.png", png_claiming(100_000, 100_000)),
    "a header claiming 0 x 0": lambda f: write(f, "zero.png", png_claiming(0, 0)),
    "a 30,000 x 30,000 bomb": lambda f: write(f, "bomb.png", big_zero_png(30_000)),
    "a GIF header only": lambda f: write(f, "cut.gif", b"GIF89a\x10\x00\x10\x00"),
    "a JPEG header only": lambda f: write(f, "cut.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
    "a WebP header only": lambda f: write(f, "cut.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 "),
    "a level named .png": lambda f: write(f, "level.png", level_text(GOOD_LEVEL_ROWS)),
}


def midi_with(events: bytes, **kwargs) -> Callable[[Path], Path]:
    return lambda f: write(f, "clip.mid", midi_file(events, **kwargs))


BAD_MIDI: dict[str, Callable[[Path], Path]] = special_files("mid") | {
    "text named .mid": lambda f: write(f, "text.mid", "MThd is not here\n"),
    "a header alone": lambda f: write(f, "header.mid", b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)),
    "a truncated track": lambda f: write(f, "cut.mid", midi_file(good_midi_events())[:40]),
    "a track length past the end": lambda f: write(
        f, "long.mid", b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", 2**31) + b"\x00"
    ),
    "no notes": midi_with(b"\x00\xff\x51\x03\x07\xa1\x20"),
    "one note at tick 10^8": midi_with(note(60, 10**8, 240)),
    "one note 10^8 ticks long": midi_with(note(60, 0, 10**8)),
    "division 0": midi_with(good_midi_events(), division=0),
    "SMPTE division": midi_with(good_midi_events(), division=0xE728),
    "a tempo of 0": midi_with(b"\x00\xff\x51\x03\x00\x00\x00" + good_midi_events()),
    "a WAV named .mid": lambda f: write(f, "sound.mid", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 24),
    "an unknown extension": lambda f: write(f, "clip.mp3", midi_file(good_midi_events())),
}


def bad_cache(arrays: dict | None = None, raw: bytes | None = None) -> Callable[[Path], Path]:
    """A music cache (.npz) with the given arrays, or raw bytes."""

    def build(folder: Path) -> Path:
        path = folder / "cache.npz"
        folder.mkdir(parents=True, exist_ok=True)
        if raw is not None:
            path.write_bytes(raw)
        else:
            np.savez(path, **arrays)
        return path

    return build


def cache_arrays(**changes) -> dict:
    """The arrays of a small, sound music cache (as `music.data.save_cache` writes it: notes are
    (N, 3) pitch, start step, end step; `offsets` cut them into pieces), with `changes` applied."""
    pieces, per_piece = 6, 64
    steps = np.arange(per_piece) * 4
    one = np.stack([60 + (np.arange(per_piece) % 7), steps, steps + 4], axis=1)
    arrays = {
        "notes": np.concatenate([one] * pieces).astype(np.int32),
        "offsets": np.arange(pieces + 1, dtype=np.int64) * per_piece,
        "names": np.array([f"piece-{i}" for i in range(pieces)]),
        "styles": np.array(["chorale"] * pieces),
        "metres": np.array(["4/4"] * pieces),
        "meta": np.array(json.dumps({"source": "corpus"})),
    }
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


def notes(rows) -> np.ndarray:
    """(384, 3) notes, the 6 x 64 of `cache_arrays`, repeating `rows`."""
    return np.array(rows * 384, dtype=np.int64)[:384]


BAD_CACHES: dict[str, Callable[[Path], Path]] = {
    "not a zip": bad_cache(raw=b"PK not really"),
    "random bytes": bad_cache(raw=np.random.default_rng(1).bytes(2048)),
    "a pickled object array": bad_cache({"notes": np.array([{"a": 1}], dtype=object)}),
    "no arrays": bad_cache({}),
    "no offsets": bad_cache(cache_arrays(offsets=None)),
    "1-D notes": bad_cache(cache_arrays(notes=np.arange(12, dtype=np.int32))),
    "notes of 5 columns": bad_cache(cache_arrays(notes=np.zeros((384, 5), np.int32))),
    "a pitch of 1000": bad_cache(cache_arrays(notes=notes([[1000, 0, 4]]))),
    "a negative pitch": bad_cache(cache_arrays(notes=notes([[-5, 0, 4]]))),
    "an end step of 2^40": bad_cache(cache_arrays(notes=notes([[60, 0, 2**40]]))),
    "a negative start": bad_cache(cache_arrays(notes=notes([[60, -8, 4]]))),
    "an end before its start": bad_cache(cache_arrays(notes=notes([[60, 8, 4]]))),
    "float notes with NaN": bad_cache(cache_arrays(notes=np.full((384, 3), np.nan))),
    "offsets past the notes": bad_cache(cache_arrays(offsets=np.array([0, 10, 10**9, 11, 12, 13, 384]))),
    "offsets going back": bad_cache(cache_arrays(offsets=np.array([0, 200, 100, 250, 300, 350, 384]))),
    "more names than offsets": bad_cache(cache_arrays(names=np.array([f"p{i}" for i in range(50)]))),
    "text notes": bad_cache(cache_arrays(notes=np.array([["a", "b", "c"]]))),
    "meta not JSON": bad_cache(cache_arrays(meta=np.array("{{{"))),
    "an unknown metre": bad_cache(cache_arrays(metres=np.array(["7/8"] * 6))),
}


def claiming_unpacked(size: int) -> Callable[[Path], Path]:
    """A sound music cache whose zip directory claims that its first array unpacks to `size` bytes."""

    def build(folder: Path) -> Path:
        path = bad_cache(cache_arrays())(folder)
        data = bytearray(path.read_bytes())
        entry = data.index(b"PK\x01\x02")  # the first central-directory entry
        data[entry + 24 : entry + 28] = struct.pack("<I", size)
        path.write_bytes(bytes(data))
        return path

    return build


BAD_CACHES["a zip claiming 4 GB unpacked"] = claiming_unpacked(0xFFFFFFF0)


def game_with_legend(legend: str | bytes | None, kind: str = "file") -> Callable[[Path], Path]:
    """A game folder of sound levels whose one legend .json is `legend` (or a pipe / a link)."""

    def build(folder: Path) -> Path:
        from conftest import write_game

        game = write_game(folder / "game")
        (game / "tiny.json").unlink()
        if kind == "pipe":
            os.mkfifo(game / "tiny.json")
        elif kind == "zero":
            os.symlink("/dev/zero", game / "tiny.json")
        else:
            write(game, "tiny.json", legend)
        return game

    return build


BAD_LEGENDS: dict[str, Callable[[Path], Path]] = {
    "not JSON": game_with_legend("{tiles"),
    "nested 100,000 deep": game_with_legend('{"tiles": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    "tiles a list": game_with_legend('{"tiles": ["X", "-"]}'),
    "no tiles": game_with_legend('{"colours": {}}'),
    "tiles of two characters": game_with_legend('{"tiles": {"XY": ["solid"], "-": ["empty"]}}'),
    "300 tiles": game_with_legend(json.dumps({"tiles": {chr(0x4E00 + i): ["solid"] for i in range(300)}})),
    "2 MB": game_with_legend('{"tiles": {"X": ["' + "s" * (2 << 20) + '"]}}'),
    "a named pipe": game_with_legend(None, "pipe"),
    "a link to /dev/zero": game_with_legend(None, "zero"),
    "not UTF-8": game_with_legend(b'{"tiles": {"\xff": ["solid"]}}'),
}


def jsb_json(text: str) -> Callable[[Path], Path]:
    return lambda f: write(f, "jsb.json", text)


def jsb_splits(train) -> str:
    good = [[[60, 64, 67, 72]] * 16]
    return json.dumps({"train": train, "valid": good, "test": good})


BAD_JSB: dict[str, Callable[[Path], Path]] = {
    "not JSON": jsb_json("{{{"),
    "nested 100,000 deep": jsb_json('{"train": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    "no test split": jsb_json(json.dumps({"train": [], "valid": []})),
    "a split that is a number": jsb_json(jsb_splits(7)),
    "a pitch of 500": jsb_json(jsb_splits([[[500]]])),
    "a pitch of 60.5": jsb_json(jsb_splits([[[60.5]]])),
    "a frame that is text": jsb_json(jsb_splits([["C major"]])),
    "a chorale of 100,000 frames": jsb_json(jsb_splits([[[]] * 100_000])),
    "a link to /dev/zero": lambda f: link(f, "jsb.json", "/dev/zero"),
}


def image_cache(change: Callable[[dict], None]) -> Callable[[Path], Path]:
    """A small image cache as `images.data.save_cache` writes it, with `change` applied to its arrays."""

    def build(folder: Path) -> Path:
        groups = [{"name": "category", "labels": ["smileys", "animals"]}]
        arrays = {
            "pixels": np.zeros((4, 64, 64, 4), np.uint8),
            "labels": np.zeros((4, 1), np.int16),
            "names": np.array([f"i{i}" for i in range(4)]),
            "keys": np.array([f"k{i}" for i in range(4)]),
            "meta": np.array(json.dumps({"groups": groups})),
        }
        change(arrays)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "images.npz", **{k: v for k, v in arrays.items() if v is not None})
        return folder / "images.npz"

    return build


BAD_IMAGE_CACHES: dict[str, Callable[[Path], Path]] = {
    "pixels of the wrong size": image_cache(lambda a: a.update(pixels=np.zeros((4, 32, 32, 4), np.uint8))),
    "float pixels": image_cache(lambda a: a.update(pixels=np.zeros((4, 64, 64, 4), np.float32))),
    "a label past its group": image_cache(lambda a: a.update(labels=np.full((4, 1), 9, np.int16))),
    "a negative label": image_cache(lambda a: a.update(labels=np.full((4, 1), -1, np.int16))),
    "no meta": image_cache(lambda a: a.update(meta=None)),
    "meta without groups": image_cache(lambda a: a.update(meta=np.array("{}"))),
    "meta nested deep": image_cache(lambda a: a.update(meta=np.array("[" * 100_000 + "]" * 100_000))),
    "a pickled object array": image_cache(lambda a: a.update(names=np.array([{"x": 1}] * 4, dtype=object))),
}


# --- flags -------------------------------------------------------------------------------------

BAD_WHOLE = ["0", "-1", "abc", "1.5", "1e3", str(10**12)]
BAD_SEED = ["-1", str(2**63), "abc", "1.5", str(2**70)]
BAD_REAL = ["nan", "inf", "-inf", "abc", "-1"]


def sample(domain: str, *extra) -> Callable[[Path], list]:
    def build(folder: Path) -> list:
        fmt = {"levels": "txt", "images": "png", "music": "mid"}[domain]
        return ["sample", domain, "-n", "1", "--format", fmt, *extra, "--out", folder / "out"]

    return build


def flag_cases() -> None:
    for value in BAD_WHOLE:
        add("flags", f"sample -n {value}", lambda f, v=value: ["sample", "levels", "-n", v, "--out", f / "out"])
    for value in BAD_SEED:
        for command in ("sample", "train", "eval"):
            add("flags", f"{command} --seed {value}", lambda f, v=value, c=command: seed_argv(f, c, v))
    for value in BAD_REAL + ["1e9"]:
        add("flags", f"sample --temperature {value}", sample("levels", "--temperature", value))
    for value in ["0", "-5", "abc", str(10**7)]:
        add("flags", f"sample --length {value}", sample("levels", "--length", value))
    for value in ["-1", "abc", str(10**9)]:
        add("flags", f"sample --repair-budget {value}", sample("levels", "--length", "64", "--repair-budget", value))
    for value in ["0", "-1", "abc", str(10**6)]:
        add("flags", f"--threads {value}", sample("levels", "--threads", value))
    for value in ["exe", "png.", "TXT.bak"]:
        add("flags", f"sample --format {value!r}", lambda f, v=value: ["sample", "levels", "--format", v, "--out", f])
    add(
        "flags", "an output name of 300 characters", lambda f: ["sample", "levels", "-n", "1", "--out", f / ("x" * 300)]
    )
    add("flags", "an output folder under a file", lambda f: ["sample", "levels", "--out", write(f, "file", "") / "out"])
    add("flags", "an output folder that is a file", lambda f: ["sample", "levels", "--out", write(f, "file", "")])
    for label in ["unicorn", "", "`touch code-was-run`", "$(touch code-was-run)", "pipe;touch code-was-run"]:
        add("flags", f"--condition {label!r}", sample("levels", "--condition", label))
        add("flags", f"--without {label!r}", sample("levels", "--without", label))
    add("flags", "a label required and excluded", sample("levels", "--condition", "pipe", "--without", "pipe"))
    add("flags", "two games required", sample("levels", "--condition", "super mario bros", "super mario bros 2 japan"))
    for value in BAD_WHOLE[:4] + [str(10**7)]:
        add(
            "flags",
            f"interpolate --steps {value}",
            lambda f, v=value: ["interpolate", "levels", "--steps", v, "--out", f],
        )
    for flag in ("--seed-a", "--seed-b"):
        for value in BAD_SEED[:3]:
            add("flags", f"interpolate {flag} {value}", lambda f, a=flag, v=value: ["interpolate", "levels", a, v])
    add("flags", "interpolate --mode sideways", lambda f: ["interpolate", "levels", "--mode", "sideways"])
    for value in ["0", "-1", "abc", str(10**9)]:
        add("flags", f"eval --samples {value}", lambda f, v=value: ["eval", "levels", "--samples", v])
        add("flags", f"eval --iwae-k {value}", lambda f, v=value: ["eval", "levels", "--iwae-k", v])
        add("flags", f"train --eval-samples {value}", lambda f, v=value: train_argv(f, "--eval-samples", v))
        add("flags", f"train --iwae-k {value}", lambda f, v=value: train_argv(f, "--iwae-k", v))
    for flag, values in {
        "--epochs": ["0", "-1", "abc", str(10**9)],
        "--batch-size": ["0", "-1", str(10**9)],
        "--lr": ["0", "-1", "nan", "inf"],
        "--beta": ["-1", "nan", "inf"],
        "--free-bits": ["nan", "-1"],
        "--latent": ["0", str(10**6)],
        "--prior-components": ["-1", str(10**6)],
        "--warmup": ["-1", "abc"],
        "--patience": ["-1", "abc"],
        "--holdout": ["bogus"],
        "--lr-schedule": ["zigzag"],
    }.items():
        for value in values:
            add("flags", f"train {flag} {value}", lambda f, a=flag, v=value: train_argv(f, a, v))
    for value in ["0", "3", "65", "abc"]:
        add("flags", f"sample music --bars {value}", sample("music", "--bars", value))
    for value in BAD_REAL:
        add("flags", f"sample music --note-temperature {value}", sample("music", "--note-temperature", value))
    add("flags", "sample music --sampling bogus", sample("music", "--sampling", "bogus"))
    add("flags", "sample images -n 10^9", lambda f: ["sample", "images", "-n", str(10**9), "--out", f / "out"])
    add("flags", "sample images --playable", sample("images", "--playable"))
    add("flags", "sample music --length 64", sample("music", "--length", "64"))
    add("flags", "sample levels --bars 8", sample("levels", "--bars", "8"))
    for argv in (
        ["sample", "levels", "--out", ""],
        ["scan", "levels", "--in", ""],
        ["eval", "levels", "--data", ""],
        ["eval", "levels", "--json", ""],
        ["sample", "levels", "--checkpoint", "", "--out", "OUT"],
        ["denoise", "levels", "--in", "", "--out", "OUT"],
        ["train", "levels", "--data", "", "--out", "OUT"],
    ):
        add(
            "flags",
            f"an empty path: {' '.join(argv[:3])}",
            lambda f, a=argv: [str(f / "out") if x == "OUT" else x for x in a],
        )
    add("flags", "an unknown domain", lambda f: ["sample", "sprites"])
    add("flags", "an unknown command", lambda f: ["paint", "levels"])
    add("flags", "an unknown flag", lambda f: ["sample", "levels", "--colour", "red"])
    for value in ["-1", "abc"]:
        add("flags", f"eval --long-levels {value}", lambda f, v=value: ["eval", "levels", "--long-levels", v])
        add("flags", f"eval --scan-anomalies {value}", lambda f, v=value: ["eval", "levels", "--scan-anomalies", v])
    add("flags", "eval --long-length 0", lambda f: ["eval", "levels", "--long-length", "0"])


def seed_argv(folder: Path, command: str, seed: str) -> list:
    if command == "sample":
        return ["sample", "levels", "--seed", seed, "--out", folder / "out"]
    if command == "train":
        return train_argv(folder, "--seed", seed)
    return ["eval", "levels", "--seed", seed, "--json", folder / "out" / "m.json"]


def level_folder(folder: Path) -> Path:
    """A small, sound game folder (a legend and four levels): the flag under test is what fails."""
    from conftest import write_game

    return write_game(folder / "levels")


def train_argv(folder: Path, *extra) -> list:
    return ["train", "levels", "--data", level_folder(folder), "--out", folder / "out" / "model", *extra]


# --- files through the commands that read them ----------------------------------------------


def reading(domain: str, how: str, make: Callable[[Path], Path]) -> Callable[[Path], list]:
    """The command line that reads the bad file `make` builds: as interpolation's first end
    (`from`) or last end (`to`), or as the input of `denoise`."""

    def build(folder: Path) -> list:
        bad = make(folder / "in")
        out = ["--out", folder / "out"]
        if how == "from":
            return ["interpolate", domain, "--from", bad, "--seed-b", "1", "--steps", "2", *out]
        if how == "to":
            return ["interpolate", domain, "--seed-a", "1", "--to", bad, "--steps", "2", *out]
        fmt = {"levels": "txt", "images": "png", "music": "mid"}[domain]
        return ["denoise", domain, "--in", bad, "--out", folder / "out", "--format", fmt]

    return build


def file_cases() -> None:
    for domain, table, hows in (
        ("levels", BAD_LEVELS, ("from", "to", "denoise")),
        ("images", BAD_IMAGES, ("from", "denoise")),
        ("music", BAD_MIDI, ("from", "to")),
    ):
        for name, make in table.items():
            for how in hows:
                command = f"denoise --in {name}" if how == "denoise" else f"interpolate --{how} {name}"
                add(domain, command, reading(domain, how, make))
    for name, make in BAD_CACHES.items():
        add("music", f"eval --data cache {name}", lambda f, m=make: ["eval", "music", "--data", m(f / "in")])
        add("training", f"train music --data cache {name}", lambda f, m=make: train_music(f, m(f / "in")))


def train_music(folder: Path, data: Path) -> list:
    return ["train", "music", "--data", data, "--out", folder / "out" / "model", "--epochs", "1"]


# --- training data, eval data and scan folders -----------------------------------------------


def in_folder(table: dict, names: list[str], sub: str) -> Callable[[Path], Path]:
    """A data folder holding only the named bad files of `table`."""

    def build(folder: Path) -> Path:
        data = folder / sub
        data.mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(names):
            made = table[name](data / f"f{i}")
            if made.parent != data and made.exists() or made.is_symlink():
                made.rename(data / f"{i}-{made.name}")
        return data

    return build


def data_cases() -> None:
    unreadable_levels = ["empty", "random bytes", "ragged rows", "NUL bytes", "5 columns"]
    unreadable_images = ["empty", "text named .png", "a truncated PNG", "a 30,000 x 30,000 bomb"]
    unreadable_midi = ["empty", "text named .mid", "a truncated track", "no notes"]
    datasets = {
        "levels": {
            "an empty folder": lambda f: folder_named(f, "empty"),
            "a missing folder": lambda f: f / "missing",
            "only unreadable levels": in_folder(BAD_LEVELS, unreadable_levels, "bad"),
            "only a named pipe": in_folder(BAD_LEVELS, ["a named pipe"], "pipe"),
            "one level too narrow to cut": in_folder(BAD_LEVELS, ["5 columns"], "narrow"),
        },
        "images": {
            "an empty folder": lambda f: folder_named(f, "empty"),
            "only unreadable images": in_folder(BAD_IMAGES, unreadable_images, "bad"),
            "only invisible images": lambda f: invisible_images(f),
            "an npz of random bytes": lambda f: write(f, "images.npz", np.random.default_rng(2).bytes(999)),
        },
        "music": {
            "an empty folder": lambda f: folder_named(f, "empty"),
            "only unreadable MIDI": in_folder(BAD_MIDI, unreadable_midi, "bad"),
        },
    }
    for domain, table in datasets.items():
        for name, make in table.items():
            add("training", f"train {domain} --data {name}", lambda f, d=domain, m=make: train_on(f, d, m(f / "in")))
            add("eval", f"eval {domain} --data {name}", lambda f, d=domain, m=make: ["eval", d, "--data", m(f / "in")])
    add("training", "train --out under a file", lambda f: train_argv(f)[:4] + ["--out", write(f, "file", "") / "m"])
    add("training", "train --out named 300 characters", lambda f: train_argv(f)[:4] + ["--out", f / ("m" * 300)])
    add("training", "train --out locked by a live run", lambda f: locked_out(f))
    add("training", "train --resume with no state", lambda f: train_argv(f, "--resume"))
    add("training", "train --init of another domain", lambda f: train_argv(f, "--init", SHIPPED / "music.safetensors"))
    add("training", "train --init missing", lambda f: train_argv(f, "--init", f / "nothing.safetensors"))
    add("training", "train --data a level file", lambda f: ["train", "levels", "--data", BAD_LEVELS["empty"](f)])
    for name, make in {
        "a missing folder": lambda f: f / "missing",
        "a file": lambda f: write(f, "level.txt", level_text(GOOD_LEVEL_ROWS)),
        "an empty folder": lambda f: folder_named(f, "empty"),
        "a named pipe": lambda f: fifo(f, "pipe"),
    }.items():
        add("eval", f"scan levels --in {name}", lambda f, m=make: ["scan", "levels", "--in", m(f / "in")])
    add("eval", "scan --json under a file", lambda f: scan_json(f, write(f, "file", "") / "scan.json"))
    add("eval", "scan --json a folder", lambda f: scan_json(f, folder_named(f, "scan.json")))
    add("eval", "eval --json under a file", lambda f: ["eval", "levels", "--json", write(f, "file", "") / "m.json"])
    add("eval", "eval --oracle missing", lambda f: ["eval", "levels", "--oracle", f / "no-simulator"])
    for name, make in BAD_LEGENDS.items():
        add("training", f"train levels, legend {name}", lambda f, m=make: train_on(f, "levels", m(f / "in")))
    for name, make in BAD_JSB.items():
        add("eval", f"eval music --jsb {name}", lambda f, m=make: jsb_argv(f, m(f / "in")))
    for name, make in BAD_IMAGE_CACHES.items():
        add("training", f"train images --data cache {name}", lambda f, m=make: train_on(f, "images", m(f / "in")))
        add("images", f"eval --data cache {name}", lambda f, m=make: ["eval", "images", "--data", m(f / "in")])


def jsb_argv(folder: Path, jsb: Path) -> list:
    """eval music on a small sound cache, with a bad benchmark file."""
    return ["eval", "music", "--data", bad_cache(cache_arrays())(folder / "data"), "--jsb", jsb]


def invisible_images(folder: Path) -> Path:
    from PIL import Image

    data = folder / "clear" / "smileys"
    data.mkdir(parents=True)
    for i in range(4):
        Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(data / f"{i}.png")
    return data.parent


def train_on(folder: Path, domain: str, data: Path) -> list:
    return ["train", domain, "--data", data, "--out", folder / "out" / "model", "--epochs", "1"]


def locked_out(folder: Path) -> list:
    argv = train_argv(folder)
    out = Path(argv[5])
    out.parent.mkdir(parents=True, exist_ok=True)
    # The lock of a run that is alive (this very process), as `train` writes it: "pid start".
    (out.parent / f"{out.name}.lock").write_text(f"{os.getpid()} -\n")
    return argv


def scan_json(folder: Path, json_path: Path) -> list:
    return ["scan", "levels", "--in", level_folder(folder), "--json", json_path]


# --- checkpoint files --------------------------------------------------------------------------


def copy_shipped(folder: Path, name: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    weights, card = folder / "model.safetensors", folder / "model.json"
    shutil.copyfile(SHIPPED / f"{name}.safetensors", weights)
    shutil.copyfile(SHIPPED / f"{name}.json", card)
    return weights, card


def damaged_weights(change: Callable[[bytes], bytes]) -> Callable[[Path, str], Path]:
    def build(folder: Path, name: str) -> Path:
        weights, _ = copy_shipped(folder, name)
        weights.write_bytes(change(weights.read_bytes()))
        return weights

    return build


def damaged_card(change: Callable[[str], str]) -> Callable[[Path, str], Path]:
    def build(folder: Path, name: str) -> Path:
        weights, card = copy_shipped(folder, name)
        card.write_text(change(card.read_text(encoding="utf-8")), encoding="utf-8")
        return weights

    return build


def card_json(change: Callable[[dict], object]) -> Callable[[Path, str], Path]:
    def edit(text: str) -> str:
        card = json.loads(text)
        result = change(card)
        return json.dumps(card if result is None else result)

    return damaged_card(edit)


def header_claiming(length: int) -> Callable[[bytes], bytes]:
    return lambda data: struct.pack("<Q", length) + data[8:]


def other_domains_card(folder: Path, name: str) -> Path:
    weights, card = copy_shipped(folder, name)
    other = "music" if name != "music" else "levels"
    shutil.copyfile(SHIPPED / f"{other}.json", card)
    return weights


def card_as(kind: str) -> Callable[[Path, str], Path]:
    def build(folder: Path, name: str) -> Path:
        weights, card = copy_shipped(folder, name)
        card.unlink()
        if kind == "missing":
            pass
        elif kind == "a folder":
            card.mkdir()
        elif kind == "a named pipe":
            os.mkfifo(card)
        elif kind == "a link to /dev/zero":
            os.symlink("/dev/zero", card)
        elif kind == "100 MB":
            sparse(folder, card.name, 100 << 20)
        return weights

    return build


BAD_CHECKPOINT_FILES: dict[str, Callable[[Path, str], Path]] = {
    "weights a link to /dev/zero": lambda f, n: (lambda w: (w.unlink(), w.symlink_to("/dev/zero"), w)[2])(
        copy_shipped(f, n)[0]
    ),
    "weights a named pipe": lambda f, n: (lambda w: (w.unlink(), os.mkfifo(w), w)[2])(copy_shipped(f, n)[0]),
    "weights missing": lambda f, n: (lambda w: (w.unlink(), w)[1])(copy_shipped(f, n)[0]),
    "weights empty": damaged_weights(lambda d: b""),
    "weights cut in half": damaged_weights(lambda d: d[: len(d) // 2]),
    "weights of 7 bytes": damaged_weights(lambda d: d[:7]),
    "a header length of 2^60": damaged_weights(header_claiming(2**60)),
    "a header length past the file": damaged_weights(lambda d: struct.pack("<Q", len(d)) + d[8:]),
    "a header of random bytes": damaged_weights(lambda d: d[:8] + np.random.default_rng(3).bytes(64) + d[72:]),
    "a flipped byte in the tensors": damaged_weights(lambda d: d[:-100] + bytes([d[-100] ^ 0xFF]) + d[-99:]),
    "a pickle instead of safetensors": damaged_weights(lambda d: b"\x80\x04\x95" + b"cos\nsystem\n" + b"\x00" * 64),
    "a zip instead of safetensors": damaged_weights(lambda d: b"PK\x03\x04" + b"\x00" * 100),
    "card missing": card_as("missing"),
    "card a folder": card_as("a folder"),
    "card a named pipe": card_as("a named pipe"),
    "card a link to /dev/zero": card_as("a link to /dev/zero"),
    "card of 100 MB": card_as("100 MB"),
    "card not JSON": damaged_card(lambda t: t[: len(t) // 2]),
    "card a list": card_json(lambda c: [c]),
    "card nested 100,000 deep": damaged_card(lambda t: "[" * 100_000 + "]" * 100_000),
    "card with another weights hash": card_json(lambda c: c.update(weights_sha256="0" * 64)),
    "card of another domain": other_domains_card,
    "card with NaN in its config": damaged_card(lambda t: t.replace('"latent_size": ', '"latent_size": NaN, "x": ', 1)),
    "card with a future format version": card_json(lambda c: c.update(format_version=99)),
    "card whose scan reference is not numbers": card_json(
        lambda c: c.update(scan_reference={"version": 1, "scores": ["x"]})
    ),
    "card whose scan baseline has no pooled fit": card_json(
        lambda c: c.update(
            scan_reference={"version": 1, "scores": [0.0], "baseline": [{"labels": ["a"], "weights": [], "spread": 1}]}
        )
    ),
    "card with an old reference of text": card_json(
        lambda c: (c.pop("scan_reference", None), c.update(typicality_reference=["x"]))[1]
    ),
}


def checkpoint_cases() -> None:
    for name, make in BAD_CHECKPOINT_FILES.items():
        for model, domain in (("levels", "levels"), ("images", "images"), ("music", "music")):
            add(
                "checkpoints",
                f"{domain}: {name}",
                lambda f, m=make, n=model, d=domain: [
                    "sample",
                    d,
                    "--checkpoint",
                    m(f / "ckpt", n),
                    "--out",
                    f / "out",
                ],
            )
    add("checkpoints", "a .pt file", lambda f: ["sample", "levels", "--checkpoint", write(f, "model.pt", b"\x80\x04")])
    add("checkpoints", "a folder", lambda f: ["sample", "levels", "--checkpoint", folder_named(f, "model")])
    add("checkpoints", "an unknown shipped name", lambda f: ["sample", "levels", "--checkpoint", "mario-9000"])
    add("checkpoints", "levels model for images", lambda f: ["sample", "images", "--checkpoint", "levels"])


# --- settings and favourites (the app must start) -------------------------------------------

SETTINGS_CASES: dict[str, dict[str, str]] = {
    "temperature inf": {"levels/temperature": "inf"},
    "temperature nan": {"levels/temperature": "nan"},
    "temperature -3": {"levels/temperature": "-3"},
    "temperature 1e308": {"levels/temperature": "1e308"},
    "temperature text": {"levels/temperature": "warm"},
    "seed 2^70": {"levels/seed": str(2**70)},
    "seed -1": {"levels/seed": "-1"},
    "seed 1.5": {"levels/seed": "1.5"},
    "rows 0": {"levels/rows": "0"},
    "rows 10^9": {"levels/rows": str(10**9)},
    "cols text": {"levels/cols": "many"},
    "spread nan": {"levels/spread": "nan"},
    "frames -4": {"levels/frames": "-4"},
    "interpolation mode unknown": {"levels/interpolation_mode": "sideways"},
    "export format unknown": {"levels/export_format": "exe"},
    "export folder missing": {"levels/export_folder": "/nowhere/at/all"},
    "window geometry garbage": {"window/geometry": "@ByteArray(garbage)"},
    "window tab unknown": {"window/tab": "sprites"},
    "map folder a file": {"latent_map/x": "/etc/passwd"},
}

FAVOURITES_CASES: dict[str, str] = {
    "half written": '{"version": 1, "favourites": [{"id": "a", "lat',
    "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "a list": "[1, 2, 3]",
    "favourites not a list": '{"favourites": {"id": 1}}',
    "a condition that is a number": json.dumps(
        {"favourites": [{"id": "a", "latent": [0.0], "model": "m", "condition": 7}]}
    ),
    "an id that is a list": json.dumps({"favourites": [{"id": ["a"], "latent": [0.0], "model": "m"}]}),
    "a latent past float": '{"favourites": [{"id": "a", "latent": [1' + "0" * 400 + '], "model": "m"}]}',
    "a NaN latent": '{"favourites": [{"id": "a", "latent": [NaN], "model": "m"}]}',
    "a seed of 2^70": json.dumps({"favourites": [{"id": "a", "latent": [0.0], "model": "m", "seed": 2**70}]}),
    "not UTF-8": "\udcff\udcfe",
    "a million records of junk": json.dumps({"favourites": [0] * 1_000_000}),
}


def build_all() -> list[Case]:
    if not CASES:
        flag_cases()
        file_cases()
        data_cases()
        checkpoint_cases()
    return CASES


def census() -> dict[str, int]:
    """Cases per category, the app-start ones included."""
    counts: dict[str, int] = {}
    for case in build_all():
        counts[case.category] = counts.get(case.category, 0) + 1
    counts["settings"] = len(SETTINGS_CASES) + len(FAVOURITES_CASES)
    return counts
