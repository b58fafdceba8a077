"""Longer pieces: 4-bar clips of the music model chained into one piece of 4 to 64 bars.

A piece of N bars is n overlapping clips, each keeping its last 3 bars (the first clip keeps
all 4). Clip k+1 is decoded from a latent matched to the clip before it: a few candidates
around its own latent, then gradient steps on z through the decoder, maximising

    log p(first bar of clip k+1 = last bar of clip k | z) - ANCHOR * |z - z_k|^2

so that its first bar replays the bar it continues while z stays near the latent it was asked
for (its seed, or its point on a morph from A to B). That bar is then dropped, and the kept
bars are joined. Every clip shares one label set (style, mode, key, metre): a piece does not
change key or metre halfway. The tokens are in C (`MusicDomain`), moved to the key at the end.

Shapes: latents (n, D); tokens (T, VOICES) per clip, T = 4 bars of the metre.
"""

from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np
import torch

from generators.core import latent as latent_ops
from generators.core.errors import UserError

from .roll import METRES, Clip
from .voices import REST, window_from

MIN_BARS, MAX_BARS = 4, 64
CLIP_BARS, SEAM_BARS = 4, 1
CANDIDATES = 16  # latents tried around each clip's own before the gradient steps
SPREAD = 0.5  # their distance from it, in prior standard deviations
MATCH_STEPS = 20
MATCH_RATE = 0.05
ANCHOR = 0.05  # how strongly a matched latent stays near its own (per squared unit of z)


def check_bars(bars: int) -> int:
    if not MIN_BARS <= int(bars) <= MAX_BARS:
        raise UserError(f"a piece is {MIN_BARS} to {MAX_BARS} bars long, not {bars}")
    return int(bars)


def clip_count(bars: int) -> int:
    """Clips a piece of `bars` bars needs: the first gives 4 bars, each next one 3."""
    return 1 + -(-(bars - CLIP_BARS) // (CLIP_BARS - SEAM_BARS))


def clip_seed(seed: int, k: int) -> int:
    """The seed of clip k of the piece of `seed` (clip 0 is `sample`'s clip of that seed)."""
    if k == 0:
        return int(seed)
    return int.from_bytes(hashlib.sha256(f"{seed}:{k}".encode()).digest()[:7], "little")


def seed_latents(generator, seed: int, count: int, labels: list[str], temperature: float) -> np.ndarray:
    """(count, D): each clip's own latent, drawn as `sample` draws one, under the piece's labels."""
    return np.stack([generator.latent_for_seed(clip_seed(seed, k), temperature, labels) for k in range(count)])


def morph_latents(z_a: np.ndarray, z_b: np.ndarray, count: int, mode: str = "slerp") -> np.ndarray:
    """(count, D): clip k at t = k / (count - 1) between A and B."""
    if count == 1:
        return np.asarray(z_a, np.float32)[None]
    return latent_ops.interpolation_path(np.asarray(z_a, np.float32), np.asarray(z_b, np.float32), count, mode)


def replayed(tokens: np.ndarray, opening: np.ndarray) -> float:
    """The share of the opening's sounding tokens (not rests) that a clip's first steps repeat."""
    sounding = opening != REST
    return float((tokens[: len(opening)] == opening)[sounding].mean()) if sounding.any() else 1.0


class PieceMaker:
    """Chains the clips of one piece: one generator, one label set."""

    def __init__(self, generator, labels: list[str]):
        self.generator = generator
        self.domain = generator.domain
        self.labels = list(labels)
        self.bar = METRES[self.domain.piece_labels(labels)[0]][2]
        self.length = CLIP_BARS * self.bar
        self.c = torch.from_numpy(self.domain.conditions.encode(self.labels))[None]

    def decode(self, z: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        choose = self.domain.column_choice()
        return self.generator.model.decode(z, self.c.expand(len(z), -1), target=target, choose=choose)

    def tokens(self, z: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            output = self.decode(torch.as_tensor(np.asarray(z, np.float32))[None])
        return self.domain.decode_tokens(output)[0][: self.length]

    def opening_log_prob(self, z: torch.Tensor, opening: np.ndarray) -> torch.Tensor:
        """log p(the clip of each latent z (B, D) opens with `opening` (steps, V)): (B,)."""
        target = torch.from_numpy(opening).long()
        # Scored as the likelihood does (teacher forcing): a head over the voices of a step hears
        # the opening's own upper voices, not the ones it would choose. Later steps are rests;
        # steps are independent given z, so they change nothing here.
        whole = torch.full((self.domain.shape[1], target.shape[1]), REST, dtype=torch.long)
        whole[: len(target)] = target
        forced = torch.nn.functional.one_hot(whole, self.domain.shape[0]).permute(2, 0, 1)[None].float()
        output = self.decode(z, forced.expand(len(z), -1, -1, -1))
        log_p = torch.log_softmax(output[:, :, : len(opening)].float(), dim=1)  # (B, TOKENS, steps, V)
        return log_p.gather(1, target[None, None].expand(len(z), 1, -1, -1)).squeeze(1).sum(dim=(1, 2))

    def match(self, base: np.ndarray, opening: np.ndarray) -> np.ndarray:
        """A latent near `base` whose clip opens with the `opening` tokens (bar steps, V)."""
        origin = torch.as_tensor(np.asarray(base, np.float32))

        def score(z: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B,)
            return self.opening_log_prob(z, opening) - ANCHOR * (z - origin).pow(2).sum(1)

        rng = torch.Generator().manual_seed(int(np.abs(origin.numpy()).sum() * 1e6) % (2**31))
        with torch.inference_mode(False), torch.enable_grad():
            tries = torch.cat([origin[None], origin + SPREAD * torch.randn(CANDIDATES, len(origin), generator=rng)])
            with torch.no_grad():
                best = tries[int(score(tries).argmax())]
            z = best.clone().requires_grad_(True)
            optimiser = torch.optim.Adam([z], lr=MATCH_RATE)
            for _ in range(MATCH_STEPS):
                # The gradient of z alone: the shared model's weights gather none (another thread may decode).
                (z.grad,) = torch.autograd.grad(-score(z[None]).sum(), z)
                optimiser.step()
        return z.detach().numpy()

    def compose(self, bases: np.ndarray, bars: int, progress: Callable[[int, int], None] | None = None) -> Clip:
        """The piece of `bars` bars from each clip's own latent `bases` (n, D)."""
        latents = [np.asarray(bases[0], np.float32)]
        clips = [self.tokens(latents[0])]  # each clip's 4 bars
        self.seams = []  # per seam: `replayed` by the matched latent, and by the clip's own latent
        for k in range(1, len(bases)):
            if progress is not None:
                progress(k, len(bases))
            opening = window_from(clips[-1], self.length - SEAM_BARS * self.bar, SEAM_BARS * self.bar)
            latents.append(self.match(bases[k], opening))
            clips.append(self.tokens(latents[-1]))
            self.seams.append((replayed(clips[-1], opening), replayed(self.tokens(bases[k]), opening)))
        pieces = [clips[0]] + [clip[SEAM_BARS * self.bar :] for clip in clips[1:]]
        tokens = np.concatenate(pieces)[: bars * self.bar]
        self.latents = np.stack(latents)
        return self.domain.clip_from_tokens(tokens, self.labels)


def sample_piece(generator, seed: int, bars: int, condition=None, temperature: float = 1.0, progress=None) -> Clip:
    """The piece of `seed`: its first 4 bars are `sample`'s clip of that seed."""
    bars = check_bars(bars)
    labels = generator.labels_for_seed(seed, condition)
    maker = PieceMaker(generator, labels)
    return maker.compose(seed_latents(generator, seed, clip_count(bars), labels, temperature), bars, progress)


def morph_piece(generator, z_a, z_b, labels: list[str], bars: int, mode: str = "slerp", progress=None) -> Clip:
    """A piece that moves from latent A to latent B across its length."""
    bars = check_bars(bars)
    maker = PieceMaker(generator, labels)
    return maker.compose(morph_latents(z_a, z_b, clip_count(bars), mode), bars, progress)
