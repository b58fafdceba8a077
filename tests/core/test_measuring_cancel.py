"""Cancelling while a new model is measured keeps the model: `train_and_save` hears each phase of
the measuring through `log`, and a TrainingCancelled raised there skips the rest, leaving a whole
checkpoint whose card says it was not measured and how to measure it."""

from __future__ import annotations

import json

import pytest
from conftest import GAME, HOLDOUT, TINY_CHANNELS, write_game

from generators.core.errors import TrainingCancelled


def test_cancel_while_measuring_keeps_a_whole_unmeasured_model(tmp_path):
    from generators.levels.domain import LevelsDomain
    from generators.registry import load_generator
    from generators.training_run import MEASURING_SKIPPED, TrainingRequest, train_and_save

    heard = []

    def log(line: str) -> None:
        heard.append(line)
        if line.startswith("sample metrics"):  # the user pressed Cancel while the model was measured
            raise TrainingCancelled("cancelled")

    folder = write_game(tmp_path / GAME)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LevelsDomain, "model_channels", TINY_CHANNELS)
        request = TrainingRequest.of(
            domain="levels", data=[folder], out=tmp_path / "m", epochs=1, latent_size=4, holdout=(HOLDOUT,),
            eval_samples=20, iwae_k=4, command="test",
        )  # fmt: skip
        weights, card_path = train_and_save(request, log=log)
    assert any(line.startswith("held-out bounds") for line in heard)  # the phases are told as they start
    card = json.loads(card_path.read_text())
    assert card["metrics"] == {"measured": False, "note": MEASURING_SKIPPED}
    assert "scan_reference" not in card
    assert load_generator(weights).sample(2, seed=1)  # the model itself is whole
    assert not list(tmp_path.glob("m.resume*"))  # nothing left to resume
