"""Draft decoding: inside `Domain.drafting()` a domain decodes with its `draft_decoding` options
(images: raw pixels, skipping the denoiser), on that thread only, so a grid worker decoding at
the same moment keeps the user's options."""

from __future__ import annotations

import threading

import numpy as np

from generators.registry import load_generator


def test_drafting_decodes_raw_pixels_on_its_own_thread_only():
    images = load_generator("images")
    domain = images.domain
    assert domain.draft_decoding == {"raw_pixels": True} and domain.decoding["raw_pixels"] is False
    z = np.stack([images.latent_for_seed(s) for s in (1, 2)])
    labels = images.labels_for_seed(1)
    full = images.decode(z, labels)
    domain.set_decoding("raw_pixels", True)
    raw = images.decode(z, labels)
    domain.set_decoding("raw_pixels", False)
    seen_elsewhere = []
    with domain.drafting():
        drafted = images.decode(z, labels)
        other = threading.Thread(target=lambda: seen_elsewhere.append(domain.decoding["raw_pixels"]))
        other.start()
        other.join()
    assert seen_elsewhere == [False]  # another thread, meanwhile: the user's options
    assert domain.decoding["raw_pixels"] is False  # and after the block
    for a, b in zip(drafted, raw):
        np.testing.assert_array_equal(a.pixels, b.pixels)
    assert any(not np.array_equal(a.pixels, b.pixels) for a, b in zip(drafted, full))


def test_a_domain_without_draft_options_decodes_the_same_inside_drafting(tiny_generator):
    z = tiny_generator.latent_for_seed(5)[None]
    labels = tiny_generator.labels_for_seed(5)
    with tiny_generator.domain.drafting():
        drafted = tiny_generator.decode(z, labels)[0]
    assert drafted.rows == tiny_generator.decode(z, labels)[0].rows
