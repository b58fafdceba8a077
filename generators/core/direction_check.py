"""Do the direction sliders do what their names say? An attribute direction ("pipe") is kept as
a slider only if moving an item's latent +3 along it makes the label appear, as the domain's own
detector reads it from the decoded asset (`Domain.labels_of`), for at least 80% of the items that
did not show it. Items are the ones `sample` makes of seeds 0..N-1 with every label open, each
decoded before and after the move under the same label set, as the app's sliders do.

`evaluate` records the figures in a card's metrics (`metrics.directions`), and `Generator.
directions()` leaves out any direction that failed, so the app never offers a slider that misleads.
Labels of exclusive groups (a game, a style, a mode) are not checked: the condition controls set
them, and a slider for them would duplicate the combo box."""

from __future__ import annotations

import numpy as np

from .conditions import Condition

STEP = 3.0  # the move checked: three slider units, the slider's end
TARGET = 0.8  # share of items that must come to show the label
SEEDS = 100  # items checked per direction


def checkable(generator) -> list[str]:
    """Attribute directions of labels that are not part of an exclusive group, in label order."""
    stored = generator.stored_directions()
    exclusive = {label for group in generator.domain.conditions.groups if group.exclusive for label in group.labels}
    return [label for label in generator.domain.conditions.labels if label in stored and label not in exclusive]


def direction_checks(generator, seeds: int = SEEDS, step: float = STEP, first_seed: int = 0) -> dict:
    """{label: {"gained", "eligible", "success", "kept", "kept_of", "passes"}} per checkable direction.
    `success` is gained / eligible: of the items not showing the label, the share that show it after
    the move; `kept` is the share of those already showing it that still do (a good direction does
    not take the label away). A label no item lacks has success None and passes."""
    names = checkable(generator)
    if not names:
        return {}
    stored = generator.stored_directions()
    seed_list = range(first_seed, first_seed + seeds)
    labels = [generator.labels_for_seed(s, Condition()) for s in seed_list]
    temperature = generator.default_temperature
    z = np.stack([generator.latent_for_seed(s, temperature, lb) for s, lb in zip(seed_list, labels)])
    shown_before = [set(generator.domain.labels_of(a)) for a in generator.decode_each(z, labels)]
    report = {}
    for name in names:
        moved = z + step * np.asarray(stored[name], dtype=np.float32)
        shown_after = [set(generator.domain.labels_of(a)) for a in generator.decode_each(moved, labels)]
        lacked = [name not in b for b in shown_before]
        gained = sum(1 for lack, after in zip(lacked, shown_after) if lack and name in after)
        had = len(lacked) - sum(lacked)
        kept = sum(1 for lack, after in zip(lacked, shown_after) if not lack and name in after)
        success = gained / sum(lacked) if any(lacked) else None
        report[name] = {
            "gained": gained,
            "eligible": sum(lacked),
            "success": success,
            "kept": kept / had if had else None,
            "kept_of": had,
            "passes": success is None or success >= TARGET,
        }
    return report


def failed(report: dict) -> set[str]:
    """The directions a card's `metrics.directions` says failed the check."""
    if not isinstance(report, dict):
        return set()
    return {name for name, figures in report.items() if isinstance(figures, dict) and figures.get("passes") is False}
