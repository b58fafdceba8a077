"""Domain names to their packages, the shipped models, and the one loader of checkpoints.

This is the only module that knows every asset kind. Each wing is imported when its domain is
first asked for, so loading a level model never imports the music code. The core knows none of
the wings; the CLI and the GUI ask this module, then talk to the Domain and the Generator.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from generators.core import card_check
from generators.core.checkpoint import SHIPPED_DIR, Checkpoint, load_checkpoint
from generators.core.commands import WingCommands
from generators.core.domain import Domain
from generators.core.errors import CheckpointError, UserError
from generators.core.generator import Generator
from generators.core.vae import ConditionalVAE, VAEConfig


def _levels() -> type[Domain]:
    from generators.levels.domain import LevelsDomain

    return LevelsDomain


def _images() -> type[Domain]:
    from generators.images.domain import ImagesDomain

    return ImagesDomain


def _music() -> type[Domain]:
    from generators.music.domain import MusicDomain

    return MusicDomain


# Domain name -> a function importing its wing and returning its Domain class.
WINGS: dict[str, Callable[[], type[Domain]]] = {"levels": _levels, "images": _images, "music": _music}
DOMAIN_NAMES = tuple(WINGS)


def wing_commands() -> dict[str, WingCommands]:
    """Each domain's additions to the CLI (flags, whole levels, benchmarks), by domain name."""
    from generators.images.commands import COMMANDS as images
    from generators.levels.commands import COMMANDS as levels
    from generators.music.commands import COMMANDS as music

    return {"levels": levels, "images": images, "music": music}


SHIPPED = ("levels", "images", "music", "lode-runner")  # domain defaults, then further models by name


def domain_class(name: str) -> type[Domain]:
    """The Domain class for a domain name; its wing is imported on first use."""
    if name not in WINGS:
        raise UserError(f"unknown domain {name!r}; choose one of: {', '.join(DOMAIN_NAMES)}")
    return WINGS[name]()


def generator_from_checkpoint(ckpt: Checkpoint) -> Generator:
    """Rebuild domain and model from a verified checkpoint. The card is checked against the
    tensors first (`card_check`): nothing is built from a card that disagrees with its weights."""
    try:
        config, domain = _checked(ckpt)
    except UserError as error:  # one line naming the checkpoint and the card field
        raise CheckpointError(f"checkpoint {ckpt.card_path}: {str(error).splitlines()[0]}") from None
    card = ckpt.card
    try:
        model = ConditionalVAE(config)
        model.load_state_dict(ckpt.group("model"), strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:  # the checks above should leave none
        raise CheckpointError(
            f"checkpoint {ckpt.card_path} does not match its card: {str(exc).splitlines()[0]}"
        ) from None
    extras = {k: v for k, v in ckpt.tensors.items() if not k.startswith("model.")}
    try:
        return Generator(model, domain, card, extras)
    except (KeyError, ValueError) as exc:  # e.g. a mixture prior whose tensors are missing or disagree
        raise CheckpointError(f"checkpoint {ckpt.card_path} has a broken mixture prior: {exc}") from None


def _checked(ckpt: Checkpoint) -> tuple[VAEConfig, Domain]:
    """The card's model config and domain, each checked against the other and against the
    tensors (names, shapes, dtypes, finite values), before any model exists."""
    card = ckpt.card
    name = card.get("domain")
    if name is None:
        raise card_check.bad_field("domain", "is missing")
    if name not in WINGS:
        raise card_check.bad_field("domain", f"is {name!r}"[:60] + f"; known: {', '.join(DOMAIN_NAMES)}")
    if not isinstance(card.get("name", ""), str):
        raise card_check.bad_field("name", "is not a string")
    config = card_check.model_config(card)  # sizes capped before anything is made of them
    domain_config = card.get("domain_config")
    if not isinstance(domain_config, dict):
        raise card_check.bad_field("domain_config", "is missing" if domain_config is None else "is not an object")
    try:
        domain = domain_class(name).from_card(domain_config)
    except UserError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:  # a wing's from_card missed it
        problem = str(exc).splitlines()[0] if str(exc) else repr(exc)
        raise card_check.bad_field("domain_config", f"is malformed: {problem}") from None
    card_check.check_domain_fit(config, domain, card)
    card_check.check_model_tensors(config, ckpt.group("model"))
    card_check.check_extras(config, {k: v for k, v in ckpt.tensors.items() if not k.startswith("model.")})
    card_check.check_label_distribution(card, domain.conditions)
    card_check.check_scan_reference(card, domain)
    domain.check_training_card(card)
    card_check.check_sampling(card)
    return config, domain


def resolve_checkpoint(name_or_path: str | os.PathLike) -> Path:
    """A shipped name (levels, images, music, lode-runner) or a path to a user's checkpoint."""
    text = str(name_or_path)
    if text in SHIPPED:
        return SHIPPED_DIR / f"{text}.safetensors"
    return Path(text)


def load_generator(name_or_path: str | os.PathLike, domain: str | None = None) -> Generator:
    """Load a shipped model by name or a checkpoint by path. With `domain`, refuse a
    checkpoint of another domain (e.g. a music model passed to `sample levels`)."""
    generator = generator_from_checkpoint(load_checkpoint(resolve_checkpoint(name_or_path)))
    if domain is not None and generator.domain.name != domain:
        raise CheckpointError(f"{name_or_path} is a {generator.domain.name} model, not a {domain} model")
    return generator
