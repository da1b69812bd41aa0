"""A reconcile: walk the archive, compare it with the catalog by size, mtime and inode, and hand
every difference to the keeper. inotify is not trusted alone (it drops events on overflow and
fails silently on watches), so the service reconciles at start, hourly, and after any doubt.

It must stay cheap for large archives: the catalog is read one folder at a time (an index on the
folder), nothing unchanged is read, and memory holds only the differences.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from loguru import logger

from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.config.words import reason

from dangan.store.catalog import Catalog, now
from dangan.store.catalog import backup as catalog_backup
from dangan.store.catalog.health import CopyOutcome
from dangan.daemon.alerts import Alerts
from dangan.daemon.guard import DeletionGuard
from dangan.daemon.keeper import BATCH_FILES, Keeper, Outcome
from dangan.daemon.watch import Watch
from dangan.store.layout import Layout
from dangan.store.names import show
from dangan.store.progress import Progress
from dangan.store.tree import Tree, below_any

# The mirror is checked against the catalog this many records at a time (one call on the mirror
# thread each: a hung disk stalls one call, and memory holds one chunk, not the archive).
CHECK_CHUNK = 5000
# New or changed files handed to the keeper's pipeline at a time (its batches overlap within one
# hand-over), and how far the progress moves at most between two updates.
ARRIVAL_CHUNK = 8 * BATCH_FILES
ARRIVAL_CHUNK_BYTES = 256 << 20
PROGRESS_SECONDS = 10.0  # a long refill logs how far it is this often
# Folders inotify cannot watch (a path longer than PATH_MAX cannot be given to inotify_add_watch)
# are polled by the service, up to this many; more means the watch limit is reached, and the
# service's 5-minute reconcile covers those.
POLL_LIMIT = 1000
MTIME_SLACK_NS = 2_000_000_000  # a mirror file system with coarse timestamps (FAT: 2 s) still holds its copy


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
    refill: int = 0  # copies the catalog lists that the mirror did not hold: marked to copy again
    swept: int = 0  # temp files of interrupted copies removed from the mirror
    retry: list[bytes] = field(default_factory=list)
    unlisted: list[bytes] = field(default_factory=list)
    # Folders inotify does not watch (a path beyond PATH_MAX, the watch limit): to be polled.
    unwatched: list[bytes] = field(default_factory=list)

    def summary(self) -> dict:
        """What `dangan status` and the report show of it."""
        return {"at": now(), "seconds": round(self.seconds, 3), "files": self.files, "folders": self.folders,
                "arrived": self.arrived, "gone": self.gone, "moved": self.moved}


class Reconciler:
    """Brings catalog and mirror in line with the archive as it is on disk."""

    def __init__(self, config: Config, catalog: Catalog, keeper: Keeper, guard: DeletionGuard, tree: Tree,
                 alerts: Alerts) -> None:
        self.config = config
        self.catalog = catalog
        self.keeper = keeper
        self.guard = guard
        self.tree = tree  # the archive as the keeper reads it (same ignore patterns, same skips)
        self.alerts = alerts
        self.layout = Layout.of(config)
        # The first run of a fresh reconciler (every start, reload, one-shot `dangan mirror`)
        # sweeps the temps an interrupted copy left: every command that writes the mirror.
        self.swept = False
        self.catch_up_at = 0.0  # monotonic time before which only paths in back-off wait: no catch-up
        self.progress = False  # True in `dangan mirror`: shown on stderr; the service logs it instead

    def run(self) -> ReconcileResult:
        started = time.monotonic()
        self.layout.require_archive()  # an unmounted or emptied disk must not read as "all deleted"
        result = ReconcileResult()
        if not self.swept:
            result.swept = self.sweep()
        tree = self.tree
        visited: set[bytes] = set()
        changed: dict[bytes, int] = {}  # path -> size
        gone: dict[bytes, tuple[int, int, int]] = {}
        # The mirror is checked only while it is there: a missing marker is an unmounted disk,
        # never one that lost every copy.
        check = self.keeper.mirror_writable()
        expected: dict[bytes, dict[bytes, tuple[int, int]]] = {}
        expected_count = 0
        lacking: list[bytes] = []
        watched = set(Watch.watched_inodes())  # none outside the service: nothing to poll there
        for folder in tree.walk():
            visited.add(folder.path)
            result.folders += 1
            if watched and folder.inode not in watched:
                result.unwatched.append(folder.path)
            rows = self.catalog.in_folder(folder.path)
            if check:
                # row: (size, mtime_ns, inode, mirrored, removed)
                held = {p: (row[0], row[1]) for p, row in rows.items() if row[3] and not row[4]}
                if held:
                    expected[folder.path] = held
                    expected_count += len(held)
                    if expected_count >= CHECK_CHUNK:
                        check = self._lacking(expected, lacking)
                        expected, expected_count = {}, 0
            for name, st in folder.files:
                path = folder.child(name)
                row = rows.pop(path, None)
                # row: (size, mtime_ns, inode, mirrored, removed)
                if row is None or row[4] or not row[3] or row[:3] != (st.st_size, st.st_mtime_ns, st.st_ino):
                    changed[path] = st.st_size
            gone.update((p, (row[2], row[0], row[1])) for p, row in rows.items() if not row[4])
            result.files += len(folder.files)
        if check and expected:
            self._lacking(expected, lacking)
        result.refill = self._mark_lacking(lacking)
        result.unlisted = list(tree.unlisted)
        if len(result.unwatched) > POLL_LIMIT:
            result.unwatched = []  # the watch limit, not a few deep folders: the frequent reconcile covers it
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

    def _apply(self, changed: dict[bytes, int], gone: dict[bytes, tuple[int, int, int]],
               result: ReconcileResult) -> None:
        # A file that vanished here and appeared there with the same inode, size and mtime moved.
        by_identity = {identity: path for path, identity in gone.items()}
        touched: set[bytes] = set()
        arrivals: list[bytes] = []
        for path in changed:
            origin = None
            if by_identity and self.catalog.record(path) is None:
                try:
                    st = self.tree.lstat(path)
                    origin = by_identity.pop((st.st_ino, st.st_size, st.st_mtime_ns), None)
                except OSError:
                    origin = None
            if origin is not None:
                gone.pop(origin, None)
                if self.keeper.moved(origin, path) is Outcome.RETRY:
                    result.retry.append(path)
                result.moved += 1
            else:
                arrivals.append(path)
            touched.add(path.rpartition(b"/")[0])  # its own listing is judged via the keeper
        # Through the keeper's pipeline, batches copied while the one before is registered: one
        # file at a time (a transaction each) took 49 s for the 2,768 files an overflow left.
        with self._shown(len(arrivals), sum(changed[p] for p in arrivals)) as shown:
            for chunk in _chunks(arrivals, changed):
                for path, outcome in zip(chunk, self.keeper.arrived_many(chunk)):
                    result.arrived += outcome is Outcome.DONE
                    if outcome is Outcome.RETRY:
                        result.retry.append(path)
                shown.advance(len(chunk), sum(changed[p] for p in chunk))
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

    def _shown(self, total: int, total_bytes: int = 0) -> Progress:
        """Progress of copies to the mirror: on the command's stderr, or in the service's log."""
        if self.progress:
            return Progress.for_command(t("progress.mirror"), total, total_bytes)
        return Progress(t("progress.mirror"), total, total_bytes, line=logger.info, every=PROGRESS_SECONDS)

    def sweep(self) -> int:
        """Remove the temp files interrupted copies left on the mirror (a mirror missing now is
        swept by the keeper when it comes back)."""
        swept = self.keeper.sweep_temps()
        self.swept = True
        if swept:
            logger.info(t("log.swept", count=swept))
        return swept

    def _lacking(self, expected: dict[bytes, dict[bytes, tuple[int, int]]], lacking: list[bytes]) -> bool:
        """Add to ``lacking`` what the mirror does not hold of ``expected``; False when the mirror
        could not be looked at (hung): the rest of this reconcile does not look either."""
        found = self.keeper.mirror_lacking(expected, MTIME_SLACK_NS)
        if found is None:
            return False
        lacking.extend(found)
        return True

    def _mark_lacking(self, lacking: list[bytes]) -> int:
        """Copies the catalog lists as mirrored that the mirror does not hold (the disk was replaced
        or emptied, a copy was deleted behind dangan's back) are marked unmirrored: status counts
        them, and the catch-up copies them again from the archive (their content checked against
        the catalog's hash on the way). Said in the log and as an alert until refilled."""
        if not lacking:
            return 0
        with self.catalog.transaction():
            for path in lacking:
                self.catalog.set_mirrored(path, None)
        self.keeper.refill(len(lacking))
        shown = ", ".join(show(p) for p in lacking[:3]) + (" ..." if len(lacking) > 3 else "")
        logger.warning(t("log.mirror_lacking", count=len(lacking), paths=shown))
        return len(lacking)

    def catch_up(self) -> int:
        """Copy what the catalog knows but the mirror lacks (registered while it was away, or
        missing from a replaced disk), a batch at a time, with its progress in the log."""
        if time.monotonic() < self.catch_up_at or not self.keeper.mirror_writable():
            return 0
        done = 0
        self.keeper.catching_up()
        waiting = self.catalog.unmirrored()
        todo = [path for path in waiting if self.keeper.copy_due(path)]
        if len(todo) < len(waiting):
            self.keeper.fell_behind()  # paths waiting out their own back-off: tried again then
            if not todo:
                self.catch_up_at = self.keeper.next_copy_due()
        with self._shown(len(todo)) as shown:
            for start in range(0, len(todo), BATCH_FILES):
                chunk = todo[start:start + BATCH_FILES]
                done += sum(outcome is Outcome.DONE for outcome in self.keeper.arrived_many(chunk))
                shown.advance(len(chunk))
                if not self.keeper.mirror_writable():
                    self.keeper.fell_behind()
                    break
        if not self.keeper.behind and not self.catalog.unmirrored():
            self.keeper.refilled()
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
        """A consistent copy of the catalog on the mirror disk, so a restore still knows every hash
        and version when the state folder died with the archive. Written only when something a
        restore needs changed, never over a copy that holds more history (store/catalog/health.py)."""
        if not self.keeper.mirror_writable():
            return
        copy = self.layout.catalog_copy_path
        try:
            outcome = self.catalog.lineage.copy_to(copy)
        except (OSError, catalog_backup.Error) as exc:
            logger.warning(t("log.catalog_copy_failed", reason=reason(exc)))
            return
        if outcome in (CopyOutcome.KEPT_OLDER, CopyOutcome.KEPT_OTHER_LINEAGE):
            logger.error("{}", t("catalog.copy_kept", path=self.catalog.path, copy=copy,
                                 reason=t(f"catalog.copy_kept.{outcome}")))
            self.alerts.raise_("catalog_copy_kept", copy=str(copy), reason=str(outcome))
        else:
            self.alerts.clear("catalog_copy_kept")


def _chunks(paths: list[bytes], sizes: dict[bytes, int]) -> Iterator[list[bytes]]:
    """``paths`` in hand-overs of at most ARRIVAL_CHUNK files and about ARRIVAL_CHUNK_BYTES."""
    chunk: list[bytes] = []
    size = 0
    for path in paths:
        chunk.append(path)
        size += sizes[path]
        if len(chunk) >= ARRIVAL_CHUNK or size >= ARRIVAL_CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk
