"""Which partner site holds what: the content objects shipped to each partner (``offsite_objects``,
keyed by the partner's identity and the content's hash) and the runs shipped to each
(``offsite_runs.partner``).

Knowledge of what "the partner" holds is only true of one partner: after ``offsite.remote`` is
switched, the new partner holds nothing, whatever was shipped before. And it is only as true as
the last verification: what one found missing or damaged is no longer counted as held, and is
shipped again before anything else. The callers keep their transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog

MISSING = "missing"
DAMAGED = "damaged"


class Partners:
    """``catalog.partners``: the objects each partner holds, and each partner's runs."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @property
    def _db(self) -> sqlite3.Connection:
        return self._catalog.db

    # -- objects ----------------------------------------------------------------------------
    def shipped(self, partner: str, run_id: str, objects: Iterable[tuple[str, int]]) -> None:
        """``partner`` now holds these contents (hash, size), shipped by run ``run_id``."""
        self._db.executemany(
            "INSERT OR REPLACE INTO offsite_objects (partner, hash, size, run_id) VALUES (?,?,?,?)",
            [(partner, digest, size, run_id) for digest, size in objects])

    def held(self, partner: str) -> set[str]:
        """The hash of every content ``partner`` holds (as far as no verification said otherwise)."""
        return {row[0] for row in self._db.execute(
            "SELECT hash FROM offsite_objects WHERE partner = ? AND lost IS NULL", (partner,))}

    def holds(self, partner: str, digest: str) -> bool:
        row = self._db.execute("SELECT 1 FROM offsite_objects WHERE partner = ? AND hash = ? AND lost IS NULL",
                               (partner, digest)).fetchone()
        return row is not None

    def found_lost(self, partner: str, lost: dict[str, str]) -> None:
        """A verification found these contents (hash -> missing | damaged) not intact at ``partner``."""
        self._db.executemany(
            "INSERT INTO offsite_objects (partner, hash, size, run_id, lost) VALUES (?, ?, 0, '', ?)"
            " ON CONFLICT (partner, hash) DO UPDATE SET lost = excluded.lost, verified_at = NULL",
            [(partner, digest, kind) for digest, kind in lost.items()])

    def lost(self, partner: str) -> dict[str, str]:
        """What verifications found missing or damaged at ``partner`` and no run shipped since."""
        return dict(self._db.execute(
            "SELECT hash, lost FROM offsite_objects WHERE partner = ? AND lost IS NOT NULL", (partner,)))

    def listed_not_held(self, partner: str) -> list[tuple]:
        """Listed records (path, size, mtime_ns, hash, department, category) whose content
        ``partner`` lacks."""
        return self._db.execute(
            "SELECT path, size, mtime_ns, hash, department, category FROM offsite_listed WHERE hash NOT IN"
            " (SELECT hash FROM offsite_objects WHERE partner = ? AND lost IS NULL)", (partner,)).fetchall()

    def all_verified(self, partner: str, at: str) -> None:
        """Every object ``partner`` holds was found intact."""
        self._db.execute("UPDATE offsite_objects SET verified_at = ? WHERE partner = ? AND lost IS NULL",
                         (at, partner))

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, partner: str, run_id: str, kind: str, started: str) -> None:
        self._db.execute("INSERT INTO offsite_runs (id, kind, started, result, partner) VALUES (?,?,?,?,?)",
                         (run_id, kind, started, "running", partner))

    def last_good_run(self, partner: str, upto: str | None = None) -> tuple[str, str | None] | None:
        """(id, verification) of the newest run to ``partner`` that succeeded (at or before run id
        ``upto`` when given); runs from before partners were told apart count for any partner."""
        row = self._db.execute(
            "SELECT id, verification FROM offsite_runs WHERE result = 'ok' AND (partner = ? OR partner IS NULL)"
            " AND id <= ? ORDER BY id DESC LIMIT 1", (partner, upto or "~")).fetchone()
        return (row[0], row[1]) if row else None
