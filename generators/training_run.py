"""A whole training run, as `train` and the GUI wizard start it: prepare data, train,
save the checkpoint with its card, then measure it and record the metrics in the card."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch

from generators.core.checkpoint import checkpoint_paths, load_checkpoint, save_checkpoint, write_card
from generators.core.conditions import LabelDistribution
from generators.core.distributed import Placement, barrier, join_from_environment, leave
from generators.core.errors import TrainingCancelled, UserError
from generators.core.evaluation import evaluate
from generators.core.fileio import ensure_writable_file, exclusive_lock
from generators.core.latent_prior import fit_to_model
from generators.core.scan import scan_reference_card
from generators.core.train import TrainConfig, Trainer, latent_directions
from generators.core.vae import ConditionalVAE, VAEConfig
from generators.registry import domain_class, generator_from_checkpoint, load_generator


@dataclass(frozen=True)
class TrainingRequest:
    """One training run: which domain, on what data, written where, with which settings."""

    domain: str
    data: list[Path]
    out: Path  # NAME, NAME.safetensors or NAME.json
    config: TrainConfig = TrainConfig()  # every training setting (the CLI flags and the wizard's fields)
    holdout: tuple[str, ...] = ()
    resume: bool = False
    command: str = ""  # the CLI command that runs this request again, for the card
    init: str | None = None  # a checkpoint to fine-tune instead of starting from scratch
    extra_card: dict = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        domain: str,
        data: list[Path],
        out: Path,
        holdout=(),
        resume=False,
        command="",
        init=None,
        extra_card=None,
        **settings,
    ) -> TrainingRequest:
        """A request whose `settings` are TrainConfig fields by name (epochs=1, latent_size=4...)."""
        return cls(
            domain,
            list(data),
            Path(out),
            TrainConfig(**settings),
            tuple(holdout),
            resume,
            command,
            init,
            dict(extra_card or {}),
        )


MEASURING_LINE = "measuring the model on its held-out data..."  # logged as the measuring starts
MEASURING_SKIPPED = (
    "measuring was cancelled after training: the model is complete, but its card has no held-out "
    "figures; `python main.py eval DOMAIN --checkpoint PATH --data DATA` measures it"
)


def lock_path_for(out: Path) -> Path:
    """NAME.lock beside NAME.safetensors: held (it names the pid) while a run trains into NAME."""
    weights, _ = checkpoint_paths(out)
    return weights.with_suffix(".lock")


def resume_path_for(out: Path) -> Path:
    weights, _ = checkpoint_paths(out)
    return weights.with_name(weights.stem + ".resume.safetensors")


def train_and_save(
    request: TrainingRequest,
    callbacks: list | None = None,
    log: Callable[[str], None] = print,
    trainer_ready: Callable[[Trainer], None] | None = None,
) -> list[Path]:
    """Run `request` to the end and return the checkpoint's weights and card paths.

    Under torchrun every process trains its share; only rank 0 logs, writes and measures,
    and the other ranks return an empty list. `trainer_ready` receives the Trainer before
    training starts (the GUI keeps it to cancel)."""
    placement = join_from_environment()
    try:
        return _train_and_save(
            request, callbacks, log if placement.is_main else (lambda _: None), trainer_ready, placement
        )
    finally:
        leave(placement)


def _train_and_save(request, callbacks, log, trainer_ready, placement: Placement) -> list[Path]:
    weights_path, _ = checkpoint_paths(request.out)
    settings = request.config  # validated when it was made
    if settings.critic > 0 and domain_class(request.domain).condition_critic is None:
        raise UserError(f"the {request.domain} domain has no condition critic; train without --critic")
    with contextlib.ExitStack() as held:
        if placement.is_main:  # the one writer of this checkpoint (and of its resume state), until the end
            ensure_writable_file(weights_path)
            held.enter_context(exclusive_lock(lock_path_for(weights_path), f"checkpoint {weights_path}"))
        return _train_and_save_locked(request, callbacks, log, trainer_ready, placement)


def _train_and_save_locked(request, callbacks, log, trainer_ready, placement: Placement) -> list[Path]:
    weights_path, card_path = checkpoint_paths(request.out)
    settings = request.config
    # Settings and the resume state are checked before the data is read, which can take a while.
    resume_path = resume_path_for(weights_path)
    if request.resume and not resume_path.exists():
        raise UserError(f"nothing to resume: {resume_path} does not exist")
    parent = load_generator(request.init, domain=request.domain) if request.init else None
    # A trained model needs no warm-up, and keeps its own latent size, which the card then records
    # (it recorded the domain's default, 64, for a latent-128 parent).
    train_config = (
        settings
        if parent is None
        else replace(settings, warmup_epochs=0.0, latent_size=parent.model.config.latent_size)
    )
    if parent is not None:
        domain = parent.domain  # fine-tuning keeps the parent's vocabulary and conditions
        corpus = domain.corpus(request.data, holdout=request.holdout)
        config = parent.model.config
        model = parent.model
    else:
        domain, corpus = domain_class(request.domain).prepare_training(request.data, holdout=request.holdout)
        torch.manual_seed(settings.seed)
        config = VAEConfig(
            domain.shape,
            domain.conditions.size,
            settings.latent_size,
            domain.model_channels,
            domain.likelihood,
            layout=domain.model_layout,
            decoder_blocks=domain.model_decoder_blocks,
            palette=domain.palette,
            head_kernel=domain.model_head_kernel,
            dropout=domain.model_dropout,
            autoregressive=domain.model_autoregressive,
        )
        model = ConditionalVAE(config)
    for problem in corpus.description.get("skipped", []):
        log(f"skipped {problem['file']}: {problem['reason']}")
    log(
        f"data: {len(corpus.train)} training items, {len(corpus.holdout)} held out"
        + (f"; {placement.world_size} processes on {placement.device}" if placement.distributed else "")
    )
    if parent is not None:
        log(f"fine-tuning {request.init} (latent {config.latent_size})")

    trainer = Trainer(
        model,
        train_config,
        callbacks,
        augment=domain.augment,
        critic=domain.condition_critic,
        resume_path=resume_path if placement.is_main else None,
        placement=placement,
    )
    if request.resume:
        trainer.load_resume_state(resume_path)
        log(f"resuming after epoch {trainer.start_epoch}")
    if trainer_ready is not None:
        trainer_ready(trainer)

    started = time.perf_counter()
    result = trainer.fit(corpus.train, corpus.holdout if len(corpus.holdout) else None)
    train_seconds = time.perf_counter() - started
    if result.cancelled:
        raise TrainingCancelled("training was cancelled; its last finished epoch can be resumed")
    # Every rank is done with collectives here. Meet once, then leave the group before rank 0's
    # long single-process work (prior, eval), so no rank tears its sockets down while a peer
    # could still be reading from them.
    barrier(placement)
    del trainer
    leave(placement)
    if not placement.is_main:
        return []

    model = model.cpu()
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update(latent_directions(model, corpus.train, domain.conditions.labels))
    if settings.prior_components > 0:
        log(f"fitting a mixture prior of up to {settings.prior_components} components per condition...")
        tensors.update(fit_to_model(model, corpus.train.x, corpus.train.c, settings.prior_components, settings.seed))
    card = {
        "name": weights_path.stem,
        "domain": domain.name,
        "domain_config": domain.to_card(),
        "model": config.to_dict(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "conditions": domain.conditions.to_card(),
        "data": corpus.description,
        # What `any` draws an item's open labels from: the training items' label sets (core/conditions.py).
        "label_distribution": LabelDistribution.from_vectors(
            domain.conditions.labels, corpus.train.c.numpy()
        ).to_card(),
        **domain.training_card(corpus.train),  # levels: the training levels' characters
        "training": {
            "command": request.command,
            "config": train_config.to_dict(),
            "processes": placement.world_size,
            "device": placement.device.type,
            "epochs_run": len(result.history),
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
            "seconds": round(train_seconds, 1),
            "items_per_second": round(result.items_per_second, 1),
            "final": result.history[-1].__dict__ if result.history else None,
        },
        "lineage": lineage_of(parent),
        "metrics": {},
        **request.extra_card,
    }
    save_checkpoint(weights_path, tensors, card)

    log(MEASURING_LINE)
    generator = generator_from_checkpoint(load_checkpoint(weights_path))
    started = time.perf_counter()
    card = dict(generator.card)
    try:
        # `log` hears each phase; a caller that was cancelled meanwhile raises TrainingCancelled
        # from it (the app's Cancel while measuring), which skips the rest of the measuring.
        card["metrics"] = evaluate(
            generator, corpus, iwae_k=settings.iwae_k, samples=settings.eval_samples, seed=settings.seed, log=log
        )
        card["metrics"]["eval_seconds"] = round(time.perf_counter() - started, 1)
        card["scan_reference"] = scan_reference_card(generator, corpus, log)  # what `scan` reads percentiles against
    except TrainingCancelled:
        # The model is trained and saved: only its figures are missing, and `eval` can add them.
        card["metrics"] = {"measured": False, "note": MEASURING_SKIPPED}
        card.pop("scan_reference", None)
    write_card(card_path, card)
    for leftover in checkpoint_paths(resume_path):
        leftover.unlink(missing_ok=True)
    return [weights_path, card_path]


def lineage_of(parent) -> list[dict]:
    """The chain of models a fine-tuned model descends from, oldest first (empty if none)."""
    if parent is None:
        return []
    card = parent.card
    return list(card.get("lineage", [])) + [
        {
            "name": card.get("name"),
            "weights_sha256": card.get("weights_sha256"),
            "data": card.get("data", {}).get("folders"),
            "command": card.get("training", {}).get("command"),
        }
    ]
