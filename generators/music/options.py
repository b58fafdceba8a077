"""The music domain's decoding options: how the decoder's note probabilities become notes and
tracks. Kept apart from the domain so the CLI can list them without loading the music code."""

from __future__ import annotations

from generators.core.domain import DecodingOption

SAMPLING = ("count", "threshold", "bernoulli")  # how decoder probabilities become notes; first is the default

DECODING_OPTIONS = (
    DecodingOption(
        "sampling",
        "music: the expected number of notes per step (default), notes above probability "
        "0.5, or draw each note (seeded)",
        SAMPLING[0],
        choices=SAMPLING,
    ),
    # The draw is Bernoulli(sigmoid(logits / note_temperature)): the music name of the output temperature.
    DecodingOption(
        "note_temperature",
        "music: with --sampling bernoulli, sharpen (<1) or flatten (>1)",
        1.0,
        above=0.0,
        at_most=10.0,
    ),
    DecodingOption("four_tracks", "music: one MIDI track per voice, by pitch order", False, choices=(False, True)),
)
