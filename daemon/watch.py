"""The watch: watchdog's inotify observer over the archive root. Handlers only enqueue; the
service's worker decides. What inotify silently loses is made loud: a queue overflow (watchdog
only logs it) and watches that could not be added (watchdog ignores those on subfolders)."""

from __future__ import annotations

import logging
import os
import queue
import time
import warnings
from dataclasses import dataclass

from watchdog.events import (DirCreatedEvent, DirDeletedEvent, DirMovedEvent, FileClosedEvent, FileCreatedEvent,
                             FileDeletedEvent, FileModifiedEvent, FileMovedEvent, FileSystemEvent,
                             FileSystemEventHandler)
from watchdog.observers.inotify import InotifyEmitter, InotifyObserver, InotifyWatchGroup

from dangan.store.layout import is_own_path

EVENTS = [FileClosedEvent, FileCreatedEvent, FileModifiedEvent, FileDeletedEvent, FileMovedEvent, DirCreatedEvent,
          DirDeletedEvent, DirMovedEvent]
OVERFLOW = "overflow"
# watchdog (6+) warns, with a 4 KB dump of the watch, when a folder's watch gets a callback under an
# id it already holds (a folder watched again after a move or re-creation); it replaces the
# callback, which is what is wanted. This one warning only: every other warning still shows.
DUPLICATE_CALLBACK = r"Callback with id .* already exists for watch"


def quiet_duplicate_callbacks() -> None:
    """Silence watchdog's duplicate-callback RuntimeWarning (set at each start: callers such as
    test runners reset the warning filters between runs)."""
    warnings.filterwarnings("ignore", message=DUPLICATE_CALLBACK, category=RuntimeWarning)


@dataclass(frozen=True, slots=True)
class Change:
    """One event, with paths relative to the archive root (bytes, exact)."""

    kind: str  # closed | created | modified | deleted | moved | overflow
    path: bytes
    dest: bytes = b""
    is_dir: bool = False
    at: float = 0.0  # monotonic time it was signalled (overflows: a reconcile started later covers it)


class _Enqueue(FileSystemEventHandler):
    def __init__(self, root: bytes, changes: queue.SimpleQueue) -> None:
        self.prefix = root.rstrip(b"/") + b"/"
        self.changes = changes

    def _rel(self, path: str | bytes) -> bytes | None:
        raw = os.fsencode(path)
        return raw[len(self.prefix):] if raw.startswith(self.prefix) else None

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = {"closed": "closed", "created": "created", "modified": "modified", "deleted": "deleted",
                "moved": "moved"}.get(event.event_type)
        if kind is None:
            return
        src = self._rel(event.src_path)
        dest = self._rel(event.dest_path) if kind == "moved" else b""
        if kind == "moved" and src is None and dest is not None:
            kind, src, dest = "created", dest, b""  # moved in from outside the archive
        if src is None:
            return
        if kind == "moved" and dest is None:
            kind, dest = "deleted", b""  # moved out of the archive
        if kind == "moved" and is_own_path(src) != is_own_path(dest):
            # One of dangan's temp names renamed to a record's name (how a restore lands a file) is
            # that record's arrival; a record renamed to a temp name is its removal.
            kind, src, dest = ("created", dest, b"") if is_own_path(src) else ("deleted", src, b"")
        self.changes.put(Change(kind, src, dest or b"", event.is_directory))


class _OverflowSignal(logging.Filter):
    """watchdog reports lost events only through logging; turn that into a queue item. Its English
    lines are dropped: the service says it in the configured language (the inotify_overflow note),
    and a watch that could not be added again shows as the watch_shortfall alert."""

    def __init__(self, changes: queue.SimpleQueue) -> None:
        super().__init__()
        self.changes = changes

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "overflow" in text or "Unable to rebuild" in text:
            self.changes.put(Change(OVERFLOW, b"", at=time.monotonic()))
            return False
        return True


class _KeepingWatchGroup(InotifyWatchGroup):
    """watchdog's recursive watch, except on a queue overflow: watchdog drops every watch and adds
    them all again, and each dropped watch queues an IN_IGNORED event: with more folders than the
    queue holds (96 folders, a 64-event queue) that overflows the queue again, and again — a storm
    of 2,700 overflows and 21 to 48 s of flapping watches after a 0.3 s burst. Here the watches
    that exist are kept and only the missing ones (folders created while events were lost) added:
    adding a watch that exists queues nothing. The service reconciles after an overflow anyway.
    (watchdog 7.1 internals: tests/faults/test_kernel_limits.py fails if they change.)"""

    def on_queue_overflow(self) -> None:
        with self._lock:
            if not self.is_active:
                return
            self._move_event_grouper.discard_pending_events()
            try:
                self._add_all_callbacks(self.path)
            except OSError:
                logging.getLogger("watchdog.observers.inotify").exception(
                    "Unable to rebuild recursive inotify watches below %r", self.path)


class _KeepingEmitter(InotifyEmitter):
    def on_thread_start(self) -> None:
        self._inotify = _KeepingWatchGroup(self._inotify_fd, os.fsencode(self.watch.path),
                                           is_recursive=self.watch.is_recursive,
                                           event_mask=self.get_event_mask_from_filter(),
                                           follow_symlink=self.watch.follow_symlink)


class _Observer(InotifyObserver):
    def __init__(self) -> None:
        super().__init__()
        self._emitter_class = _KeepingEmitter


class Watch:
    """inotify over the whole archive tree, feeding :class:`Change` items into ``changes``."""

    def __init__(self, root: str, changes: queue.SimpleQueue) -> None:
        self.root = os.fsencode(root)
        self.changes = changes
        self.observer: _Observer | None = None
        self._signal = _OverflowSignal(changes)

    def start(self) -> None:
        quiet_duplicate_callbacks()
        for name in ("watchdog.observers.inotify_c", "watchdog.observers.inotify"):
            logging.getLogger(name).addFilter(self._signal)
        self.observer = _Observer()
        self.observer.schedule(_Enqueue(self.root, self.changes), os.fsdecode(self.root), recursive=True,
                               event_filter=EVENTS)
        self.observer.start()

    def stop(self) -> None:
        for name in ("watchdog.observers.inotify_c", "watchdog.observers.inotify"):
            logging.getLogger(name).removeFilter(self._signal)
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=10)
            self.observer = None

    @staticmethod
    def watches_held() -> int:
        """inotify watches this process holds (kernel's own count, from /proc/self/fdinfo)."""
        count = 0
        for info in _inotify_fdinfo():
            count += sum(line.startswith("inotify wd:") for line in info)
        return count

    @staticmethod
    def watched_inodes() -> list[int]:
        """The inodes of the folders this process watches, as the kernel lists them in
        /proc/self/fdinfo: the truth about which watches exist (watchdog drops failures silently)."""
        inodes = []
        for info in _inotify_fdinfo():
            for line in info:
                if line.startswith("inotify wd:"):
                    try:
                        inodes.append(int(line.split(" ino:", 1)[1].split(None, 1)[0], 16))
                    except (IndexError, ValueError):
                        continue
        return inodes


def _inotify_fdinfo() -> list[list[str]]:
    """The fdinfo lines of each inotify descriptor of this process."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != "anon_inode:inotify":
                continue
            with open(f"/proc/self/fdinfo/{fd}") as info:
                found.append(info.readlines())
        except OSError:
            continue
    return found


# The per-user-namespace limits (/proc/sys/user/max_inotify_*) bound a process in a container too.
_USER_NS_NAMES = {"max_user_watches": "max_inotify_watches", "max_user_instances": "max_inotify_instances"}


def inotify_limit(name: str) -> int | None:
    """The effective inotify limit: the lower of the global setting and the user namespace's."""
    found = []
    for path in (f"/proc/sys/fs/inotify/{name}", f"/proc/sys/user/{_USER_NS_NAMES.get(name, '-')}"):
        try:
            with open(path) as f:
                found.append(int(f.read()))
        except (OSError, ValueError):
            continue
    return min(found) if found else None
