"""Typicality within a domain's `typicality_groups` (music: style and metre): a 4/4 chorale is
ranked among 4/4 chorales, and a domain without groups ranks among everything."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from test_music_cli import music_checkpoint  # noqa: E402,F401 - fixture

from generators.core.conditions import Condition  # noqa: E402
from generators.registry import load_generator  # noqa: E402
from gui.items import Item  # noqa: E402
from gui.typicality import TypicalityReference, with_scores  # noqa: E402


def test_items_rank_among_samples_of_their_own_style(music_checkpoint):
    generator = load_generator(music_checkpoint, domain="music")
    reference = TypicalityReference(generator, count=16)
    anything = Condition()
    assert reference.narrowed(anything, ["folk", "major", "c", "4/4"]) == Condition(("folk", "4/4"), ())
    asked = Condition(("chorale",), ())
    assert reference.narrowed(asked, ["chorale", "minor", "3/4"]) == Condition(("chorale", "3/4"), ())
    samples = generator.sample(6, anything, seed=3)
    items = [Item(s.latent, tuple(s.condition), s.asset, None, s.seed) for s in samples]
    scored = with_scores(generator, items, anything, reference)
    for item in scored:
        style = next(lb for lb in item.labels if lb in generator.domain.styles)
        metre = next(lb for lb in item.labels if "/" in lb)
        own = reference.scores(Condition((style, metre), ()))
        assert item.percentile == pytest.approx(100 * (own <= item.score).mean())
        assert item.atypical == (item.score < np.percentile(own, 5))
    generator.domain.typicality_groups = ()  # an instance attribute: this generator only
    assert reference.narrowed(anything, ["folk"]) == anything
