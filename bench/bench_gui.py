"""Desktop-app benchmarks: cold start, live scrub latency and memory (issue 5's targets).

    OMP_NUM_THREADS=1 QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui.py [--repeats 5] [--scrubs 200]
    OMP_NUM_THREADS=1 xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python bench/bench_gui.py

Cold start: `python main.py` until the first paint of its window (the shipped levels model is
loaded before the window shows; the app prints a line at that paint and exits when
LATENT_FORGE_EXIT_AFTER_PAINT=1) against `python -c "import torch, PySide6.QtWidgets"` until
it exits. The two alternate, each repetition in turn, so load on the machine hits both alike.

Scrub latency: in one process, a slider value is set and the event loop runs until the
preview's viewport has processed its paint; p50/p95 over many positions, for the
interpolation slider and for a direction slider (held down, as in a drag).

Memory: resident set size of that process with the levels model loaded and the grid shown.
The app runs with fresh settings and a scratch cache, so the user's own are untouched.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def time_process(command: list[str], until_line: str | None, env: dict) -> float:
    """Seconds from spawn until `until_line` starts a stdout line (or until exit when None)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if until_line is None:
        process.wait()
        if process.returncode != 0:
            raise RuntimeError(f"{command} failed with {process.returncode}")
        return time.perf_counter() - started
    for line in process.stdout:
        if line.startswith(until_line):
            elapsed = time.perf_counter() - started
            process.wait()
            return elapsed
    process.wait()
    raise RuntimeError(f"{command} exited ({process.returncode}) before printing {until_line!r}")


def cold_start(repeats: int) -> tuple[list[float], list[float]]:
    scratch = Path(tempfile.mkdtemp(prefix="lf-bench-home-"))
    env = dict(
        os.environ,
        LATENT_FORGE_EXIT_AFTER_PAINT="1",
        XDG_CONFIG_HOME=str(scratch / "config"),
        XDG_CACHE_HOME=str(scratch / "cache"),
        XDG_DATA_HOME=str(scratch / "data"),
    )
    app, baseline = [], []
    time_process([sys.executable, "main.py"], "painted", env)  # warm the file cache once, not timed
    for _ in range(repeats):
        baseline.append(time_process([sys.executable, "-c", "import torch, PySide6.QtWidgets"], None, env))
        app.append(time_process([sys.executable, "main.py"], "painted", env))
    return app, baseline


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


SCRUB_TARGET_MS = {"levels": 16, "music": 16, "images": 16}  # p95 targets of issue 16 (issue 5 gave images 25)


def scrub_and_memory(scrubs: int) -> dict:
    """Scrub latency of each domain's interpolation and first direction slider, and the
    process RSS with every shipped model loaded (the window opens all three tabs)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from gui.app import scratch_window
    from gui.domain_view import DomainView

    window = scratch_window("lf-bench-gui-")
    views = {name: view for name, view in window.views.items() if isinstance(view, DomainView)}

    def settle(view) -> None:
        while view.context.runner.busy:
            app.processEvents()
            time.sleep(0.005)
        for _ in range(5):
            app.processEvents()

    for view in views.values():
        settle(view)
    result = {"rss_mb": rss_mb(), "domains": {}}

    class PaintSeen(QObject):
        seen = False

        def eventFilter(self, watched, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.seen = True
            return False

    for name, view in views.items():
        window.tabs.setCurrentWidget(view)
        settle(view)
        spy = PaintSeen()
        view.preview.view.viewport().installEventFilter(spy)

        def measure(slider, values) -> list[float]:
            """Each step of a drag: the slider is held down throughout, as under the user's mouse."""
            times = []
            slider.setSliderDown(True)
            for value in values:
                spy.seen = False
                started = time.perf_counter()
                slider.setValue(value)
                while not spy.seen:
                    app.processEvents()
                times.append((time.perf_counter() - started) * 1000)
            slider.setSliderDown(False)  # the release: the slider commits its value
            return times

        view.set_endpoint_from_item(0, "A")
        view.set_endpoint_from_item(5, "B")
        settle(view)
        positions = [(i * 7) % 101 for i in range(1, scrubs + 1)]  # jumps, so every step is a new latent
        interpolation = measure(
            view.interpolation.slider,
            [p if p != view.interpolation.slider.value() else (p + 1) % 101 for p in positions],
        )
        slider = view.directions.sliders[view.directions.names[0]]
        slider.setSliderDown(True)  # a drag: live offsets, one undo step at release
        direction = measure(slider, [((i * 37) % 601) - 300 for i in range(1, scrubs + 1)])
        slider.setSliderDown(False)
        settle(view)
        result["domains"][name] = {"interpolation": interpolation, "direction": direction}
    result["rss_after_mb"] = rss_mb()
    window.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description="Latent Forge desktop-app benchmarks")
    parser.add_argument("--repeats", type=int, default=5, help="cold starts of each command")
    parser.add_argument("--scrubs", type=int, default=200, help="slider positions per scrub measurement")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display: draw offscreen
    app, baseline = cold_start(args.repeats)
    scrub = scrub_and_memory(args.scrubs)
    med_app, med_base = statistics.median(app), statistics.median(baseline)
    platform = os.environ.get("QT_QPA_PLATFORM") or f"xcb on DISPLAY {os.environ.get('DISPLAY')}"
    print(
        f"platform {platform}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')}, "
        f"{args.repeats} cold starts each (alternating), {args.scrubs} scrub steps each\n"
    )
    print("| measure | value | target |")
    print("|---|---|---|")
    print(
        f"| cold start `python main.py` → first paint, median (min–max) | "
        f"{med_app:.2f} s ({min(app):.2f}–{max(app):.2f}) | |"
    )
    print(
        f'| `python -c "import torch, PySide6.QtWidgets"`, median (min–max) | '
        f"{med_base:.2f} s ({min(baseline):.2f}–{max(baseline):.2f}) | |"
    )
    print(f"| ratio (medians) | {med_app / med_base:.2f}× | ≤ 1.7× |")
    for domain, measures in scrub["domains"].items():
        for name, times in measures.items():
            print(
                f"| {domain}: scrub {name} slider → repaint, p50 / p95 | {percentile(times, 50):.1f} / "
                f"{percentile(times, 95):.1f} ms | p95 ≤ {SCRUB_TARGET_MS[domain]} ms |"
            )
    loaded = ", ".join(scrub["domains"]) or "no"
    print(f"| RSS at start: models loaded ({loaded}), the current tab's grid shown | {scrub['rss_mb']:.0f} MB | |")
    print(f"| RSS after scrubbing every tab | {scrub['rss_after_mb']:.0f} MB | ≤ 600 MB (all three models) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
