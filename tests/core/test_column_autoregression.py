"""The autoregressive head over the columns of each row (music: the voices of a step): it is a
normalised distribution, column w hears only the columns before it, its greedy decode is the
argmax of the logits it returns, and an untrained head is the independent model."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import torch

from generators.core.vae import ConditionalVAE, VAEConfig, elbo_per_item, iwae_bound

TOKENS, STEPS, COLUMNS = 3, 4, 3


def tiny_model(width: int = 8, seed: int = 0, trained: bool = True) -> ConditionalVAE:
    torch.manual_seed(seed)
    config = VAEConfig((TOKENS, STEPS, COLUMNS), 2, 4, (8, 16), "categorical", layout="sequence", autoregressive=width)
    model = ConditionalVAE(config).eval()
    if trained:  # the readout starts at zero; give it weights so the columns really interact
        with torch.no_grad():
            model.autoregression.readout.normal_(0.0, 1.0)
    return model


def one_hot(tokens: torch.Tensor) -> torch.Tensor:
    """(B, T, W) tokens -> (B, TOKENS, T, W)."""
    return torch.nn.functional.one_hot(tokens, TOKENS).permute(0, 3, 1, 2).float()


def log_prob(model: ConditionalVAE, z: torch.Tensor, c: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return model.likelihood.log_prob(model.decode(z, c, target=x), x)


@torch.no_grad()
def test_the_head_is_a_distribution_over_whole_rows():
    """Summed over every assignment of one row's columns, p(row | z) is 1 (the other rows fixed)."""
    model = tiny_model()
    z, c = torch.randn(1, 4), torch.tensor([[1.0, 0.0]])
    rest = torch.zeros(1, STEPS, COLUMNS, dtype=torch.long)
    rows = []
    for row in itertools.product(range(TOKENS), repeat=COLUMNS):
        tokens = rest.clone()
        tokens[0, 1] = torch.tensor(row)
        x = one_hot(tokens)
        per_cell = (x * torch.log_softmax(model.decode(z, c, target=x), dim=1)).sum(dim=1)  # (1, T, W)
        rows.append(per_cell[0, 1].sum())
    assert math.isclose(float(torch.logsumexp(torch.stack(rows), 0)), 0.0, abs_tol=1e-5)


@torch.no_grad()
def test_a_column_hears_only_the_columns_before_it():
    model = tiny_model()
    z, c = torch.randn(2, 4), torch.zeros(2, 2)
    tokens = torch.randint(0, TOKENS, (2, STEPS, COLUMNS), generator=torch.Generator().manual_seed(1))
    changed = tokens.clone()
    changed[:, :, 1] = (changed[:, :, 1] + 1) % TOKENS  # column 1 only
    a, b = model.decode(z, c, target=one_hot(tokens)), model.decode(z, c, target=one_hot(changed))
    assert torch.equal(a[..., :2], b[..., :2])  # columns 0 and 1 do not hear column 1
    assert not torch.allclose(a[..., 2], b[..., 2])  # column 2 does


@torch.no_grad()
def test_the_greedy_decode_is_the_argmax_of_the_logits_it_returns():
    model = tiny_model()
    z, c = torch.randn(5, 4), torch.zeros(5, 2)
    greedy = model.decode(z, c)
    chosen = greedy.argmax(dim=1)
    torch.testing.assert_close(greedy, model.decode(z, c, target=one_hot(chosen)))
    # ... and it differs from taking each column's likeliest token with the columns unheard.
    unheard = model.decode(z, c, target=torch.zeros(5, TOKENS, STEPS, COLUMNS))
    assert not torch.equal(unheard.argmax(dim=1), chosen)


@torch.no_grad()
def test_an_untrained_head_is_the_independent_model_and_the_bounds_use_teacher_forcing():
    model = tiny_model(trained=False)
    z, c = torch.randn(3, 4), torch.zeros(3, 2)
    x = one_hot(torch.randint(0, TOKENS, (3, STEPS, COLUMNS), generator=torch.Generator().manual_seed(2)))
    torch.testing.assert_close(model.decode(z, c), model.decode(z, c, target=x))
    trained = tiny_model()
    # The ELBO and IWAE bound score x by its own columns: they change with the head's weights
    # only through teacher forcing, and the IWAE bound sits above the ELBO.
    elbo = elbo_per_item(trained, x, c, samples=64)
    assert torch.all(iwae_bound(trained, x, c, k=64) >= elbo - 0.05)
    assert not torch.allclose(log_prob(trained, z, c, x), log_prob(model, z, c, x))


def test_the_setting_round_trips_and_is_left_out_of_old_cards():
    config = tiny_model(trained=False).config
    assert VAEConfig.from_dict(config.to_dict()) == config
    plain = VAEConfig((TOKENS, STEPS, COLUMNS), 2, 4, (8, 16), layout="sequence")
    assert "autoregressive" not in plain.to_dict()


def test_checking_the_shipped_music_card_stays_cheap():
    """Loading the shipped music model (its card check builds the model on the meta device)
    must not import torch._dynamo: a normal draw there did, and cost the app a second of its
    cold start (bench/bench_gui.py: 2.07× against 1.25× the bare imports)."""
    import subprocess
    import sys

    code = (
        "import sys; from generators.registry import load_generator; "
        "load_generator('checkpoints/music.safetensors'); print('torch._dynamo' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
