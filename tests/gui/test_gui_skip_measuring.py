"""The training wizard's measuring step can be skipped: once training is done, Cancel reads "Skip
measuring", the status names the phase being measured, and pressing it keeps the trained model,
whose card then says it was not measured (and the Done line says how to measure it)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject, Qt, Slot  # noqa: E402
from test_gui_training import (  # noqa: E402, F401
    dialogs,
    make_wizard,
    storage,
    tiny_models,
    to_report,
    to_training,
    wait_finished,
)

from generators.registry import load_generator  # noqa: E402
from generators.training_run import MEASURING_LINE, MEASURING_SKIPPED  # noqa: E402


class _SkipWhenMeasuringStarts(QObject):
    """Presses Skip measuring on the UI thread while the job waits on its "measuring" log line."""

    def __init__(self, page):
        super().__init__()
        self.page, self.seen = page, []

    @Slot(object, object)
    def message(self, job, message):
        if message[0] == "log" and message[1] == MEASURING_LINE:
            self.seen.append((self.page.state, self.page.cancel_button.text(), self.page.cancel_button.isEnabled()))
            self.page.cancel_training()


def test_skip_measuring_keeps_the_model_and_says_it_was_not_measured(qtbot, storage, game_folder, tmp_path, dialogs):
    wizard = make_wizard(qtbot, storage)
    to_report(qtbot, wizard, game_folder)
    page = wizard.training_page
    skipper = _SkipWhenMeasuringStarts(page)
    page.run_started.connect(
        lambda job: job.signals.message.connect(skipper.message, Qt.ConnectionType.BlockingQueuedConnection)
    )
    out = tmp_path / "models" / "quick.safetensors"
    to_training(qtbot, wizard, epochs=1, out=out)
    wait_finished(qtbot, wizard)
    assert skipper.seen == [("measuring", "Skip measuring", True)]  # offered while measuring
    assert page.state == "done", page.status.text()
    assert "Not measured" in page.status.text() and "eval" in page.status.text()
    card = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["metrics"] == {"measured": False, "note": MEASURING_SKIPPED}
    assert load_generator(out).sample(1, seed=0)  # the model itself is whole
    assert page.cancel_button.text() == "Cancel training" and not page.cancel_button.isEnabled()
