"""A catalog file opened read-only: never migrated, never written — the state folder's catalog or
its copy on the mirror disk, read by a restore or a drill when the rest may be gone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple


class LedgerEntry(NamedTuple):
    """One ledger event as a replay reads it."""

    event: str
    path: bytes | None
    detail: str | None  # JSON


class Shape(NamedTuple):
    """A content's size and modification time as the catalog recorded them."""

    size: int
    mtime_ns: int


class StoredCopy(NamedTuple):
    """Where the mirror disk holds a content: a record's path (relative to the mirror root) or a kept
    version's location (relative to its versions area), with the size and mtime recorded for it."""

    location: bytes
    size: int
    mtime_ns: int


class ReadOnlyCatalog:
    """Read access to the catalog at ``path``. Call :meth:`close` when done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def close(self) -> None:
        self._db.close()

    def present(self) -> dict[bytes, str]:
        """path -> hash of every present, hashed record."""
        return dict(self._db.execute(
            "SELECT path, hash FROM files WHERE removed_at IS NULL AND hash IS NOT NULL"))

    def ledger_until(self, stamp: str) -> Iterator[LedgerEntry]:
        """The ledger's events at or before ``stamp`` (a catalog timestamp), in the order written."""
        for row in self._db.execute(
                "SELECT event, path, detail FROM ledger WHERE at <= ? ORDER BY id", (stamp,)):
            yield LedgerEntry(*row)

    def shape_of(self, path: bytes, digest: str) -> Shape | None:
        """Size and mtime of content ``digest`` at ``path`` — the record's, else a kept version's —
        or, when the path never held it, of the same content anywhere."""
        for query, args in (
                ("SELECT size, mtime_ns FROM files WHERE path = ? AND hash = ?", (path, digest)),
                ("SELECT size, mtime_ns FROM versions WHERE path = ? AND hash = ?", (path, digest)),
                ("SELECT size, mtime_ns FROM files WHERE hash = ?", (digest,)),
                ("SELECT size, mtime_ns FROM versions WHERE hash = ?", (digest,))):
            row = self._db.execute(query + " LIMIT 1", args).fetchone()
            if row:
                return Shape(*row)
        return None

    def mirrored_at(self, digest: str) -> Iterator[StoredCopy]:
        """The records whose mirror copy holds content ``digest`` (location: the record's path)."""
        for row in self._db.execute(
                "SELECT path, size, mtime_ns FROM files WHERE mirror_hash = ?", (digest,)):
            yield StoredCopy(*row)

    def kept_versions_of(self, digest: str) -> Iterator[StoredCopy]:
        """The kept versions holding content ``digest``, newest first (location: in the versions area)."""
        for row in self._db.execute(
                "SELECT location, size, mtime_ns FROM versions WHERE hash = ? ORDER BY id DESC", (digest,)):
            yield StoredCopy(*row)
