"""The images yardstick can fail: blur is caught by both the two-sample test and the sharpness
ratio, real against real stays near chance, and copies of the training set are flagged."""

import torch
import torch.nn.functional as F

from generators.images.yardstick import on_grey, rms_sharpness, sharpness, two_sample_accuracy, yardstick


def squares(n: int, seed: int, side: int = 32) -> torch.Tensor:
    """Hard-edged opaque squares of random colour, size and place on transparency: (n, 4, side, side)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 4, side, side)
    for i in range(n):
        size = int(torch.randint(6, side // 2, (1,), generator=g))
        top, left = torch.randint(0, side - size, (2,), generator=g).tolist()
        colour = torch.rand(3, generator=g)
        x[i, :3, top : top + size, left : left + size] = colour[:, None, None]
        x[i, 3, top : top + size, left : left + size] = 1.0
    return x


def blurred(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(F.avg_pool2d(x, 4), scale_factor=4, mode="bilinear")


def test_compositing_and_sharpness():
    x = squares(20, 0)
    assert torch.allclose(on_grey(torch.zeros(1, 4, 2, 2)), torch.full((1, 3, 2, 2), 0.5))
    assert rms_sharpness(blurred(x)).mean() < 0.8 * rms_sharpness(x).mean()  # any blurred edge
    stripes = x.clone()
    stripes[:, :3, :, ::2] = 0.0  # fine detail: blur merges it, and the mean magnitude falls too
    assert sharpness(blurred(stripes)).mean() < 0.8 * sharpness(stripes).mean()
    assert torch.equal(sharpness(torch.zeros(3, 4, 8, 8)), torch.zeros(3))


def test_two_sample_test_tells_blur_from_real_and_not_real_from_real():
    real_train, real_test = squares(160, 1), squares(80, 2)
    caught = two_sample_accuracy(real_train, blurred(squares(160, 3)), real_test, blurred(squares(80, 4)), epochs=8)
    chance = two_sample_accuracy(real_train, squares(160, 5), real_test, squares(80, 6), epochs=8)
    assert caught > 0.85 and abs(chance - 0.5) < 0.15, (caught, chance)
    again = two_sample_accuracy(real_train, squares(160, 5), real_test, squares(80, 6), epochs=8)
    assert again == chance  # seeded


def test_yardstick_flags_copies_and_reports_real_beside_model():
    train, holdout = squares(300, 7), squares(60, 8)
    copies = train[:120].clone()
    report = yardstick(copies, train, holdout, seed=0)
    assert report["copying"]["nearest_train_distance_ratio"] < 0.05  # each is its own nearest
    assert report["sharpness"]["ratio_to_real"] > 0.5
    test = report["two_sample_test"]
    assert test["test_items_per_side"] == 60 and test["train_items_per_side"] == 60
    assert 0.0 <= test["real_against_real"] <= 1.0
