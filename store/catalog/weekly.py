"""What the weekly report reads besides the audits: free-space samples of the two disks
(``disk_samples``), the week's register entries, and the latest restore drill of each source."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog


class DiskSample(NamedTuple):
    """Free space on one disk at one time (bytes)."""

    at: str
    disk: str  # archive | mirror
    total: int
    free: int


class RegisterEntry(NamedTuple):
    """One ledger event of the week: what happened, and to which path (None: not about one file)."""

    event: str
    path: bytes | None


class DrillSummary(NamedTuple):
    """The latest restore drill from one source."""

    source: str  # mirror | offsite
    at: str
    files: int
    bytes: int
    seconds: float
    ok: bool
    projected_seconds: float | None


class Weekly:
    """The weekly report's readings. Writes belong inside the caller's ``catalog.transaction()``."""

    def __init__(self, catalog: Catalog) -> None:
        self._db = catalog.db

    def add_disk_samples(self, samples: Iterable[DiskSample]) -> None:
        self._db.executemany("INSERT INTO disk_samples (at, disk, total, free) VALUES (?,?,?,?)",
                             [tuple(s) for s in samples])

    def disk_samples(self, limit: int = 60) -> list[DiskSample]:
        """The latest ``limit`` samples of both disks, oldest first."""
        rows = self._db.execute("SELECT at, disk, total, free FROM disk_samples ORDER BY at DESC LIMIT ?",
                                (limit,)).fetchall()
        return [DiskSample(*row) for row in reversed(rows)]

    def register(self, since: str, events: Iterable[str]) -> list[RegisterEntry]:
        """The ledger's ``events`` at or after ``since``, in order."""
        wanted = list(events)
        marks = ",".join("?" * len(wanted))
        rows = self._db.execute(
            f"SELECT event, path FROM ledger WHERE at >= ? AND event IN ({marks}) ORDER BY id",
            (since, *wanted))
        return [RegisterEntry(*row) for row in rows]

    def latest_drills(self) -> list[DrillSummary]:
        rows = self._db.execute(
            "SELECT source, at, files, bytes, seconds, ok, projected_seconds FROM drills WHERE id IN"
            " (SELECT max(id) FROM drills GROUP BY source) ORDER BY source").fetchall()
        return [DrillSummary(source, at, files, size, seconds, bool(ok), projected)
                for source, at, files, size, seconds, ok, projected in rows]
