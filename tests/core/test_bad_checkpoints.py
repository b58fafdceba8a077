"""A checkpoint is checked before it is used: every kind of bad card (a legend, games or condition
groups that disagree with the tensors, empty conv-width or label lists, a broken mixture prior,
a malformed label distribution, sizes beyond the caps, non-finite or mistyped weights) is one
CheckpointError line naming the field, exit 2 through the CLI, and no model is built first: a
card claiming a latent size of a million is refused fast, without allocating it."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO_ROOT, copy_checkpoint, files_under, run_cli_many
from test_cli import assert_user_error, cli_here

from generators.core.checkpoint import SHIPPED_DIR, load_checkpoint, save_checkpoint
from generators.core.errors import CheckpointError
from generators.registry import load_generator

# --- building bad checkpoints --------------------------------------------------------------


def card_edit(change):
    """A case that edits the card (its weights hash still matches: the weights are untouched)."""
    return ("card", change)


def tensor_edit(change):
    """A case that edits the tensors (and maybe the card) and saves them again, rehashed."""
    return ("tensors", change)


def build(tmp_path: Path, source: Path, case) -> Path:
    kind, change = case
    if kind == "card":
        weights, card_path = copy_checkpoint(source, tmp_path / "bad")
        card = json.loads(card_path.read_text(encoding="utf-8"))
        change(card)
        card_path.write_text(json.dumps(card), encoding="utf-8")
        return weights
    ckpt = load_checkpoint(source)
    tensors = dict(ckpt.tensors)
    card = {k: v for k, v in ckpt.card.items() if k not in ("weights_file", "weights_sha256")}
    change(tensors, card)
    save_checkpoint(tmp_path / "bad", tensors, card)
    return tmp_path / "bad.safetensors"


def setting(path: str, value):
    """Set card[a][b]... for a dotted path ("model.latent_size")."""

    def change(card):
        *parents, last = path.split(".")
        target = card
        for key in parents:
            target = target[key]
        target[last] = value

    return card_edit(change)


def deleting(path: str):
    def change(card):
        *parents, last = path.split(".")
        target = card
        for key in parents:
            target = target[key]
        del target[last]

    return card_edit(change)


def legend_without(char: str):
    return card_edit(lambda card: card["domain_config"]["legend"].pop(char))


def legend_with(char, tags):
    return card_edit(lambda card: card["domain_config"]["legend"].__setitem__(char, tags))


# A valid mixture prior for the tiny model (6 condition labels, latent 4): 2 combinations, 2 components.
def add_prior(tensors: dict) -> None:
    tensors["prior.conditions"] = torch.tensor([[0, 0, 0, 0, 0, 1], [1, 1, 0, 0, 0, 1]], dtype=torch.float32)
    tensors["prior.means"] = torch.zeros(2, 2, 4)
    tensors["prior.spreads"] = torch.ones(2, 2, 4)
    tensors["prior.weights"] = torch.tensor([[0.5, 0.5], [1.0, 0.0]])


def prior_edit(change):
    def edit(tensors, card):
        add_prior(tensors)
        change(tensors)

    return tensor_edit(edit)


def prior_set(name: str, value: torch.Tensor):
    return prior_edit(lambda tensors: tensors.__setitem__(f"prior.{name}", value))


def with_nan(tensor: torch.Tensor) -> torch.Tensor:
    tensor = tensor.clone()
    tensor.view(-1)[0] = math.nan
    return tensor


def model_tensor(name: str, change):
    return tensor_edit(lambda tensors, card: tensors.__setitem__(f"model.{name}", change(tensors[f"model.{name}"])))


def distribution(rows):
    return setting("label_distribution", rows)


# kind -> {case name: (case, fragment of the one error line)}. The tiny levels model: legend of 11
# tiles, 14 × 16 windows, latent 4, conv widths (8, 16), 6 labels (5 presence labels, 1 game).
TINY_CASES = {
    "legend": {
        "legend shorter than the vocabulary": (legend_without("Q"), "model.input_shape is [11, 14, 16]"),
        "legend longer than the vocabulary": (legend_with("Z", ["solid"]), "makes levels items of shape [12, 14, 16]"),
        "legend key of two characters": (legend_with("XY", ["solid"]), "domain_config.legend has the key 'XY'"),
        "legend key a newline": (legend_with("\n", ["solid"]), "domain_config.legend has the key '\\n'"),
        "legend tags not a list": (legend_with("Z", "solid"), "domain_config.legend['Z'] must be a list"),
        "legend tag not text": (legend_with("Z", [3]), "domain_config.legend['Z'] must be a list"),
        "legend empty": (setting("domain_config.legend", {}), "domain_config.legend must be an object"),
        "legend a list": (setting("domain_config.legend", ["X", "-"]), "domain_config.legend must be an object"),
        "legend of 5000 tiles": (
            setting("domain_config.legend", {chr(0x4E00 + i): ["solid"] for i in range(5000)}),
            "domain_config.legend has 5000 tiles",
        ),
        "legend missing": (deleting("domain_config.legend"), "domain_config.legend is missing"),
    },
    "games": {
        "a game more than the tensors": (
            setting("domain_config.games", ["tiny-mario", "other"]),
            "model.condition_size is 6 but domain_config makes 7",
        ),
        "no game, the tensors have one": (setting("domain_config.games", []), "model.condition_size is 6"),
        "games not a list": (setting("domain_config.games", "tiny-mario"), "domain_config.games is not a list"),
        "a game twice": (setting("domain_config.games", ["a", "a"]), "domain_config.games names 'a' twice"),
        "an empty game name": (setting("domain_config.games", [""]), "domain_config.games[0] is ''"),
        "a game that is a number": (setting("domain_config.games", [7]), "domain_config.games[0] is 7"),
    },
    "conditions": {
        "groups renamed": (
            card_edit(lambda card: card["conditions"][1].__setitem__("labels", ["other-game"])),
            "card field conditions[1] does not match the game group",
        ),
        "a group dropped": (
            card_edit(lambda card: card["conditions"].pop()),
            "card field conditions does not list the condition groups",
        ),
        "groups not a list": (setting("conditions", "all"), "card field conditions does not list"),
        "presence tags disagree": (
            setting("domain_config.presence_tags", ["enemy"]),
            "model.condition_size is 6 but domain_config makes 2",
        ),
        "window width disagrees": (setting("domain_config.width", 17), "model.input_shape is [11, 14, 16]"),
        "window height zero": (setting("domain_config.height", 0), "domain_config.height is 0"),
        "count bins malformed": (
            setting("domain_config.count_bins", [{"name": "gold", "tags": ["gold"], "edges": [3, 1], "least": 0}]),
            "domain_config.count_bins[0].edges",
        ),
        "exact count negative": (setting("domain_config.exact_counts", {"spawn": -1}), "exact_counts['spawn'] is -1"),
        "whole_levels not a bool": (setting("domain_config.whole_levels", "yes"), "domain_config.whole_levels"),
        "domain_config not an object": (setting("domain_config", [1]), "card field domain_config is not an object"),
        "unknown domain": (setting("domain", "sprites"), "card field domain is 'sprites'"),
        "likelihood of another domain": (
            setting("model.likelihood", "logistic"),
            "model.likelihood is 'logistic'; levels models use 'categorical'",
        ),
    },
    "channels": {
        "no conv widths": (setting("model.channels", []), "model.channels must be a non-empty list"),
        "conv widths not a list": (setting("model.channels", 8), "model.channels must be a non-empty list"),
        "a conv width fewer than the tensors": (setting("model.channels", [8]), "model.channels lists 1 conv widths"),
        "a conv width of a million": (setting("model.channels", [8, 1_000_000]), "model.channels[1] is 1000000"),
        "a conv width of zero": (setting("model.channels", [0, 16]), "model.channels[0] is 0"),
        "a fractional conv width": (setting("model.channels", [8, 16.5]), "model.channels[1] is 16.5"),
        "eleven conv levels": (setting("model.channels", [8] * 11), "model.channels lists 11 conv widths"),
        "a conv width that disagrees": (
            setting("model.channels", [8, 12]),
            "model.encoder_convs.1.weight has shape (16, 14, 4, 4); the card's model config",
        ),
    },
    "latent": {
        "latent 50,000": (setting("model.latent_size", 50_000), "model.latent_size is 50000"),
        "latent 1,000,000": (setting("model.latent_size", 1_000_000), "model.latent_size is 1000000"),
        "latent 10**30": (setting("model.latent_size", 10**30), "model.latent_size is 1000000000000000000000000000000"),
        "latent 0": (setting("model.latent_size", 0), "model.latent_size is 0"),
        "latent negative": (setting("model.latent_size", -4), "model.latent_size is -4"),
        "latent true": (setting("model.latent_size", True), "model.latent_size is True"),
        "latent a string": (setting("model.latent_size", "4"), "model.latent_size is '4'"),
        "latent fractional": (setting("model.latent_size", 4.0), "model.latent_size is 4.0"),
        "latent that disagrees": (
            setting("model.latent_size", 8),
            "model.latent_size is 8 but the weights have latent size 4",
        ),
    },
    "model config": {
        "input a million wide": (setting("model.input_shape", [11, 14, 1_000_000]), "model.input_shape[2] (width)"),
        "input of two sides": (setting("model.input_shape", [11, 14]), "model.input_shape must be [channels"),
        "input of too many cells": (setting("model.input_shape", [4096, 4096, 4096]), "model.input_shape is"),
        "condition size of ten million": (setting("model.condition_size", 10**7), "model.condition_size is 10000000"),
        "a billion decoder blocks": (setting("model.decoder_blocks", 10**9), "model.decoder_blocks is 1000000000"),
        "unknown likelihood": (setting("model.likelihood", "gaussian"), "model.likelihood is 'gaussian'"),
        "unknown layout": (setting("model.layout", "spiral"), "model.layout is 'spiral'"),
        "unknown model setting": (setting("model.attention", 8), "model.attention is not a model setting"),
        "dropout of one": (setting("model.dropout", 1.0), "model.dropout is 1.0"),
        "an autoregressive head on a grid model": (
            setting("model.autoregressive", 16),
            "model.autoregressive needs the sequence layout and a categorical likelihood",
        ),
        "a negative autoregressive width": (setting("model.autoregressive", -1), "model.autoregressive is -1"),
        "no condition size": (deleting("model.condition_size"), "model.condition_size is missing"),
        "no model": (deleting("model"), "card field model is missing"),
        "model not an object": (setting("model", [4]), "card field model is not an object"),
        "name not a string": (setting("name", 7), "card field name is not a string"),
    },
    "tensors": {
        "NaN in a weight": (model_tensor("head.weight", with_nan), "model.head.weight holds NaN or infinite values"),
        "infinity in a bias": (
            model_tensor("head.bias", lambda t: torch.full_like(t, math.inf)),
            "model.head.bias holds NaN",
        ),
        "a weight in float64": (model_tensor("head.bias", lambda t: t.double()), "model.head.bias is torch.float64"),
        "a weight of integers": (model_tensor("head.bias", lambda t: t.long()), "model.head.bias is torch.int64"),
        "a weight cut short": (model_tensor("head.bias", lambda t: t[:-1]), "model.head.bias has shape (10,)"),
        "a weight missing": (
            tensor_edit(lambda tensors, card: tensors.pop("model.head.bias")),
            "the weights lack model.head.bias",
        ),
        "a weight too many": (
            tensor_edit(lambda tensors, card: tensors.__setitem__("model.extra.weight", torch.zeros(2))),
            "the weights hold model.extra.weight",
        ),
        "a foreign tensor": (
            tensor_edit(lambda tensors, card: tensors.__setitem__("payload.code", torch.zeros(2))),
            "tensor payload.code is not part of a Latent Forge model",
        ),
        "a direction of the wrong size": (
            tensor_edit(lambda tensors, card: tensors.__setitem__("directions.pipe", torch.zeros(5))),
            "latent direction directions.pipe is torch.float32 of shape (5,)",
        ),
        "a NaN direction": (
            tensor_edit(lambda tensors, card: tensors.__setitem__("directions.pipe", torch.full((4,), math.nan))),
            "directions.pipe holds NaN",
        ),
    },
    "prior": {
        "wrong latent size": (prior_set("means", torch.zeros(2, 2, 5)), "prior.means has latent size 5"),
        "spreads of another latent size": (prior_set("spreads", torch.ones(2, 2, 5)), "prior.spreads has shape"),
        "all-zero weights": (prior_set("weights", torch.zeros(2, 2)), "prior.weights of combination 0 are all zero"),
        "one combination all zero": (
            prior_set("weights", torch.tensor([[0.5, 0.5], [0.0, 0.0]])),
            "combination 1 are all zero",
        ),
        "NaN weights": (prior_set("weights", torch.full((2, 2), math.nan)), "prior.weights holds NaN"),
        "infinite means": (prior_set("means", torch.full((2, 2, 4), math.inf)), "prior.means holds NaN or infinite"),
        "negative weights": (prior_set("weights", torch.tensor([[2.0, -1.0], [1.0, 0.0]])), "prior.weights holds neg"),
        "negative spreads": (prior_set("spreads", -torch.ones(2, 2, 4)), "prior.spreads holds negative"),
        "wrong condition width": (prior_set("conditions", torch.zeros(2, 5)), "prior.conditions has shape (2, 5)"),
        "conditions not 0 or 1": (prior_set("conditions", torch.full((2, 6), 0.5)), "values other than 0 and 1"),
        "weights of another shape": (prior_set("weights", torch.ones(2, 3)), "prior.weights has shape (2, 3)"),
        "weights in float64": (prior_set("weights", torch.ones(2, 2, dtype=torch.float64)), "not float32"),
        "a part missing": (prior_edit(lambda tensors: tensors.pop("prior.spreads")), "the weights lack prior.spreads"),
        "no components": (
            prior_edit(
                lambda tensors: tensors.update(
                    {
                        "prior.means": torch.zeros(2, 0, 4),
                        "prior.spreads": torch.zeros(2, 0, 4),
                        "prior.weights": torch.zeros(2, 0),
                    }
                )
            ),
            "prior.means has shape (2, 0, 4)",
        ),
        "an unknown part": (prior_set("temperature", torch.ones(1)), "prior.temperature is not part of a mixture"),
    },
    "label_distribution": {
        "not a list": (distribution({"labels": []}), "card field label_distribution is not a list"),
        "a row not an object": (distribution([["pipe"]]), "label_distribution[0] must be"),
        "a row without a count": (distribution([{"labels": ["pipe"]}]), "label_distribution[0] must be"),
        "labels not a list": (distribution([{"labels": "pipe", "count": 1}]), "label_distribution[0].labels must"),
        "a label not text": (distribution([{"labels": [1], "count": 1}]), "label_distribution[0].labels must"),
        "an unknown label": (
            distribution([{"labels": ["pipe"], "count": 1}, {"labels": ["lava"], "count": 2}]),
            "label_distribution[1].labels cannot be one item's labels: unknown condition 'lava'",
        ),
        "a negative count": (distribution([{"labels": [], "count": -3}]), "label_distribution[0].count is -3"),
        "a count that is text": (distribution([{"labels": [], "count": "3"}]), "label_distribution[0].count is '3'"),
        "a count that is true": (distribution([{"labels": [], "count": True}]), "label_distribution[0].count is True"),
        "a NaN count": (distribution([{"labels": [], "count": math.nan}]), "label_distribution[0].count is nan"),
        "an infinite count": (distribution([{"labels": [], "count": math.inf}]), "label_distribution[0].count is inf"),
    },
}

# Cases on the shipped models of the other wings (their label lists and prior).
SHIPPED_CASES = {
    "images": {
        "empty label list": (
            setting("domain_config.groups", [{"name": "category", "labels": []}, {"name": "style", "labels": ["n"]}]),
            "domain_config.groups[0].labels is empty",
        ),
        "no groups": (setting("domain_config.groups", []), "domain_config.groups must be a non-empty list"),
        "a group without labels": (
            setting("domain_config.groups", [{"name": "category"}]),
            "domain_config.groups[0] must be",
        ),
        "a label twice": (
            card_edit(lambda card: card["domain_config"]["groups"][1].__setitem__("labels", ["noto", "noto"])),
            "domain_config.groups[1].labels names 'noto' twice",
        ),
        "prior of another condition width": (
            tensor_edit(
                lambda tensors, card: tensors.__setitem__("prior.conditions", tensors["prior.conditions"][:, 1:])
            ),
            "prior.conditions has shape",
        ),
        "prior all-zero weights": (
            tensor_edit(
                lambda tensors, card: tensors.__setitem__("prior.weights", torch.zeros_like(tensors["prior.weights"]))
            ),
            "prior.weights of combination 0 are all zero",
        ),
    },
    "music": {
        "empty style list": (setting("domain_config.styles", []), "domain_config.styles is empty"),
        "no styles": (deleting("domain_config.styles"), "domain_config.styles is missing"),
        "styles not a list": (setting("domain_config.styles", "folk"), "domain_config.styles is not a list"),
        "a style more than the tensors": (
            card_edit(lambda card: card["domain_config"]["styles"].append("polka")),
            "model.condition_size is 20 but domain_config makes 21",
        ),
        "stride zero": (setting("domain_config.stride_bars", 0), "domain_config.stride_bars is 0"),
    },
}

CASES = [(kind, name) for kind, cases in TINY_CASES.items() for name in cases]
OTHER_CASES = [(wing, name) for wing, cases in SHIPPED_CASES.items() for name in cases]


@pytest.fixture
def no_model_is_built(monkeypatch):
    """Fail if a real (not `meta`) model is built: every refusal must come before that."""
    import generators.registry

    def refuse(config):
        raise AssertionError(f"a model was built for a card that should have been refused: {config}")

    monkeypatch.setattr(generators.registry, "ConditionalVAE", refuse)


def assert_refused(weights: Path, fragment: str) -> str:
    with pytest.raises(CheckpointError) as caught:
        load_generator(weights)
    message = str(caught.value)
    assert "\n" not in message
    assert fragment in message, (fragment, message)
    assert message.startswith(f"checkpoint {weights.with_suffix('.json')}: ")
    return message


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}: {n}" for k, n in CASES])
def test_a_bad_tiny_checkpoint_is_one_line_naming_the_field(
    tmp_path, tiny_checkpoint, capsys, no_model_is_built, kind, name
):
    case, fragment = TINY_CASES[kind][name]
    weights = build(tmp_path, tiny_checkpoint, case)
    assert_refused(weights, fragment)
    # The same through the CLI's main: exit 2, one line, nothing written.
    out = tmp_path / "out"
    proc = cli_here(["sample", "levels", "--checkpoint", str(weights), "-n", "1", "--out", str(out)], capsys)
    assert_user_error(proc, fragment)
    assert files_under(out) == []


@pytest.mark.parametrize(("wing", "name"), OTHER_CASES, ids=[f"{w}: {n}" for w, n in OTHER_CASES])
def test_a_bad_images_or_music_checkpoint_is_one_line_naming_the_field(tmp_path, no_model_is_built, wing, name):
    case, fragment = SHIPPED_CASES[wing][name]
    weights = build(tmp_path, SHIPPED_DIR / f"{wing}.safetensors", case)
    assert_refused(weights, fragment)


def test_the_controls_load(tmp_path, tiny_checkpoint):
    """The builders damage only what each case names: undamaged, a tiny model with the test prior loads."""
    weights = build(tmp_path, tiny_checkpoint, prior_edit(lambda tensors: None))
    generator = load_generator(weights)
    assert generator.prior is not None and generator.prior.components == 2
    assert len(generator.sample(2, seed=3, condition=["pipe", "enemy"])) == 2
    again = build(tmp_path / "again", tiny_checkpoint, card_edit(lambda card: None))
    assert load_generator(again).latent_size == 4
    for wing in SHIPPED_CASES:
        assert load_generator(build(tmp_path / wing, SHIPPED_DIR / f"{wing}.safetensors", card_edit(lambda c: None)))


def test_every_shipped_model_passes_the_checks():
    for name in ("levels", "lode-runner", "images", "music"):
        assert load_generator(name).card["name"]


def test_a_huge_card_or_a_deeply_nested_one_is_refused(tmp_path, tiny_checkpoint):
    weights, card_path = copy_checkpoint(tiny_checkpoint, tmp_path / "nested")
    card_path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_generator(weights)
    card = json.loads(tiny_checkpoint.with_suffix(".json").read_text(encoding="utf-8"))
    text = json.dumps(card).replace('"latent_size": 4', '"latent_size": ' + "9" * 5000)
    card_path.write_text(text, encoding="utf-8")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_generator(weights)


# --- through the CLI, one case of each kind -----------------------------------------------

ONE_OF_EACH = {
    "legend": "legend shorter than the vocabulary",
    "games": "a game more than the tensors",
    "conditions": "groups renamed",
    "channels": "no conv widths",
    "latent": "latent 50,000",
    "model config": "input a million wide",
    "tensors": "NaN in a weight",
    "prior": "all-zero weights",
    "label_distribution": "a row without a count",
}


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, tiny_checkpoint):
    cases = {}
    for kind, name in ONE_OF_EACH.items():
        folder = tmp_path_factory.mktemp("bad-cli")
        case, fragment = TINY_CASES[kind][name]
        weights = build(folder, tiny_checkpoint, case)
        cases[kind] = (
            ["sample", "levels", "--checkpoint", str(weights), "-n", "1", "--out", str(folder / "out")],
            fragment,
        )
    procs = run_cli_many([argv for argv, _ in cases.values()])
    return {kind: (proc, fragment) for (kind, (_, fragment)), proc in zip(cases.items(), procs)}


@pytest.mark.parametrize("kind", list(ONE_OF_EACH))
def test_each_kind_of_bad_card_exits_2_with_one_line(cli_runs, kind):
    proc, fragment = cli_runs[kind]
    line = assert_user_error(proc, fragment)
    assert line.startswith("error: checkpoint ")
    assert proc.stdout == ""


@pytest.mark.skipif(not hasattr(os, "wait4"), reason="os.wait4 reports a child's peak memory on POSIX only")
def test_a_card_claiming_latent_a_million_is_refused_fast_without_allocating(tmp_path, tiny_checkpoint):
    """Built, that model's two linear layers would take some 10 GB; refused, the process stays small."""
    weights = build(tmp_path, tiny_checkpoint, setting("model.latent_size", 1_000_000))
    argv = [sys.executable, "main.py", "sample", "levels", "--checkpoint", str(weights), "-n", "1"]
    argv += ["--out", str(tmp_path / "out")]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    started = time.monotonic()
    with open(tmp_path / "stdout", "wb") as stdout, open(tmp_path / "stderr", "wb") as stderr:
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=stdout, stderr=stderr, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = (tmp_path / "stderr").read_text(encoding="utf-8")
    assert proc.returncode == 2, err
    assert err.splitlines() == [err.strip()] and "model.latent_size is 1000000" in err
    assert usage.ru_maxrss < 1_500_000, f"peak memory {usage.ru_maxrss} kB"  # Linux: kB; torch alone takes ~400 MB
    assert seconds < 60


# --- a damaged resume state ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda tensors, card: card.pop("model"), "is not a resume state for this model"),
        (lambda tensors, card: card["model"].__setitem__("latent_size", 10**6), "is not a resume state"),
        (lambda tensors, card: card.pop("history"), "is damaged ('history')"),
        (lambda tensors, card: card.__setitem__("epochs_done", -1), "is damaged (card field epochs_done is -1"),
        (lambda tensors, card: tensors.pop("model.head.bias"), "is damaged (the weights do not match its card"),
        (
            lambda tensors, card: tensors.__setitem__("best.head.bias", torch.full((11,), math.nan)),
            "model.head.bias holds NaN",
        ),
    ],
    ids=["no model", "latent a million", "no history", "negative epochs", "a weight missing", "NaN best weights"],
)
def test_a_damaged_resume_state_is_one_clear_error(game_folder, tmp_path, damage, fragment):
    from generators.core.errors import UserError
    from generators.core.train import TrainConfig, Trainer
    from generators.core.vae import ConditionalVAE, VAEConfig
    from generators.levels.domain import LevelsDomain

    domain, corpus = LevelsDomain.prepare_training([game_folder])
    config = VAEConfig(domain.shape, domain.conditions.size, 4, (8, 16), domain.likelihood)
    resume = tmp_path / "run.resume.safetensors"
    Trainer(ConditionalVAE(config), TrainConfig(epochs=1, batch_size=64), resume_path=resume).fit(corpus.train)
    ckpt = load_checkpoint(resume)
    tensors, card = dict(ckpt.tensors), {k: v for k, v in ckpt.card.items() if k != "weights_sha256"}
    damage(tensors, card)
    save_checkpoint(resume, tensors, card)
    with pytest.raises(UserError, match=re.escape(fragment)) as caught:
        Trainer(ConditionalVAE(config), TrainConfig(epochs=2)).load_resume_state(resume)
    assert "\n" not in str(caught.value)
