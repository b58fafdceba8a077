"""The classifier two-sample test: can a small network tell generated items from real ones?

A critic learns real training items (label 0) against half of the samples (label 1) and is
scored, class-balanced, on held-out real items against the other half: 0.5 means it cannot
tell them apart, 1.0 that every item gives itself away. The reference figure runs the same
test with unseen real training items in place of the samples, so a reader sees what "as good
as real" reads on this data (about 0.5). The measure is never a training signal.

The domains bring what is theirs: the critic network, the augmentation that both sides get
alike (so cues like position or key decide nothing), and a `prepare` step that turns items
into the critic's input. Items are (N, ...) tensors of one shape.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def two_sample_accuracy(
    real_train: torch.Tensor,
    other_train: torch.Tensor,
    real_test: torch.Tensor,
    other_test: torch.Tensor,
    make_critic: Callable[[], nn.Module],
    augment: Augment,
    seed: int = 0,
    epochs: int = 30,
    batch: int = 64,
    prepare: Callable[[torch.Tensor], torch.Tensor] = _identity,
    test_augment: Augment | None = None,
) -> float:
    """Class-balanced test accuracy of a critic trained on real_train (label 0) against
    other_train (label 1) and scored on real_test against other_test. `test_augment`, when
    given, is applied to both test sides once (seeded) before scoring. Seeded; the global torch
    random state is left as it was."""
    with torch.random.fork_rng(devices=[]), torch.inference_mode(False):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        critic = make_critic()
        optimiser = torch.optim.Adam(critic.parameters(), lr=1e-3)
        x = prepare(torch.cat([real_train, other_train])).clone()
        y = torch.cat([torch.zeros(len(real_train)), torch.ones(len(other_train))])
        # Weight the classes so that an unequal split cannot pay off by guessing the larger one.
        weight = torch.where(y > 0, len(y) / (2 * len(other_train)), len(y) / (2 * len(real_train)))
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=generator)
            for start in range(0, len(x), batch):
                index = order[start : start + batch]
                logits = critic(augment(x[index], generator)).squeeze(1)
                loss = (F.binary_cross_entropy_with_logits(logits, y[index], reduction="none") * weight[index]).mean()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        critic.eval()
        with torch.no_grad():
            real_test, other_test = prepare(real_test), prepare(other_test)
            if test_augment is not None:
                real_test, other_test = test_augment(real_test, generator), test_augment(other_test, generator)
            real_right = (_scores(critic, real_test) < 0).float().mean()
            other_right = (_scores(critic, other_test) > 0).float().mean()
    return float((real_right + other_right) / 2)


def _scores(critic: nn.Module, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    return torch.cat([critic(x[i : i + batch]).squeeze(1) for i in range(0, len(x), batch)])


def two_sample_report(
    samples: torch.Tensor,
    train: torch.Tensor,
    holdout: torch.Tensor,
    test: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], float],
    seed: int = 0,
) -> dict:
    """The test on `samples` and the real-against-real reference, with the split sizes.

    The samples are split in halves: the critic trains on one against as many training items
    and is tested on the other against as many held-out items. The reference swaps the samples
    for training items the critic has not seen on its real side. `test(real_train, other_train,
    real_test, other_test)` runs one test (a `two_sample_accuracy` with the domain's parts)."""
    generator = torch.Generator().manual_seed(seed)
    n_test = min(len(holdout), len(samples) // 2)
    n_train = min(len(samples) - n_test, len(train) // 3)
    order = torch.randperm(len(samples), generator=generator)
    fake_train, fake_test = samples[order[:n_train]], samples[order[n_train : n_train + n_test]]
    pool = train[torch.randperm(len(train), generator=generator)]
    real_side, stand_in_train = pool[:n_train], pool[n_train : 2 * n_train]
    stand_in_test = pool[2 * n_train : 2 * n_train + n_test]
    real_test = holdout[torch.randperm(len(holdout), generator=generator)[:n_test]]
    return {
        "accuracy": test(real_side, fake_train, real_test, fake_test),
        "real_against_real": test(real_side, stand_in_train, real_test, stand_in_test),
        "train_items_per_side": n_train,
        "test_items_per_side": n_test,
    }
