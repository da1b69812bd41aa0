"""The off-site register: the runs to the partner site (``offsite_runs``), the content objects the
partner holds (``offsite_objects``) and what its inventory lists after the last run
(``offsite_listed``). The callers keep their transactions (``Catalog.transaction``): these methods
only read and write, so a run's inventory, what it ships and its counts stay one moment."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog

_RUN_COLUMNS = ("id, kind, started, ended, files, bytes, total_files, total_bytes, result, reason,"
                " verified_at, verification")
_LISTED_COLUMNS = "path, size, mtime_ns, hash, department, category"


def _shippable(alias: str = "") -> str:
    """SQL: a record the off-site copy ships — present, hashed, its verified copy on the mirror."""
    a = f"{alias}." if alias else ""
    return f"{a}removed_at IS NULL AND {a}hash IS NOT NULL AND {a}mirror_hash = {a}hash"


@dataclass(frozen=True, slots=True)
class OffsiteRun:
    """One off-site run as the register holds it."""

    id: str  # a UTC time: 20261121T180000.123Z
    kind: str  # incremental | full | snapshot
    started: str
    ended: str | None
    files: int  # shipped by this run
    bytes: int
    total_files: int  # listed in its inventory
    total_bytes: int
    result: str  # running | ok | failed
    reason: str | None
    verified_at: str | None
    verification: str | None  # ok | failed: …


class Shippable(NamedTuple):
    """A record as the partner's inventory lists it (before the retention is judged)."""

    path: bytes
    size: int
    mtime_ns: int
    hash: str
    department: str | None
    category: str | None


class Listable(Protocol):
    """Anything that describes a record as the inventory lists it (a ``Shippable``, an inventory entry)."""

    @property
    def path(self) -> bytes: ...
    @property
    def size(self) -> int: ...
    @property
    def mtime_ns(self) -> int: ...
    @property
    def hash(self) -> str: ...
    @property
    def department(self) -> str | None: ...
    @property
    def category(self) -> str | None: ...


class Totals(NamedTuple):
    """A count of records and their bytes."""

    files: int
    bytes: int


class OffsiteRegister:
    """``catalog.offsite``: the runs, the partner's objects and the listed state, by name."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @property
    def _db(self) -> sqlite3.Connection:
        return self._catalog.db

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, run_id: str, kind: str, started: str) -> None:
        self._db.execute("INSERT INTO offsite_runs (id, kind, started, result) VALUES (?,?,?,?)",
                         (run_id, kind, started, "running"))

    def end_run(self, run_id: str, ended: str, ok: bool, reason: str | None, shipped: Totals,
                listed: Totals) -> None:
        """The run's outcome: what it shipped and what its inventory lists."""
        self._db.execute(
            "UPDATE offsite_runs SET ended = ?, files = ?, bytes = ?, total_files = ?, total_bytes = ?,"
            " result = ?, reason = ? WHERE id = ?",
            (ended, shipped.files, shipped.bytes, listed.files, listed.bytes, "ok" if ok else "failed",
             reason, run_id))

    def latest_run(self) -> OffsiteRun | None:
        """The newest run, whatever its result."""
        row = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM offsite_runs ORDER BY id DESC LIMIT 1").fetchone()
        return OffsiteRun(*row) if row else None

    def last_good_run(self) -> OffsiteRun | None:
        """The newest run that succeeded (None: nothing shipped yet)."""
        row = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM offsite_runs WHERE result = 'ok'"
                               " ORDER BY id DESC LIMIT 1").fetchone()
        return OffsiteRun(*row) if row else None

    def last_good_start_by_kind(self) -> dict[str, str]:
        """kind (incremental, full, snapshot) -> when its latest successful run started."""
        return dict(self._db.execute(
            "SELECT kind, max(started) FROM offsite_runs WHERE result = 'ok' GROUP BY kind").fetchall())

    def set_verification(self, run_id: str, at: str, verdict: str) -> None:
        self._db.execute("UPDATE offsite_runs SET verified_at = ?, verification = ? WHERE id = ?",
                         (at, verdict, run_id))

    # -- the partner's objects --------------------------------------------------------------
    def shipped(self, run_id: str, objects: Iterable[tuple[str, int]]) -> None:
        """The partner now holds these contents (hash, size), shipped by run ``run_id``."""
        self._db.executemany("INSERT OR REPLACE INTO offsite_objects (hash, size, run_id) VALUES (?,?,?)",
                             [(digest, size, run_id) for digest, size in objects])

    def held(self) -> set[str]:
        """The hash of every content the partner holds."""
        return {row[0] for row in self._db.execute("SELECT hash FROM offsite_objects")}

    def holds(self, digest: str) -> bool:
        row = self._db.execute("SELECT 1 FROM offsite_objects WHERE hash = ?", (digest,)).fetchone()
        return row is not None

    def objects_verified(self, at: str) -> None:
        """Every object the partner holds was found intact (a cryptcheck of them all)."""
        self._db.execute("UPDATE offsite_objects SET verified_at = ?", (at,))

    # -- what the partner's inventory lists -------------------------------------------------
    def shippable(self) -> list[Shippable]:
        """Every present record whose verified copy is on the mirror (the off-site copy's source), by path."""
        return [Shippable(*row) for row in self._db.execute(
            f"SELECT {_LISTED_COLUMNS} FROM files WHERE {_shippable()} ORDER BY path")]

    def changed_since_listed(self) -> list[Shippable]:
        """Shippable records that are not listed, or listed otherwise than they are now, by path."""
        return [Shippable(*row) for row in self._db.execute(
            "SELECT f.path, f.size, f.mtime_ns, f.hash, f.department, f.category FROM files f"
            " LEFT JOIN offsite_listed l ON l.path = f.path"
            f" WHERE {_shippable('f')}"
            " AND (l.path IS NULL OR l.hash != f.hash OR l.size != f.size OR l.mtime_ns != f.mtime_ns"
            "      OR l.department IS NOT f.department OR l.category IS NOT f.category)"
            " ORDER BY f.path")]

    def gone_since_listed(self) -> list[bytes]:
        """Listed paths that are no longer a shippable record, in order."""
        return [row[0] for row in self._db.execute(
            "SELECT path FROM offsite_listed l WHERE NOT EXISTS"
            f" (SELECT 1 FROM files f WHERE f.path = l.path AND {_shippable('f')})"
            " ORDER BY path")]

    def listed_count(self) -> int:
        return self._db.execute("SELECT count(*) FROM offsite_listed").fetchone()[0]

    def list_all(self) -> None:
        """Listed becomes exactly the shippable records (a full inventory)."""
        self._db.execute("DELETE FROM offsite_listed")
        self._db.execute(f"INSERT INTO offsite_listed SELECT {_LISTED_COLUMNS} FROM files"
                         f" WHERE {_shippable()}")

    def list_changes(self, removed: Iterable[bytes], changed: Iterable[Listable]) -> None:
        """Apply a delta inventory to the listed state: ``removed`` paths go, ``changed`` records
        replace theirs."""
        self._db.executemany("DELETE FROM offsite_listed WHERE path = ?", [(p,) for p in removed])
        self._db.executemany(
            f"INSERT OR REPLACE INTO offsite_listed ({_LISTED_COLUMNS}) VALUES (?,?,?,?,?,?)",
            [(e.path, e.size, e.mtime_ns, e.hash, e.department, e.category) for e in changed])

    def listed_totals(self) -> Totals:
        return Totals(*self._db.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM offsite_listed").fetchone())

    def listed_per_department(self) -> dict[str | None, Totals]:
        return {d: Totals(n, b) for d, n, b in self._db.execute(
            "SELECT department, count(*), sum(size) FROM offsite_listed GROUP BY department")}

    def listed_not_held(self) -> list[Shippable]:
        """Listed records whose content the partner lacks (a delta's base was not completely shipped)."""
        return [Shippable(*row) for row in self._db.execute(
            f"SELECT {_LISTED_COLUMNS} FROM offsite_listed"
            " WHERE hash NOT IN (SELECT hash FROM offsite_objects)")]
