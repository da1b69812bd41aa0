"""The catalog: what dangan knows of every record, in SQLite (WAL) under ``state_dir``.

Three tables carry the domain:

* ``files`` — one row per record: byte-exact relative path, size, mtime_ns, inode, content hash,
  the content facts the rules read (so an unchanged file is never re-read), department, category,
  first seen, last verified;
* ``violations`` — each rule finding with the time first seen and the time fixed;
* ``ledger`` — an append-only register of events in the archive's own words (收进, 修改, 移出 …);
  triggers refuse UPDATE and DELETE on it.

The view ``file_status`` gives the "one row per file with its open violations" picture.
The schema has a version (``PRAGMA user_version``) and forward migrations from day one.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from dangan.config.errors import CatalogError
from dangan.config.messages import t
from dangan.store.catalog.assessment import AssessmentRegister
from dangan.store.catalog.audits import Audits
from dangan.store.catalog.backup import CatalogBackup
from dangan.store.catalog.drills import DrillRegister
from dangan.store.catalog.gauges import Gauges
from dangan.store.catalog.links import Links
from dangan.store.catalog.offsite import OffsiteRegister
from dangan.store.catalog.readings import Readings
from dangan.store.catalog.shelf import Shelf
from dangan.store.catalog.weekly import Weekly

from dangan.store.catalog import health

# Each entry upgrades the schema from version i to i+1. Append, never edit a released step.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE files (
        path          BLOB PRIMARY KEY,   -- relative to the archive root, exact bytes
        parent        BLOB NOT NULL,      -- the folder part of path (b'' at the top): per-folder lookups
        size          INTEGER NOT NULL,
        mtime_ns      INTEGER NOT NULL,
        inode         INTEGER NOT NULL,
        hash          TEXT,
        hash_algorithm TEXT,
        facts         TEXT,               -- JSON: what the rules need from the content
        department    TEXT,
        category      TEXT,
        first_seen    TEXT NOT NULL,
        last_verified TEXT,
        mirror_hash   TEXT,               -- hash of the copy on the mirror disk (NULL: none yet)
        removed_at    TEXT                -- gone from the archive, not yet moved aside on the mirror
    ) WITHOUT ROWID;
    CREATE INDEX files_hash ON files(hash);
    CREATE INDEX files_parent ON files(parent);
    CREATE INDEX files_removed ON files(removed_at) WHERE removed_at IS NOT NULL;
    CREATE INDEX files_mirror_hash ON files(mirror_hash);  -- restore: where does this content live?

    -- Previous versions kept on the mirror disk (never deleted without approval).
    CREATE TABLE versions (
        id          INTEGER PRIMARY KEY,
        path        BLOB NOT NULL,        -- the record's path when it was current
        hash        TEXT,
        size        INTEGER NOT NULL,
        mtime_ns    INTEGER NOT NULL,
        kept_at     TEXT NOT NULL,        -- when it stopped being current
        reason      TEXT NOT NULL,        -- change | removal
        location    BLOB NOT NULL         -- relative to <mirror_root>/.dangan/versions
    );
    CREATE INDEX versions_path ON versions(path);
    CREATE INDEX versions_hash ON versions(hash);

    CREATE TABLE violations (
        id         INTEGER PRIMARY KEY,
        path       BLOB NOT NULL,
        rule       TEXT NOT NULL,
        severity   TEXT NOT NULL,
        detail     TEXT NOT NULL,         -- JSON arguments: the message is rendered in any language
        first_seen TEXT NOT NULL,
        fixed_at   TEXT
    );
    CREATE UNIQUE INDEX violations_open ON violations(path, rule) WHERE fixed_at IS NULL;

    CREATE TABLE ledger (
        id     INTEGER PRIMARY KEY AUTOINCREMENT,
        at     TEXT NOT NULL,
        event  TEXT NOT NULL,
        path   BLOB,
        detail TEXT
    );
    CREATE TRIGGER ledger_append_only_update BEFORE UPDATE ON ledger
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER ledger_append_only_delete BEFORE DELETE ON ledger
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    -- Off-site runs to the partner site and what the partner holds (content-addressed objects).
    CREATE TABLE offsite_runs (
        id           TEXT PRIMARY KEY,    -- run id, a UTC time: 20261121T180000.123Z
        kind         TEXT NOT NULL,       -- incremental | full | snapshot
        started      TEXT NOT NULL,
        ended        TEXT,
        files        INTEGER NOT NULL DEFAULT 0,  -- shipped by this run
        bytes        INTEGER NOT NULL DEFAULT 0,
        total_files  INTEGER NOT NULL DEFAULT 0,  -- listed in its manifest
        total_bytes  INTEGER NOT NULL DEFAULT 0,
        result       TEXT NOT NULL,       -- running | ok | failed
        reason       TEXT,
        verified_at  TEXT,
        verification TEXT                 -- ok | failed: … (what --verify found)
    );
    -- Fixity audits and reports (the summary as JSON; problems per file in the summary).
    CREATE TABLE audits (
        id       INTEGER PRIMARY KEY,
        at       TEXT NOT NULL,
        seconds  REAL NOT NULL,
        problems INTEGER NOT NULL,
        summary  TEXT NOT NULL
    );
    CREATE TABLE disk_samples (
        at    TEXT NOT NULL,
        disk  TEXT NOT NULL,              -- archive | mirror
        total INTEGER NOT NULL,
        free  INTEGER NOT NULL
    );

    -- Restore drills: a sample restored from each copy, verified, timed.
    CREATE TABLE drills (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        source      TEXT NOT NULL,        -- mirror | offsite
        files       INTEGER NOT NULL,
        bytes       INTEGER NOT NULL,
        seconds     REAL NOT NULL,
        ok          INTEGER NOT NULL,
        projected_seconds REAL,           -- a full restore at the same pace
        detail      TEXT
    );
    CREATE TABLE offsite_objects (
        hash        TEXT PRIMARY KEY,
        size        INTEGER NOT NULL,
        run_id      TEXT NOT NULL,
        verified_at TEXT
    ) WITHOUT ROWID;

    CREATE VIEW file_status AS
        SELECT f.*, (SELECT group_concat(v.rule, ',') FROM violations v
                     WHERE v.path = f.path AND v.fixed_at IS NULL) AS open_violations
        FROM files f WHERE f.removed_at IS NULL;
    """,
    """
    -- What the partner's inventory lists after the last off-site run that succeeded (the run is
    -- meta 'offsite_listed'): the next run ships only the difference as a delta inventory.
    CREATE TABLE offsite_listed (
        path       BLOB PRIMARY KEY,
        size       INTEGER NOT NULL,
        mtime_ns   INTEGER NOT NULL,
        hash       TEXT NOT NULL,
        department TEXT,
        category   TEXT
    ) WITHOUT ROWID;
    """,
    """
    -- Which partner holds what (issue 12.5): the shipped-objects knowledge is kept per partner
    -- (backup/offsite.py: partner_identity), so a new partner gets everything, and what a
    -- verification found missing or damaged is shipped again, first. Objects shipped before
    -- partners were told apart belong to no partner (''): a run checks them again.
    ALTER TABLE offsite_objects RENAME TO offsite_objects_unattributed;
    CREATE TABLE offsite_objects (
        partner     TEXT NOT NULL,        -- the partner's identity ('' : shipped before it was kept)
        hash        TEXT NOT NULL,
        size        INTEGER NOT NULL,
        run_id      TEXT NOT NULL,
        verified_at TEXT,
        lost        TEXT,                 -- NULL: held; missing | damaged: what a verification found
        PRIMARY KEY (partner, hash)
    ) WITHOUT ROWID;
    INSERT INTO offsite_objects (partner, hash, size, run_id, verified_at)
        SELECT '', hash, size, run_id, verified_at FROM offsite_objects_unattributed;
    DROP TABLE offsite_objects_unattributed;
    ALTER TABLE offsite_runs ADD COLUMN partner TEXT;  -- NULL: a run from before partners were told apart
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class Event(StrEnum):
    """Ledger events, named as the seeds' registers name them."""

    INTAKE = "intake"  # 收进
    CHANGE = "change"  # 修改
    MOVE = "move"  # 移动
    REMOVAL = "removal"  # 移出
    RESTORE = "restore"  # 恢复
    REPAIR = "repair"  # 修复


@dataclass(slots=True)
class FileRecord:
    """One record as the catalog knows it."""

    path: bytes
    size: int
    mtime_ns: int
    inode: int
    hash: str | None
    hash_algorithm: str | None
    facts: str | None  # JSON, decoded only by those who need it
    department: str | None
    category: str | None
    first_seen: str
    last_verified: str | None
    mirror_hash: str | None = None
    removed_at: str | None = None

    @property
    def mirrored(self) -> bool:
        return self.mirror_hash is not None and self.mirror_hash == self.hash


_RECORD_COLUMNS = ("path, size, mtime_ns, inode, hash, hash_algorithm, facts, department, category, first_seen,"
                   " last_verified, mirror_hash, removed_at")


def parent_of(path: bytes) -> bytes:
    return path.rpartition(b"/")[0]


@dataclass(frozen=True, slots=True)
class StoredViolation:
    path: bytes
    rule: str
    severity: str
    detail: str
    first_seen: str


def now() -> str:
    """Catalog timestamps: ISO 8601 in UTC, sortable as text."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _under(column: str, prefixes: list[bytes] | None) -> tuple[str, list[bytes]]:
    """SQL condition for "path equals or lies below one of prefixes" (None: everything)."""
    if not prefixes:
        return "1", []
    clauses, params = [], []
    for prefix in prefixes:
        # Byte ranges: every path below p sorts between p + b'/' and p + b'0' ('/' + 1).
        clauses.append(f"({column} = ? OR ({column} >= ? AND {column} < ?))")
        params += [prefix, prefix + b"/", prefix + b"0"]
    return "(" + " OR ".join(clauses) + ")", params


def _refuse_symlinks(path: Path) -> None:
    """SQLite opens its files by name: a symlink planted at the catalog, its WAL or its shared-memory
    file (or the folder holding them) would have it write elsewhere. Refused, in words."""
    for candidate in (path.parent, path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.is_symlink():
            raise CatalogError(t("catalog.symlink", path=candidate))


class Catalog:
    """The SQLite catalog of one archive. Use as a context manager or call :meth:`close`.

    Only ``create=True`` (``dangan init`` and ``init --adopt``) may start a new, empty catalog: any
    other command that finds none, or a file of 0 bytes, refuses, because a fresh catalog would lose
    the history and later replace its copy on the mirror disk (``copy``, named in the message). Used
    as a context manager, SQLite's "malformed"/"not a database" becomes a :class:`CatalogError` that
    names that copy and ``dangan init --adopt`` as the way back."""

    def __init__(self, path: Path, *, create: bool = False, copy: Path | None = None) -> None:
        self.path = path
        self.copy = copy
        _refuse_symlinks(path)
        health.require_present(path, copy, create)
        try:
            if create:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            else:
                health.require_writable(path)
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise CatalogError(t("catalog.unusable", path=path, detail=exc)) from None
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            health.ensure_lineage(self)
        except sqlite3.Error as exc:
            self.db.close()
            raise health.explained(exc, path, copy) or CatalogError(
                t("catalog.unusable", path=path, detail=exc)) from None
        except BaseException:
            self.db.close()
            raise

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self.close()
        if isinstance(exc, sqlite3.Error):
            clear = health.explained(exc, self.path, self.copy)
            if clear is not None:
                raise clear from None

    def close(self) -> None:
        self.db.close()

    # -- schema -----------------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        found = self.version
        if found > SCHEMA_VERSION:
            raise CatalogError(t("catalog.newer_schema", path=self.path, found=found, known=SCHEMA_VERSION))
        for target in range(found + 1, SCHEMA_VERSION + 1):
            # executescript() commits whatever is pending first, so the transaction lives
            # inside the script: a failing step leaves the previous version intact.
            try:
                self.db.executescript(
                    f"BEGIN IMMEDIATE; {MIGRATIONS[target - 1]}; PRAGMA user_version = {target}; COMMIT;"
                )
            except sqlite3.Error:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- files ------------------------------------------------------------------------------
    def records(self, prefixes: list[bytes] | None = None) -> dict[bytes, FileRecord]:
        """Every present record below ``prefixes`` (all when None), keyed by path."""
        where, params = _under("path", prefixes)
        rows = self.db.execute(f"SELECT {_RECORD_COLUMNS} FROM files WHERE removed_at IS NULL AND {where}", params)
        return {row[0]: FileRecord(*row) for row in rows}

    def record(self, path: bytes) -> FileRecord | None:
        """One record, present or removed-but-not-yet-applied."""
        row = self.db.execute(f"SELECT {_RECORD_COLUMNS} FROM files WHERE path = ?", (path,)).fetchone()
        return FileRecord(*row) if row else None

    def in_folder(self, folder: bytes) -> dict[bytes, tuple[int, int, int, bool, bool]]:
        """The records directly in ``folder``: path -> (size, mtime_ns, inode, mirrored, removed).

        Lean on purpose: a reconcile of a large archive holds one folder's rows at a time."""
        rows = self.db.execute(
            "SELECT path, size, mtime_ns, inode, mirror_hash IS NOT NULL AND mirror_hash = hash,"
            " removed_at IS NOT NULL FROM files WHERE parent = ?",
            (folder,),
        )
        return {row[0]: row[1:] for row in rows}

    def folders(self) -> list[bytes]:
        return [row[0] for row in self.db.execute("SELECT DISTINCT parent FROM files")]

    def put(self, records: Iterable[FileRecord]) -> None:
        self.db.executemany(
            f"INSERT OR REPLACE INTO files (parent, {_RECORD_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                (parent_of(r.path), r.path, r.size, r.mtime_ns, r.inode, r.hash, r.hash_algorithm, r.facts,
                 r.department, r.category, r.first_seen, r.last_verified, r.mirror_hash, r.removed_at)
                for r in records
            ),
        )

    def register(self, path: bytes, st: os.stat_result, digest: str, facts: dict, algorithm: str, at: str,
                 moved_from: FileRecord | None = None) -> FileRecord:
        """Record what is now at ``path`` and write the ledger event it means:
        收进 (new), 修改 (new content), 移动 (known content from ``moved_from``), or none (same)."""
        old = self.record(path)
        present = old is not None and old.removed_at is None
        if moved_from is not None:
            event = (Event.MOVE, path, {"from": moved_from.path.decode("utf-8", "backslashreplace"),
                                        "from_base64": base64.b64encode(moved_from.path).decode("ascii"),
                                        "hash": digest})
            self.mark_removed([moved_from.path], at)
        elif not present:
            event = (Event.INTAKE, path, {"hash": digest})
        elif old.hash != digest:
            event = (Event.CHANGE, path, {"hash": digest, "previous": old.hash})
        else:
            event = None
        parts = [p.decode("utf-8", "backslashreplace") for p in path.split(b"/")[:-1]]
        record = FileRecord(
            path, st.st_size, st.st_mtime_ns, st.st_ino, digest, algorithm, json.dumps(facts, ensure_ascii=False),
            department=parts[0] if parts else None,
            category=parts[1] if len(parts) > 1 else None,
            first_seen=moved_from.first_seen if moved_from else (old.first_seen if present else at),
            last_verified=moved_from.last_verified if moved_from else at,  # a move re-reads nothing
            mirror_hash=old.mirror_hash if present else None,  # what the mirror holds at this path
        )
        self.put([record])
        if event:
            self.record_events([event], at)
        return record

    def mark_removed(self, paths: Iterable[bytes], at: str) -> None:
        """Gone from the archive. A row whose file was never mirrored goes at once; the others stay
        (marked) until the mirror has moved its copy aside, so no restart can forget that step."""
        for path in paths:
            self.db.execute("DELETE FROM files WHERE path = ? AND mirror_hash IS NULL", (path,))
            self.db.execute("UPDATE files SET removed_at = ? WHERE path = ?", (at, path))

    def forget(self, paths: Iterable[bytes]) -> None:
        self.db.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in paths))

    def set_mirrored(self, path: bytes, digest: str | None) -> None:
        self.db.execute("UPDATE files SET mirror_hash = ? WHERE path = ?", (digest, path))

    def restat(self, updates: Iterable[tuple[bytes, os.stat_result]]) -> None:
        """Same content, found with another size/mtime/inode (a copied or restored disk): take those."""
        self.db.executemany("UPDATE files SET size = ?, mtime_ns = ?, inode = ? WHERE path = ?",
                            ((st.st_size, st.st_mtime_ns, st.st_ino, path) for path, st in updates))

    def pending_removals(self) -> list[bytes]:
        return [row[0] for row in self.db.execute("SELECT path FROM files WHERE removed_at IS NOT NULL")]

    def unmirrored(self) -> list[bytes]:
        return [row[0] for row in self.db.execute(
            "SELECT path FROM files WHERE removed_at IS NULL AND (mirror_hash IS NULL OR mirror_hash != hash)")]

    def add_version(self, path: bytes, hash: str | None, size: int, mtime_ns: int, kept_at: str, reason: str,
                    location: bytes) -> None:
        self.db.execute(
            "INSERT INTO versions (path, hash, size, mtime_ns, kept_at, reason, location) VALUES (?,?,?,?,?,?,?)",
            (path, hash, size, mtime_ns, kept_at, reason, location),
        )

    def versions(self, path: bytes) -> list[tuple]:
        return self.db.execute(
            "SELECT hash, size, mtime_ns, kept_at, reason, location FROM versions WHERE path = ? ORDER BY id",
            (path,)).fetchall()

    def paths_with_hash(self, digest: str) -> list[bytes]:
        return [row[0] for row in self.db.execute(
            "SELECT path FROM files WHERE hash = ? AND size > 0 AND removed_at IS NULL ORDER BY path", (digest,))]

    def duplicate_hashes(self) -> dict[str, list[bytes]]:
        """Hashes held by more than one non-empty record, with their paths in order."""
        rows = self.db.execute(
            "SELECT hash, path FROM files WHERE size > 0 AND removed_at IS NULL AND hash IN"
            " (SELECT hash FROM files WHERE size > 0 AND hash IS NOT NULL AND removed_at IS NULL"
            "  GROUP BY hash HAVING count(*) > 1)"
            " ORDER BY hash, path"
        )
        groups: dict[str, list[bytes]] = {}
        for h, path in rows:
            groups.setdefault(h, []).append(path)
        return groups

    # -- ledger -----------------------------------------------------------------------------
    def record_events(self, events: Iterable[tuple[Event, bytes | None, dict | None]], at: str | None = None) -> None:
        stamp = at or now()
        self.db.executemany(
            "INSERT INTO ledger (at, event, path, detail) VALUES (?,?,?,?)",
            ((stamp, str(e), p, json.dumps(d, ensure_ascii=False) if d else None) for e, p, d in events),
        )

    def events(self, since: str | None = None) -> list[tuple[str, str, bytes | None, str | None]]:
        return self.db.execute(
            "SELECT at, event, path, detail FROM ledger WHERE at >= ? ORDER BY id", (since or "",)
        ).fetchall()

    # -- violations -------------------------------------------------------------------------
    def open_violations(self, prefixes: list[bytes] | None = None,
                        exact: bool = False) -> dict[tuple[bytes, str], StoredViolation]:
        if exact:
            where, params = "path IN (%s)" % ",".join("?" * len(prefixes)), list(prefixes)
        else:
            where, params = _under("path", prefixes)
        rows = self.db.execute(
            f"SELECT path, rule, severity, detail, first_seen FROM violations WHERE fixed_at IS NULL AND {where}",
            params,
        )
        return {(r[0], r[1]): StoredViolation(*r) for r in rows}

    def sync_violations(
        self, found: Iterable[tuple[bytes, str, str, str]], prefixes: list[bytes] | None, at: str | None = None,
        paths: Iterable[bytes] | None = None, rules: Iterable[str] | None = None,
    ) -> dict[tuple[bytes, str], str]:
        """Make the open violations in scope equal ``found`` (path, rule, severity, detail).

        The scope is everything below ``prefixes`` (None: all), or exactly ``paths`` when given,
        optionally only ``rules``. New findings are opened, vanished ones closed with the time
        fixed, the rest keep their first-seen time. Returns the first-seen time of each finding.
        """
        stamp = at or now()
        if paths is not None:
            current = {}
            for path in set(paths):
                current.update(self.open_violations([path], exact=True))
        else:
            current = self.open_violations(prefixes)
        if rules is not None:
            wanted = set(rules)
            current = {k: v for k, v in current.items() if k[1] in wanted}
        first_seen: dict[tuple[bytes, str], str] = {}
        for path, rule, severity, detail in found:
            key = (path, rule)
            old = current.pop(key, None)
            if old is None:
                self.db.execute(
                    "INSERT INTO violations (path, rule, severity, detail, first_seen) VALUES (?,?,?,?,?)",
                    (path, rule, severity, detail, stamp),
                )
                first_seen[key] = stamp
            else:
                if (old.severity, old.detail) != (severity, detail):
                    self.db.execute(
                        "UPDATE violations SET severity = ?, detail = ? WHERE path = ? AND rule = ?"
                        " AND fixed_at IS NULL",
                        (severity, detail, path, rule),
                    )
                first_seen[key] = old.first_seen
        self.db.executemany(
            "UPDATE violations SET fixed_at = ? WHERE path = ? AND rule = ? AND fixed_at IS NULL",
            ((stamp, path, rule) for path, rule in current),
        )
        return first_seen

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def delete_meta(self, key: str) -> None:
        self.db.execute("DELETE FROM meta WHERE key = ?", (key,))

    # -- the further registers (one module of this package each) -----------------------------
    @cached_property
    def offsite(self) -> OffsiteRegister:
        return OffsiteRegister(self)

    @cached_property
    def readings(self) -> Readings:
        return Readings(self)

    @cached_property
    def drills(self) -> DrillRegister:
        return DrillRegister(self)

    @cached_property
    def audits(self) -> Audits:
        """The fixity audits, the records' last-verified times, the last inventory's totals."""
        return Audits(self)

    @cached_property
    def weekly(self) -> Weekly:
        """What the weekly report reads: disk samples, the week's register, the latest drills."""
        return Weekly(self)

    @cached_property
    def gauges(self) -> Gauges:
        return Gauges(self)

    @cached_property
    def shelf(self) -> Shelf:
        return Shelf(self)

    @cached_property
    def backup(self) -> CatalogBackup:
        return CatalogBackup(self)

    @cached_property
    def links(self) -> Links:
        return Links(self)

    @cached_property
    def assessment(self) -> AssessmentRegister:
        """What the 过程考核 scorecard and the department digests read (issue 17)."""
        return AssessmentRegister(self)

    @cached_property
    def lineage(self) -> "health.Lineage":
        """This catalog's history against its copy on the mirror: generations, integrity, the copy."""
        return health.Lineage(self)
