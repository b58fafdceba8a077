"""How well `scan` finds known anomalies among real held-out items, and how long it takes over 1,000 files.

    .venv/bin/python bench/bench_scan.py --music-data /tmp/music-data/music21-cache.npz
    .venv/bin/python bench/bench_scan.py --domains levels --planted 20 --files 200   # a quick run

(a) Detection: for each domain, the shipped model's held-out items as `scan` would read them
(`Domain.detection_items`) are the normals; `--planted` anomalies of each kind the domain plants
(`Domain.plant_anomalies`) are made from them, seeded; `scan.detection_report` scores everything as
`scan` scores a file and gives, per kind, ROC AUC, precision at 10 and, where the kind has a place,
the share of planted items whose worst position is inside it (localisation).

(b) Speed: `--files` files written to a temporary folder from the domain's data (training and held-out
items, cycled), then `python main.py scan DOMAIN --in FOLDER` timed as a subprocess (Python and torch
start-up included), without and with `--json` (which also writes an overlay PNG per file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import common

from generators.core.scan import detection_report, foreign_items, reference_scores
from generators.registry import load_generator

TARGET_AUC, TARGET_LOCALISATION, TARGET_SECONDS = 0.90, 0.80, 60.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Anomaly detection and speed of `scan`.")
    parser.add_argument(
        "--levels-data",
        nargs="+",
        type=Path,
        default=[Path("../shared/data/vglc/Super_Mario_Bros"), Path("../shared/data/vglc/Super_Mario_Bros_2_Japan")],
        help="the VGLC folders the shipped levels model was trained on",
    )
    parser.add_argument("--images-data", nargs="+", type=Path, default=[Path("../shared/data/emoji/emoji-cache.npz")])
    parser.add_argument(
        "--music-data",
        nargs="+",
        type=Path,
        help="the music cache (scripts/prep_music.py); music is skipped without it",
    )
    parser.add_argument(
        "--domains",
        nargs="*",
        default=["levels", "images", "music"],
        choices=["levels", "images", "music"],
        help="domains of the detection table (none: only the timing)",
    )
    parser.add_argument(
        "--planted", type=common.positive, default=100, help="anomalies planted of each kind (default 100)"
    )
    parser.add_argument(
        "--foreign-images",
        type=Path,
        metavar="FOLDER",
        help="images of another set (e.g. Kenney's CC0 sprites, see bench/README.md), read as `scan` reads "
        "files: the `other_set` kind of the images table",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--files", type=int, default=1000, help="files in the timed scan (0: no timing)")
    parser.add_argument("--timing-domain", default="levels", choices=["levels", "images", "music"])
    parser.add_argument("--threads", type=common.positive, default=2, help="torch threads (default 2)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    return parser.parse_args(argv)


def data_of(args, name: str) -> list[Path] | None:
    paths = {"levels": args.levels_data, "images": args.images_data, "music": args.music_data}[name]
    if not paths or not all(p.exists() for p in paths):
        print(f"{name}: skipped, data not found ({', '.join(map(str, paths or [])) or 'pass --music-data'})")
        return None
    return paths


def detection(args) -> list[dict]:
    rows = []
    for name in args.domains:
        paths = data_of(args, name)
        if paths is None:
            continue
        generator = load_generator(name)
        corpus = generator.domain.heldout_corpus(paths, generator.card)
        start = time.perf_counter()
        normals, outliers = generator.domain.detection_items(corpus.holdout)
        if name == "images" and args.foreign_images:
            outliers["other_set"] = foreign_items(generator.domain, args.foreign_images)
        baseline = reference_scores(generator).baseline
        report = detection_report(generator, normals, args.seed, args.planted, outliers, baseline=baseline)
        seconds = time.perf_counter() - start
        for kind, row in report.items():
            rows.append({"domain": name, "kind": kind, **row, "seconds": seconds})
    return rows


def print_detection(rows: list[dict], planted: int) -> None:
    print(f"\nDetection (ELBO as `scan` scores a file, lower = more anomalous; {planted} planted per kind)")
    print(f"targets: ROC AUC >= {TARGET_AUC}, localisation >= {TARGET_LOCALISATION:.0%}")
    headers = ["domain", "kind", "normals", "planted", "ROC AUC", "precision@10", "localisation", "meets targets"]
    table = []
    for r in rows:
        place = r.get("localisation")
        meets = r["roc_auc"] >= TARGET_AUC and (place is None or place >= TARGET_LOCALISATION)
        table.append(
            [
                r["domain"],
                r["kind"],
                r["normals"],
                r["planted"],
                f"{r['roc_auc']:.3f}",
                f"{r['precision_at_10']:.2f}",
                "-" if place is None else f"{place:.0%}",
                "yes" if meets else "no",
            ]
        )
    print(common.table(headers, table))


def write_files(name: str, paths: list[Path], count: int, folder: Path) -> str:
    """`count` files of the domain's own format from its data, cycled; returns what they are."""
    generator = load_generator(name)
    corpus = generator.domain.heldout_corpus(paths, generator.card)
    items = generator.domain.detection_items(corpus.train)[0] + generator.domain.detection_items(corpus.holdout)[0]
    ext = generator.domain.read_formats[0]
    for i in range(count):
        generator.domain.write(items[i % len(items)], folder / f"{i:04d}.{ext}")
    return f"{count} .{ext} files cycled from {len(items)} distinct items of the {name} data"


def timed_scan(name: str, folder: Path, threads: int, overlays: bool) -> float:
    command = [sys.executable, "main.py", "scan", name, "--in", str(folder)]
    if overlays:
        command += ["--json", str(folder.parent / "scan.json")]
    return common.timed_command(command, dict(os.environ, OMP_NUM_THREADS=str(threads)), "scan")


def speed(args) -> list[dict]:
    paths = data_of(args, args.timing_domain)
    if paths is None or args.files <= 0:
        return []
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        folder = Path(tmp) / "files"
        folder.mkdir()
        what = write_files(args.timing_domain, paths, args.files, folder)
        print(f"\nSpeed: {what}")
        for overlays in (False, True):
            seconds = timed_scan(args.timing_domain, folder, args.threads, overlays)
            rows.append(
                {
                    "command": f"main.py scan {args.timing_domain} --in FOLDER" + (" --json FILE" if overlays else ""),
                    "files": args.files,
                    "seconds": seconds,
                    "ms_per_file": 1e3 * seconds / args.files,
                }
            )
    return rows


def print_speed(rows: list[dict]) -> None:
    print(f"target: 1,000 files <= {TARGET_SECONDS:.0f} s (start-up included)")
    table = [[r["command"], r["files"], r["seconds"], r["ms_per_file"]] for r in rows]
    print(common.table(["command", "files", "seconds", "ms/file"], table))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results, _ = common.start(args)
    results["detection"] = detection(args)
    if results["detection"]:
        print_detection(results["detection"], args.planted)
    results["speed"] = speed(args)
    if results["speed"]:
        print_speed(results["speed"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
