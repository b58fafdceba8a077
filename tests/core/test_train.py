"""The trainer on the tiny game: progress callbacks, cancellation, early stopping, and resume
state that continues from the saved epoch with the same weights and Adam moments."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import HOLDOUT

from generators.core.errors import UserError
from generators.core.train import EpochRecord, TrainConfig, Trainer
from generators.core.vae import ConditionalVAE, VAEConfig
from generators.levels.domain import LevelsDomain
from generators.training_run import TrainingRequest, resume_path_for, train_and_save


@pytest.fixture
def corpus(game_folder):
    domain, corpus = LevelsDomain.prepare_training([game_folder], holdout=(HOLDOUT,))
    assert (len(corpus.train), len(corpus.holdout)) == (3 * 25, 25)  # 40-column levels, 16-column windows
    return domain, corpus


def tiny_model(domain, seed: int = 0) -> ConditionalVAE:
    torch.manual_seed(seed)
    return ConditionalVAE(VAEConfig(domain.shape, domain.conditions.size, 4, (8, 16), domain.likelihood))


class Recorder:
    """Records every callback; optionally cancels its trainer at a given (epoch, step)."""

    def __init__(self, cancel_at=None):
        self.steps, self.epochs, self.rng_after_epoch = [], [], {}
        self.cancel_at, self.trainer = cancel_at, None

    def on_step(self, epoch, step, steps_per_epoch):
        self.steps.append((epoch, step, steps_per_epoch))
        if (epoch, step) == self.cancel_at:
            self.trainer.cancel()

    def on_epoch_end(self, record, total_epochs):
        self.epochs.append((record.epoch, total_epochs))
        self.rng_after_epoch[record.epoch] = torch.get_rng_state()


CONFIG = TrainConfig(epochs=2, batch_size=16, warmup_epochs=1.0, seed=3)


def test_callbacks_report_every_step_and_epoch(corpus):
    domain, data = corpus
    recorder = Recorder()
    result = Trainer(tiny_model(domain), CONFIG, callbacks=[recorder]).fit(data.train, data.holdout)
    assert recorder.steps == [(e, s, 5) for e in (1, 2) for s in range(1, 6)]  # 75 items / 16 per batch
    assert recorder.epochs == [(1, 2), (2, 2)]
    assert [r.epoch for r in result.history] == [1, 2]
    assert all(isinstance(r, EpochRecord) and r.val_negative_elbo is not None for r in result.history)


def test_a_callback_may_implement_only_some_hooks(corpus):
    domain, data = corpus

    class EpochsOnly:
        seen = []

        def on_epoch_end(self, record, total_epochs):
            self.seen.append(record.epoch)

    only = EpochsOnly()
    Trainer(tiny_model(domain), CONFIG, callbacks=[only]).fit(data.train)
    assert only.seen == [1, 2]


def test_training_lowers_the_reconstruction_loss(corpus):
    domain, data = corpus
    config = TrainConfig(epochs=6, batch_size=16, learning_rate=3e-3, warmup_epochs=0.0, seed=0)
    history = Trainer(tiny_model(domain), config).fit(data.train).history
    assert history[-1].train_reconstruction < history[0].train_reconstruction - 50


def test_cancel_stops_within_the_epoch_and_saves_nothing(corpus, tmp_path):
    domain, data = corpus
    recorder = Recorder(cancel_at=(1, 2))
    runs = tmp_path / "runs"
    runs.mkdir()
    trainer = Trainer(tiny_model(domain), CONFIG, callbacks=[recorder], resume_path=runs / "run.resume.safetensors")
    recorder.trainer = trainer
    result = trainer.fit(data.train)
    assert result.cancelled and result.history == []
    assert recorder.steps == [(1, 1, 5), (1, 2, 5)] and recorder.epochs == []
    assert list(runs.iterdir()) == []


def test_early_stopping_ends_when_validation_stops_improving(corpus):
    domain, data = corpus
    frozen = TrainConfig(epochs=5, batch_size=16, learning_rate=0.0, patience=1, seed=0)  # nothing can improve
    result = Trainer(tiny_model(domain), frozen).fit(data.train, data.holdout)
    assert result.stopped_early
    assert (result.best_epoch, len(result.history)) == (1, 2)


# --- resume ---------------------------------------------------------------------------


def test_a_resume_file_loads_back_into_the_same_model(corpus, tmp_path):
    domain, data = corpus
    resume = tmp_path / "run.resume.safetensors"
    trainer = Trainer(tiny_model(domain), TrainConfig(epochs=1, batch_size=16), resume_path=resume)
    trainer.fit(data.train)
    again = Trainer(tiny_model(domain, seed=1), TrainConfig(epochs=2, batch_size=16))
    again.load_resume_state(resume)
    assert again.start_epoch == 1


def interrupted_then_resumed(domain, data, tmp_path, restore_rng=None):
    """Train 2 epochs saving resume state, then continue to 3 epochs in a fresh Trainer."""
    resume = tmp_path / "run.resume.safetensors"
    first = Trainer(tiny_model(domain), CONFIG, resume_path=resume)
    torch.manual_seed(123)
    first.fit(data.train, data.holdout)
    assert resume.exists() and resume.with_suffix(".json").exists()

    recorder = Recorder()
    second = Trainer(
        tiny_model(domain, seed=99), TrainConfig(**{**CONFIG.to_dict(), "epochs": 3}), callbacks=[recorder]
    )
    second.load_resume_state(resume)
    return first, second, recorder


def test_resume_state_restores_epoch_weights_history_and_optimiser(corpus, tmp_path):
    domain, data = corpus
    first, second, recorder = interrupted_then_resumed(domain, data, tmp_path)
    assert second.start_epoch == 2
    assert [r.epoch for r in second.result.history] == [1, 2]
    assert second.result.history == first.result.history
    assert second.result.best_epoch == first.result.best_epoch
    for key, value in first.model.state_dict().items():
        assert torch.equal(second.model.state_dict()[key], value), key
    saved, restored = first.optimizer.state_dict(), second.optimizer.state_dict()
    assert saved["state"].keys() == restored["state"].keys()
    for index, state in saved["state"].items():
        for name, value in state.items():
            assert torch.equal(torch.as_tensor(restored["state"][index][name]), torch.as_tensor(value)), (index, name)

    second.fit(data.train, data.holdout)
    assert {epoch for epoch, _, _ in recorder.steps} == {3}  # continues from the saved epoch
    assert recorder.epochs == [(3, 3)]
    assert [r.epoch for r in second.result.history] == [1, 2, 3]


def uninterrupted(domain, data) -> tuple[Trainer, Recorder]:
    recorder = Recorder()
    trainer = Trainer(tiny_model(domain), TrainConfig(**{**CONFIG.to_dict(), "epochs": 3}), callbacks=[recorder])
    torch.manual_seed(123)
    trainer.fit(data.train, data.holdout)
    return trainer, recorder


def test_resumed_run_matches_an_uninterrupted_one_given_the_same_noise(corpus, tmp_path):
    """With the global RNG where the uninterrupted run had it, resuming is exact: proves the
    weights, Adam moments and step counts all come back."""
    domain, data = corpus
    straight, straight_log = uninterrupted(domain, data)
    _, resumed, _ = interrupted_then_resumed(domain, data, tmp_path)
    torch.set_rng_state(straight_log.rng_after_epoch[2])
    resumed.fit(data.train, data.holdout)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key
    assert resumed.result.history[-1].train_loss == straight.result.history[-1].train_loss


def test_resumed_run_matches_an_uninterrupted_one_from_a_fresh_process(corpus, tmp_path):
    domain, data = corpus
    straight, _ = uninterrupted(domain, data)
    _, resumed, _ = interrupted_then_resumed(domain, data, tmp_path)
    torch.manual_seed(CONFIG.seed)  # what a new `train --resume` process does before loading
    resumed.fit(data.train, data.holdout)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key


def test_resume_state_of_another_model_is_refused(corpus, tmp_path):
    domain, data = corpus
    resume = tmp_path / "run.resume.safetensors"
    Trainer(tiny_model(domain), TrainConfig(epochs=1, batch_size=16), resume_path=resume).fit(data.train)
    other = ConditionalVAE(VAEConfig(domain.shape, domain.conditions.size, 6, (8, 16), domain.likelihood))
    with pytest.raises(UserError, match="not a resume state for this model"):
        Trainer(other, CONFIG).load_resume_state(resume)


def test_a_finished_checkpoint_is_not_a_resume_state(corpus, tiny_checkpoint):
    domain, _ = corpus
    model = ConditionalVAE(VAEConfig(domain.shape, domain.conditions.size, 4, (8, 16), domain.likelihood))
    with pytest.raises(UserError, match="not a resume state"):
        Trainer(model, CONFIG).load_resume_state(tiny_checkpoint)


def test_train_and_save_removes_its_resume_state_when_done(tiny_checkpoint):
    for leftover in (resume_path_for(tiny_checkpoint), resume_path_for(tiny_checkpoint).with_suffix(".json")):
        assert leftover.name.startswith("tiny.resume.")
        assert not leftover.exists()


def test_resume_without_a_resume_file_is_a_clear_error(game_folder, tmp_path):
    request = TrainingRequest.of(
        domain="levels", data=[game_folder], out=tmp_path / "m", epochs=1, latent_size=4, resume=True
    )
    with pytest.raises(UserError, match="nothing to resume"):
        train_and_save(request, log=lambda message: None)
    assert not (tmp_path / "m.safetensors").exists()


def test_trainer_does_not_touch_the_models_it_was_not_given(corpus):
    domain, data = corpus
    model = tiny_model(domain)
    before = copy.deepcopy(model.state_dict())
    Trainer(tiny_model(domain, seed=5), TrainConfig(epochs=1, batch_size=16)).fit(data.train)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_cosine_schedule_falls_from_the_rate_to_zero_and_constant_stays():
    cosine = TrainConfig(learning_rate=1e-3, lr_schedule="cosine")
    assert cosine.learning_rate_at(0, 100) == pytest.approx(1e-3)
    assert cosine.learning_rate_at(50, 100) == pytest.approx(5e-4)
    assert cosine.learning_rate_at(100, 100) == pytest.approx(0.0, abs=1e-12)
    assert TrainConfig(learning_rate=1e-3).learning_rate_at(99, 100) == 1e-3
    with pytest.raises(UserError, match="schedule must be one of constant, cosine"):
        TrainConfig(lr_schedule="linear")


def test_a_cosine_run_steps_at_the_scheduled_rate_and_resumes_on_the_same_curve(corpus, tmp_path):
    domain, data = corpus
    config = TrainConfig(**{**CONFIG.to_dict(), "epochs": 3, "lr_schedule": "cosine"})
    straight = Trainer(tiny_model(domain), config)
    straight.fit(data.train, data.holdout)
    steps = -(-len(data.train) // config.batch_size)
    last = config.learning_rate_at(3 * steps - 1, 3 * steps)
    assert straight.optimizer.param_groups[0]["lr"] == pytest.approx(last) and last < 0.02 * config.learning_rate

    # Killed in epoch 3 (a cancel keeps the state after epoch 2), then resumed by a new Trainer.
    resume = tmp_path / "run.resume.safetensors"
    recorder = Recorder(cancel_at=(3, 1))
    killed = Trainer(tiny_model(domain), config, callbacks=[recorder], resume_path=resume)
    recorder.trainer = killed
    assert killed.fit(data.train, data.holdout).cancelled
    resumed = Trainer(tiny_model(domain, seed=99), config)
    resumed.load_resume_state(resume)
    resumed.fit(data.train, data.holdout)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key


def test_an_asset_kind_s_training_defaults_fill_what_the_user_left_unset():
    from generators.cli import build_parser
    from generators.core.train import TrainConfig, settings_for
    from generators.images.domain import ImagesDomain

    config = settings_for({"epochs": 30, "latent_size": 64}, {"epochs": None, "latent_size": 8, "beta": None})
    assert (config.epochs, config.latent_size, config.beta) == (30, 8, TrainConfig().beta)
    args = build_parser().parse_args(["train", "images", "--data", "d", "--out", "o", "--latent", "16"])
    assert args.epochs is None and args.latent_size == 16  # unset flags stay open for the domain's defaults
    images = settings_for(ImagesDomain.training_defaults, {"latent_size": args.latent_size})
    assert images.epochs == ImagesDomain.training_defaults["epochs"] != TrainConfig().epochs
    assert images.latent_size == 16
