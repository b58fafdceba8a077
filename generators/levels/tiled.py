"""Tiled map export: `.tmj` (Tiled JSON) and `.tmx` (Tiled XML) for a grid of tiles.

Both reference one tileset PNG, a single row of 16×16 tiles in vocabulary order, written
next to the map. Tile ids are vocabulary index + 1 (gid 0 means "no tile" in Tiled), so
every cell, sky included, survives a round trip. Each tileset tile carries the VGLC
character and tags as custom properties, so an engine can read what a tile means.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from generators.core.errors import AssetError

TILED_VERSION = "1.10"  # the map format version both writers follow
# Characters XML 1.0 cannot hold at all, escaped or not (control characters, lone surrogates, U+FFFE/U+FFFF).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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
    """Tiled XML for an (H, W) grid of vocabulary indices, tile data as CSV.

    Built with ElementTree, so every name, character and tag is escaped, whatever it holds."""
    height, width = indices.shape
    for name, value in (pair for props in _tile_properties(chars, tags) for pair in props):
        if NOT_XML.search(value):
            raise AssetError(f"cannot write a .tmx map: the tile {name} {value!r} holds a character XML cannot store")
    count = str(len(chars))
    tiled_map = ET.Element(
        "map",
        {
            "version": TILED_VERSION,
            "orientation": "orthogonal",
            "renderorder": "right-down",
            "width": str(width),
            "height": str(height),
            "tilewidth": str(tile),
            "tileheight": str(tile),
            "infinite": "0",
            "nextlayerid": "2",
            "nextobjectid": "1",
        },
    )
    tileset = ET.SubElement(
        tiled_map,
        "tileset",
        {
            "firstgid": "1",
            "name": Path(tileset_image).stem,
            "tilewidth": str(tile),
            "tileheight": str(tile),
            "tilecount": count,
            "columns": count,
        },
    )
    ET.SubElement(tileset, "image", {"source": tileset_image, "width": str(tile * len(chars)), "height": str(tile)})
    for i, props in enumerate(_tile_properties(chars, tags)):
        properties = ET.SubElement(ET.SubElement(tileset, "tile", {"id": str(i)}), "properties")
        for name, value in props:
            ET.SubElement(properties, "property", {"name": name, "value": value})
    layer = ET.SubElement(tiled_map, "layer", {"id": "1", "name": "tiles", "width": str(width), "height": str(height)})
    data = ET.SubElement(layer, "data", {"encoding": "csv"})
    ET.indent(tiled_map, space=" ")
    # The CSV rows start on the line after <data> and </data> closes at the start of a line, as Tiled writes it.
    data.text = "\n" + ",\n".join(",".join(str(int(v) + 1) for v in row) for row in indices) + "\n"
    body = ET.tostring(tiled_map, encoding="unicode", short_empty_elements=True)
    # ElementTree closes an empty element with " />"; Tiled (and the files this wrote before) with "/>".
    # Attribute values never hold a bare "/" before ">": ElementTree escapes every ">" in them.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body.replace(" />", "/>") + "\n"
