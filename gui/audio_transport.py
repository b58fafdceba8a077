"""A small transport under the preview for domains whose assets are sound (`Domain.plays_audio`:
music): Play/Stop and a tempo box. Play writes the preview's asset, at the chosen tempo, to a
temporary WAV in a worker, then hands it to a QMediaPlayer. QtMultimedia is imported only when a
transport is built; when it (or an audio device) is missing, the button is disabled and its
tooltip says why. Nothing here knows what a clip is beyond the `tempo` (BPM) that the assets of
a domain that plays audio carry.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from .context import ViewContext

MIN_BPM, MAX_BPM, DEFAULT_BPM = 40, 240, 100


class AudioUnavailable(Exception):
    """Why audio cannot play here (one line, for a tooltip or the status bar)."""


def make_player(parent: QWidget) -> Any:
    """A QMediaPlayer with an audio output, or AudioUnavailable saying why not (tests replace this)."""
    try:
        from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer
    except Exception as error:  # noqa: BLE001 - a missing library (e.g. libpulse) is an ImportError, or worse
        raise AudioUnavailable(f"Audio playback is unavailable (QtMultimedia: {error})") from None
    try:
        if not QMediaDevices.audioOutputs():
            raise AudioUnavailable("No audio output device found")
        player = QMediaPlayer(parent)
        output = QAudioOutput(player)
        player.setAudioOutput(output)
        player._audio_output = output  # keep the Python wrapper alive with the player
    except AudioUnavailable:
        raise
    except Exception as error:  # noqa: BLE001
        raise AudioUnavailable(f"Audio playback is unavailable: {error}") from None
    return player


def with_tempo(asset: Any, bpm: float) -> Any:
    """A copy of `asset`, a sound of a domain that `plays_audio` (it has a `tempo`), at tempo `bpm`."""
    if dataclasses.is_dataclass(asset) and not isinstance(asset, type):
        return dataclasses.replace(asset, tempo=float(bpm))
    twin = copy.copy(asset)
    twin.tempo = float(bpm)
    return twin


class AudioTransport(QWidget):
    """Play/Stop and tempo for the asset `current_asset()` returns (None: nothing to play)."""

    def __init__(self, context: ViewContext, current_asset: Callable[[], Any], parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.current_asset = current_asset
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the preview as audio (Space while the preview has focus)")
        self.tempo = QSpinBox()
        self.tempo.setRange(MIN_BPM, MAX_BPM)
        self.tempo.setValue(DEFAULT_BPM)
        self.tempo.setSuffix(" BPM")
        self.tempo.setToolTip("Playback tempo; starts at the clip's own tempo")
        self.tempo_touched = False  # once the user sets a tempo, new previews keep it
        self.tempo.valueChanged.connect(self._tempo_edited)
        self.play_button.clicked.connect(self.toggle)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.play_button)
        layout.addWidget(QLabel("Tempo"))
        layout.addWidget(self.tempo)
        layout.addStretch(1)

        self.playing = False  # rendering or playing: the button says Stop
        self._rendering = False  # a WAV is being written (or handed over): ignore "stopped"
        self.last_wav: Path | None = None
        self._generation = 0
        self._count = 0
        self._folder: tempfile.TemporaryDirectory | None = None
        self.player: Any = None
        self.unavailable: str | None = None
        try:
            self.player = make_player(self)
        except AudioUnavailable as error:
            self.unavailable = str(error)
            self.play_button.setEnabled(False)
            self.play_button.setToolTip(self.unavailable)
        if self.player is not None:
            self._watch(self.player)

    # --- the player ---------------------------------------------------------------------------

    def _watch(self, player: Any) -> None:
        error_signal = getattr(player, "errorOccurred", None)
        if error_signal is not None:
            error_signal.connect(lambda error, text="": self._failed(text or str(error)))
        state_signal = getattr(player, "playbackStateChanged", None)
        if state_signal is not None:
            state_signal.connect(self._state_changed)

    def _state_changed(self, state: Any) -> None:
        name = getattr(state, "name", str(state))
        if "Stopped" in name and not self._rendering:
            self._set_playing(False)

    # --- tempo --------------------------------------------------------------------------------

    def _tempo_edited(self, _value: int) -> None:
        self.tempo_touched = True

    def asset_changed(self, asset: Any) -> None:
        """The preview shows a new asset: take its tempo unless the user chose one."""
        if asset is None or not self.context.domain.plays_audio or self.tempo_touched:
            return
        bpm = asset.tempo
        self.tempo.blockSignals(True)
        self.tempo.setValue(int(round(min(max(float(bpm), MIN_BPM), MAX_BPM))))
        self.tempo.blockSignals(False)

    # --- play and stop ------------------------------------------------------------------------

    def toggle(self) -> None:
        if self.playing:
            self.stop()
        else:
            self.play()

    def _set_playing(self, playing: bool) -> None:
        self.playing = playing
        self.play_button.setText("Stop" if playing else "Play")

    def _wav_path(self) -> Path:
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="latent-forge-audio-")
        self._count += 1  # a fresh name each time: the player may still hold the last file
        return Path(self._folder.name) / f"preview-{self._count}.wav"

    def play(self) -> None:
        """Write the preview asset at the chosen tempo to a WAV in a worker, then play it."""
        if self.player is None:
            self.context.status.emit(self.unavailable or "Audio playback is unavailable")
            return
        asset = self.current_asset()
        if asset is None:
            self.context.status.emit("Nothing to play: choose something to preview first")
            return
        self._generation += 1
        generation, bpm, domain, path = self._generation, self.tempo.value(), self.context.domain, self._wav_path()
        self._rendering = True
        self._set_playing(True)
        self.context.status.emit(f"Rendering audio at {bpm} BPM…")

        def work(job) -> Path:
            domain.write(with_tempo(asset, bpm) if domain.plays_audio else asset, path)
            return path

        def done(wav: Path) -> None:
            if generation != self._generation:
                return  # stopped, or superseded, while rendering
            self.last_wav = wav
            try:  # the old source stops first: _rendering keeps that from resetting the button
                self.player.setSource(QUrl.fromLocalFile(str(wav)))
                self.player.play()
            except Exception as error:  # noqa: BLE001 - a broken audio stack must not end the app
                self._failed(str(error))
                return
            self._rendering = False
            self.context.status.emit(f"Playing at {bpm} BPM")

        def failed(message: str) -> None:
            if generation == self._generation:
                self._failed(message)

        self.context.runner.start(work, on_success=done, on_failure=failed)

    def stop(self) -> None:
        self._generation += 1  # a render still in flight will not start playing
        self._rendering = False
        if self.player is not None:
            try:
                self.player.stop()
            except Exception:  # noqa: BLE001
                pass
        self._set_playing(False)

    def _failed(self, message: str) -> None:
        self._rendering = False
        self._set_playing(False)
        self.context.status.emit(f"Cannot play audio: {message}")

    def shutdown(self) -> None:
        self.stop()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
