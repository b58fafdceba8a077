"""One trainer for every domain: mini-batch ELBO training with KL warm-up, free bits,
validation, early stopping, callbacks for progress, cancellation and resume.

An optional condition critic makes a condition steer where a domain can measure it on the
decoder's output with a differentiable rule (music: the mode, by a soft Krumhansl-Schmuckler
key estimate). Each step also decodes a batch of prior samples under the batch's conditions
and adds the critic's loss, so samples drawn from the prior, which training otherwise never
sees, learn to show the condition they were asked for (Hu et al. 2017 train a generator
against an attribute classifier the same way).

The loop is deliberately bare (tensors already in memory, index batches, no DataLoader)
so it runs at the speed of a hand-written PyTorch loop; `bench/` measures that.
Resume state (weights, Adam moments, epoch, history) goes to `OUT.resume.safetensors`
with a JSON card after every epoch, atomically, so a killed run loses at most one epoch.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import Field, asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from . import latent as latent_ops
from .card_check import check_model_tensors, model_config, whole
from .checkpoint import load_checkpoint, save_checkpoint
from .distributed import Placement, sum_across
from .domain import Split
from .errors import CheckpointError, UserError
from .vae import MAX_LATENT, ConditionalVAE, elbo_terms, posterior_means

LR_SCHEDULES = ("constant", "cosine")


def setting(default, flag: str, help: str, kind: str, label: str = "", bounds: tuple = (None, None), choices=()):
    """A TrainConfig field with what the CLI flag, the wizard's control and the validation need.

    kind: "whole" (an int), "number" (a finite float), "rate" (a finite float at least 0, of which the CLI and
    the wizard ask above 0: a rate of 0 freezes the weights, which only tests want) or "choice".
    bounds: inclusive (least, most), either None for no limit."""
    return field(
        default=default,
        metadata={
            "flag": flag,
            "help": help,
            "kind": kind,
            "label": label or help,
            "bounds": bounds,
            "choices": tuple(choices),
        },
    )


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run: the one source of the `train` flags, the wizard's fields
    and the card's `training.config`."""

    epochs: int = setting(60, "--epochs", "passes over the training data", "whole", "Epochs", (1, 100_000))
    batch_size: int = setting(64, "--batch-size", "items per optimiser step", "whole", "Batch size", (1, 65_536))
    learning_rate: float = setting(1e-3, "--lr", "Adam learning rate", "rate", "Learning rate", (0, None))
    lr_schedule: str = setting(
        "constant",
        "--lr-schedule",
        "constant, or cosine: decay the rate to 0 by the last epoch (steadier final weights)",
        "choice",
        "Schedule",
        choices=LR_SCHEDULES,
    )
    beta: float = setting(
        1.0, "--beta", "KL weight; above 1 gives a smoother latent space", "number", "KL weight (beta)", (0, None)
    )
    warmup_epochs: float = setting(
        5.0,
        "--warmup",
        "epochs of KL warm-up (the weight ramps from 0 to beta)",
        "number",
        "KL warm-up epochs",
        (0, None),
    )
    free_bits: float = setting(
        0.0, "--free-bits", "nats per latent dimension kept free of KL pressure", "number", "Free bits", (0, None)
    )
    patience: int = setting(
        0, "--patience", "early-stopping patience in epochs (0: off)", "whole", "Patience", (0, None)
    )
    contractive: float = setting(
        0.0,
        "--contractive",
        "weight of a contractive penalty on the encoder's Jacobian, for a smoother latent space",
        "number",
        "Contractive weight",
        (0, None),
    )
    critic: float = setting(
        0.0,
        "--critic",
        "weight of the domain's condition critic on prior samples (music: the mode); 0: off",
        "number",
        "Critic weight",
        (0, None),
    )
    latent_size: int = setting(32, "--latent", "latent size", "whole", "Latent size", (1, MAX_LATENT))
    prior_components: int = setting(
        0,
        "--prior-components",
        "after training, fit a mixture prior of up to K "
        "components per condition to the training codes and sample from it (0: the "
        "standard normal prior)",
        "whole",
        "Prior components",
        (0, 256),
    )
    seed: int = setting(0, "--seed", "seed of the weights, batches and noise", "whole", "Seed", (0, 2**63 - 1))
    eval_samples: int = setting(
        1000, "--eval-samples", "samples for the card's metrics", "whole", "Eval samples", (1, 100_000)
    )
    iwae_k: int = setting(
        500, "--iwae-k", "importance samples for the card's IWAE bound", "whole", "IWAE samples", (1, 100_000)
    )

    def __post_init__(self):
        """Refuse settings no training can use, with one line naming the setting."""
        for spec in fields(self):
            check_setting(spec, getattr(self, spec.name))

    def learning_rate_at(self, step: int, total_steps: int) -> float:
        """The rate for 0-based optimiser step `step` of `total_steps`. A function of the step
        alone, so a resumed run continues the same curve with no scheduler state to save."""
        if self.lr_schedule == "cosine":
            return self.learning_rate * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))
        return self.learning_rate

    def to_dict(self) -> dict:
        return asdict(self)


def settings_for(domain_defaults: dict, given: dict) -> TrainConfig:
    """TrainConfig from the settings `given` (None: not given), else the domain's defaults, else
    the config's own."""
    chosen = dict(domain_defaults)
    chosen.update({name: value for name, value in given.items() if value is not None})
    return TrainConfig(**chosen)


def check_setting(spec: Field, value):
    """`value` if the TrainConfig field `spec` allows it, else a UserError naming the setting."""
    name, meta = spec.name.replace("_", " "), spec.metadata
    least, most = meta["bounds"]
    if meta["kind"] == "choice":
        if value not in meta["choices"]:
            raise UserError(f"{name} must be one of {', '.join(meta['choices'])}, got {value!r}")
        return value
    if meta["kind"] == "whole":
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{name} must be a whole number, got {value!r}")
        if most is not None and not least <= value <= most:
            raise UserError(f"{name} must be between {least} and {most}, got {value}")
        if least is not None and value < least:
            raise UserError(f"{name} must be at least {least}, got {value}")
        return value
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{name} must be a number{' of at least 0' if least == 0 else ''}, got {value}")
    if least is not None and value < least:
        raise UserError(f"{name} must be a number of at least {least}, got {value}")
    return value


@dataclass
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float
    train_reconstruction: float
    train_kl: float
    val_negative_elbo: float | None
    val_reconstruction: float | None
    val_kl: float | None
    seconds: float


@dataclass
class TrainResult:
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    cancelled: bool = False
    items_per_second: float = 0.0


class Callback(Protocol):
    """Any subset of these methods; the trainer calls those an object has."""

    def on_step(self, epoch: int, step: int, steps_per_epoch: int) -> None: ...

    def on_epoch_end(self, record: EpochRecord, total_epochs: int) -> None: ...


@torch.inference_mode()
def evaluate_split(model: ConditionalVAE, split: Split, batch_size: int = 256, seed: int = 0) -> dict[str, float]:
    """Mean negative ELBO, reconstruction and KL per item (nats) on a split, seeded."""
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    totals = np.zeros(2)
    for start in range(0, len(split), batch_size):
        x, c = split.x[start : start + batch_size].to(device), split.c[start : start + batch_size].to(device)
        terms = elbo_terms(model, x, c, generator=generator)
        totals += np.array([terms.reconstruction.item(), terms.kl.item()]) * len(x)
    recon, kl = totals / max(len(split), 1)
    return {"negative_elbo": recon + kl, "reconstruction": recon, "kl": kl}


class Trainer:
    """Fits a ConditionalVAE on in-memory splits."""

    def __init__(
        self,
        model: ConditionalVAE,
        config: TrainConfig,
        callbacks: list | None = None,
        augment: Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]
        | None = None,
        resume_path: Path | None = None,
        placement: Placement | None = None,
        critic: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    ):
        self.placement = placement or Placement()
        self.model = model.to(self.placement.device)
        # Under torchrun the forward/backward goes through DDP, which averages gradients.
        self.network = DistributedDataParallel(self.model) if self.placement.distributed else self.model
        self.config = config
        self.callbacks = (callbacks or []) if self.placement.is_main else []
        self.augment = augment
        if config.critic > 0 and critic is None:
            raise UserError("this domain has no condition critic; train without --critic")
        self.critic = critic if config.critic > 0 else None
        self.resume_path = resume_path
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
        self.start_epoch = 0
        self.result = TrainResult()
        self._best_state: dict | None = None
        self._best_loss = float("inf")
        self._cancel = False

    def cancel(self) -> None:
        """Ask the loop to stop after the current step (safe from another thread)."""
        self._cancel = True

    def _emit(self, method: str, *args) -> None:
        for callback in self.callbacks:
            hook = getattr(callback, method, None)
            if hook is not None:
                hook(*args)

    def epoch_order(self, size: int, epoch: int, shuffle: torch.Generator) -> torch.Tensor:
        """This process's item indices for one epoch. One process shuffles everything; under
        torchrun PyTorch's DistributedSampler gives each rank an equal share of one shuffle."""
        if not self.placement.distributed:
            return torch.randperm(size, generator=shuffle)
        sampler = DistributedSampler(
            range(size),
            num_replicas=self.placement.world_size,
            rank=self.placement.rank,
            shuffle=True,
            seed=self.config.seed,
        )
        sampler.set_epoch(epoch)
        return torch.tensor(list(sampler))

    def fit(self, train: Split, val: Split | None = None) -> TrainResult:
        """Train for the configured epochs (from `start_epoch` when resumed)."""
        cfg, model, place = self.config, self.model, self.placement
        per_process = -(-len(train) // place.world_size)
        steps_per_epoch = (per_process + cfg.batch_size - 1) // cfg.batch_size
        warmup_steps = max(cfg.warmup_epochs * steps_per_epoch, 1)
        items, busy = 0, 0.0
        for epoch in range(self.start_epoch, cfg.epochs):
            model.train()
            tick = time.perf_counter()
            # Shuffling and reparameterisation noise come from per-epoch seeded generators,
            # so a run resumed at an epoch boundary continues exactly as if never stopped.
            shuffle = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
            noise = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch + 50_000 + 7919 * place.rank)
            order = self.epoch_order(len(train), epoch, shuffle)
            sums = torch.zeros(4)  # loss, reconstruction, KL (each summed over items), items
            for step in range(steps_per_epoch):
                index = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
                x, c = train.x[index], train.c[index]
                if self.augment is not None:
                    x, c = self.augment(x, c, shuffle)
                x, c = x.to(place.device), c.to(place.device)
                beta = cfg.beta * min(1.0, (epoch * steps_per_epoch + step + 1) / warmup_steps)
                for group in self.optimizer.param_groups:
                    group["lr"] = cfg.learning_rate_at(epoch * steps_per_epoch + step, cfg.epochs * steps_per_epoch)
                terms = self._loss(x, c, beta, noise)
                self.optimizer.zero_grad(set_to_none=True)
                terms.loss.backward()
                self.optimizer.step()
                batch_terms = torch.stack([terms.loss.detach(), terms.reconstruction.detach(), terms.kl.detach()]).cpu()
                sums += torch.cat([batch_terms * len(x), torch.tensor([float(len(x))])])
                self._emit("on_step", epoch + 1, step + 1, steps_per_epoch)
                if self._cancel:
                    break
            busy += time.perf_counter() - tick
            sums = sum_across(sums, place)
            items += int(sums[3])
            if self._cancel:
                self.result.cancelled = True
                break
            self._end_epoch(epoch, sums[:3] / sums[3], val, time.perf_counter() - tick)
            if cfg.patience and epoch + 1 - self.result.best_epoch >= cfg.patience:
                self.result.stopped_early = True
                break
        self.result.items_per_second = items / busy if busy else 0.0
        if self._best_state is not None and self.config.patience:
            model.load_state_dict(self._best_state)  # early stopping keeps the best epoch
        model.eval()
        return self.result

    def _loss(self, x: torch.Tensor, c: torch.Tensor, beta: float, noise: torch.Generator):
        """The beta-ELBO loss, plus the critic's term and the contractive penalty when they
        are on. The contractive penalty is
        ||J||_F^2 of the posterior mean w.r.t. the input, estimated without bias by Hutchinson's
        trick, E_v ||J^T v||^2 with v ~ N(0, I): one extra backward pass instead of D."""
        cfg = self.config
        if cfg.contractive > 0:
            x = x.clone().requires_grad_(True)
        terms = elbo_terms(self.network, x, c, beta=beta, free_bits=cfg.free_bits, generator=noise)
        if self.critic is not None:
            terms = self._with_critic(terms, c, noise)
        if cfg.contractive <= 0:
            return terms
        mu = terms.extras["mu"]
        probe = torch.randn(mu.shape, generator=noise).to(mu.device)
        (jacobian_t_v,) = torch.autograd.grad((mu * probe).sum(), x, create_graph=True)
        penalty = jacobian_t_v.pow(2).sum(dim=(1, 2, 3)).mean()
        terms.loss = terms.loss + cfg.contractive * penalty
        terms.extras["contractive"] = penalty.detach()
        return terms

    def _with_critic(self, terms, c: torch.Tensor, noise: torch.Generator):
        """Add the critic's mean loss (nats per item) on prior samples z ~ N(0, I) decoded
        under the batch's own conditions. Reported as extras["critic"]."""
        z = torch.randn((len(c), self.model.config.latent_size), generator=noise).to(c.device)
        losses = self.critic(self.model.decode(z, c), c)  # (B,)
        terms.loss = terms.loss + self.config.critic * losses.mean()
        terms.extras["critic"] = losses.mean().detach()
        return terms

    def _end_epoch(self, epoch: int, means: torch.Tensor, val: Split | None, seconds: float) -> EpochRecord:
        self.model.eval()  # no dropout while measuring; the next epoch sets training mode again
        val_stats = evaluate_split(self.model, val) if val is not None and len(val) else None
        record = EpochRecord(
            epoch=epoch + 1,
            train_loss=float(means[0]),
            train_reconstruction=float(means[1]),
            train_kl=float(means[2]),
            val_negative_elbo=val_stats["negative_elbo"] if val_stats else None,
            val_reconstruction=val_stats["reconstruction"] if val_stats else None,
            val_kl=val_stats["kl"] if val_stats else None,
            seconds=seconds,
        )
        self.result.history.append(record)
        watched = record.val_negative_elbo if val_stats else record.train_loss
        if watched < self._best_loss:
            self._best_loss, self.result.best_epoch = watched, epoch + 1
            self._best_state = copy.deepcopy(self.model.state_dict())
        if self.resume_path is not None:
            self.save_resume_state(self.resume_path, epoch + 1)
        self._emit("on_epoch_end", record, self.config.epochs)
        return record

    # --- resume -------------------------------------------------------------------------

    def save_resume_state(self, path: Path, epochs_done: int) -> None:
        """Weights, best weights and Adam state after `epochs_done` epochs, atomically."""
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        if self._best_state is not None:
            tensors.update({f"best.{k}": v for k, v in self._best_state.items()})
        optim = self.optimizer.state_dict()
        for index, state in optim["state"].items():
            for key, value in state.items():
                tensors[f"optim.{index}.{key}"] = torch.as_tensor(value)
        card = {
            "kind": "resume",
            "epochs_done": epochs_done,
            "train_config": self.config.to_dict(),
            "model": self.model.config.to_dict(),
            "param_groups": optim["param_groups"],
            "best_epoch": self.result.best_epoch,
            "best_loss": self._best_loss,
            "history": [asdict(r) for r in self.result.history],
        }
        save_checkpoint(path, tensors, card)

    def load_resume_state(self, path: Path) -> None:
        """Continue from a resume file written by `save_resume_state` for the same model."""
        ckpt = load_checkpoint(path)
        card = ckpt.card
        try:
            config = model_config(card)  # checked, sizes capped
        except CheckpointError:
            config = None
        if card.get("kind") != "resume" or config != self.model.config:
            raise UserError(f"{path} is not a resume state for this model and data; start without --resume")
        try:
            check_model_tensors(config, ckpt.group("model"))
            best = ckpt.group("best")
            if best:
                check_model_tensors(config, best)
            self.model.load_state_dict(ckpt.group("model"))
            self._best_state = best or None
            self._best_loss, self.result.best_epoch = float(card["best_loss"]), card["best_epoch"]
            state: dict = {}
            for key, value in ckpt.group("optim").items():
                index, name = key.split(".", 1)
                state.setdefault(int(index), {})[name] = value
            self.optimizer.load_state_dict({"state": state, "param_groups": card["param_groups"]})
            self.result.history = [EpochRecord(**r) for r in card["history"]]
            self.start_epoch = whole(card["epochs_done"], "epochs_done", 0, 1 << 31)
        except (CheckpointError, KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            problem = str(exc).splitlines()[0] if str(exc) else repr(exc)
            raise UserError(f"resume state {path} is damaged ({problem}); start without --resume") from None


@torch.inference_mode()
def latent_directions(
    model: ConditionalVAE, split: Split, label_names: list[str], principal: int = 4
) -> dict[str, torch.Tensor]:
    """Slider directions from the training set's posterior means: one attribute vector per
    label (mean with it minus mean without it) and the top principal axes scaled to one
    standard deviation of the data. Stored in the checkpoint as `directions.NAME`."""
    latents = posterior_means(model, split.x, split.c).numpy()
    found = latent_ops.attribute_directions(latents, split.c.numpy(), label_names)
    axes, spread = latent_ops.principal_directions(latents, principal)
    for i, (axis, sd) in enumerate(zip(axes, spread), start=1):
        found[f"pc{i}"] = axis * sd
    return {f"directions.{name}": torch.from_numpy(vector) for name, vector in found.items()}
