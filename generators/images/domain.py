"""The images domain: 64×64 RGBA items (emoji-style icons and sprites), alpha kept throughout.

Tensor of one item: (4, 64, 64) float in [0, 1], channels R, G, B, A. A model trained now
scores each pixel as one of K palette colours fitted to its training images
(`likelihoods.PaletteCategorical`, colours from `palette.fit_palette`; the decoder gives K
logits per pixel), and decodes the most likely colour: hard edges, where the older
discretised logistic per 8-bit value (`likelihoods.DiscretisedLogistic`, a mean and a
log-scale per channel) decoded the mean of the colours it hesitated between, a blur. Cards
of logistic models still load. Conditions: by default the emoji
category (9 Unicode groups) and art style (noto, twemoji); a model trained on a user's
ImageFolder tree has one exclusive group, `label`. Files are read by `files` (PNG,
JPEG, GIF, WebP, any mode and size) and written as .png, .gif or .apng; a batch can also
go into one sprite sheet (PNG + JSON atlas) or one animation.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import torch

from generators.core.conditions import ConditionGroup, ConditionSpace
from generators.core.domain import Corpus, Domain, Split
from generators.core.errors import UserError
from generators.core.fileio import write_bytes_atomic, write_png_atomic, write_text_atomic
from generators.core.likelihoods import likelihood_for

from .data import HOLDOUT_EVERY, ImageSet, is_holdout, load_images
from .files import SIZE, Picture, animation_bytes, atlas_text, clear_hidden, read_image, sprite_sheet
from .options import DECODING_OPTIONS
from .palette import fit_palette

# The emoji groups of Unicode's emoji-test.txt (less "Component"), as label slugs, in order.
EMOJI_CATEGORIES = (
    "smileys-emotion",
    "people-body",
    "animals-nature",
    "food-drink",
    "travel-places",
    "activities",
    "objects",
    "symbols",
    "flags",
)
EMOJI_STYLES = ("noto", "twemoji")
DEFAULT_GROUPS = (("category", EMOJI_CATEGORIES), ("style", EMOJI_STYLES))


class ImagesDomain(Domain):
    """64×64 RGBA images conditioned on exclusive label groups (category and style)."""

    name = "images"
    item_noun = ("image", "images")
    decoding_options = DECODING_OPTIONS
    write_formats = ("png", "gif", "apng")  # one item per file (a one-frame animation is valid)
    read_formats = ("png", "jpg", "jpeg", "gif", "webp")  # what `read_image` opens (Pillow, bomb-guarded)
    draft_decoding = {"raw_pixels": True}  # while a slider is held: skip the ~5 ms denoiser pass
    training_folder_hint = "A folder with one subfolder per label, each holding PNG images."
    batch_formats = ("sheet", "gif", "apng")  # a whole batch in one file: a sprite sheet or an animation
    # 64 -> 32 -> 16 -> 8 -> 4: a 4×4×128 bottleneck (one entry per halving after the stem).
    # Narrow at full resolution, where a CPU pays most per channel: (32, 64, ...) trained at
    # about 13 images/s here, (16, 32, ...) at about 80; 1.4M parameters, a 5.6 MB checkpoint.
    model_channels = (16, 32, 64, 128, 128)
    # One residual 3×3 conv after each decoder upsampling. Same command, cosine schedule: held-out
    # 3.565 bits/dim and 70.2% category accuracy of samples with one; 3.644 and 64.8% with two
    # (40 epochs, to fit the 30-minute rebuild), which overfit sooner.
    model_decoder_blocks = 1
    model_head_kernel = 1  # K = 128 palette logits per pixel: a 3×3 head doubled an epoch's time
    # The shipped model's recipe (its card has the command): 30 epochs of batches of 32 at a cosine
    # schedule from 2e-3, KL warm-up over 1 epoch, beta 0.5, 64 latent dimensions, a mixture prior
    # of up to 16 components per label. Beta 0.5 against 1 (same recipe otherwise): two-sample test
    # 0.707 against 0.725 at temperature 0.8, category accuracy of samples 0.712 against 0.677.
    training_defaults = {
        "epochs": 30,
        "batch_size": 32,
        "learning_rate": 2e-3,
        "lr_schedule": "cosine",
        "warmup_epochs": 1.0,
        "beta": 0.5,
        "latent_size": 64,
        "prior_components": 16,
        "iwae_k": 50,  # the card's bound: k = 500 spent 3 of a 1,000-image folder's 12 minutes
    }

    def __init__(
        self,
        groups: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_GROUPS,
        frame_ms: int = 120,
        palette: tuple[tuple[int, int, int, int], ...] = (),
    ):
        self.groups = tuple((name, tuple(labels)) for name, labels in groups)
        self.frame_ms = frame_ms  # animation frame time
        self.palette = tuple(tuple(int(v) for v in colour) for colour in palette)
        self.likelihood = "palette" if self.palette else "logistic"  # no palette: a card from before palettes
        self._likelihood = likelihood_for(self.likelihood, self.palette)
        self._conditions = ConditionSpace(
            tuple(ConditionGroup(name, labels, exclusive=True) for name, labels in self.groups)
        )

    # --- the Domain seam -------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int, int]:
        return (4, SIZE, SIZE)

    @property
    def conditions(self) -> ConditionSpace:
        return self._conditions

    def to_tensor(self, picture: Picture) -> torch.Tensor:
        """(64, 64, 4) uint8 -> (4, 64, 64) float in [0, 1]."""
        return torch.from_numpy(np.ascontiguousarray(picture.pixels.transpose(2, 0, 1))).float() / 255.0

    def from_output(
        self,
        output: torch.Tensor,
        output_temperature: float = 0.0,
        rng: torch.Generator | None = None,
        condition: list[str] | None = None,
    ) -> list[Picture]:
        """Decoder output -> pictures. Palette models, (B, K, 64, 64) logits: temperature 0 takes
        each pixel's most likely colour, above 0 draws it from the softmax at that temperature.
        Logistic models, (B, 8, 64, 64): temperature 0 takes each value's logistic mean (rounded
        to 8 bits), above 0 draws it with the scale times `output_temperature`. Seeded by `rng`."""
        values = self._likelihood.sample(output.float(), output_temperature, rng)  # (B, 4, 64, 64)
        if not self.decoding["raw_pixels"]:
            from .denoiser import shipped_denoiser

            denoiser, _ = shipped_denoiser()
            if denoiser is not None:  # without one, the decoder's own pixels
                values = denoiser.clean(values)
        return self.from_tensor(values)

    def from_tensor(self, x: torch.Tensor) -> list[Picture]:
        """Exact inverse of `to_tensor`: (B, 4, 64, 64) in [0, 1] -> pictures."""
        pixels = torch.round(x.float().clamp(0.0, 1.0) * 255.0).to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return [Picture(clear_hidden(np.ascontiguousarray(p))) for p in pixels]

    def render(self, picture: Picture) -> np.ndarray:
        """The pixels themselves, (64, 64, 4) uint8; the viewer scales and draws a checkerboard."""
        return picture.pixels

    def read(self, path: str | Path) -> Picture:
        return read_image(path)

    def write(self, picture: Picture, path: str | Path) -> list[Path]:
        path = Path(path)
        ext = self.check_format(path)
        if ext == "png":
            write_png_atomic(path, picture.pixels)
        else:
            write_bytes_atomic(path, animation_bytes([picture.pixels], ext, self.frame_ms))
        return [path]

    def write_batch(self, pictures: list[Picture], names: list[str], path: str | Path) -> list[Path]:
        """Many items in one file. `.gif`/`.apng`: an animation, one frame per item in order.
        Any other path is a sprite sheet: PATH.png (a grid, row by row) and PATH.json (its
        atlas, frames keyed by `names`). Returns every file written, the image first."""
        path = Path(path)
        ext = path.suffix.lower().lstrip(".")
        if ext in ("gif", "apng"):
            write_bytes_atomic(path, animation_bytes([p.pixels for p in pictures], ext, self.frame_ms))
            return [path]
        image_path, atlas_path = path.with_suffix(".png"), path.with_suffix(".json")
        data, atlas = sprite_sheet([p.pixels for p in pictures], names, image_path.name)
        write_bytes_atomic(image_path, data)
        write_text_atomic(atlas_path, atlas_text(atlas))
        return [image_path, atlas_path]

    def labels_of(self, picture: Picture) -> list[str]:
        """Nothing in the pixels alone names a category or style: the defaults apply
        unless the caller gives a condition."""
        return []

    def encoding_note(self, picture: Picture) -> str | None:
        return "; ".join(picture.notes) if picture.notes else None

    def positions(self, picture, maps: list[np.ndarray]) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Per 8 × 8 block of pixels (each pixel's channels summed), named by the block's centre."""
        heat = maps[0]
        blocks = heat.reshape(SIZE // 8, 8, SIZE // 8, 8).mean(axis=(1, 3))
        names = [f"around pixel ({8 * bx + 4}, {8 * by + 4})" for by in range(SIZE // 8) for bx in range(SIZE // 8)]
        return blocks.reshape(-1), names, heat

    def plant_anomalies(self, picture: Picture, rng: np.random.Generator) -> dict[str, tuple[Picture, None]]:
        """`gaussian_noise`: every channel (alpha too) plus Gaussian noise of a standard deviation
        drawn from 0.1-0.2 (of the 0-1 range), clipped and rounded to 8 bits; it lies everywhere."""
        sigma = rng.uniform(0.1, 0.2)
        noisy = picture.pixels / 255.0 + rng.normal(0.0, sigma, picture.pixels.shape)
        pixels = np.round(np.clip(noisy, 0.0, 1.0) * 255.0).astype(np.uint8)
        return {"gaussian_noise": (Picture(clear_hidden(pixels)), None)}

    SCAN_GUESSES, SCAN_CONFIDENCE = 2, 0.9  # per group: the likeliest labels until 90% sure, at most 2

    def scan_explanations(self, generator, parts: list) -> list[list[list[str]]] | None:
        """An image shows no labels by itself, and 9 categories × 2 styles are too many to try
        each; so each group's labels are guessed by the shipped classifier (held-out accuracy:
        category 69%, style 96%): its likeliest, and the next while the likeliest is under 90%
        sure, and an image is tried under every combination of the guesses (1 to 4 label sets).
        None (the first labels) for a model whose labels the classifier does not know."""
        from .metrics import shipped_classifier

        if "_scan_classifier" not in self.__dict__:  # loaded once per domain
            self._scan_classifier = shipped_classifier(generator)[0]
        if self._scan_classifier is None:
            return None
        with torch.inference_mode():
            logits = self._scan_classifier(torch.stack([self.to_tensor(p) for p in parts]))
        guesses = []  # per group, per image: the labels guessed
        for (_, labels), group_logits in zip(self._scan_classifier.config.groups, logits):
            probs, order = torch.softmax(group_logits, dim=1).sort(dim=1, descending=True)
            keep = 1 + ((probs[:, 0] < self.SCAN_CONFIDENCE).long() * (self.SCAN_GUESSES - 1))
            guesses.append([[labels[k] for k in row[:n]] for row, n in zip(order.tolist(), keep.tolist())])
        return [[list(combo) for combo in itertools.product(*(g[i] for g in guesses))] for i in range(len(parts))]

    def sample_report(self, generator, corpus: Corpus, report: dict, samples: int, seed: int) -> dict:
        """Bounds in bits per dimension (the unit of the image literature), then the sample metrics."""
        from .metrics import bits_per_dim_report, sample_report

        channels, height, width = self.shape
        # A palette model's bound is over its K colours per pixel, a logistic model's over 256^4
        # values: the two are not comparable, so the table says which it is.
        scored = f"palette of {len(self.palette)} colours per pixel" if self.palette else "8-bit RGBA values"
        return (
            {"likelihood_over": scored}
            | bits_per_dim_report(report, channels * height * width)
            | sample_report(generator, corpus, samples, seed)
        )

    def to_card(self) -> dict:
        card = {
            "groups": [{"name": name, "labels": list(labels)} for name, labels in self.groups],
            "size": SIZE,
            "channels": "RGBA",
        }
        if self.palette:
            card["palette"] = [list(colour) for colour in self.palette]
        return card

    @classmethod
    def from_card(cls, data: dict) -> ImagesDomain:
        """Rebuild the domain from `to_card` output; a CheckpointError names a malformed field."""
        from generators.core.card_check import bad_field, palette_colours, text, texts

        if data.get("size", SIZE) != SIZE or data.get("channels", "RGBA") != "RGBA":
            raise UserError("this images checkpoint uses an image size this version does not know")
        groups = data.get("groups")
        if not isinstance(groups, list) or not groups:
            raise bad_field("domain_config.groups", "must be a non-empty list of label groups")
        for i, group in enumerate(groups):
            if not isinstance(group, dict) or not {"name", "labels"} <= set(group):
                raise bad_field(f"domain_config.groups[{i}]", 'must be {"name": ..., "labels": [...]}')
            text(group["name"], f"domain_config.groups[{i}].name")
            texts(group["labels"], f"domain_config.groups[{i}].labels", allow_empty=False)  # each group is exclusive
        palette = palette_colours(data["palette"], "domain_config.palette") if "palette" in data else ()
        return cls(tuple((g["name"], tuple(g["labels"])) for g in groups), palette=palette)

    # --- training ---------------------------------------------------------------------

    @classmethod
    def prepare_training(cls, paths: list[Path], holdout: tuple[str, ...] = ()) -> tuple[ImagesDomain, Corpus]:
        """The palette is fitted to the training split only, so held-out colours stay unseen."""
        data = load_images(paths)
        corpus = cls(tuple(data.groups)).dataset(data, holdout)
        try:
            palette = fit_palette(corpus.train.x)
        except UserError as error:
            raise UserError(f"{', '.join(str(p) for p in paths)}: {error}") from None
        return cls(tuple(data.groups), palette=palette), corpus

    def corpus(self, paths: list[Path], holdout: tuple[str, ...] = ()) -> Corpus:
        """Fine-tuning keeps the parent's palette: new colours map to their nearest."""
        return self.dataset(load_images(paths), holdout)

    def heldout_corpus(self, paths: list[Path], card: dict) -> Corpus:
        recorded = card.get("data", {})
        return self.dataset(
            load_images(paths),
            tuple(recorded.get("holdout_named", ())),
            int(recorded.get("holdout_every", HOLDOUT_EVERY)),
        )

    def dataset(self, data: ImageSet, holdout: tuple[str, ...] = (), every: int = HOLDOUT_EVERY) -> Corpus:
        """Tensors and condition vectors of every item; whole keys go to the held-out split
        (the named ones, and one key in `every` by hash)."""
        vectors = self._vectors(data)
        missing = [h for h in holdout if h not in set(data.keys) | set(data.names)]
        if missing:
            raise UserError(f"held-out item {missing[0]!r} is not in the image data")
        held = np.array(
            [is_holdout(k, holdout, every) or n in holdout for k, n in zip(data.keys, data.names)], dtype=bool
        )
        if held.all():
            raise UserError("no images to train on: every item is held out")

        def split(mask: np.ndarray) -> Split:
            index = np.flatnonzero(mask)
            x = torch.from_numpy(data.pixels[index]).permute(0, 3, 1, 2).float().div_(255.0)  # (N, 4, 64, 64)
            return Split(x.contiguous(), torch.from_numpy(vectors[index]), [data.names[i] for i in index])

        train, heldout = split(~held), split(held)
        info = dict(data.description)
        counts = {}
        for g, (group, labels) in enumerate(data.groups):
            counts[group] = {
                label: {
                    "train": int(((data.labels[:, g] == i) & ~held).sum()),
                    "holdout": int(((data.labels[:, g] == i) & held).sum()),
                }
                for i, label in enumerate(labels)
            }
        info.update(
            groups={name: list(labels) for name, labels in self.groups},
            per_label=counts,
            item="64x64 RGBA, aspect kept, padded with transparency",
            holdout_rule=f"whole keys (an emoji's name, a file's path): sha256(key) mod {every} == 0, plus any named",
            holdout_every=every,
            holdout_named=list(holdout),
            train_items=len(train),
            holdout_items=len(heldout),
        )
        return Corpus(train, heldout, info)

    def _vectors(self, data: ImageSet) -> np.ndarray:
        """(N, K) condition vectors: the data's label names looked up in this domain's groups."""
        vectors = np.zeros((len(data), self.conditions.size), dtype=np.float32)
        columns = {name: g for g, (name, _) in enumerate(data.groups)}
        offset = 0
        for group, labels in self.groups:
            if group not in columns:
                sources = data.description.get("sources", [data.description])
                named = ", ".join(str(source.get("source", "?")) for source in sources)
                raise UserError(f"{named} has no {group!r} labels, which this model is conditioned on")
            theirs = data.groups[columns[group]][1]
            names = [theirs[i] for i in data.labels[:, columns[group]]]  # each item's label in this group
            unknown = sorted(set(names) - set(labels))
            if unknown:
                raise UserError(f"{group} {unknown[0]!r} in the data is not one this model knows: {', '.join(labels)}")
            vectors[np.arange(len(data)), [offset + labels.index(name) for name in names]] = 1.0
            offset += len(labels)
        return vectors
