"""The music tab's audio transport through pytest-qt: Play writes the preview to a WAV at the
chosen tempo in a worker and hands it to the player (a recording stand-in, so no audio device
is needed); without audio the button is disabled and says why; levels has no transport. The
music tab shows a control per decoding option, and changing one decodes the grid again."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox  # noqa: E402
from test_gui import errors, settings, storage_for, wait_idle  # noqa: E402,F401 - fixtures
from test_music_cli import music_checkpoint  # noqa: E402,F401 - fixture

from generators.music.audio import clip_seconds  # noqa: E402
from gui import audio_transport  # noqa: E402
from gui.audio_transport import AudioUnavailable  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402


class FakePlayer:
    """Stands in for QMediaPlayer: records what it is asked to do."""

    def __init__(self):
        self.calls: list[tuple[str, object]] = []

    def setSource(self, url) -> None:  # noqa: N802 - Qt's name
        self.calls.append(("setSource", url.toLocalFile()))

    def play(self) -> None:
        self.calls.append(("play", None))

    def stop(self) -> None:
        self.calls.append(("stop", None))

    def sources(self) -> list[str]:
        return [arg for name, arg in self.calls if name == "setSource"]


def open_window(qtbot, settings, tiny_checkpoint, music_checkpoint) -> MainWindow:
    missing = Path(settings.fileName()).parent / "no-model.safetensors"  # keep the shipped images model out
    window = MainWindow(
        {"levels": tiny_checkpoint, "music": music_checkpoint, "images": missing},
        settings=settings,
        storage=storage_for(settings),
    )
    qtbot.addWidget(window)
    window.show()
    window.tabs.setCurrentWidget(window.views["music"])  # a tab samples its first grid when first shown
    for name in ("levels", "music"):
        wait_idle(qtbot, window.views[name])
    return window


@pytest.fixture
def players(monkeypatch) -> list[FakePlayer]:
    made: list[FakePlayer] = []

    def make(parent):
        made.append(FakePlayer())
        return made[-1]

    monkeypatch.setattr(audio_transport, "make_player", make)
    return made


def wav_seconds(path: str) -> tuple[int, float]:
    with wave.open(path, "rb") as wav:
        return wav.getnframes(), wav.getnframes() / wav.getframerate()


def test_music_preview_plays_a_wav_at_the_chosen_tempo(
    qtbot, settings, errors, tiny_checkpoint, music_checkpoint, players
):
    window = open_window(qtbot, settings, tiny_checkpoint, music_checkpoint)
    try:
        assert window.views["levels"].preview.transport is None  # no wav: no transport
        view = window.views["music"]
        transport = view.preview.transport
        assert transport is not None and transport.play_button.isEnabled()
        assert view.preview.asset is not None
        assert transport.tempo.value() == round(view.preview.asset.tempo)  # defaults to the clip's tempo
        assert (transport.tempo.minimum(), transport.tempo.maximum()) == (40, 240)
        player = transport.player
        original_tempo = view.preview.asset.tempo
        assert player in players

        durations = {}
        for bpm in (80, 160):
            transport.tempo.setValue(bpm)
            qtbot.mouseClick(transport.play_button, Qt.MouseButton.LeftButton)
            assert transport.play_button.text() == "Stop"
            qtbot.waitUntil(lambda: len(player.sources()) == len(durations) + 1, timeout=20000)
            path = player.sources()[-1]
            assert Path(path).suffix == ".wav" and player.calls[-1] == ("play", None)
            frames, seconds = wav_seconds(path)
            assert frames > 0
            durations[bpm] = seconds
            qtbot.mouseClick(transport.play_button, Qt.MouseButton.LeftButton)  # Stop
            assert player.calls[-1] == ("stop", None) and transport.play_button.text() == "Play"
        assert durations[160] < durations[80]
        clip = view.preview.asset
        expected = clip_seconds(audio_transport.with_tempo(clip, 80)) - clip_seconds(
            audio_transport.with_tempo(clip, 160)
        )
        assert abs((durations[80] - durations[160]) - expected) < 0.25
        assert clip.tempo == original_tempo  # the preview's own clip is untouched
        assert errors == []

        # Space while the preview has focus plays too.
        window.tabs.setCurrentWidget(view)
        window.activateWindow()
        view.preview.view.setFocus()
        qtbot.waitUntil(view.preview.view.hasFocus, timeout=2000)
        qtbot.keyClick(view.preview.view, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: len(player.sources()) == 3, timeout=20000)
        assert transport.play_button.text() == "Stop"
    finally:
        window.close()


def test_transport_without_audio_is_disabled_and_says_why(
    qtbot, settings, errors, tiny_checkpoint, music_checkpoint, monkeypatch
):
    def unavailable(parent):
        raise AudioUnavailable("No audio output device found")

    monkeypatch.setattr(audio_transport, "make_player", unavailable)
    window = open_window(qtbot, settings, tiny_checkpoint, music_checkpoint)
    try:
        transport = window.views["music"].preview.transport
        assert not transport.play_button.isEnabled()
        assert "No audio output device" in transport.play_button.toolTip()
        transport.play()  # no crash: a status message instead
        assert "No audio output device" in window.statusBar().currentMessage()
        assert errors == []
    finally:
        window.close()


def test_failed_render_goes_to_the_status_bar(
    qtbot, settings, errors, tiny_checkpoint, music_checkpoint, players, monkeypatch
):
    window = open_window(qtbot, settings, tiny_checkpoint, music_checkpoint)
    try:
        view = window.views["music"]
        from generators.core.errors import UserError

        def broken(clip, path):
            raise UserError("fluidsynth could not render audio")

        monkeypatch.setattr(view.generator.domain, "write", broken)
        transport = view.preview.transport
        transport.play()
        qtbot.waitUntil(lambda: transport.play_button.text() == "Play", timeout=20000)
        assert "Cannot play audio" in window.statusBar().currentMessage()
        assert transport.player.sources() == [] and errors == []
    finally:
        window.close()


def test_music_tab_has_a_control_per_decoding_option_and_changing_one_decodes_again(
    qtbot, settings, errors, tiny_checkpoint, music_checkpoint, players
):
    window = open_window(qtbot, settings, tiny_checkpoint, music_checkpoint)
    try:
        assert window.views["levels"].controls.decoding == {}  # levels offers no decoding option
        view = window.views["music"]
        generator, domain = view.generator, view.generator.domain
        options = {option.name: option for option in domain.decoding_options}
        controls = view.controls.decoding
        assert set(controls) == set(options) == {"sampling", "note_temperature", "four_tracks"}
        sampling, temperature, tracks = controls["sampling"], controls["note_temperature"], controls["four_tracks"]
        assert isinstance(sampling, QComboBox) and isinstance(tracks, QCheckBox)
        assert isinstance(temperature, QDoubleSpinBox)
        assert tuple(sampling.itemData(i) for i in range(sampling.count())) == options["sampling"].choices
        assert sampling.currentData() == options["sampling"].default and not tracks.isChecked()
        assert options["note_temperature"].above < temperature.minimum() and temperature.maximum() == 10.0
        assert temperature.value() == options["note_temperature"].default
        assert all(box.toolTip() for box in controls.values())

        latents = [item.latent.copy() for item in view.items]
        undo_steps = view.undo_stack.count()
        sampling.setCurrentIndex(sampling.findData("draw"))
        assert domain.decoding["sampling"] == "draw"
        qtbot.waitUntil(lambda: view.undo_stack.count() == undo_steps + 1, timeout=20000)
        wait_idle(qtbot, view)
        # The same items, decoded again under the new setting (grid and preview).
        assert all(np.array_equal(item.latent, z) for item, z in zip(view.items, latents))
        expected = generator.decode_each(np.stack(latents), [list(item.labels) for item in view.items])
        assert all(np.array_equal(item.pixels, domain.render(clip)) for item, clip in zip(view.items, expected))
        shown = generator.decode(view.preview.latent()[None], list(view.preview.labels()))[0]
        assert np.array_equal(domain.render(view.preview.asset), domain.render(shown))

        tracks.setChecked(True)
        assert domain.decoding["four_tracks"] is True
        temperature.setValue(0.5)
        assert domain.decoding["note_temperature"] == 0.5
        wait_idle(qtbot, view)
        assert errors == []
    finally:
        window.close()
