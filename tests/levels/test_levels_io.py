"""Level files: VGLC .txt <-> tensor <-> .txt is byte-identical, parsing names the bad cell,
and Tiled .tmx/.tmj exports open in pytmx and pytiled-parser with the level's grid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import LEVELS, level_text
from PIL import Image

from generators.core.errors import AssetError, UserError
from generators.levels.domain import Level, LevelsDomain, game_label, parse_vglc

TILE = 16


# --- .txt round trips -----------------------------------------------------------------


def test_window_txt_to_tensor_to_txt_is_byte_identical(tmp_path, domain):
    rows = [row[: domain.width] for row in LEVELS["level-1"]]  # exactly 14 × domain.width
    source = tmp_path / "window.txt"
    source.write_bytes(level_text(rows).encode("utf-8"))

    x = domain.to_tensor(domain.read(source))
    assert x.shape == domain.shape == (11, 14, 28)
    assert torch.equal(x.sum(dim=0), torch.ones(14, 28))  # one-hot: exactly one tile per cell

    back = domain.from_output(x[None])[0]  # one-hot works as logits: argmax picks the tile
    out = tmp_path / "back.txt"
    assert domain.write(back, out) == [out]
    assert out.read_bytes() == source.read_bytes()


def test_peaked_logits_sampled_with_temperature_give_the_same_level(domain):
    level = Level(tuple(row[: domain.width] for row in LEVELS["level-2"]))
    logits = domain.to_tensor(level)[None] * 1000.0
    rng = torch.Generator().manual_seed(3)
    assert domain.from_output(logits, output_temperature=1.0, rng=rng)[0] == level


@pytest.mark.parametrize("stem", sorted(LEVELS))
def test_full_width_level_round_trips_through_indices(tmp_path, game_folder, domain, stem):
    source = game_folder / f"{stem}.txt"
    level = domain.read(source)
    indices = domain.indices(level)
    assert indices.shape == (14, 40)
    out = tmp_path / f"{stem}.txt"
    domain.write(domain.level_from_indices(indices), out)
    assert out.read_bytes() == source.read_bytes()


def test_to_tensor_takes_the_first_window_of_a_wide_level(domain, game_folder):
    level = domain.read(game_folder / "level-1.txt")
    expected = domain.one_hot(domain.indices(level)[:, : domain.width])
    assert torch.equal(domain.to_tensor(level), expected)
    assert domain.encoding_note(level) == "40 columns wide; encoding its first 28"


def test_to_tensor_refuses_a_level_narrower_than_the_window(domain):
    narrow = Level(tuple(row[:10] for row in LEVELS["level-1"]))
    with pytest.raises(AssetError, match="10 columns wide.*at least 28"):
        domain.to_tensor(narrow)


def test_windows_slide_one_column_at_a_time(domain, game_folder):
    level = domain.read(game_folder / "level-3.txt")
    windows = domain.windows(level)
    assert windows.shape == (40 - 28 + 1, 14, 28)
    full = domain.indices(level)
    for start in (0, 5, 12):
        assert np.array_equal(windows[start], full[:, start : start + 28])


def test_window_conditions_follow_the_tiles(domain):
    # level-4's first window with its coins removed: enemy, pipe, bricks and a ? block remain.
    level = Level(tuple(row[:28].replace("o", "-") for row in LEVELS["level-4"]))
    hot = domain.to_tensor(level)[None]
    vector = domain.window_conditions(hot, "tiny-mario")[0].numpy()
    assert domain.conditions.labels == ["enemy", "pipe", "coin", "breakable", "question-block", "tiny-mario"]
    assert domain.conditions.decode(vector) == ["enemy", "pipe", "breakable", "question-block", "tiny-mario"]
    assert domain.labels_of(level) == ["enemy", "pipe", "breakable", "question-block"]


def test_for_data_builds_the_vocabulary_and_game_label_from_the_folder(game_folder):
    domain = LevelsDomain.for_data([game_folder])
    assert domain.chars == list("X-E<>[]oS?Q")
    assert domain.games == ("tiny-mario",)
    assert game_label(game_folder) == "tiny-mario"
    assert domain.empty_char == "-"


# --- parsing --------------------------------------------------------------------------


def test_parse_vglc_rejects_ragged_rows_naming_the_line(legend):
    text = "----\n---\n----\n"
    with pytest.raises(AssetError) as caught:
        parse_vglc(text, "lvl.txt", legend)
    message = str(caught.value)
    assert message.startswith("lvl.txt:2:")
    assert "3 tiles" in message and "row 1 has 4" in message


def test_parse_vglc_rejects_unknown_tiles_naming_line_and_column(legend):
    text = "------\n------\n---Z--\nXXXXXX\n"
    with pytest.raises(AssetError) as caught:
        parse_vglc(text, "lvl.txt", legend)
    assert str(caught.value).startswith("lvl.txt:3:4: unknown tile 'Z'")


def test_parse_vglc_rejects_an_empty_file(legend):
    with pytest.raises(AssetError, match="empty"):
        parse_vglc("\n\n", "lvl.txt", legend)


def test_read_refuses_files_that_are_not_levels(tmp_path, domain):
    with pytest.raises(AssetError, match="does not exist"):
        domain.read(tmp_path / "missing.txt")
    (tmp_path / "pic.png").write_bytes(b"\x89PNG")
    with pytest.raises(AssetError, match="VGLC .txt"):
        domain.read(tmp_path / "pic.png")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(AssetError, match="not UTF-8"):
        domain.read(tmp_path / "binary.txt")


def test_fit_height_pads_short_levels_with_sky_on_top(domain):
    short = Level(("-o--", "XXXX"))
    fitted = domain.fit_height(short)
    assert fitted.height == 14
    assert fitted.rows == ("----",) * 12 + ("-o--", "XXXX")


def test_fit_height_crops_tall_levels_from_the_top(domain):
    tall = Level(tuple(f"{i % 10}" * 3 for i in range(16)))  # rows "000", "111", ... (chars unchecked)
    fitted = domain.fit_height(tall)
    assert fitted.rows == tall.rows[2:]
    assert domain.fit_height(fitted) == fitted


def test_legend_characters_beyond_latin1_are_indexed():
    legend = {"X": ("solid", "ground"), "-": ("passable", "empty"), "█": ("solid",)}
    domain = LevelsDomain(legend, height=2, width=3)
    level = parse_vglc("-█-\nXXX\n", "lvl.txt", legend)
    assert domain.indices(level).tolist() == [[1, 2, 1], [0, 0, 0]]


# --- Tiled exports --------------------------------------------------------------------


def check_tileset_png(path, domain) -> np.ndarray:
    """The tileset exists, is one row of 16×16 tiles in vocabulary order; returns its pixels."""
    assert path.exists()
    with Image.open(path) as image:
        assert image.size == (TILE * len(domain.chars), TILE)
        pixels = np.asarray(image.convert("RGB"))
    one_tile_each = Level(("".join(domain.chars),))
    assert np.array_equal(pixels, domain.render(one_tile_each))
    return pixels


def test_tmx_opens_in_pytmx_with_the_level_grid_and_tileset(tmp_path, domain, game_folder):
    pytmx = pytest.importorskip("pytmx")
    level = domain.read(game_folder / "level-1.txt")
    map_path = tmp_path / "map.tmx"
    tileset_path = tmp_path / domain.tileset_name
    assert domain.write(level, map_path) == [map_path, tileset_path]

    tiled = pytmx.TiledMap(str(map_path))
    assert (tiled.width, tiled.height, tiled.tilewidth, tiled.tileheight) == (40, 14, TILE, TILE)
    grid = tuple(
        "".join(tiled.get_tile_properties_by_gid(tiled.get_tile_gid(x, y, 0))["char"] for x in range(tiled.width))
        for y in range(tiled.height)
    )
    assert grid == level.rows
    assert tiled.get_tile_properties(0, 13, 0)["tags"] == "solid,ground"

    assert tiled.tilesets[0].source == tileset_path.name
    atlas = check_tileset_png(tileset_path, domain)
    preview = domain.render(level)
    for y in range(level.height):  # each cell's tileset region is the picture the preview shows
        for x in range(level.width):
            source, (rx, ry, rw, rh), _ = tiled.get_tile_image(x, y, 0)
            assert Path(source).resolve() == tileset_path.resolve()
            cell = preview[y * TILE : (y + 1) * TILE, x * TILE : (x + 1) * TILE]
            assert np.array_equal(atlas[ry : ry + rh, rx : rx + rw], cell)


def test_tmj_opens_in_pytiled_parser_with_the_level_grid_and_tileset(tmp_path, domain, game_folder):
    pytiled_parser = pytest.importorskip("pytiled_parser")
    level = domain.read(game_folder / "level-2.txt")
    map_path = tmp_path / "map.tmj"
    tileset_path = tmp_path / domain.tileset_name
    assert domain.write(level, map_path) == [map_path, tileset_path]

    tiled = pytiled_parser.parse_map(map_path)
    assert (tiled.map_size.width, tiled.map_size.height) == (40, 14)
    tileset = tiled.tilesets[1]
    char_of = {tile_id + tileset.firstgid: tile.properties["char"] for tile_id, tile in tileset.tiles.items()}
    assert len(char_of) == len(domain.chars)
    grid = tuple("".join(char_of[gid] for gid in row) for row in tiled.layers[0].data)
    assert grid == level.rows

    assert (map_path.parent / tileset.image).resolve() == tileset_path.resolve()
    assert (tileset.image_width, tileset.image_height) == (TILE * len(domain.chars), TILE)
    check_tileset_png(tileset_path, domain)


def test_tmj_gids_are_vocabulary_index_plus_one(tmp_path, domain, game_folder):
    level = domain.read(game_folder / "level-3.txt")
    domain.write(level, tmp_path / "map.tmj")
    data = json.loads((tmp_path / "map.tmj").read_text(encoding="utf-8"))
    assert data["layers"][0]["data"] == (domain.indices(level).reshape(-1) + 1).tolist()
    assert 0 not in data["layers"][0]["data"]  # sky is a tile, not "no tile"


# Tags (and tile characters) that string-formatted XML would break: markup, entities, both quotes,
# a CDATA end, whitespace escapes and text beyond ASCII.
AWKWARD = {
    "X": ("solid", "ground"),
    "-": ("passable", "empty"),
    "&": ("a <b> & c",),
    '"': ('say "hi"', "it's"),
    "'": ("&amp; stays literal", "]]>"),
    "<": ("solid", "top-left pipe", "pipe"),
    "ñ": ("ñandú", "日本語", "emoji 🎮"),
    "🎮": ("tab\there", "line\nbreak", "return\rhere"),
}
AWKWARD_LEVEL = Level(("--&\"'-", "<ñ🎮---", "XXXXXX"))


@pytest.fixture
def awkward_domain() -> LevelsDomain:
    return LevelsDomain(AWKWARD, height=3, width=6)


def test_awkward_tags_round_trip_through_tmx_in_pytmx(tmp_path, awkward_domain):
    pytmx = pytest.importorskip("pytmx")
    import xml.etree.ElementTree as ET

    map_path = tmp_path / "map.tmx"
    awkward_domain.write(AWKWARD_LEVEL, map_path)
    ET.parse(map_path)  # well-formed XML
    tiled = pytmx.TiledMap(str(map_path))
    properties = sorted(tiled.tile_properties.values(), key=lambda p: p["id"])  # pytmx renumbers gids
    assert [p["char"] for p in properties] == list(AWKWARD)
    assert [p["tags"] for p in properties] == [",".join(tags) for tags in AWKWARD.values()]
    grid = tuple(
        "".join(tiled.get_tile_properties_by_gid(tiled.get_tile_gid(x, y, 0))["char"] for x in range(tiled.width))
        for y in range(tiled.height)
    )
    assert grid == AWKWARD_LEVEL.rows


def test_awkward_tags_round_trip_through_tmj_in_pytiled_parser(tmp_path, awkward_domain):
    pytiled_parser = pytest.importorskip("pytiled_parser")
    map_path = tmp_path / "map.tmj"
    awkward_domain.write(AWKWARD_LEVEL, map_path)
    tileset = pytiled_parser.parse_map(map_path).tilesets[1]
    tiles = [tileset.tiles[i].properties for i in range(len(AWKWARD))]
    assert [t["char"] for t in tiles] == list(AWKWARD)
    assert [t["tags"] for t in tiles] == [",".join(tags) for tags in AWKWARD.values()]


def test_a_tag_xml_cannot_hold_is_one_clear_error_and_writes_no_map(tmp_path):
    domain = LevelsDomain({"X": ("solid",), "-": ("bell\x07",)}, height=1, width=2)
    with pytest.raises(AssetError, match=re.escape("cannot write a .tmx map: the tile tags 'bell\\x07' holds")):
        domain.write(Level(("X-",)), tmp_path / "map.tmx")
    assert not (tmp_path / "map.tmx").exists()
    domain.write(Level(("X-",)), tmp_path / "map.tmj")  # JSON escapes it
    assert json.loads((tmp_path / "map.tmj").read_text())["tilesets"][0]["tiles"][1]["properties"][1]["value"] == (
        "bell\x07"
    )


def test_the_tmx_for_the_shipped_legend_is_unchanged_by_the_xml_library(tmp_path):
    """ElementTree writes, byte for byte, the document the hand-formatted writer did."""
    from generators.levels.tiled import tmx_text

    legend = json.loads((Path(__file__).resolve().parents[2] / "checkpoints" / "levels.json").read_text())
    legend = legend["domain_config"]["legend"]
    chars = list(legend)
    indices = np.arange(2 * len(chars)).reshape(2, -1) % len(chars)
    text = tmx_text(indices, chars, [tuple(legend[c]) for c in chars], "tiles.png", 16)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<map version="1.10" orientation="orthogonal"')
    assert '  <image source="tiles.png" width="208" height="16"/>\n' in text
    assert '    <property name="char" value="&lt;"/>\n' in text
    rows = "1,2,3,4,5,6,7,8,9,10,11,12,13"
    assert text.endswith(f'  <data encoding="csv">\n{rows},\n{rows}\n</data>\n </layer>\n</map>\n')


def test_write_refuses_unknown_formats_and_writes_nothing(tmp_path, domain):
    level = Level(tuple(row[:28] for row in LEVELS["level-1"]))
    with pytest.raises(UserError, match="choose one of: txt, png, tmj, tmx"):
        domain.write(level, tmp_path / "level.bmp")
    assert list(tmp_path.iterdir()) == []


def test_png_preview_has_one_16px_tile_per_cell(tmp_path, domain, game_folder):
    level = domain.read(game_folder / "level-1.txt")
    domain.write(level, tmp_path / "level.png")
    with Image.open(tmp_path / "level.png") as image:
        assert image.size == (40 * TILE, 14 * TILE)
        assert np.array_equal(np.asarray(image.convert("RGB")), domain.render(level))


def test_games_whose_legends_disagree_cannot_share_a_model(tmp_path, legend):
    from generators.core.errors import UserError
    from generators.levels.domain import LevelsDomain

    for name, tiles in (("game-a", {c: list(t) for c, t in legend.items()}), ("game-b", {"-": ["climbable", "rope"]})):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "legend.json").write_text(json.dumps({"tiles": tiles}))
    with pytest.raises(UserError, match="game-a and game-b use '-' for different tiles"):
        LevelsDomain.for_data([tmp_path / "game-a", tmp_path / "game-b"])
    # Legends that agree where they overlap merge: SMB2 (Japan) lacks tiles SMB defines.
    (tmp_path / "game-b" / "legend.json").write_text(json.dumps({"tiles": {"-": ["passable", "empty"]}}))
    merged = LevelsDomain.for_data([tmp_path / "game-b", tmp_path / "game-a"])
    assert merged.chars[0] == "-" and set(merged.chars) == set(legend)


def test_from_tensor_is_the_exact_inverse_of_to_tensor(domain, game_folder):
    level = domain.read(game_folder / "level-1.txt")
    window = domain.fit_height(Level(tuple(row[: domain.width] for row in level.rows)))
    assert domain.from_tensor(domain.to_tensor(window)[None]) == [window]
