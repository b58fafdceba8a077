"""Shared fixtures: a tiny VGLC game folder, its legend and domain, and a tiny trained checkpoint.

Everything is built in code under pytest's tmp folders; no test reads /work/shared/data.
The checkpoint is trained once per session with narrow conv widths so the suite stays fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_LEVELS = REPO_ROOT / "checkpoints" / "levels.safetensors"  # the shipped Mario model
SHIPPED_LODE_RUNNER = REPO_ROOT / "checkpoints" / "lode-runner.safetensors"

# Tests live in one folder per part (core, levels, images, music, gui) and share helpers by module
# name (`from test_music import write_midi`). pytest puts only a test's own folder on sys.path,
# so every folder goes there, once, for the helpers of a neighbouring folder.
for _folder in ("core", "levels", "images", "music", "gui"):
    if str(REPO_ROOT / "tests" / _folder) not in sys.path:
        sys.path.append(str(REPO_ROOT / "tests" / _folder))

LEGEND = {
    "tiles": {
        "X": ["solid", "ground"],
        "-": ["passable", "empty"],
        "E": ["enemy", "damaging", "hazard", "moving"],
        "<": ["solid", "top-left pipe", "pipe"],
        ">": ["solid", "top-right pipe", "pipe"],
        "[": ["solid", "left pipe", "pipe"],
        "]": ["solid", "right pipe", "pipe"],
        "o": ["coin", "collectable", "passable"],
        "S": ["solid", "breakable"],
        "?": ["solid", "question block", "full question block"],
        "Q": ["solid", "question block", "empty question block"],
    }
}

# Four 14-row levels, 40 columns wide, with ground, gaps, pipes, enemies, coins and blocks.
LEVELS = {
    "level-1": [
        "----------------------------------------",
        "----------------------------------------",
        "----------------------------------------",
        "----------------------------------------",
        "----------------------ooo---------------",
        "----------?-----------------------------",
        "----------------------SSS---------------",
        "----------------------------------------",
        "-----?---S?S?S--------------------------",
        "----------------------------------------",
        "-----------------------------<>---------",
        "-------------<>--------------[]---------",
        "-------E-----[]------E-------[]----E----",
        "XXXXXXXXXXXXXXXXXXXXXXXXX--XXXXXXXXXXXXX",
    ],
    "level-2": [
        "----------------------------------------",
        "----------------------------------------",
        "----------------------------------------",
        "--------------ooooo---------------------",
        "----------------------------------------",
        "-------------SSSSSSS--------------------",
        "----------------------------------------",
        "----------------------------------------",
        "---SQS-------------------?--------------",
        "----------------------------------<>----",
        "--------------------<>------------[]----",
        "--------------------[]------------[]----",
        "------E---E---------[]-----E------[]----",
        "XXXXXXXXXXXX---XXXXXXXXXXXXXXXXXXXXXXXXX",
    ],
    "level-3": [
        "----------------------------------------",
        "----------------------------------------",
        "----------------------------------------",
        "----------------------------------------",
        "----------------------------------------",
        "-------ooo------------------------------",
        "----------------------------------------",
        "------S?S---------------?Q?-------------",
        "----------------------------------------",
        "----------------------------------------",
        "-----------<>---------------------------",
        "-----------[]--------------------<>-----",
        "--E--------[]------E----E--------[]-----",
        "XXXXXXXXXXXXXXXXXXXXXXXXXXXXX---XXXXXXXX",
    ],
    "level-4": [
        "----------------------------------------",
        "----------------------------------------",
        "----------------------------------------",
        "----------------------------------------",
        "---------------------------oooo---------",
        "----------------------------------------",
        "--------S?SS----------------------------",
        "----------------------------------------",
        "----------------------------SSSS--------",
        "----------------------------------------",
        "----------------------------------------",
        "---------------<>-----------------------",
        "----E----------[]-----E---------E-------",
        "XXXXXXXXXXXXXXXXXXXXX-----XXXXXXXXXXXXXX",
    ],
}
HOLDOUT = "level-4"
GAME = "Tiny_Mario"  # the folder name; its game label is "tiny-mario"


def level_text(rows: list[str]) -> str:
    return "\n".join(rows) + "\n"


def write_game(folder: Path) -> Path:
    """Write the legend and the four levels into `folder` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.json").write_text(json.dumps(LEGEND), encoding="utf-8")
    for stem, rows in LEVELS.items():
        (folder / f"{stem}.txt").write_bytes(level_text(rows).encode("utf-8"))
    return folder


def pytest_configure(config):
    # One intra-op thread: the models are tiny, and on a busy 2-core machine OpenMP threads
    # spin against other processes, which made training steps ~50x slower in practice.
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


@pytest.fixture
def game_folder(tmp_path) -> Path:
    """A fresh copy of the tiny game folder for one test (tests may add files to it)."""
    return write_game(tmp_path / GAME)


@pytest.fixture
def legend() -> dict:
    """The tiny legend as the domain holds it: char -> tuple of tags, in vocabulary order."""
    return {char: tuple(tags) for char, tags in LEGEND["tiles"].items()}


@pytest.fixture
def domain(legend):
    """A LevelsDomain over the tiny legend, 14 rows × 28 columns, one game."""
    from generators.levels.domain import LevelsDomain

    return LevelsDomain(legend, height=14, width=28, games=("tiny-mario",))


TINY_CHANNELS = (8, 16)


def train_tiny(root: Path, name: str = "tiny", **settings) -> Path:
    """A one-epoch levels checkpoint (latent 4, conv widths 8 and 16) trained on the tiny game
    under `root`, with any TrainingRequest settings on top. Returns the weights path."""
    from generators.levels.domain import LevelsDomain
    from generators.training_run import TrainingRequest, train_and_save

    folder = write_game(root / GAME)
    options = dict(epochs=1, latent_size=4, holdout=(HOLDOUT,), eval_samples=20, iwae_k=4, command="test")
    with pytest.MonkeyPatch.context() as patch:  # narrow conv widths, restored afterwards
        patch.setattr(LevelsDomain, "model_channels", TINY_CHANNELS)
        weights, card = train_and_save(
            TrainingRequest.of(domain="levels", data=[folder], out=root / name, **(options | settings)),
            log=lambda message: None,
        )
    assert weights.exists() and card.exists()
    return weights


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """The tiny levels checkpoint most tests share (`train_tiny`). Returns the weights path; the
    card sits beside it."""
    return train_tiny(tmp_path_factory.mktemp("tiny-ckpt"))


@pytest.fixture(scope="session")
def tiny_generator(tiny_checkpoint):
    from generators.registry import load_generator

    return load_generator(tiny_checkpoint)


def run_cli(*args: str, cwd: Path = REPO_ROOT, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python main.py ARGS` from the repository root and capture its output."""
    env = dict(os.environ, OMP_NUM_THREADS="1")  # as in this process; see pytest_configure
    return subprocess.run(
        [sys.executable, "main.py", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def run_cli_many(commands: list[list[str]], workers: int = 2) -> list[subprocess.CompletedProcess]:
    """Run several CLI commands, a few at a time (each spends most of its time importing torch)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda args: run_cli(*args), commands))


def copy_checkpoint(weights: Path, stem: Path) -> tuple[Path, Path]:
    """Copy a checkpoint's weights and card to STEM.safetensors / STEM.json (to damage the copy)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    new_weights, new_card = stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")
    new_weights.write_bytes(weights.read_bytes())
    new_card.write_bytes(weights.with_suffix(".json").read_bytes())
    return new_weights, new_card


def refusal(weights: Path, edit, load, stem: Path) -> str:
    """The CheckpointError message `load(path)` gives for a copy of checkpoint `weights` (at STEM)
    whose card `edit(card_dict)` changed; the test fails if loading succeeds."""
    from generators.core.errors import CheckpointError

    bad, card_path = copy_checkpoint(weights, stem)
    card = json.loads(card_path.read_text())
    edit(card)
    card_path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError) as caught:
        load(bad)
    return str(caught.value)


def files_under(folder: Path) -> list[str]:
    """Every file below `folder` (hidden ones included), relative; [] if it does not exist."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
