"""The app sizes torch's thread pool as the CLI does: `python main.py --threads N` opens the app
with N threads, a bad N is one line and exit 2, and with no option the pool follows the CPUs."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))
import main as entry  # noqa: E402 - main.py sits at the top of the repository, outside the package


@pytest.mark.parametrize(
    "args, expected",
    [([], None), (["--threads", "3"], 3), (["--threads=5"], 5), (["--threads", "256"], 256)],
)
def test_the_apps_threads_option(args, expected):
    assert entry.app_threads(args) == expected


@pytest.mark.parametrize("args", [["--threads"], ["--threads", "0"], ["--threads", "abc"], ["--threads=300"]])
def test_a_bad_threads_option_is_one_line(args):
    message = entry.app_threads(args)
    assert isinstance(message, str) and "\n" not in message and "--threads" in message


def test_a_bad_threads_option_exits_2_before_any_window():
    done = subprocess.run(
        [sys.executable, "main.py", "--threads", "0"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "from 1 to 256" in done.stderr


def test_run_app_sizes_the_pool_before_the_window(qapp, monkeypatch):
    import gui.app

    seen = []

    class Window:  # stands in for the main window: records the pool size it is built under
        def __init__(self):
            seen.append(torch.get_num_threads())

        def show(self):
            pass

    before = torch.get_num_threads()
    monkeypatch.setattr(gui.app, "MainWindow", Window)
    monkeypatch.setattr(gui.app, "install_error_hook", lambda window: None)
    monkeypatch.setattr(qapp, "exec", lambda: 0)
    try:
        assert gui.app.run_app(threads=3) == 0
        assert seen == [3]
    finally:
        torch.set_num_threads(before)
