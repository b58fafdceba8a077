"""The music domain: 4-bar piano-roll clips, MIDI in and out, WAV and PNG export.

Tensor of one clip: (2, 64, 88) float, planes (note active, note onset) × 64 sixteenth
steps (4 bars of 4/4) × 88 keys (A0..C8), scored by the `pianoroll` likelihood (Bernoulli
per cell, onsets only where a held key could be struck again).
Conditions: style (one of the data's styles: chorale, folk, fiddle by default) and mode
(major or minor, by a Krumhansl-Schmuckler estimate). Files: `.mid`, `.wav`, `.png`.
Conversions live in `roll` (notes <-> rolls), `midi`, `audio` and
`data` (training windows); this module ties them to the Domain seam.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from generators.core.conditions import ConditionGroup, ConditionSpace, normalise_label
from generators.core.domain import Corpus, Domain, Split
from generators.core.errors import AssetError, UserError
from generators.core.fileio import write_bytes_atomic, write_png_atomic

from .data import HOLDOUT_EVERY, Piece, is_holdout, load_pieces, piece_windows, window_modes
from .options import DECODING_OPTIONS
from .roll import KEYS, LOWEST, STEPS, Clip, consistent, estimate_key, key_profiles, roll_to_notes

MODES = ("major", "minor")
KEY_SOFTNESS = 0.05  # softmax temperature over key correlations in the mode critic (see condition_critic)
DEFAULT_STYLES = ("chorale", "folk", "fiddle")
# How a generated clip of each style sounds when exported: (tempo in BPM, GM program).
STYLE_SOUND = {"chorale": (80.0, 19), "folk": (100.0, 73), "fiddle": (116.0, 40)}  # organ, flute, fiddle
TRANSPOSE = (-6, 5)  # semitones of random transposition in training, kept inside A0..C8


COUNT_FLOOR = 0.1  # "count" decoding never plays a key the model gives less than this


def expected_count_notes(probs: np.ndarray) -> np.ndarray:
    """(..., T, K) key probabilities -> (..., T, K) bool: at each step the round(sum of p)
    likeliest keys (ties broken by key order), leaving out keys below COUNT_FLOOR, so that
    88 small probabilities adding up to one do not become a note of their own."""
    counts = np.rint(probs.sum(-1)).astype(np.int64)
    ranks = np.argsort(np.argsort(-probs, axis=-1, kind="stable"), axis=-1, kind="stable")
    return (ranks < counts[..., None]) & (probs >= COUNT_FLOOR)


class MusicDomain(Domain):
    """Piano-roll clips conditioned on style and mode."""

    name = "music"
    item_noun = ("clip", "clips")
    likelihood = "pianoroll"  # Bernoulli cells; onsets scored only where a held key could restrike
    write_formats = ("mid", "wav", "png")
    # Convolutions run along time with the 2 × 88 key cells as channels (VAEConfig layout
    # "sequence"): 64 steps -> 32 -> 16, so the bottleneck is one vector per beat. A 2-D conv
    # over (time, key) at full resolution trained at about 50 windows/s on this CPU and
    # collapsed onto the note-frequency baseline; this layout trains several times faster
    # and every filter hears every key at once, which is what chords need.
    model_channels = (128, 256, 256)
    model_layout = "sequence"
    read_formats = ("mid", "midi", "kar")
    plays_audio = True
    decoding_options = DECODING_OPTIONS

    def __init__(self, styles: tuple[str, ...] = DEFAULT_STYLES, stride: int = 16):
        self.styles = tuple(styles)
        self.stride = stride
        self.synth = "auto"  # .wav: "auto" (FluidSynth if installed), "fluidsynth" or "builtin"
        self._conditions = ConditionSpace(
            (ConditionGroup("style", self.styles, exclusive=True), ConditionGroup("mode", MODES, exclusive=True))
        )

    # --- the Domain seam -------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int, int]:
        return (2, STEPS, KEYS)

    @property
    def conditions(self) -> ConditionSpace:
        return self._conditions

    def to_tensor(self, clip: Clip) -> torch.Tensor:
        """A clip (its first 4 bars, padded with silence) -> (2, 64, 88)."""
        active = np.zeros((STEPS, KEYS), dtype=bool)
        onset = np.zeros((STEPS, KEYS), dtype=bool)
        n = min(clip.steps, STEPS)
        active[:n], onset[:n] = clip.active[:n], clip.onset[:n]
        return torch.from_numpy(np.stack([active, consistent(active, onset)]).astype(np.float32))

    def from_output(
        self,
        output: torch.Tensor,
        output_temperature: float = 0.0,
        rng: torch.Generator | None = None,
        condition: list[str] | None = None,
    ) -> list[Clip]:
        """Logits (B, 2, 64, 88) -> clips, by the domain's `sampling`:
        - "count" (default): at each step, as many notes as the model expects there (the sum
          of the step's probabilities, rounded), the likeliest keys. A factorised decoder
          spreads a chord's probability over alternatives, so keeping only cells above 0.5
          thins chorales out; the count keeps the step's expected polyphony.
        - "threshold": every cell whose probability is above 0.5 (the factorised mode).
        - "bernoulli": each cell drawn from Bernoulli(sigmoid(logits / note_temperature)).
        A output_temperature above 0 passed here always draws (with `rng`). Without an rng the draw
        is seeded from the logits themselves, so the same latent always gives the same notes.
        Onsets count only where a key is active, and a key that starts sounding has one."""
        output = output.float()
        if output_temperature == 0 and self.decoding["sampling"] == "bernoulli":
            output_temperature = self.decoding["note_temperature"]
            if rng is None:
                digest = hashlib.sha256(output.numpy().tobytes()).digest()
                rng = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
        if output_temperature > 0:
            probs = torch.sigmoid(output / output_temperature)
            cells = torch.bernoulli(probs, generator=rng).numpy() > 0.5
        else:
            cells = output.numpy() > 0.0  # sigmoid(logit) > 0.5
            if self.decoding["sampling"] == "count":
                cells[:, 0] = expected_count_notes(torch.sigmoid(output[:, 0]).numpy())
        tempo, program = STYLE_SOUND.get(self._style_of(condition), (100.0, 0))
        clips = []
        for active, onset in cells[:, :2]:
            clips.append(Clip(active, consistent(active, onset), tempo, program, 80))
        return clips

    def from_tensor(self, x: torch.Tensor) -> list[Clip]:
        """Exact inverse of `to_tensor`, whatever the decoding settings."""
        tempo, program = STYLE_SOUND.get(None, (100.0, 0))
        return [Clip(active, consistent(active, onset), tempo, program, 80) for active, onset in x.numpy()[:, :2] > 0.5]

    def _style_of(self, condition: list[str] | None) -> str | None:
        labels = {normalise_label(c) for c in condition or ()}
        return next((s for s in self.styles if s in labels), None)

    def render(self, clip: Clip) -> np.ndarray:
        """(352, 512, 3) uint8 piano roll: time left to right (8 px a step), pitch bottom to
        top (4 px a key); bar lines, beat lines, C rows, and a dark head at each onset."""
        from .art import piano_roll_picture

        return piano_roll_picture(clip)

    def read(self, path: str | Path) -> Clip:
        from .midi import read_midi

        path = Path(path)
        if path.suffix.lower() not in (".mid", ".midi", ".kar", ""):
            raise AssetError(f"{path}: music is read from MIDI files (.mid)")
        return read_midi(path)

    def write(self, clip: Clip, path: str | Path) -> list[Path]:
        path = Path(path)
        ext = self.check_format(path)
        if ext == "mid":
            from .midi import midi_bytes

            write_bytes_atomic(path, midi_bytes(clip, self.decoding["four_tracks"]))
        elif ext == "wav":
            from .audio import render_wav

            write_bytes_atomic(path, render_wav(clip, self.synth, self.decoding["four_tracks"]))
        else:
            write_png_atomic(path, self.render(clip))
        return [path]

    def labels_of(self, clip: Clip) -> list[str]:
        """The mode a key estimate finds, and "chorale" for a clip with chords (mean
        polyphony of 2 or more) when the model knows that style; else the default style."""
        labels = []
        key = estimate_key(clip.active)
        if key is not None:
            labels.append(key[1])
        sounding = clip.active.any(axis=1)
        if "chorale" in self.styles and sounding.any() and clip.active[sounding].sum(axis=1).mean() >= 2:
            labels.append("chorale")
        return labels

    def encoding_note(self, clip: Clip) -> str | None:
        return ("dropped " + "; ".join(clip.dropped)) if clip.dropped else None

    def scan_parts(self, clip: Clip) -> list[Clip]:
        """A song is scanned 4 bars at a time (the last clip flush with its end)."""
        if clip.steps <= STEPS:
            return [clip]
        starts = sorted({*range(0, clip.steps - STEPS + 1, STEPS), clip.steps - STEPS})
        return [
            Clip(clip.active[s : s + STEPS], clip.onset[s : s + STEPS], clip.tempo, clip.program, clip.velocity)
            for s in starts
        ]

    def positions(self, clip: Clip, maps: list[np.ndarray]) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Per bar of 16 steps (keys summed); the heat map runs like the piano roll: time left to
        right, pitch bottom to top."""
        steps = max(clip.steps, STEPS)
        starts = [0] if clip.steps <= STEPS else sorted({*range(0, clip.steps - STEPS + 1, STEPS), clip.steps - STEPS})
        cells, seen = np.zeros((steps, KEYS)), np.zeros(steps)
        for s, part in zip(starts, maps):
            cells[s : s + STEPS] += part
            seen[s : s + STEPS] += 1
        cells /= np.maximum(seen, 1)[:, None]
        per_step = cells.sum(axis=1)
        bars = range(0, steps, 16)
        scores = np.array([per_step[b : b + 16].mean() for b in bars])
        return scores, [f"bar {b // 16 + 1}" for b in bars], cells.T[::-1]

    def plant_anomalies(self, clip: Clip, rng: np.random.Generator) -> dict[str, tuple[Clip, tuple[int, ...]]]:
        """Two kinds, each placed at the bars (`positions`) it changes:
        - `random_bar`: one bar's notes (cut at its bar lines) moved to random keys, uniform over the
          clip's own range (an octave at least), and random starts in the bar, each keeping its length,
          so the bar keeps its rhythm values and about as much sound (an empty bar gets 2 notes of 1-4 steps);
        - `tritone_half`: every note from the middle bar line on moved 6 semitones (up, or down where
          up would leave the keyboard; a clip spanning more than 82 keys takes neither)."""
        bar_steps = 16
        planted = {}
        used = np.flatnonzero(clip.active.any(axis=0))
        bars = clip.steps // bar_steps
        if bars:
            low, high = (int(used.min()), int(used.max())) if len(used) else (KEYS // 2, KEYS // 2)
            centre = (low + high) // 2
            low, high = max(0, min(low, centre - 6)), min(KEYS - 1, max(high, centre + 6))
            bar = int(rng.integers(bars))
            start, stop = bar * bar_steps, (bar + 1) * bar_steps
            active, onset = clip.active.copy(), clip.onset.copy()
            notes = roll_to_notes(clip.active[start:stop], clip.onset[start:stop])  # clipped to the bar
            lengths = (notes[:, 2] - notes[:, 1]) if len(notes) else rng.integers(1, 5, 2)
            active[start:stop], onset[start:stop] = False, False
            for length in lengths:
                key, begin = int(rng.integers(low, high + 1)), start + int(rng.integers(0, bar_steps - length + 1))
                active[begin : begin + length, key] = True
                onset[begin, key] = True
            made = Clip(active, consistent(active, onset), clip.tempo, clip.program, clip.velocity)
            planted["random_bar"] = (made, (bar,))
        middle = (clip.steps // 2) // bar_steps * bar_steps
        late = np.flatnonzero(clip.active[middle:].any(axis=0))
        shift = 6 if not len(late) or late.max() + 6 < KEYS else -6 if late.min() >= 6 else 0
        if bars >= 2 and shift:
            active, onset = clip.active.copy(), clip.onset.copy()
            active[middle:] = np.roll(clip.active[middle:], shift, axis=1)
            onset[middle:] = np.roll(clip.onset[middle:], shift, axis=1)
            made = Clip(active, consistent(active, onset), clip.tempo, clip.program, clip.velocity)
            planted["tritone_half"] = (made, tuple(range(middle // bar_steps, -(-clip.steps // bar_steps))))
        return planted

    def sample_report(self, generator, corpus: Corpus, report: dict, samples: int, seed: int) -> dict:
        """Per-frame bounds (the unit of the music literature), then the sample metrics."""
        from .metrics import STEPS, sample_report

        rows = {
            key.replace("_nats", "_nats_per_frame"): report[key] / STEPS
            for key in ("negative_elbo_nats", "iwae_nats")
            if key in report
        }
        return rows | sample_report(generator, corpus, samples, seed)

    def to_card(self) -> dict:
        return {"styles": list(self.styles), "stride": self.stride, "steps": STEPS, "keys": KEYS, "lowest_midi": LOWEST}

    @classmethod
    def from_card(cls, data: dict) -> MusicDomain:
        """Rebuild the domain from `to_card` output; a CheckpointError names a malformed field."""
        from generators.core.card_check import bad_field, texts, whole

        if (data.get("steps", STEPS), data.get("keys", KEYS), data.get("lowest_midi", LOWEST)) != (STEPS, KEYS, LOWEST):
            raise UserError("this music checkpoint uses a piano-roll size this version does not know")
        if "styles" not in data:
            raise bad_field("domain_config.styles", "is missing")
        texts(data["styles"], "domain_config.styles", allow_empty=False)  # style is an exclusive group
        return cls(tuple(data["styles"]), whole(data.get("stride", 16), "domain_config.stride", 1, STEPS))

    # --- training ---------------------------------------------------------------------

    def augment(
        self, x: torch.Tensor, c: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Random transposition of each item by TRANSPOSE semitones, as far as its notes stay
        on the keyboard. Style and mode do not change under transposition."""
        on = x[:, 0].amax(dim=1) > 0.5  # (B, 88) keys used
        keys = torch.arange(KEYS)
        low = torch.where(on, keys, KEYS).amin(dim=1)
        high = torch.where(on, keys, -1).amax(dim=1)
        lo = torch.clamp(-low, min=TRANSPOSE[0], max=0)
        hi = torch.clamp(KEYS - 1 - high, min=0, max=TRANSPOSE[1])
        u = torch.rand(len(x), generator=generator)
        shift = torch.where(high >= 0, lo + (u * (hi - lo + 1)).long().clamp(max=hi - lo), 0)
        index = (keys[None, :] - shift[:, None]) % KEYS  # (B, 88): new key k takes old key k - shift
        return x.gather(3, index[:, None, None, :].expand_as(x)), c

    def condition_critic(self, output: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """The Trainer's condition critic: -log P(requested mode) per item (B,) under a soft
        Krumhansl-Schmuckler estimate of decoder logits (B, 2, T, 88). The hard estimate
        (`roll.estimate_key`) labels the training windows and judges samples in `eval`;
        here the expected pitch-class histogram (note probabilities summed over time) is
        correlated with the 24 key profiles and a softmax at temperature KEY_SOFTNESS turns
        the correlations into key probabilities, which sum to P(minor)."""
        probs = torch.sigmoid(output[:, 0].float())  # (B, T, 88)
        per_key = probs.sum(dim=1)  # (B, 88) expected sounding steps per key
        classes = torch.nn.functional.one_hot((torch.arange(KEYS) + LOWEST) % 12, 12).to(per_key)  # (88, 12)
        hist = per_key @ classes
        centred = hist - hist.mean(dim=1, keepdim=True)
        unit = centred / centred.norm(dim=1, keepdim=True).clamp(min=1e-6)
        scores = unit @ torch.from_numpy(key_profiles()).to(unit).T  # (B, 24) correlations
        log_keys = torch.log_softmax(scores / KEY_SOFTNESS, dim=1)
        log_major, log_minor = log_keys[:, :12].logsumexp(1), log_keys[:, 12:].logsumexp(1)
        minor = c[:, len(self.styles) + MODES.index("minor")]  # 1 where minor was asked for
        return -(minor * log_minor + (1 - minor) * log_major)

    @classmethod
    def prepare_training(cls, paths: list[Path], holdout: tuple[str, ...] = ()) -> tuple[MusicDomain, Corpus]:
        pieces, description = load_pieces(paths)
        found = {p.style for p in pieces}
        styles = tuple(s for s in DEFAULT_STYLES if s in found) + tuple(sorted(found - set(DEFAULT_STYLES)))
        domain = cls(styles)
        return domain, domain.dataset(pieces, holdout, description)

    def corpus(self, paths: list[Path], holdout: tuple[str, ...] = ()) -> Corpus:
        """A user's MIDI (one subfolder per style this model knows) for fine-tuning it."""
        pieces, description = load_pieces(paths)
        return self.dataset(pieces, holdout, description)

    def heldout_corpus(self, paths: list[Path], card: dict) -> Corpus:
        pieces, description = load_pieces(paths)
        return self.dataset(pieces, tuple(card.get("data", {}).get("holdout_named", ())), description)

    def dataset(self, pieces: list[Piece], holdout: tuple[str, ...] = (), description: dict | None = None) -> Corpus:
        """Windows of every piece; whole pieces go to the held-out split (see `data`)."""
        unknown = sorted({p.style for p in pieces} - set(self.styles))
        if unknown:
            raise UserError(f"style {unknown[0]!r} in the data is not one this model knows: {', '.join(self.styles)}")
        missing = [h for h in holdout if h not in {p.name for p in pieces}]
        if missing:
            raise UserError(f"held-out piece {missing[0]!r} is not in the music data")
        parts = {"train": ([], [], []), "holdout": ([], [], [])}
        counts: dict = {}
        for piece in pieces:
            windows = piece_windows(piece.notes, self.stride)
            if not len(windows):
                continue
            split = "holdout" if is_holdout(piece.name, holdout) else "train"
            xs, cs, names = parts[split]
            xs.append(torch.from_numpy(windows))
            cs.append(torch.from_numpy(self._vectors(piece.style, window_modes(windows))))
            names += [f"{piece.name}@bar{1 + i * self.stride // 16}" for i in range(len(windows))]
            tally = counts.setdefault(
                piece.style, {"train_pieces": 0, "holdout_pieces": 0, "train_windows": 0, "holdout_windows": 0}
            )
            tally[f"{split}_pieces"] += 1
            tally[f"{split}_windows"] += len(windows)
        if not parts["train"][0]:
            raise UserError("no music to train on: every piece is held out or silent")

        def stack(split: str) -> Split:
            xs, cs, names = parts[split]
            if not xs:
                return Split(torch.zeros((0, *self.shape)), torch.zeros((0, self.conditions.size)), [])
            return Split(torch.cat(xs), torch.cat(cs), names)

        train, held = stack("train"), stack("holdout")
        info = dict(description or {})
        info.update(
            styles=list(self.styles),
            per_style=counts,
            window="4 bars of 4/4 (64 sixteenths) x 88 keys",
            stride_steps=self.stride,
            holdout_rule=f"whole pieces: sha256(name) mod {HOLDOUT_EVERY} == 0, plus any named",
            holdout_named=list(holdout),
            mode_label="Krumhansl-Schmuckler estimate on each window's notes",
            train_windows=len(train),
            holdout_windows=len(held),
            train_minor_share=round(float(train.c[:, -1].mean()), 3),
        )
        return Corpus(train, held, info)

    def _vectors(self, style: str, modes: np.ndarray) -> np.ndarray:
        """(N, K) condition vectors: one style, and each window's mode."""
        vectors = np.zeros((len(modes), self.conditions.size), dtype=np.float32)
        vectors[:, self.styles.index(style)] = 1.0
        vectors[np.arange(len(modes)), len(self.styles) + modes] = 1.0
        return vectors
