"""Watch coverage: new folders compared with the kernel's own list of inotify watches (real inotify,
real folders): one the kernel does not watch is found, reported, polled while it exists and dropped
once it is gone."""

from __future__ import annotations

import os
import queue
import time

from dangan.daemon.alerts import Alerts
from dangan.daemon.coverage import UNWATCHED_POLL, Coverage
from dangan.daemon.watch import Watch
from dangan.store.tree import Tree


def test_a_folder_the_kernel_does_not_watch_is_reported_polled_and_dropped_when_gone(tmp_path):
    (tmp_path / "watched").mkdir()
    (tmp_path / "outside").mkdir()
    # inotify over one branch only: a folder in the other branch is what a refused watch leaves
    watch = Watch(str(tmp_path / "watched"), queue.SimpleQueue())
    watch.start()
    try:
        (tmp_path / "watched" / "new").mkdir()
        (tmp_path / "outside" / "new").mkdir()
        inode = os.lstat(tmp_path / "watched" / "new").st_ino
        deadline = time.monotonic() + 10
        while inode not in Watch.watched_inodes() and time.monotonic() < deadline:
            time.sleep(0.05)  # watchdog adds the new folder's watch from its own thread
        alerts = Alerts()
        coverage = Coverage(alerts)
        tree = Tree(str(tmp_path), [])
        coverage.added([b"watched/new", b"outside/new"])

        assert coverage.check_new(tree) is True  # a full reconcile is due
        assert coverage.unwatched == {b"outside/new"}
        assert "watch_shortfall" in alerts.active
        assert coverage.check_new(tree) is False  # nothing new since
        assert coverage.polls_due(tree) == [b"outside/new"]
        assert coverage.status(overflows=0)["unwatched"] == 1

        (tmp_path / "outside" / "new").rmdir()
        time.sleep(UNWATCHED_POLL + 0.1)
        assert coverage.polls_due(tree) == []
        assert coverage.unwatched == set()
    finally:
        watch.stop()
