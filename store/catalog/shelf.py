"""The shelf: previous versions kept on the mirror disk, as the reconcile prunes them."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog


class ShelvedVersion(NamedTuple):
    """A kept version: its row and where it lies below <mirror_root>/.dangan/versions."""

    id: int
    location: bytes


class Shelf:
    """``catalog.shelf``: the versions table, read and pruned by age."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @property
    def _db(self) -> sqlite3.Connection:
        return self._catalog.db

    def kept_before(self, cutoff: str) -> list[ShelvedVersion]:
        """Versions that stopped being current before ``cutoff`` (a catalog timestamp)."""
        return [ShelvedVersion(*row) for row in self._db.execute(
            "SELECT id, location FROM versions WHERE kept_at < ?", (cutoff,)).fetchall()]

    def drop(self, version_id: int) -> None:
        self._db.execute("DELETE FROM versions WHERE id = ?", (version_id,))
