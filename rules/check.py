"""``dangan check``: walk the archive, bring the catalog up to date, apply the filing rules.

Only files whose size, mtime or inode changed since the catalog last saw them are read (hashed
and inspected, on all cores when there are many); everything else is judged from the catalog.
A file that vanished at one path and appeared at another with the same inode, size and mtime
is a move, not a removal plus an intake. A folder that cannot be listed removes nothing.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from typing import Any

from dangan.config.messages import t
from dangan.config.schema import Config

from dangan.rules import inspector
from dangan.store.catalog import Catalog, Event, FileRecord, now
from dangan.store.layout import Layout
from dangan.rules.rulebook import ERROR, Rulebook, Violation
from dangan.store.tree import Folder, Skipped, Tree, below_any
from dangan.store.progress import Progress
from dangan.store.workers import parallel_map



@dataclass
class CheckResult:
    """What one check found: counts, every violation (sorted), and what was skipped."""

    files_checked: int = 0
    files_read: int = 0
    violations: list[Violation] = field(default_factory=list)
    first_seen: dict[tuple[bytes, str], str] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(v.severity == ERROR for v in self.violations)

    @property
    def warnings(self) -> int:
        return len(self.violations) - self.errors


@dataclass(slots=True)
class _Seen:
    """A file the walk found whose record is missing or stale: it is read before it is judged."""

    path: bytes
    st: os.stat_result
    record: FileRecord | None = None
    facts: dict[str, Any] | None = None


@dataclass
class _Pass:
    """What one check keeps while it streams the walk against the catalog, folder by folder: only
    what is not settled when its folder has been seen — files to read, records gone from their
    folder, folders whose rules wait for those reads — and the violations found, never a row per
    unchanged record (a million of them would not fit a small server's memory)."""

    stamp: str = ""
    batch: int = 0  # read and file the set-aside files every this many (0: once, after the walk)
    files: int = 0
    read: int = 0
    moved_from: set[bytes] = field(default_factory=set)
    todo: list[_Seen] = field(default_factory=list)
    gone: list[FileRecord] = field(default_factory=list)
    waiting: list[tuple[Folder, dict[bytes, FileRecord]]] = field(default_factory=list)
    listed: set[bytes] = field(default_factory=set)  # the folders walked (a few per hundred records)
    found: list[Violation] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unlisted: list[bytes] = field(default_factory=list)


# Files read and filed at once by a first check: bounds its memory (and the pool's queued jobs)
# while keeping a worker pool's start-up rare.
READ_BATCH = 20_000


class Checker:
    """Runs checks of one archive against its catalog."""

    def __init__(self, config: Config, catalog: Catalog, layout: Layout, progress: bool = False) -> None:
        self.config = config
        self.progress = progress  # the files read shown on stderr (a bar, or plain lines in a log)
        self.catalog = catalog
        self.layout = layout
        self.tree = Tree(self.layout.archive_root, config.rules.ignore_patterns)
        self.rulebook = Rulebook(config)

    def run(self, targets: list[bytes] | None = None) -> CheckResult:
        """Check the whole archive, or only ``targets`` (relative paths of files or folders)."""
        self.layout.require_archive()
        targets = _outermost(targets or [b""])
        prefixes = None if targets == [b""] else targets
        # An empty catalog holds no record a new file could have moved from: what the walk finds is
        # read and filed batch by batch, so a first check holds one batch, not the whole archive.
        scan = _Pass(stamp=now(), batch=0 if self.catalog.folders() else READ_BATCH)
        for target in targets:
            self._collect(target, scan)
        self._gone_with_their_folders(scan, targets)
        self._file_what_was_read(scan, self._match_moves(scan))
        with self.catalog.transaction():
            self._remove_gone(scan)
            # in scope: below what was checked, and not in a folder that could not be listed
            scan.found += self.rulebook.duplicates(
                self.catalog.duplicate_hashes(), lambda p: below_any(p, targets) and not below_any(p, scan.unlisted))
            first_seen = self.catalog.sync_violations(
                ((v.path, v.rule, v.severity, v.detail) for v in scan.found), prefixes, scan.stamp)
        return CheckResult(files_checked=scan.files, files_read=scan.read, first_seen=first_seen, skipped=scan.skipped,
                           violations=sorted(scan.found, key=lambda v: (v.path, v.rule)))

    # -- walking ----------------------------------------------------------------------------
    def _collect(self, target: bytes, scan: _Pass) -> None:
        if target:
            try:
                st = self.tree.lstat(target)
            except OSError as exc:
                scan.skipped.append(Skipped(target, "unreadable", exc.strerror or str(exc)))
                scan.unlisted.append(target)
                return
            if not stat.S_ISDIR(st.st_mode):
                if stat.S_ISREG(st.st_mode):
                    record = self.catalog.record(target)
                    present = {target: record} if record is not None and record.removed_at is None else {}
                    self._judge(Folder(target.rpartition(b"/")[0], files=[(target.rpartition(b"/")[2], st)]),
                                present, scan, folder_rules=False)
                else:
                    scan.skipped.append(Skipped(target, "symlink" if stat.S_ISLNK(st.st_mode) else "special"))
                return
            # The target folder's own name is judged as its parent would judge it.
            parent, _, name = target.rpartition(b"/")
            scan.found += self.rulebook.for_folder(Folder(parent, dirs=[name]), lambda _: {})
        for folder in self.tree.walk(target):
            scan.listed.add(folder.path)
            records = self.catalog.records_in(folder.path)
            self._judge(folder, records, scan)
            if scan.batch and len(scan.todo) >= scan.batch:
                self._file_what_was_read(scan, {})
            present = {folder.child(name) for name, _ in folder.files}
            scan.gone += [rec for path, rec in records.items() if path not in present]
        scan.skipped.extend(self.tree.skipped)
        scan.unlisted.extend(self.tree.unlisted)

    def _judge(self, folder: Folder, records: dict[bytes, FileRecord], scan: _Pass, folder_rules: bool = True) -> None:
        """Apply the rules to every file of ``folder`` its record still describes; set aside the
        others to be read, and the folder's own rules too when they need what those reads find."""
        algorithm = self.config.hash_algorithm
        waits = False
        for name, st in folder.files:
            path = folder.child(name)
            scan.files += 1
            rec = records.get(path)
            if rec is not None and _unchanged(rec, st, algorithm):
                scan.found += self.rulebook.for_file(path, st, json.loads(rec.facts))
            else:
                scan.todo.append(_Seen(path, st, rec))
                waits = True
        if not folder_rules:
            return
        if waits:
            scan.waiting.append((folder, records))
        else:
            scan.found += self.rulebook.for_folder(folder, lambda p: _facts_of(records.get(p)))

    def _gone_with_their_folders(self, scan: _Pass, targets: list[bytes]) -> None:
        """Records in folders the walk never listed (a folder deleted or moved whole)."""
        for parent in self.catalog.folders():
            if parent not in scan.listed and below_any(parent, targets):
                scan.gone += [rec for path, rec in self.catalog.records_in(parent).items()
                              if below_any(path, targets)]

    # -- reading and filing ---------------------------------------------------------------
    def _file_what_was_read(self, scan: _Pass, moved: dict[bytes, tuple[str, dict]]) -> None:
        """Hash and inspect the files set aside (all but those ``moved``: known content at a new
        path), record them in the catalog, and apply the rules that waited for them."""
        algorithm = self.config.hash_algorithm
        todo = [item for item in scan.todo if item.path not in moved]
        root = os.fsencode(self.layout.archive_root)
        jobs = [(root, item.path, item.st.st_size, algorithm) for item in todo]
        known = dict(moved)
        with Progress.for_command(t("progress.check"), len(todo), sum(item.st.st_size for item in todo),
                                  enabled=self.progress) as shown:
            for item, outcome in zip(todo, parallel_map(inspector.inspect_job, jobs, inspector.LIBRARIES)):
                shown.advance(1, item.st.st_size)
                if isinstance(outcome, str):
                    # Unreadable now (permissions, vanished mid-check): judged next time, never dropped.
                    scan.skipped.append(Skipped(item.path, "unreadable", outcome))
                    continue
                known[item.path] = outcome
                scan.read += 1
        with self.catalog.transaction():
            for item in scan.todo:
                if item.path not in known:
                    continue  # unreadable: keeps its record and is judged by it
                digest, facts = known[item.path]
                origin = item.record if item.record is not None and item.record.path != item.path else None
                if origin is not None:
                    scan.moved_from.add(origin.path)
                self.catalog.register(item.path, item.st, digest, facts, algorithm, scan.stamp, moved_from=origin)
                item.facts = facts
        read = {item.path: item for item in scan.todo}
        for item in scan.todo:
            scan.found += self.rulebook.for_file(item.path, item.st, _facts(item))
        for folder, records in scan.waiting:
            def facts_of(path: bytes, records: dict = records) -> dict[str, Any]:
                item = read.get(path)
                return _facts(item) if item else _facts_of(records.get(path))

            scan.found += self.rulebook.for_folder(folder, facts_of)
        scan.todo, scan.waiting = [], []

    def _match_moves(self, scan: _Pass) -> dict[bytes, tuple[str, dict]]:
        gone = {(r.inode, r.size, r.mtime_ns): r for r in scan.gone if r.facts}
        moved: dict[bytes, tuple[str, dict]] = {}
        if not gone:
            return moved
        for item in scan.todo:
            if item.record is not None:
                continue
            rec = gone.pop((item.st.st_ino, item.st.st_size, item.st.st_mtime_ns), None)
            if rec is not None and rec.hash_algorithm == self.config.hash_algorithm:
                facts = json.loads(rec.facts)
                if facts.get("v") == inspector.FACTS_VERSION:
                    moved[item.path] = (rec.hash, facts)
                    item.record = rec  # remembered as the origin of the move
        return moved

    def _remove_gone(self, scan: _Pass) -> None:
        removed = [r for r in scan.gone if r.path not in scan.moved_from and not below_any(r.path, scan.unlisted)]
        self.catalog.record_events([(Event.REMOVAL, r.path, {"hash": r.hash}) for r in removed], scan.stamp)
        self.catalog.mark_removed([r.path for r in removed], scan.stamp)


def _facts_of(record: FileRecord | None) -> dict[str, Any]:
    return json.loads(record.facts) if record is not None and record.facts else {}


def _facts(item: _Seen) -> dict[str, Any]:
    if item.facts is None:
        item.facts = json.loads(item.record.facts) if item.record and item.record.facts else {}
    return item.facts


def _unchanged(rec: FileRecord, st: os.stat_result, algorithm: str) -> bool:
    return (
        (rec.size, rec.mtime_ns, rec.inode) == (st.st_size, st.st_mtime_ns, st.st_ino)
        and rec.hash_algorithm == algorithm
        and rec.facts is not None
        # Facts are written with "v" first; a prefix test spares decoding every record's JSON.
        and rec.facts.startswith(_FACTS_PREFIX)
    )


_FACTS_PREFIX = '{"v": %d,' % inspector.FACTS_VERSION


def _outermost(targets: list[bytes]) -> list[bytes]:
    """Drop targets inside other targets (checking a folder already checks its contents)."""
    result: list[bytes] = []
    for target in sorted(set(targets), key=len):
        if not below_any(target, result):
            result.append(target)
    return sorted(result)
