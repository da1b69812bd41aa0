"""`dangan run`: the service. One worker thread decides (this one); watchdog's threads only enqueue.

Signal handlers only set flags. SIGTERM finishes the file in flight, flushes the catalog and exits 0;
SIGHUP reloads the config by building fresh objects. kill -9 at any moment leaves at worst an orphan
temp file on the mirror (swept at the next start) and a restart converges, because every piece of
pending work lives in the catalog.
"""

from __future__ import annotations

import fcntl
import os
import queue
import resource
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger

from dangan.config import loader
from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import set_language, t
from dangan.config.schema import Config

from dangan.daemon import logs

from dangan.daemon import metrics, preflight

from dangan.store import status
from dangan.daemon.alerts import Alerts
from dangan.store.catalog import Catalog, now
from dangan.daemon.guard import DeletionGuard
from dangan.daemon.keeper import Flight, Keeper, Outcome
from dangan.store.layout import Layout, is_own
from dangan.store.mirror import Mirror
from dangan.daemon.notify import notify, watchdog_interval
from dangan.daemon.reconcile import Reconciler
from dangan.daemon.stall import MirrorHung
from dangan.daemon.timetable import Timetable
from dangan.daemon.watch import OVERFLOW, Change, Watch, inotify_limit

TICK = 0.25  # seconds between housekeeping passes when no event arrives
UNWATCHED_POLL = 2.0  # seconds between listings of folders inotify could not watch
LOCK_FILE = ".dangan-lock"


class ServiceLock:
    """One writer per archive: the service and `dangan mirror` take this lock (flock)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_FILE
        self.fd = -1

    def acquire(self) -> bool:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = -1
            return False
        return True

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass
class _Settling:
    size: int
    mtime_ns: int
    since: float  # monotonic time the size/mtime were last seen to change


@dataclass
class Parts:
    """The objects built from one config; a reload builds a fresh set."""

    config: Config
    layout: Layout
    catalog: Catalog
    alerts: Alerts
    mirror: Mirror
    keeper: Keeper
    guard: DeletionGuard
    reconciler: Reconciler
    timetable: Timetable
    settling: dict[bytes, _Settling] = field(default_factory=dict)

    @classmethod
    def build(cls, config: Config, config_path: Path, alerts: Alerts, schedule: bool = True) -> "Parts":
        layout = Layout.of(config)
        catalog = Catalog(layout.catalog_path)
        mirror = Mirror(layout, config.hash_algorithm)
        keeper = Keeper(config, catalog, mirror, alerts)
        guard = DeletionGuard(config, catalog, keeper, alerts)
        timetable = Timetable(config, config_path, catalog, alerts, enabled=schedule)
        return cls(config, layout, catalog, alerts, mirror, keeper, guard, Reconciler(config, catalog, keeper, guard),
                   timetable)

    def close(self) -> None:
        self.timetable.stop()
        self.keeper.stall.close()
        self.catalog.close()


class Service:
    """The long-running service of one archive."""

    def __init__(self, config_path: Path, config: Config) -> None:
        self.config_path = config_path
        self.alerts = Alerts()
        self.parts = Parts.build(config, self.config_path, self.alerts)
        self.changes: queue.SimpleQueue[Change] = queue.SimpleQueue()
        self.watch: Watch | None = None
        self.stop_requested = False
        self.reload_requested = False
        self.reconcile_due = 0.0
        self.next_status = 0.0
        self.next_ping = 0.0
        self.next_metrics = 0.0
        self.metrics_server = None
        self.overflows = 0
        self.watch_shortfall = 0
        # Folders added at run time that inotify could not watch (limit reached): polled instead.
        self.unwatched: set[bytes] = set()
        self.watch_failures = 0
        self.closed_at: dict[bytes, float] = {}  # path -> monotonic time of its last close event (recent ones)
        self.next_poll = 0.0
        self.new_folders: list[bytes] = []  # created since the last look at the kernel's watch list
        self.next_watch_check = 0.0
        self.last_reconcile: dict | None = None
        # The batch of copies on the mirror thread: this thread drains and prepares the next batch
        # and registers the one before meanwhile. Landed before anything else touches the mirror
        # or the catalog's view of those paths (a non-copy event, removals, reconciles, a stop).
        self.flight: Flight | None = None
        self.reload_deferred = False  # SIGHUP arrived while the mirror hung
        self.next_chores = 0.0

    # -- signals: flags only -------------------------------------------------------------------
    def _on_term(self, signum: int, frame: object) -> None:
        self.stop_requested = True

    def _on_hup(self, signum: int, frame: object) -> None:
        self.reload_requested = True

    # -- lifecycle ------------------------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, self._on_hup)
        lock = ServiceLock(self.parts.layout.state_dir)
        if not lock.acquire():
            raise EnvironmentProblem(t("service.already_running", path=lock.path))
        _raise_open_files_limit()
        try:
            self._start()
            notify(ready=1, status=t("service.ready"))
            logger.info("dangan is watching {}", self.parts.config.archive_root)
            while not self.stop_requested:
                if self.reload_requested:
                    self._reload()
                self._step()
            self._land()  # SIGTERM finishes the copies in flight and registers them
            notify(stopping=1, status=t("service.stopping"))
            return 0
        finally:
            self._shutdown()
            lock.release()

    def _start(self) -> None:
        parts = self.parts
        parts.layout.require_archive()
        try:  # on the watched mirror thread: a hung disk must not hang the start
            swept = parts.keeper.stall.call(None, parts.mirror.sweep_temps) if parts.mirror.available() else 0
        except (OSError, MirrorHung) as exc:
            logger.warning("temp files on the mirror not swept at start: {}", exc)
            swept = 0
        if swept:
            logger.info("swept {} temp files left by an interrupted copy", swept)
        self.watch = Watch(parts.config.archive_root, self.changes)
        try:
            self.watch.start()  # before the reconcile, so that nothing slips between the two
        except OSError as exc:
            raise EnvironmentProblem(t("service.inotify_failed", detail=exc.strerror or exc,
                                       limit=inotify_limit("max_user_instances"))) from None
        self._reconcile()
        listen = parts.config.metrics.listen
        if listen and self.metrics_server is None:
            path = parts.layout.catalog_path
            self.metrics_server = metrics.serve(listen, lambda: _metrics_from(path))

    def _reload(self) -> None:
        if self.parts.keeper.stall.stuck and not self.parts.keeper.stall.recovered():
            # A mirror call is stuck in the kernel: its late result must be recorded by the keeper
            # (and catalog) that made it, and a new keeper's thread must not write beside it.
            if not self.reload_deferred:
                logger.warning("reload deferred until the hung mirror disk answers")
                self.reload_deferred = True
            return
        self.reload_requested = self.reload_deferred = False
        try:
            config = loader.load(self.config_path)
        except Exception as exc:  # noqa: BLE001 - a bad new config keeps the old one running
            logger.error("reload refused, the running configuration stays: {}", exc)
            self.alerts.raise_("reload_failed", detail=str(exc).splitlines()[0])
            return
        self.alerts.clear("reload_failed")
        logger.info("reloading configuration from {}", self.config_path)
        set_language(config.language)
        logs.setup(config)
        self._land()
        if self.watch:
            self.watch.stop()
        self.parts.close()
        self.parts = Parts.build(config, self.config_path, self.alerts)
        self._start()

    def _shutdown(self) -> None:
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
        if self.watch:
            self.watch.stop()
            self.watch = None
        try:
            self._write_status("stopped")
        except OSError:
            pass
        self.parts.close()

    # -- the worker -----------------------------------------------------------------------------
    def _step(self) -> None:
        try:
            change = self.changes.get(timeout=TICK)
        except queue.Empty:
            change = None
        handled = 0
        ready: dict[bytes, None] = {}  # closed files of this pass: copied together, in order
        while change is not None and handled < 1000 and not self.stop_requested:
            if change.kind in ("closed", "created", "modified") and not change.is_dir:
                self._file_event(change, ready)
            else:
                self._arrive(list(ready))  # what happened before this event is applied first
                ready.clear()
                self._land()
                self._handle(change)
            handled += 1
            try:
                change = self.changes.get_nowait()
            except queue.Empty:
                change = None
        if not self.stop_requested:
            self._arrive(list(ready))
        if self.changes.empty():
            self._land()  # nothing else to prepare meanwhile
            self.parts.keeper.judge_dirty()
        now_ = time.monotonic()
        if self.new_folders and now_ >= self.next_watch_check:
            self._check_new_watches()
            self.next_watch_check = now_ + 1.0
        self._settle()
        # The chores touch the mirror and the catalog: with the flight landed. While a burst keeps
        # the queue full they wait, for at most a second.
        if self.flight is None or self.changes.empty() or now_ >= self.next_chores:
            self._land()
            self._chores()
            self.next_chores = time.monotonic() + 1.0
        now_ = time.monotonic()
        if now_ >= self.next_status:
            self._write_status("running")
            self.next_status = now_ + 1.0
        if now_ >= self.next_metrics and self.parts.config.metrics.textfile:
            metrics.write_textfile(self.parts.catalog, self.parts.config.metrics.textfile)
            self.next_metrics = now_ + 60.0
        interval = watchdog_interval()
        if interval and now_ >= self.next_ping:
            notify(watchdog=1)
            self.next_ping = now_ + interval

    def _chores(self) -> None:
        self.parts.guard.tick()
        self.parts.timetable.tick()
        now_ = time.monotonic()
        if self.unwatched and now_ >= self.next_poll:
            self._poll_unwatched()
            self.next_poll = now_ + UNWATCHED_POLL
        if now_ >= self.reconcile_due:
            self._reconcile()
        elif self.parts.keeper.behind and self.parts.keeper.mirror_writable():
            self.parts.reconciler.catch_up()

    def _handle(self, change: Change) -> None:
        keeper = self.parts.keeper
        if change.kind == OVERFLOW:
            self.overflows += 1
            self.alerts.note("inotify_overflow", count=self.overflows)
            self.reconcile_due = 0.0  # events were lost: compare everything now
            return
        if _own(change.path) or (change.dest and _own(change.dest)):
            return
        if change.is_dir:
            if change.kind == "deleted":
                keeper.gone_below(change.path)
                self.parts.guard.noted()
            elif change.kind == "moved":
                self._dir_moved(change.path, change.dest)
            elif change.kind == "created":
                self._scan(change.path)
            return
        if change.kind == "deleted":
            self.parts.settling.pop(change.path, None)
            keeper.gone(change.path)
            self.parts.guard.noted()
        elif change.kind == "moved":
            self.parts.settling.pop(change.path, None)
            if keeper.tree.ignored(change.path.rpartition(b"/")[2]):
                self._arrive([change.dest])  # an editor's atomic save: temp file renamed over the record
            elif keeper.moved(change.path, change.dest) is Outcome.RETRY:
                self._watch_settle(change.dest)

    def _file_event(self, change: Change, ready: dict[bytes, None]) -> None:
        """A file closed after writing is complete (it joins ``ready``); one created or modified
        may be still being written: it settles."""
        if _own(change.path):
            return
        if change.kind == "closed":
            self.parts.settling.pop(change.path, None)
            if self._closed_lately(change.path):
                self._watch_settle(change.path)  # opened, appended, closed again and again: wait for a pause
            else:
                ready[change.path] = None
        else:
            self._watch_settle(change.path)

    def _arrive(self, paths: list[bytes]) -> None:
        """Copy, register and judge complete files, pipelined: each batch is launched on the mirror
        thread, then the batch before it is landed (inspected, registered) while it copies."""
        if not paths:
            return
        keeper = self.parts.keeper
        if self.flight is not None and not set(self.flight.paths).isdisjoint(paths):
            self._land()  # the same file again: its earlier copy is registered first (versions, order)
        for decided, batch in keeper.batches(paths):
            self._concluded(decided)
            if batch:
                previous, self.flight = self.flight, keeper.launch(batch)
                if previous is not None:
                    self._concluded(keeper.land(previous))

    def _land(self) -> None:
        """Wait for the batch in flight and register it."""
        if self.flight is not None:
            flight, self.flight = self.flight, None
            self._concluded(self.parts.keeper.land(flight))

    def _concluded(self, outcomes: dict[bytes, Outcome]) -> None:
        for path, outcome in outcomes.items():
            if outcome is Outcome.RETRY:
                self._watch_settle(path)  # still being written: copy it once it settles
            elif outcome is Outcome.DONE:
                self._hard_link_siblings(path)

    def _closed_lately(self, path: bytes) -> bool:
        """A writer that closes the file between chunks (an SMB client, a logger) would otherwise
        get a copy of every prefix, each kept as a version: a file closed again within
        settle_seconds is copied once it has stood still that long."""
        now_, window = time.monotonic(), self.parts.config.mirror.settle_seconds
        if len(self.closed_at) > 10_000:
            self.closed_at = {p: t for p, t in self.closed_at.items() if now_ - t < window}
        at = self.closed_at.get(path)
        self.closed_at[path] = now_
        return at is not None and now_ - at < window

    def _hard_link_siblings(self, path: bytes) -> None:
        """A write through one name of a hard-linked file changes its other names too, but inotify
        reports only the name written: look at the others (each name is mirrored as its own file)."""
        try:
            st = self.parts.keeper.tree.lstat(path)
        except OSError:
            return
        if st.st_nlink < 2:
            return
        rows = self.parts.catalog.db.execute(
            "SELECT path FROM files WHERE inode = ? AND path != ? AND removed_at IS NULL", (st.st_ino, path))
        for (other,) in rows.fetchall():
            self._watch_settle(other)

    def _watch_settle(self, path: bytes) -> None:
        """Watch ``path`` until its size and mtime stop changing. No stat here: a burst brings a
        created and a modified event for every file, and its close usually follows in the same
        pass. _settle looks at what is still settling after the pass."""
        if path not in self.parts.settling:
            self.parts.settling[path] = _Settling(-1, -1, time.monotonic())

    def _settle(self) -> None:
        """Files that arrived without a close event are complete once they stop changing."""
        if not self.parts.settling:
            return
        window = self.parts.config.mirror.settle_seconds
        now_ = time.monotonic()
        settled = []
        for path, entry in list(self.parts.settling.items()):
            try:
                st = self.parts.keeper.tree.lstat(path)
            except OSError:
                self.parts.settling.pop(path, None)
                continue
            if (st.st_size, st.st_mtime_ns) != (entry.size, entry.mtime_ns):
                self.parts.settling[path] = _Settling(st.st_size, st.st_mtime_ns, now_)
            elif now_ - entry.since >= window:
                del self.parts.settling[path]
                settled.append(path)
        self._arrive(settled)

    def _scan(self, folder: bytes, check_watches: bool = True) -> None:
        """A folder appeared (created, or moved in with its contents): take what is complete."""
        keeper = self.parts.keeper
        keeper.judge_listing(folder.rpartition(b"/")[0])
        folders: list[bytes] = []
        for listing in keeper.tree.walk(folder):
            folders.append(listing.path)
            for name, _ in listing.files:
                self._watch_settle(listing.child(name))
        if check_watches:
            self.new_folders.extend(folders)

    def _check_new_watches(self) -> None:
        """watchdog silently skips a folder whose watch the kernel refuses (max_user_watches):
        compare new folders with the kernel's list, and poll what is not watched, after a full
        reconcile. Batched (at most once a second): the kernel's list is long on a large archive."""
        folders, self.new_folders = list(dict.fromkeys(self.new_folders)), []
        watched = set(Watch.watched_inodes())
        missing = [path for path in folders if path not in self.unwatched
                   and (inode := self._inode(path)) is not None and inode not in watched]
        if not missing:
            return
        self.unwatched.update(missing)
        self.watch_failures += len(missing)
        limit = inotify_limit("max_user_watches")
        logger.error("{} new folders could not be watched (max_user_watches {}): full reconcile, then polled",
                     len(missing), limit)
        self.alerts.raise_("watch_shortfall", unwatched=len(self.unwatched), watches=len(watched), limit=limit)
        self.reconcile_due = 0.0  # what happened in them so far is only seen by a walk

    def _inode(self, path: bytes) -> int | None:
        try:
            return self.parts.keeper.tree.lstat(path).st_ino
        except OSError:
            return None  # gone again: nothing to watch

    def _poll_unwatched(self) -> None:
        for folder in sorted(self.unwatched):
            if self._inode(folder) is None:
                self.unwatched.discard(folder)
            else:
                self._scan(folder, check_watches=False)

    def _dir_moved(self, old: bytes, new: bytes) -> None:
        self.parts.keeper.folder_moved(old, new)
        self._scan(new)  # anything the catalog did not know yet

    def _reconcile(self) -> None:
        parts = self.parts
        try:
            result = parts.reconciler.run()
        except EnvironmentProblem as exc:
            self.alerts.raise_("archive_missing", detail=str(exc))
            self.reconcile_due = time.monotonic() + 30
            return
        self.alerts.clear("archive_missing")
        for path in result.retry:
            self._watch_settle(path)
        self.last_reconcile = result.summary()
        self._check_watches(result.folders)
        minutes = parts.config.mirror.reconcile_minutes
        if self.watch_shortfall:
            minutes = min(minutes, 5)  # some folders are not watched: the scan is the safety net
        self.reconcile_due = time.monotonic() + minutes * 60

    def _check_watches(self, folders: int) -> None:
        held = Watch.watches_held()
        limit = inotify_limit("max_user_watches")
        self.watch_shortfall = max(0, folders - held)
        if not self.watch_shortfall:
            self.unwatched.clear()
        if self.watch_shortfall or self.unwatched:
            self.alerts.raise_("watch_shortfall", folders=folders, watches=held, limit=limit,
                               unwatched=len(self.unwatched))
        else:
            self.alerts.clear("watch_shortfall")
        if limit and folders > 0.8 * limit:
            self.alerts.raise_("watch_limit_near", folders=folders, limit=limit)

    def _write_status(self, state: str) -> None:
        parts = self.parts
        queue_length = self.changes.qsize() + len(parts.settling)
        status.write(parts.layout, {
            "pid": os.getpid(), "state": state, "updated_at": now(), "queue": queue_length,
            "last_reconcile": self.last_reconcile, "alerts": self.alerts.active, "notes": self.alerts.notes[-10:],
            "inotify": {"watches": Watch.watches_held(), "overflows": self.overflows,
                        "shortfall": self.watch_shortfall, "max_user_watches": inotify_limit("max_user_watches"),
                        "unwatched": len(self.unwatched), "watch_failures": self.watch_failures},
        })
        notify(status=t("service.status", queue=queue_length, alerts=len(self.alerts.active)))


def _metrics_from(catalog_path: Path) -> str:
    # The HTTP thread gets its own connection: SQLite connections stay in their thread.
    with Catalog(catalog_path) as catalog:
        return metrics.render(catalog)


def _own(path: bytes) -> bool:
    return any(is_own(part) for part in path.split(b"/"))


def run(config_path: Path, config: Config) -> int:
    logs.setup(config)
    preflight.check(config, config_path)  # what later jobs read is readable now, or no start
    return Service(config_path, config).run()


def _raise_open_files_limit() -> None:
    """Two batches of copies in flight hold up to ~800 descriptors (sources, temps, folders);
    systemd's default soft limit is 1024. Raise the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
