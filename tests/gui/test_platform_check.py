"""Before the window opens: when Qt's platform plugin lacks a system library, `python main.py`
names the missing libraries and the command that installs them, in one line, and exits 2
(scripts/run.sh adds a hint). Tested on ldd reports given to the check, and on a fake plugin
built with gcc that links to a library which is then deleted; nothing here needs a display."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from gui import platform_check
from gui.platform_check import (
    debian_package,
    fedora_package,
    missing_libraries,
    platform_problem,
    platforms_to_try,
)

LDD_REPORT = """\
\tlinux-vdso.so.1 (0x00007ffd5a1e2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f4f4805f000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f4f47f75000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f4f4621e000)
"""
RESOLVED = "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f4f4621e000)\n"


def plugins_with(tmp_path: Path, *names: str) -> Path:
    """A Qt plugins folder holding empty platform plugins `libq<name>.so`."""
    folder = tmp_path / "plugins"
    (folder / "platforms").mkdir(parents=True)
    for name in names:
        (folder / "platforms" / f"libq{name}.so").write_bytes(b"")
    return folder


def reports(by_plugin: dict[str, str]):
    """A fake ldd: the report for each plugin, by platform name."""
    return lambda plugin: by_plugin[plugin.name[len("libq") : -len(".so")]]


def test_the_missing_libraries_are_read_from_ldd_each_once():
    assert missing_libraries(LDD_REPORT) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing_libraries(RESOLVED) == [] and missing_libraries("") == []


def test_a_missing_library_is_named_with_the_commands_that_install_it(tmp_path):
    plugins = plugins_with(tmp_path, "xcb")
    problem = platform_problem({}, "linux", plugins, reports({"xcb": LDD_REPORT}))
    assert problem is not None and "\n" not in problem
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in problem
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 (Debian/Ubuntu)" in problem
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms (Fedora)" in problem
    assert str(plugins / "platforms" / "libqxcb.so") in problem
    # QT_QPA_PLATFORM=xcb asks for the same plugin.
    assert platform_problem({"QT_QPA_PLATFORM": "xcb"}, "linux", plugins, reports({"xcb": LDD_REPORT})) == problem


def test_no_problem_where_the_plugin_loads_or_another_is_used(tmp_path):
    plugins = plugins_with(tmp_path, "xcb", "offscreen", "wayland")
    broken = reports({"xcb": LDD_REPORT, "offscreen": RESOLVED, "wayland": RESOLVED})
    assert platform_problem({}, "linux", plugins, reports({"xcb": RESOLVED})) is None
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", plugins, broken) is None
    assert platform_problem({"QT_QPA_PLATFORM": "minimal"}, "linux", plugins, broken) is None  # no such file here
    assert platform_problem({}, "darwin", plugins, broken) is None
    assert platform_problem({}, "win32", plugins, broken) is None
    assert platform_problem({"LATENT_FORGE_SKIP_PLATFORM_CHECK": "1"}, "linux", plugins, broken) is None
    # In a Wayland session Qt tries wayland first: xcb's libraries matter only if it fails too.
    assert platforms_to_try({"XDG_SESSION_TYPE": "wayland"}) == ["wayland", "xcb"]
    assert platforms_to_try({"QT_QPA_PLATFORM": "wayland:nodecor;xcb"}) == ["wayland", "xcb"]
    assert platform_problem({"XDG_SESSION_TYPE": "wayland"}, "linux", plugins, broken) is None
    both = reports({"xcb": LDD_REPORT, "wayland": "\tlibwayland-cursor.so.0 => not found\n"})
    problem = platform_problem({"XDG_SESSION_TYPE": "wayland"}, "linux", plugins, both)
    assert "libxcb-icccm4" in problem and "libwayland-cursor0" in problem and "\n" not in problem


def test_packages_of_libraries_not_in_the_table_follow_the_distributions_rules():
    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libfoo-x11.so.0") == "libfoo-x11-0"
    assert debian_package("libBar.so.3.1") == "libbar3"
    assert fedora_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11"
    assert fedora_package("libbar.so.3") == "'libbar.so.3()(64bit)'"


@pytest.fixture
def fake_plugin(tmp_path) -> Path:
    """A folder with a platform plugin libqxcb.so built with gcc, linked to libforge-gone.so.1,
    which is then deleted: the loader cannot resolve it, as with a missing system package."""
    if shutil.which("gcc") is None or shutil.which("ldd") is None:
        pytest.skip("needs gcc and ldd")
    build = tmp_path / "build"
    build.mkdir()
    (build / "gone.c").write_text("int forge_gone(void) { return 1; }\n")
    (build / "plugin.c").write_text("int forge_gone(void);\nint forge_plugin(void) { return forge_gone(); }\n")
    gone = build / "libforge-gone.so.1"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-Wl,-soname,libforge-gone.so.1", "-o", str(gone), str(build / "gone.c")],
        check=True,
    )
    platforms = tmp_path / "platforms"
    platforms.mkdir()
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(platforms / "libqxcb.so"), str(build / "plugin.c"), str(gone)],
        check=True,
    )
    gone.unlink()
    return platforms


def test_ldd_on_a_plugin_whose_library_is_gone(fake_plugin):
    env = {"QT_QPA_PLATFORM": "xcb", "QT_QPA_PLATFORM_PLUGIN_PATH": str(fake_plugin)}
    problem = platform_problem(env, "linux")  # the real ldd; Qt looks in QT_QPA_PLATFORM_PLUGIN_PATH first
    assert problem is not None and "libforge-gone.so.1" in problem
    assert "sudo apt-get install libforge-gone1" in problem
    assert "sudo dnf install 'libforge-gone.so.1()(64bit)'" in problem


def test_without_ldd_the_loader_is_asked_in_a_child_process(fake_plugin, monkeypatch):
    monkeypatch.setattr(platform_check.shutil, "which", lambda name: None)
    assert platform_check.run_ldd(fake_plugin / "libqxcb.so") == "\tlibforge-gone.so.1 => not found\n"
    env = {"QT_QPA_PLATFORM": "xcb", "QT_QPA_PLATFORM_PLUGIN_PATH": str(fake_plugin)}
    assert "sudo apt-get install libforge-gone1" in platform_problem(env, "linux")


def broken_env(fake_plugin: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "LATENT_FORGE_SKIP_PLATFORM_CHECK"}
    return env | {"QT_QPA_PLATFORM": "xcb", "QT_QPA_PLATFORM_PLUGIN_PATH": str(fake_plugin)}


def test_main_says_what_is_missing_in_one_line_and_exits_2(fake_plugin):
    done = subprocess.run(
        [sys.executable, "main.py"], cwd=REPO_ROOT, env=broken_env(fake_plugin), capture_output=True, text=True
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "libforge-gone.so.1" in lines[0] and "sudo apt-get install" in lines[0]
    assert done.stdout == ""


def test_run_sh_adds_a_hint_when_the_check_fails(fake_plugin, tmp_path):
    """scripts/run.sh in a copy of the tree whose setup step does nothing (no install here)."""
    tree = tmp_path / "tree"
    (tree / "scripts").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "scripts" / "run.sh", tree / "scripts" / "run.sh")
    (tree / "scripts" / "setup.sh").write_text("true\n")
    (tree / "gui").symlink_to(REPO_ROOT / "gui")
    (tree / ".venv").symlink_to(Path(sys.prefix))  # this virtualenv, with PySide6 in it
    (tree / "main.py").write_text("raise SystemExit('run.sh should have stopped before main.py')\n")
    done = subprocess.run(
        ["bash", str(tree / "scripts" / "run.sh")], env=broken_env(fake_plugin), capture_output=True, text=True
    )
    assert done.returncode == 2, done.stderr
    assert "libforge-gone.so.1" in done.stderr and "run.sh:" in done.stderr and "main.py --help" in done.stderr
