"""The music domain's decoding options: how the decoder's note probabilities become notes and
tracks. Kept apart from the domain so the CLI can list them without loading the music code."""

from __future__ import annotations

from generators.core.domain import DecodingOption

SAMPLING = ("likeliest", "draw")  # how the decoder's token probabilities become notes; first is the default

DECODING_OPTIONS = (
    DecodingOption(
        "sampling",
        "music: the likeliest token of each voice and step (default), or draw each (seeded)",
        SAMPLING[0],
        choices=SAMPLING,
    ),
    # The draw is from softmax(logits / note_temperature): the music name of the output temperature.
    DecodingOption(
        "note_temperature",
        "music: with --sampling draw, sharpen (<1) or flatten (>1)",
        1.0,
        above=0.0,
        at_most=10.0,
    ),
    DecodingOption("four_tracks", "music: one MIDI track per voice, by pitch order", False, choices=(False, True)),
)
