"""The project's own tile art: a 16×16 picture for every tile, chosen from its legend tags.

No game sprites are used. Each tile is drawn from flat colours and simple shapes picked by
the tags a VGLC legend gives it ("solid", "pipe", "enemy", ...), so any VGLC game gets a
readable palette; a tile with tags we do not know gets a stable colour from its character.
Games drawn on black (those with ladders or ropes, like Lode Runner) get their own look:
diggable bricks versus solid concrete, gold chests, a runner at the spawn and guards.
"""

from __future__ import annotations

import hashlib

import numpy as np

TILE = 16  # pixels per tile side in previews and Tiled tilesets

SKY = (124, 172, 255)
GROUND = (156, 86, 38)
GROUND_DARK = (96, 50, 20)
BRICK = (196, 96, 52)
MORTAR = (92, 44, 22)
GOLD = (246, 196, 40)
USED = (140, 104, 70)
PIPE = (48, 176, 64)
PIPE_LIGHT = (150, 230, 120)
PIPE_DARK = (20, 92, 32)
ENEMY = (214, 48, 48)
CANNON = (58, 58, 70)
LADDER = (236, 236, 236)
STONE = (120, 120, 132)
HAZARD = (255, 100, 0)
NIGHT = (20, 20, 28)  # the background of games drawn on black
CONCRETE = (150, 156, 170)
GUARD = (230, 70, 190)
RUNNER = (90, 230, 255)


def _filled(colour) -> np.ndarray:
    tile = np.empty((TILE, TILE, 3), dtype=np.uint8)
    tile[:] = colour
    return tile


def _disc(tile: np.ndarray, colour, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    yy, xx = np.mgrid[0:TILE, 0:TILE] + 0.5
    tile[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0] = colour
    return tile


def _bevel(tile: np.ndarray, dark) -> np.ndarray:
    tile[-1, :] = dark
    tile[:, -1] = dark
    return tile


def _ground() -> np.ndarray:
    tile = _bevel(_filled(GROUND), GROUND_DARK)
    tile[0, :] = (200, 130, 70)
    return tile


def _brick() -> np.ndarray:
    tile = _filled(BRICK)
    tile[[0, 7, 8, 15], :] = MORTAR
    tile[1:7, [0, 15]] = MORTAR
    tile[9:15, 7] = MORTAR
    return tile


def _question(full: bool) -> np.ndarray:
    tile = _filled(GOLD if full else USED)
    tile[[0, -1], :] = MORTAR
    tile[:, [0, -1]] = MORTAR
    if full:
        tile[4:6, 5:11] = MORTAR  # a blocky question mark
        tile[6:8, 9:11] = MORTAR
        tile[8:10, 7:9] = MORTAR
        tile[11:13, 7:9] = MORTAR
    return tile


def _enemy(background=SKY) -> np.ndarray:
    tile = _disc(_filled(background), ENEMY, 9.5, 8, 6.5, 7)
    tile[12:16, 3:7] = (60, 30, 20)
    tile[12:16, 9:13] = (60, 30, 20)
    tile[6:9, 4:7] = (255, 255, 255)
    tile[6:9, 9:12] = (255, 255, 255)
    return tile


def _pipe(top: bool, left: bool) -> np.ndarray:
    tile = _filled(PIPE)
    edge = 0 if left else TILE - 1
    tile[:, edge] = PIPE_DARK
    tile[:, 3:5] = PIPE_LIGHT if left else PIPE
    if top:
        tile[0:2, :] = PIPE_DARK
        tile[-2:, :] = PIPE_DARK
    return tile


def _coin() -> np.ndarray:
    tile = _disc(_filled(SKY), GOLD, 8, 8, 6, 4)
    tile[4:12, 7:9] = (255, 240, 150)
    return tile


def _cannon(top: bool) -> np.ndarray:
    tile = _bevel(_filled(CANNON), (20, 20, 24))
    if top:
        _disc(tile, (200, 200, 210), 8, 8, 4, 4)
    return tile


def _figure(colour) -> np.ndarray:
    """A stick figure on black: head, body, arms and legs (Lode Runner's runner and guards)."""
    tile = _disc(_filled(NIGHT), colour, 3.5, 8, 2.5, 2.5)
    tile[6:11, 7:9] = colour  # body
    tile[7:9, 3:13] = colour  # arms
    tile[11:15, 5:7] = colour  # legs
    tile[11:15, 9:11] = colour
    return tile


def _concrete() -> np.ndarray:
    """Undiggable solid block: plain grey with a bevel, unlike the mortared bricks."""
    tile = _bevel(_filled(CONCRETE), (80, 84, 96))
    tile[0, :] = tile[:, 0] = (210, 214, 224)
    return tile


def _ladder() -> np.ndarray:
    tile = _filled(NIGHT)
    tile[:, [2, 13]] = LADDER
    tile[[3, 7, 11, 15], 2:14] = LADDER
    return tile


def _rope() -> np.ndarray:
    tile = _filled(NIGHT)
    tile[2:4, :] = (200, 170, 120)
    return tile


def _gold() -> np.ndarray:
    """A gold chest: a lid, a body and a dark band with a clasp."""
    tile = _filled(NIGHT)
    tile[6:15, 2:14] = GOLD
    tile[9, 2:14] = (150, 100, 10)
    tile[8:12, 7:9] = (255, 245, 180)
    return tile


def _hashed(char: str) -> np.ndarray:
    digest = hashlib.sha256(char.encode("utf-8")).digest()
    return _bevel(_filled(tuple(digest[:3])), (0, 0, 0))


def draw_tile(char: str, tags: tuple[str, ...], dark_background: bool = False) -> np.ndarray:
    """A (16, 16, 3) uint8 picture for one legend entry."""
    tags = {t.lower() for t in tags}
    if "enemy" in tags:
        return _figure(GUARD) if dark_background else _enemy()
    if "spawn" in tags or "player" in tags:
        return _figure(RUNNER)
    if "pipe" in tags:
        return _pipe(
            top="top-left pipe" in tags or "top-right pipe" in tags, left="top-left pipe" in tags or "left pipe" in tags
        )
    if "coin" in tags:
        return _coin()
    if "question block" in tags:
        return _question(full="empty question block" not in tags)
    if "breakable" in tags or "diggable" in tags:
        return _brick()
    if "cannon" in tags:
        return _cannon(top="cannon top" in tags)
    if "ladder" in tags:
        return _ladder()
    if "rope" in tags:
        return _rope()
    if "gold" in tags:
        return _gold()
    if "hazard" in tags or "damaging" in tags:
        return _bevel(_filled(HAZARD), (150, 40, 0))
    if "solid" in tags and dark_background:
        return _concrete()
    if "solid" in tags and "ground" in tags:
        return _ground()
    if "solid" in tags or "solidtop" in tags:
        return _bevel(_filled(STONE), (70, 70, 80))
    if "empty" in tags:
        return _filled(NIGHT if dark_background else SKY)
    return _hashed(char)


def tile_atlas(legend: dict[str, tuple[str, ...]]) -> np.ndarray:
    """(T, 16, 16, 3) pictures in vocabulary order. Games whose empty tile is not "-"
    (e.g. Lode Runner) get the dark background their tiles are drawn on."""
    dark = any("ladder" in tags or "rope" in tags for tags in legend.values())
    return np.stack([draw_tile(char, tags, dark_background=dark) for char, tags in legend.items()])
