"""The bytes the shipped models write for fixed seeds, through the CLI, so a refactor that
changes any output (a file, a shared tileset, a printed line) is caught.

Run as a script to print the table of SHA-256 digests as JSON:
    python tests/core/golden_outputs.py > tests/core/golden_outputs.json
`test_golden_outputs.py` runs the same cases and compares. Every case runs in one process
with one torch thread (`--threads 1`), so float reductions happen in the same order on every machine,
and with oneDNN's, MKL's and torch's own kernels held to AVX2 (`ONEDNN_MAX_CPU_ISA`,
`MKL_ENABLE_INSTRUCTIONS`, `ATEN_CPU_CAPABILITY`): AVX-512 kernels round differently, which changed
the denoised icons' bytes on an AVX-512 machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

# (case name, argv after `main.py`); OUT is replaced by a fresh folder, PREV by the previous
# case's folder, so a file one case writes can be the input of the next.
CASES = [
    *[
        (f"sample-levels-{fmt}", ["sample", "levels", "-n", "2", "--seed", "7", "--format", fmt, "--out", "OUT"])
        for fmt in ("txt", "png", "tmj", "tmx")
    ],
    (
        "interpolate-levels-seeds",
        ["interpolate", "levels", "--seed-a", "3", "--seed-b", "11", "--steps", "3", "--out", "OUT"],
    ),
    (
        "sample-levels-seed-file",
        ["sample", "levels", "-n", "2", "--seed", "21", "--condition", "pipe", "enemy", "--out", "OUT"],
    ),
    (
        "interpolate-levels-files",
        [
            "interpolate",
            "levels",
            "--from",
            "PREV/levels-seed21.txt",
            "--to",
            "PREV/levels-seed22.txt",
            "--steps",
            "3",
            "--mode",
            "lerp",
            "--out",
            "OUT",
        ],
    ),
    ("sample-levels-long", ["sample", "levels", "-n", "1", "--seed", "5", "--length", "80", "--out", "OUT"]),
    (
        "sample-levels-playable",
        ["sample", "levels", "-n", "1", "--seed", "9", "--length", "100", "--playable", "--out", "OUT"],
    ),
    (
        "interpolate-levels-long",
        ["interpolate", "levels", "--seed-a", "1", "--seed-b", "2", "--length", "80", "--out", "OUT"],
    ),
    *[
        (
            f"sample-lode-runner-{fmt}",
            [
                "sample",
                "levels",
                "--checkpoint",
                "lode-runner",
                "-n",
                "2",
                "--seed",
                "4",
                "--format",
                fmt,
                "--out",
                "OUT",
            ],
        )
        for fmt in ("txt", "png", "tmx")
    ],
    (
        "interpolate-lode-runner",
        [
            "interpolate",
            "levels",
            "--checkpoint",
            "lode-runner",
            "--seed-a",
            "1",
            "--seed-b",
            "2",
            "--steps",
            "3",
            "--out",
            "OUT",
        ],
    ),
    *[
        (f"sample-images-{fmt}", ["sample", "images", "-n", "2", "--seed", "3", "--format", fmt, "--out", "OUT"])
        for fmt in ("png", "sheet", "gif", "apng")
    ],
    (
        "sample-images-condition",
        [
            "sample",
            "images",
            "-n",
            "2",
            "--seed",
            "8",
            "--temperature",
            "0.5",
            "--condition",
            "animals-nature",
            "--out",
            "OUT",
        ],
    ),
    ("interpolate-images", ["interpolate", "images", "--seed-a", "1", "--seed-b", "2", "--steps", "3", "--out", "OUT"]),
    ("denoise-images", ["denoise", "images", "--in", "PREV/images-interp01.png", "--out", "OUT"]),
    *[
        (f"sample-music-{fmt}", ["sample", "music", "-n", "2", "--seed", "6", "--format", fmt, "--out", "OUT"])
        for fmt in ("mid", "wav", "png")
    ],
    (
        "sample-music-draw",
        [
            "sample",
            "music",
            "-n",
            "2",
            "--seed",
            "6",
            "--sampling",
            "draw",
            "--note-temperature",
            "0.8",
            "--four-tracks",
            "--out",
            "OUT",
        ],
    ),
    ("interpolate-music", ["interpolate", "music", "--seed-a", "1", "--seed-b", "2", "--steps", "3", "--out", "OUT"]),
    (
        "sample-music-piece",
        ["sample", "music", "-n", "1", "--seed", "4", "--bars", "10", "--condition", "fiddle", "6/8", "--out", "OUT"],
    ),
    (
        "morph-music-piece",
        ["interpolate", "music", "--seed-a", "1", "--seed-b", "2", "--bars", "8", "--format", "mid", "--out", "OUT"],
    ),
]


def digest_folder(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def run_cases() -> dict[str, dict]:
    import torch

    from generators.cli import main

    torch.set_num_threads(1)
    results, previous = {}, None
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, argv) in enumerate(CASES):
            out = Path(tmp) / f"case{index:02d}"
            args = [a.replace("OUT", str(out)).replace("PREV", str(previous)) for a in argv]
            args[2:2] = ["--threads", "1"]  # main() sizes torch's pool: one thread, the same reductions everywhere
            stdout = io.StringIO()
            with contextlib.redirect_stdout(stdout):
                code = main(args)
            lines = stdout.getvalue().replace(str(out), "OUT").replace(str(previous), "PREV")
            results[name] = {"exit": code, "stdout": lines, "files": digest_folder(out)}
            previous = out
    return results


if __name__ == "__main__":
    # Before torch is imported (run_cases imports it): oneDNN reads it once, at its first kernel,
    # and MKL (torch's matrix products) at its first call. MKL's AVX-512 kernels round differently
    # from its AVX2 ones too: they changed the denoised icons' bytes (measured on 2026-12-04).
    os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")
    os.environ.setdefault("MKL_ENABLE_INSTRUCTIONS", "AVX2")
    os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")  # torch's own vector kernels, likewise
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    print(json.dumps(run_cases(), indent=1, sort_keys=True))
