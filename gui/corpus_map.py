"""The latent map's data, Qt-free: a model's training set encoded to latents, projected onto
its top-two principal plane, and cached on disk so it is encoded only once per checkpoint. A
second view, t-SNE (`generators/core/tsne.py`), keeps neighbours together where the plane
overlaps them; it is computed on demand, for at most `tsne.MAX_POINTS` items, and cached too.

The GUI has no data path of its own: the user points at the data folder once, the domain
rebuilds the training split the checkpoint's card records (`Domain.heldout_corpus`), and
`encode_split` turns it into posterior means through the Generator facade. Everything here
runs in a worker; `report(done, total)` gives progress and `cancelled()` stops early.

The cache is a numpy `.npz` (loaded with `allow_pickle=False`) named by the checkpoint's
weights SHA-256, so a retrained model never reuses another model's map.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from generators.core import latent as latent_ops
from generators.core.domain import Split
from generators.core.errors import UserError
from generators.core.fileio import write_bytes_atomic
from generators.core.generator import Generator
from generators.core.tsne import TsneCancelled, subset, tsne

CACHE_VERSION = 1
BATCH = 256  # items per encode call: progress every batch, memory bounded
Report = Callable[[int, int], None]
IsCancelled = Callable[[], bool]


class MapCancelled(Exception):
    """Raised inside a worker when the user cancelled; the job ends without a result."""


@dataclass
class MapData:
    """Encoded training items and the plane they are shown on."""

    latents: np.ndarray  # (N, D) float32 posterior means
    labels: np.ndarray  # (N, K) float32 multi-hot condition labels of each item
    names: list[str]  # a source name per item, e.g. "mario-1-1@12"
    data_path: str
    encoded_now: bool = False  # False when the latents came from the cache
    assets: list[Any] | None = None  # the items themselves, for hover previews (None: data unreadable)
    origin: np.ndarray = field(init=False)
    axes: np.ndarray = field(init=False)  # (2, D)
    points: np.ndarray = field(init=False)  # (N, 2) map coordinates

    def __post_init__(self) -> None:
        self.origin, self.axes = latent_ops.plane_basis(self.latents)
        self.points = latent_ops.to_plane(self.latents, self.origin, self.axes).astype(np.float32)

    def latent_at(self, x: float, y: float) -> np.ndarray:
        """The latent (D,) at map coordinates (x, y): a point of the plane, not only a data point."""
        return latent_ops.from_plane(np.array([[x, y]], np.float32), self.origin, self.axes)[0]

    def nearest(self, x: float, y: float) -> int:
        """Index of the item nearest to (x, y) on the plane."""
        return plane_view(self).nearest(x, y)


@dataclass
class MapView:
    """What the canvas shows: `index` (M,) items of the map's data at `points` (M, 2). The plane
    view shows every item, and any point of it decodes; the t-SNE view has no inverse, so a click
    takes the nearest item's latent."""

    name: str  # "pca" or "tsne"
    index: np.ndarray
    points: np.ndarray

    @property
    def decodes_anywhere(self) -> bool:
        return self.name == "pca"

    def nearest(self, x: float, y: float) -> int:
        """The data index of the shown item nearest to (x, y)."""
        return int(self.index[np.argmin(((self.points - np.array([x, y], np.float32)) ** 2).sum(axis=1))])


def plane_view(data: MapData) -> MapView:
    return MapView("pca", np.arange(len(data.latents)), data.points)


TSNE_SEED = 0


def tsne_cache_path(cache: Path | None) -> Path | None:
    """Beside the map's own cache: latent-map-tsne-<weights sha256>.npz."""
    return None if cache is None else cache.with_name(cache.name.replace("latent-map-", "latent-map-tsne-", 1))


def build_tsne(
    data: MapData, cache: Path | None, report: Report = lambda d, t: None, cancelled: IsCancelled = lambda: False
) -> MapView:
    """The t-SNE view of the map: from its cache when it was made of the same items, else
    computed (a seeded subset of at most MAX_POINTS items) and cached. Raises MapCancelled."""
    index = subset(len(data.latents), TSNE_SEED)
    if cache is not None and cache.exists():
        try:
            with np.load(cache, allow_pickle=False) as stored:
                if int(stored["version"]) == CACHE_VERSION and np.array_equal(stored["index"], index):
                    if np.array_equal(stored["names"], np.array(data.names, dtype=np.str_)[index]):
                        return MapView("tsne", index, stored["points"].astype(np.float32))
        except (OSError, KeyError, ValueError):
            pass  # a damaged cache is simply computed again
    try:
        points = tsne(data.latents[index], seed=TSNE_SEED, report=report, cancelled=cancelled)
    except TsneCancelled:
        raise MapCancelled() from None
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            version=np.array(CACHE_VERSION),
            index=index,
            points=points,
            names=np.array(data.names, dtype=np.str_)[index],
        )
        write_bytes_atomic(cache, buffer.getvalue())
    return MapView("tsne", index, points)


def cache_path(cache_dir: str | Path, card: dict) -> Path | None:
    """Where a checkpoint's map is cached, or None for a card without a weights hash."""
    digest = card.get("weights_sha256")
    return Path(cache_dir) / f"latent-map-{digest}.npz" if digest else None


def save_cache(path: Path, data: MapData) -> None:
    """Write the map's latents, labels and names atomically (plain arrays, no pickles)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        version=np.array(CACHE_VERSION),
        latents=data.latents.astype(np.float32),
        labels=data.labels.astype(np.float32),
        names=np.array(data.names, dtype=np.str_),
        data_path=np.array(data.data_path, dtype=np.str_),
    )
    write_bytes_atomic(path, buffer.getvalue())


def load_cache(path: Path | None, data_path: str | None = None) -> MapData | None:
    """The cached map, or None when there is none, it is damaged, or it was made from other data."""
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            if int(stored["version"]) != CACHE_VERSION:
                return None
            cached_path = str(stored["data_path"])
            if data_path is not None and cached_path != str(data_path):
                return None
            return MapData(
                stored["latents"].astype(np.float32),
                stored["labels"].astype(np.float32),
                [str(n) for n in stored["names"]],
                cached_path,
            )
    except (OSError, KeyError, ValueError):  # a damaged cache is simply rebuilt
        return None


def slices(split: Split, size: int = BATCH):
    for start in range(0, len(split), size):
        stop = min(start + size, len(split))
        yield start, stop, Split(split.x[start:stop], split.c[start:stop], split.names[start:stop])


def split_assets(generator: Generator, split: Split) -> list:
    """The items of a split as assets, through `Domain.from_tensor`."""
    domain = generator.domain
    return list(domain.from_tensor(split.x))


def encode_split(generator: Generator, split: Split) -> np.ndarray:
    """Posterior means (N, D) of a split: the facade's `encode_split` when it has one,
    else the items rebuilt as assets and encoded under their own stored labels."""
    method = getattr(generator, "encode_split", None)
    if method is not None:
        return np.asarray(method(split), dtype=np.float32)
    labels = np.asarray(split.c, dtype=np.float32)
    assets = split_assets(generator, split)
    out = np.zeros((len(split), generator.latent_size), np.float32)
    rows, groups = np.unique(labels > 0.5, axis=0, return_inverse=True)
    space = generator.domain.conditions
    for g, row in enumerate(rows):  # one encode call per distinct label set
        members = np.flatnonzero(groups.reshape(-1) == g)
        out[members] = generator.encode([assets[i] for i in members], space.decode(row.astype(np.float32)))
    return out


def encode_batches(generator: Generator, split: Split, report: Report, cancelled: IsCancelled) -> np.ndarray:
    """Encode a split batch by batch, with progress; raises MapCancelled when asked to stop."""
    parts = []
    report(0, len(split))
    for _, stop, part in slices(split):
        if cancelled():
            raise MapCancelled()
        parts.append(encode_split(generator, part))
        report(stop, len(split))
    return np.concatenate(parts) if parts else np.zeros((0, generator.latent_size), np.float32)


def training_split(generator: Generator, data_path: str | Path) -> Split:
    """The training split the checkpoint was trained on, rebuilt from the data folder."""
    corpus = generator.domain.heldout_corpus([Path(data_path)], generator.card)
    if len(corpus.train) < 3:
        raise UserError(f"{data_path} holds too few training items for a map ({len(corpus.train)})")
    return corpus.train


def build_map(
    generator: Generator,
    data_path: str | Path | None,
    cache: Path | None,
    report: Report = lambda d, t: None,
    cancelled: IsCancelled = lambda: False,
) -> MapData:
    """The map of a checkpoint: from the cache when it matches, else encoded and cached.
    The items themselves are read again for hover previews when the data folder is readable."""
    data_path = None if data_path is None else str(data_path)
    data = load_cache(cache, data_path)
    split = None
    if data is None:
        if data_path is None:
            raise UserError("choose the folder of the model's training data first")
        split = training_split(generator, data_path)
        latents = encode_batches(generator, split, report, cancelled)
        data = MapData(latents, np.asarray(split.c, dtype=np.float32), list(split.names), data_path, encoded_now=True)
        if cache is not None:
            save_cache(cache, data)
    try:
        split = split if split is not None else training_split(generator, data.data_path)
        if len(split) == len(data.latents):
            data.assets = [asset for _, _, part in slices(split) for asset in split_assets(generator, part)]
    except UserError:
        data.assets = None  # the folder moved: the map still works, hover shows reconstructions
    return data


def colour_groups(space, by: str) -> tuple[list[str], Callable[[np.ndarray], np.ndarray]]:
    """How to colour points by `by` (a label of a multi-label group, or an exclusive group's
    name): the legend entries and a function (N, K) labels -> (N,) legend index."""
    offset = 0
    for group in space.groups:
        width = len(group.labels)
        if group.exclusive and group.name == by:
            return list(group.labels), lambda labels, o=offset, w=width: np.argmax(labels[:, o : o + w], axis=1)
        if not group.exclusive and by in group.labels:
            column = offset + group.labels.index(by)
            return [f"no {by}", by], lambda labels, c=column: (labels[:, c] > 0.5).astype(int)
        offset += width
    return ["all"], lambda labels: np.zeros(len(labels), int)


def colour_choices(space) -> list[str]:
    """Everything points can be coloured by: each multi-label label, each exclusive group."""
    choices = []
    for group in space.groups:
        choices += [group.name] if group.exclusive else list(group.labels)
    return choices


def label_text(space, row: Sequence[float]) -> str:
    return ", ".join(space.decode(np.asarray(row))) or "no labels"
