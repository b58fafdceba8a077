"""The main window: one tab per domain, menus, drag and drop, the status bar and saved state.

Each tab holds a DomainView of its domain's model, or a message when that model cannot be
opened (a domain not in this version yet, a missing or damaged checkpoint). Menu actions
apply to the current tab. The window itself decodes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from generators.core.errors import UserError
from generators.registry import DOMAIN_NAMES, SHIPPED, domain_class, load_generator, resolve_checkpoint

from .about_dialog import AboutModelDialog
from .domain_view import DomainView
from .favourites_store import FavouritesStore
from .messages import show_error
from .scan_panel import ask_and_scan
from .screen_size import resize_to_fit
from .storage import AppStorage
from .training_wizard import TrainingWizard

TITLES = {"levels": "Levels", "images": "Images", "music": "Music"}
STATUS_MS = 8000
LONG_PAGE_TEXT = {  # Generate → (Ctrl+G), by the tab's page
    "Full level": "&Full level",
    "Long piece": "Long &piece",
    "Playable screen": "P&layable screen",
}
PREFERRED_SIZE = QSize(1400, 860)  # the first window size, where the screen has room for it


class UnavailableView(QWidget):
    """A tab whose model cannot be shown, saying why and what to do."""

    def __init__(self, domain: str, message: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.domain_name = domain
        self.message = message
        label = QLabel(
            f"<h3>{TITLES.get(domain, domain)}</h3><p>{message}</p>"
            "<p>File → Open model… (Ctrl+O) opens a checkpoint of your own.</p>"
        )
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(label)


def load_view(
    domain: str, checkpoint: str | Path, storage: AppStorage | None = None, favourites: FavouritesStore | None = None
) -> QWidget:
    """A DomainView of `checkpoint`, or an UnavailableView saying why there is none."""
    try:
        domain_class(domain)
    except UserError:
        return UnavailableView(domain, f"{TITLES.get(domain, domain)} are not available in this version yet.")
    if str(checkpoint) in SHIPPED and not resolve_checkpoint(checkpoint).exists():
        return UnavailableView(
            domain,
            f"No {domain} model ships with this version yet. Train one on your own files with "
            "File → New model… (Ctrl+N), or open one with File → Open model… (Ctrl+O).",
        )
    try:
        generator = load_generator(checkpoint, domain=domain)
    except UserError as error:
        return UnavailableView(domain, f"The {domain} model could not be opened: {error}")
    return DomainView(generator, resolve_checkpoint(checkpoint).resolve(), storage=storage, favourites=favourites)


class MainWindow(QMainWindow):
    def __init__(
        self,
        checkpoints: Mapping[str, str | Path] | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        storage: AppStorage | None = None,
    ):
        """`checkpoints` maps a domain to a checkpoint path or shipped name (default: the
        shipped models); `settings` defaults to the application's QSettings and `storage`
        (cache and favourites folders) to the platform's standard locations."""
        super().__init__(parent)
        self.storage = storage or AppStorage.default()
        self.favourites = FavouritesStore(self.storage.favourites_file)
        self.setWindowTitle("Latent Forge")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else QSettings()
        self.checkpoints = {name: name for name in DOMAIN_NAMES} | dict(checkpoints or {})
        self.undo_group = QUndoGroup(self)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.views: dict[str, QWidget] = {}
        for domain in DOMAIN_NAMES:
            self.tabs.addTab(QWidget(), TITLES[domain])
            self._set_view(domain, load_view(domain, self.checkpoints[domain], self.storage, self.favourites))
        self.tabs.currentChanged.connect(self._tab_changed)
        self._make_menus()
        self.statusBar().showMessage("Ready")
        self.repair_notice: QToolButton | None = None  # shown while damaged saved state is unreported
        resize_to_fit(self, PREFERRED_SIZE)  # on a first start; 1400×860 where the screen has room
        self.restore_state()  # a saved geometry wins (Qt keeps it on the screen)
        self._tab_changed()  # samples the current tab's first grid; the others when first shown

    # --- tabs ---------------------------------------------------------------------------

    def domain_views(self) -> list[DomainView]:
        return [view for view in self.views.values() if isinstance(view, DomainView)]

    def current_view(self) -> DomainView | None:
        view = self.tabs.currentWidget()
        return view if isinstance(view, DomainView) else None

    def _set_view(self, domain: str, view: QWidget) -> None:
        index = DOMAIN_NAMES.index(domain)
        old = self.views.get(domain)
        if isinstance(old, DomainView):
            old.save_settings(self.settings)
            old.shutdown()
            self.undo_group.removeStack(old.undo_stack)
        self.views[domain] = view
        current = self.tabs.currentIndex()
        placeholder = self.tabs.widget(index)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, view, TITLES[domain])
        self.tabs.setCurrentIndex(current)
        placeholder.deleteLater()  # the old view, or the empty page of a new tab
        if isinstance(view, DomainView):
            self.undo_group.addStack(view.undo_stack)
            view.context.status.connect(lambda message: self.statusBar().showMessage(message, STATUS_MS))
            view.latent_map.data_folder_chosen.connect(lambda folder, v=view: v.save_map_folder(self.settings))
            self.tabs.setTabToolTip(index, f"{TITLES[domain]}: {view.context.checkpoint}")
        else:
            self.tabs.setTabToolTip(index, view.message)

    def _tab_changed(self, *args) -> None:
        view = self.current_view()
        self.undo_group.setActiveStack(view.undo_stack if view else None)
        for action in getattr(self, "view_actions", ()):
            action.setEnabled(view is not None)
        if hasattr(self, "full_level_action"):
            page = view.long_page_name() if view is not None else None
            self.full_level_action.setEnabled(page is not None)
            self.full_level_action.setText(LONG_PAGE_TEXT.get(page, LONG_PAGE_TEXT["Full level"]))
            self._fill_tile_menu()
        if view is not None and not view.started:
            view.start()  # a tab nobody has looked at costs no decoding

    # --- menus --------------------------------------------------------------------------

    def _action(self, menu, text: str, slot, keys=(), tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(
            file,
            "&New model…",
            self.new_model,
            ["Ctrl+N"],
            "Train a model on your own data (or fine-tune the open one)",
        )
        self._action(
            file,
            "&Open model…",
            self.choose_model,
            ["Ctrl+O"],
            "Open a checkpoint (.safetensors with its .json card) in the tab of its domain",
        )
        endpoint = self._action(
            file,
            "Open file as &endpoint…",
            lambda: self._with_view(lambda v: v.choose_endpoint_file(v.interpolation.next_free())),
            ["Ctrl+Shift+O"],
            "Encode a file as interpolation endpoint A (or B once A is set)",
        )
        scan = self._action(
            file,
            "S&can folder…",
            lambda: self._with_view(lambda v: ask_and_scan(v, self)),
            [],
            "Rank a folder's files by how typical this tab's model finds them, and show where each goes wrong",
        )
        file.addSeparator()
        export_selected = self._action(
            file,
            "&Export selected…",
            lambda: self._with_view(DomainView.export_selected),
            ["Ctrl+E"],
            "Export the selected tiles with JSON sidecars",
        )
        export_all = self._action(
            file,
            "Export &all…",
            lambda: self._with_view(DomainView.export_all),
            ["Ctrl+Shift+E"],
            "Export every tile of the grid with JSON sidecars",
        )
        file.addSeparator()
        self._action(file, "&Quit", self.close, ["Ctrl+Q"], "Quit Latent Forge")

        edit = bar.addMenu("&Edit")
        undo = self.undo_group.createUndoAction(self, "&Undo")
        undo.setShortcuts([QKeySequence("Ctrl+Z")])
        undo.setStatusTip("Undo the last latent edit (grid, condition, direction sliders)")
        redo = self.undo_group.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        redo.setStatusTip("Redo the latent edit undone last")
        edit.addAction(undo)
        edit.addAction(redo)

        generate = bar.addMenu("&Generate")
        sample = self._action(
            generate, "&Sample", lambda: self._with_view(DomainView.sample), ["Ctrl+R", "F5"], "Sample a new grid"
        )
        random_a = self._action(
            generate,
            "Random endpoint &A",
            lambda: self._with_view(lambda v: v.random_endpoint("A")),
            [],
            "Draw endpoint A at random",
        )
        random_b = self._action(
            generate,
            "Random endpoint &B",
            lambda: self._with_view(lambda v: v.random_endpoint("B")),
            [],
            "Draw endpoint B at random",
        )
        generate.addSeparator()
        self.full_level_action = self._action(
            generate,
            LONG_PAGE_TEXT["Full level"],
            lambda: self._with_view(DomainView.generate_long),
            ["Ctrl+G"],
            "Make one whole level (Full level page) or one long piece (Long piece page), "
            "from the tab's seed, temperature and condition",
        )

        # The current tab's tile actions, with their shortcuts (which act while the grid has the focus).
        self.tiles_menu = bar.addMenu("&Tile")
        self.tiles_menu.aboutToShow.connect(self._fill_tile_menu)

        help_menu = bar.addMenu("&Help")
        about = self._action(
            help_menu,
            "About this &model",
            self.show_about_model,
            ["F1"],
            "The current model's card: data, conditions, metrics, training command",
        )
        self._action(help_menu, "About &Latent Forge", self.show_about_app, [], "What Latent Forge is")
        self.view_actions = (endpoint, scan, export_selected, export_all, sample, random_a, random_b, about)

    def _fill_tile_menu(self) -> None:
        """The Tile menu lists the current tab's actions, enabled for its current tile."""
        self.tiles_menu.clear()
        view = self.current_view()
        if view is None:
            self.tiles_menu.addAction("No model in this tab").setEnabled(False)
            return
        view.update_tile_actions()
        for action in view.menu_actions():
            if action is None:
                self.tiles_menu.addSeparator()
            else:
                self.tiles_menu.addAction(action)

    def _with_view(self, method) -> None:
        view = self.current_view()
        if view is None:
            self.statusBar().showMessage("This tab has no model; open one with File → Open model…", STATUS_MS)
        else:
            method(view)

    # --- models and files -----------------------------------------------------------------

    def new_model(self) -> TrainingWizard:
        """File → New model…: the training wizard; its checkpoint opens here when written."""
        view = self.current_view()
        wizard = TrainingWizard(self.storage, view.context.checkpoint if view else None, self)
        if view is not None:
            wizard.source_page.set_domain(view.generator.domain.name)
        wizard.model_ready.connect(self.open_model)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.show()
        return wizard

    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open model", "", "Latent Forge checkpoints (*.safetensors *.json);;All files (*)"
        )
        if path:
            self.open_model(path)

    def open_model(self, path: str | Path) -> bool:
        """Open a checkpoint in the tab of its domain; errors go to a dialog, nothing changes."""
        try:
            generator = load_generator(path)
        except UserError as error:
            show_error(self, "Cannot open model", str(error))
            self.statusBar().showMessage(f"Cannot open model: {error}", STATUS_MS)
            return False
        except Exception as error:  # noqa: BLE001 - a damaged file must not end the app
            show_error(self, "Cannot open model", f"{path}: {type(error).__name__}: {error}")
            return False
        domain = generator.domain.name
        view = DomainView(generator, Path(path).resolve(), storage=self.storage, favourites=self.favourites)
        old = self.views.get(domain)
        if isinstance(old, DomainView):
            old.save_settings(self.settings)
        view.restore_settings(self.settings)
        self._set_view(domain, view)
        self.tabs.setCurrentIndex(DOMAIN_NAMES.index(domain))
        self._tab_changed()
        if not view.started:
            view.start()
        self.statusBar().showMessage(f"Opened {generator.name} ({domain}) from {path}", STATUS_MS)
        return True

    def open_paths(self, paths: list[str | Path]) -> None:
        """Dropped files: checkpoints open as models; anything else is encoded as an endpoint."""
        for path in map(Path, paths):
            if path.suffix.lower() == ".safetensors" or (
                path.suffix.lower() == ".json" and path.with_suffix(".safetensors").exists()
            ):
                self.open_model(path)
            elif (view := self.current_view()) is not None:
                view.open_endpoint_file(path)
            else:
                show_error(
                    self,
                    "Cannot open file",
                    f"{path.name}: this tab has no model to encode it with; open one with File → Open model…",
                )

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and all(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        event.acceptProposedAction()
        self.open_paths(paths)

    # --- dialogs --------------------------------------------------------------------------

    def show_about_model(self) -> AboutModelDialog | None:
        view = self.current_view()
        if view is None:
            return None
        dialog = AboutModelDialog(view.generator.card, view.context.checkpoint, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_about_app(self) -> None:
        QMessageBox.about(
            self,
            "About Latent Forge",
            "<h3>Latent Forge</h3><p>Generate game levels, images and music with "
            "conditional convolutional VAEs, offline. Sample, interpolate, steer with conditions and "
            "latent directions, and export files your tools open.</p>",
        )

    # --- state ----------------------------------------------------------------------------

    def restore_state(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        tab = str(self.settings.value("window/tab", DOMAIN_NAMES[0]))
        if tab in DOMAIN_NAMES:
            self.tabs.setCurrentIndex(DOMAIN_NAMES.index(tab))
        refused = [key for view in self.domain_views() for key in view.restore_settings(self.settings)]
        self._tell_once(refused)

    def _tell_once(self, refused: list[str]) -> None:
        """Say in the status bar, once at start, what was damaged and what became of it."""
        notes = [self.favourites.problem] if self.favourites.problem else []
        if self.settings.status() != QSettings.Status.NoError:
            notes.append(f"The settings file {self.settings.fileName()} could not be read; defaults are used.")
        if refused:
            notes.append(f"Saved settings that were damaged went back to their defaults: {', '.join(refused)}.")
        if not notes:
            return
        # A short button stays in the status bar (grid messages would overwrite a plain message at
        # once); its click shows the whole story and dismisses it.
        self.repair_notice = QToolButton()
        self.repair_notice.setText("Some saved settings were damaged: details…")
        self.repair_notice.setToolTip("\n".join(notes))
        self.repair_notice.setAutoRaise(True)
        self.repair_notice.clicked.connect(lambda: self._show_repairs(notes))
        self.statusBar().addPermanentWidget(self.repair_notice)

    def _show_repairs(self, notes: list[str]) -> None:
        QMessageBox.information(self, "Damaged settings were repaired", "\n\n".join(notes))
        self.statusBar().removeWidget(self.repair_notice)
        self.repair_notice.deleteLater()
        self.repair_notice = None

    def save_state(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/tab", DOMAIN_NAMES[self.tabs.currentIndex()])
        for view in self.domain_views():
            view.save_settings(self.settings)
        self.settings.sync()

    def closeEvent(self, event) -> None:
        self.save_state()
        for wizard in self.findChildren(TrainingWizard):
            wizard.training_page.stop()  # a training run stays resumable; its job must end first
        for view in self.domain_views():
            view.shutdown()
        event.accept()
