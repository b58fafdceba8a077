"""Before the desktop app starts: can Qt load the platform plugin it will use?

On Linux, Qt's xcb plugin (PySide6 >= 6.5) needs system libraries that a fresh desktop install
may lack (libxcb-cursor0, libxcb-icccm4, ...). Without them Qt aborts with a message that names
the plugin, not the libraries, and sometimes one that is installed. This asks the dynamic loader
(`ldd` on the plugin) which of the plugin's libraries do not resolve, and says which are missing
and how to install them, in one line. It imports neither Qt nor torch, so it runs first.

Set LATENT_FORGE_SKIP_PLATFORM_CHECK=1 to start without it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Mapping, Sequence

SKIP_VARIABLE = "LATENT_FORGE_SKIP_PLATFORM_CHECK"
LDD_TIMEOUT_S = 20

# A library's file name (soname) -> its package on Debian/Ubuntu and on Fedora. A soname not here
# gets the Debian naming rule (libfoo.so.1 -> libfoo1) and Fedora's automatic soname provide.
PACKAGES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libXau.so.6": ("libxau6", "libXau"),
    "libXdmcp.so.6": ("libxdmcp6", "libXdmcp"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libGLdispatch.so.0": ("libglvnd0", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libpng16.so.16": ("libpng16-16", "libpng"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl"),
}

Ldd = Callable[[Path], str]  # a plugin's path -> the loader's report on it (ldd's output)


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package of a library: the table's, else Debian's naming rule
    (libfoo.so.1 -> libfoo1; libfoo-x11.so.0 -> libfoo-x11-0)."""
    if soname in PACKAGES:
        return PACKAGES[soname][0]
    found = re.fullmatch(r"(.+?)\.so\.(\d+).*", soname)
    if not found:
        return soname
    name, version = found.group(1).lower(), found.group(2)
    return f"{name}{'-' if name[-1].isdigit() else ''}{version}"


def fedora_package(soname: str) -> str:
    """The Fedora package of a library: the table's, else the soname, which dnf resolves to
    whichever package provides it."""
    return PACKAGES[soname][1] if soname in PACKAGES else f"'{soname}()(64bit)'"


def missing_libraries(report: str) -> list[str]:
    """The libraries ldd's report says are "not found", in its order, each once."""
    missing: list[str] = []
    for line in report.splitlines():
        found = re.match(r"\s*(\S+)\s*=>\s*not found", line)
        if found and found.group(1) not in missing:
            missing.append(found.group(1))
    return missing


def run_ldd(plugin: Path) -> str:
    """ldd's report on `plugin`: every library it needs, directly or not, and where each resolves
    ("=> not found" where none does). Without ldd, the dynamic loader is asked in a child process
    (so that nothing of Qt loads into this one), which names only the first library it misses."""
    ldd = shutil.which("ldd")
    command = (
        [ldd, str(plugin)]
        if ldd is not None
        else [sys.executable, "-c", "import ctypes, sys\nctypes.CDLL(sys.argv[1])", str(plugin)]
    )
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=LDD_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return ""  # no report: nothing is said to be missing, and Qt speaks for itself
    if ldd is not None:
        return done.stdout + done.stderr
    found = re.search(r"([^\s:]+\.so[.\d]*): cannot open shared object file", done.stderr)
    return f"\t{found.group(1)} => not found\n" if found else ""


def qt_plugins_dir() -> Path | None:
    """PySide6's Qt plugins folder, found without importing Qt."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        for candidate in (Path(location) / "Qt" / "plugins", Path(location) / "plugins"):
            if (candidate / "platforms").is_dir():
                return candidate
    return None


def platforms_to_try(env: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt tries, in order, as QGuiApplication picks them: those of
    QT_QPA_PLATFORM (`name:options;fallback`), else xcb, after wayland in a Wayland session."""
    asked = env.get("QT_QPA_PLATFORM", "").strip()
    if asked:
        return [name.split(":")[0].strip() for name in asked.split(";") if name.split(":")[0].strip()]
    return ["wayland", "xcb"] if env.get("XDG_SESSION_TYPE", "") == "wayland" else ["xcb"]


def install_hint(missing: Sequence[str]) -> str:
    debian = " ".join(dict.fromkeys(debian_package(lib) for lib in missing))
    fedora = " ".join(dict.fromkeys(fedora_package(lib) for lib in missing))
    return f"sudo apt-get install {debian} (Debian/Ubuntu) or sudo dnf install {fedora} (Fedora)"


def platform_problem(
    env: Mapping[str, str] | None = None,
    system: str | None = None,
    plugins: Path | None = None,
    ldd: Ldd = run_ldd,
) -> str | None:
    """One line saying which libraries Qt's platform plugin lacks and how to install them, or
    None when it can load (or this is not Linux, or Qt will use a plugin that needs none, such
    as offscreen). `plugins` is Qt's plugins folder (default: PySide6's); `ldd` reports on one
    plugin (the tests pass a fake)."""
    env = os.environ if env is None else env
    system = sys.platform if system is None else system
    if not system.startswith("linux") or env.get(SKIP_VARIABLE, "") == "1":
        return None
    plugins = qt_plugins_dir() if plugins is None else plugins
    if plugins is None:
        return None  # no PySide6: main.py says so when the import fails
    # Qt looks in QT_QPA_PLATFORM_PLUGIN_PATH first, then in its own plugins folder.
    folders = [Path(part) for part in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if part]
    folders.append(plugins / "platforms")
    failures: list[tuple[str, Path, list[str]]] = []
    for name in platforms_to_try(env):
        plugin = next((folder / f"libq{name}.so" for folder in folders if (folder / f"libq{name}.so").exists()), None)
        if plugin is None:
            continue  # not a plugin we know to look for: Qt says what it makes of the name
        missing = missing_libraries(ldd(plugin))
        if not missing:
            return None  # Qt can load this one
        failures.append((name, plugin, missing))
    if not failures:
        return None
    name, plugin, missing = failures[-1]  # the last fallback: xcb, unless QT_QPA_PLATFORM names others
    text = (
        f"latent-forge: cannot start the desktop app: Qt's {name} platform plugin ({plugin}) needs "
        f"{', '.join(missing)}, not installed on this system. Install {'it' if len(missing) == 1 else 'them'}: "
        f"{install_hint(missing)}"
    )
    for other, _, lacking in failures[:-1]:
        text += f"; the {other} plugin, tried first, needs {', '.join(lacking)} ({install_hint(lacking)})"
    return text + ". The command line (`python main.py --help`) needs none of them."
