"""The data report the training wizard shows before training: items per label, the held-out
items, and every file that was skipped with its reason. Qt-free; it runs in a worker because
reading a folder of levels or MIDI files can take seconds.

Also what the report's typicality check needs: which model judges the folder (`judge_for`: the
model being fine-tuned, else the shipped model of the domain), a bounded, evenly spread sample of
its files (`scan_sample`), and, for files the user leaves out, the copy of the folder without them
that training then reads (`kept_copy`; the domains read folders, so leaving files out is a folder
without them) and the held-out names that remain (`holdout_without`)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generators.core.errors import UserError
from generators.registry import DOMAIN_NAMES, domain_class, load_generator, resolve_checkpoint

MAX_SCANNED = 500  # files the data report scores at most (evenly spread over the folder beyond that)
LEFT_OUT_NOTE = "LEFT-OUT.json"  # beside a kept copy: what it leaves out, and that the app made it


@dataclass
class DataReport:
    domain: str
    folder: Path
    label_counts: list[tuple[str, int]]  # (label, training items showing it), in label order
    train_items: int
    holdout_items: int
    holdout: tuple[str, ...]  # the names to pass to TrainingRequest.holdout
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    parent_name: str | None = None  # the model to fine-tune, when there is one
    parent_latent: int | None = None
    sources: tuple[str, ...] = ()  # the training items' source names (file stems or paths), in order
    auto_holdout: bool = False  # whether `holdout` was chosen here (the last source) rather than by the data


def available_domains() -> list[str]:
    """The domains this version can train (those whose Domain class imports)."""
    found = []
    for name in DOMAIN_NAMES:
        try:
            domain_class(name)
        except UserError:
            continue
        found.append(name)
    return found


def skipped_files(description: dict) -> list[tuple[str, str]]:
    """(file, reason) for every file a corpus left out; every domain lists them under
    `description["skipped"]` as {file, reason}."""
    return [(str(s.get("file", "")), str(s.get("reason", ""))) for s in description.get("skipped", [])]


def item_source(name: str) -> str:
    """The file an item came from: item names are SOURCE@POSITION."""
    return name.rsplit("@", 1)[0]


def build_report(domain: str, folder: str | Path, init: str | Path | None = None) -> DataReport:
    """Read `folder` the way training will and summarise it. With `init`, the data is read
    with that model's domain (its vocabulary and labels), as fine-tuning does.

    Levels name their held-out levels explicitly; when the folder has two or more usable
    levels and none is named, the last one is held out for validation."""
    folder = Path(folder)
    parent = load_generator(init, domain=domain) if init else None
    if parent is not None:
        data_domain = parent.domain
        corpus = data_domain.corpus([folder])
    else:
        data_domain, corpus = domain_class(domain).prepare_training([folder])
    labels = list(data_domain.conditions.labels)
    sources = [item_source(n) for n in corpus.train.names]
    holdout: tuple[str, ...] = ()
    if data_domain.holds_out_by_source and not len(corpus.holdout) and len(dict.fromkeys(sources)) >= 2:
        holdout = (sources[-1],)
    conditions = corpus.train.c.numpy()  # (N, K) label matrix
    if holdout:
        conditions = conditions[np.array([s not in holdout for s in sources])]
    counts = (conditions > 0.5).sum(axis=0)
    held_out_now = len(corpus.train) - len(conditions)
    return DataReport(
        domain=domain,
        folder=folder,
        label_counts=[(label, int(count)) for label, count in zip(labels, counts)],
        train_items=len(corpus.train) - held_out_now,
        holdout_items=len(corpus.holdout) + held_out_now,
        holdout=holdout,
        skipped=skipped_files(corpus.description),
        parent_name=parent.name if parent is not None else None,
        parent_latent=parent.latent_size if parent is not None else None,
        sources=tuple(dict.fromkeys(sources)),
        auto_holdout=bool(holdout),
    )


# --- the typicality check, and files left out ---------------------------------------------------


def judge_for(domain: str, init: str | Path | None, judges: dict[str, Path] | None = None) -> Path | None:
    """The checkpoint that scores the folder: the model being fine-tuned, else the domain's model
    in `judges` (default: the shipped one), or None when there is none."""
    if init:
        return Path(init)
    path = Path((judges or {}).get(domain) or resolve_checkpoint(domain))
    return path if path.exists() else None


def scan_sample(paths: list[Path], limit: int = MAX_SCANNED) -> list[Path]:
    """At most `limit` of `paths`, evenly spread (every part of a large folder has its say)."""
    if len(paths) <= limit:
        return list(paths)
    return [paths[i * len(paths) // limit] for i in range(limit)]


def source_names(path: Path, folder: Path) -> set[str]:
    """The names an item read from `path` may carry as its source: the file's stem (a level), its
    name (a MIDI piece) or its path inside the folder (an image)."""
    names = {path.stem, path.name}
    try:
        relative = path.relative_to(folder)
        names |= {str(relative), str(relative.with_suffix(""))}
    except ValueError:
        pass
    return names


def holdout_without(report: DataReport, left_out: list[Path]) -> tuple[str, ...]:
    """The held-out names once `left_out` files are gone: those not left out; when the report chose
    the held-out source itself and it is left out, the last source that stays (as `build_report`
    chooses), where two or more stay."""
    gone = set().union(*(source_names(path, report.folder) for path in left_out)) if left_out else set()
    kept = tuple(name for name in report.holdout if name not in gone)
    if report.auto_holdout and not kept:
        staying = [name for name in report.sources if name not in gone]
        kept = (staying[-1],) if len(staying) >= 2 else ()
    return kept


def kept_copy_path(out: Path, folder: Path) -> Path:
    """Where training reads a folder without its left-out files: beside the checkpoint, in
    NAME-data/, under the folder's own name (a game's or a label's name comes from its folder)."""
    return out.parent / f"{out.stem}-data" / folder.name


def kept_copy(folder: Path, left_out: list[Path], target: Path) -> Path:
    """Make `target` a copy of `folder` without the `left_out` files (hard links where the disk
    allows, copies elsewhere), and note beside it what was left out. A target the app made before
    (its note is there) is made again; any other existing one is refused, never overwritten."""
    note = target.parent / LEFT_OUT_NOTE
    if target.exists():
        if not note.is_file():
            raise UserError(f"{target} exists and is not a copy this app made; save the model elsewhere")
        shutil.rmtree(target)
    gone = {path.resolve() for path in left_out}
    kept = 0
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.resolve() in gone:
            continue
        copy = target / path.relative_to(folder)
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, copy)
        except OSError:  # another disk, or links not allowed: a real copy
            shutil.copy2(path, copy)
        kept += 1
    target.mkdir(parents=True, exist_ok=True)
    record = {"folder": str(folder), "left_out": [str(p.relative_to(folder)) for p in left_out], "kept": kept}
    note.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return target
