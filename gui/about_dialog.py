"""Help → About this model: the checkpoint's card as a readable tree (what the model is,
its data and licence, its conditions, its measured metrics, and how it was trained)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .screen_size import resize_to_fit

# Sections in reading order, and whether they start expanded.
SECTIONS = (
    ("data", True),
    ("conditions", True),
    ("metrics", True),
    ("training", False),
    ("model", False),
    ("domain_config", False),
)
MAX_LIST_INLINE = 8


def format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "—"
    return str(value)


def add_value(parent: QTreeWidgetItem, key: str, value) -> QTreeWidgetItem:
    """A tree row for `value`; dicts and long lists become children."""
    item = QTreeWidgetItem(parent, [key.replace("_", " "), ""])
    if isinstance(value, dict):
        for child_key, child in value.items():
            add_value(item, str(child_key), child)
    elif isinstance(value, list) and (len(value) > MAX_LIST_INLINE or any(isinstance(v, (dict, list)) for v in value)):
        for index, child in enumerate(value):
            label = child.get("name", str(index + 1)) if isinstance(child, dict) else str(index + 1)
            add_value(item, str(label), child)
    elif isinstance(value, list):
        item.setText(1, ", ".join(format_value(v) for v in value))
    else:
        item.setText(1, format_value(value))
    item.setToolTip(1, item.text(1))
    return item


def header_html(card: dict, checkpoint: str) -> str:
    model = card.get("model", {})
    parameters = card.get("parameters")
    facts = [
        f"{card.get('domain', '?')} model",
        f"latent size {model.get('latent_size', '?')}",
        f"{parameters:,} parameters" if isinstance(parameters, int) else None,
        f"created {card['created']}" if "created" in card else None,
    ]
    return (
        f"<h3>{card.get('name', '?')}</h3>{' · '.join(f for f in facts if f)}<br>"
        f"<small>{checkpoint}<br>weights SHA-256 {card.get('weights_sha256', '?')}</small>"
    )


class AboutModelDialog(QDialog):
    def __init__(self, card: dict, checkpoint: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"About this model: {card.get('name', '?')}")
        header = QLabel(header_html(card, checkpoint))
        header.setWordWrap(True)
        header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["", "value"])
        self.tree.setToolTip("The model's card: its data, conditions and metrics measured on held-out data")
        root = self.tree.invisibleRootItem()
        shown = set()
        for key, expanded in SECTIONS:
            if key in card:
                section = add_value(root, key, card[key])
                section.setExpanded(expanded)
                shown.add(key)
        rest = {k: v for k, v in card.items() if k not in shown and k not in ("name",)}
        if rest:
            add_value(root, "other", rest)
        self.tree.resizeColumnToContents(0)
        self.command = QPlainTextEdit(str(card.get("training", {}).get("command", "")) or "(not recorded)")
        self.command.setReadOnly(True)
        self.command.setMaximumHeight(70)
        self.command.setToolTip("The command that trained this checkpoint; run it to rebuild it")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.tree, 1)
        layout.addWidget(QLabel("Training command:"))
        layout.addWidget(self.command)
        layout.addWidget(buttons)
        resize_to_fit(self, QSize(720, 640))
