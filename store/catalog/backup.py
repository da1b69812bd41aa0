"""The catalog's own copy on the mirror disk: a consistent snapshot (SQLite's online backup), and a
signature that says whether anything a restore needs changed since the last one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog

Error = sqlite3.Error  # what a failed snapshot raises besides OSError


class CatalogBackup:
    """``catalog.backup``: snapshots of the catalog for the mirror disk."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def signature(self) -> str:
        """Changes with every ledger event, kept version, record and mirrored copy."""
        return json.dumps(self._catalog.db.execute(
            "SELECT (SELECT max(id) FROM ledger), (SELECT max(id) FROM versions),"
            " (SELECT count(*) FROM files), (SELECT count(mirror_hash) FROM files)").fetchone())

    def write(self, target: Path) -> None:
        """A consistent copy of the catalog into ``target`` (not yet made durable: the caller
        fsyncs and renames it)."""
        copy = sqlite3.connect(target)
        try:
            self._catalog.db.backup(copy)
        finally:
            copy.close()  # "with" would only commit: the file would stay open on the mirror disk
