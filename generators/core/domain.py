"""The Domain seam: one class per asset kind, knowing files and pixels but not training.

A domain converts between assets (levels, images, songs) and the tensors a VAE sees, draws
previews, reads and writes files by extension, and builds training data. Its whole
configuration (e.g. a tile vocabulary) round-trips through the checkpoint card, so a
checkpoint rebuilds the exact domain it was trained with.
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .conditions import ConditionSpace
from .errors import UserError

_draft = threading.local()  # `Domain.drafting`: the draft options of the thread inside it


@dataclass(frozen=True)
class DecodingOption:
    """A setting a domain offers for turning decoder output into assets (music: how notes are
    drawn). The CLI makes a flag of it and the GUI a control, both from this description."""

    name: str  # a keyword: `note_temperature`; its flag is --note-temperature
    help: str
    default: Any
    choices: tuple = ()  # the values allowed, when they are a fixed set
    above: float | None = None  # numbers: the value must be greater than this...
    at_most: float | None = None  # ...and at most this

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> Any:
        """The value, if this option allows it, else a UserError naming the option."""
        if self.choices and value not in self.choices:
            raise UserError(f"{self.flag} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
        if self.above is not None and not (self.above < value <= self.at_most):
            raise UserError(
                f"{self.name.replace('_', ' ')} must be above {self.above:g} and at most {self.at_most:g}, got {value}"
            )
        return value


@dataclass
class Split:
    """Items of one split: tensors (N, C, H, W), conditions (N, K) and a source name per item."""

    x: torch.Tensor
    c: torch.Tensor
    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.x.shape[0]


@dataclass
class Corpus:
    """Training data: the training and held-out splits plus a description for the card."""

    train: Split
    holdout: Split
    description: dict = field(default_factory=dict)


class Domain(ABC):
    """Base class of the levels, images and music domains."""

    name: str = ""
    item_noun: tuple[str, str] = ("item", "items")  # one item, many items: what messages call them
    likelihood: str = ""
    palette: tuple[tuple[int, int, int, int], ...] = ()  # the colours of a `palette` likelihood (RGBA 0..255)
    write_formats: tuple[str, ...] = ()  # file extensions `write` understands, default first
    batch_formats: tuple[str, ...] = ()  # formats `write_batch` puts a whole batch into (a sheet, an animation)
    read_formats: tuple[str, ...] = ()  # file extensions `read` understands (the GUI's Open… filter)
    plays_audio: bool = False  # assets are sound: `write(asset, "x.wav")` renders them, the GUI offers Play
    training_folder_hint: str = ""  # what a training folder holds, in a sentence (the wizard's first page)
    # Held-out items are named by their source file (`--holdout LEVEL`), so a folder that names none
    # has its last source held out for validation (the wizard's data report); else the domain's own rule.
    holds_out_by_source: bool = False
    makes_pieces: bool = False  # items chain into one longer piece (clips into a song): the GUI offers that page
    decoding_options: tuple[DecodingOption, ...] = ()  # settings of `from_output`, see `set_decoding`
    # Options for a quick draft (images: raw pixels, no denoiser pass), used inside `drafting()`.
    draft_decoding: dict[str, Any] = {}

    # Training hooks, None when the domain has none. `augment(x, c, generator) -> (x, c)` varies a
    # training batch (B, C, H, W) without changing its labels; `condition_critic(output, c)` is a
    # differentiable loss (B,) of how far decoder output is from showing condition c (`--critic`).
    augment = None
    condition_critic = None

    @property
    @abstractmethod
    def shape(self) -> tuple[int, int, int]:
        """Tensor shape (C, H, W) of one item."""

    @property
    @abstractmethod
    def conditions(self) -> ConditionSpace:
        """The labels a model of this domain is conditioned on."""

    @abstractmethod
    def to_tensor(self, asset: Any) -> torch.Tensor:
        """One asset -> (C, H, W) float tensor."""

    @abstractmethod
    def from_output(
        self,
        output: torch.Tensor,
        output_temperature: float = 0.0,
        rng: torch.Generator | None = None,
        condition: list[str] | None = None,
    ) -> list:
        """Decoder output (B, C', H, W) -> assets. output_temperature 0 takes the most likely value.
        `condition`, when given, is the label list the output was decoded under; a domain may
        use it to keep the asset faithful to those labels."""

    def column_choice(self):
        """How a model with a head over each row's columns (`model_autoregressive`) picks a
        column's tokens while decoding: a function from that column's logits (B, C, T) to tokens
        (B, T), or None for the likeliest. `from_output` must pick the same from the logits the
        model returns, so that the asset is the one the later columns heard."""
        return None

    @abstractmethod
    def render(self, asset: Any) -> np.ndarray:
        """A preview as a uint8 (H, W, 3) or (H, W, 4) array."""

    @abstractmethod
    def read(self, path: str | Path) -> Any:
        """Read an asset; the extension picks the format. Raises AssetError."""

    @abstractmethod
    def write(self, asset: Any, path: str | Path) -> list[Path]:
        """Write atomically; the extension picks the format. Returns every file written."""

    @abstractmethod
    def labels_of(self, asset: Any) -> list[str]:
        """The condition labels an asset shows by itself (used when encoding a user's file)."""

    @abstractmethod
    def to_card(self) -> dict:
        """Configuration for the checkpoint card."""

    @classmethod
    @abstractmethod
    def from_card(cls, data: dict) -> Domain:
        """Rebuild the domain from `to_card` output."""

    model_channels: tuple[int, ...] = (32, 64, 128)  # conv widths of the VAE for this domain
    model_layout: str = "grid"  # VAEConfig.layout: "grid" (2-D convs) or "sequence" (convs along rows only)
    model_decoder_blocks: int = 0  # VAEConfig.decoder_blocks: residual 3×3 convs per decoder resolution
    model_head_kernel: int = 3  # VAEConfig.head_kernel: the output conv's kernel, 1 or 3
    model_dropout: float = 0.0  # VAEConfig.dropout: on hidden activations while training
    model_autoregressive: int = 0  # VAEConfig.autoregressive: width of a head over each row's columns
    # Exclusive condition groups whose labels differ so much in how much there is to explain
    # (music: a four-voice chorale against a one-voice tune, a 64-step 4/4 clip against a 48-step
    # 3/4 one) that the app ranks an item's typicality only among samples of its own labels in
    # them; empty: among all samples.
    typicality_groups: tuple[str, ...] = ()
    # Condition groups the domain applies after the model, which the latent knows nothing of
    # (music: the key, a transposition on decode): no direction slider is offered for them.
    decode_only_groups: tuple[str, ...] = ()
    # TrainConfig settings (by field name) this asset kind trains best with, where they differ from
    # TrainConfig's own defaults. `train` and the wizard start from them; a flag or a field set wins.
    training_defaults: dict = {}

    @classmethod
    @abstractmethod
    def prepare_training(cls, paths: list[Path], holdout: tuple[str, ...] = ()) -> tuple[Domain, Corpus]:
        """A domain configured for the data in `paths`, and the data itself."""

    def corpus(self, paths: list[Path], holdout: tuple[str, ...] = ()) -> Corpus:
        """Data under `paths` converted with this domain's configuration (for fine-tuning)."""
        raise UserError(f"fine-tuning a {self.name} model on new data is not supported yet")

    @abstractmethod
    def heldout_corpus(self, paths: list[Path], card: dict) -> Corpus:
        """The data a checkpoint was trained on, split as its card records, for `eval`."""

    def set_decoding(self, name: str, value: Any) -> None:
        """Set one of `decoding_options` (checked); a name the domain does not offer is a UserError."""
        options = {option.name: option for option in self.decoding_options}
        if name not in options:
            raise UserError(f"--{name.replace('_', '-')} does not apply to {self.name}")
        self._decoding_values()[name] = options[name].check(value)

    def _decoding_values(self) -> dict[str, Any]:
        if "_decoding" not in self.__dict__:
            self._decoding = {option.name: option.default for option in self.decoding_options}
        return self._decoding

    @property
    def decoding(self) -> dict[str, Any]:
        """The current value of each decoding option, defaults until `set_decoding` changes one;
        inside `drafting()`, on that thread only, with `draft_decoding` over them."""
        values = self._decoding_values()
        draft = getattr(_draft, "options", None)
        return {**values, **draft} if draft else values

    @contextlib.contextmanager
    def drafting(self):
        """Decode drafts on this thread while the block runs (`draft_decoding`: the app's preview
        while a slider is held). Thread-local, so a grid worker decoding meanwhile is untouched."""
        _draft.options = dict(self.draft_decoding)
        try:
            yield
        finally:
            _draft.options = None

    def stitch_support(self) -> str:
        """ "" when items of this model can be stitched into longer ones (whole levels from
        windows), else why not: the CLI's error line and the GUI's reason to offer no such page."""
        return f"{self.name} models make single items; there is nothing to stitch"

    def training_card(self, split: Split) -> dict:
        """Entries the card records of this domain's training items beyond their labels (levels:
        the training levels' characters), checked at load by `check_training_card`."""
        return {}

    def check_training_card(self, card: dict) -> None:
        """A CheckpointError if what `training_card` wrote in `card` is malformed."""

    def playable_screen_support(self) -> str:
        """ "" when single items of this model can be searched until an agent can play them
        (`sample --playable` without --length: Lode Runner screens), else why not: the GUI's
        reason to offer no Playable screen page."""
        return f"{self.name} models have no agent to play their items"

    def scan_parts(self, asset: Any) -> list:
        """The pieces `scan` scores a file by, in order: the asset itself by default (a long level:
        its screens; a long song: its 4-bar clips)."""
        return [asset]

    def scan_explanations(self, generator, parts: list) -> list[list[list[str]]] | None:
        """The label sets to try each of `parts` under (one of each file's `scan_parts`), where
        the domain can guess better than `scan.explanations` (images: a classifier); None: that."""
        return None

    # What `scan_features` measures, one name per feature; empty: `scan` ranks files by the ELBO
    # itself. With features, it ranks by the ELBO's z-score around what real items with those
    # features score (`scan.Baseline`).
    scan_features_names: tuple[str, ...] = ()

    def scan_features(self, part: Any) -> np.ndarray:
        """How much there is to explain in one of `scan_parts` (music: notes, sounding steps...),
        (len(scan_features_names),): what its expected ELBO is read from."""
        return np.zeros(0)

    def typicality_key(self, labels) -> tuple[str, ...]:
        """An item's labels in `typicality_groups` (a chorale in 4/4: ("chorale", "4/4")): the
        items it is compared with."""
        groups = [g for g in self.conditions.groups if g.name in self.typicality_groups]
        return tuple(next((label for label in labels if label in g.labels), "") for g in groups)

    def position_parts(self, asset: Any, parts: list) -> list:
        """`scan_parts` as `positions` reads them (the same number, in the same order). Default:
        as scored. Music reads every part in the key the song opens in (`MusicDomain`)."""
        return parts

    def positions(self, asset: Any, maps: list[np.ndarray]) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Where in a file the model explains it badly, from the per-cell log-likelihood maps (H, W)
        of its `position_parts`: (a score per position, low is unusual; a name per position for the user;
        a heat map aligned with `render(asset)`). The default: one position, the item."""
        heat = np.concatenate(maps, axis=1)
        return np.array([float(heat.mean())]), ["the whole item"], heat

    def plant_anomalies(self, asset: Any, rng: np.random.Generator) -> dict[str, tuple[Any, tuple[int, ...] | None]]:
        """Known anomalies planted into one real asset, for measuring `scan` (`scan.detection_report`):
        kind -> (the changed asset, the indices of `positions` the change lies in, or None when it
        lies everywhere). A kind that cannot be planted into this asset is left out. Default: none."""
        return {}

    def detection_items(self, split: Split) -> tuple[list, dict[str, list]]:
        """Held-out items as `scan` would read them from files, for a detection report: the items
        counted as normal (anomalies are planted into them), and real held-out items that are
        anomalous for the way `scan` scores them, by kind. Default: every item, normal."""
        return self.scan_items(split), {}

    def scan_items(self, split: Split) -> list:
        """The items of a split as `scan` would read them from files (what its reference and
        baseline are scored on). Default: `from_tensor`."""
        return self.from_tensor(split.x)

    def sample_report(self, generator, corpus: Corpus, report: dict, samples: int, seed: int) -> dict:
        """This domain's part of `eval`: metrics of `samples` generated items (and of the held-out
        data beside them), given the generic held-out `report`. Returns new rows; default none."""
        return {}

    def from_tensor(self, x: torch.Tensor) -> list:
        """Items (B, C, H, W) as `to_tensor` makes them -> assets, exactly (the inverse of
        `to_tensor`). One-hot and 0/1 tensors become confident logits (+/-20), whose most
        likely value is the tensor itself under both categorical and Bernoulli likelihoods."""
        return self.from_output((x * 2.0 - 1.0) * 20.0)

    def encoding_note(self, asset: Any) -> str | None:
        """A remark for the user when encoding changes an asset (e.g. crops it), else None; an
        AssetError when the asset cannot be encoded at all (a level narrower than a window)."""
        return None

    def condition_vector(self, labels) -> np.ndarray:
        return self.conditions.encode(labels)

    @classmethod
    def count_of(cls, n: int) -> str:
        """ "1 level", "16 clips": a number of items in words."""
        return f"{n} {cls.item_noun[0] if n == 1 else cls.item_noun[1]}"

    def check_format(self, path: str | Path, batch: bool = False) -> str:
        """The write format for `path`, or a UserError naming the ones we support. With
        `batch`, the formats that hold a whole batch in one file count too."""
        ext = Path(path).suffix.lower().lstrip(".")
        known = tuple(dict.fromkeys(self.write_formats + (self.batch_formats if batch else ())))
        if ext not in known:
            raise UserError(f"cannot write .{ext or '?'} files for {self.name}; choose one of: {', '.join(known)}")
        return ext

    def write_batch(self, assets: list, names: list[str], path: str | Path) -> list[Path]:
        """Write many assets into one file of a `batch_formats` format (atomically), each
        known by its name. Returns every file written, the main one first."""
        raise UserError(f"{self.name} cannot write several items into one file")
