"""The JSB Chorales benchmark (Boulanger-Lewandowski et al. 2012, quarter-note frames):
train the music architecture on the train split, report the test NLL per frame.

    python -m generators.music.jsb --data ../shared/data/jsb/jsb-chorales-quarter.json \
        [--epochs 80] [--k 500] [--latent 64] [--beta 1] [--json FILE]

Representation and protocol, so the figure can be compared honestly:
- A frame is one quarter note: 88 binary keys (MIDI 21..108). The benchmark does not mark
  onsets (held and repeated notes look the same), so the model has ONE plane, not two:
  input (1, 16, 88), windows of 16 frames (4 bars of 4/4). Same ConditionalVAE class, layout,
  channels and latent size as the shipped music model; no conditions.
- Training: every 16-frame window of every train piece (stride 1), random transposition
  as in the music domain; the valid split picks the best epoch.
- Test: each test piece is cut into consecutive, non-overlapping 16-frame windows from its
  first frame; the last window is padded with empty frames, and the padded frames are left
  out of the likelihood (exact: the decoder's cells are independent given z, so they sum
  out). Every window is scored on its own, with no context from the previous one.
- NLL per frame = -(sum over windows of the IWAE bound with k samples) / (real frames).
  An IWAE bound is an upper bound on the model's NLL, so the true figure is at most this.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from generators.core.domain import Split
from generators.core.errors import UserError
from generators.core.train import TrainConfig, Trainer
from generators.core.vae import ConditionalVAE, VAEConfig, iwae_bound

from .domain import MusicDomain
from .roll import KEYS, LOWEST

FRAMES = 16  # quarter-note frames per window: 4 bars of 4/4


def load_jsb(path: Path) -> dict[str, list[np.ndarray]]:
    """{"train"|"valid"|"test": [(T, 88) bool per piece]} from the benchmark's JSON."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        splits = {name: data[name] for name in ("train", "valid", "test")}
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{path} is not the JSB Chorales JSON ({str(exc).splitlines()[0]})") from None
    out = {}
    for name, pieces in splits.items():
        rolls = []
        for piece in pieces:
            roll = np.zeros((len(piece), KEYS), dtype=bool)
            for t, frame in enumerate(piece):
                roll[t, [int(p) - LOWEST for p in frame]] = True
            rolls.append(roll)
        out[name] = rolls
    return out


def training_windows(rolls: list[np.ndarray], stride: int = 1) -> torch.Tensor:
    """(N, 1, FRAMES, 88) every full window of every piece."""
    windows = [r[s : s + FRAMES] for r in rolls for s in range(0, len(r) - FRAMES + 1, stride)]
    return torch.from_numpy(np.stack(windows)[:, None].astype(np.float32))


def scoring_windows(rolls: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping windows from frame 0, last one zero-padded: (N, 1, FRAMES, 88) and
    the (N, FRAMES) mask of real frames."""
    xs, masks = [], []
    for roll in rolls:
        for start in range(0, len(roll), FRAMES):
            part = roll[start : start + FRAMES]
            x = np.zeros((FRAMES, KEYS), dtype=np.float32)
            x[: len(part)] = part
            mask = np.zeros(FRAMES, dtype=np.float32)
            mask[: len(part)] = 1
            xs.append(x)
            masks.append(mask)
    return torch.from_numpy(np.stack(xs)[:, None]), torch.from_numpy(np.stack(masks))


@torch.inference_mode()
def masked_iwae(
    model: ConditionalVAE, x: torch.Tensor, mask: torch.Tensor, k: int, chunk: int = 100, seed: int = 0
) -> torch.Tensor:
    """IWAE bound (B,) on log p(real frames of x), padded frames summed out: the core's bound
    with a Bernoulli likelihood over the frames `mask` (B, T) keeps."""

    def log_prob(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        nll = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")  # (nB, 1, T, K)
        return -(nll.sum(dim=(1, 3)) * mask.repeat(len(target) // len(mask), 1)).sum(1)

    return iwae_bound(model, x, torch.zeros(len(x), 0), k, chunk=chunk, seed=seed, log_prob=log_prob)


def run(args) -> dict:
    splits = load_jsb(args.data)
    train = training_windows(splits["train"])
    valid = training_windows(splits["valid"], stride=FRAMES)
    domain = MusicDomain()
    torch.manual_seed(args.seed)
    config = VAEConfig(
        (1, FRAMES, KEYS), 0, args.latent, domain.model_channels, "bernoulli", layout=domain.model_layout
    )
    model = ConditionalVAE(config)
    train_config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        beta=args.beta,
        warmup_epochs=args.warmup,
        free_bits=args.free_bits,
        patience=args.epochs,
        seed=args.seed,
    )
    empty = lambda n: torch.zeros(n, 0)  # noqa: E731 - no conditions
    started = time.perf_counter()
    result = Trainer(model, train_config, augment=domain.augment).fit(
        Split(train, empty(len(train))), Split(valid, empty(len(valid)))
    )
    seconds = time.perf_counter() - started
    x, mask = scoring_windows(splits["test"])
    bounds = torch.cat(
        [masked_iwae(model, x[i : i + 64], mask[i : i + 64], args.k, seed=i) for i in range(0, len(x), 64)]
    )
    frames = int(mask.sum())
    report = {
        "test_nll_nats_per_frame_iwae": float(-bounds.sum() / frames),
        "iwae_k": args.k,
        "test_pieces": len(splits["test"]),
        "test_windows": len(x),
        "test_frames": frames,
        "train_windows": len(train),
        "epochs": args.epochs,
        "best_epoch": result.best_epoch,
        "train_seconds": round(seconds, 1),
        "latent": args.latent,
        "beta": args.beta,
        "batch_size": args.batch_size,
        "channels": list(config.channels),
        "layout": config.layout,
        "parameters": sum(p.numel() for p in model.parameters()),
        "protocol": "1 plane (active), 16 quarter-frame windows; test pieces cut from frame 0 into "
        "non-overlapping windows, last padded and padded frames summed out; windows scored independently",
        "references": {"RNN": 8.71, "Deep Markov Model": 6.93, "STORN": 6.91},
    }
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="JSB Chorales test NLL per frame (IWAE) for the music architecture.")
    parser.add_argument("--data", type=Path, required=True, help="jsb-chorales-quarter.json")
    parser.add_argument("--epochs", type=int, default=80, help="the validation split picks the best epoch")
    parser.add_argument("--latent", type=int, default=64, help="the shipped music model's latent size")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--free-bits", type=float, default=0.0)
    parser.add_argument("--beta", type=float, default=1.0, help="KL weight in training (the bound is always beta 1)")
    parser.add_argument("--batch-size", type=int, default=16, help="small batches: more updates per CPU second")
    parser.add_argument("--k", type=int, default=500, help="importance samples per test window")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    return parser


def benchmark(data: Path, latent: int, k: int) -> dict:
    """The benchmark with its default training settings, for `eval music --jsb FILE`."""
    return run(build_parser().parse_args(["--data", str(data), "--latent", str(latent), "--k", str(k)]))


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = run(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for key, value in report.items():
        print(f"{key:32s} {value}")
    if args.json:
        from generators.core.fileio import write_text_atomic

        write_text_atomic(args.json, json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
