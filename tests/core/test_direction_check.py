"""Direction sliders are checked against what they claim: +3 along "pipe" must make pipes appear
(read by the domain's own detector) in 80% of the items that had none, or the app drops the
slider; labels of exclusive groups (a game, a style) never get one, since the condition controls
set them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from generators.core.conditions import ConditionGroup
from generators.core.direction_check import TARGET, direction_checks, failed


def fake_generator(lift: float):
    """Items are latents; an item shows "pipe" when its first coordinate exceeds 1. The stored
    "pipe" direction adds `lift` to it; "tall" is in an exclusive group and is never checked."""
    groups = (ConditionGroup("pipe", ("pipe",)), ConditionGroup("size", ("tall", "short"), exclusive=True))
    domain = SimpleNamespace(
        conditions=SimpleNamespace(groups=groups, labels=["pipe", "tall", "short"]),
        labels_of=lambda asset: ["pipe"] if asset[0] > 1.0 else [],
    )
    rng = np.random.default_rng(0)
    return SimpleNamespace(
        domain=domain,
        default_temperature=1.0,
        stored_directions=lambda: {"pipe": np.array([lift / 3.0, 0.0]), "tall": np.ones(2), "pc1": np.ones(2)},
        labels_for_seed=lambda seed, condition: [],
        latent_for_seed=lambda seed, temperature, labels: rng.normal(size=2).astype(np.float32),
        decode_each=lambda z, labels: list(np.asarray(z)),
    )


def test_a_direction_that_makes_its_label_appear_passes():
    report = direction_checks(fake_generator(lift=10.0), seeds=200)
    assert set(report) == {"pipe"}  # not the exclusive "tall", not the principal axis
    pipe = report["pipe"]
    assert pipe["eligible"] > 100 and pipe["gained"] == pipe["eligible"]
    assert pipe["success"] == 1.0 and pipe["kept"] == 1.0 and pipe["passes"]


def test_a_direction_that_does_nothing_fails_and_is_named():
    report = direction_checks(fake_generator(lift=0.0), seeds=200)
    assert report["pipe"]["success"] == 0.0 and not report["pipe"]["passes"]
    assert failed(report) == {"pipe"}
    weak = direction_checks(fake_generator(lift=1.0), seeds=200)["pipe"]  # some items cross, most do not
    assert 0.0 < weak["success"] < TARGET and not weak["passes"]


def test_failed_and_exclusive_directions_give_no_slider(tiny_generator, monkeypatch):
    from generators.registry import load_generator

    levels = load_generator("levels")  # two games: each has a stored direction
    exclusive = {lb for g in levels.domain.conditions.groups if g.exclusive for lb in g.labels}
    assert exclusive and exclusive <= set(levels.stored_directions())
    assert not exclusive & set(levels.directions())  # ...but no slider: the game combo sets it
    stored = tiny_generator.stored_directions()
    some = next(name for name in stored if name not in exclusive and not name.startswith("pc"))
    card = dict(tiny_generator.card, metrics={"directions": {some: {"passes": False}}})
    monkeypatch.setattr(tiny_generator, "card", card)
    assert some not in tiny_generator.directions() and "pc1" in tiny_generator.directions()


def test_the_shipped_levels_card_records_its_check_and_drops_what_failed():
    from generators.registry import load_generator

    levels = load_generator("levels")
    report = levels.card["metrics"]["directions"]
    assert set(report) == {"enemy", "pipe", "coin", "breakable", "question-block"}
    assert set(levels.directions()).isdisjoint(failed(report))
