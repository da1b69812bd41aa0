"""What the registers (归档文件目录, 移交清册, 登记统计, 鉴定清单) read from the catalog, and the one thing
they keep in it: the 件号 assigned to a record of a closed year, so that a later arrival never renumbers
a directory already printed and signed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog


class RegisterRow(NamedTuple):
    """One present record as a register lists it."""

    path: bytes
    size: int
    mtime_ns: int
    hash: str | None
    facts: dict
    department: str | None
    category: str | None
    first_seen: str


class LedgerMove(NamedTuple):
    """One ledger event with the size of the content it names (0 when the catalog no longer knows it)."""

    at: str
    event: str
    path: bytes | None
    size: int
    copy: str | None  # a repair's copy (primary | mirror); None for other events


class Entry(NamedTuple):
    """One record's directory entry in the scratch table: its number group (year/retention/department),
    whether that year has ended (numbers kept), the sort keys, and its cells (JSON, for the writer)."""

    grp: str
    closed: bool
    year: int
    rank: int  # the retention period's place: 永久, 长期, 短期
    category: str
    task: str
    day: str
    name: str
    path: bytes
    cells: str


# A per-connection scratch table (SQLite's temp database, spilled to disk when large): the directory is
# sorted and numbered there, so a million records never sit in Python's memory at once.
_SCRATCH = """CREATE TEMP TABLE IF NOT EXISTS register_scratch (grp TEXT, closed INTEGER, year INTEGER,
    rank INTEGER, category TEXT, task TEXT, day TEXT, name TEXT, path BLOB, cells TEXT)"""


class Registers:
    """``catalog.registers``. Writes belong inside the caller's ``catalog.transaction()``."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @property
    def _db(self) -> sqlite3.Connection:
        return self._catalog.db

    def departments(self) -> list[str]:
        """The departments that hold present records, in order."""
        return [row[0] for row in self._db.execute(
            "SELECT DISTINCT department FROM files WHERE removed_at IS NULL AND department IS NOT NULL"
            " ORDER BY department")]

    def rows(self, department: str, arrived: tuple[str, str] = ("", "~")) -> Iterator[RegisterRow]:
        """The present records of one department (that arrived — first seen — in [from, to)), by path; a
        cursor, read one row at a time."""
        cursor = self._db.execute(
            "SELECT path, size, mtime_ns, hash, facts, department, category, first_seen FROM files"
            " WHERE removed_at IS NULL AND department = ? AND first_seen >= ? AND first_seen < ? ORDER BY path",
            (department, *arrived))
        for path, size, mtime_ns, digest, facts, dept, category, first_seen in cursor:
            yield RegisterRow(path, size, mtime_ns, digest, json.loads(facts) if facts else {}, dept, category,
                              first_seen)

    def open_findings(self, department: str) -> dict[bytes, list[str]]:
        """path -> the rules of its open findings, for the records of one department."""
        prefix = department.encode("utf-8")
        found: dict[bytes, list[str]] = {}
        for path, rule in self._db.execute(
                "SELECT path, rule FROM violations WHERE fixed_at IS NULL AND path >= ? AND path < ?"
                " ORDER BY path, rule", (prefix + b"/", prefix + b"0")):
            found.setdefault(path, []).append(rule)
        return found

    # -- 件号 kept once assigned ---------------------------------------------------------------
    def highest(self, group: str) -> int:
        """The highest 件号 ever assigned in ``group`` (a removed record's number is never given again)."""
        return self._db.execute("SELECT coalesce(max(number), 0) FROM register_numbers WHERE grp = ?",
                                (group,)).fetchone()[0]

    def assign(self, group: str, numbered: Iterable[tuple[bytes, int]], at: str) -> None:
        """Keep these 件号 (a record that moved to another group gets its new number here)."""
        self._db.executemany("INSERT OR REPLACE INTO register_numbers (path, grp, number, assigned_at)"
                             " VALUES (?,?,?,?)", ((path, group, number, at) for path, number in numbered))

    # -- the directory, sorted and numbered in the scratch table -------------------------------
    def stage(self, entries: Iterable[Entry]) -> None:
        """Fill the scratch table with ``entries`` (replacing what it held); they may be made while the
        caller reads :meth:`rows` — one deferred transaction, which writes only the temp database."""
        self._db.execute(_SCRATCH)
        self._db.execute("DELETE FROM temp.register_scratch")
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT INTO temp.register_scratch VALUES (?,?,?,?,?,?,?,?,?,?)", entries)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def number_staged(self, at: str, chunk: int = 10_000) -> None:
        """Give the staged records of ended years that have no 件号 yet the next numbers of their group, by
        date then name. Call inside ``catalog.transaction()``."""
        groups = [row[0] for row in self._db.execute(
            "SELECT DISTINCT grp FROM temp.register_scratch WHERE closed ORDER BY grp").fetchall()]
        for group in groups:
            following = self.highest(group)
            unnumbered = self._db.execute(
                "SELECT s.path FROM temp.register_scratch s WHERE s.grp = ? AND NOT EXISTS"
                " (SELECT 1 FROM register_numbers n WHERE n.path = s.path AND n.grp = s.grp)"
                " ORDER BY s.day, s.name, s.path", (group,))
            while paths := [row[0] for row in unnumbered.fetchmany(chunk)]:
                self.assign(group, ((path, following + i) for i, path in enumerate(paths, 1)), at)
                following += len(paths)

    def staged(self, category: str | None = None, year: int | None = None) -> Iterator[tuple[int, Entry]]:
        """(件号, entry) in the directory's order: year, retention, category, task item, number. An ended
        year's numbers are the kept ones; an open year is numbered by date then name, afresh. The filters
        apply after numbering, so they never renumber."""
        cursor = self._db.execute(
            "SELECT * FROM (SELECT CASE WHEN s.closed THEN n.number ELSE row_number() OVER"
            "  (PARTITION BY s.grp ORDER BY s.day, s.name, s.path) END AS number, s.*"
            "  FROM temp.register_scratch s LEFT JOIN register_numbers n ON n.path = s.path AND n.grp = s.grp)"
            " WHERE (? IS NULL OR category = ?) AND (? IS NULL OR year = ?)"
            " ORDER BY year, rank, category, task, number", (category, category, year, year))
        try:
            for number, *entry in cursor:
                yield number, Entry(*entry)
        finally:
            cursor.close()  # a writer that stopped early leaves no statement holding the scratch table

    def unstage(self) -> None:
        self._db.execute("DROP TABLE IF EXISTS temp.register_scratch")

    # -- the ledger with sizes ---------------------------------------------------------------
    def ledger(self, since: str = "", until: str = "~") -> Iterator[LedgerMove]:
        """The ledger's events in [since, until) with the size of the content each names: the hash in its
        detail looked up among the records and the kept versions (a removal: the version kept for it)."""
        sizes = ("(SELECT size FROM files WHERE hash = json_extract(l.detail, '$.hash') LIMIT 1),"
                 " (SELECT size FROM versions WHERE hash = json_extract(l.detail, '$.hash') LIMIT 1)")
        cursor = self._db.execute(
            f"SELECT l.at, l.event, l.path, coalesce({sizes}, 0), json_extract(l.detail, '$.copy')"
            " FROM ledger l WHERE l.at >= ? AND l.at < ? ORDER BY l.id", (since, until))
        for row in cursor:
            yield LedgerMove(*row)
