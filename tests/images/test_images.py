"""The images domain without a model: reading every odd kind of file (modes, sizes, formats,
broken files, decompression bombs), writing PNG, GIF, APNG and sprite sheets, decoding
semantics, the emoji cache and ImageFolder data, and the prep script on a tiny fake
package. Every image is built in code with Pillow (or by hand, for headers Pillow will not
write)."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT
from PIL import Image

from generators.core.errors import AssetError, UserError
from generators.images.data import ImageSet, is_holdout, load_cache, load_images, save_cache
from generators.images.domain import EMOJI_CATEGORIES, ImagesDomain
from generators.images.files import MAX_PIXELS, animation_bytes, read_image, sprite_sheet


@pytest.fixture
def domain() -> ImagesDomain:
    return ImagesDomain()


def rgba_pattern(seed: int = 0, size: int = 64) -> np.ndarray:
    """(size, size, 4) uint8 with every alpha level present, RGB 0 where alpha is 0 (as read)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size, size, 4), dtype=np.uint8)
    pixels[..., 3] = np.arange(size * size, dtype=np.int64).reshape(size, size) % 256
    pixels[pixels[..., 3] == 0, :3] = 0
    return pixels


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width × height RGBA pixels but holds no pixel data (a bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def png_16bit_rgba(values: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGBA PNG of uint16 (H, W, 4) values (Pillow cannot write one)."""
    height, width, _ = values.shape
    rows = b"".join(b"\0" + values[y].astype(">u2").tobytes() for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Every kind of unreadable input, and the fragment its one-line error must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "good.png"
    Image.fromarray(rgba_pattern()).save(good)
    cases = {
        "empty": (b"", "is empty (0 bytes)"),
        "text": (b"a picture of a cat\n", "is a text file, not a PNG, JPEG, GIF or WebP image"),
        "truncated": (good.read_bytes()[:400], "is a damaged PNG file"),
        "garbage": (bytes(range(256)) * 4, "is not a PNG, JPEG, GIF or WebP image (its format is unknown or damaged)"),
        "bomb": (png_header_only(30000, 30000), "too large to decode safely"),
        "large": (png_header_only(7000, 7000), "7000×7000 pixels, too large to decode safely"),
    }
    files = {}
    for name, (data, fragment) in cases.items():
        path = folder / f"{name}.png"
        path.write_bytes(data)
        files[name] = (path, fragment)
    good.unlink()
    return files


# --- reading ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "apng"])
def test_read_write_keeps_alpha_exactly(tmp_path, domain, fmt):
    pixels = rgba_pattern()
    path = tmp_path / f"a.{fmt}"
    assert domain.write(domain.from_tensor(torch.from_numpy(pixels).permute(2, 0, 1)[None] / 255.0)[0], path) == [path]
    again = domain.read(path)
    assert np.array_equal(again.pixels, pixels) and again.notes == ()


def test_gif_keeps_alpha_as_one_bit(tmp_path, domain):
    pixels = rgba_pattern()
    pixels[..., :3] = (pixels[..., :3] // 64) * 64  # few colours, so the palette holds them all
    pixels[pixels[..., 3] == 0, :3] = 0
    domain.write(domain.from_tensor(torch.from_numpy(pixels).permute(2, 0, 1)[None] / 255.0)[0], tmp_path / "a.gif")
    again = domain.read(tmp_path / "a.gif").pixels
    visible = pixels[..., 3] >= 128
    assert np.array_equal(again[..., 3], np.where(visible, 255, 0))
    assert np.array_equal(again[visible, :3], pixels[visible, :3])


def save(image: Image.Image, path: Path, **options) -> Path:
    image.save(path, **options)
    return path


def test_grayscale_palette_and_transparency_modes(tmp_path):
    gray = np.arange(64 * 64, dtype=np.int64).reshape(64, 64).astype(np.uint8)
    picture = read_image(save(Image.fromarray(gray), tmp_path / "l.png"))
    assert np.array_equal(picture.pixels[..., 0], gray) and (picture.pixels[..., 3] == 255).all()
    assert np.array_equal(picture.pixels[..., 1], gray) and np.array_equal(picture.pixels[..., 2], gray)
    assert picture.notes == ("converted from L to RGBA",)

    la = Image.merge("LA", (Image.fromarray(gray), Image.fromarray(255 - gray)))
    assert np.array_equal(read_image(save(la, tmp_path / "la.png")).pixels[..., 3], 255 - gray)

    palette = Image.fromarray((gray // 64).astype(np.uint8), "P")
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
    pixels = read_image(save(palette, tmp_path / "p.png", transparency=2)).pixels
    assert (pixels[gray // 64 == 2, 3] == 0).all() and (pixels[gray // 64 == 1] == [255, 0, 0, 255]).all()


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path):
    values = (np.arange(64 * 64 * 4, dtype=np.int64).reshape(64, 64, 4) * 16 % 65536).astype(np.uint16)
    (tmp_path / "rgba16.png").write_bytes(png_16bit_rgba(values))
    pixels = read_image(tmp_path / "rgba16.png").pixels.astype(int)
    expected = np.round(values / 257.0)
    visible = values[..., 3] >= 257
    assert np.abs(pixels[..., 3] - expected[..., 3]).max() <= 1
    assert np.abs(pixels[visible, :3] - expected[visible, :3]).max() <= 1

    gray16 = (np.arange(64 * 64, dtype=np.int64).reshape(64, 64) * 16).astype("<u2")
    Image.fromarray(gray16).save(tmp_path / "gray16.png")
    assert Image.open(tmp_path / "gray16.png").mode.startswith("I")
    picture = read_image(tmp_path / "gray16.png")
    assert np.abs(picture.pixels[..., 0].astype(int) - np.round(gray16 / 257.0)).max() <= 1
    assert picture.pixels[..., 0].max() > 200  # scaled to 8 bits, not clipped at 255 raw


def test_cmyk_jpeg_webp_and_gif_first_frame(tmp_path):
    colour = np.zeros((64, 64, 3), dtype=np.uint8)
    colour[:, :32] = (200, 40, 40)
    colour[:, 32:] = (30, 60, 220)
    cmyk = read_image(save(Image.fromarray(colour).convert("CMYK"), tmp_path / "c.jpg", quality=95))
    assert np.abs(cmyk.pixels[..., :3].astype(int) - colour).mean() < 6 and (cmyk.pixels[..., 3] == 255).all()
    assert cmyk.notes == ("converted from CMYK to RGBA",)

    webp = read_image(save(Image.fromarray(rgba_pattern(1)), tmp_path / "w.webp", lossless=True, exact=True))
    assert np.array_equal(webp.pixels, rgba_pattern(1))

    frames = [Image.fromarray(np.full((64, 64, 3), c, np.uint8)) for c in ((255, 0, 0), (0, 0, 255))]
    first = read_image(save(frames[0], tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50))
    assert (first.pixels == [255, 0, 0, 255]).all()
    assert "used the first of 2 frames" in first.notes


ADOBE_RGB = Path("/usr/share/color/icc/ghostscript/a98.icc")  # Adobe RGB (1998), from Ghostscript, if installed


def test_colour_profiles_become_srgb(tmp_path):
    from PIL import ImageCms

    pixels = np.full((64, 64, 4), (100, 150, 80, 200), np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    plain = read_image(save(Image.fromarray(pixels), tmp_path / "srgb.png", icc_profile=srgb))
    assert np.array_equal(plain.pixels, pixels) and plain.notes == ()
    broken = read_image(save(Image.fromarray(pixels), tmp_path / "broken.png", icc_profile=b"not a profile" * 20))
    assert np.array_equal(broken.pixels, pixels) and broken.notes == (
        "ignored a colour profile that could not be read",
    )
    if not ADOBE_RGB.exists():
        pytest.skip("no Adobe RGB profile on this machine")
    wide = read_image(save(Image.fromarray(pixels), tmp_path / "adobe.png", icc_profile=ADOBE_RGB.read_bytes()))
    assert wide.notes[-1].startswith("converted colours from") and wide.notes[-1].endswith("to sRGB")
    assert (wide.pixels[..., 3] == 200).all() and wide.pixels[0, 0, 0] < 90  # Adobe RGB's wider green: sRGB red drops


def test_any_size_is_fitted_with_aspect_kept_on_transparency(tmp_path):
    wide = np.zeros((50, 200, 4), dtype=np.uint8)
    wide[...] = (10, 200, 30, 255)
    pixels = read_image(save(Image.fromarray(wide), tmp_path / "wide.png")).pixels
    opaque_rows = np.flatnonzero(pixels[..., 3].any(axis=1))
    assert len(opaque_rows) == 16 and opaque_rows[0] == 24  # 200×50 -> 64×16, centred
    assert (pixels[opaque_rows][..., :3] == (10, 200, 30)).all() and (pixels[pixels[..., 3] == 0, :3] == 0).all()

    sprite = (np.arange(16 * 16, dtype=np.int64).reshape(16, 16) % 7 * 30).astype(np.uint8)
    small = read_image(save(Image.fromarray(sprite), tmp_path / "sprite.png"))
    assert np.array_equal(small.pixels[..., 0], np.kron(sprite, np.ones((4, 4), np.uint8)))  # whole-factor nearest
    assert small.notes[-1] == "fitted 16×16 into 64×64"

    odd = read_image(save(Image.fromarray(np.full((10, 20, 4), 255, np.uint8)), tmp_path / "odd.png"))
    opaque = np.argwhere(odd.pixels[..., 3] > 0)
    assert opaque.min(0).tolist() == [17, 2] and opaque.max(0).tolist() == [46, 61]  # 60×30 centred
    assert "padded with transparency" in odd.notes[-1]


def test_every_bad_file_is_one_clear_error(tmp_path):
    for name, (path, fragment) in bad_files(tmp_path).items():
        with pytest.raises(AssetError) as caught:
            read_image(path)
        message = str(caught.value)
        assert fragment in message and "\n" not in message and str(path) in message, (name, message)
    with pytest.raises(AssetError, match="does not exist"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(AssetError, match="is a folder"):
        read_image(tmp_path)


def test_bomb_limits_apply_in_every_zone(tmp_path):
    """Over our limit but under Pillow's warning, in Pillow's warning zone, over its error."""
    for side in (7000, 10000, 20000):
        assert side * side > MAX_PIXELS
        path = tmp_path / f"b{side}.png"
        path.write_bytes(png_header_only(side, side))
        with pytest.raises(AssetError, match="too large to decode safely"):
            read_image(path)


# --- writing ----------------------------------------------------------------------------


def test_sprite_sheet_atlas_matches_sheet(tmp_path, domain):
    pictures = domain.from_tensor(
        torch.stack([torch.from_numpy(rgba_pattern(s)).permute(2, 0, 1) for s in range(5)]) / 255.0
    )
    names = [f"item{s}" for s in range(5)]
    image_path, atlas_path = domain.write_batch(pictures, names, tmp_path / "out")
    assert (image_path.name, atlas_path.name) == ("out.png", "out.json")
    sheet = np.asarray(Image.open(image_path))
    atlas = json.loads(atlas_path.read_text())
    check_atlas(sheet, atlas, dict(zip(names, (p.pixels for p in pictures))), "out.png")
    assert atlas["meta"]["grid"] == {"columns": 3, "rows": 2} and sheet.shape == (128, 192, 4)
    assert (sheet[64:, 128:] == 0).all()  # the unused cell is transparent


def check_atlas(sheet: np.ndarray, atlas: dict, items: dict, image_name: str) -> None:
    """Every frame rectangle of the atlas holds exactly its item; the meta names the sheet."""
    assert atlas["meta"]["image"] == image_name
    assert atlas["meta"]["size"] == {"w": sheet.shape[1], "h": sheet.shape[0]}
    assert list(atlas["frames"]) == list(items)
    for name, pixels in items.items():
        rect = atlas["frames"][name]["frame"]
        assert np.array_equal(sheet[rect["y"] : rect["y"] + rect["h"], rect["x"] : rect["x"] + rect["w"]], pixels), name


def test_animations_hold_every_frame_in_order(tmp_path):
    frames = [rgba_pattern(s) for s in range(3)]
    apng = Image.open(io.BytesIO(animation_bytes(frames, "apng")))
    assert apng.n_frames == 3 and apng.info.get("loop") == 0
    for index, pixels in enumerate(frames):
        apng.seek(index)
        assert np.array_equal(np.asarray(apng.convert("RGBA")), pixels)
    gif = Image.open(io.BytesIO(animation_bytes(frames, "gif")))
    assert gif.n_frames == 3
    assert animation_bytes(frames, "gif") == animation_bytes(frames, "gif")  # same pixels, same bytes
    with pytest.raises(ValueError):
        sprite_sheet(frames[:2], ["same", "same"], "x.png")


def test_write_refuses_unknown_extensions(tmp_path, domain):
    picture = domain.from_tensor(torch.zeros(1, 4, 64, 64))[0]
    with pytest.raises(UserError, match="choose one of: png, gif, apng$"):
        domain.write(picture, tmp_path / "a.bmp")
    assert domain.check_format("x.sheet", batch=True) == "sheet"
    assert list(tmp_path.iterdir()) == []


# --- decoding ---------------------------------------------------------------------------


def test_from_output_mean_and_seeded_samples(domain):
    domain.set_decoding("raw_pixels", True)  # the logistic's own values, without the clean-up pass
    mean = torch.rand(2, 4, 64, 64, generator=torch.Generator().manual_seed(1))
    params = torch.cat([mean * 1.2 - 0.1, torch.full_like(mean, -3.0)], dim=1)  # (2, 8, 64, 64), some means off [0, 1]
    pictures = domain.from_output(params)
    expected = np.round(np.clip(mean.numpy() * 1.2 - 0.1, 0, 1) * 255).astype(np.uint8).transpose(0, 2, 3, 1)
    expected[expected[..., 3] == 0, :3] = 0
    assert all(np.array_equal(p.pixels, e) for p, e in zip(pictures, expected))
    draw = [domain.from_output(params, 1.0, torch.Generator().manual_seed(s)) for s in (5, 5, 6)]
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(draw[0], draw[1]))
    assert not np.array_equal(draw[0][0].pixels, draw[2][0].pixels)
    spread = np.abs(draw[0][0].pixels.astype(int) - pictures[0].pixels.astype(int))
    visible = (draw[0][0].pixels[..., 3] > 0) & (pictures[0].pixels[..., 3] > 0)
    assert 0 < spread[visible].mean() < 40  # a scale of e^-3 ~ 0.05 (13 levels) around the mean


def test_tensor_round_trip_and_card(domain):
    x = torch.from_numpy(rgba_pattern(3)).permute(2, 0, 1)[None].float() / 255.0
    pictures = domain.from_tensor(x)
    assert torch.equal(domain.to_tensor(pictures[0])[None], x) and domain.shape == (4, 64, 64)
    again = ImagesDomain.from_card(json.loads(json.dumps(domain.to_card())))
    assert again.conditions == domain.conditions
    assert domain.conditions.labels[:9] == list(EMOJI_CATEGORIES) and domain.conditions.labels[9:] == [
        "noto",
        "twemoji",
    ]
    with pytest.raises(UserError, match="image size"):
        ImagesDomain.from_card(dict(domain.to_card(), size=32))


# --- data -------------------------------------------------------------------------------


def write_image_folder(root: Path) -> Path:
    """Two labels with four 32×32 sprites each, one broken file, one empty label folder."""
    for label, colour in (("cats", (220, 90, 30)), ("dogs", (40, 90, 220))):
        (root / label).mkdir(parents=True, exist_ok=True)
        for k in range(4):
            pixels = np.zeros((32, 32, 4), dtype=np.uint8)
            pixels[4 + k : 28 - k, 4 + k : 28 - k] = (*colour, 255)
            Image.fromarray(pixels).save(root / label / f"{label}{k}.png")
    (root / "dogs" / "broken.png").write_text("not really a picture")
    (root / "birds").mkdir()
    return root


def test_image_folder_labels_skips_and_split(tmp_path):
    root = write_image_folder(tmp_path / "sprites")
    domain, corpus = ImagesDomain.prepare_training([root], holdout=("cats/cats1.png",))
    assert domain.conditions.labels == ["cats", "dogs"] and domain.groups == (("label", ("cats", "dogs")),)
    skipped = {Path(entry["file"]).name: entry["reason"] for entry in corpus.description["skipped"]}
    assert set(skipped) == {"broken.png", "birds"} and "text file" in skipped["broken.png"]
    assert "cats/cats1.png" in corpus.holdout.names and len(corpus.train) + len(corpus.holdout) == 8
    assert corpus.description["sources"][0]["converted_files"] == 8  # every 32×32 sprite was enlarged
    index = corpus.train.names.index("dogs/dogs0.png")
    assert corpus.train.c[index].tolist() == [0.0, 1.0]
    assert corpus.train.x.shape[1:] == (4, 64, 64) and float(corpus.train.x[index, 3].max()) == 1.0
    again = domain.heldout_corpus([root], {"data": corpus.description})
    assert again.holdout.names == corpus.holdout.names
    with pytest.raises(UserError, match="'nope' is not in the image data"):
        ImagesDomain.prepare_training([root], holdout=("nope",))


def tiny_cache(path: Path) -> ImageSet:
    """Six emoji in two styles, as prep_images writes them."""
    names = ["grinning", "cat", "pizza", "car", "star", "flag-fr"]
    categories = [0, 2, 3, 4, 7, 8]
    data = ImageSet(
        pixels=np.stack([rgba_pattern(s) for s in range(12)]),
        labels=np.array([[c, style] for style in (0, 1) for c in categories], dtype=np.int64),
        groups=[("category", EMOJI_CATEGORIES), ("style", ("noto", "twemoji"))],
        names=[f"{style}/{n}" for style in ("noto", "twemoji") for n in names],
        keys=names * 2,
        description={"source": "test", "licences": {"noto": {"licence": "Apache License 2.0"}}},
    )
    save_cache(path, data)
    return data


def test_cache_round_trip_and_both_styles_on_one_side(tmp_path):
    data = tiny_cache(tmp_path / "c.npz")
    again = load_cache(tmp_path / "c.npz")
    assert np.array_equal(again.pixels, data.pixels) and np.array_equal(again.labels, data.labels)
    assert again.names == data.names and again.keys == data.keys and again.groups == data.groups
    assert again.description["licences"]["noto"]["licence"] == "Apache License 2.0"
    domain, corpus = ImagesDomain.prepare_training([tmp_path / "c.npz"], holdout=("pizza",))
    held = set(corpus.holdout.names)
    assert {"noto/pizza", "twemoji/pizza"} <= held
    for name in data.keys:
        assert (f"noto/{name}" in held) == (f"twemoji/{name}" in held) == (is_holdout(name) or name == "pizza")
    assert corpus.description["sources"][0]["licences"]["noto"]["licence"] == "Apache License 2.0"
    # eval rebuilds the split the card records, rule included
    assert (
        domain.heldout_corpus([tmp_path / "c.npz"], {"data": corpus.description}).holdout.names == corpus.holdout.names
    )
    halves = domain.heldout_corpus([tmp_path / "c.npz"], {"data": dict(corpus.description, holdout_every=2)})
    assert set(halves.holdout.names) == {n for n, k in zip(data.names, data.keys) if is_holdout(k, ("pizza",), 2)}
    assert len(corpus.train) > 0
    for row, name in enumerate(corpus.train.names):
        assert domain.conditions.decode(corpus.train.c[row].numpy()) == data.label_names(data.names.index(name))
    assert data.label_names(data.names.index("twemoji/car")) == ["travel-places", "twemoji"]


def test_bad_caches_and_mixed_sources_are_refused(tmp_path):
    np.savez(tmp_path / "pickled.npz", pixels=np.array([{"a": 1}], dtype=object))
    (tmp_path / "text.npz").write_text("hello")
    for name in ("pickled.npz", "text.npz"):
        with pytest.raises(UserError, match="is not a Latent Forge image cache"):
            load_images([tmp_path / name])
    tiny_cache(tmp_path / "c.npz")
    with pytest.raises(UserError, match="label different things"):
        load_images([tmp_path / "c.npz", write_image_folder(tmp_path / "sprites")])
    with pytest.raises(UserError, match="does not exist"):
        load_images([tmp_path / "nowhere"])
    folder_domain, _ = ImagesDomain.prepare_training([tmp_path / "sprites"])
    with pytest.raises(UserError, match="no 'category' labels"):
        ImagesDomain().corpus([tmp_path / "sprites"])
    with pytest.raises(UserError, match="label 'cats' in the data is not one this model knows"):
        ImagesDomain((("label", ("dogs",)),)).corpus([tmp_path / "sprites"])
    assert folder_domain.corpus([tmp_path / "sprites"]).description["train_items"] > 0


# --- the prep script --------------------------------------------------------------------


def fake_package(root: Path, folder: str, flag: str) -> Path:
    """An unpacked emoji-datasource package with four emoji, one with skin tones, one Component."""
    images = root / "img" / folder / "64"
    images.mkdir(parents=True)
    entries = []
    for order, (short, category, tones) in enumerate(
        [
            ("grinning", "Smileys & Emotion", False),
            ("wave", "People & Body", True),
            ("light_skin_tone", "Component", False),
            ("flag-fr", "Flags", False),
        ]
    ):
        entry = {"short_name": short, "image": f"{short}.png", "category": category, "sort_order": order, flag: True}
        if tones:
            entry["skin_variations"] = {"1F3FB": {"image": f"{short}-1f3fb.png", flag: True}}
            Image.fromarray(rgba_pattern(order + 10)).save(images / f"{short}-1f3fb.png")
        Image.fromarray(rgba_pattern(order)).save(images / entry["image"])
        entries.append(entry)
    (root / "emoji.json").write_text(json.dumps(entries))
    return root


def run_prep(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/prep_images.py", "--quiet", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_prep_script_on_a_fake_package(tmp_path):
    google = fake_package(tmp_path / "google", "google", "has_img_google")
    twitter = fake_package(tmp_path / "twitter", "twitter", "has_img_twitter")
    proc = run_prep("--google", google, "--twitter", twitter, "--out", tmp_path / "cache.npz")
    assert proc.returncode == 0, proc.stderr
    data = load_cache(tmp_path / "cache.npz")
    assert data.names == [
        "noto/grinning",
        "noto/wave",
        "noto/flag-fr",
        "twemoji/grinning",
        "twemoji/wave",
        "twemoji/flag-fr",
    ]
    assert data.keys == ["grinning", "wave", "flag-fr"] * 2
    assert [EMOJI_CATEGORIES[i] for i in data.labels[:3, 0]] == ["smileys-emotion", "people-body", "flags"]
    assert data.labels[:, 1].tolist() == [0, 0, 0, 1, 1, 1]
    assert np.array_equal(data.pixels[1], rgba_pattern(1))
    licences = data.description["licences"]
    assert licences["noto"]["licence"] == "Apache License 2.0" and "CC-BY" in licences["twemoji"]["licence"]
    assert "Twemoji" in licences["twemoji"]["attribution"] and data.description["skin_tones"] == "base emoji only"

    proc = run_prep("--google", google, "--skin-tones", "--out", tmp_path / "tones.npz")
    assert proc.returncode == 0, proc.stderr
    tones = load_cache(tmp_path / "tones.npz")
    assert tones.names == ["noto/grinning", "noto/wave", "noto/wave/1F3FB", "noto/flag-fr"]
    assert tones.keys[2] == "wave"  # a variation stays with its base emoji in the split

    proc = run_prep("--google", tmp_path / "nowhere", "--out", tmp_path / "x.npz")
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1 and not (tmp_path / "x.npz").exists()
