"""The images domain's decoding options. Kept apart from the domain so the CLI can list them
without loading the images code."""

from __future__ import annotations

from generators.core.domain import DecodingOption

DECODING_OPTIONS = (
    # Decoded icons go through the shipped denoiser (`denoiser.py`), which clears stray pixels
    # the per-pixel palette choice leaves; the yardstick measured what it buys (docs in domain.py).
    DecodingOption(
        "raw_pixels",
        "images: skip the clean-up pass after decoding (the colours exactly as the decoder picks them)",
        False,
        choices=(False, True),
    ),
)
