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
    path: bytes
    st: os.stat_result
    record: FileRecord | None = None
    facts: dict[str, Any] | None = None


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
        records = self.catalog.records(prefixes)
        seen: dict[bytes, _Seen] = {}
        folders: list[Folder] = []
        skipped: list[Skipped] = []
        unlisted: list[bytes] = []
        for target in targets:
            self._collect(target, seen, folders, skipped, unlisted)

        stamp = now()
        fresh, moved = self._read_changed(seen, records, skipped)
        result = CheckResult(files_checked=len(seen), files_read=len(fresh), skipped=skipped)
        with self.catalog.transaction():
            self._update_catalog(seen, records, fresh | moved, targets, unlisted, stamp)
            found = self._evaluate(seen, folders, targets)
            result.first_seen = self.catalog.sync_violations(
                ((v.path, v.rule, v.severity, v.detail) for v in found), prefixes, stamp)
        result.violations = sorted(found, key=lambda v: (v.path, v.rule))
        return result

    # -- walking ----------------------------------------------------------------------------
    def _collect(self, target: bytes, seen: dict, folders: list, skipped: list, unlisted: list) -> None:
        if target:
            try:
                st = self.tree.lstat(target)
            except OSError as exc:
                skipped.append(Skipped(target, "unreadable", exc.strerror or str(exc)))
                unlisted.append(target)
                return
            if not stat.S_ISDIR(st.st_mode):
                if stat.S_ISREG(st.st_mode):
                    seen[target] = _Seen(target, st)
                else:
                    skipped.append(Skipped(target, "symlink" if stat.S_ISLNK(st.st_mode) else "special"))
                return
            # The target folder's own name is judged as its parent would judge it.
            parent, _, name = target.rpartition(b"/")
            folders.append(Folder(parent, dirs=[name]))
        for folder in self.tree.walk(target):
            folders.append(folder)
            for name, st in folder.files:
                path = folder.child(name)
                seen[path] = _Seen(path, st)
        skipped.extend(self.tree.skipped)
        unlisted.extend(self.tree.unlisted)

    # -- reading ----------------------------------------------------------------------------
    def _read_changed(self, seen: dict[bytes, _Seen], records: dict[bytes, FileRecord],
                      skipped: list[Skipped]) -> tuple[dict[bytes, tuple[str, dict]], dict[bytes, tuple[str, dict]]]:
        """Hash and inspect every file the catalog does not know as it is now.

        Returns what was read, and what was recognised as moved (known content, new path)."""
        algorithm = self.config.hash_algorithm
        todo: list[_Seen] = []
        for item in seen.values():
            rec = records.get(item.path)
            if rec is not None and _unchanged(rec, item.st, algorithm):
                item.record = rec
            else:
                todo.append(item)
        moved = self._match_moves(todo, seen, records)
        todo = [item for item in todo if item.path not in moved]
        root = os.fsencode(self.layout.archive_root)
        jobs = [(root, item.path, item.st.st_size, algorithm) for item in todo]
        fresh: dict[bytes, tuple[str, dict]] = {}
        with Progress.for_command(t("progress.check"), len(todo), sum(item.st.st_size for item in todo),
                                  enabled=self.progress) as shown:
            for item, outcome in zip(todo, parallel_map(inspector.inspect_job, jobs)):
                shown.advance(1, item.st.st_size)
                if isinstance(outcome, str):
                    # Unreadable now (permissions, vanished mid-check): judged next time, never dropped.
                    skipped.append(Skipped(item.path, "unreadable", outcome))
                    item.record = records.get(item.path)
                    continue
                fresh[item.path] = outcome
        return fresh, moved

    def _match_moves(self, todo: list[_Seen], seen: dict, records: dict) -> dict[bytes, tuple[str, dict]]:
        gone = {(r.inode, r.size, r.mtime_ns): r for p, r in records.items() if p not in seen and r.facts}
        moved: dict[bytes, tuple[str, dict]] = {}
        if not gone:
            return moved
        for item in todo:
            if item.path in records:
                continue
            rec = gone.pop((item.st.st_ino, item.st.st_size, item.st.st_mtime_ns), None)
            if rec is not None and rec.hash_algorithm == self.config.hash_algorithm:
                facts = json.loads(rec.facts)
                if facts.get("v") == inspector.FACTS_VERSION:
                    moved[item.path] = (rec.hash, facts)
                    item.record = rec  # remembered as the origin of the move
        return moved

    # -- catalog ----------------------------------------------------------------------------
    def _update_catalog(self, seen, records, fresh, targets, unlisted, stamp) -> None:
        moved_from: set[bytes] = set()
        for path, (digest, facts) in fresh.items():
            item = seen[path]
            origin = item.record if item.record is not None and item.record.path != path else None
            if origin is not None:
                moved_from.add(origin.path)
            self.catalog.register(path, item.st, digest, facts, self.config.hash_algorithm, stamp, moved_from=origin)
            item.facts = facts
        removed = [p for p in records if p not in seen and p not in moved_from
                   and below_any(p, targets) and not below_any(p, unlisted)]
        self.catalog.record_events([(Event.REMOVAL, p, {"hash": records[p].hash}) for p in removed], stamp)
        self.catalog.mark_removed(removed, stamp)

    # -- rules ------------------------------------------------------------------------------
    def _evaluate(self, seen: dict[bytes, _Seen], folders: list[Folder], targets: list[bytes]) -> list[Violation]:
        def facts_of(path: bytes) -> dict[str, Any]:
            item = seen.get(path)
            return _facts(item) if item else {}

        found: list[Violation] = []
        for folder in folders:
            found += self.rulebook.for_folder(folder, facts_of)
        for item in seen.values():
            found += self.rulebook.for_file(item.path, item.st, _facts(item))
        found += self.rulebook.duplicates(self.catalog.duplicate_hashes(), lambda p: p in seen)
        return found


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
