"""One main-window smoke test per domain on the models that ship: each tab opens its shipped
model, shows a full grid, scrubs the interpolation slider to new pixels and re-decodes under
another condition; what a tab offers (Open… filter, Full level page, decoding controls, Play)
follows the Domain's hooks. Skips a domain whose checkpoint is not in `checkpoints/`."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import REPO_ROOT  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from gui.domain_view import DomainView  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from gui.storage import AppStorage  # noqa: E402

WAIT_MS = 60000
SHIPPED = REPO_ROOT / "checkpoints"


def image_bytes(view: DomainView) -> bytes:
    return bytes(view.preview.view.image().constBits())


def view_filter(domain: str, formats) -> str:
    """The Open… filter each shipped domain's tab should show."""
    kind = {"levels": "Level", "images": "Image", "music": "Music"}[domain]
    return f"{kind} files ({' '.join('*.' + ext for ext in formats)})"


@pytest.mark.parametrize("domain", ["levels", "images", "music"])
def test_each_domain_tab_opens_its_shipped_model_and_scrubs(qtbot, tmp_path, domain, monkeypatch):
    if not (SHIPPED / f"{domain}.safetensors").exists():
        pytest.skip(f"no shipped {domain} model")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    storage = AppStorage.under(tmp_path)
    missing = tmp_path / "no-model.safetensors"
    checkpoints = {name: (domain if name == domain else missing) for name in ("levels", "images", "music")}
    window = MainWindow(checkpoints, settings=settings, storage=storage)
    qtbot.addWidget(window)
    window.show()
    view = window.views[domain]
    assert isinstance(view, DomainView)
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not view.context.runner.busy, timeout=WAIT_MS)
    assert view.generator.domain.name == domain
    assert len(view.items) == 16
    assert all(tile.pixmap is not None and not tile.pixmap.isNull() for tile in view.grid.tiles)

    # What the tab offers comes from the Domain's hooks, not from its name.
    hooks = view.generator.domain
    assert (view.long_level is not None) == (hooks.stitch_support() == "")
    assert set(view.controls.decoding) == {option.name for option in hooks.decoding_options}
    assert (view.preview.transport is not None) == hooks.plays_audio
    filters = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: filters.append(args[3]) or ("", ""))
    view.choose_endpoint_file("A")
    assert filters[0].split(";;")[0] == view_filter(domain, hooks.read_formats)

    view.set_endpoint_from_item(0, "A")
    view.set_endpoint_from_item(5, "B")
    view.interpolation.slider.setValue(0)
    at_a = image_bytes(view)
    view.interpolation.slider.setValue(100)
    assert image_bytes(view) != at_a

    # Another label of the first condition group re-decodes the grid: the same latents, or,
    # for a model with a mixture prior (images), each seed's latent under the new labels.
    latents = [item.latent.copy() for item in view.items]
    before = [item.labels for item in view.items]
    if view.conditions.combos:
        combo = next(iter(view.conditions.combos.values()))
        assert combo.currentIndex() == 0 and combo.currentData() is None  # "any" first, and the default
        # Not the first label: a model without label statistics decodes "any" as its first label.
        combo.setCurrentIndex(2 if combo.count() > 2 else 1)
    else:
        box = next(iter(view.conditions.checks.values()))
        box.setChecked(not box.isChecked())
    qtbot.waitUntil(lambda: not view.context.runner.busy, timeout=WAIT_MS)
    assert [item.labels for item in view.items] != before
    generator = view.generator
    for item, latent in zip(view.items, latents):
        expected = (
            latent if generator.prior is None else generator.latent_for_seed(item.seed, item.temperature, item.labels)
        )
        assert (item.latent == expected).all()
    if generator.prior is not None:
        assert any((item.latent != latent).any() for item, latent in zip(view.items, latents))
    window.close()
