"""Take the README screenshots with the app itself: `python -m gui.screenshots --data DIR --out docs/`.

`--sizes` takes the screen-size shots instead (no data needed; offscreen works:
`QT_QPA_PLATFORM=offscreen python -m gui.screenshots --sizes --out docs/`): each tab in a
1280×720 window, the Full level page after Generate at 1280×720, the Playable screen page of
the Lode Runner model after Generate at 1280×720, and the levels tab at 1920×1080, as
docs/screenshot-<width>-<tab>[-full|-playable].png.

Run it under a virtual display (`xvfb-run -a -s "-screen 0 1400x900x24" ...`) so the
platform style and fonts are those of a real desktop. It opens the shipped models with
fresh settings. Levels: a pipe + enemy condition, selected tiles and an interpolation, then
the latent map built from DIR (the VGLC folder), and the same map by t-SNE at 1280×720
(docs/screenshot-1280-levels-tsne.png). Images and music: a sampled grid and an
interpolation between two of its items. Each view is saved as a PNG.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication


def wait(app: QApplication, view, seconds: float = 120.0) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        if not view.context.runner.busy:
            break
        time.sleep(0.01)
    for _ in range(20):  # let layouts and paints settle
        app.processEvents()
        time.sleep(0.01)


SIZE_SHOTS = (  # (width, height, tab, page): page "full" is the Full level page after Generate,
    # "playable" the Playable screen page of the levels tab on the shipped Lode Runner model
    (1280, 720, "levels", ""),
    (1280, 720, "images", ""),
    (1280, 720, "music", ""),
    (1280, 720, "levels", "full"),
    (1280, 720, "levels", "playable"),
    (1920, 1080, "levels", ""),
)
SHOT_CHECKPOINTS = {"playable": {"levels": "lode-runner"}}  # pages shot on another model than the tab's default


def blend_two_tiles(app, view) -> None:
    """Tiles 2 and 7 as endpoints A and B, the preview 40% of the way: what every shot shows."""
    view.grid.select({1, 6}, 6)
    view.set_endpoint_from_item(1, "A")
    view.set_endpoint_from_item(6, "B")
    view.interpolation.slider.setValue(40)
    wait(app, view)


def size_shots(app: QApplication, out: Path, seed: int) -> list[Path]:
    """Each shot in a fresh window of its size: a grid from `seed`, endpoints A and B from two
    of its tiles, and for "full" the Full level page with a level generated from the seed."""
    from .app import scratch_window
    from .domain_view import DomainView

    written = []
    for width, height, tab, page in SIZE_SHOTS:
        window = scratch_window("latent-forge-shots-", SHOT_CHECKPOINTS.get(page))
        window.resize(width, height)
        view = window.views.get(tab)
        if not isinstance(view, DomainView):  # no model for this domain
            window.close()
            continue
        window.tabs.setCurrentWidget(view)
        view.controls.random_seed.setChecked(False)
        view.controls.seed.setValue(seed)
        view.resample()
        wait(app, view)
        blend_two_tiles(app, view)
        if page == "full" and view.long_level is not None:
            view.generate_full_level()
            end = time.time() + 300
            while view.long_level.busy and time.time() < end:
                app.processEvents()
                time.sleep(0.01)
            wait(app, view)
        if page == "playable" and getattr(view, "playable_screen", None) is not None:
            view.generate_long()  # Ctrl+G: opens the Playable screen page and makes the seed's screen
            end = time.time() + 300
            while view.playable_screen.busy and time.time() < end:
                app.processEvents()
                time.sleep(0.01)
            wait(app, view)
        path = out / f"screenshot-{width}-{tab}{'-' + page if page else ''}.png"
        window.grab().save(str(path))
        written.append(path)
        window.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="the levels model's training data folder (VGLC)")
    parser.add_argument("--out", default="docs", help="folder for the PNGs")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--sizes", action="store_true", help="the 1280×720 and 1920×1080 shots instead")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication([])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.sizes:
        print("\n".join(str(path) for path in size_shots(app, out, args.seed)))
        return 0
    if args.data is None:
        parser.error("--data is required (or --sizes)")
    from .app import scratch_window
    from .domain_view import DomainView

    window = scratch_window("latent-forge-shots-")
    view = window.views["levels"]
    view.controls.random_seed.setChecked(False)
    view.controls.seed.setValue(args.seed)
    view.resample()
    wait(app, view)
    view.conditions.checks["pipe"].setChecked(True)
    view.conditions.checks["enemy"].setChecked(True)
    wait(app, view)
    blend_two_tiles(app, view)
    window.grab().save(str(out / "screenshot-levels.png"))

    view.centre.setCurrentIndex(1)
    view.latent_map.colour_by.setCurrentIndex(view.latent_map.colour_by.findData("pipe"))
    view.latent_map.load_data(args.data)
    wait(app, view, 300)
    canvas = view.latent_map.canvas
    data = view.latent_map.data
    target = data.nearest(*data.points.mean(axis=0))  # a point in the thick of the data
    view.latent_map.hover_at(canvas.to_screen(*data.points[target]))
    canvas.update()
    click = canvas.to_screen(float(data.points[:, 0].max() * 0.6), float(data.points[:, 1].min() * 0.5))
    canvas._click(QPointF(click))
    view.tools.setCurrentIndex(1)
    view.palette.set_corner("C", view.items[9].latent, view.items[9].caption)
    view.palette.set_corner("D", view.items[14].latent, view.items[14].caption)
    wait(app, view)
    window.grab().save(str(out / "screenshot-levels-map.png"))
    panel = view.latent_map  # the same map by t-SNE, at 1280×720
    window.resize(1280, 720)
    panel.view_by.setCurrentIndex(panel.view_by.findData("tsne"))
    wait(app, view, 300)
    middle = panel.view.points.mean(axis=0)
    nearest = int(np.argmin(((panel.view.points - middle) ** 2).sum(axis=1)))
    panel.hover_at(panel.canvas.to_screen(*panel.view.points[nearest]))
    panel.canvas.update()
    app.processEvents()
    window.grab().save(str(out / "screenshot-1280-levels-tsne.png"))
    window.resize(1400, 860)
    written = [out / name for name in ("screenshot-levels.png", "screenshot-levels-map.png")]
    written.append(out / "screenshot-1280-levels-tsne.png")
    for domain, conditions, ends in (
        ("images", ("people-body", "noto"), (2, 7)),
        ("music", ("chorale", "major"), (0, 5)),
    ):
        other = window.views.get(domain)
        if not isinstance(other, DomainView):  # no model for this domain
            continue
        window.tabs.setCurrentWidget(other)
        other.controls.random_seed.setChecked(False)
        other.controls.seed.setValue(args.seed)
        for label in conditions:  # combo boxes for single-label groups
            for combo in other.conditions.combos.values():
                index = combo.findData(label)
                if index >= 0:
                    combo.setCurrentIndex(index)
        other.resample()
        wait(app, other)
        other.grid.select({ends[0], ends[1]}, ends[1])
        other.set_endpoint_from_item(ends[0], "A")
        other.set_endpoint_from_item(ends[1], "B")
        other.interpolation.slider.setValue(50)
        wait(app, other)
        path = out / f"screenshot-{domain}.png"
        window.grab().save(str(path))
        written.append(path)
    window.close()
    print("\n".join(str(path) for path in written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
