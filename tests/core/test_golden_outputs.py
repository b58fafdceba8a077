"""Behaviour must not change under refactoring: every shipped model writes, for fixed seeds and
through the CLI, the very bytes and output lines recorded in `golden_outputs.json`.

A case that differs names itself and its files. When a change of output is intended (a
retrained model, a new decoding rule), re-record with `python tests/core/golden_outputs.py`
and say so in the commit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_shipped_models_write_the_recorded_bytes():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, str(HERE / "golden_outputs.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    want = json.loads((HERE / "golden_outputs.json").read_text(encoding="utf-8"))
    assert sorted(got) == sorted(want)
    changed = {
        name: [
            f
            for f in set(got[name]["files"]) | set(want[name]["files"])
            if got[name]["files"].get(f) != want[name]["files"].get(f)
        ]
        for name in want
        if got[name] != want[name]
    }
    assert changed == {}, f"outputs changed: {changed}"


def test_the_comparison_can_fail(tmp_path):
    """The digest of a folder changes with one byte of one file."""
    from golden_outputs import digest_folder

    (tmp_path / "a.txt").write_bytes(b"level")
    before = digest_folder(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"levem")
    assert digest_folder(tmp_path) != before
