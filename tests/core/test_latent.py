"""Latent arithmetic (lerp, slerp, paths, directions, the map plane) and the Generator's
seeded sampling: item i of a batch from seed S is the single item from seed S + i."""

from __future__ import annotations

import numpy as np
import pytest

from generators.core.errors import UserError
from generators.core.latent import (
    attribute_directions,
    from_plane,
    interpolation_path,
    lerp,
    plane_basis,
    principal_directions,
    sample_latent,
    slerp,
    to_plane,
)

RNG = np.random.default_rng(0)
A = RNG.standard_normal(8).astype(np.float32)
B = RNG.standard_normal(8).astype(np.float32)

DEGENERATE_PAIRS = {
    "parallel": (A, 2.5 * A),
    "identical": (A, A.copy()),
    "anti-parallel": (A, -A),
    "anti-parallel, scaled": (A, -0.5 * A),
    "a is zero": (np.zeros(8, np.float32), B),
    "b is zero": (A, np.zeros(8, np.float32)),
    "both zero": (np.zeros(8, np.float32), np.zeros(8, np.float32)),
    "nearly parallel": (A, A + np.float32(1e-7) * B),
}


@pytest.mark.parametrize("pair", sorted(DEGENERATE_PAIRS))
def test_slerp_is_safe_for_degenerate_pairs(pair):
    a, b = DEGENERATE_PAIRS[pair]
    with np.errstate(all="raise"):  # no division by zero or invalid value on the way
        path = [slerp(a, b, t) for t in np.linspace(0.0, 1.0, 9)]
    assert all(np.isfinite(p).all() for p in path)
    assert np.array_equal(path[0], a) and np.array_equal(path[-1], b)
    assert all(p.dtype == np.float32 and p.shape == (8,) for p in path)


def test_slerp_between_parallel_vectors_is_the_straight_line():
    a, b = DEGENERATE_PAIRS["parallel"]
    assert np.allclose(slerp(a, b, 0.3), 0.7 * a + 0.3 * b, atol=1e-6)


def test_slerp_of_orthogonal_unit_vectors_stays_on_the_circle():
    a, b = np.array([1, 0, 0], np.float32), np.array([0, 1, 0], np.float32)
    mid = slerp(a, b, 0.5)
    assert np.allclose(mid, [np.sqrt(0.5), np.sqrt(0.5), 0.0], atol=1e-6)
    for t in np.linspace(0, 1, 7):
        assert np.linalg.norm(slerp(a, b, t)) == pytest.approx(1.0, abs=1e-6)
    assert np.linalg.norm(lerp(a, b, 0.5)) == pytest.approx(np.sqrt(0.5), abs=1e-6)  # lerp cuts the corner


@pytest.mark.parametrize("blend", [lerp, slerp])
def test_blends_hit_their_endpoints_exactly(blend):
    assert np.array_equal(blend(A, B, 0.0), A)
    assert np.array_equal(blend(A, B, 1.0), B)
    assert not np.allclose(blend(A, B, 0.5), A) and not np.allclose(blend(A, B, 0.5), B)


def test_lerp_midpoint_is_the_mean():
    assert np.allclose(lerp(A, B, 0.5), (A + B) / 2, atol=1e-7)


@pytest.mark.parametrize("mode", ["slerp", "lerp"])
@pytest.mark.parametrize("steps", [2, 5, 16])
def test_interpolation_path_has_steps_rows_from_a_to_b(mode, steps):
    path = interpolation_path(A, B, steps, mode)
    assert path.shape == (steps, 8)
    assert np.array_equal(path[0], A) and np.array_equal(path[-1], B)


def test_one_step_path_is_the_midpoint():
    path = interpolation_path(A, B, 1, "lerp")
    assert path.shape == (1, 8)
    assert np.allclose(path[0], (A + B) / 2, atol=1e-7)


def test_interpolation_path_refuses_unknown_modes():
    with pytest.raises(ValueError, match="unknown interpolation mode 'cubic'"):
        interpolation_path(A, B, 3, "cubic")


def test_sample_latent_depends_only_on_its_seed():
    assert np.array_equal(sample_latent(6, 42), sample_latent(6, 42))
    assert not np.array_equal(sample_latent(6, 42), sample_latent(6, 43))
    assert np.array_equal(sample_latent(6, 42, temperature=0.5), 0.5 * sample_latent(6, 42))
    assert not sample_latent(6, 42, temperature=0.0).any()


def test_principal_directions_are_unit_rows_ordered_by_spread():
    rng = np.random.default_rng(1)
    latents = rng.standard_normal((500, 3)) * np.array([5.0, 2.0, 0.5])
    axes, spread = principal_directions(latents, 2)
    assert axes.shape == (2, 3)
    assert np.allclose(np.linalg.norm(axes, axis=1), 1.0, atol=1e-5)
    assert abs(axes[0, 0]) > 0.99 and abs(axes[1, 1]) > 0.99
    assert spread[0] == pytest.approx(5.0, rel=0.1) and spread[1] == pytest.approx(2.0, rel=0.1)


def test_attribute_direction_is_mean_with_minus_mean_without():
    latents = np.array([[1, 0], [3, 0], [0, 2], [0, 4]], np.float32)
    labels = np.array([[1, 1], [1, 1], [0, 1], [0, 1]], np.float32)  # "all" is on for every item
    found = attribute_directions(latents, labels, ["pipe", "all"])
    assert list(found) == ["pipe"]
    assert np.allclose(found["pipe"], [2.0, -3.0])


def test_map_plane_round_trips_points_on_the_plane():
    rng = np.random.default_rng(2)
    latents = rng.standard_normal((200, 5)).astype(np.float32)
    origin, axes = plane_basis(latents)
    points = rng.standard_normal((10, 2)).astype(np.float32)
    assert np.allclose(to_plane(from_plane(points, origin, axes), origin, axes), points, atol=1e-5)


# --- the Generator's seeded sampling ---------------------------------------------------


def test_batch_item_i_equals_a_single_sample_from_seed_plus_i(tiny_generator):
    batch = tiny_generator.sample(5, condition=["coin"], seed=100)
    assert [item.seed for item in batch] == [100, 101, 102, 103, 104]
    for i, item in enumerate(batch):
        single = tiny_generator.sample(1, condition=["coin"], seed=100 + i)[0]
        assert np.array_equal(single.latent, item.latent)
        assert single.asset == item.asset
        assert single.condition == item.condition and "coin" in item.condition  # its labels: its seed's draw
    assert len({item.asset.text() for item in batch}) > 1


def test_sample_latents_follow_sample_latent(tiny_generator):
    item = tiny_generator.sample(1, seed=9, temperature=0.7)[0]
    assert np.array_equal(item.latent, sample_latent(4, 9, 0.7))
    assert item.asset == tiny_generator.decode(item.latent[None], item.condition)[0]


def test_generator_interpolate_checks_its_arguments(tiny_generator):
    z_a, z_b = sample_latent(4, 1), sample_latent(4, 2)
    assert tiny_generator.interpolate(z_a, z_b, 4).shape == (4, 4)
    with pytest.raises(UserError, match="steps must be between 1 and 256"):
        tiny_generator.interpolate(z_a, z_b, 0)
    with pytest.raises(UserError, match="unknown interpolation mode"):
        tiny_generator.interpolate(z_a, z_b, 3, mode="cubic")


def test_sample_refuses_bad_counts_and_temperatures(tiny_generator):
    with pytest.raises(UserError, match="at least 1"):
        tiny_generator.sample(0, seed=1)
    with pytest.raises(UserError, match="temperature"):
        tiny_generator.sample(1, seed=1, temperature=float("nan"))


def test_encode_then_decode_keeps_the_level_shape(tiny_generator, game_folder):
    level = tiny_generator.domain.read(game_folder / "level-1.txt")
    z = tiny_generator.encode([level])
    assert z.shape == (1, 4) and np.isfinite(z).all()
    decoded = tiny_generator.decode(z)[0]
    assert (decoded.height, decoded.width) == (14, 16)


def test_score_is_a_seeded_elbo_per_item(tiny_generator, game_folder):
    levels = [tiny_generator.domain.read(game_folder / f"level-{i}.txt") for i in (1, 2)]
    first, second = tiny_generator.score(levels), tiny_generator.score(levels)
    assert first.shape == (2,) and np.array_equal(first, second)
    assert (first < 0).all()  # log-likelihood bound of 392 categorical cells


def test_directions_include_labels_and_principal_axes(tiny_generator):
    directions = tiny_generator.directions()
    assert {"pc1", "pc2"} <= set(directions)
    assert "tiny-mario" not in directions  # every training window has it: no direction
    assert set(directions) - {"pc1", "pc2", "pc3", "pc4"} <= set(tiny_generator.domain.conditions.labels)
    assert all(v.shape == (4,) and np.isfinite(v).all() for v in directions.values())
