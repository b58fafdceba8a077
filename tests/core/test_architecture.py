"""Architecture rules: generators/ never imports Qt, and never unpickles (no pickle, no torch.load)."""
from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "generators"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def imported_modules(path) -> set[str]:
    """Every module a file imports, anywhere in it (top level, functions, try blocks)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            found.update(arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return found


def test_the_package_has_modules_to_check():
    names = {p.name for p in SOURCES}
    assert {"vae.py", "latent.py", "checkpoint.py", "train.py", "levels.py", "generator.py"} <= names


def test_the_scanner_sees_imports_in_every_form(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os\nfrom PySide6.QtCore import Qt\ndef f():\n    import shiboken6\n"
        "    importlib.import_module('PySide6.QtGui')\n",
        encoding="utf-8",
    )
    assert imported_modules(probe) == {"os", "PySide6.QtCore", "shiboken6", "PySide6.QtGui"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_generators_module_imports_qt(path):
    qt = {m for m in imported_modules(path) if m.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6", "qtpy")}
    assert qt == set()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_generators_module_can_unpickle(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert {"pickle", "dill", "cloudpickle", "joblib"}.isdisjoint(imported_modules(path))
    calls = {
        ast.unparse(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert {"torch.load", "torch.jit.load"}.isdisjoint(calls)  # checkpoints are safetensors + JSON


def test_importing_every_generators_module_loads_no_qt():
    script = (
        "import importlib, json, pkgutil, sys\n"
        "import generators\n"
        "names = sorted(m.name for m in pkgutil.walk_packages(generators.__path__, 'generators.'))\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))\n"
        "print(json.dumps({'modules': names, 'qt': qt}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    expected = {
        ".".join(("generators", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        for p in SOURCES
    } - {"generators"}
    assert set(report["modules"]) == expected
    assert report["qt"] == []
