"""Architecture rules for generators/ (a domain-free core plus one wing per asset kind) and gui/ (Qt only).

The rules:

1. `generators.core` imports no wing, nor `generators.registry`, `generators.cli`, `generators.training_run`, nor gui.
2. A wing (`generators.levels`, `.images`, `.music`) imports, from generators/, only the core and itself;
   never gui, never Qt.
3. Nothing under generators/ imports Qt, and importing every generators module loads no PySide6.
4. gui/ never imports torch directly; it goes through generators.
5. The import graph of generators/ and gui/ has no cycle.
6. Nothing under generators/ can unpickle: no pickle-like import, no `torch.load` / `torch.jit.load`.
7. Nothing dispatches on a domain's name (`domain.name == "levels"`) or probes a domain's attributes
   (`getattr(domain, "augment", None)`); a domain's abilities belong on the Domain seam.

The checkers are small functions over `ast` (imports anywhere in a file, relative imports resolved). Each rule has a
test over the real tree and a probe: a tiny fake tree under tmp_path that breaks the rule, so a checker that
silently found nothing would fail its probe.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO_ROOT

PACKAGES = ("generators", "gui")
WINGS = ("generators.levels", "generators.images", "generators.music")
WING_NAMES = ("levels", "images", "music")
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "qtpy")
UNPICKLERS = ("pickle", "dill", "cloudpickle", "joblib")
UNPICKLING_CALLS = ("torch.load", "torch.jit.load")
# The core must stay domain-free and below the orchestration that composes it.
CORE_MUST_NOT_IMPORT = (*WINGS, "generators.registry", "generators.cli", "generators.training_run", "gui")
PROBES = ("hasattr", "getattr", "setattr")


# ---------------------------------------------------------------- the checkers


def module_name(path: Path, root: Path) -> str:
    """`root/generators/core/vae.py` -> `generators.core.vae`; a package's `__init__.py` names the package."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules_under(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Every module of the given top-level packages under root, by dotted name."""
    return {module_name(p, root): p for package in packages for p in sorted((root / package).rglob("*.py"))}


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def within(name: str, prefix: str) -> bool:
    """True when `name` is the module `prefix` or inside it (`a.b` is within `a`; `ab` is not)."""
    return name == prefix or name.startswith(prefix + ".")


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name `from ..x import y` points at, seen from `module` (a package's dots start at itself)."""
    if not node.level:
        return node.module
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _dynamic_import(node: ast.AST) -> str | None:
    """The module of `importlib.import_module("x")`, `import_module("x")` or `__import__("x")`, if constant."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    arg = node.args[0]
    if func in ("import_module", "__import__") and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return None if arg.value.startswith(".") else arg.value  # a relative one needs its `package=`; rare
    return None


def imports_of(path: Path, module: str, modules=frozenset()) -> set[str]:
    """Absolute names of every module the file `path` (named `module`) imports, anywhere in it.

    Top level, inside functions and try blocks alike: an import that runs late still couples the modules.
    `from pkg import y` counts as importing the submodule `pkg.y` when that is one of the known `modules`,
    else as importing `pkg`. `import a.b.c` counts as importing `a.b.c` only, not its parent packages.
    """
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, is_package)
            found.update(f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names)
        elif name := _dynamic_import(node):
            found.add(name)
    return found


def import_graph(root: Path, packages=PACKAGES) -> dict[str, set[str]]:
    """Each module of the packages -> every module it imports (outside ones such as torch included, as leaves)."""
    modules = modules_under(root, packages)
    # A self-edge is only `from . import CONSTANT` in an __init__.py; importing yourself is no cycle.
    return {name: imports_of(path, name, modules) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as `[a, b, ..., a]`, or None. Edges to modules that are not nodes are ignored."""
    done: set[str] = set()
    path: list[str] = []  # the depth-first walk's current chain of imports

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done or node not in graph:
            return None
        path.append(node)
        for target in sorted(graph[node]):
            if cycle := visit(target):
                return cycle
        path.pop()
        done.add(node)
        return None

    return next((cycle for node in sorted(graph) if (cycle := visit(node))), None)


def breaches(graph: dict[str, set[str]], importers: str, forbidden) -> list[str]:
    """`importer -> imported` for each import by a module within `importers` of a module within `forbidden`."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if within(module, importers)
        for target in targets
        if any(within(target, f) for f in forbidden)
    )


def core_breaches(graph) -> list[str]:
    return breaches(graph, "generators.core", CORE_MUST_NOT_IMPORT)


def wing_breaches(graph) -> list[str]:
    """Imports by a wing of gui, Qt, or anything in generators/ but the core and the wing itself."""
    found = []
    for wing in WINGS:
        allowed = ("generators.core", wing)
        found += breaches(graph, wing, ("gui", *QT))
        found += [
            f"{module} -> {target}"
            for module, targets in sorted(graph.items())
            if within(module, wing)
            for target in sorted(targets)
            if within(target, "generators") and not any(within(target, a) for a in allowed)
        ]
    return sorted(found)


def qt_imports(imports: set[str]) -> set[str]:
    return {m for m in imports if m.split(".")[0] in QT}


def torch_in_gui(graph) -> list[str]:
    return breaches(graph, "gui", ("torch",))


def unpickling_in(path: Path, imports: set[str]) -> list[str]:
    """Ways the file could unpickle: a pickle-like import, or a call of `torch.load` / `torch.jit.load`."""
    found = sorted(f"import {m}" for m in imports if m.split(".")[0] in UNPICKLERS)
    tree = parse(path)
    # Bound names -> what they stand for, so `import torch as th; th.load(...)` or `from torch import load` is seen.
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({a.asname: a.name for a in node.names if a.asname})
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            aliases.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            head, dot, rest = ast.unparse(node.func).partition(".")
            if aliases.get(head, head) + dot + rest in UNPICKLING_CALLS:
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def _mentions_domain(node: ast.AST) -> bool:
    """True when an expression names a domain: `domain`, `generator.domain`, `domain_class(...)`, `Domain`."""
    names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
    names += [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]
    return any("domain" in name.lower().split("_") for name in names)


def _ends_in_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "name"


def _is_wing_name(node: ast.AST) -> bool:
    """A literal "levels" / "images" / "music", or a tuple, list or set holding one."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_wing_name(e) for e in node.elts)
    return isinstance(node, ast.Constant) and node.value in WING_NAMES


def _matches_wing_name(node: ast.Match) -> bool:
    """`match x.name:` with a `case "levels":` (or a `|` of them)."""
    values = [p.value for case in node.cases for p in ast.walk(case.pattern) if isinstance(p, ast.MatchValue)]
    return _ends_in_name(node.subject) and any(_is_wing_name(v) for v in values)


def dispatch_in(path: Path) -> list[tuple[int, str]]:
    """(line, code) of each dispatch on a domain's name or probe of a domain's attributes.

    Both make shared code grow a branch per wing; the Domain seam should say what a domain can do instead.
    """
    found = []
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(map(_ends_in_name, operands)) and any(map(_is_wing_name, operands)):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Match) and _matches_wing_name(node):
            found.append((node.lineno, f"match {ast.unparse(node.subject)}: case ..."))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in PROBES and node.args:
            if _mentions_domain(node.args[0]):
                found.append((node.lineno, ast.unparse(node)))
    return sorted(found)


def loads_of_importing(root: Path, package: str) -> dict:
    """In a fresh interpreter at root, import every module of the package (subpackages too) and list what got loaded.

    Returns {"modules": names imported, "qt": Qt modules then in sys.modules}.
    """
    script = (
        "import importlib, json, pkgutil, sys\n"
        f"package = importlib.import_module({package!r})\n"
        "names = sorted(m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + '.'))\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        f"qt = sorted(m for m in sys.modules if m.split('.')[0] in {QT!r})\n"
        "print(json.dumps({'modules': names, 'qt': qt}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """A fake source tree for the probes: {relative path: source}; returns root."""
    for relative, source in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(textwrap.dedent(source), encoding="utf-8")
    return root


# ---------------------------------------------------------------- the real tree

MODULES = modules_under(REPO_ROOT)  # names and paths only: parsing waits for the tests
GENERATORS = [name for name in MODULES if within(name, "generators")]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(REPO_ROOT)


def test_the_tree_has_modules_to_check():
    # Guards every rule below against passing vacuously on a moved or empty tree.
    expected = {
        "generators.core.vae",
        "generators.core.domain",
        "generators.core.generator",
        "generators.core.checkpoint",
        "generators.levels",
        "generators.levels.domain",
        "generators.images.domain",
        "generators.music.domain",
        "generators.registry",
        "generators.cli",
        "generators.training_run",
        "gui.app",
        "gui.main_window",
    }
    assert expected <= set(MODULES)


def test_module_names_follow_the_files(tmp_path):
    assert module_name(tmp_path / "generators" / "levels" / "domain.py", tmp_path) == "generators.levels.domain"
    assert module_name(tmp_path / "generators" / "levels" / "__init__.py", tmp_path) == "generators.levels"


def test_the_scanner_sees_imports_in_every_form(tmp_path):
    write_tree(
        tmp_path,
        {
            "generators/__init__.py": "",
            "generators/registry.py": "",
            "generators/core/__init__.py": "",
            "generators/core/vae.py": "",
            "generators/music/__init__.py": "",
            "generators/music/roll.py": "",
            "generators/levels/__init__.py": "from .domain import LevelsDomain\n",
            "generators/levels/art.py": "",
            "generators/levels/domain.py": """\
            import os, numpy.linalg
            from PySide6.QtCore import Qt
            from . import art
            from .art import TILE
            from .. import registry
            from ..core.vae import VAE
            try:
                import shiboken6
            except ImportError:
                pass
            def f():
                import importlib
                importlib.import_module("PySide6.QtGui")
                __import__("qtpy")
                from generators.music import roll
            """,
        },
    )
    graph = import_graph(tmp_path, ("generators",))
    assert graph["generators.levels.domain"] == {
        "os",
        "numpy.linalg",
        "PySide6.QtCore",
        "generators.levels.art",
        "generators.registry",
        "generators.core.vae",
        "shiboken6",
        "importlib",
        "PySide6.QtGui",
        "qtpy",
        "generators.music.roll",
    }
    assert graph["generators.levels"] == {"generators.levels.domain"}  # a package's dots start at itself
    assert qt_imports(graph["generators.levels.domain"]) == {"PySide6.QtCore", "shiboken6", "PySide6.QtGui", "qtpy"}


# Rule 1: the core imports no wing and nothing that sits above it.


def test_the_core_imports_no_wing_nor_what_composes_it(graph):
    found = core_breaches(graph)
    assert not found, "the core imports what it must not:\n" + "\n".join(found)


def test_probe_the_core_rule_catches_each_forbidden_import(tmp_path):
    write_tree(
        tmp_path,
        {
            "generators/__init__.py": "",
            "generators/registry.py": "",
            "generators/cli.py": "",
            "generators/training_run.py": "",
            "generators/levels/__init__.py": "",
            "generators/levels/domain.py": "",
            "generators/images/__init__.py": "",
            "generators/music/__init__.py": "",
            "gui/__init__.py": "",
            "gui/app.py": "",
            "generators/core/__init__.py": "",
            "generators/core/vae.py": "",
            "generators/core/ok.py": "import torch\nfrom .vae import VAE\nfrom generators.core import vae\n",
            "generators/core/a.py": "from generators.levels.domain import LevelsDomain\n",
            "generators/core/b.py": "def f():\n    from .. import registry\n",
            "generators/core/c.py": "import generators.cli, generators.training_run\n",
            "generators/core/d.py": "try:\n    from gui.app import main\nexcept ImportError:\n    pass\n",
            "generators/core/e.py": "import importlib\nimportlib.import_module('generators.images')\n",
            "generators/core/f.py": "from generators import music\n",
        },
    )
    assert core_breaches(import_graph(tmp_path)) == [
        "generators.core.a -> generators.levels.domain",
        "generators.core.b -> generators.registry",
        "generators.core.c -> generators.cli",
        "generators.core.c -> generators.training_run",
        "generators.core.d -> gui.app",
        "generators.core.e -> generators.images",
        "generators.core.f -> generators.music",
    ]


# Rule 2: a wing imports the core and itself, never another wing, gui or Qt.


def test_no_wing_imports_another_wing_gui_or_qt(graph):
    found = wing_breaches(graph)
    assert not found, "a wing imports what it must not:\n" + "\n".join(found)


def test_probe_the_wing_rule_catches_each_forbidden_import(tmp_path):
    write_tree(
        tmp_path,
        {
            "generators/__init__.py": "",
            "generators/registry.py": "",
            "generators/core/__init__.py": "",
            "generators/core/vae.py": "",
            "generators/images/__init__.py": "",
            "generators/images/domain.py": "",
            "generators/images/z.py": "def f():\n    from PySide6.QtGui import QImage\n",
            "generators/levels/__init__.py": "from .domain import LevelsDomain\n",
            "generators/levels/domain.py": "import torch\nfrom generators.core.vae import VAE\nfrom . import ok\n",
            "generators/levels/ok.py": "from ..core import vae\nimport generators.levels.domain\n",
            "generators/levels/x.py": "from ..images.domain import ImagesDomain\n",
            "generators/music/__init__.py": "",
            "generators/music/y.py": "import gui.app\nfrom generators import registry\n",
            "gui/__init__.py": "",
            "gui/app.py": "",
        },
    )
    assert wing_breaches(import_graph(tmp_path)) == [
        "generators.images.z -> PySide6.QtGui",
        "generators.levels.x -> generators.images.domain",
        "generators.music.y -> generators.registry",
        "generators.music.y -> gui.app",
    ]


# Rule 3: nothing under generators/ imports Qt (the scanner's probe is test_the_scanner_sees_imports_in_every_form).


@pytest.mark.parametrize("name", GENERATORS)
def test_no_generators_module_imports_qt(graph, name):
    assert qt_imports(graph[name]) == set()


def test_importing_every_generators_module_loads_no_qt():
    report = loads_of_importing(REPO_ROOT, "generators")
    assert set(report["modules"]) == set(GENERATORS) - {"generators"}  # walk_packages found every module
    assert report["qt"] == []


def test_probe_importing_finds_qt_loaded_deep_in_a_subpackage(tmp_path):
    write_tree(
        tmp_path,
        {
            "fakegen/__init__.py": "",
            "fakegen/plain.py": "import json\n",
            "fakegen/sub/__init__.py": "",
            "fakegen/sub/deep.py": "import PySide6.QtCore\n",
        },
    )
    report = loads_of_importing(tmp_path, "fakegen")
    assert report["modules"] == ["fakegen.plain", "fakegen.sub", "fakegen.sub.deep"]
    assert "PySide6.QtCore" in report["qt"]


# Rule 4: gui/ reaches torch only through generators.


def test_gui_never_imports_torch(graph):
    found = torch_in_gui(graph)
    assert not found, "gui imports torch:\n" + "\n".join(found)


def test_probe_the_torch_rule_catches_each_import_form(tmp_path):
    write_tree(
        tmp_path,
        {
            "gui/__init__.py": "",
            "gui/a.py": "import torch\n",
            "gui/b.py": "def f():\n    from torch import nn\n",
            "gui/c.py": "import torch.nn.functional as F\n",
            "gui/d.py": "import importlib\nimportlib.import_module('torch')\n",
            "gui/ok.py": "from generators.core.generator import Generator\nimport torchvision_free_name\n",
            "generators/__init__.py": "",
            "generators/core/__init__.py": "",
            "generators/core/generator.py": "import torch\n",
        },
    )
    assert torch_in_gui(import_graph(tmp_path)) == [
        "gui.a -> torch",
        "gui.b -> torch",
        "gui.c -> torch.nn.functional",
        "gui.d -> torch",
    ]


# Rule 5: no import cycle among generators/ and gui/ modules.


def test_the_import_graph_has_no_cycle(graph):
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_probe_the_cycle_finder_names_a_cycle_through_a_late_import(tmp_path):
    write_tree(
        tmp_path,
        {
            "generators/__init__.py": "",
            "generators/levels/__init__.py": "from .domain import Level\n",
            "generators/levels/domain.py": "",
            "generators/levels/playable.py": "from .stitch import LongLevel\n",
            "generators/levels/stitch.py": "from .domain import Level\ndef f():\n    from .playable import repair\n",
        },
    )
    assert find_cycle(import_graph(tmp_path)) == [
        "generators.levels.playable",
        "generators.levels.stitch",
        "generators.levels.playable",
    ]


def test_probe_the_cycle_finder_follows_a_package_init(tmp_path):
    write_tree(
        tmp_path,
        {
            "generators/__init__.py": "",
            "generators/levels/__init__.py": "from .domain import LevelsDomain\n",
            "generators/levels/domain.py": "from generators.levels import LevelsDomain as Base\n",  # the package itself
        },
    )
    assert find_cycle(import_graph(tmp_path)) == ["generators.levels", "generators.levels.domain", "generators.levels"]


def test_probe_the_cycle_finder_does_not_count_parent_packages(tmp_path):
    # `import generators.levels.domain` runs generators/levels/__init__.py too, but that is an edge to the
    # submodule only: otherwise every package whose __init__ re-exports a submodule would look cyclic.
    write_tree(
        tmp_path,
        {
            "generators/__init__.py": "",
            "generators/levels/__init__.py": "from .art import TILE\n",
            "generators/levels/art.py": "import generators.levels.domain\nfrom generators.levels import domain\n",
            "generators/levels/domain.py": "",
            "gui/__init__.py": "",
            "gui/app.py": "from generators.levels.domain import Level\n",
        },
    )
    assert find_cycle(import_graph(tmp_path)) is None


# Rule 6: nothing under generators/ can unpickle; checkpoints are safetensors + JSON.


@pytest.mark.parametrize("name", GENERATORS)
def test_no_generators_module_can_unpickle(graph, name):
    assert unpickling_in(MODULES[name], graph[name]) == []


def test_probe_the_unpickling_rule_catches_each_form(tmp_path):
    write_tree(
        tmp_path,
        {
            "generators/__init__.py": "",
            "generators/ok.py": "import torch, safetensors.torch\nsafetensors.torch.load_file(p)\ntorch.save(m, p)\n",
            "generators/bad.py": """\
            import pickle
            import torch
            import torch as th
            from torch import load as read
            from torch import jit
            def f(p):
                from joblib import load
                torch.load(p)
                th.jit.load(p)
                read(p)
                jit.load(p)
            """,
        },
    )
    graph = import_graph(tmp_path, ("generators",))
    assert unpickling_in(tmp_path / "generators" / "ok.py", graph["generators.ok"]) == []
    assert unpickling_in(tmp_path / "generators" / "bad.py", graph["generators.bad"]) == [
        "import joblib",
        "import pickle",
        "line 8: torch.load(p)",
        "line 9: th.jit.load(p)",
        "line 10: read(p)",
        "line 11: jit.load(p)",
    ]


# Rule 7: no dispatch on a domain's name, no probing of a domain's attributes.


def test_nothing_dispatches_on_a_domain_name_or_probes_a_domain():
    found = [
        f"{MODULES[name].relative_to(REPO_ROOT)}:{line}: {code}"
        for name in MODULES
        for line, code in dispatch_in(MODULES[name])
    ]
    assert not found, "dispatch on a domain's name or by probing its attributes:\n" + "\n".join(found)


def test_probe_the_dispatch_rule_catches_each_form(tmp_path):
    source = """\
        def f(domain, generator, request, option, path, name, args, asset):
            if domain.name == "levels":  # bad
                pass
            if generator.domain.name != "music":  # bad
                pass
            if self.generator.domain.name in ("levels", "images"):  # bad
                pass
            if "images" == domain.name:  # bad
                pass
            match generator.domain.name:  # bad
                case "music" | "images":
                    pass
            getattr(domain, "augment", None)  # bad
            hasattr(generator.domain, option)  # bad
            setattr(generator.domain, option, 1)  # bad
            hasattr(domain_class(request.domain), "condition_critic")  # bad
            if getattr(domain, "name", None) != "levels":  # bad
                pass
            # Not dispatch: no wing literal, no domain probed, or no `.name`.
            if generator.domain.name != name:
                pass
            if path.stem == "levels" or option in ("levels", "music"):
                pass
            getattr(args, option, None)
            hasattr(asset, "tempo")
            counts = {"levels": 1}
        """
    path = write_tree(tmp_path, {"probe.py": source}) / "probe.py"
    bad = [n for n, line in enumerate(path.read_text().splitlines(), 1) if line.endswith("# bad")]
    assert [line for line, _ in dispatch_in(path)] == bad


def test_every_domain_names_its_items_in_the_singular_and_plural():
    from generators.registry import DOMAIN_NAMES, domain_class

    for name in DOMAIN_NAMES:
        domain = domain_class(name)
        one, many = domain.item_noun
        assert one != many and (one, many) != ("item", "items"), name
        assert domain.count_of(1) == f"1 {one}" and domain.count_of(16) == f"16 {many}"
