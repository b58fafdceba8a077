"""A tiny images model end to end: trained on an ImageFolder tree built in code, then driven
through the CLI: the same seed gives the same bytes in every format, the sprite sheet's
atlas matches the sheet, interpolation writes one animation, `denoise` encodes and decodes
the mean, and every bad input exits 2 with one line and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import files_under, run_cli, run_cli_many
from PIL import Image
from test_images import bad_files, check_atlas, rgba_pattern, write_image_folder

from generators.images.domain import ImagesDomain
from generators.registry import load_generator


@pytest.fixture(scope="session")
def images_checkpoint(tmp_path_factory) -> Path:
    from generators.training_run import TrainingRequest, train_and_save

    root = tmp_path_factory.mktemp("tiny-images")
    folder = write_image_folder(root / "sprites")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ImagesDomain, "model_channels", (4, 8))
        weights, _ = train_and_save(
            TrainingRequest.of(
                domain="images",
                data=[folder],
                out=root / "tiny-images",
                epochs=1,
                latent_size=4,
                holdout=("cats/cats3.png",),
                eval_samples=8,
                iwae_k=4,
                command="test",
            ),
            log=lambda message: None,
        )
    return weights


def test_checkpoint_card_and_reload(images_checkpoint):
    card = json.loads(images_checkpoint.with_suffix(".json").read_text())
    assert card["domain"] == "images" and card["model"]["input_shape"] == [4, 64, 64]
    assert card["model"]["likelihood"] == "palette"
    palette = card["domain_config"]["palette"]
    assert card["model"]["palette"] == palette and palette[0] == [0, 0, 0, 0] and len(palette) >= 2
    assert card["domain_config"]["groups"] == [{"name": "label", "labels": ["cats", "dogs"]}]
    assert card["data"]["holdout_named"] == ["cats/cats3.png"] and card["data"]["holdout_items"] >= 1
    assert any(entry["file"].endswith("broken.png") for entry in card["data"]["skipped"])
    a = load_generator(images_checkpoint, domain="images").sample(2, ["dogs"], seed=3)
    b = load_generator(images_checkpoint).sample(2, ["dogs"], seed=3)
    assert all(np.array_equal(x.asset.pixels, y.asset.pixels) for x, y in zip(a, b))
    assert a[0].asset.pixels.shape == (64, 64, 4) and a[0].asset.pixels.dtype == np.uint8


FORMATS = {
    "png": ["images-seed7.png", "images-seed8.png", "images-seed9.png"],
    "sheet": ["images-seed7-9-sheet.json", "images-seed7-9-sheet.png"],
    "gif": ["images-seed7-9.gif"],
    "apng": ["images-seed7-9.apng"],
}


def test_same_seed_same_bytes_in_every_format(images_checkpoint, tmp_path):
    runs = run_cli_many(
        [
            [
                "sample",
                "images",
                "--checkpoint",
                images_checkpoint,
                "-n",
                "3",
                "--seed",
                "7",
                "--condition",
                "dogs",
                "--format",
                fmt,
                "--out",
                tmp_path / f"{fmt}{i}",
            ]
            for fmt in FORMATS
            for i in (1, 2)
        ]
    )
    assert [r.returncode for r in runs] == [0] * 8, [r.stderr for r in runs]
    for fmt, names in FORMATS.items():
        first, second = tmp_path / f"{fmt}1", tmp_path / f"{fmt}2"
        assert files_under(first) == names == files_under(second)
        assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names), fmt
    # The sheet holds exactly the items the per-item PNGs hold, where its atlas says.
    sheet = np.asarray(Image.open(tmp_path / "sheet1" / "images-seed7-9-sheet.png"))
    atlas = json.loads((tmp_path / "sheet1" / "images-seed7-9-sheet.json").read_text())
    items = {f"images-seed{s}": np.asarray(Image.open(tmp_path / "png1" / f"images-seed{s}.png")) for s in (7, 8, 9)}
    check_atlas(sheet, atlas, items, "images-seed7-9-sheet.png")
    apng = Image.open(tmp_path / "apng1" / "images-seed7-9.apng")
    assert np.array_equal(np.asarray(apng.convert("RGBA")), items["images-seed7"])
    assert runs[0].stdout.splitlines()[0].split("\t")[:2][0].endswith("images-seed7.png")
    assert runs[0].stdout.splitlines()[0].split("\t")[1] == "seed=7"
    assert runs[2].stdout.splitlines() == [
        f"{tmp_path / 'sheet1' / 'images-seed7-9-sheet.png'}\tseeds=7..9",
        str(tmp_path / "sheet1" / "images-seed7-9-sheet.json"),
    ]


def test_interpolate_from_a_file_into_one_animation(images_checkpoint, tmp_path):
    start = tmp_path / "start.jpg"
    Image.fromarray(np.full((40, 100, 3), (200, 30, 30), np.uint8)).save(start)
    common = [
        "interpolate",
        "images",
        "--checkpoint",
        images_checkpoint,
        "--from",
        start,
        "--seed-b",
        "4",
        "--steps",
        "4",
        "--condition",
        "dogs",
    ]
    apng, pngs = run_cli_many(
        [[*common, "--format", "apng", "--out", tmp_path / "a"], [*common, "--out", tmp_path / "p"]]
    )
    assert apng.returncode == 0 and pngs.returncode == 0, (apng.stderr, pngs.stderr)
    assert apng.stderr.strip() == f"note: {start}: fitted 100×40 into 64×64 (padded with transparency)"
    assert files_under(tmp_path / "a") == ["images-interp.apng"]
    assert files_under(tmp_path / "p") == [f"images-interp0{i}.png" for i in range(4)]
    animation = Image.open(tmp_path / "a" / "images-interp.apng")
    frames = [np.asarray(Image.open(tmp_path / "p" / f"images-interp0{i}.png")) for i in range(4)]
    distinct = [f for i, f in enumerate(frames) if i == 0 or not np.array_equal(f, frames[i - 1])]
    assert animation.n_frames == len(distinct)  # Pillow merges repeated frames into a longer one
    for index, pixels in enumerate(distinct):
        animation.seek(index)
        assert np.array_equal(np.asarray(animation.convert("RGBA")), pixels)
    # An image shows no labels by itself, so the file is encoded under the condition asked for
    # (its latent refined, as any file's is).
    generator = load_generator(images_checkpoint)
    z = generator.encode([generator.domain.read(start)], ["dogs"], refine=True)
    assert np.array_equal(frames[0], generator.decode(z, ["dogs"])[0].pixels)


def test_denoise_with_the_model_encodes_then_decodes_the_mean(images_checkpoint, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Image.fromarray(rgba_pattern(1)).save(tmp_path / "a" / "icon.png")
    Image.fromarray(rgba_pattern(2)[..., :3]).convert("P").save(tmp_path / "b" / "icon.gif")
    proc = run_cli(
        "denoise",
        "images",
        "--checkpoint",
        images_checkpoint,
        "--in",
        tmp_path / "a" / "icon.png",
        tmp_path / "b" / "icon.gif",
        "--condition",
        "cats",
        "--with-model",
        "--out",
        tmp_path / "out",
    )
    assert proc.returncode == 0, proc.stderr
    assert files_under(tmp_path / "out") == ["icon-2-denoised.png", "icon-denoised.png"]
    assert (
        proc.stdout.splitlines()[0]
        == f"{tmp_path / 'out' / 'icon-denoised.png'}\tfrom={tmp_path / 'a' / 'icon.png'}\tcondition=cats"
    )
    generator = load_generator(images_checkpoint)
    for source, written in (("a/icon.png", "icon-denoised.png"), ("b/icon.gif", "icon-2-denoised.png")):
        picture = generator.domain.read(tmp_path / source)
        expected = generator.decode(generator.encode([picture], ["cats"]), ["cats"])[0].pixels
        assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / written)), expected)


def test_denoise_uses_the_shipped_denoiser_by_default(images_checkpoint, tmp_path):
    from generators.images.denoiser import shipped_denoiser

    denoiser, source = shipped_denoiser()
    assert denoiser is not None, source
    clean = rgba_pattern(3)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    proc = run_cli(
        "denoise", "images", "--checkpoint", images_checkpoint, "--in", tmp_path / "noisy.png", "--out", tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "noisy-denoised.png"
    assert proc.stdout.splitlines() == [f"{written}\tfrom={tmp_path / 'noisy.png'}\tdenoiser={source}"]
    generator = load_generator(images_checkpoint)
    x = generator.domain.to_tensor(generator.domain.read(tmp_path / "noisy.png"))[None]
    expected = generator.domain.from_tensor(denoiser.clean(x))[0].pixels
    assert np.array_equal(np.asarray(Image.open(written)), expected)


def test_every_bad_input_exits_2_with_one_line(images_checkpoint, tmp_path):
    good = tmp_path / "fine.png"
    Image.fromarray(rgba_pattern()).save(good)
    ckpt = ["--checkpoint", images_checkpoint]
    # (name, command, the line's start, a fragment of it); the good file goes first, so a
    # later bad input must stop denoise before anything is written.
    cases = [
        (name, ["denoise", "images", *ckpt, "--in", good, path, "--out", tmp_path / name], f"error: {path} ", fragment)
        for name, (path, fragment) in bad_files(tmp_path / "in").items()
    ]
    text = tmp_path / "in" / "text.png"
    cases += [
        (
            "interp",
            ["interpolate", "images", *ckpt, "--from", text, "--seed-b", "1", "--out", tmp_path / "interp"],
            f"error: {text} ",
            "is a text file, not a PNG, JPEG, GIF or WebP image",
        ),
        (
            "cond",
            ["sample", "images", *ckpt, "--condition", "horses", "--out", tmp_path / "cond"],
            "error: unknown condition 'horses'; valid conditions: cats, dogs",
            "",
        ),
        (
            "cond2",
            [
                "denoise",
                "images",
                *ckpt,
                "--in",
                good,
                "--condition",
                "horses",
                "--with-model",
                "--out",
                tmp_path / "cond2",
            ],
            "error: unknown condition 'horses'",
            "",
        ),
        (
            "cond3",
            ["denoise", "images", *ckpt, "--in", good, "--condition", "cats", "--out", tmp_path / "cond3"],
            "error: --condition applies to denoise images only with --with-model",
            "",
        ),
        (
            "fmt",
            ["sample", "images", *ckpt, "--format", "bmp", "--out", tmp_path / "fmt"],
            "error: cannot write .bmp files for images; choose one of: png, gif, apng, sheet",
            "",
        ),
        (
            "fmt2",
            ["denoise", "images", *ckpt, "--in", good, "--format", "sheet", "--out", tmp_path / "fmt2"],
            "error: cannot write .sheet files for images; choose one of: png, gif, apng",
            "",
        ),
    ]
    for proc, (name, _, start, fragment) in zip(run_cli_many([case[1] for case in cases]), cases):
        assert proc.returncode == 2, (name, proc.stderr)
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(start) and fragment in lines[0], (name, proc.stderr)
        assert files_under(tmp_path / name) == [], name
