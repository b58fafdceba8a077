"""The music domain's decoding options: how the decoder's note probabilities become notes and
tracks. Kept apart from the domain so the CLI can list them without loading the music code."""

from __future__ import annotations

from generators.core.domain import DecodingOption

# How the decoder's token probabilities become notes; the first is the default. "rhythm" draws
# only whether each voice rests, holds or strikes, and strikes its likeliest pitch: the model's
# own rhythm with the pitches that keep the key (bench/bench_music_sampling.py). Not the default:
# a file the user opens comes back most faithfully from the likeliest tokens.
SAMPLING = ("likeliest", "draw", "rhythm")

DECODING_OPTIONS = (
    DecodingOption(
        "sampling",
        "music: the likeliest token of each voice and step (default), draw each (seeded), or draw"
        " only the rhythm (rest, hold or strike; seeded) and strike the likeliest pitch",
        SAMPLING[0],
        choices=SAMPLING,
    ),
    # The draw is from softmax(logits / note_temperature): the music name of the output temperature.
    DecodingOption(
        "note_temperature",
        "music: with --sampling draw or rhythm, sharpen (<1) or flatten (>1)",
        1.0,
        above=0.0,
        at_most=10.0,
    ),
    DecodingOption("four_tracks", "music: one MIDI track per voice, by pitch order", False, choices=(False, True)),
)
