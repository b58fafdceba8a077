"""The data report the training wizard shows before training: items per label, the held-out
items, and every file that was skipped with its reason. Qt-free; it runs in a worker because
reading a folder of levels or MIDI files can take seconds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generators.core.errors import UserError
from generators.registry import DOMAIN_NAMES, domain_class, load_generator

# What each domain expects in its data folder, for the wizard's first page.
FOLDER_HINTS = {
    "levels": "A folder of VGLC .txt levels plus one legend .json (like VGLC's smb.json), "
    "or a folder with one such game folder per game.",
    "images": "A folder with one subfolder per label, each holding PNG images.",
    "music": "A folder with one subfolder per label (a style), each holding MIDI files.",
}


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
    if domain == "levels" and not len(corpus.holdout) and len(dict.fromkeys(sources)) >= 2:
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
    )
