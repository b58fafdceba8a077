"""The JSB Chorales benchmark (Boulanger-Lewandowski et al. 2012, quarter-note frames):
train the music architecture on the train split, report the test NLL per frame.

    python -m generators.music.jsb --data ../shared/data/jsb/jsb-chorales-quarter.json \
        [--epochs 40] [--k 500] [--latent 128] [--beta 1] [--json FILE]

Representation and protocol, so the figure can be compared honestly:
- A frame is one quarter note: a set of MIDI pitches (JSB: 0 to 4 of them, 43..96). The model
  reads it as the music domain does, four voice tokens (`voices`), but the benchmark marks no
  onsets, so there is no HOLD: a sounding voice is its pitch's token, a silent one REST. Input
  (TOKENS, 16, 4), windows of 16 frames (4 bars of 4/4). Same ConditionalVAE class, layout,
  channels, latent size and head over the voices of a frame (`autoregressive`) as the shipped
  music model; no conditions.
- A frame's set maps to exactly one voice assignment (pitch order, `voice_order`), so
  p(frame set) >= p(its tokens): the token NLL bounds the frame NLL the literature reports
  from above, and the model's mass on any other assignment is simply lost to it.
- Training: every 16-frame window of every train piece (stride 1), each randomly transposed
  by up to 6 semitones where its pitches stay in range; the valid split picks the best epoch.
- Test: each test piece is cut into consecutive, non-overlapping 16-frame windows from its
  first frame; the last window is padded with rests, and the padded frames are left out of
  the likelihood (exact: given z the frames are independent, the voices of one frame depending
  only on each other, so a padded frame's terms sum out).
  Every window is scored on its own, with no context from the previous one.
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
from generators.core.fileio import read_user_bytes
from generators.core.train import TrainConfig, Trainer
from generators.core.vae import ConditionalVAE, VAEConfig, iwae_bound

from .domain import MusicDomain
from .roll import KEYS, LOWEST
from .voices import HIGHEST_PITCH, LOWEST_PITCH, ONSET, PITCHES, REST, TOKENS, VOICES, one_hot, voice_order

FRAMES = 16  # quarter-note frames per window: 4 bars of 4/4
MAX_JSB_FRAMES = 10_000  # frames in one chorale (the longest has a few hundred)


def load_jsb(path: Path) -> dict[str, list[np.ndarray]]:
    """{"train"|"valid"|"test": [(T, 88) bool per piece]} from the benchmark's JSON."""
    text = read_user_bytes(path, "JSB Chorales JSON", 64 << 20)  # the benchmark's file is about 1 MB
    try:
        data = json.loads(text.decode("utf-8"))
        splits = {name: data[name] for name in ("train", "valid", "test")}
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise UserError(f"{path} is not the JSB Chorales JSON ({reason})") from None
    out = {}
    for name, pieces in splits.items():
        rolls = []
        for piece in pieces if isinstance(pieces, list) else [None]:
            if not isinstance(piece, list) or len(piece) > MAX_JSB_FRAMES:
                raise UserError(f"{path}: each {name} piece must be a list of at most {MAX_JSB_FRAMES:,} frames")
            roll = np.zeros((len(piece), KEYS), dtype=bool)
            for t, frame in enumerate(piece):
                # The benchmark's files hold whole numbers, some written as floats (67.0).
                whole = isinstance(frame, list) and all(
                    isinstance(p, int) or (isinstance(p, float) and p.is_integer()) for p in frame
                )
                keys = [int(p) - LOWEST for p in frame] if whole else [-1]
                if not all(0 <= k < KEYS for k in keys):
                    raise UserError(
                        f"{path}: {name} frame {t} is not a list of piano keys (MIDI {LOWEST}-{LOWEST + KEYS - 1})"
                    )
                roll[t, keys] = True
            rolls.append(roll)
        out[name] = rolls
    return out


def frame_tokens(roll: np.ndarray) -> np.ndarray:
    """(T, 88) frames -> (T, VOICES) tokens: each frame's pitches in voice order, no holds."""
    tokens = np.full((len(roll), VOICES), REST, dtype=np.int64)
    for t, frame in enumerate(roll):
        pitches = sorted((np.flatnonzero(frame) + LOWEST).tolist(), reverse=True)
        if len(pitches) > VOICES:
            raise UserError(f"a JSB frame has {len(pitches)} notes; the model has {VOICES} voices")
        if any(not LOWEST_PITCH <= p <= HIGHEST_PITCH for p in pitches):
            raise UserError(f"a JSB pitch lies outside {LOWEST_PITCH}..{HIGHEST_PITCH}")
        for pitch, voice in zip(pitches, voice_order(len(pitches))):
            tokens[t, voice] = ONSET + pitch - LOWEST_PITCH
    return tokens


def training_windows(rolls: list[np.ndarray], stride: int = 1) -> torch.Tensor:
    """(N, TOKENS, FRAMES, VOICES) one-hot: every full window of every piece."""
    tokens = [frame_tokens(r) for r in rolls]
    windows = [t[s : s + FRAMES] for t in tokens for s in range(0, len(t) - FRAMES + 1, stride)]
    return torch.from_numpy(one_hot(np.stack(windows)))


def scoring_windows(rolls: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping windows from frame 0, the last one padded with rests:
    (N, TOKENS, FRAMES, VOICES) one-hot and the (N, FRAMES) mask of real frames."""
    xs, masks = [], []
    for roll in rolls:
        tokens = frame_tokens(roll)
        for start in range(0, len(tokens), FRAMES):
            part = tokens[start : start + FRAMES]
            window = np.full((FRAMES, VOICES), REST, dtype=np.int64)
            window[: len(part)] = part
            mask = np.zeros(FRAMES, dtype=np.float32)
            mask[: len(part)] = 1
            xs.append(window)
            masks.append(mask)
    return torch.from_numpy(one_hot(np.stack(xs))), torch.from_numpy(np.stack(masks))


def transpose_windows(
    x: torch.Tensor, c: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The Trainer's augmentation: each one-hot window (B, TOKENS, T, V) moved by a random
    -6..5 semitones, as far as its pitches stay in LOWEST_PITCH..HIGHEST_PITCH."""
    tokens = x.argmax(dim=1)  # (B, T, V)
    pitched = tokens >= ONSET
    pitch = torch.where(pitched, tokens - ONSET, 0)
    low = torch.where(pitched, pitch, PITCHES).flatten(1).amin(1)
    high = torch.where(pitched, pitch, -1).flatten(1).amax(1)
    lo = torch.clamp(-low, min=-6, max=0)
    hi = torch.clamp(PITCHES - 1 - high, min=0, max=5)
    u = torch.rand(len(x), generator=generator)
    shift = torch.where(high >= 0, lo + (u * (hi - lo + 1)).long().clamp(max=hi - lo), 0)
    moved = torch.where(pitched, tokens + shift[:, None, None], tokens)
    return torch.nn.functional.one_hot(moved, x.shape[1]).permute(0, 3, 1, 2).to(x.dtype), c


@torch.inference_mode()
def masked_iwae(
    model: ConditionalVAE, x: torch.Tensor, mask: torch.Tensor, k: int, chunk: int = 100, seed: int = 0
) -> torch.Tensor:
    """IWAE bound (B,) on log p(real frames of x), padded frames summed out: the core's bound
    with a categorical likelihood over the frames `mask` (B, T) keeps."""

    def log_prob(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        per_frame = (target * torch.log_softmax(logits, dim=1)).sum(dim=(1, 3))  # (nB, T)
        return (per_frame * mask.repeat(len(target) // len(mask), 1)).sum(1)

    return iwae_bound(model, x, torch.zeros(len(x), 0), k, chunk=chunk, seed=seed, log_prob=log_prob)


def run(args) -> dict:
    splits = load_jsb(args.data)
    train = training_windows(splits["train"])
    valid = training_windows(splits["valid"], stride=FRAMES)
    domain = MusicDomain()
    torch.manual_seed(args.seed)
    config = VAEConfig(
        (TOKENS, FRAMES, VOICES),
        0,
        args.latent,
        domain.model_channels,
        domain.likelihood,
        layout=domain.model_layout,
        autoregressive=args.autoregressive,
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
    result = Trainer(model, train_config, augment=transpose_windows).fit(
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
        "autoregressive": config.autoregressive,
        "parameters": sum(p.numel() for p in model.parameters()),
        "protocol": "4 voice tokens per frame (pitch order, no holds), 16 quarter-frame windows; test "
        "pieces cut from frame 0 into non-overlapping windows, last padded and padded frames summed out; "
        "windows scored independently",
        # Published test NLLs per frame, as issue 15 lists them (latent-variable models first).
        "references": {"TSBN": 7.48, "STORN": 6.91, "DMM": 6.39, "RNN-NADE": 5.19, "SRNN": 4.74},
    }
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="JSB Chorales test NLL per frame (IWAE) for the music architecture.")
    parser.add_argument("--data", type=Path, required=True, help="jsb-chorales-quarter.json")
    parser.add_argument("--epochs", type=int, default=40, help="the validation split picks the best epoch")
    parser.add_argument(
        "--latent",
        type=int,
        default=MusicDomain.training_defaults["latent_size"],
        help="latent size (the music model's by default)",
    )
    parser.add_argument(
        "--autoregressive",
        type=int,
        default=MusicDomain.model_autoregressive,
        help="width of the head over the voices of a frame (the music model's by default); 0: independent voices",
    )
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--free-bits", type=float, default=0.0)
    parser.add_argument("--beta", type=float, default=1.0, help="KL weight in training (the bound is always beta 1)")
    parser.add_argument("--batch-size", type=int, default=16, help="small batches: more updates per CPU second")
    parser.add_argument("--k", type=int, default=500, help="importance samples per test window")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    return parser


def benchmark(data: Path, config: VAEConfig, k: int) -> dict:
    """The benchmark with its default training settings, for `eval music --jsb FILE`: the
    architecture of the model being evaluated (`config`), trained afresh on the JSB splits."""
    flags = ["--data", str(data), "--latent", str(config.latent_size), "--k", str(k)]
    return run(build_parser().parse_args([*flags, "--autoregressive", str(config.autoregressive)]))


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
