"""Quality measures for the music model, each beside the same figure for held-out real clips
(issue 15's yardstick). None of them is a training signal.

Per style, on clips as a musician gets them (decoded, cut to their metre, in their key):
- texture: the share of steps with exactly four sounding notes (chorales) or at most one
  (tunes), over every step of every clip;
- the top voice's mean step: the mean interval, in semitones, between consecutive notes of
  voice 0 (the highest note, as `voices` assigns it);
- onsets off the eighth-note grid: the share of notes that start on an odd sixteenth;
- notes per bar;
- notes outside the scale of the clip's estimated key (major; minor takes the natural and the
  harmonic minor's notes);
- a two-sample test (`core.two_sample`) on piano rolls, both sides transposed at random.
Then: held-out reconstruction note F1 (pitch and onset must match; at the posterior mean, and
with the latent refined as a file's is), the mode asked for against
the mode estimated, the tonics that samples of each mode cover, the tonic asked for against the
tonic estimated (Krumhansl-Schmuckler), and per metre the onset profile within a bar.

Real clips come from the held-out windows through the same `clip_from_tokens` as samples (under
each window's own labels), so both sides are cut and transposed by the same code.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from generators.core import two_sample
from generators.core.domain import Split
from generators.core.vae import file_latents

from .roll import KEYS, METRES, PITCH_NAMES, STEPS, TONIC_LABELS, Clip, estimate_key
from .voices import ONSET, planes_to_tokens

MAJOR_SCALE = {0, 2, 4, 5, 7, 9, 11}
MINOR_SCALE = {0, 2, 3, 5, 7, 8, 10, 11}  # natural minor plus the harmonic minor's raised 7th
TEXTURE = {"chorale": 4}  # the notes a step of a style should sound; a style not named: at most one
TRANSPOSE = 6  # semitones each way of the two-sample test's random transposition
TEST_EPOCHS = 20
TEST_BATCH = 64
# Key figures take a share of `eval --samples`: at 600, the 200 samples a mode (it asks
# for 8 of the 12 tonics among them) and 20 samples a tonic asked for.
KEY_SAMPLES_PER_MODE = 1 / 3
KEY_SAMPLES_PER_TONIC = 1 / 30
REFINED_CLIPS = 512  # held-out clips whose F1 is also measured at the latent a file gets


# --- per-clip statistics ----------------------------------------------------------------


def clip_statistics(clip: Clip) -> dict:
    """Counts of one clip that the style figures add up (so a long clip weighs more)."""
    notes = clip.notes()
    per_step = clip.active.sum(axis=1)
    tokens = planes_to_tokens(clip.active, clip.onset, clip.steps)
    top = tokens[:, 0]
    top_pitches = top[top >= ONSET]
    key = estimate_key(clip.active)
    out_of_scale = 0
    if key is not None and len(notes):
        tonic = PITCH_NAMES.index(key[0])
        scale = MAJOR_SCALE if key[1] == "major" else MINOR_SCALE
        out_of_scale = int(sum(((p - tonic) % 12) not in scale for p in notes[:, 0]))
    return {
        "steps": clip.steps,
        "four_note_steps": int((per_step == 4).sum()),
        "one_or_no_note_steps": int((per_step <= 1).sum()),
        "top_voice_intervals": np.abs(np.diff(top_pitches)).tolist(),
        "notes": len(notes),
        "offgrid_onsets": int((notes[:, 1] % 2 == 1).sum()) if len(notes) else 0,
        "bars": clip.steps / clip.steps_per_bar,
        "out_of_scale": out_of_scale,
    }


def style_figures(clips: list[Clip], style: str) -> dict:
    """The texture, melody, rhythm, density and scale figures of a set of clips of one style."""
    stats = [clip_statistics(clip) for clip in clips]
    steps = max(sum(s["steps"] for s in stats), 1)
    notes = max(sum(s["notes"] for s in stats), 1)
    intervals = [i for s in stats for i in s["top_voice_intervals"]]
    wanted = TEXTURE.get(style)
    texture_name = f"steps_with_{wanted}_notes" if wanted else "steps_with_at_most_1_note"
    texture = sum(s["four_note_steps"] if wanted else s["one_or_no_note_steps"] for s in stats)
    return {
        "clips": len(clips),
        texture_name: texture / steps,
        "top_voice_mean_step": float(np.mean(intervals)) if intervals else 0.0,
        "onsets_off_eighth_grid": sum(s["offgrid_onsets"] for s in stats) / notes,
        "notes_per_bar": sum(s["notes"] for s in stats) / max(sum(s["bars"] for s in stats), 1e-9),
        "notes_outside_key": sum(s["out_of_scale"] for s in stats) / notes,
    }


def note_f1(truth: list[Clip], guess: list[Clip]) -> dict[str, float]:
    """Note-level precision/recall/F1: a note matches when pitch and onset step agree
    (mir_eval's onset-only criterion on a sixteenth grid)."""
    hits = wanted = made = 0
    for t, g in zip(truth, guess):
        a = {(p, s) for p, s, _ in t.notes()}
        b = {(p, s) for p, s, _ in g.notes()}
        hits, wanted, made = hits + len(a & b), wanted + len(a), made + len(b)
    precision, recall = hits / max(made, 1), hits / max(wanted, 1)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / max(precision + recall, 1e-12)}


def onset_profile(clips: list[Clip]) -> np.ndarray:
    """(bar steps,) share of onsets at each sixteenth of the bar, over clips of one metre."""
    if not clips:
        return np.zeros(0)
    bar = clips[0].steps_per_bar
    counts = np.zeros(bar)
    for clip in clips:
        notes = clip.notes()
        if len(notes):
            counts += np.bincount(notes[:, 1] % bar, minlength=bar)
    return counts / max(counts.sum(), 1)


# --- the two-sample test on piano rolls ---------------------------------------------------


def roll_tensor(clips: list[Clip]) -> torch.Tensor:
    """(N, 2, 64, 88) active and onset planes, clips shorter than 64 steps padded with silence."""
    out = torch.zeros((len(clips), 2, STEPS, KEYS))
    for i, clip in enumerate(clips):
        n = min(clip.steps, STEPS)
        out[i, 0, :n] = torch.from_numpy(clip.active[:n])
        out[i, 1, :n] = torch.from_numpy(clip.onset[:n])
    return out


def _critic() -> nn.Module:
    """Convolutions along time with the 2 x 88 key cells as channels, as the model reads music."""

    def block(c_in: int, c_out: int, **conv) -> list[nn.Module]:
        return [nn.Conv1d(c_in, c_out, **conv), nn.GroupNorm(8, c_out), nn.SiLU()]

    return nn.Sequential(
        *block(2 * KEYS, 128, kernel_size=3, padding=1),
        *block(128, 128, kernel_size=4, stride=2, padding=1),
        *block(128, 128, kernel_size=4, stride=2, padding=1),
        *block(128, 128, kernel_size=3, padding=1),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(128, 1),
    )


def _as_sequence(x: torch.Tensor) -> torch.Tensor:
    """(N, 2, T, 88) -> (N, 176, T)."""
    return x.permute(0, 1, 3, 2).reshape(len(x), 2 * KEYS, x.shape[2])


def _transpose(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each item of (N, 176, T) moved by a random -6..6 semitones (keys wrap round the keyboard's
    ends, where the music rarely goes)."""
    shifts = torch.randint(-TRANSPOSE, TRANSPOSE + 1, (len(x),), generator=generator)
    planes = x.reshape(len(x), 2, KEYS, x.shape[2])
    index = (torch.arange(KEYS)[None, :] - shifts[:, None]) % KEYS  # (N, 88)
    moved = planes.gather(2, index[:, None, :, None].expand_as(planes))
    return moved.reshape_as(x)


def two_sample_test(
    samples: list[Clip], train: list[Clip], holdout: list[Clip], seed: int = 0, epochs: int = TEST_EPOCHS
) -> dict:
    """`core.two_sample.two_sample_report` on piano rolls, both sides transposed at random."""

    def test(*sides: torch.Tensor) -> float:
        return two_sample.two_sample_accuracy(
            *sides, _critic, _transpose, seed, epochs, TEST_BATCH, _as_sequence, test_augment=_transpose
        )

    return two_sample.two_sample_report(roll_tensor(samples), roll_tensor(train), roll_tensor(holdout), test, seed)


# --- clips of a model and of the data ---------------------------------------------------


def real_clips(domain, split, rows) -> list[Clip]:
    """Items `rows` of a split as clips under each item's labels (cut to its metre, in its key)."""
    return [clip_of_tokens(domain, split.x[row].argmax(0).numpy(), split.c[row]) for row in rows]


def clip_of_tokens(domain, tokens: np.ndarray, vector: torch.Tensor) -> Clip:
    """(64, V) tokens in C as the clip a sample under condition `vector` (K,) would be."""
    labels = domain.conditions.decode(vector.numpy())
    return domain.clip_from_tokens(tokens[: domain.clip_length(labels)], labels)


def generated(generator, condition: list[str], count: int, seed: int, temperature: float):
    """`count` samples under `condition` (the rest drawn as `sample` draws it): (labels, clips)."""
    seeds = [seed + i for i in range(count)]
    labels = [generator.labels_for_seed(s, condition) for s in seeds]
    z = np.stack([generator.latent_for_seed(s, temperature, lb) for s, lb in zip(seeds, labels)])
    return labels, generator.decode_each(z, labels)


@torch.inference_mode()
def reconstructions(generator, split, batch: int = 128, refine: bool = False) -> tuple[list[Clip], list[Clip]]:
    """(originals, reconstructions) of a split's windows as clips: through the posterior mean and
    back (likeliest tokens); with `refine`, through the latent a file gets (`file_latents`, as
    `interpolate --from` and the app's Open… encode one)."""
    domain, model = generator.domain, generator.model
    truth, guess = [], []
    for start in range(0, len(split), batch):
        x, c = split.x[start : start + batch], split.c[start : start + batch]
        z = file_latents(model, x, c) if refine else model.encode(x, c)[0]
        tokens = model.decode(z, c).argmax(dim=1).numpy()  # the likeliest token, whatever the decoding option
        truth += real_clips(domain, Split(x, c, []), range(len(x)))
        guess += [clip_of_tokens(domain, t, vector) for t, vector in zip(tokens, c)]
    return truth, guess


def reconstruction_f1(generator, split, batch: int = 128, refine: bool = False) -> dict[str, float]:
    """Note F1 of a split's windows against their `reconstructions`."""
    truth, guess = reconstructions(generator, split, batch, refine)
    return note_f1(truth, guess) if truth else {}


def key_report(generator, seed: int, temperature: float, samples: int) -> dict:
    """Tonic coverage per mode with no key asked for, and the tonic asked for against the
    tonic a Krumhansl-Schmuckler estimate hears (`key_agreement`: tonic; `key_and_mode`: both)."""
    coverage = {}
    for offset, mode in enumerate(("major", "minor")):
        count = max(round(samples * KEY_SAMPLES_PER_MODE), 1)
        _, clips = generated(generator, [mode], count, seed + 100_000 * (offset + 1), temperature)
        keys = [estimate_key(clip.active) for clip in clips]
        tonics = sorted({k[0] for k in keys if k is not None and k[1] == mode})
        coverage[mode] = {"tonics_heard": len(tonics), "of_samples": len(clips), "tonics": tonics}
    hits = both = total = 0
    for index, tonic in enumerate(TONIC_LABELS):
        count = max(round(samples * KEY_SAMPLES_PER_TONIC), 1)
        labels, clips = generated(generator, [tonic], count, seed + 300_000 + 1000 * index, temperature)
        for item_labels, clip in zip(labels, clips):
            key = estimate_key(clip.active)
            mode = "minor" if "minor" in item_labels else "major"
            hits += key is not None and key[0] == PITCH_NAMES[index]
            both += key is not None and key == (PITCH_NAMES[index], mode)
            total += 1
    return {"tonic_coverage": coverage, "key_agreement": hits / total, "key_and_mode_agreement": both / total}


def piece_report(generator, seed: int, temperature: float, per_style: int = 6, bars: int = 16) -> dict:
    """Pieces of `bars` bars per style: the share of each seam bar's sounding voice tokens (held
    and struck notes) that the next clip replays, with its matched latent and with its own."""
    from .piece import PieceMaker, clip_count, seed_latents

    out = {}
    for index, style in enumerate(generator.domain.styles):
        matched, own = [], []
        for j in range(per_style):
            piece_seed = seed + 500_000 + 1000 * index + j
            labels = generator.labels_for_seed(piece_seed, [style])
            maker = PieceMaker(generator, labels)
            maker.compose(seed_latents(generator, piece_seed, clip_count(bars), labels, temperature), bars)
            matched += [m for m, _ in maker.seams]
            own += [o for _, o in maker.seams]
        out[style] = {
            "seams": len(matched),
            "seam_tokens_replayed": float(np.mean(matched)),
            "unmatched": float(np.mean(own)),
        }
    return {"bars": bars, "per_style": out}


def sample_report(generator, corpus, samples: int = 600, seed: int = 0) -> dict:
    """Every figure of the module docstring, samples beside held-out real clips."""
    domain = generator.domain
    temperature = generator.default_temperature
    held, train = corpus.holdout, corpus.train
    per = max(samples // len(domain.styles), 1)
    report: dict = {"temperature": temperature, "samples_per_style": per}
    if len(held):
        report["reconstruction_notes"] = reconstruction_f1(generator, held)
        # Refining costs 20 decoder passes and backward passes a clip: a seeded subset bounds it.
        rows = torch.randperm(len(held), generator=torch.Generator().manual_seed(seed))[:REFINED_CLIPS]
        report["reconstruction_notes_refined"] = {
            "clips": len(rows),
            **reconstruction_f1(generator, Split(held.x[rows], held.c[rows], []), refine=True),
        }
    real_all = real_clips(domain, held, range(len(held)))
    styles, all_samples, all_labels = {}, [], []
    for index, style in enumerate(domain.styles):
        labels, clips = generated(generator, [style], per, seed + index * per, temperature)
        all_samples += clips
        all_labels += labels
        real = [clip for clip, vector in zip(real_all, held.c) if vector[index] > 0.5]
        styles[style] = {"samples": style_figures(clips, style)}
        if real:
            styles[style]["real_heldout"] = style_figures(real, style)
    report["styles"] = styles
    mode_hits = {m: [] for m in ("major", "minor")}
    for labels, clip in zip(all_labels, all_samples):
        mode = "minor" if "minor" in labels else "major"
        key = estimate_key(clip.active)
        mode_hits[mode].append(key is not None and key[1] == mode)
    report["mode_accuracy"] = {m: float(np.mean(v)) for m, v in mode_hits.items() if v}
    report.update(key_report(generator, seed, temperature, samples))
    metres = {}
    for metre in METRES:
        mine = [clip for clip in all_samples if clip.metre == metre]
        real = [clip for clip in real_all if clip.metre == metre]
        if mine and real:
            a, b = onset_profile(mine), onset_profile(real)
            metres[metre] = {
                "samples": len(mine),
                "real_heldout": len(real),
                "onset_profile_overlap": float(np.minimum(a, b).sum()),
                "downbeat_onsets": {"samples": float(a[0]), "real_heldout": float(b[0])},
            }
    report["metres"] = metres
    report["pieces"] = piece_report(generator, seed, temperature, per_style=max(min(samples // 100, 6), 1))
    if len(held) >= 2 and len(all_samples) >= 4:
        pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[
            : min(len(train), 3 * len(all_samples))
        ]
        report["two_sample_test"] = two_sample_test(
            all_samples, real_clips(domain, train, pick.tolist()), real_all, seed
        )
    report["frames_per_item"] = STEPS
    return report
