"""The music transport without audio and with a playhead, through pytest-qt: when no player can
be made, the status bar and a line beside Play say why, and Open in system player writes a WAV
and hands it to the desktop (QDesktopServices, replaced here), reporting a refusal; while a clip
plays, the player's position moves a line over the piano roll, mapped past the keyboard strip,
and Stop clears it. The last test plays through a real audio device and skips without one."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject, Qt, Signal  # noqa: E402
from PySide6.QtGui import QDesktopServices  # noqa: E402
from test_gui import errors, settings, storage_for, wait_idle  # noqa: E402,F401 - fixtures
from test_gui_music import FakePlayer, open_window  # noqa: E402
from test_music_cli import music_checkpoint  # noqa: E402,F401 - fixture

from generators.music.art import KEYBOARD_PX, playhead_x  # noqa: E402
from generators.music.audio import clip_seconds  # noqa: E402
from gui import audio_transport  # noqa: E402
from gui.audio_transport import AudioUnavailable, with_tempo  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402


class SignallingPlayer(QObject, FakePlayer):
    """A stand-in for QMediaPlayer with its signals, so a test can move the position."""

    positionChanged = Signal(int)  # noqa: N815 - Qt's name
    playbackStateChanged = Signal(object)  # noqa: N815
    errorOccurred = Signal(object, str)  # noqa: N815

    def __init__(self):
        QObject.__init__(self)
        FakePlayer.__init__(self)


@pytest.fixture
def no_audio(monkeypatch):
    def unavailable(parent):
        raise AudioUnavailable("No audio output device found")

    monkeypatch.setattr(audio_transport, "make_player", unavailable)


@pytest.fixture
def opened(monkeypatch) -> list:
    """Records each URL handed to the desktop; `opened.answer` is what openUrl returns."""
    urls: list = []

    def open_url(url):
        urls.append(url.toLocalFile())
        return open_url.answer

    open_url.answer = True
    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    return urls


def test_without_audio_the_status_bar_and_a_label_say_why(
    qtbot, settings, errors, tiny_checkpoint, music_checkpoint, no_audio
):
    missing = Path(settings.fileName()).parent / "no-model.safetensors"
    window = MainWindow(
        {"levels": tiny_checkpoint, "music": music_checkpoint, "images": missing},
        settings=settings,
        storage=storage_for(settings),
    )
    qtbot.addWidget(window)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    window.show()
    music, levels = window.views["music"], window.views["levels"]
    try:
        window.tabs.setCurrentWidget(music)
        wait_idle(qtbot, music)
        qtbot.waitUntil(lambda: any("No audio output device" in m for m in messages), timeout=5000)
        said = next(m for m in messages if "No audio output device" in m)
        assert "Open in system player" in said
        # After the tab's own first message (the grid), not hidden under it.
        assert messages.index(said) > max(i for i, m in enumerate(messages) if m.startswith("Sample seed"))
        transport = music.preview.transport
        assert not transport.play_button.isEnabled()
        assert transport.reason.isVisible() and "No audio output device" in transport.reason.text()
        assert transport.open_button.isVisible() and transport.open_button.isEnabled()
        assert "bold" in transport.open_button.styleSheet()

        wait_idle(qtbot, levels)
        window.tabs.setCurrentWidget(levels)
        window.tabs.setCurrentWidget(music)  # back on the tab: said again
        qtbot.waitUntil(lambda: "No audio output device" in window.statusBar().currentMessage(), timeout=5000)
        assert errors == []
    finally:
        window.close()


def test_open_in_system_player_writes_a_wav_and_hands_it_to_the_desktop(
    qtbot, settings, errors, tiny_checkpoint, music_checkpoint, no_audio, opened
):
    window = open_window(qtbot, settings, tiny_checkpoint, music_checkpoint)
    try:
        view = window.views["music"]
        transport = view.preview.transport
        transport.tempo.setValue(120)
        qtbot.mouseClick(transport.open_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(opened) == 1, timeout=20000)
        path = Path(opened[0])
        assert path.suffix == ".wav" and path == transport.last_wav
        with wave.open(str(path), "rb") as wav:
            seconds = wav.getnframes() / wav.getframerate()
        clip = with_tempo(view.preview.asset, 120)
        assert clip_seconds(clip) <= seconds < clip_seconds(clip) + 3  # the clip plus its release tail
        assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left beside it
        assert "Opened" in window.statusBar().currentMessage()
        assert transport.open_button.isEnabled()

        opened.clear()
        QDesktopServices.openUrl.answer = False  # no player for WAV files on this desktop
        transport.open_externally()
        qtbot.waitUntil(lambda: len(opened) == 1, timeout=20000)
        assert "Could not open" in window.statusBar().currentMessage()
        assert Path(opened[0]) != path  # a fresh file each time
        assert errors == []
    finally:
        window.close()


def test_open_in_system_player_is_there_when_audio_works_too(
    qtbot, settings, errors, tiny_checkpoint, music_checkpoint, monkeypatch, opened
):
    monkeypatch.setattr(audio_transport, "make_player", lambda parent: FakePlayer())
    window = open_window(qtbot, settings, tiny_checkpoint, music_checkpoint)
    try:
        transport = window.views["music"].preview.transport
        assert transport.play_button.isEnabled() and not transport.reason.isVisible()
        transport.open_button.click()
        qtbot.waitUntil(lambda: len(opened) == 1, timeout=20000)
        assert errors == []
    finally:
        window.close()


def test_the_playhead_follows_the_player_and_stop_clears_it(
    qtbot, settings, errors, tiny_checkpoint, music_checkpoint, monkeypatch
):
    made: list[SignallingPlayer] = []
    monkeypatch.setattr(audio_transport, "make_player", lambda parent: made.append(SignallingPlayer()) or made[-1])
    window = open_window(qtbot, settings, tiny_checkpoint, music_checkpoint)
    try:
        preview = window.views["music"].preview
        transport, marker = preview.transport, preview.view.marker
        player = transport.player  # the preview's (the Long piece page has a player of its own)
        assert player in made
        assert not marker.isVisible()
        transport.tempo.setValue(90)
        player.positionChanged.emit(500)  # not playing: no playhead
        assert not marker.isVisible()
        transport.play()
        qtbot.waitUntil(lambda: len(player.sources()) == 1, timeout=20000)
        width = preview.view.image().width()
        assert marker.isVisible() and marker.line().x1() == KEYBOARD_PX  # the roll's first step
        assert marker.line().y2() == preview.view.image().height()

        seconds = clip_seconds(with_tempo(preview.asset, 90))
        player.positionChanged.emit(int(seconds * 1000 / 2))
        half = KEYBOARD_PX + (width - KEYBOARD_PX) / 2
        assert abs(marker.line().x1() - half) < 1.0 and marker.line().x1() == marker.line().x2()
        player.positionChanged.emit(int(seconds * 1000 / 4))
        assert abs(marker.line().x1() - playhead_x(width, 0.25)) < 1.0
        player.positionChanged.emit(int(seconds * 1000) + 200)  # the release tail: held at the end
        assert marker.line().x1() == width

        qtbot.mouseClick(transport.play_button, Qt.MouseButton.LeftButton)  # Stop
        assert not marker.isVisible()
        transport.play()
        qtbot.waitUntil(lambda: len(player.sources()) == 2, timeout=20000)
        assert marker.isVisible()
        player.playbackStateChanged.emit(type("State", (), {"name": "StoppedState"})())  # it played to the end
        assert not marker.isVisible() and transport.play_button.text() == "Play"
        assert errors == []
    finally:
        window.close()


def test_a_real_audio_device_moves_the_playhead(qtbot, settings, errors, tiny_checkpoint, music_checkpoint):
    window = open_window(qtbot, settings, tiny_checkpoint, music_checkpoint)
    try:
        preview = window.views["music"].preview
        transport = preview.transport
        if transport.player is None:
            pytest.skip(f"no audio device here: {transport.unavailable}")
        transport.tempo.setValue(240)
        transport.play()
        qtbot.waitUntil(lambda: preview.view.marker.line().x1() > KEYBOARD_PX + 8, timeout=20000)
        transport.stop()
        assert not preview.view.marker.isVisible()
        assert errors == []
    finally:
        window.close()
