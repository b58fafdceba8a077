"""The "Long piece" page of the music tab through pytest-qt: only a domain that makes pieces
has it; Generate chains a piece of the bars asked from the tab's seed, temperature and
condition in a worker and shows it as one wide picture; Morph A → B takes the tab's endpoints;
a newer request supersedes one in flight; Ctrl+G opens the page; Export… writes a MIDI or WAV
of the whole piece, and a bad path or a failing write reports an error and leaves nothing.
Runs offscreen on the tiny music model (`music_checkpoint`) and the tiny levels model."""

from __future__ import annotations

import threading
import wave
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from test_gui import WAIT_MS, errors, settings, storage_for, wait_idle  # noqa: E402,F401 - shared fixtures
from test_music_cli import music_checkpoint  # noqa: E402,F401 - fixture

from generators.core.conditions import Condition  # noqa: E402
from generators.images.domain import ImagesDomain  # noqa: E402
from generators.levels.domain import LevelsDomain  # noqa: E402
from generators.music import midi  # noqa: E402
from generators.music.art import KEYBOARD_PX, STEP_PX  # noqa: E402
from generators.music.audio import clip_seconds  # noqa: E402
from generators.music.piece import morph_piece, sample_piece  # noqa: E402
from gui import audio_transport, export_dialog, long_piece_panel  # noqa: E402
from gui.long_piece_panel import LongPiecePanel  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402


class SilentPlayer:
    """Stands in for QMediaPlayer (no audio device in a test)."""

    def setSource(self, url) -> None:  # noqa: N802 - Qt's name
        pass

    def play(self) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.fixture
def window(qtbot, settings, errors, tiny_checkpoint, music_checkpoint, monkeypatch):
    monkeypatch.setattr(audio_transport, "make_player", lambda parent: SilentPlayer())
    missing = Path(settings.fileName()).parent / "no-model.safetensors"  # keep the shipped images model out
    window = MainWindow(
        {"levels": tiny_checkpoint, "music": music_checkpoint, "images": missing},
        settings=settings,
        storage=storage_for(settings),
    )
    qtbot.addWidget(window)
    window.show()
    window.tabs.setCurrentWidget(window.views["music"])
    wait_idle(qtbot, window.views["music"])
    yield window
    window.close()


@pytest.fixture
def view(window):
    return window.views["music"]


@pytest.fixture
def panel(view) -> LongPiecePanel:
    assert view.long_piece is not None
    view.centre.setCurrentWidget(view.long_piece)
    view.controls.seed.setValue(3)
    return view.long_piece


def finish(qtbot, panel: LongPiecePanel):
    qtbot.waitUntil(lambda: not panel.busy and not panel.context.runner.busy, timeout=WAIT_MS)
    assert panel.result is not None
    return panel.result


def test_the_page_is_there_only_where_the_domain_makes_pieces(window, view):
    assert view.generator.domain.makes_pieces
    assert not LevelsDomain.makes_pieces and not ImagesDomain.makes_pieces
    pages = [view.centre.tabText(i) for i in range(view.centre.count())]
    assert pages[-1] == "Long piece" and "Full level" not in pages
    levels = window.views["levels"]
    assert levels.long_piece is None
    assert "Long piece" not in [levels.centre.tabText(i) for i in range(levels.centre.count())]
    # Generate → (Ctrl+G) names the page of the tab shown.
    assert window.full_level_action.text() == "Long &piece" and window.full_level_action.isEnabled()
    window.tabs.setCurrentWidget(levels)
    assert window.full_level_action.text() == "&Full level"


def test_generate_chains_a_piece_from_the_tab_seed_temperature_and_condition(qtbot, view, panel, errors):
    view.controls.set_temperature(0.7)
    view.context.set_condition(Condition(("3/4",), ()))  # 12 steps a bar
    panel.bars.setValue(10)
    assert not panel.export_button.isEnabled()
    panel.generate()
    assert panel.busy and panel.progress.isVisible() and not panel.export_button.isEnabled()
    result = finish(qtbot, panel)
    clip = result.clip
    assert clip.metre == "3/4" and clip.steps_per_bar == 12
    assert clip.steps == 10 * clip.steps_per_bar
    request = result.request
    assert (request.seed, request.bars, request.morph) == (3, 10, None)
    assert request.temperature == pytest.approx(0.7) and request.condition == Condition(("3/4",), ())
    # What the page shows is the engine's piece of that seed, temperature and condition.
    expected = sample_piece(view.generator, 3, 10, Condition(("3/4",), ()), 0.7)
    assert np.array_equal(clip.active, expected.active) and np.array_equal(clip.onset, expected.onset)
    image = panel.view.image()
    assert (image.width(), image.height()) == (KEYBOARD_PX + clip.steps * STEP_PX, result.pixels.shape[0])
    assert np.array_equal(result.pixels, view.generator.domain.render(clip))
    # A wide picture: its height fits, and the rest of the piece scrolls sideways.
    assert panel.view.horizontalScrollBar().maximum() > 0
    assert panel.export_button.isEnabled() and not panel.progress.isVisible()
    assert "10 bars from seed 3" in panel.status.text() and "3/4" in panel.status.text()
    assert panel.transport.current_asset() is clip
    assert errors == []


def test_morph_goes_from_endpoint_a_to_b_under_a_labels(qtbot, view, panel, errors, monkeypatch):
    assert not panel.morph_button.isEnabled()  # no endpoints yet
    calls = []

    def spy(generator, z_a, z_b, labels, bars, mode="slerp", progress=None):
        calls.append((np.array(z_a), np.array(z_b), list(labels), bars, mode))
        return morph_piece(generator, z_a, z_b, labels, bars, mode, progress)

    monkeypatch.setattr(long_piece_panel, "morph_piece", spy)
    size = view.generator.latent_size
    z_a, z_b = np.full(size, -0.8, np.float32), np.full(size, 0.9, np.float32)
    labels_a = tuple(view.generator.labels_for_seed(1, Condition(("6/8",), ())))
    view.interpolation.set_endpoint("A", z_a, "left", labels_a)
    assert not panel.morph_button.isEnabled()
    view.interpolation.set_endpoint("B", z_b, "right", tuple(view.generator.labels_for_seed(2)))
    assert panel.morph_button.isEnabled()
    view.interpolation.set_mode("lerp")
    panel.bars.setValue(7)
    panel.morph()
    result = finish(qtbot, panel)
    assert len(calls) == 1
    got_a, got_b, labels, bars, mode = calls[0]
    assert np.array_equal(got_a, z_a) and np.array_equal(got_b, z_b)
    assert labels == list(labels_a) and (bars, mode) == (7, "lerp")
    assert result.clip.metre == "6/8" and result.clip.steps == 7 * result.clip.steps_per_bar
    assert "morph left → right" in panel.status.text()
    assert errors == []


def test_a_newer_request_supersedes_the_one_in_flight(qtbot, view, panel, errors, monkeypatch):
    """The first piece is held at its second clip while a second is asked for: the second is
    shown, the first stops at that clip (no more clips made) and nothing of it is shown."""
    release, held = threading.Event(), threading.Event()
    first_clips: list[int] = []

    def slow(generator, seed, bars, condition=None, temperature=1.0, progress=None):
        def hold(done, total):
            if seed == 11:
                first_clips.append(done)
                held.set()
                release.wait(WAIT_MS / 1000)
            progress(done, total)

        return sample_piece(generator, seed, bars, condition, temperature, hold)

    monkeypatch.setattr(long_piece_panel, "sample_piece", slow)
    shown = []
    monkeypatch.setattr(
        panel, "show_result", lambda result, real=panel.show_result: (shown.append(result), real(result))
    )
    panel.bars.setValue(16)
    view.controls.seed.setValue(11)
    first = panel.generate()
    assert held.wait(WAIT_MS / 1000)
    assert panel.generate_button.isEnabled()  # a newer request may always be made
    view.controls.seed.setValue(12)
    second = panel.generate()
    assert first.cancelled and not second.cancelled and panel.job is second
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert panel.result.request.seed == 12
    release.set()
    qtbot.waitUntil(lambda: not view.context.runner.busy, timeout=WAIT_MS)
    assert [r.request.seed for r in shown] == [12]
    assert first_clips == [1]  # the first stopped at the clip it was held at
    assert "seed 12" in panel.status.text()
    assert errors == []  # superseding is not an error


def test_cancel_keeps_the_piece_shown(qtbot, view, panel, errors, monkeypatch):
    panel.bars.setValue(4)
    panel.generate()
    before = finish(qtbot, panel)
    release = threading.Event()

    def slow(generator, seed, bars, condition=None, temperature=1.0, progress=None):
        release.wait(WAIT_MS / 1000)
        return sample_piece(generator, seed, bars, condition, temperature, progress)

    monkeypatch.setattr(long_piece_panel, "sample_piece", slow)
    view.controls.seed.setValue(4)
    panel.generate()
    assert panel.cancel_button.isEnabled()
    panel.cancel()
    release.set()
    qtbot.waitUntil(lambda: not view.context.runner.busy, timeout=WAIT_MS)
    assert panel.result is before and not panel.busy
    assert panel.status.text().startswith("Cancelled") and errors == []


def test_ctrl_g_opens_the_page_and_makes_a_piece(qtbot, window, view, errors):
    view.centre.setCurrentIndex(0)
    view.long_piece.bars.setValue(5)
    window.full_level_action.trigger()
    assert view.centre.currentWidget() is view.long_piece
    result = finish(qtbot, view.long_piece)
    assert result.clip.steps == 5 * result.clip.steps_per_bar


def test_export_writes_the_whole_piece_as_midi_and_wav(qtbot, view, panel, errors, tmp_path, monkeypatch):
    import pretty_midi

    panel.bars.setValue(12)
    panel.generate()
    clip = finish(qtbot, panel).clip
    out = tmp_path / "out"
    panel.export_to(out / "piece.mid")
    wait_idle(qtbot, view)
    assert errors == []
    read = pretty_midi.PrettyMIDI(str(out / "piece.mid"))
    step = 60.0 / clip.tempo / 4
    notes = clip.notes()
    assert len(notes) > 0
    assert read.get_end_time() == pytest.approx(notes[:, 2].max() * step, abs=1e-3)
    assert sum(len(track.notes) for track in read.instruments) == len(notes)
    starts = sorted(n.start for track in read.instruments for n in track.notes)
    assert starts == pytest.approx(sorted(notes[:, 1] * step), abs=1e-3)
    assert read.time_signature_changes[0].numerator == int(clip.metre.split("/")[0])

    # Export… through the dialog: the extension the filter names, in the folder used last.
    asked = []

    def dialog(parent, title, start, filters):
        asked.append(start)
        return str(out / "again"), "WAV (*.wav)"

    monkeypatch.setattr(export_dialog.QFileDialog, "getSaveFileName", dialog)
    panel.export_with_dialog()
    wait_idle(qtbot, view)
    assert Path(asked[0]).parent == out and Path(asked[0]).name == "music-seed3-12bars.mid"
    with wave.open(str(out / "again.wav"), "rb") as wav:
        assert wav.getnframes() / wav.getframerate() >= clip_seconds(clip)
    assert errors == []


def test_a_failing_export_reports_and_leaves_nothing(qtbot, view, panel, errors, tmp_path, monkeypatch):
    panel.bars.setValue(4)
    panel.generate()
    finish(qtbot, panel)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    panel.export_to(blocker / "piece.mid")
    wait_idle(qtbot, view)
    assert [title for title, _ in errors] == ["Export failed"] and "is a file" in errors[0][1]
    assert blocker.read_text() == "not a folder"

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(midi, "midi_bytes", broken)
    folder = tmp_path / "out"
    panel.export_to(folder / "piece.mid")
    wait_idle(qtbot, view)
    assert len(errors) == 2 and "disk full" in errors[1][1]
    assert [p.name for p in folder.iterdir()] == []  # neither the file nor a half-written temp
    assert view.long_piece.result is not None  # the piece stays, the app runs on
