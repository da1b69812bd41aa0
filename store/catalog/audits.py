"""The register of fixity audits (``audits``), the last-verified time of each record, and the
inventory totals of the last good off-site run: what the audit writes and the weekly report reads."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog


class StoredAudit(NamedTuple):
    """One audit as the register keeps it; ``summary`` is the audit's own JSON form."""

    at: str
    seconds: float
    problems: int
    summary: dict[str, Any]


class Audits:
    """The audits register. Writes belong inside the caller's ``catalog.transaction()``."""

    def __init__(self, catalog: Catalog) -> None:
        self._db = catalog.db

    def add(self, at: str, seconds: float, problems: int, summary: dict[str, Any]) -> None:
        self._db.execute("INSERT INTO audits (at, seconds, problems, summary) VALUES (?,?,?,?)",
                         (at, seconds, problems, json.dumps(summary, ensure_ascii=False)))

    def latest(self) -> StoredAudit | None:
        row = self._db.execute(
            "SELECT at, seconds, problems, summary FROM audits ORDER BY id DESC LIMIT 1").fetchone()
        return StoredAudit(row[0], row[1], row[2], json.loads(row[3])) if row else None

    def mark_verified(self, paths: Iterable[bytes], at: str) -> None:
        """The records whose bytes the audit re-read and found as the catalog has them."""
        self._db.executemany("UPDATE files SET last_verified = ? WHERE path = ?", ((at, p) for p in paths))

