"""Where the app keeps files of its own: a cache folder (latent-map encodings, safe to delete)
and a data folder (favourites). By default the platform's QStandardPaths locations; tests and
the benchmark pass folders of their own so they never touch the user's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QStandardPaths


@dataclass(frozen=True)
class AppStorage:
    cache_dir: Path
    data_dir: Path

    @classmethod
    def default(cls) -> AppStorage:
        location = QStandardPaths.writableLocation
        return cls(
            Path(location(QStandardPaths.StandardLocation.CacheLocation)),
            Path(location(QStandardPaths.StandardLocation.AppDataLocation)),
        )

    @classmethod
    def under(cls, folder: str | Path) -> AppStorage:
        folder = Path(folder)
        return cls(folder / "cache", folder / "data")

    @property
    def favourites_file(self) -> Path:
        return self.data_dir / "favourites.json"
