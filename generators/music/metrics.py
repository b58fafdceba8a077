"""Quality measures for the music model: reconstruction F1, conditional accuracy of style
(polyphony) and mode (key estimate), and Yang & Lerch (2018)-style feature overlaps.

Clip features work on (N, 64, 88) boolean active planes and note lists, so they can be
checked on training windows as well as on samples.
"""

from __future__ import annotations

import numpy as np
import torch

from .roll import STEPS, estimate_modes, roll_to_notes

POLYPHONY_TARGETS = {
    "chorale": (3.0, 4.5),
    "folk": (1.0, 1.2),
    "fiddle": (1.0, 1.2),
}  # mean keys per sounding step; silence misses


def mean_polyphony(active: np.ndarray) -> np.ndarray:
    """(N, T, 88) -> (N,) mean number of keys down over the steps where any key is; 0 if silent."""
    per_step = active.sum(axis=2)
    sounding = per_step > 0
    return np.where(sounding.any(1), per_step.sum(1) / np.maximum(sounding.sum(1), 1), 0.0)


def note_f1(truth: np.ndarray, guess: np.ndarray) -> dict[str, float]:
    """Note-level precision/recall/F1 over (N, 2, T, 88) rolls: a note matches when pitch and
    onset step agree (mir_eval's onset-only criterion on a sixteenth grid)."""
    hits = wanted = made = 0
    for t, g in zip(truth > 0.5, guess > 0.5):
        a = {(p, s) for p, s, _ in roll_to_notes(t[0], t[1])}
        b = {(p, s) for p, s, _ in roll_to_notes(g[0], g[1])}
        hits, wanted, made = hits + len(a & b), wanted + len(a), made + len(b)
    precision, recall = hits / max(made, 1), hits / max(wanted, 1)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / max(precision + recall, 1e-12)}


def clip_features(planes: np.ndarray) -> dict[str, np.ndarray]:
    """Per-clip features of (N, 2, T, 88) rolls: pitch range (semitones), notes per bar,
    mean inter-onset interval (steps), and the pitch-class histogram (N, 12) of onsets."""
    ranges, per_bar, ioi, pch = [], [], [], []
    for roll in planes > 0.5:
        notes = roll_to_notes(roll[0], roll[1])
        pitches = notes[:, 0]
        ranges.append(float(pitches.max() - pitches.min()) if len(notes) else 0.0)
        per_bar.append(len(notes) / (roll.shape[1] / 16))
        onsets = np.unique(notes[:, 1])
        ioi.append(float(np.diff(onsets).mean()) if len(onsets) > 1 else float(roll.shape[1]))
        pch.append(np.bincount(pitches % 12, minlength=12) if len(notes) else np.zeros(12))
    return {
        "pitch_range": np.array(ranges),
        "notes_per_bar": np.array(per_bar),
        "inter_onset_interval": np.array(ioi),
        "pitch_classes": np.array(pch, dtype=float),
    }


def overlap_area(a: np.ndarray, b: np.ndarray, bins: int = 30) -> float:
    """Overlap of two 1-D distributions (histograms on shared bins), 1 = identical."""
    low, high = float(min(a.min(), b.min())), float(max(a.max(), b.max()))
    if high <= low:
        return 1.0
    ha, _ = np.histogram(a, bins=bins, range=(low, high))
    hb, _ = np.histogram(b, bins=bins, range=(low, high))
    return float(np.minimum(ha / ha.sum(), hb / hb.sum()).sum())


def feature_overlaps(samples: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Overlap areas of the features of samples against reference clips; the pitch-class
    entry is the overlap of the two pooled 12-bin onset pitch-class distributions."""
    fs, fr = clip_features(samples), clip_features(reference)
    out = {k: overlap_area(fs[k], fr[k]) for k in ("pitch_range", "notes_per_bar", "inter_onset_interval")}
    ps, pr = fs["pitch_classes"].sum(0), fr["pitch_classes"].sum(0)
    out["pitch_class_histogram"] = float(np.minimum(ps / max(ps.sum(), 1), pr / max(pr.sum(), 1)).sum())
    return out


@torch.inference_mode()
def reconstruction_f1(generator, corpus, batch: int = 128) -> dict[str, float]:
    """Held-out windows through the posterior mean and back (threshold decoding)."""
    model, held = generator.model, corpus.holdout
    guesses = []
    for start in range(0, len(held), batch):
        x, c = held.x[start : start + batch], held.c[start : start + batch]
        mu, _ = model.encode(x, c)
        guesses.append((model.decode(mu, c) > 0).float())
    return note_f1(held.x.numpy(), torch.cat(guesses).numpy()) if len(held) else {}


def decoded_planes(domain, logits, labels: list[str], sampling: str) -> np.ndarray:
    """Clips the domain decodes from `logits` with a given sampling rule: (B, 2, T, K) 0/1."""
    saved = domain.decoding["sampling"]
    try:
        domain.set_decoding("sampling", sampling)
        clips = domain.from_output(logits, condition=labels)
    finally:
        domain.set_decoding("sampling", saved)
    return np.stack([clip.planes() for clip in clips]).astype(np.float32)


def conditional_accuracy(domain, per_combo: list[tuple[str, str, np.ndarray]]) -> dict:
    """Polyphony per style (and the share in each style's target range) and the share of
    samples whose estimated mode is the one asked for, from (style, mode, planes) triples."""
    polyphony, in_range, mode_hits = {}, {}, {}
    for style, mode, planes in per_combo:
        active = planes[:, 0] > 0.5
        poly = mean_polyphony(active)
        polyphony.setdefault(style, []).append(poly)
        low, high = POLYPHONY_TARGETS.get(style, (0.0, 88.0))
        in_range.setdefault(style, []).append((poly >= low) & (poly <= high))
        silent = ~active.any(axis=(1, 2))
        mode_hits.setdefault(mode, []).append((estimate_modes(active) == ("major", "minor").index(mode)) & ~silent)
    return {
        "mean_polyphony": {s: float(np.concatenate(v).mean()) for s, v in polyphony.items()},
        "polyphony_in_target": {
            s: float(np.concatenate(v).mean()) for s, v in in_range.items() if s in POLYPHONY_TARGETS
        },
        "mode_accuracy": {m: float(np.concatenate(v).mean()) for m, v in mode_hits.items()},
    }


def sample_report(generator, corpus, samples: int = 1000, seed: int = 0) -> dict:
    """Reconstruction F1, conditional accuracy over every style and mode (samples split
    evenly, latent temperature 1) under the domain's own decoding, the same for plain
    threshold decoding, and feature overlaps with the training data."""
    domain = generator.domain
    combos = [(s, m) for s in domain.styles for m in ("major", "minor")]
    per = max(samples // len(combos), 1)
    report: dict = {
        "reconstruction_notes": reconstruction_f1(generator, corpus),
        "samples": per * len(combos),
        "decoding": domain.decoding["sampling"],
    }
    shipped, threshold = [], []
    for i, (style, mode) in enumerate(combos):
        z = np.stack([generator.latent_for_seed(seed + i * per + j, 1.0, [style, mode]) for j in range(per)])
        out = generator.decode_output(z, [style, mode])
        shipped.append((style, mode, decoded_planes(domain, out, [style, mode], domain.decoding["sampling"])))
        threshold.append((style, mode, decoded_planes(domain, out, [style, mode], "threshold")))
    report.update(conditional_accuracy(domain, shipped))
    if domain.decoding["sampling"] != "threshold":
        report["threshold_decoding"] = conditional_accuracy(domain, threshold)
    clips = [planes for _, _, planes in shipped]
    train = corpus.train.x
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[: min(len(train), 2000)]
    report["feature_overlap_vs_training"] = feature_overlaps(np.concatenate(clips), train[pick].numpy())
    report["training_mean_polyphony"] = {
        s: float(mean_polyphony(train[corpus.train.c[:, i] > 0.5][:, 0].numpy() > 0.5).mean())
        for i, s in enumerate(domain.styles)
        if (corpus.train.c[:, i] > 0.5).any()
    }
    report["frames_per_item"] = STEPS
    return report
