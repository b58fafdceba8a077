"""`eval`: held-out likelihood bounds and reconstruction for any domain, plus each domain's
sample metrics. Returns plain dicts so the CLI can print a table and write JSON."""

from __future__ import annotations

import torch

from .direction_check import SEEDS, STEP, checkable, direction_checks
from .domain import Corpus
from .generator import Generator
from .vae import elbo_per_item, iwae_bound

# What a report without held-out items means, in words: the `eval` table, its JSON and a card
# say it beside `heldout_items: 0`, and the training wizard shows it, so that a missing
# likelihood is never read as a good one.
NO_HELDOUT = (
    "nothing was held out, so the model was not measured on data it did not see: there is no "
    "held-out likelihood (negative ELBO, IWAE) and no reconstruction score, and nothing here says "
    "whether it overfits; train with items held out (--holdout) to measure them"
)


def heldout_note(report: dict) -> str:
    """The report's held-out part in words where it measured nothing ("" where it did)."""
    return NO_HELDOUT if not report.get("heldout_items") else ""


@torch.inference_mode()
def heldout_report(
    generator: Generator, corpus: Corpus, iwae_k: int = 500, batch: int = 64, progress=lambda done, total: None
) -> dict:
    """Negative ELBO and IWAE bound (nats per item) and reconstruction accuracy on held-out items."""
    model, held = generator.model, corpus.holdout
    if len(held) == 0:
        return {"heldout_items": 0, "heldout": NO_HELDOUT}  # no likelihood to report, and why
    elbos, iwaes, correct = [], [], 0
    for start in range(0, len(held), batch):
        progress(start, len(held))
        x, c = held.x[start : start + batch], held.c[start : start + batch]
        elbos.append(elbo_per_item(model, x, c, samples=8, seed=start))
        iwaes.append(iwae_bound(model, x, c, k=iwae_k, seed=start))
        if generator.model.config.likelihood == "categorical":
            mu, _ = model.encode(x, c)
            correct += int((model.decode(mu, c).argmax(1) == x.argmax(1)).sum())
    cells = held.x.shape[2] * held.x.shape[3]
    report = {
        "heldout_items": len(held),
        "negative_elbo_nats": float(-torch.cat(elbos).mean()),
        "iwae_nats": float(-torch.cat(iwaes).mean()),
        "iwae_k": iwae_k,
    }
    if generator.model.config.likelihood == "categorical":
        report["reconstruction_accuracy"] = correct / (len(held) * cells)
    return report


def evaluate(
    generator: Generator, corpus: Corpus, iwae_k: int = 500, samples: int = 1000, seed: int = 0, log=lambda line: None
) -> dict:
    """Every metric for a generator on its corpus; `log` hears each phase as it starts."""
    if len(corpus.holdout):
        log(f"held-out bounds: {len(corpus.holdout)} items, IWAE with k = {iwae_k}...")
    else:
        log(f"held-out bounds: none ({NO_HELDOUT})")
    report = heldout_report(generator, corpus, iwae_k, progress=lambda done, total: log(f"  {done}/{total} items"))
    log(f"sample metrics: {samples} generated items...")
    # Samples below come from the model's own prior: say which, since it changes them.
    report["sampling_prior"] = (
        "standard normal"
        if generator.prior is None
        else f"mixture fitted to the training codes, up to {generator.prior.components} components per condition"
    )
    report.update(generator.domain.sample_report(generator, corpus, report, samples, seed))
    if checkable(generator):
        log(f"directions: +{STEP:g} along each of {len(checkable(generator))} attribute directions, {SEEDS} items...")
        report["directions"] = direction_checks(generator)
    return report


def flatten(report: dict, prefix: str = "") -> list[tuple[str, object]]:
    """Nested metrics as (dotted name, value) rows for a table."""
    rows = []
    for key, value in report.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += flatten(value, name + ".")
        else:
            rows.append((name, value))
    return rows


def format_table(report: dict) -> str:
    """A two-column text table."""
    rows = flatten(report)
    width = max(len(name) for name, _ in rows)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  -----"]
    for name, value in rows:
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        lines.append(f"{name:<{width}}  {shown}")
    return "\n".join(lines)
