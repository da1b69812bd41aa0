"""Gauges: the counts the live service exports as metrics and weighs deletions against."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog


class Holdings(NamedTuple):
    """The records present in the archive, and their bytes."""

    files: int
    bytes: int


class Gauges:
    """``catalog.gauges``: counts over the records and their open findings."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @property
    def _db(self) -> sqlite3.Connection:
        return self._catalog.db

    def holdings(self) -> Holdings:
        return Holdings(*self._db.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM files WHERE removed_at IS NULL").fetchone())

    def rows(self) -> int:
        """Every row of the files table, removals not yet applied included."""
        return self._db.execute("SELECT count(*) FROM files").fetchone()[0]

    def unmirrored(self) -> int:
        """Present records whose current content is not on the mirror."""
        return self._db.execute("SELECT count(*) FROM files WHERE removed_at IS NULL AND"
                                " (mirror_hash IS NULL OR mirror_hash != hash)").fetchone()[0]

    def open_violations_by_rule(self) -> dict[str, int]:
        return dict(self._db.execute(
            "SELECT rule, count(*) FROM violations WHERE fixed_at IS NULL GROUP BY rule").fetchall())
