"""Clips -> WAV audio: FluidSynth with a General MIDI SoundFont when both are installed
(Debian: `fluidsynth` and `fluid-soundfont-gm`), else a small additive synthesiser of our own.

The built-in synth is numpy only and writes 16-bit mono PCM with the stdlib `wave` module:
each note is a few harmonics under an attack/decay/release envelope, so held notes ring
and repeated notes re-attack. Its output length is the clip plus a short release tail.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from generators.core.errors import UserError

from .midi import midi_bytes
from .roll import STEPS_PER_QUARTER, Clip

SAMPLE_RATE = 22050
RELEASE_SECONDS = 0.25
SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
)


def find_soundfont() -> Path | None:
    """A General MIDI SoundFont: $LATENT_FORGE_SOUNDFONT, else a usual system path."""
    candidates = [os.environ.get("LATENT_FORGE_SOUNDFONT", "")] + list(SOUNDFONTS)
    return next((Path(p) for p in candidates if p and Path(p).is_file()), None)


def fluidsynth_available() -> bool:
    return shutil.which("fluidsynth") is not None and find_soundfont() is not None


def clip_seconds(clip: Clip) -> float:
    return clip.steps * 60.0 / float(clip.tempo) / STEPS_PER_QUARTER


def synth_samples(clip: Clip, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Additive synthesis of a clip: float32 mono in [-1, 1], clip length + release tail."""
    step = 60.0 / float(clip.tempo) / STEPS_PER_QUARTER
    total = int(round((clip.steps * step + RELEASE_SECONDS) * sample_rate))
    out = np.zeros(total, dtype=np.float64)
    release = int(RELEASE_SECONDS * sample_rate)
    gain = clip.velocity / 127.0
    for pitch, start, end in clip.notes():
        first, held = int(round(start * step * sample_rate)), int(round((end - start) * step * sample_rate))
        length = min(held + release, total - first)
        t = np.arange(length) / sample_rate
        freq = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
        tone = sum(np.sin(2 * np.pi * freq * h * t) / h**1.5 for h in (1, 2, 3, 4) if freq * h < sample_rate / 2)
        envelope = np.minimum(1.0, t / 0.01) * np.exp(-t * 1.5)  # 10 ms attack, gentle decay
        after = np.arange(length) - held
        envelope *= np.where(after > 0, np.maximum(0.0, 1.0 - after / release), 1.0)
        out[first : first + length] += gain * tone * envelope
    peak = np.abs(out).max()
    if peak > 0.9:  # chords add up: scale down rather than clip
        out *= 0.9 / peak
    return out.astype(np.float32)


def wav_bytes(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono PCM WAV of float samples in [-1, 1]."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(pcm.tobytes())
    return buffer.getvalue()


def builtin_wav(clip: Clip) -> bytes:
    return wav_bytes(synth_samples(clip))


def fluidsynth_wav(clip: Clip, four_tracks: bool = False, sample_rate: int = 44100) -> bytes:
    """Render through the fluidsynth program with the first General MIDI SoundFont found."""
    soundfont = find_soundfont()
    with tempfile.TemporaryDirectory(prefix="latent-forge-") as folder:
        mid, wav = Path(folder) / "clip.mid", Path(folder) / "clip.wav"
        mid.write_bytes(midi_bytes(clip, four_tracks))
        command = [
            "fluidsynth",
            "-ni",
            "-q",
            "-g",
            "0.8",
            "-r",
            str(sample_rate),
            "-F",
            str(wav),
            str(soundfont),
            str(mid),
        ]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=120)
            return wav.read_bytes()
        except (OSError, subprocess.SubprocessError) as exc:
            raise UserError(f"fluidsynth could not render audio: {str(exc).splitlines()[0]}") from None


def render_wav(clip: Clip, synth: str = "auto", four_tracks: bool = False) -> bytes:
    """WAV bytes; `synth` is "auto" (FluidSynth if available), "fluidsynth" or "builtin"."""
    if synth == "fluidsynth" or (synth == "auto" and fluidsynth_available()):
        if not fluidsynth_available():
            raise UserError("fluidsynth or a General MIDI SoundFont is not installed")
        return fluidsynth_wav(clip, four_tracks)
    return builtin_wav(clip)
