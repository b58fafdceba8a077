"""Tiled map export: `.tmj` (Tiled JSON) and `.tmx` (Tiled XML) for a grid of tiles.

Both reference one tileset PNG, a single row of 16×16 tiles in vocabulary order, written
next to the map. Tile ids are vocabulary index + 1 (gid 0 means "no tile" in Tiled), so
every cell, sky included, survives a round trip. Each tileset tile carries the VGLC
character and tags as custom properties, so an engine can read what a tile means.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

TILED_VERSION = "1.10"  # the map format version both writers follow


def _tile_properties(chars: list[str], tags: list[tuple[str, ...]]) -> list[list[tuple[str, str]]]:
    return [[("char", char), ("tags", ",".join(t))] for char, t in zip(chars, tags)]


def tmj_text(indices: np.ndarray, chars: list[str], tags: list[tuple[str, ...]], tileset_image: str, tile: int) -> str:
    """Tiled JSON for an (H, W) grid of vocabulary indices."""
    height, width = indices.shape
    tileset = {
        "firstgid": 1,
        "name": Path(tileset_image).stem,
        "image": tileset_image,
        "imagewidth": tile * len(chars),
        "imageheight": tile,
        "tilewidth": tile,
        "tileheight": tile,
        "tilecount": len(chars),
        "columns": len(chars),
        "margin": 0,
        "spacing": 0,
        "tiles": [
            {"id": i, "properties": [{"name": n, "type": "string", "value": v} for n, v in props]}
            for i, props in enumerate(_tile_properties(chars, tags))
        ],
    }
    layer = {
        "id": 1,
        "name": "tiles",
        "type": "tilelayer",
        "x": 0,
        "y": 0,
        "width": width,
        "height": height,
        "opacity": 1,
        "visible": True,
        "data": (indices.reshape(-1) + 1).astype(int).tolist(),
    }
    tiled_map = {
        "type": "map",
        "version": TILED_VERSION,
        "orientation": "orthogonal",
        "renderorder": "right-down",
        "width": width,
        "height": height,
        "tilewidth": tile,
        "tileheight": tile,
        "infinite": False,
        "nextlayerid": 2,
        "nextobjectid": 1,
        "compressionlevel": -1,
        "layers": [layer],
        "tilesets": [tileset],
    }
    return json.dumps(tiled_map, indent=1) + "\n"


def tmx_text(indices: np.ndarray, chars: list[str], tags: list[tuple[str, ...]], tileset_image: str, tile: int) -> str:
    """Tiled XML for an (H, W) grid of vocabulary indices, tile data as CSV."""
    height, width = indices.shape
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<map version="{TILED_VERSION}" orientation="orthogonal" renderorder="right-down" width="{width}" '
        f'height="{height}" tilewidth="{tile}" tileheight="{tile}" infinite="0" nextlayerid="2" nextobjectid="1">',
        f' <tileset firstgid="1" name={quoteattr(Path(tileset_image).stem)} tilewidth="{tile}" tileheight="{tile}" '
        f'tilecount="{len(chars)}" columns="{len(chars)}">',
        f'  <image source={quoteattr(tileset_image)} width="{tile * len(chars)}" height="{tile}"/>',
    ]
    for i, props in enumerate(_tile_properties(chars, tags)):
        lines.append(f'  <tile id="{i}">')
        lines.append("   <properties>")
        lines += [f"    <property name={quoteattr(n)} value={quoteattr(v)}/>" for n, v in props]
        lines.append("   </properties>")
        lines.append("  </tile>")
    lines.append(" </tileset>")
    lines.append(f' <layer id="1" name="tiles" width="{width}" height="{height}">')
    rows = [",".join(str(int(v) + 1) for v in row) for row in indices]
    lines.append('  <data encoding="csv">')
    lines.append(",\n".join(rows))
    lines.append("</data>")
    lines.append(" </layer>")
    lines.append("</map>")
    return "\n".join(lines) + "\n"
