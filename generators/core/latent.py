"""Latent-space arithmetic: seeded sampling, lerp/slerp paths, directions and a 2-D map plane.

Everything here is numpy on vectors of shape (D,) or stacks (N, D); no model involved.
"""

from __future__ import annotations

import numpy as np
import torch


def sample_latent(size: int, seed: int, temperature: float = 1.0) -> np.ndarray:
    """One latent (size,) drawn from N(0, temperature^2 I) with its own seed.

    Each item gets its own seed, so item i of a batch sampled from seed S is the same as a
    single item sampled from seed S + i: any asset can be regenerated from its seed alone.
    torch's CPU generator gives the same numbers on every machine and version we support.
    """
    generator = torch.Generator().manual_seed(int(seed))
    return (torch.randn(size, generator=generator) * float(temperature)).numpy().astype(np.float32)


def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Straight-line blend: a at t=0, b at t=1."""
    return ((1.0 - t) * a + t * b).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float, eps: float = 1e-6) -> np.ndarray:
    """Spherical blend along the great circle, which keeps the norm typical of the prior.

    When a and b are (anti)parallel or one is zero the arc is undefined: sin(angle) is ~0 and
    the usual formula divides by it. Then we fall back to lerp, which is the exact limit for
    parallel vectors and a well-defined path for the others.
    """
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a < eps or norm_b < eps:
        return lerp(a, b, t)
    cos = float(np.clip(np.dot(a, b) / (norm_a * norm_b), -1.0, 1.0))
    angle = np.arccos(cos)
    sin = np.sin(angle)
    if sin < eps:
        return lerp(a, b, t)
    return ((np.sin((1.0 - t) * angle) * a + np.sin(t * angle) * b) / sin).astype(np.float32)


def interpolation_path(a: np.ndarray, b: np.ndarray, steps: int, mode: str = "slerp") -> np.ndarray:
    """`steps` latents from a to b inclusive: (steps, D). One step gives the midpoint."""
    if mode not in ("slerp", "lerp"):
        raise ValueError(f"unknown interpolation mode {mode!r}; use slerp or lerp")
    blend = slerp if mode == "slerp" else lerp
    ts = [0.5] if steps == 1 else np.linspace(0.0, 1.0, steps)
    return np.stack([blend(a, b, float(t)) for t in ts])


def principal_directions(latents: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Top `count` principal axes of a stack of latents: (count, D) unit rows, and the
    standard deviation along each, so a slider can move in units of the data's spread."""
    centred = latents - latents.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    spread = singular / np.sqrt(max(len(latents) - 1, 1))
    return vt[:count].astype(np.float32), spread[:count].astype(np.float32)


def attribute_directions(latents: np.ndarray, labels: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """For each label: mean latent of items with it minus mean of items without it.

    `labels` is (N, L) multi-hot. A label that every item has, or none has, gives no
    direction and is left out.
    """
    directions = {}
    for j, name in enumerate(names):
        has = labels[:, j] > 0.5
        if has.all() or not has.any():
            continue
        directions[name] = (latents[has].mean(axis=0) - latents[~has].mean(axis=0)).astype(np.float32)
    return directions


def plane_basis(latents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D map of latent space: the data mean and its top two principal axes (2, D)."""
    axes, _ = principal_directions(latents, 2)
    return latents.mean(axis=0).astype(np.float32), axes


def to_plane(latents: np.ndarray, origin: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Project (N, D) latents to (N, 2) map coordinates."""
    return (latents - origin) @ axes.T


def from_plane(points: np.ndarray, origin: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Lift (N, 2) map coordinates back to (N, D) latents on the plane."""
    return (origin + points @ axes).astype(np.float32)
