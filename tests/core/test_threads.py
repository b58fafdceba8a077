"""Torch's thread pool is sized on purpose: by --threads, else by the CPUs the process may use."""

from __future__ import annotations

import subprocess
import sys

import torch
from conftest import REPO_ROOT

from generators.core.threads import available_cpus, configure_threads, default_threads


def test_configure_threads_sets_torch_and_defaults_to_the_available_cpus():
    before = torch.get_num_threads()
    try:
        assert configure_threads(1) == 1 and torch.get_num_threads() == 1
        assert configure_threads(None) == default_threads() == max(1, min(8, available_cpus()))
    finally:
        torch.set_num_threads(before)


def test_the_cli_uses_the_threads_asked_for_and_refuses_zero(tmp_path):
    script = (
        "import sys, torch\n"
        "from generators.cli import main\n"
        "code = main(['sample', 'levels', '--threads', '1', '-n', '1', '--seed', '1', '--out', sys.argv[1]])\n"
        "print('threads', torch.get_num_threads(), 'exit', code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "o")], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.stdout.strip().endswith("threads 1 exit 0"), proc.stderr
    refused = subprocess.run(
        [sys.executable, "main.py", "sample", "levels", "--threads", "0", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "--threads" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
