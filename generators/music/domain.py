"""The music domain: 4-bar clips in four voices, MIDI in and out, WAV and PNG export.

Tensor of one clip: (TOKENS, 64, 4) one-hot, a token per voice and sixteenth step (`voices`:
rest, hold, or the onset of a pitch), scored by the `categorical` likelihood, so a step sounds
at most four notes and a tune one. A clip is 4 bars of its metre: 64 steps in 4/4, 48 in 3/4
and 6/8 (the tensor's last 16 steps then rest).

Keys: every training window is transposed so that its tonic (a Krumhansl-Schmuckler estimate
on its own notes) is C, and the model learns music in C major and C minor. The key condition
(the tonic) is a transposition applied on decode, and encoding a file moves it to C by its own
estimate, so a file comes back in its own key, and a key asked for is the key that comes out.
Conditions: style (the data's styles: chorale, folk, fiddle by default), mode (major, minor),
key (the 12 tonics) and metre (4/4, 3/4, 6/8). Files: `.mid`, `.wav`, `.png`.
Conversions live in `roll` (notes <-> rolls), `voices` (rolls <-> voice tokens), `midi`,
`audio` and `data` (training windows); this module ties them to the Domain seam.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from generators.core.conditions import ConditionGroup, ConditionSpace, normalise_label
from generators.core.domain import Corpus, Domain, Split
from generators.core.errors import AssetError, UserError
from generators.core.fileio import write_bytes_atomic, write_png_atomic

from .data import HOLDOUT_EVERY, Piece, is_holdout, load_pieces
from .options import DECODING_OPTIONS
from .roll import (
    KEYS,
    LOWEST,
    METRES,
    PITCH_NAMES,
    STEPS,
    TONIC_LABELS,
    Clip,
    consistent,
    estimate_key,
    key_profiles,
    notes_to_roll,
    roll_to_notes,
)
from .voices import (
    HOLD,
    LOWEST_PITCH,
    ONSET,
    PITCHES,
    REST,
    TOKENS,
    VOICES,
    notes_to_tokens,
    one_hot,
    planes_to_tokens,
    tokens_to_planes,
    transpose_tokens,
    window_from,
)

MODES = ("major", "minor")
TONICS = TONIC_LABELS  # the key condition's labels: c, c#, d, eb, ...
KEY_SOFTNESS = 0.05  # softmax temperature over key correlations in the mode critic (see condition_critic)
DEFAULT_STYLES = ("chorale", "folk", "fiddle")
# How a generated clip of each style sounds when exported: (tempo in BPM, GM program).
STYLE_SOUND = {"chorale": (80.0, 19), "folk": (100.0, 73), "fiddle": (116.0, 40)}  # organ, flute, fiddle
# A song's key, for where it goes wrong, is that of its first two bars: one bar is often a single
# chord or a pickup (planted tritones, bench/README.md: one bar found 82% where two found 88%).
OPENING_BARS = 2
REPRESENTATION = "voices"  # domain_config.representation; earlier cards were piano rolls


def shift_to_c(tonic: str) -> int:
    """Semitones (-6..5) that move `tonic` to C."""
    return -((PITCH_NAMES.index(tonic) + 6) % 12 - 6)


def clip_key(active: np.ndarray) -> tuple[str, str]:
    """(tonic, mode) of a roll; a silent one counts as C major."""
    return estimate_key(active) or ("C", "major")


def draw_voice(
    logits: torch.Tensor, temperature: float, rng: torch.Generator | None = None, rhythm_only: bool = False
) -> torch.Tensor:
    """One voice's tokens (B, T) drawn from softmax(logits / temperature), logits (B, TOKENS, T).
    With `rhythm_only` only the kind of token is drawn (rest, hold, or a strike, which holds the
    probability of every pitch), at that temperature, and a strike takes its likeliest pitch.
    Without an rng each item's draw is seeded by its own likeliest tokens (the argmax of each
    step): the same logits always draw the same tokens, whatever else is in the batch. Not by the
    logits' bytes: those differ in the last bit between CPUs (AVX2 and AVX-512 kernels) and thread
    counts, and any difference gave another seed, so a seeded sample changed from one machine to
    the next; the likeliest tokens change only where two tie."""
    drawn = []
    for row in logits:
        seeded = rng
        if seeded is None:
            digest = hashlib.sha256(row.argmax(dim=0).to(torch.int64).contiguous().numpy().tobytes()).digest()
            seeded = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
        if not rhythm_only:
            probs = torch.softmax(row / temperature, dim=0).T  # (T, TOKENS)
            drawn.append(torch.multinomial(probs, 1, generator=seeded)[:, 0])
            continue
        log_probs = torch.log_softmax(row, dim=0)  # (TOKENS, T)
        kinds = torch.stack([log_probs[REST], log_probs[HOLD], torch.logsumexp(log_probs[ONSET:], dim=0)], dim=1)
        kind = torch.multinomial(torch.softmax(kinds / temperature, dim=1), 1, generator=seeded)[:, 0]  # (T,)
        pitch = ONSET + log_probs[ONSET:].argmax(dim=0)
        drawn.append(torch.where(kind == 2, pitch, torch.where(kind == 0, REST, HOLD)))
    return torch.stack(drawn)


class MusicDomain(Domain):
    """Four-voice clips conditioned on style, mode, key and metre."""

    name = "music"
    item_noun = ("clip", "clips")
    likelihood = "categorical"  # a softmax over the tokens of each voice and step
    write_formats = ("mid", "wav", "png")
    # Convolutions run along time with the TOKENS x 4 voice cells as channels (VAEConfig layout
    # "sequence"): 64 steps -> 32 -> 16, so the bottleneck is one vector per beat and every
    # filter hears all four voices at once, which is what harmony needs.
    model_channels = (128, 256, 256)
    model_layout = "sequence"
    # Windows overlap (one every bar), and with keys moved to C there is no transposition to
    # vary them: without dropout the held-out bound got worse from the fifth epoch on.
    model_dropout = 0.1
    # Each voice's token also hears the tokens chosen for the voices above it in the same step
    # (`ColumnAutoregression`): independent voices drew clashes and rests where a chord needs a
    # note. On the JSB benchmark, 12 epochs: 8.86 nats per frame independent, 6.25 with this head.
    model_autoregressive = 128
    read_formats = ("mid", "midi", "kar")
    training_folder_hint = "A folder with one subfolder per label (a style), each holding MIDI files."
    plays_audio = True
    typicality_groups = ("style", "metre")  # a chorale has 4 voices, a 4/4 clip 64 steps (3/4 and 6/8: 48)
    decode_only_groups = ("key",)  # every window is in C: the key is a transposition on decode
    makes_pieces = True
    decoding_options = DECODING_OPTIONS
    training_defaults = {
        "epochs": 12,
        "batch_size": 32,
        "learning_rate": 2e-3,
        "lr_schedule": "cosine",
        "warmup_epochs": 1.0,
        "patience": 3,  # keeps the best epoch on the held-out bound
        "beta": 0.25,
        # 128, not 64: held-out note F1 of a file's latent 0.876 -> 0.934 (chorales 0.75 -> 0.84),
        # for 2.3 nats a window of held-out bound (docs/music-quality.md, 2026-12-04).
        "latent_size": 128,
        "prior_components": 16,
        "iwae_k": 50,
    }

    def __init__(self, styles: tuple[str, ...] = DEFAULT_STYLES, stride_bars: int = 1):
        self.styles = tuple(styles)
        self.stride_bars = stride_bars
        self.synth = "auto"  # .wav: "auto" (FluidSynth if installed), "fluidsynth" or "builtin"
        self._conditions = ConditionSpace(
            (
                ConditionGroup("style", self.styles, exclusive=True),
                ConditionGroup("mode", MODES, exclusive=True),
                ConditionGroup("key", TONICS, exclusive=True, titles=PITCH_NAMES),
                ConditionGroup("metre", tuple(METRES), exclusive=True),
            )
        )

    # --- the Domain seam -------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int, int]:
        return (TOKENS, STEPS, VOICES)

    @property
    def conditions(self) -> ConditionSpace:
        return self._conditions

    def tokens_in_c(self, clip: Clip) -> np.ndarray:
        """(STEPS, VOICES) tokens of a clip's first 4 bars, moved to C by its own key estimate
        (or from `clip.heard_in`, where given), padded with rests to the model's 64 steps."""
        length = min(clip.steps, 4 * clip.steps_per_bar)
        tokens = np.full((STEPS, VOICES), REST, dtype=np.int64)
        tokens[:length] = planes_to_tokens(clip.active[:length], clip.onset[:length], length)
        tonic = clip.heard_in or clip_key(clip.active[:length])[0]
        return transpose_tokens(tokens, shift_to_c(tonic))

    def to_tensor(self, clip: Clip) -> torch.Tensor:
        """A clip -> (TOKENS, 64, 4) one-hot, in C (see `tokens_in_c`)."""
        return torch.from_numpy(one_hot(self.tokens_in_c(clip)))

    def decode_tokens(
        self, output: torch.Tensor, output_temperature: float = 0.0, rng: torch.Generator | None = None
    ) -> np.ndarray:
        """Logits (B, TOKENS, T, V) -> (B, T, V) tokens by the domain's `sampling`: the likeliest
        token of each voice and step, a draw from the softmax at `note_temperature`, or (`rhythm`)
        a draw of the rhythm alone with the likeliest pitch struck. An output_temperature above 0
        always draws, at that temperature. A draw is seeded by `rng`,
        or else by each item's logits of the voice (`draw_voice`), so one latent always gives the
        same notes; with the head over the voices of a step the model draws the same way while it
        decodes (`column_choice`), so the lower voices heard the upper voices drawn here. An
        explicit rng draws afresh, whatever the model's head heard: it is for models without
        the head (no caller passes one for the shipped model)."""
        output = output.float()
        drawing = self.decoding["sampling"] != "likeliest"
        if output_temperature == 0 and drawing:
            output_temperature = self.decoding["note_temperature"]
        if output_temperature <= 0:
            return output.argmax(dim=1).numpy()
        rhythm_only = self.decoding["sampling"] == "rhythm"
        voices = [draw_voice(output[..., v], output_temperature, rng, rhythm_only) for v in range(output.shape[-1])]
        return torch.stack(voices, dim=-1).numpy()

    def column_choice(self):
        """The model's head draws each voice as `decode_tokens` will (see there)."""
        if self.decoding["sampling"] == "likeliest":
            return None
        temperature, rhythm_only = self.decoding["note_temperature"], self.decoding["sampling"] == "rhythm"
        return lambda logits: draw_voice(logits.float(), temperature, rhythm_only=rhythm_only)

    def piece_labels(self, condition: list[str] | None) -> tuple[str, str, str]:
        """(metre, tonic name, mode) that a label set asks for; 4/4, C and major by default."""
        labels = {normalise_label(c) for c in condition or ()}
        metre = next((m for m in METRES if m in labels), "4/4")
        tonic = PITCH_NAMES[next((i for i, t in enumerate(TONICS) if t in labels), 0)]
        return metre, tonic, "minor" if "minor" in labels else "major"

    def clip_length(self, condition: list[str] | None) -> int:
        """Steps of a clip under a label set: 4 bars of its metre."""
        return 4 * METRES[self.piece_labels(condition)[0]][2]

    def clip_from_tokens(self, tokens: np.ndarray, condition: list[str] | None = None) -> Clip:
        """(T, V) tokens in C -> a clip of T steps in the metre and key the labels ask for,
        sounding like the style asked for."""
        metre, tonic, mode = self.piece_labels(condition)
        tempo, program = STYLE_SOUND.get(self._style_of(condition), (100.0, 0))
        active, onset = tokens_to_planes(transpose_tokens(tokens, -shift_to_c(tonic)))
        return Clip(active, onset, tempo, program, 80, metre=metre, key=(tonic, mode))

    def from_output(
        self,
        output: torch.Tensor,
        output_temperature: float = 0.0,
        rng: torch.Generator | None = None,
        condition: list[str] | None = None,
    ) -> list[Clip]:
        """Logits (B, TOKENS, 64, 4) -> clips: tokens (`decode_tokens`), cut to 4 bars of the
        metre asked for, moved from C to the key asked for (C when none is)."""
        length = self.clip_length(condition)
        return [
            self.clip_from_tokens(t[:length], condition) for t in self.decode_tokens(output, output_temperature, rng)
        ]

    def from_tensor(self, x: torch.Tensor) -> list[Clip]:
        """Exact inverse of `to_tensor` (in C, 64 steps), whatever the decoding settings."""
        tempo, program = STYLE_SOUND.get(None, (100.0, 0))
        clips = []
        for tokens in x.argmax(dim=1).numpy():
            active, onset = tokens_to_planes(tokens)
            clips.append(Clip(active, onset, tempo, program, 80))
        return clips

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
        """The key and mode a key estimate finds, the clip's metre, and "chorale" for a clip with
        chords (mean polyphony of 2 or more) when the model knows that style."""
        labels = [clip.metre]
        key = estimate_key(clip.active[: 4 * clip.steps_per_bar])
        if key is not None:
            labels += [key[1], normalise_label(key[0])]
        sounding = clip.active.any(axis=1)
        if "chorale" in self.styles and sounding.any() and clip.active[sounding].sum(axis=1).mean() >= 2:
            labels.append("chorale")
        return labels

    def encoding_note(self, clip: Clip) -> str | None:
        return ("dropped " + "; ".join(clip.dropped)) if clip.dropped else None

    @staticmethod
    def part_starts(clip: Clip) -> list[int]:
        """Where the 4-bar parts of a longer clip start (the last one flush with its end)."""
        length = 4 * clip.steps_per_bar
        if clip.steps <= length:
            return [0]
        return sorted({*range(0, clip.steps - length + 1, length), clip.steps - length})

    def scan_parts(self, clip: Clip) -> list[Clip]:
        """A song is scanned 4 bars at a time (the last clip flush with its end)."""
        length = 4 * clip.steps_per_bar
        return [
            Clip(
                clip.active[s : s + length],
                clip.onset[s : s + length],
                clip.tempo,
                clip.program,
                clip.velocity,
                metre=clip.metre,
            )
            for s in self.part_starts(clip)
        ]

    def position_parts(self, clip: Clip, parts: list[Clip]) -> list[Clip]:
        """Every part heard in the key the song opens in (its first OPENING_BARS bars from the
        first note), not in its own: a part is scored in C by its own key estimate, so a passage
        that leaves the song's key is in C too and explained as well as the rest. Heard in the
        opening's key, it is out of key, and its bars score low. (On clips whose second half was
        moved a tritone, bench/bench_scan.py: with the shipped latent-128 model the worst bar lies
        in the moved half 82-90% of the time over eight seeds; with the latent-64 model before it,
        81-87% over three, against 53-62% with each part in its own key.)"""
        sounding = np.flatnonzero(clip.active.any(axis=1))
        start = int(sounding[0]) if len(sounding) else 0
        tonic = clip_key(clip.active[start : start + OPENING_BARS * clip.steps_per_bar])[0]
        return [replace(part, heard_in=tonic) for part in parts]

    def positions(self, clip: Clip, maps: list[np.ndarray]) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Per bar (voices summed); the heat map runs like the piano roll, time left to right,
        with one row per voice, soprano at the top. `maps` are (64, VOICES) per part."""
        bar, length = clip.steps_per_bar, 4 * clip.steps_per_bar
        steps = max(clip.steps, length)
        cells, seen = np.zeros((steps, VOICES)), np.zeros(steps)
        for s, part in zip(self.part_starts(clip), maps):
            cells[s : s + length] += part[:length]
            seen[s : s + length] += 1
        cells /= np.maximum(seen, 1)[:, None]
        per_step = cells.sum(axis=1)
        bars = range(0, steps, bar)
        scores = np.array([per_step[b : b + bar].mean() for b in bars])
        return scores, [f"bar {b // bar + 1}" for b in bars], cells.T

    scan_features_names = ("notes", "sounding steps", "sounding cells", "pitches", "steps")

    def scan_features(self, clip: Clip) -> np.ndarray:
        """How much a 4-bar clip holds: notes, steps with a note sounding, note-steps, distinct
        pitches and its length (48 or 64 steps). A reel's many sixteenths cost far more nats than a
        hymn's minims, real or not; `scan` reads the ELBO against real clips that hold as much."""
        sounding = clip.active.any(axis=1)
        return np.array(
            [clip.onset.sum(), sounding.sum(), clip.active.sum(), clip.active.any(axis=0).sum(), clip.steps],
            dtype=np.float64,
        )

    def scan_items(self, split: Split) -> list[Clip]:
        """The windows of a split as `scan` reads them from MIDI files: each in the metre it was
        cut in (a 3/4 window is 48 steps, not 64 padded with rests, and says 3/4), in C."""
        clips = []
        for clip, vector in zip(self.from_tensor(split.x), split.c.numpy()):
            labels = self.conditions.decode(vector)
            metre = next((m for m in METRES if m in labels), "4/4")
            steps = 4 * METRES[metre][2]
            clips.append(Clip(clip.active[:steps], clip.onset[:steps], clip.tempo, clip.program, metre=metre))
        return clips

    def plant_anomalies(self, clip: Clip, rng: np.random.Generator) -> dict[str, tuple[Clip, tuple[int, ...]]]:
        """Two kinds, each placed at the bars (`positions`) it changes:
        - `random_bar`: one bar's notes (cut at its bar lines) moved to random keys, uniform over the
          clip's own range (an octave at least), and random starts in the bar, each keeping its length,
          so the bar keeps its rhythm values and about as much sound (an empty bar gets 2 notes of 1-4 steps);
        - `tritone_half`: every note from the middle bar line on moved 6 semitones (up, or down where
          up would leave the keyboard; a clip spanning more than 82 keys takes neither)."""
        bar_steps = clip.steps_per_bar
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
            made = Clip(active, consistent(active, onset), clip.tempo, clip.program, clip.velocity, metre=clip.metre)
            planted["random_bar"] = (made, (bar,))
        middle = (clip.steps // 2) // bar_steps * bar_steps
        late = np.flatnonzero(clip.active[middle:].any(axis=0))
        shift = 6 if not len(late) or late.max() + 6 < KEYS else -6 if late.min() >= 6 else 0
        if bars >= 2 and shift:
            active, onset = clip.active.copy(), clip.onset.copy()
            active[middle:] = np.roll(clip.active[middle:], shift, axis=1)
            onset[middle:] = np.roll(clip.onset[middle:], shift, axis=1)
            made = Clip(active, consistent(active, onset), clip.tempo, clip.program, clip.velocity, metre=clip.metre)
            planted["tritone_half"] = (made, tuple(range(middle // bar_steps, -(-clip.steps // bar_steps))))
        return planted

    def sample_report(self, generator, corpus: Corpus, report: dict, samples: int, seed: int) -> dict:
        """Per-frame bounds (the unit of the music literature), then the sample metrics."""
        from .metrics import sample_report

        rows = {
            key.replace("_nats", "_nats_per_frame"): report[key] / STEPS
            for key in ("negative_elbo_nats", "iwae_nats")
            if key in report
        }
        return rows | sample_report(generator, corpus, samples, seed)

    def to_card(self) -> dict:
        return {
            "representation": REPRESENTATION,
            "styles": list(self.styles),
            "stride_bars": self.stride_bars,
            "steps": STEPS,
            "voices": VOICES,
            "tokens": TOKENS,
            "lowest_pitch": LOWEST_PITCH,
        }

    @classmethod
    def from_card(cls, data: dict) -> MusicDomain:
        """Rebuild the domain from `to_card` output; a CheckpointError names a malformed field."""
        from generators.core.card_check import bad_field, texts, whole

        if data.get("representation") != REPRESENTATION:
            raise UserError(
                "this music checkpoint is a piano-roll model from an earlier version; "
                "retrain it with `train music` (music is now four voices)"
            )
        layout = (data.get("steps"), data.get("voices"), data.get("tokens"), data.get("lowest_pitch"))
        if layout != (STEPS, VOICES, TOKENS, LOWEST_PITCH):
            raise UserError("this music checkpoint uses a voice layout this version does not know")
        if "styles" not in data:
            raise bad_field("domain_config.styles", "is missing")
        texts(data["styles"], "domain_config.styles", allow_empty=False)  # style is an exclusive group
        return cls(tuple(data["styles"]), whole(data.get("stride_bars", 1), "domain_config.stride_bars", 1, 4))

    # --- training ---------------------------------------------------------------------

    def condition_critic(self, output: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """The Trainer's condition critic: -log P(C in the requested mode) per item (B,) under a
        soft Krumhansl-Schmuckler estimate of decoder logits (B, TOKENS, T, V). Every training
        window is in C by that estimate (the key is a transposition on decode), so this asks a
        prior sample to sound in C major or C minor as its mode says, which is what makes the key
        asked for the key a listener hears. The hard estimate (`roll.estimate_key`) judges samples
        in `eval`; here the expected pitch-class histogram of the onsets (onset-token
        probabilities summed over steps and voices) is correlated with the 24 key profiles, and a
        softmax at temperature KEY_SOFTNESS turns the correlations into key probabilities."""
        probs = torch.softmax(output.float(), dim=1)[:, ONSET:]  # (B, PITCHES, T, V)
        per_pitch = probs.sum(dim=(2, 3))  # (B, PITCHES) expected onsets per pitch
        classes = torch.nn.functional.one_hot((torch.arange(PITCHES) + LOWEST_PITCH) % 12, 12).to(per_pitch)
        hist = per_pitch @ classes
        centred = hist - hist.mean(dim=1, keepdim=True)
        unit = centred / centred.norm(dim=1, keepdim=True).clamp(min=1e-6)
        scores = unit @ torch.from_numpy(key_profiles()).to(unit).T  # (B, 24): C..B major, then C..B minor
        log_keys = torch.log_softmax(scores / KEY_SOFTNESS, dim=1)
        minor = c[:, len(self.styles) + MODES.index("minor")]  # 1 where minor was asked for
        return -(minor * log_keys[:, 12] + (1 - minor) * log_keys[:, 0])

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

    def piece_windows(self, piece: Piece) -> tuple[np.ndarray, list[list[str]], list[int]]:
        """The 4-bar windows of a piece, one every `stride_bars` bars, that have notes:
        (N, STEPS, VOICES) tokens in C, each window's labels (style, mode, key, metre) and
        its first bar (0-based)."""
        bar = METRES[piece.metre][2]
        length = 4 * bar
        notes = piece.notes
        total = max(int(notes[:, 2].max()) if len(notes) else 0, length)
        tokens = notes_to_tokens(notes, total)
        active, _ = notes_to_roll(notes[(notes[:, 0] >= LOWEST) & (notes[:, 0] < LOWEST + KEYS)], total)
        windows, labels, bars = [], [], []
        for start in range(0, total - length + 1, bar * self.stride_bars):
            if not active[start : start + length].any():
                continue
            tonic, mode = clip_key(active[start : start + length])
            window = np.full((STEPS, VOICES), REST, dtype=np.int64)
            window[:length] = window_from(tokens, start, length)
            windows.append(transpose_tokens(window, shift_to_c(tonic)))
            labels.append([piece.style, mode, normalise_label(tonic), piece.metre])
            bars.append(start // bar)
        empty = np.zeros((0, STEPS, VOICES), dtype=np.int64)
        return (np.stack(windows) if windows else empty), labels, bars

    def dataset(self, pieces: list[Piece], holdout: tuple[str, ...] = (), description: dict | None = None) -> Corpus:
        """Windows of every piece (see `piece_windows`); whole pieces go to the held-out split."""
        unknown = sorted({p.style for p in pieces} - set(self.styles))
        if unknown:
            raise UserError(f"style {unknown[0]!r} in the data is not one this model knows: {', '.join(self.styles)}")
        missing = [h for h in holdout if h not in {p.name for p in pieces}]
        if missing:
            raise UserError(f"held-out piece {missing[0]!r} is not in the music data")
        parts = {"train": ([], [], []), "holdout": ([], [], [])}
        counts: dict = {}
        for piece in pieces:
            windows, labels, bars = self.piece_windows(piece)
            if not len(windows):
                continue
            split = "holdout" if is_holdout(piece.name, holdout) else "train"
            xs, cs, names = parts[split]
            xs.append(torch.from_numpy(one_hot(windows)))
            cs.append(torch.from_numpy(np.stack([self.conditions.encode(row) for row in labels]).astype(np.float32)))
            names += [f"{piece.name}@bar{1 + b}" for b in bars]
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
        metres = {m: int(train.c[:, self.conditions.labels.index(m)].sum()) for m in METRES}
        info = dict(description or {})
        info.update(
            styles=list(self.styles),
            per_style=counts,
            window=f"4 bars of the piece's metre (64 sixteenths in 4/4, 48 in 3/4 and 6/8) x {VOICES} voices",
            stride_bars=self.stride_bars,
            holdout_rule=f"whole pieces: sha256(name) mod {HOLDOUT_EVERY} == 0, plus any named",
            holdout_named=list(holdout),
            key_label="Krumhansl-Schmuckler estimate on each window's notes; the window is moved to C by it",
            train_windows=len(train),
            holdout_windows=len(held),
            train_minor_share=round(float(train.c[:, len(self.styles) + 1].mean()), 3),
            train_windows_per_metre=metres,
        )
        return Corpus(train, held, info)
