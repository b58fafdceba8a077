"""Image files in and out: any PNG, JPEG, GIF or WebP becomes a 64×64 RGBA item, and items
become PNGs, sprite sheets (a PNG grid plus a JSON atlas) and GIF or APNG animations.

Reading goes through Pillow with a pixel limit checked from the header, before any pixel
is decoded, so a decompression bomb is refused in one line. Every mode Pillow opens
(grayscale, palette, CMYK, 16-bit, with or without transparency) is converted to 8-bit
RGBA; an image of any size is fitted with its aspect ratio kept and centred on
transparency. Fully transparent pixels get RGB 0, so the model never learns the invisible
colour a file happens to store there.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generators.core.errors import AssetError
from generators.core.fileio import png_bytes, read_user_bytes

SIZE = 64  # items are SIZE × SIZE RGBA
READ_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
MAX_PIXELS = 40_000_000  # about 6300 × 6300: far beyond any icon, and 160 MB of RGBA at most
FRAME_MS = 120  # default animation frame time


@dataclass
class Picture:
    """One item: (64, 64, 4) uint8 RGBA pixels, and what reading changed (for the user)."""

    pixels: np.ndarray
    notes: tuple[str, ...] = field(default=())


# --- reading ----------------------------------------------------------------------------


def read_image(path: str | Path, size: int = SIZE) -> Picture:
    """A file as a fitted RGBA picture. Raises AssetError with one line for anything that is
    not a readable image: a 0-byte file, text, a corrupt or truncated file, a bomb."""
    path = Path(path)
    data = read_user_bytes(path, "file")
    if not data:
        raise AssetError(f"{path} is empty (0 bytes), not an image")
    image, notes = decode_image(data, str(path))
    pixels, fit_note = fit(image, size)
    return Picture(pixels, tuple(notes + ([fit_note] if fit_note else [])))


def decode_image(data: bytes, name: str):
    """Bytes -> (fully decoded 8-bit RGBA PIL image, notes). One AssetError line on failure."""
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # a warning is a refusal here
        try:
            image = Image.open(io.BytesIO(data), formats=READ_FORMATS)
        except UnidentifiedImageError:
            raise AssetError(f"{name} is {_what_it_is(data)}") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise AssetError(
                f"{name} is too large to decode safely (over the {MAX_PIXELS // 1_000_000}-megapixel limit)"
            ) from None
        except Exception as exc:  # noqa: BLE001 - Pillow's header parsers raise many types
            raise AssetError(f"{name} is a damaged image file ({_reason(exc)})") from None
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise AssetError(
                f"{name} is {width}×{height} pixels, too large to decode safely "
                f"(over the {MAX_PIXELS // 1_000_000}-megapixel limit)"
            )
        notes = []
        frames = getattr(image, "n_frames", 1)
        if frames > 1:
            notes.append(f"used the first of {frames} frames")
        try:
            image.load()
            image = _oriented(image)
            rgba = to_rgba(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise AssetError(
                f"{name} is too large to decode safely (over the {MAX_PIXELS // 1_000_000}-megapixel limit)"
            ) from None
        except Exception as exc:  # noqa: BLE001 - decoders raise OSError, SyntaxError, ValueError, zlib.error...
            raise AssetError(f"{name} is a damaged {image.format or 'image'} file ({_reason(exc)})") from None
    if image.mode not in ("RGBA", "RGB"):
        notes.insert(0, f"converted from {image.mode} to RGBA")
    rgba, profile_note = to_srgb(rgba, image.info.get("icc_profile") if image.mode in ("RGB", "RGBA") else None)
    return rgba, notes + ([profile_note] if profile_note else [])


def to_srgb(rgba, icc_profile: bytes | None):
    """An RGBA image whose file carries an RGB colour profile other than sRGB (a phone's
    Display P3, Adobe RGB) converted to sRGB, the space the model and PNG viewers assume.
    A profile that cannot be used is ignored, with a note. Returns (image, note or None)."""
    if not icc_profile:
        return rgba, None
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        description = (ImageCms.getProfileDescription(source) or "").strip()
        if "srgb" in description.lower():
            return rgba, None
        converted = ImageCms.profileToProfile(rgba, source, ImageCms.createProfile("sRGB"), outputMode="RGBA")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return rgba, "ignored a colour profile that could not be read"
    return converted, f"converted colours from {description or 'its colour profile'} to sRGB"


def _what_it_is(data: bytes) -> str:
    """Why Pillow found no image: text (a common mix-up), or an unknown format."""
    head = data[:512]
    if b"\0" not in head:
        try:
            head.decode("utf-8")
            return "a text file, not a PNG, JPEG, GIF or WebP image"
        except UnicodeDecodeError:
            pass
    return "not a PNG, JPEG, GIF or WebP image (its format is unknown or damaged)"


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def _oriented(image):
    """Apply a JPEG's EXIF orientation, so a phone photo stands the way it was shot."""
    from PIL import ImageOps

    if image.format == "JPEG" and image.getexif().get(0x0112, 1) != 1:
        return ImageOps.exif_transpose(image)
    return image


def to_rgba(image):
    """Any Pillow mode -> 8-bit RGBA. 16- and 32-bit grayscale is scaled (not clipped) to
    8 bits; palette, grayscale and RGB transparency (tRNS) become alpha; CMYK goes through RGB."""
    from PIL import Image

    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        if mode == "F" and values.max(initial=0) <= 1.0:
            top = 1.0  # float images usually hold 0..1
        gray = np.clip(np.round(values / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGBA")
    if mode == "CMYK":
        return image.convert("RGB").convert("RGBA")
    if mode == "RGBA":
        return image
    return image.convert("RGBA")  # honours info["transparency"] for P, L, LA, PA and RGB


def fit(image, size: int = SIZE) -> tuple[np.ndarray, str | None]:
    """Fit an RGBA image into size × size, aspect kept, centred on transparency.
    Larger images shrink with Lanczos (Pillow premultiplies alpha, so transparent pixels
    do not bleed colour); smaller ones grow by a whole factor with nearest-neighbour, so
    pixel art stays sharp. Returns (pixels (size, size, 4) uint8, a note or None)."""
    from PIL import Image

    width, height = image.size
    note = None
    if (width, height) != (size, size):
        if max(width, height) > size:
            scale = size / max(width, height)
            new = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = image.resize(new, Image.Resampling.LANCZOS)
        else:
            factor = size // max(width, height)
            new = (width * factor, height * factor)
            if factor > 1:
                image = image.resize(new, Image.Resampling.NEAREST)
        note = f"fitted {width}×{height} into {size}×{size}" + (
            " (padded with transparency)" if new != (size, size) else ""
        )
    canvas = np.zeros((size, size, 4), dtype=np.uint8)
    pixels = np.asarray(image, dtype=np.uint8)
    top, left = (size - pixels.shape[0]) // 2, (size - pixels.shape[1]) // 2
    canvas[top : top + pixels.shape[0], left : left + pixels.shape[1]] = pixels
    return clear_hidden(canvas), note


def clear_hidden(pixels: np.ndarray) -> np.ndarray:
    """RGB 0 wherever alpha is 0 (in place; returns the array)."""
    pixels[pixels[..., 3] == 0, :3] = 0
    return pixels


# --- writing ----------------------------------------------------------------------------


def sheet_layout(count: int, columns: int | None = None) -> tuple[int, int]:
    """(columns, rows) of a near-square grid for `count` items."""
    columns = columns or max(1, math.ceil(math.sqrt(count)))
    return columns, max(1, math.ceil(count / columns))


def sprite_sheet(
    pixels: list[np.ndarray], names: list[str], image_name: str, columns: int | None = None
) -> tuple[bytes, dict]:
    """A PNG grid of items (row by row, no spacing) and its atlas: the JSON-hash layout that
    TexturePacker writes and Phaser, PixiJS and Godot importers read:
    {"frames": {name: {"frame": {x, y, w, h}, ...}}, "meta": {"image", "size", ...}}."""
    if len(pixels) != len(names) or not pixels:
        raise ValueError("a sprite sheet needs one name per item, and at least one item")
    if len(set(names)) != len(names):
        raise ValueError("sprite names must be unique")
    height, width = pixels[0].shape[:2]
    columns, rows = sheet_layout(len(pixels), columns)
    sheet = np.zeros((rows * height, columns * width, 4), dtype=np.uint8)
    frames = {}
    for index, (item, name) in enumerate(zip(pixels, names)):
        x, y = (index % columns) * width, (index // columns) * height
        sheet[y : y + height, x : x + width] = item
        rect = {"x": x, "y": y, "w": width, "h": height}
        frames[name] = {
            "frame": rect,
            "rotated": False,
            "trimmed": False,
            "spriteSourceSize": {"x": 0, "y": 0, "w": width, "h": height},
            "sourceSize": {"w": width, "h": height},
        }
    atlas = {
        "frames": frames,
        "meta": {
            "app": "Latent Forge",
            "image": image_name,
            "format": "RGBA8888",
            "size": {"w": sheet.shape[1], "h": sheet.shape[0]},
            "grid": {"columns": columns, "rows": rows},
            "scale": "1",
        },
    }
    return png_bytes(sheet), atlas


def atlas_text(atlas: dict) -> str:
    return json.dumps(atlas, indent=2) + "\n"


def gif_frame(pixels: np.ndarray):
    """An RGBA item as a GIF frame: up to 255 colours (median cut, no dithering, so the same
    pixels always give the same bytes) and palette index 255 for pixels under half alpha.
    GIF has 1-bit transparency, so partial alpha is thresholded."""
    from PIL import Image

    visible = pixels[..., 3] >= 128
    rgb = Image.fromarray(np.ascontiguousarray(pixels[..., :3]))
    quantised = rgb.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette = quantised.getpalette()[: 255 * 3]
    palette += [0] * (255 * 3 - len(palette)) + [0, 0, 0]
    indices = np.asarray(quantised, dtype=np.uint8).copy()
    indices[~visible] = 255
    frame = Image.fromarray(indices, "P")
    frame.putpalette(palette)
    frame.info["transparency"] = 255
    return frame


def animation_bytes(pixels: list[np.ndarray], fmt: str, frame_ms: int = FRAME_MS) -> bytes:
    """A looping animation of the items as GIF or APNG bytes. APNG keeps full alpha;
    each frame replaces the last (no blending), so transparent areas stay transparent."""
    from PIL import Image

    if not pixels:
        raise ValueError("an animation needs at least one frame")
    buffer = io.BytesIO()
    if fmt == "gif":
        frames = [gif_frame(p) for p in pixels]
        frames[0].save(
            buffer,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=frame_ms,
            loop=0,
            disposal=2,
            transparency=255,
            optimize=False,
        )
    elif fmt == "apng":
        frames = [Image.fromarray(np.ascontiguousarray(p), "RGBA") for p in pixels]
        frames[0].save(
            buffer,
            format="PNG",
            save_all=True,
            append_images=frames[1:],
            duration=frame_ms,
            loop=0,
            disposal=0,
            blend=0,
            default_image=False,
            optimize=False,
        )
    else:
        raise ValueError(f"unknown animation format {fmt!r}")
    return buffer.getvalue()
