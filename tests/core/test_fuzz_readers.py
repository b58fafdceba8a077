"""Mutated files never crash a reader: a sound level, PNG and MIDI file with bytes flipped, cut,
inserted or truncated (seeded) either read and encode, or give one UserError. Anything else is the
traceback a user would see."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from generators.core.errors import UserError
from generators.registry import load_generator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bad_inputs  # noqa: E402 - the corpus's file builders

MUTANTS = 400  # per kind; about two seconds in all


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        if op < 0.4 and out:
            out[rng.randrange(len(out))] = rng.randrange(256)
        elif op < 0.6 and out:
            start = rng.randrange(len(out))
            del out[start : start + rng.randint(1, 64)]
        elif op < 0.8:
            at = rng.randrange(len(out) + 1)
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            out = out[: rng.randrange(len(out) + 1)]
    return bytes(out)


SOUND = {
    "levels": ("txt", lambda: bad_inputs.level_text(bad_inputs.GOOD_LEVEL_ROWS).encode("utf-8")),
    "images": ("png", bad_inputs.good_png),
    "music": ("mid", lambda: bad_inputs.midi_file(bad_inputs.good_midi_events(48))),
}


@pytest.mark.parametrize("domain", list(SOUND))
def test_mutated_files_read_or_give_one_user_error(domain, tmp_path):
    ext, make = SOUND[domain]
    generator = load_generator(domain)
    good, rng = make(), random.Random(17)
    read = 0
    for k in range(MUTANTS):
        path = tmp_path / f"mutant-{k}.{ext}"
        path.write_bytes(mutate(good, rng))
        try:
            asset = generator.domain.read(path)
            generator.domain.encoding_note(asset)
            labels = generator.domain.labels_of(asset) or generator.labels_for_seed(0, None)
            generator.encode([asset], generator.condition_labels(labels))
            read += 1
        except UserError as error:
            assert "\n" not in str(error), str(error)
    assert 0 < read < MUTANTS or domain == "images"  # the mutants are neither all fine nor all refused
