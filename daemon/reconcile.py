"""A reconcile: walk the archive, compare it with the catalog by size, mtime and inode, and hand
every difference to the keeper. inotify is not trusted alone (it drops events on overflow and
fails silently on watches), so the service reconciles at start, hourly, and after any doubt.

It must stay cheap for large archives: the catalog is read one folder at a time (an index on the
folder), nothing unchanged is read, and memory holds only the differences.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from loguru import logger

from dangan.config.messages import t
from dangan.config.schema import Config

from dangan.store.atomic import fsync_dir
from dangan.store.catalog import Catalog, now
from dangan.store.catalog import backup as catalog_backup
from dangan.daemon.guard import DeletionGuard
from dangan.daemon.keeper import Keeper, Outcome
from dangan.store.layout import Layout, MIRROR_DIR
from dangan.store.tree import below_any

CATALOG_COPY = "catalog.sqlite"


@dataclass
class ReconcileResult:
    """What one reconcile found and did."""

    files: int = 0
    folders: int = 0
    arrived: int = 0
    gone: int = 0
    moved: int = 0
    caught_up: int = 0
    removals_applied: int = 0
    seconds: float = 0.0
    retry: list[bytes] = field(default_factory=list)
    unlisted: list[bytes] = field(default_factory=list)

    def summary(self) -> dict:
        """What `dangan status` and the report show of it."""
        return {"at": now(), "seconds": round(self.seconds, 3), "files": self.files, "folders": self.folders,
                "arrived": self.arrived, "gone": self.gone, "moved": self.moved}


class Reconciler:
    """Brings catalog and mirror in line with the archive as it is on disk."""

    def __init__(self, config: Config, catalog: Catalog, keeper: Keeper, guard: DeletionGuard) -> None:
        self.config = config
        self.catalog = catalog
        self.keeper = keeper
        self.guard = guard
        self.layout = Layout.of(config)

    def run(self) -> ReconcileResult:
        started = time.monotonic()
        self.layout.require_archive()  # an unmounted or emptied disk must not read as "all deleted"
        result = ReconcileResult()
        tree = self.keeper.tree
        visited: set[bytes] = set()
        changed: list[bytes] = []
        gone: dict[bytes, tuple[int, int, int]] = {}
        for folder in tree.walk():
            visited.add(folder.path)
            result.folders += 1
            rows = self.catalog.in_folder(folder.path)
            for name, st in folder.files:
                path = folder.child(name)
                row = rows.pop(path, None)
                # row: (size, mtime_ns, inode, mirrored, removed)
                if row is None or row[4] or not row[3] or row[:3] != (st.st_size, st.st_mtime_ns, st.st_ino):
                    changed.append(path)
            gone.update((p, (row[2], row[0], row[1])) for p, row in rows.items() if not row[4])
            result.files += len(folder.files)
        result.unlisted = list(tree.unlisted)
        for parent in self.catalog.folders():
            if parent not in visited and not below_any(parent, result.unlisted):
                rows = self.catalog.in_folder(parent)
                gone.update((p, (row[2], row[0], row[1])) for p, row in rows.items() if not row[4])
        self._apply(changed, gone, result)
        result.caught_up = self.catch_up()
        result.removals_applied = self.guard.tick()
        self.prune_versions()
        self.backup_catalog()
        result.seconds = time.monotonic() - started
        with self.catalog.transaction():
            self.catalog.set_meta("last_reconcile", json.dumps(result.summary()))
        logger.info(t("log.reconciled", files=result.files, folders=result.folders, arrived=result.arrived,
                      gone=result.gone, moved=result.moved, seconds=f"{result.seconds:.2f}"))
        return result

    def _apply(self, changed: list[bytes], gone: dict[bytes, tuple[int, int, int]], result: ReconcileResult) -> None:
        # A file that vanished here and appeared there with the same inode, size and mtime moved.
        by_identity = {identity: path for path, identity in gone.items()}
        touched: set[bytes] = set()
        for path in changed:
            origin = None
            if by_identity and self.catalog.record(path) is None:
                try:
                    st = self.keeper.tree.lstat(path)
                    origin = by_identity.pop((st.st_ino, st.st_size, st.st_mtime_ns), None)
                except OSError:
                    origin = None
            if origin is not None:
                gone.pop(origin, None)
                outcome = self.keeper.moved(origin, path)
                result.moved += 1
            else:
                outcome = self.keeper.arrived(path)
                result.arrived += outcome is Outcome.DONE
            if outcome is Outcome.RETRY:
                result.retry.append(path)
            touched.add(path.rpartition(b"/")[0])  # its own listing is judged via the keeper
        for path in gone:
            self.keeper.gone(path)
            result.gone += 1
        if gone:
            self.guard.noted()
        # New folders' names are judged by their parents' listings: judge every ancestor once.
        for folder in touched:
            while folder:
                folder = folder.rpartition(b"/")[0]
                self.keeper.listing_changed(folder)
        self.keeper.listing_changed(b"")
        self.keeper.judge_dirty()

    def catch_up(self) -> int:
        """Copy what the catalog knows but the mirror lacks (registered while it was away)."""
        if not self.keeper.mirror_writable():
            return 0
        done = 0
        self.keeper.behind = False
        for path in self.catalog.unmirrored():
            if self.keeper.arrived(path) is Outcome.DONE:
                done += 1
            if not self.keeper.mirror_writable():
                self.keeper.behind = True
                break
        return done

    def prune_versions(self) -> int:
        """Drop versions older than ``mirror.keep_versions_days`` (0, the default: keep forever,
        since destroying archive records needs approval)."""
        days = self.config.mirror.keep_versions_days
        if not days or not self.keeper.mirror_writable():
            return 0
        cutoff = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="milliseconds")
        kept = self.catalog.shelf.kept_before(cutoff)
        for version in kept:
            self.keeper.drop_version(version.location)
            with self.catalog.transaction():
                self.catalog.shelf.drop(version.id)
        return len(kept)

    def backup_catalog(self) -> None:
        """A consistent copy of the catalog on the mirror disk (SQLite's online backup), so a
        restore still knows every hash and version when the state folder died with the archive.

        Skipped when nothing a restore needs changed since the last copy: on a large archive the
        catalog is hundreds of MB, and an hourly reconcile of an unchanged tree should write nothing."""
        if not self.keeper.mirror_writable():
            return
        signature = self.catalog.backup.signature()
        if signature == self.catalog.get_meta("catalog_copy") and (
                self.layout.mirror_root / MIRROR_DIR / CATALOG_COPY).exists():
            return
        target_dir = self.layout.mirror_root / MIRROR_DIR
        temp = target_dir / ".dangan-tmp-catalog.sqlite"
        try:
            self.catalog.backup.write(temp)
            with open(temp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(temp, target_dir / CATALOG_COPY)
            fsync_dir(target_dir)
            with self.catalog.transaction():
                self.catalog.set_meta("catalog_copy", signature)
        except (OSError, catalog_backup.Error) as exc:
            logger.warning("catalog copy to the mirror failed: {}", exc)
            try:
                temp.unlink()
            except OSError:
                pass
