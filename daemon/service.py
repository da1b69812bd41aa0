"""`dangan run`: the service. One worker thread decides (this one); watchdog's threads only enqueue.

The service turns what the watch saw into work: it waits for files to settle, batches the complete
ones and hands them to the keeper (which decides what each change means and talks to the mirror and
the catalog), and runs the chores on their schedule.

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
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from dangan.config import loader
from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import set_language, t
from dangan.config.schema import Config

from dangan.daemon import logs

from dangan.daemon import metrics, preflight

from dangan.store import status
from dangan.store.atomic import open_existing
from dangan.daemon.alerts import Alerts
from dangan.daemon.coverage import Coverage
from dangan.store.catalog import Catalog, now
from dangan.store.catalog.health import explaining
from dangan.daemon.guard import DeletionGuard
from dangan.daemon.keeper import Keeper
from dangan.store.layout import Layout, is_own_path
from dangan.store.mirror import Mirror
from dangan.daemon.heartbeat import Heartbeat
from dangan.daemon.notify import notify
from dangan.daemon.reconcile import Reconciler
from dangan.daemon.settling import Settling
from dangan.daemon.storm import OverflowStorm
from dangan.daemon.timetable import Timetable
from dangan.store.tree import Tree
from dangan.daemon.watch import OVERFLOW, Change, Watch, inotify_limit

TICK = 0.25  # seconds between housekeeping passes when no event arrives
LOCK_FILE = ".dangan-lock"


class ServiceLock:
    """One writer per archive: the service and `dangan mirror` take this lock (flock)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_FILE
        self.fd = -1

    def acquire(self) -> bool:
        try:  # never through a symlink planted at its name
            self.fd = open_existing(self.path, 0o600)
        except OSError as exc:
            raise EnvironmentProblem(t("state.lock_unsafe", path=self.path,
                                       detail=exc.strerror or exc)) from None
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
class Parts:
    """The objects built from one config; a reload builds a fresh set."""

    config: Config
    layout: Layout
    catalog: Catalog
    alerts: Alerts
    tree: Tree
    mirror: Mirror
    keeper: Keeper
    guard: DeletionGuard
    reconciler: Reconciler
    timetable: Timetable

    @classmethod
    def build(cls, config: Config, config_path: Path, alerts: Alerts, schedule: bool = True) -> "Parts":
        layout = Layout.of(config)
        catalog = layout.open_catalog()
        tree = Tree(layout.archive_root, config.rules.ignore_patterns)
        mirror = Mirror(layout, config.hash_algorithm)
        keeper = Keeper(config, catalog, mirror, alerts, tree)
        guard = DeletionGuard(config, catalog, keeper, alerts)
        timetable = Timetable(config, config_path, catalog, alerts, enabled=schedule)
        keeper.log_batches = schedule  # the service (a one-shot reconcile shows its progress instead)
        return cls(config, layout, catalog, alerts, tree, mirror, keeper, guard,
                   Reconciler(config, catalog, keeper, guard, tree, alerts), timetable)

    def close(self) -> None:
        self.timetable.stop()
        self.keeper.close()
        self.catalog.close()


class Service:
    """The long-running service of one archive."""

    def __init__(self, config_path: Path, config: Config) -> None:
        self.config_path = config_path
        self.alerts = Alerts()
        self.parts = Parts.build(config, self.config_path, self.alerts)
        self.settling = Settling(self.parts.tree, config.mirror.settle_seconds)
        self.changes: queue.SimpleQueue[Change] = queue.SimpleQueue()
        self.watch: Watch | None = None
        self.stop_requested = False
        self.reload_requested = False
        self.reconcile_due = 0.0
        self.next_metrics = 0.0
        self.metrics_server = None
        self.overflows = 0
        self.storm = OverflowStorm()
        self.reconciles = 0  # since start: status shows it (an overflow storm must cost one, not hundreds)
        self.coverage = Coverage(self.alerts)
        self.last_reconcile: dict | None = None
        self.reload_deferred = False  # SIGHUP arrived while the mirror hung
        self.next_chores = 0.0
        # Watchdog pings and status.json on a thread of their own: never waiting for the queue.
        self.heartbeat = Heartbeat(lambda: self._write_status("running"))

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
        stopped = False
        try:
            self.heartbeat.start()
            self._start()
            logger.info(t("log.watching", path=self.parts.config.archive_root))
            while not self.stop_requested:
                if self.reload_requested:
                    self._reload()
                self._step()
            logger.info(t("log.stopping"))
            notify(stopping=1, status=t("service.stopping"))
            self._land()  # SIGTERM finishes the copies in flight and registers them
            stopped = True
            return 0
        finally:
            self._shutdown()
            lock.release()
            if stopped:  # said last: after the jobs it interrupted and the catalog closed
                logger.info(t("log.stopped"))

    def _start(self) -> None:
        parts = self.parts
        parts.layout.require_archive()  # (the start reconcile sweeps the mirror's temps)
        self.watch = Watch(parts.config.archive_root, self.changes)
        try:
            self.watch.start()  # before the reconcile, so that nothing slips between the two
        except OSError as exc:
            raise EnvironmentProblem(t("service.inotify_failed", detail=exc.strerror or exc,
                                       limit=inotify_limit("max_user_instances"))) from None
        self.heartbeat.ready()  # before the reconcile: a large archive makes it longer than any start timeout
        self._reconcile()
        listen = parts.config.metrics.listen
        if listen and self.metrics_server is None:
            path = parts.layout.catalog_path
            self.metrics_server = metrics.serve(listen, lambda: _metrics_from(path))

    def _reload(self) -> None:
        if self.parts.keeper.mirror_hung():
            # Its late result must be recorded by the keeper (and catalog) that made the call,
            # and a new keeper's thread must not write beside it.
            if not self.reload_deferred:
                logger.warning(t("log.reload_deferred"))
                self.reload_deferred = True
            return
        self.reload_requested = self.reload_deferred = False
        try:
            config = loader.load(self.config_path)
        except Exception as exc:  # noqa: BLE001 - a bad new config keeps the old one running
            logger.error(t("log.reload_refused", detail=exc))
            self.alerts.raise_("reload_failed", detail=str(exc).splitlines()[0])
            return
        self.alerts.clear("reload_failed")
        logger.info(t("log.reloading", path=self.config_path))
        set_language(config.language)
        logs.setup(config)
        self._land()
        if self.watch:
            self.watch.stop()
        self.parts.close()
        self.parts = Parts.build(config, self.config_path, self.alerts)
        self.settling.restart(self.parts.tree, config.mirror.settle_seconds)
        self._start()

    def _shutdown(self) -> None:
        self.heartbeat.stop()
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
        if self.coverage.check_new(self.parts.tree):
            self.reconcile_due = 0.0
        self._settle()
        # The chores touch the mirror and the catalog: with the flight landed. While a burst keeps
        # the queue full they wait, for at most a second.
        if not self.parts.keeper.in_flight or self.changes.empty() or now_ >= self.next_chores:
            self._land()
            self._chores()
            self.next_chores = time.monotonic() + 1.0
        now_ = time.monotonic()
        self.heartbeat.beat()
        if now_ >= self.next_metrics and self.parts.config.metrics.textfile:
            metrics.write_textfile(self.parts.catalog, self.parts.config.metrics.textfile)
            self.next_metrics = now_ + 60.0

    def _chores(self) -> None:
        self.parts.guard.tick()
        self.parts.timetable.tick()
        now_ = time.monotonic()
        for folder in self.coverage.polls_due(self.parts.tree):
            self._scan(folder, check_watches=False)
        if now_ >= self.reconcile_due or self.storm.due(now_):
            self._reconcile()
        elif self.parts.keeper.behind and self.parts.keeper.mirror_writable():
            self.parts.reconciler.catch_up()

    def _handle(self, change: Change) -> None:
        keeper = self.parts.keeper
        if change.kind == OVERFLOW:
            self.overflows += 1
            self.alerts.note("inotify_overflow", count=self.overflows)
            self.storm.overflowed(change.at)  # events were lost: compare everything once the storm is quiet
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
            self.settling.forget(change.path)
            keeper.gone(change.path)
            self.parts.guard.noted()
        elif change.kind == "moved":
            self.settling.forget(change.path)
            self._look_again(keeper.renamed(change.path, change.dest))

    def _file_event(self, change: Change, ready: dict[bytes, None]) -> None:
        """A file closed after writing is complete (it joins ``ready``); one created or modified
        may be still being written: it settles."""
        if _own(change.path):
            return
        if change.kind != "closed":
            self.settling.watch(change.path)
        elif self.settling.closed(change.path):
            ready[change.path] = None

    def _arrive(self, paths: list[bytes]) -> None:
        """Hand complete files to the keeper's pipeline (copy, register, judge; the last batch stays
        in flight while this thread drains the next)."""
        if paths:
            self._look_again(self.parts.keeper.arrive(paths))

    def _land(self) -> None:
        """Wait for the batch in flight and register it: before anything else touches the mirror or
        the catalog's view of those paths (a non-copy event, removals, reconciles, a stop)."""
        self._look_again(self.parts.keeper.finish())

    def _look_again(self, paths: list[bytes]) -> None:
        """What the keeper wants to see again once it stands still (still being written, or
        another name of a hard-linked file)."""
        for path in paths:
            self.settling.watch(path)

    def _settle(self) -> None:
        """Files that arrived without a close event are complete once they stop changing."""
        self._arrive(self.settling.settled())

    def _scan(self, folder: bytes, check_watches: bool = True) -> None:
        """A folder appeared (created, or moved in with its contents): take what is complete."""
        self.parts.keeper.judge_listing(folder.rpartition(b"/")[0])
        folders: list[bytes] = []
        for listing in self.parts.tree.walk(folder):
            folders.append(listing.path)
            for name, _ in listing.files:
                self.settling.watch(listing.child(name))
        if check_watches:
            self.coverage.added(folders)

    def _dir_moved(self, old: bytes, new: bytes) -> None:
        self.parts.keeper.folder_moved(old, new)
        self._scan(new)  # anything the catalog did not know yet

    def _reconcile(self) -> None:
        parts = self.parts
        try:
            self.reconciles += 1
            self.storm.reconciling(time.monotonic())
            result = parts.reconciler.run()
        except EnvironmentProblem as exc:
            self.alerts.raise_("archive_missing", detail=str(exc))
            self.reconcile_due = time.monotonic() + 30
            return
        self.alerts.clear("archive_missing")
        self._look_again(result.retry)
        self.last_reconcile = result.summary()
        self.coverage.reconciled(result.folders, result.unwatched)
        minutes = self.coverage.reconcile_minutes(parts.config.mirror.reconcile_minutes)
        self.reconcile_due = time.monotonic() + minutes * 60

    def _write_status(self, state: str) -> None:
        parts = self.parts
        queue_length = self.changes.qsize() + len(self.settling)
        status.write(parts.layout, {
            "pid": os.getpid(), "state": state, "updated_at": now(), "queue": queue_length,
            # copies: the heartbeat thread writes this while the worker raises and clears alerts
            "last_reconcile": self.last_reconcile, "alerts": dict(self.alerts.active),
            "notes": list(self.alerts.notes[-10:]),
            "inotify": {**self.coverage.status(self.overflows), "reconciles": self.reconciles},
        })
        notify(status=t("service.status", queue=queue_length, alerts=len(self.alerts.active)))


def _metrics_from(catalog_path: Path) -> str:
    # The HTTP thread gets its own connection: SQLite connections stay in their thread.
    with Catalog(catalog_path) as catalog:
        return metrics.render(catalog)


def _own(path: bytes) -> bool:
    return is_own_path(path)


def run(config_path: Path, config: Config) -> int:
    logs.setup(config)
    preflight.check(config, config_path)  # what later jobs read is readable now, or no start
    layout = Layout.of(config)
    with explaining(layout.catalog_path, layout.catalog_copy_path):  # damaged: a clear error, not a traceback
        return Service(config_path, config).run()


def _raise_open_files_limit() -> None:
    """Two batches of copies in flight hold up to ~800 descriptors (sources, temps, folders);
    systemd's default soft limit is 1024. Raise the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
