"""The favourites panel: the starred items of this tab's model, each a thumbnail with its
seed (or origin) and condition. Double-click restores one into the preview; Export writes
them with sidecars like any export. Thumbnails are decoded in a worker."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from .context import ViewContext
from .favourites_store import FavouritesStore, latent_of, model_key
from .flow_layout import FlowLayout
from .items import Item, decode_items
from .qimage import scaled_nearest, to_pixmap

ICON = QSize(96, 84)


def item_of(record: dict, generator) -> Item:
    """A favourite as a grid item (decoded; runs in a worker)."""
    item = decode_items(generator, latent_of(record)[None], record.get("condition", []))[0]
    return replace(
        item,
        seed=record.get("seed"),
        temperature=record.get("temperature"),
        origin="" if record.get("seed") is not None else record.get("caption", "favourite"),
    )


class FavouritesPanel(QWidget):
    restore_requested = Signal(dict)  # a favourite's record
    export_requested = Signal(list)  # the favourites as Items
    star_preview_requested = Signal()

    def __init__(self, context: ViewContext, store: FavouritesStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.store = store
        self.key = model_key(context.generator, context.checkpoint)
        self.items: dict[str, Item] = {}  # record id -> decoded item
        self._generation = 0
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(ICON)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setSpacing(4)
        self.list.setWordWrap(True)
        self.list.setToolTip("Double-click a favourite to show it in the preview under its own condition")
        self.list.itemDoubleClicked.connect(lambda entry: self.restore_requested.emit(self.record(entry)))
        star = QPushButton("★ Star preview")
        star.setToolTip("Add what the preview shows now (palette, map or slider edits included) to the favourites")
        star.clicked.connect(self.star_preview_requested)
        remove = QPushButton("Remove")
        remove.setToolTip("Remove the selected favourites")
        remove.clicked.connect(self.remove_selected)
        export = QPushButton("Export…")
        export.setToolTip("Export every favourite of this model (or the selected ones) with JSON sidecars")
        export.clicked.connect(self.export)
        buttons = FlowLayout()
        for button in (star, remove, export):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.refresh()

    def records(self) -> list[dict]:
        return self.store.for_model(self.key)

    def record(self, entry: QListWidgetItem) -> dict:
        return entry.data(Qt.ItemDataRole.UserRole)

    def refresh(self) -> None:
        """List this model's favourites, decoding their thumbnails in a worker."""
        self._generation += 1
        generation, records, generator = self._generation, self.records(), self.context.generator
        self.list.clear()
        for record in records:
            caption = f"seed {record['seed']}" if record.get("seed") is not None else record.get("caption", "favourite")
            entry = QListWidgetItem(caption)
            entry.setData(Qt.ItemDataRole.UserRole, record)
            entry.setToolTip(
                f"{caption}\ncondition: {', '.join(record.get('condition', [])) or 'none'}"
                f"\nadded {record.get('added', '?')}"
            )
            entry.setSizeHint(QSize(ICON.width() + 12, ICON.height() + 34))
            self.list.addItem(entry)
        missing = [r for r in records if r["id"] not in self.items]
        if not missing:
            self._show_icons()
            return

        def decode(job):
            return {r["id"]: item_of(r, generator) for r in missing}

        def done(decoded: dict[str, Item]) -> None:
            self.items.update(decoded)
            if generation == self._generation:
                self._show_icons()

        self.context.runner.start(decode, on_success=done, on_failure=self.context.status.emit)

    def _show_icons(self) -> None:
        for row in range(self.list.count()):
            entry = self.list.item(row)
            item = self.items.get(self.record(entry)["id"])
            if item is not None and item.pixels is not None:
                entry.setIcon(QIcon(scaled_nearest(to_pixmap(item.pixels), ICON.width(), ICON.height())))

    def add(self, record: dict, item: Item | None = None) -> None:
        self.store.add(record)
        if item is not None:
            self.items[record["id"]] = item
        self.refresh()

    def remove_selected(self) -> None:
        for entry in self.list.selectedItems():
            self.store.remove(self.record(entry)["id"])
        self.refresh()

    def export(self) -> None:
        chosen = [self.record(e) for e in self.list.selectedItems()] or self.records()
        ready = [self.items[r["id"]] for r in chosen if r["id"] in self.items]
        if ready:
            self.export_requested.emit(ready)
        else:
            self.context.status.emit("No favourites to export yet: star a tile (F) or the preview first")
