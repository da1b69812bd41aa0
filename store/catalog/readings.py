"""Readings: the counts and facts that `dangan status` (and whoever summarises the archive) reads
from the records and their findings."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog


class MirrorBacklog(NamedTuple):
    """Present records whose verified copy is not on the mirror yet."""

    count: int
    oldest: str | None  # the earliest last-verified time among them (None: no backlog)


class Readings:
    """``catalog.readings``: what the catalog says about the archive as a whole."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @property
    def _db(self) -> sqlite3.Connection:
        return self._catalog.db

    def present_count(self) -> int:
        """Records present in the archive."""
        return self._db.execute("SELECT count(*) FROM files WHERE removed_at IS NULL").fetchone()[0]

    def mirror_backlog(self) -> MirrorBacklog:
        return MirrorBacklog(*self._db.execute(
            "SELECT count(*), min(last_verified) FROM files WHERE removed_at IS NULL"
            " AND (mirror_hash IS NULL OR mirror_hash != hash)").fetchone())

    def pending_removal_count(self) -> int:
        """Records gone from the archive whose mirror copy is not yet moved aside."""
        return self._db.execute("SELECT count(*) FROM files WHERE removed_at IS NOT NULL").fetchone()[0]

    def open_violations_by_severity(self) -> dict[str, int]:
        """severity (error | warning) -> the number of open findings."""
        return dict(self._db.execute(
            "SELECT severity, count(*) FROM violations WHERE fixed_at IS NULL GROUP BY severity").fetchall())

    def paths_with_open(self, rule: str) -> set[bytes]:
        """The paths with an open finding of ``rule`` (e.g. ``readable.corrupt``: damaged on the primary)."""
        return {row[0] for row in self._db.execute(
            "SELECT path FROM violations WHERE fixed_at IS NULL AND rule = ?", (rule,))}
