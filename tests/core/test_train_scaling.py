"""Training at scale and under faults: torchrun with 2 processes, SIGKILL then --resume,
fine-tuning lineage, the contractive penalty, and one writer per checkpoint (its NAME.lock)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO_ROOT, files_under

from generators.core.checkpoint import load_checkpoint
from generators.core.train import TrainConfig, Trainer
from generators.registry import load_generator
from generators.training_run import TrainingRequest, train_and_save


def cli_env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1")


def train_argv(folder: Path, out: Path, *extra: str) -> list[str]:
    return [
        "main.py",
        "train",
        "levels",
        "--data",
        str(folder),
        "--out",
        str(out),
        "--latent",
        "4",
        "--eval-samples",
        "10",
        "--iwae-k",
        "2",
        *extra,
    ]


def test_torchrun_with_two_processes_trains_a_loadable_checkpoint(game_folder, tmp_path):
    out = tmp_path / "ddp"
    argv = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        *train_argv(game_folder, out, "--epochs", "2"),
    ]
    proc = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=cli_env())
    assert proc.returncode == 0, proc.stderr[-8000:]  # the ranks' own lines come before torchrun's summary
    assert proc.stdout.splitlines() == [str(out) + ".safetensors", str(out) + ".json"]  # rank 0 alone reports
    card = load_checkpoint(out.with_suffix(".safetensors")).card
    assert card["training"]["processes"] == 2 and card["training"]["epochs_run"] == 2
    # Both ranks' items count once each: the epoch saw the whole training split.
    assert card["data"]["train_windows"] == 4 * 25  # four 40-column levels, 16-column windows
    generator = load_generator(out.with_suffix(".safetensors"))
    assert generator.sample(2, seed=1)[0].asset.width == 16
    assert [n for n in files_under(tmp_path) if ".resume" in n or n.endswith(".tmp")] == []


def test_a_run_killed_mid_training_resumes_from_its_last_epoch(game_folder, tmp_path):
    out = tmp_path / "killed"
    resume_card = tmp_path / "killed.resume.json"
    proc = subprocess.Popen(
        [sys.executable, *train_argv(game_folder, out, "--epochs", "400")],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    deadline = time.monotonic() + 120
    while not resume_card.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # let it get into a later epoch, mid-write or mid-step
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not out.with_suffix(".safetensors").exists()  # no final checkpoint from a killed run
    assert (tmp_path / "killed.lock").read_text().split()[0] == str(proc.pid)  # stale now: taken over below

    state = load_checkpoint(tmp_path / "killed.resume.safetensors")  # verifies hash: not corrupt
    done = state.card["epochs_done"]
    assert 1 <= done < 400
    total = done + 2
    resumed = subprocess.run(
        [sys.executable, *train_argv(game_folder, out, "--epochs", str(total), "--resume")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=cli_env(),
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming after epoch {done}" in resumed.stderr
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["training"]["epochs_run"] == total  # the history carries on across the kill
    assert not (tmp_path / "killed.resume.safetensors").exists()
    assert not (tmp_path / "killed.lock").exists()


def test_fine_tuning_records_its_lineage(game_folder, tiny_checkpoint, tmp_path):
    parent = load_checkpoint(tiny_checkpoint).card
    weights, card_path = train_and_save(
        TrainingRequest.of(
            domain="levels",
            data=[game_folder],
            out=tmp_path / "child",
            epochs=1,
            init=str(tiny_checkpoint),
            eval_samples=10,
            iwae_k=2,
            command="fine-tune",
        ),
        log=lambda message: None,
    )
    card = json.loads(card_path.read_text())
    assert card["lineage"][-1]["weights_sha256"] == parent["weights_sha256"]
    assert card["lineage"][-1]["name"] == parent["name"]
    assert card["model"] == parent["model"]  # the parent's architecture and vocabulary carry over
    assert card["domain_config"] == parent["domain_config"]
    # The recorded settings say the latent it has (4), not the domain's default for a new model (32).
    assert card["training"]["config"]["latent_size"] == parent["model"]["latent_size"] == 4
    child, original = load_generator(weights), load_generator(tiny_checkpoint)
    z = original.latent_for_seed(3)[None]
    assert not torch.equal(child.decode_output(z), original.decode_output(z))  # it did train


def test_fine_tuning_a_model_of_another_domain_is_refused(game_folder, tiny_checkpoint, tmp_path):
    from generators.core.errors import CheckpointError

    with pytest.raises(CheckpointError, match="levels model, not a music model"):
        train_and_save(
            TrainingRequest.of(domain="music", data=[game_folder], out=tmp_path / "x", init=str(tiny_checkpoint)),
            log=lambda message: None,
        )


def test_the_contractive_penalty_enters_the_loss(tiny_generator):
    model = tiny_generator.model
    x = torch.nn.functional.one_hot(torch.randint(0, 11, (8, 14, 16)), 11).float().movedim(-1, 1)
    c = torch.zeros(8, tiny_generator.domain.conditions.size)
    plain = Trainer(model, TrainConfig(seed=0))._loss(x, c, 1.0, torch.Generator().manual_seed(0))
    smooth = Trainer(model, TrainConfig(seed=0, contractive=0.5))._loss(x, c, 1.0, torch.Generator().manual_seed(0))
    penalty = smooth.extras["contractive"]
    assert penalty > 0
    assert torch.allclose(smooth.loss, plain.loss + 0.5 * penalty, rtol=1e-4)
    smooth.loss.backward()  # the double-backward graph is valid
    assert all(p.grad is not None for p in model.encoder_convs.parameters())
    model.zero_grad(set_to_none=True)


def test_bad_files_in_the_data_are_reported_per_file_and_skipped(game_folder, tmp_path):
    (game_folder / "broken.txt").write_text("XX\nX\n")
    (game_folder / "binary.txt").write_bytes(b"\xff\xfe\x00garbage")
    (game_folder / "narrow.txt").write_text("-----\n" * 13 + "XXXXX\n")
    lines = []
    weights, card_path = train_and_save(
        TrainingRequest.of(
            domain="levels", data=[game_folder], out=tmp_path / "m", epochs=1, latent_size=4, eval_samples=10, iwae_k=2
        ),
        log=lines.append,
    )
    skipped = json.loads(card_path.read_text())["data"]["skipped"]
    assert sorted(Path(s["file"]).name for s in skipped) == ["binary.txt", "broken.txt", "narrow.txt"]
    reasons = {Path(s["file"]).name: s["reason"] for s in skipped}
    assert "broken.txt:2:2" in reasons["broken.txt"] and "not UTF-8" in reasons["binary.txt"]
    assert "narrower than the 16-column window" in reasons["narrow.txt"]
    assert sum(line.startswith("skipped ") for line in lines) == 3


def test_a_folder_with_no_usable_level_is_one_clear_error(tmp_path, legend):
    folder = tmp_path / "game"
    folder.mkdir()
    (folder / "legend.json").write_text(json.dumps({"tiles": {c: list(t) for c, t in legend.items()}}))
    (folder / "bad.txt").write_text("XZ\nXX\n")
    proc = subprocess.run(
        [sys.executable, *train_argv(folder, tmp_path / "m", "--epochs", "1")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(),
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no usable level" in proc.stderr and "unknown tile 'Z'" in proc.stderr


@pytest.mark.parametrize(
    "setting, value, fragment",
    [
        ("beta", -1.0, "beta must be a number of at least 0"),
        ("contractive", -0.5, "contractive must be a number of at least 0"),
        ("free_bits", float("nan"), "free bits must be a number of at least 0"),
        ("warmup_epochs", -2.0, "warmup epochs must be a number of at least 0"),
        ("patience", -1, "patience must be at least 0"),
        ("latent_size", 5000, "latent size must be between 1 and 1024"),
    ],
)
def test_impossible_settings_are_refused_before_the_data_is_read(tmp_path, setting, value, fragment):
    from generators.core.errors import UserError

    with pytest.raises(UserError, match=fragment):  # not "data folder does not exist": checked first
        request = TrainingRequest.of(
            domain="levels", data=[tmp_path / "no-such-folder"], out=tmp_path / "m", **{setting: value}
        )
        train_and_save(request, log=lambda message: None)
    assert files_under(tmp_path) == []


def test_the_condition_critic_scores_prior_samples_and_needs_a_domain_that_has_one(tiny_generator):
    from generators.core.errors import UserError

    model = tiny_generator.model
    x = torch.nn.functional.one_hot(torch.randint(0, 11, (8, 14, 16)), 11).float().movedim(-1, 1)
    c = torch.zeros(8, tiny_generator.domain.conditions.size)
    seen = []

    def critic(output, cond):  # prefers the first tile everywhere; records what it was shown
        seen.append((output.shape, cond))
        return -torch.log_softmax(output, dim=1)[:, 0].mean(dim=(1, 2))

    plain = Trainer(model, TrainConfig(seed=0))._loss(x, c, 1.0, torch.Generator().manual_seed(0))
    judged = Trainer(model, TrainConfig(seed=0, critic=3.0), critic=critic)._loss(
        x, c, 1.0, torch.Generator().manual_seed(0)
    )
    assert seen[0][0] == (8, *x.shape[1:]) and torch.equal(seen[0][1], c)
    assert judged.extras["critic"] > 0
    # The ELBO part is the same draw; the critic adds its weighted mean loss.
    assert torch.allclose(judged.reconstruction, plain.reconstruction)
    assert torch.allclose(judged.loss, plain.loss + 3.0 * judged.extras["critic"], rtol=1e-4)
    with pytest.raises(UserError, match="no condition critic"):
        Trainer(model, TrainConfig(seed=0, critic=1.0))


def test_a_critic_for_a_domain_without_one_is_refused_before_the_data_is_read(tmp_path):
    from generators.core.errors import UserError

    with pytest.raises(UserError, match="the levels domain has no condition critic"):
        train_and_save(
            TrainingRequest.of(domain="levels", data=[tmp_path / "not-read"], out=tmp_path / "m", critic=1.0),
            log=lambda message: None,
        )


# --- one writer per checkpoint: the NAME.lock beside it ------------------------------------


def tiny_request(folder: Path, out: Path) -> TrainingRequest:
    return TrainingRequest.of(
        domain="levels", data=[folder], out=out, epochs=1, latent_size=4, eval_samples=10, iwae_k=2
    )


@pytest.fixture
def narrow(monkeypatch):
    from conftest import TINY_CHANNELS

    from generators.levels.domain import LevelsDomain

    monkeypatch.setattr(LevelsDomain, "model_channels", TINY_CHANNELS)


def test_a_second_training_to_the_same_out_is_refused_and_the_first_finishes_intact(game_folder, tmp_path):
    import hashlib

    out = tmp_path / "shared"
    lock = tmp_path / "shared.lock"
    first = subprocess.Popen(
        [sys.executable, *train_argv(game_folder, out, "--epochs", "60")],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    deadline = time.monotonic() + 120
    while not lock.exists() and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.02)
    assert lock.exists(), first.stderr.read().decode()[-2000:]
    assert lock.read_text().split()[0] == str(first.pid)
    second = subprocess.run(
        [sys.executable, *train_argv(game_folder, out, "--epochs", "1")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(),
    )
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert len(second.stderr.splitlines()) == 1, second.stderr
    assert f"is already being written by another run (pid {first.pid})" in second.stderr
    assert second.stdout == ""

    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err.decode()[-2000:]
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["weights_sha256"] == hashlib.sha256(out.with_suffix(".safetensors").read_bytes()).hexdigest()
    assert card["training"]["epochs_run"] == 60  # the first run's own checkpoint, not the refused one's
    load_generator(out.with_suffix(".safetensors"))
    assert not lock.exists()  # released on exit
    assert [n for n in files_under(tmp_path) if n.endswith((".tmp", ".lock"))] == []


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(lambda: f"{dead_pid()} -\n", id="pid of a process that has exited"),
        pytest.param(lambda: "", id="empty"),
        pytest.param(lambda: "not a pid\n", id="garbage"),
        pytest.param(lambda: "0\n", id="pid 0"),
        pytest.param(
            lambda: f"{os.getpid()} 1\n",
            id="pid reused by a later process",
            marks=pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="start times from /proc"),
        ),
    ],
)
def test_a_stale_lock_is_taken_over(game_folder, tmp_path, narrow, content):
    out = tmp_path / "m"
    lock = tmp_path / "m.lock"
    lock.write_text(content())
    weights, card_path = train_and_save(tiny_request(game_folder, out), log=lambda message: None)
    assert load_generator(weights).latent_size == 4
    assert not lock.exists()


def test_a_lock_held_by_a_live_process_refuses_before_any_work(tmp_path):
    from generators.core.errors import UserError

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = tmp_path / "m.lock"
        lock.write_text(f"{holder.pid} -\n")
        with pytest.raises(UserError, match=rf"already being written by another run \(pid {holder.pid}\)") as caught:
            train_and_save(tiny_request(tmp_path / "no-data-read", tmp_path / "m"), log=lambda message: None)
        assert "\n" not in str(caught.value)
        assert files_under(tmp_path) == ["m.lock"] and lock.read_text() == f"{holder.pid} -\n"  # left alone
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_released_when_training_fails(tmp_path):
    from generators.core.errors import UserError

    with pytest.raises(UserError, match="does not exist"):
        train_and_save(tiny_request(tmp_path / "no-such-folder", tmp_path / "m"), log=lambda message: None)
    assert files_under(tmp_path) == []
