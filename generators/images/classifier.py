"""A small CNN that names an image's labels, one head per exclusive condition group (e.g.
emoji category and art style). `eval images` uses it to check that samples show the labels
they were conditioned on; it is trained on real training images only, and its own held-out
accuracy travels in its card so the sample accuracy can be read against it.

Saved beside a model as `NAME-classifier.safetensors` + `.json` in the checkpoint format.
Shapes: x (B, 4, 64, 64) RGBA in [0, 1]; targets (B,) label indices per group.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from generators.core.checkpoint import checkpoint_paths, load_checkpoint, save_checkpoint
from generators.core.conditions import ConditionSpace
from generators.core.domain import Split
from generators.core.errors import CheckpointError

KIND = "image-classifier"


@dataclass(frozen=True)
class ClassifierConfig:
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (group name, its labels), exclusive groups only
    input_channels: int = 4
    channels: tuple[int, ...] = (32, 64, 128, 128)  # one stride-2 conv each: 64 -> 4 pixels

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ClassifierConfig:
        groups = tuple((str(name), tuple(labels)) for name, labels in data["groups"])
        return cls(groups, int(data["input_channels"]), tuple(data["channels"]))

    @classmethod
    def for_space(cls, space: ConditionSpace, input_channels: int = 4) -> ClassifierConfig:
        """One head per exclusive group of a condition space (multi-label groups are skipped)."""
        return cls(tuple((g.name, g.labels) for g in space.groups if g.exclusive), input_channels)


class ImageClassifier(nn.Module):
    """Stride-2 convs, global average pool, a linear head per group."""

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        widths = (config.input_channels, *config.channels)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 4, stride=2, padding=1) for a, b in zip(widths, widths[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) for b in config.channels)
        self.heads = nn.ModuleList(nn.Linear(config.channels[-1], len(labels)) for _, labels in config.groups)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Logits per group, each (B, labels in that group)."""
        h = x
        for conv, norm in zip(self.convs, self.norms):
            h = F.silu(norm(conv(h)))
        h = h.mean(dim=(2, 3))  # (B, channels[-1])
        return [head(h) for head in self.heads]

    @torch.inference_mode()
    def predict(self, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """Most likely label index per group, (N, groups)."""
        self.eval()
        device = next(self.parameters()).device
        parts = [
            torch.stack([logits.argmax(1) for logits in self(x[i : i + batch].to(device))], dim=1).cpu()
            for i in range(0, len(x), batch)
        ]
        return torch.cat(parts) if parts else torch.zeros((0, len(self.config.groups)), dtype=torch.long)


def group_targets(space: ConditionSpace, c: torch.Tensor, config: ClassifierConfig) -> torch.Tensor:
    """Label index per classifier group from multi-hot condition vectors (N, K): (N, groups)."""
    offsets, offset = {}, 0
    for group in space.groups:
        offsets[group.name] = (offset, len(group.labels))
        offset += len(group.labels)
    columns = []
    for name, _ in config.groups:
        start, size = offsets[name]
        columns.append(c[:, start : start + size].argmax(dim=1))
    return torch.stack(columns, dim=1)


def accuracy(model: ImageClassifier, x: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Share of items whose predicted label matches, per group name."""
    if len(x) == 0:
        return {}
    hits = (model.predict(x) == targets).float().mean(dim=0)
    return {name: float(hit) for (name, _), hit in zip(model.config.groups, hits)}


def train_classifier(
    train: Split,
    space: ConditionSpace,
    epochs: int = 12,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    seed: int = 0,
    log: Callable[[str], None] = lambda line: None,
    device: str = "cpu",
    max_shift: int = 2,
    weight_decay: float = 1e-4,
) -> ImageClassifier:
    """Fit on real images with random horizontal flips and shifts of up to `max_shift`
    pixels (the same emoji drawn a little off centre is the same emoji). Measured on the
    emoji split, 30 epochs: held-out category accuracy 65.4% with no shift (the CNN learns
    the training icons by heart: 99.9% train), 68.8% with 2 pixels, 62.0% with 6 (20
    epochs). A deeper net (an extra 3×3 conv per stage, widths to 256, 1.48 M parameters)
    reached 68.3%, 72.4% with label smoothing 0.1 and 69.7% with smoothing over 40 epochs:
    all within the ±2.3% sampling error of 416 held-out images, so the small net stays.
    Seeded, so a rerun repeats it."""
    torch.manual_seed(seed)
    config = ClassifierConfig.for_space(space, train.x.shape[1])
    model = ImageClassifier(config).to(device)
    targets = group_targets(space, train.c, config).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    steps = max(1, -(-len(train) // batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, learning_rate, total_steps=epochs * steps)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        started, total = time.perf_counter(), 0.0
        order = torch.randperm(len(train), generator=generator)
        for start in range(0, len(train), batch_size):
            index = order[start : start + batch_size]
            x = train.x[index].to(device)
            flip = (torch.rand(len(index), generator=generator) < 0.5).to(device)
            x = shifted(torch.where(flip[:, None, None, None], x.flip(3), x), max_shift, generator)
            loss = sum(F.cross_entropy(logits, targets[index.to(device), g]) for g, logits in enumerate(model(x)))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(index)
        log(
            f"classifier epoch {epoch + 1}/{epochs}: loss {total / len(train):.4f} "
            f"({time.perf_counter() - started:.1f}s)"
        )
    return model.eval().cpu()


def shifted(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image of (B, C, H, W) moved by its own random offset of up to `max_shift`
    pixels per axis; what moves in from outside is transparent black."""
    if max_shift <= 0:
        return x
    b, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    offsets = torch.randint(0, 2 * max_shift + 1, (b, 2), generator=generator)
    return torch.stack([padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets.tolist())])


def classifier_path(checkpoint: str | Path) -> Path:
    """Where the classifier of a model checkpoint lives: NAME-classifier beside NAME."""
    weights, _ = checkpoint_paths(checkpoint)
    return weights.with_name(weights.name.removesuffix(".safetensors") + "-classifier.safetensors")


def save_classifier(path: str | Path, model: ImageClassifier, card: dict) -> tuple[Path, Path]:
    card = dict(card, kind=KIND, classifier=model.config.to_dict())
    return save_checkpoint(path, {f"classifier.{k}": v for k, v in model.state_dict().items()}, card)


def load_classifier(path: str | Path) -> tuple[ImageClassifier, dict]:
    """A saved classifier and its card. Raises CheckpointError for anything else."""
    ckpt = load_checkpoint(path)
    if ckpt.card.get("kind") != KIND:
        raise CheckpointError(f"{path} is not an image classifier")
    try:
        model = ImageClassifier(ClassifierConfig.from_dict(ckpt.card["classifier"]))
        model.load_state_dict(ckpt.group("classifier"), strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"classifier {path} does not match its card: {str(exc).splitlines()[0]}") from None
    return model.eval(), ckpt.card
