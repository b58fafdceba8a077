"""The one checkpoint format: `NAME.safetensors` (tensors) beside `NAME.json` (the card).

The card is plain JSON: the domain and its configuration (e.g. the tile vocabulary), the
model config, the condition names, where the data came from, the exact training command,
the measured metrics, a format version and the SHA-256 of the weights file. Loading
parses JSON and safetensors only, so a checkpoint is data and never code: nothing is
unpickled, and a pickle-based `.pt`/`.ckpt` file is refused before it is opened.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from .errors import AssetError, CheckpointError
from .fileio import read_user_bytes, write_pair_atomic, write_text_atomic

# The models that ship with the app, each NAME.safetensors beside NAME.json.
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "checkpoints"

FORMAT = "latent-forge-checkpoint"
FORMAT_VERSION = 1
MAX_CARD_BYTES = 64 << 20  # a card is a few kB; anything this big is not one
MAX_WEIGHTS_BYTES = 1 << 30  # the shipped models are under 10 MB; the card check caps sizes far below this
PICKLE_SUFFIXES = {".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin", ".tar"}


def companion_card(out: str | Path, argv: list[str], description: dict, model: torch.nn.Module, training: dict) -> dict:
    """The card fields a companion model (an image classifier, a denoiser) shares: its name, the
    command that rebuilt it (`argv` as run), the split of the data it saw, how it trained and its
    parameter count. The caller adds what it measured."""
    import shlex

    return {
        "name": Path(out).name,
        "command": "python " + shlex.join(argv),
        "data": {k: description[k] for k in ("holdout_rule", "train_items", "holdout_items") if k in description},
        "training": training,
        "parameters": sum(p.numel() for p in model.parameters()),
    }


@dataclass
class Checkpoint:
    card: dict
    tensors: dict[str, torch.Tensor]
    weights_path: Path
    card_path: Path

    def group(self, prefix: str) -> dict[str, torch.Tensor]:
        """Tensors under `prefix.`, with the prefix stripped (e.g. the model's state dict)."""
        cut = len(prefix) + 1
        return {key[cut:]: value for key, value in self.tensors.items() if key.startswith(prefix + ".")}


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """(weights, card) for a path given as NAME, NAME.safetensors or NAME.json."""
    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise CheckpointError(
            f"{path} looks like a pickled PyTorch file; Latent Forge never unpickles files "
            "(unpickling can run code). Use a .safetensors checkpoint with its .json card"
        )
    stem = path.with_suffix("") if path.suffix.lower() in (".safetensors", ".json") else path
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], card: dict) -> tuple[Path, Path]:
    """Write weights and card, each atomically, renamed together. The card gets the format fields
    and the weights' hash, so a weights file swapped or cut short under its card is detected."""
    weights_path, card_path = checkpoint_paths(path)
    contiguous = {key: value.detach().contiguous().cpu() for key, value in tensors.items()}
    blob = save_safetensors_bytes(contiguous, metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION)})
    card = dict(card)
    card.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        weights_file=weights_path.name,
        weights_sha256=sha256_of(blob),
    )
    card.setdefault("created", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    # The card's rename comes right after the weights' (both written in full first): a run killed
    # while saving leaves the old pair or the new pair, bar the instant between two renames.
    write_pair_atomic(
        weights_path, blob, card_path, (json.dumps(card, indent=2, sort_keys=False) + "\n").encode("utf-8")
    )
    return weights_path, card_path


def write_card(card_path: str | Path, card: dict) -> None:
    """Rewrite a card (e.g. to add metrics) without touching the weights."""
    write_text_atomic(card_path, json.dumps(card, indent=2, sort_keys=False) + "\n")


def read_checkpoint_file(path: Path, kind: str, max_bytes: int) -> bytes:
    """The bytes of a card or weights file: a regular file of at most `max_bytes` (a named pipe
    would hang, a link to /dev/zero would never end), else a CheckpointError in one line."""
    try:
        return read_user_bytes(path, kind, max_bytes)
    except AssetError as error:
        raise CheckpointError(str(error)) from None


def read_card(card_path: Path) -> dict:
    """Parse and validate a card. Raises CheckpointError for foreign or newer files."""
    if not card_path.exists() and not card_path.is_symlink():
        raise CheckpointError(
            f"checkpoint card {card_path} is missing (a checkpoint is NAME.safetensors plus NAME.json)"
        )
    text = read_checkpoint_file(card_path, "checkpoint card", MAX_CARD_BYTES)
    try:
        card = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: bad JSON, or a number of 5,000 digits
        raise CheckpointError(f"checkpoint card {card_path} is corrupt: not valid JSON") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise CheckpointError(f"{card_path} is not a Latent Forge checkpoint card")
    version = card.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"checkpoint card {card_path} has no valid format_version")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{card_path} was made by a newer Latent Forge (checkpoint format {version}); "
            f"this version reads format {FORMAT_VERSION} and older: please update Latent Forge"
        )
    return card


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and verify a checkpoint. Never unpickles; raises CheckpointError on any problem."""
    weights_path, card_path = checkpoint_paths(path)
    if not weights_path.exists() and not card_path.exists():
        raise CheckpointError(f"no checkpoint at {path} (expected {weights_path.name} and {card_path.name})")
    card = read_card(card_path)
    if not weights_path.exists() and not weights_path.is_symlink():
        raise CheckpointError(f"checkpoint weights {weights_path} are missing")
    blob = read_checkpoint_file(weights_path, "checkpoint weights file", MAX_WEIGHTS_BYTES)
    if card.get("weights_sha256") != sha256_of(blob):
        raise CheckpointError(
            f"checkpoint weights {weights_path} are corrupt: they do not match the hash in their card"
        )
    try:
        tensors = load_safetensors_bytes(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint weights {weights_path} are not valid safetensors: {exc}") from None
    return Checkpoint(card=card, tensors=tensors, weights_path=weights_path, card_path=card_path)
