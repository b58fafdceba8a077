"""Replay commands (sidecars, cards, the Full level page) are shell-quoted: condition labels come
from a checkpoint's card, so a crafted label must come back as itself and run nothing when the
user pastes the command into a shell."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from generators.core import naming
from generators.core.conditions import Condition

HOSTILE = [
    "`touch pwned`",
    "$(touch pwned)",
    "pipe; touch pwned",
    "a && touch pwned",
    "it's",
    'say "hi"',
    "new\nline",
    "tab\there",
    "-n",
    "--out=/etc",
    "*",
    "ünïcode ♪",
    "",
]


def replay_commands(label: str, checkpoint: str) -> list[str]:
    condition = Condition((label,), (label + "-x",))
    return [
        naming.sample_command("levels", checkpoint, 3, 0.8, condition, "txt", length=200, repair_budget=24),
        naming.morph_command("levels", checkpoint, 1, 2, "slerp", 200, condition, "tmx"),
    ]


@pytest.mark.parametrize("label", HOSTILE)
def test_a_hostile_label_round_trips_through_the_shell_quoting(label):
    for line in replay_commands(label, "my models/it's.safetensors"):
        words = shlex.split(line)
        assert words[words.index("--condition") + 1] == label
        assert words[words.index("--without") + 1] == label + "-x"
        assert words[words.index("--checkpoint") + 1] == "my models/it's.safetensors"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_a_pasted_replay_command_runs_nothing_in_a_real_shell(tmp_path):
    """Each command, pasted into bash with `python` swapped for printf, prints its words back and
    creates no file: the shell saw data, not code."""
    for label in HOSTILE:
        for line in replay_commands(label, "x.safetensors"):
            assert line.startswith("python ")
            script = "printf '%s\\0' " + line[len("python ") :]
            done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, timeout=10)
            assert done.returncode == 0, done.stderr
            words = done.stdout.decode("utf-8").split("\0")[:-1]
            assert words == shlex.split(line)[1:]
            assert list(tmp_path.iterdir()) == []
