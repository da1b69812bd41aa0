"""What the 过程考核 scorecard and the department digests read: the records filed in a period (the
ledger's 收进), the records present with their arrival time, and every finding that was open at some
moment of a period (opened before its end, not fixed before its start)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog


class Arrival(NamedTuple):
    """A present record and when it first arrived in the archive (kept across moves)."""

    path: bytes
    first_seen: str


class Finding(NamedTuple):
    """A rule finding with its life: first seen, and fixed (None: still open)."""

    path: bytes
    rule: str
    severity: str
    detail: str
    first_seen: str
    fixed_at: str | None


class AssessmentRegister:
    """Readings for the department registers. Times are catalog times (UTC ISO text); ``until`` is
    exclusive."""

    def __init__(self, catalog: Catalog) -> None:
        self._db = catalog.db

    def filed(self, since: str, until: str) -> Iterator[bytes]:
        """The paths of the ledger's 收进 (intake) events in [since, until), streamed."""
        rows = self._db.execute("SELECT path FROM ledger WHERE event = 'intake' AND at >= ? AND at < ?"
                                " AND path IS NOT NULL", (since, until))
        return (row[0] for row in rows)

    def arrivals(self, until: str) -> Iterator[Arrival]:
        """Every present record that had arrived before ``until``, streamed (an archive of a million
        records is never held in memory)."""
        rows = self._db.execute("SELECT path, first_seen FROM files WHERE removed_at IS NULL AND first_seen < ?",
                                (until,))
        return (Arrival(*row) for row in rows)

    def findings(self, since: str, until: str) -> list[Finding]:
        """Every finding open at some moment of [since, until): opened before ``until`` and not
        fixed before ``since``, oldest first."""
        rows = self._db.execute(
            "SELECT path, rule, severity, detail, first_seen, fixed_at FROM violations"
            " WHERE first_seen < ? AND (fixed_at IS NULL OR fixed_at >= ?) ORDER BY first_seen, path, rule",
            (until, since))
        return [Finding(*row) for row in rows]
