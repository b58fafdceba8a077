"""A model checkpoint's card checked against its tensors before anything is built from it.

A card is data a user hands us: hand-edited, cut from another model, truncated or hostile. So
before a model is built, `model_config` reads the card's model config with a cap on every size
(a card claiming a latent size of a million is refused here, not after gigabytes are
allocated); `check_model_tensors` compares the parameter names, shapes and dtypes that config
implies (the model built on the `meta` device, which allocates nothing) with the weights and
checks they are finite; `check_domain_fit` checks the domain the card's `domain_config` makes
against the config and the card's condition groups; `check_extras` checks the mixture prior and
the latent directions; `check_label_distribution` the label sets `any` draws from. Each problem
is a CheckpointError, one line naming the card field or the tensor.
"""

from __future__ import annotations

import math
import re
from dataclasses import fields

import numpy as np
import torch

from .conditions import ConditionSpace, LabelDistribution, normalise_label
from .domain import Domain
from .errors import CheckpointError, ConditionError
from .latent_prior import PREFIX as PRIOR
from .likelihoods import LIKELIHOODS, MAX_PALETTE
from .vae import (
    LAYOUTS,
    MAX_CELLS,
    MAX_DECODER_BLOCKS,
    MAX_LATENT,
    MAX_LEVELS,
    MAX_SIDE,
    MAX_WIDTH,
    ConditionalVAE,
    VAEConfig,
)

PRIOR_PARTS = ("conditions", "means", "spreads", "weights")
MAX_PRIOR_COMPONENTS = 256  # TrainConfig.prior_components has the same bound
EXTRA_GROUPS = ("directions", PRIOR.rstrip("."))  # the tensors a model checkpoint holds beside `model.`


def bad_field(field: str, problem: str) -> CheckpointError:
    """`card field FIELD PROBLEM`, e.g. bad_field("model.latent_size", "is 0; ...")."""
    return CheckpointError(f"card field {field} {problem}")


def mismatch(problem: str) -> CheckpointError:
    return CheckpointError(f"the weights do not match its card: {problem}")


def broken_prior(problem: str) -> CheckpointError:
    return CheckpointError(f"broken mixture prior: {problem}")


def is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def whole(value, field: str, least: int, most: int) -> int:
    """`value` if it is an int from `least` to `most`, else a CheckpointError naming `field`."""
    if not is_whole(value) or not least <= value <= most:
        shown = f"{value}" if is_whole(value) else f"{value!r}"[:40]
        raise bad_field(field, f"is {shown}; it must be a whole number from {least} to {most}")
    return value


def palette_colours(value, field: str) -> tuple[tuple[int, int, int, int], ...]:
    """`value` as colours if it lists 2 to MAX_PALETTE [red, green, blue, alpha] of 0..255 each."""
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_PALETTE:
        raise bad_field(field, f"must list 2 to {MAX_PALETTE} colours, each [red, green, blue, alpha]")
    for i, colour in enumerate(value):
        if not isinstance(colour, list) or len(colour) != 4:
            raise bad_field(f"{field}[{i}]", "must be [red, green, blue, alpha]")
        for channel in colour:
            whole(channel, f"{field}[{i}]", 0, 255)
    return tuple(tuple(colour) for colour in value)


def text(value, field: str) -> str:
    """`value` if it is a non-empty string, else a CheckpointError naming `field`."""
    if not isinstance(value, str) or not value.strip():
        raise bad_field(field, f"is {value!r}"[:60] + "; it must be a non-empty string")
    return value


def texts(value, field: str, allow_empty: bool = True) -> list[str]:
    """`value` if it is a list of distinct non-empty strings, else a CheckpointError naming `field`."""
    if not isinstance(value, list):
        raise bad_field(field, "is not a list")
    if not value and not allow_empty:
        raise bad_field(field, "is empty")
    for i, item in enumerate(value):
        text(item, f"{field}[{i}]")
    if len(set(value)) != len(value):
        raise bad_field(field, f"names {next(v for v in value if value.count(v) > 1)!r} twice")
    return value


def shape_text(shape) -> str:
    return str(tuple(shape))


# --- the model config -----------------------------------------------------------------


def model_config(card: dict) -> VAEConfig:
    """The card's `model` as a VAEConfig, every field checked and every size capped."""
    data = card.get("model")
    if not isinstance(data, dict):
        raise bad_field("model", "is missing" if data is None else "is not an object")
    known = [f.name for f in fields(VAEConfig)]
    unknown = [key for key in data if key not in known]
    if unknown:
        raise bad_field(f"model.{unknown[0]}", "is not a model setting this version of Latent Forge knows")
    for required in ("input_shape", "condition_size"):
        if required not in data:
            raise bad_field(f"model.{required}", "is missing")
    shape = data["input_shape"]
    if not isinstance(shape, list) or len(shape) != 3:
        raise bad_field("model.input_shape", "must be [channels, height, width]")
    whole(shape[0], "model.input_shape[0] (channels)", 1, MAX_WIDTH)
    whole(shape[1], "model.input_shape[1] (height)", 1, MAX_SIDE)
    whole(shape[2], "model.input_shape[2] (width)", 1, MAX_SIDE)
    if math.prod(shape) > MAX_CELLS:
        raise bad_field("model.input_shape", f"is {shape}: over {MAX_CELLS} cells in one item")
    whole(data["condition_size"], "model.condition_size", 0, MAX_WIDTH)
    whole(data.get("latent_size", 1), "model.latent_size", 1, MAX_LATENT)
    whole(data.get("decoder_blocks", 0), "model.decoder_blocks", 0, MAX_DECODER_BLOCKS)
    dropout = data.get("dropout", 0.0)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise bad_field("model.dropout", f"is {dropout!r}"[:60] + "; it must be a number from 0 to below 1")
    if data.get("head_kernel", 3) not in (1, 3) or isinstance(data.get("head_kernel"), bool):
        raise bad_field("model.head_kernel", f"is {data.get('head_kernel')!r}"[:60] + "; it must be 1 or 3")
    channels = data.get("channels", [1])
    if not isinstance(channels, list) or not channels:
        raise bad_field("model.channels", "must be a non-empty list of conv widths")
    if len(channels) > MAX_LEVELS:
        raise bad_field("model.channels", f"lists {len(channels)} conv widths; at most {MAX_LEVELS}")
    for i, width in enumerate(channels):
        whole(width, f"model.channels[{i}]", 1, MAX_WIDTH)
    likelihood = data.get("likelihood", "categorical")
    if likelihood not in LIKELIHOODS:
        raise bad_field("model.likelihood", f"is {likelihood!r}"[:60] + f"; known: {', '.join(LIKELIHOODS)}")
    palette = data.get("palette", [])
    if likelihood == "palette":
        palette_colours(palette, "model.palette")
    elif palette:
        raise bad_field("model.palette", f"is given, but a {likelihood} likelihood has no palette")
    layout = data.get("layout", "grid")
    if layout not in LAYOUTS:
        raise bad_field("model.layout", f"is {layout!r}"[:60] + f"; known: {', '.join(LAYOUTS)}")
    if whole(data.get("autoregressive", 0), "model.autoregressive", 0, MAX_WIDTH) and (
        layout != "sequence" or likelihood != "categorical"
    ):
        raise bad_field("model.autoregressive", "needs the sequence layout and a categorical likelihood")
    return VAEConfig.from_dict(data)


def expected_state(config: VAEConfig) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Parameter name -> (shape, dtype) of the model `config` makes, without allocating it."""
    with torch.device("meta"):
        model = ConditionalVAE(config)
    return {name: (tuple(value.shape), value.dtype) for name, value in model.state_dict().items()}


def _diagnose(config: VAEConfig, state: dict[str, torch.Tensor]) -> str | None:
    """Which config field a set of weights disagrees with, where the weights show it plainly."""
    posterior = state.get("to_posterior.weight")
    if posterior is not None and posterior.ndim == 2 and posterior.shape[0] != 2 * config.latent_size:
        return (
            f"card field model.latent_size is {config.latent_size} but the weights have latent size "
            f"{posterior.shape[0] / 2:g}"
        )
    from_latent = state.get("from_latent.weight")
    if (
        from_latent is not None
        and from_latent.ndim == 2
        and from_latent.shape[1] != config.latent_size + config.condition_size
    ):
        return (
            f"card field model.condition_size is {config.condition_size} but the weights take "
            f"{from_latent.shape[1] - config.latent_size} condition labels"
        )
    layers = sum(1 for name in state if re.fullmatch(r"encoder_convs\.\d+\.weight", name))
    if layers and layers != len(config.channels):
        return f"card field model.channels lists {len(config.channels)} conv widths but the weights have {layers}"
    return None


def check_model_tensors(config: VAEConfig, state: dict[str, torch.Tensor]) -> None:
    """The model's weights (`model.` stripped) are exactly those `config` makes: names, shapes,
    dtypes, and finite."""
    expected = expected_state(config)
    problem = _diagnose(config, state)
    if problem:
        raise mismatch(problem)
    missing = [name for name in expected if name not in state]
    if missing:
        raise mismatch(f"the weights lack model.{missing[0]}, which the card's model config needs")
    extra = [name for name in state if name not in expected]
    if extra:
        raise mismatch(f"the weights hold model.{extra[0]}, which the card's model config has no place for")
    for name, (shape, dtype) in expected.items():
        value = state[name]
        if tuple(value.shape) != shape:
            raise mismatch(
                f"model.{name} has shape {shape_text(value.shape)}; the card's model config "
                f"(input_shape, channels, likelihood, layout) makes it {shape_text(shape)}"
            )
        if value.dtype != dtype:
            raise mismatch(f"model.{name} is {value.dtype}; the model's parameters are {dtype}")
        if not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"the weights are corrupt: model.{name} holds NaN or infinite values")


# --- the domain and its conditions ----------------------------------------------------


def check_condition_space(space: ConditionSpace) -> None:
    """Every group named, its labels distinct non-empty strings; an exclusive group has at least
    one (it always takes one)."""
    for g, group in enumerate(space.groups):
        field = f"conditions[{g}]"
        text(group.name, f"{field}.name")
        texts(list(group.labels), f"{field} ({group.name}) labels", allow_empty=not group.exclusive)
        normal = [normalise_label(label) for label in group.labels]
        if len(set(normal)) != len(normal):
            raise bad_field(f"{field} ({group.name}) labels", "holds two labels that read the same")


def check_domain_fit(config: VAEConfig, domain: Domain, card: dict) -> None:
    """The domain the card's domain_config makes agrees with the model config and with the
    condition groups the card records."""
    space = domain.conditions
    check_condition_space(space)
    if tuple(config.input_shape) != tuple(domain.shape):
        raise bad_field(
            "model.input_shape",
            f"is {list(config.input_shape)} but domain_config makes {domain.name} items of shape "
            f"{list(domain.shape)} (channels, height, width)",
        )
    if config.condition_size != space.size:
        raise bad_field(
            "model.condition_size",
            f"is {config.condition_size} but domain_config makes {space.size} condition labels "
            f"({', '.join(space.labels) or 'none'})",
        )
    if config.likelihood != domain.likelihood:
        raise bad_field("model.likelihood", f"is {config.likelihood!r}; {domain.name} models use {domain.likelihood!r}")
    if tuple(config.palette) != tuple(domain.palette):
        raise bad_field("model.palette", "does not match the palette in domain_config")
    recorded = card.get("conditions")
    if recorded is None:
        return
    made = space.to_card()
    if not isinstance(recorded, list) or len(recorded) != len(made):
        names = ", ".join(g["name"] for g in made) or "none"
        raise bad_field("conditions", f"does not list the condition groups domain_config makes ({names})")
    for g, (got, want) in enumerate(zip(recorded, made)):
        if got != want:
            raise bad_field(
                f"conditions[{g}]",
                f"does not match the {want['name']} group domain_config makes "
                f"(labels {', '.join(want['labels']) or 'none'})",
            )


def check_sampling(card: dict) -> None:
    """`sampling`, where a card has it, is {"temperature": a finite number from 0 to 10, ...}."""
    sampling = card.get("sampling")
    if sampling is None:
        return
    if not isinstance(sampling, dict):
        raise bad_field("sampling", "must be an object")
    value = sampling.get("temperature", 1.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 10.0:
        raise bad_field("sampling.temperature", f"is {value!r}"[:60] + "; it must be a number from 0 to 10")


def check_label_distribution(card: dict, space: ConditionSpace) -> None:
    """`label_distribution`, if the card has one: a list of {"labels": [...], "count": n} whose
    label sets this model's conditions can make, with finite non-negative counts."""
    rows = card.get("label_distribution")
    if rows is None:
        return
    if not isinstance(rows, list):
        raise bad_field("label_distribution", "is not a list")
    for i, row in enumerate(rows):
        field = f"label_distribution[{i}]"
        if not isinstance(row, dict) or "labels" not in row or "count" not in row:
            raise bad_field(field, 'must be {"labels": [...], "count": n}')
        labels, count = row["labels"], row["count"]
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise bad_field(f"{field}.labels", "must be a list of label names")
        if isinstance(count, bool) or not isinstance(count, (int, float)) or not 0 <= count < math.inf:
            raise bad_field(f"{field}.count", f"is {count!r}"[:40] + "; it must be a number of items, at least 0")
        try:
            space.encode(labels)
        except ConditionError as error:
            raise bad_field(f"{field}.labels", f"cannot be one item's labels: {error}") from None
    try:
        LabelDistribution.from_card(space, rows)
    except (ConditionError, ValueError, TypeError, KeyError) as error:  # the checks above should leave none
        raise bad_field("label_distribution", f"is malformed: {error}") from None


# --- the tensors beside the model ------------------------------------------------------


def check_scan_reference(card: dict, domain: Domain) -> None:
    """`scan_reference` (or an old card's `typicality_reference`), where a card has one, is what
    `scan.reference_scores` can read: checked at load, so a damaged one is refused with the card."""
    from .scan import reference_from_card, typicality_from_card  # scan imports nothing of this module

    if card.get("scan_reference") is not None:
        reference_from_card(card["scan_reference"], len(domain.scan_features_names))
    elif card.get("typicality_reference"):
        typicality_from_card(card["typicality_reference"])


def check_extras(config: VAEConfig, extras: dict[str, torch.Tensor]) -> None:
    """Tensors other than the model's: `directions.NAME` (latent directions) and `prior.*` (the
    mixture prior); anything else has no place in a model checkpoint."""
    for name, value in extras.items():
        group = name.split(".", 1)[0]
        if group not in EXTRA_GROUPS or "." not in name or not name.split(".", 1)[1]:
            raise mismatch(f"tensor {name} is not part of a Latent Forge model")
        if group == "directions":
            if tuple(value.shape) != (config.latent_size,) or value.dtype != torch.float32:
                raise mismatch(
                    f"latent direction {name} is {value.dtype} of shape {shape_text(value.shape)}; the card's "
                    f"model.latent_size makes it float32 of shape ({config.latent_size},)"
                )
            if not bool(torch.isfinite(value).all()):
                raise CheckpointError(f"the weights are corrupt: {name} holds NaN or infinite values")
    check_prior(config, {name: value for name, value in extras.items() if name.startswith(PRIOR)})


def check_prior(config: VAEConfig, prior: dict[str, torch.Tensor]) -> None:
    """The mixture prior's four tensors (see `latent_prior`), if there is one: present together,
    float32, of shapes that agree with each other and with the model (latent size, condition
    labels), finite, spreads and weights not negative, and each combination's weights not all zero."""
    if not prior:
        return
    for part in PRIOR_PARTS:
        if PRIOR + part not in prior:
            raise broken_prior(f"the weights lack {PRIOR}{part}")
    unknown = [name for name in prior if name[len(PRIOR) :] not in PRIOR_PARTS]
    if unknown:
        raise broken_prior(f"{unknown[0]} is not part of a mixture prior")
    for name, value in prior.items():
        if value.dtype != torch.float32:
            raise broken_prior(f"{name} is {value.dtype}, not float32")
        if not bool(torch.isfinite(value).all()):
            raise broken_prior(f"{name} holds NaN or infinite values")
    conditions, means = prior[PRIOR + "conditions"], prior[PRIOR + "means"]
    spreads, weights = prior[PRIOR + "spreads"], prior[PRIOR + "weights"]
    if means.ndim != 3 or 0 in means.shape:
        raise broken_prior(
            f"{PRIOR}means has shape {shape_text(means.shape)}; it must be (combinations, components, latent)"
        )
    m, k, d = means.shape
    if d != config.latent_size:
        raise broken_prior(f"{PRIOR}means has latent size {d}; card field model.latent_size is {config.latent_size}")
    if k > MAX_PRIOR_COMPONENTS:
        raise broken_prior(f"{PRIOR}means has {k} components; at most {MAX_PRIOR_COMPONENTS}")
    if tuple(conditions.shape) != (m, config.condition_size):
        raise broken_prior(
            f"{PRIOR}conditions has shape {shape_text(conditions.shape)}; {m} combinations of "
            f"card field model.condition_size {config.condition_size} labels make it ({m}, {config.condition_size})"
        )
    if tuple(spreads.shape) != (m, k, d):
        raise broken_prior(
            f"{PRIOR}spreads has shape {shape_text(spreads.shape)}; {PRIOR}means makes it ({m}, {k}, {d})"
        )
    if tuple(weights.shape) != (m, k):
        raise broken_prior(f"{PRIOR}weights has shape {shape_text(weights.shape)}; {PRIOR}means makes it ({m}, {k})")
    if bool((spreads < 0).any()):
        raise broken_prior(f"{PRIOR}spreads holds negative values")
    if bool((weights < 0).any()):
        raise broken_prior(f"{PRIOR}weights holds negative values")
    empty = np.flatnonzero(weights.sum(dim=1).numpy() <= 0)
    if len(empty):
        raise broken_prior(f"{PRIOR}weights of combination {int(empty[0])} are all zero")
    if not bool(((conditions == 0) | (conditions == 1)).all()):
        raise broken_prior(f"{PRIOR}conditions holds values other than 0 and 1")
