"""Watch coverage: which folders inotify really watches. watchdog silently skips a folder whose
watch the kernel refuses (max_user_watches); the service must know, reconcile more often, and poll
what is not watched."""

from __future__ import annotations

import time

from loguru import logger

from dangan.config.messages import t

from dangan.daemon.alerts import Alerts
from dangan.daemon.watch import Watch, inotify_limit
from dangan.store.tree import Tree

UNWATCHED_POLL = 2.0  # seconds between listings of folders inotify could not watch
CHECK_EVERY = 1.0  # seconds between looks at the kernel's watch list (long on a large archive)
SHORTFALL_RECONCILE_MINUTES = 5  # some folders are not watched: the scan is the safety net


class Coverage:
    """The folders inotify could not watch, and the shortfall the last reconcile measured."""

    def __init__(self, alerts: Alerts) -> None:
        self.alerts = alerts
        self.shortfall = 0
        # Folders added at run time that inotify could not watch (limit reached): polled instead.
        self.unwatched: set[bytes] = set()
        self.failures = 0
        self._new: list[bytes] = []  # created since the last look at the kernel's watch list
        self._next_check = 0.0
        self._next_poll = 0.0

    def added(self, folders: list[bytes]) -> None:
        """Folders that appeared at run time: compared with the kernel's list at the next check."""
        self._new.extend(folders)

    def check_new(self, tree: Tree) -> bool:
        """Compare the new folders with the kernel's list (at most once a second). True when some
        are not watched: a full reconcile is due, since what happened in them is only seen by a walk."""
        now_ = time.monotonic()
        if not self._new or now_ < self._next_check:
            return False
        self._next_check = now_ + CHECK_EVERY
        folders, self._new = list(dict.fromkeys(self._new)), []
        watched = set(Watch.watched_inodes())
        missing = [path for path in folders if path not in self.unwatched
                   and (inode := _inode(tree, path)) is not None and inode not in watched]
        if not missing:
            return False
        self.unwatched.update(missing)
        self.failures += len(missing)
        limit = inotify_limit("max_user_watches")
        logger.error(t("log.watch_failed", count=len(missing), limit=limit))
        self.alerts.raise_("watch_shortfall", unwatched=len(self.unwatched), watches=len(watched), limit=limit)
        return True

    def polls_due(self, tree: Tree) -> list[bytes]:
        """The unwatched folders to list now (every UNWATCHED_POLL seconds); gone ones are dropped."""
        now_ = time.monotonic()
        if not self.unwatched or now_ < self._next_poll:
            return []
        self._next_poll = now_ + UNWATCHED_POLL
        due = []
        for folder in sorted(self.unwatched):
            if _inode(tree, folder) is None:
                self.unwatched.discard(folder)
            else:
                due.append(folder)
        return due

    def reconciled(self, folders: int, unwatched: list[bytes] = ()) -> None:
        """A reconcile counted ``folders`` and found ``unwatched`` (folders whose inode the kernel
        does not watch, e.g. deeper than PATH_MAX: polled from now on): compare with the watches
        held, and say so."""
        held = Watch.watches_held()
        limit = inotify_limit("max_user_watches")
        self.shortfall = max(0, folders - held)
        if not self.shortfall:
            self.unwatched.clear()
        self.unwatched.update(unwatched)
        if self.shortfall or self.unwatched:
            self.alerts.raise_("watch_shortfall", folders=folders, watches=held, limit=limit,
                               unwatched=len(self.unwatched))
        else:
            self.alerts.clear("watch_shortfall")
        if limit and folders > 0.8 * limit:
            self.alerts.raise_("watch_limit_near", folders=folders, limit=limit)

    def reconcile_minutes(self, configured: float) -> float:
        """Minutes until the next reconcile: sooner while some folders are not watched."""
        return min(configured, SHORTFALL_RECONCILE_MINUTES) if self.shortfall else configured

    def status(self, overflows: int) -> dict:
        """The "inotify" part of the status file."""
        return {"watches": Watch.watches_held(), "overflows": overflows, "shortfall": self.shortfall,
                "max_user_watches": inotify_limit("max_user_watches"), "unwatched": len(self.unwatched),
                "watch_failures": self.failures}


def _inode(tree: Tree, path: bytes) -> int | None:
    try:
        return tree.lstat(path).st_ino
    except OSError:
        return None  # gone again: nothing to watch
