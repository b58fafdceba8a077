"""A small transport under the preview for domains whose assets are sound (`Domain.plays_audio`:
music): Play/Stop, a tempo box and Open in system player. Play writes the preview's asset, at the
chosen tempo, to a temporary WAV in a worker, then hands it to a QMediaPlayer; while it plays,
`playhead` carries how far through the clip it is (0..1 of `clip_seconds`, the release tail
aside), and None once it stops. QtMultimedia is imported only when a transport is built; when
it (or an audio device) is missing, Play is disabled, a line beside it and the status bar say
why, and Open in system player (always there) becomes the prominent way to listen: it writes the
same WAV and hands it to the desktop's player (QDesktopServices), its failure reported in the
status bar. The assets it plays carry a `tempo` (BPM) and are music clips (for their length).
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from generators.music.audio import clip_seconds

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
    """Play/Stop, tempo and Open in system player for the asset `current_asset()` returns (None:
    nothing to play)."""

    playhead = Signal(object)  # float 0..1: how far through the playing clip; None: stopped

    def __init__(
        self,
        context: ViewContext,
        current_asset: Callable[[], Any],
        parent: QWidget | None = None,
        quiet: bool = False,
    ):
        """`quiet`: say why Play is off only beside it, not in the status bar as well (a second
        transport of a tab, whose first already says so)."""
        super().__init__(parent)
        self.context = context
        self.quiet = quiet
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
        self.open_button = QPushButton("Open in system player")
        self.open_button.setToolTip("Write the preview as a WAV at this tempo and open it in the desktop's player")
        self.open_button.clicked.connect(self.open_externally)
        self.reason = QLabel()  # why Play is off, visible without a tooltip
        self.reason.setWordWrap(True)
        self.reason.hide()
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(QLabel("Tempo"))
        row.addWidget(self.tempo)
        row.addWidget(self.open_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.reason)  # on a line of its own: it must not widen the panel

        self.playing = False  # rendering or playing: the button says Stop
        self._rendering = False  # a WAV is being written (or handed over): ignore "stopped"
        self.last_wav: Path | None = None
        self._generation = 0
        self._count = 0
        self._folder: tempfile.TemporaryDirectory | None = None
        self._seconds = 0.0  # the playing clip's length (the playhead's 1.0)
        self._waiting = False  # to say why Play is off once the tab's work is done
        self.player: Any = None
        self.unavailable: str | None = None
        try:
            self.player = make_player(self)
        except AudioUnavailable as error:
            self.unavailable = str(error)
            self.play_button.setEnabled(False)
            self.play_button.setToolTip(self.unavailable)
            self.reason.setText(f"{self.unavailable}. Play is off: use Open in system player.")
            self.reason.show()
            self.open_button.setStyleSheet("QPushButton { font-weight: bold; }")  # the way to listen now
            self.open_button.setDefault(True)
        if self.player is not None:
            self._watch(self.player)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        # The tab comes into view: the status bar says why Play is off (unless another transport does).
        if self.unavailable and not self.quiet and not event.spontaneous():
            QTimer.singleShot(0, self._tell_after_work)  # once the tab has started its first grid

    def _tell_after_work(self) -> None:
        if self._waiting:
            return
        if self.context.runner.busy:  # after the tab's own work, whose message would hide this one
            self._waiting = True
            self.context.runner.busy_changed.connect(self._tell_when_idle)
        else:
            self._tell_unavailable()

    def _tell_when_idle(self, busy: bool) -> None:
        if not busy:
            self._waiting = False
            self.context.runner.busy_changed.disconnect(self._tell_when_idle)
            self._tell_unavailable()

    def _tell_unavailable(self) -> None:
        self.context.status.emit(f"{self.unavailable}. Play is off: Open in system player still works.")

    # --- the player ---------------------------------------------------------------------------

    def _watch(self, player: Any) -> None:
        error_signal = getattr(player, "errorOccurred", None)
        if error_signal is not None:
            error_signal.connect(lambda error, text="": self._failed(text or str(error)))
        state_signal = getattr(player, "playbackStateChanged", None)
        if state_signal is not None:
            state_signal.connect(self._state_changed)
        position_signal = getattr(player, "positionChanged", None)
        if position_signal is not None:
            position_signal.connect(self.position_changed)

    def position_changed(self, milliseconds: int) -> None:
        """The player is `milliseconds` into the WAV: move the playhead (past the clip's end: 1)."""
        if self.playing and not self._rendering and self._seconds > 0:
            self.playhead.emit(min(milliseconds / 1000.0 / self._seconds, 1.0))

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
        if not playing:
            self.playhead.emit(None)

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

        played = with_tempo(asset, bpm)

        def work(job) -> Path:
            domain.write(played, path)
            return path

        def done(wav: Path) -> None:
            if generation != self._generation:
                return  # stopped, or superseded, while rendering
            self.last_wav = wav
            self._seconds = clip_seconds(played)
            try:  # the old source stops first: _rendering keeps that from resetting the button
                self.player.setSource(QUrl.fromLocalFile(str(wav)))
                self.player.play()
            except Exception as error:  # noqa: BLE001 - a broken audio stack must not end the app
                self._failed(str(error))
                return
            self._rendering = False
            self.playhead.emit(0.0)
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
        self.context.status.emit(f"Cannot play audio: {message} (Open in system player may still work)")

    # --- the desktop's player -----------------------------------------------------------------

    def open_externally(self) -> None:
        """Write the preview at the chosen tempo to a WAV in a worker (atomically: `Domain.write`),
        then open it with the desktop's player; what goes wrong goes to the status bar."""
        asset = self.current_asset()
        if asset is None:
            self.context.status.emit("Nothing to open: choose something to preview first")
            return
        bpm, domain, path = self.tempo.value(), self.context.domain, self._wav_path()
        played = with_tempo(asset, bpm)
        self.open_button.setEnabled(False)
        self.context.status.emit(f"Writing audio at {bpm} BPM for the system player…")

        def work(job) -> Path:
            domain.write(played, path)
            return path

        def done(wav: Path) -> None:
            self.open_button.setEnabled(True)
            self.last_wav = wav
            if QDesktopServices.openUrl(QUrl.fromLocalFile(str(wav))):
                self.context.status.emit(f"Opened {wav} in the system player")
            else:
                self.context.status.emit(f"Could not open {wav} in a system player (none is set up for WAV files?)")

        def failed(message: str) -> None:
            self.open_button.setEnabled(True)
            self.context.status.emit(f"Cannot write audio: {message}")

        self.context.runner.start(work, on_success=done, on_failure=failed)

    def shutdown(self) -> None:
        self.stop()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
