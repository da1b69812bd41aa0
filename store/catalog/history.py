"""History: when the periodic jobs (off-site copy, audit) last did their work, as the service's
timetable and its metrics need to know."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog


class History:
    """``catalog.history``: the last successes of the off-site runs and the audits."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @property
    def _db(self) -> sqlite3.Connection:
        return self._catalog.db

    def offsite_last_ok_end(self) -> str | None:
        """When the latest successful off-site run ended (None: never)."""
        return self._db.execute("SELECT max(ended) FROM offsite_runs WHERE result = 'ok'").fetchone()[0]

    def offsite_last_ok_start_by_kind(self) -> dict[str, str]:
        """kind (incremental, full, snapshot) -> when its latest successful run started."""
        return dict(self._db.execute(
            "SELECT kind, max(started) FROM offsite_runs WHERE result = 'ok' GROUP BY kind").fetchall())

    def audit_last_at(self) -> str | None:
        return self._db.execute("SELECT max(at) FROM audits").fetchone()[0]

    def audit_last_problems(self) -> int:
        """Problems found by the latest audit (0: none, or no audit yet)."""
        row = self._db.execute("SELECT problems FROM audits ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else 0
