"""Shared fixtures: a real archive made by `dangan init` in tmp_path, and a guard that fails a test
which leaves threads or child processes behind."""

from __future__ import annotations

import threading
import time
from multiprocessing import forkserver, resource_tracker
from pathlib import Path

import pytest
from makers import Archive

from dangan.cli.main import main


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    base = tmp_path
    config = base / "etc" / "config.yaml"
    a = Archive(base, config, base / "archive", base / "mirror", base / "state")
    code = main(["init", "--config", str(config), "--archive-root", str(a.root), "--mirror-root", str(a.mirror),
                 "--state-dir", str(a.state)])
    assert code == 0
    return a


LEFTOVER_GRACE = 5.0  # seconds a stopped thread or process may take to be gone (a join, a reaped child)


def _children() -> set[int]:
    """The live child processes of this process, from every thread's /proc children list."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            found.update(int(pid) for pid in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue  # the thread ended while we looked
    return found


def _process_singletons() -> set[int]:
    """multiprocessing's fork server and resource tracker: started once, on purpose kept for the life
    of the process (store/workers.py uses the forkserver context). Private attributes: the stdlib has
    no public way to ask for these pids."""
    pids = {getattr(forkserver._forkserver, "_forkserver_pid", None),
            getattr(resource_tracker._resource_tracker, "_pid", None)}
    return {pid for pid in pids if pid}


@pytest.fixture(autouse=True)
def leaves_nothing_running():
    """Fail a test that leaves threads or child processes behind: a service, a watcher, an rclone the
    test started must be stopped by it (or by its fixtures). Fixtures of a wider scope (a partner
    server per module) started before this snapshot and are not counted."""
    threads, children = set(threading.enumerate()), _children()
    yield
    deadline = time.monotonic() + LEFTOVER_GRACE
    while True:
        extra_threads = [t for t in threading.enumerate() if t not in threads and t.is_alive()]
        extra_children = _children() - children - _process_singletons()
        if not (extra_threads or extra_children) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra_threads, f"threads left running: {[t.name for t in extra_threads]}"
    assert not extra_children, f"child processes left running: {sorted(extra_children)}"


@pytest.fixture
def service(archive):
    """The service running on the archive with fast mirror settings (max 20 deletions at once)."""
    from service_helpers import Running, set_mirror_settings

    set_mirror_settings(archive, max_delete_count=20)
    running = Running(archive)
    running.wait_ready()
    yield running
    if running.proc.poll() is None:
        running.stop()
