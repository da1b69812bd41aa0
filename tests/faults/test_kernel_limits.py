"""The service under kernel limits and a full mirror disk. These need root (to lower inotify limits
and mount a small tmpfs); elsewhere they skip and say why."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from makers import TASK
from service_helpers import DANGAN, Running, same_on_mirror, set_mirror_settings, tree_files, wait_for

QUEUED = Path("/proc/sys/fs/inotify/max_queued_events")


def _writable(path: Path) -> bool:
    return os.geteuid() == 0 and os.access(path, os.W_OK)


@pytest.mark.alone  # every inotify instance made meanwhile, on the whole machine, gets the tiny queue
@pytest.mark.skipif(not _writable(QUEUED), reason="needs root to lower /proc/sys/fs/inotify/max_queued_events")
def test_inotify_overflow_leads_to_a_full_reconcile(archive):
    set_mirror_settings(archive)
    original = QUEUED.read_text()
    QUEUED.write_text("32\n")  # read by inotify_init: the service's instance gets a tiny queue
    try:
        running = Running(archive)
        running.wait_ready()
    finally:
        QUEUED.write_text(original)
    try:
        for i in range(600):
            archive.write(f"{TASK}/{i:03d}.txt", f"file {i}".encode())
        wait_for(lambda: tree_files(archive.mirror) == tree_files(archive.root), timeout=60)
        status = wait_for(lambda: (s := running.status())["inotify"] and s["inotify"]["overflows"] >= 1 and s)
        assert status["mirror"]["unmirrored"] == 0
        output = running.output()
        assert "inotify 事件队列溢出" in output  # in the configured language (zh), not watchdog's English
        assert "Inotify queue overflowed" not in output
    finally:
        assert running.stop() == 0


@pytest.fixture
def small_mirror(archive):
    """The mirror folder on a 1 MiB tmpfs, as a nearly full second disk."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tmpfs as a small mirror disk")
    marker = (archive.mirror / ".dangan" / "marker").read_bytes()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(archive.mirror)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {done.stderr.strip()}")
    try:
        (archive.mirror / ".dangan").mkdir()
        (archive.mirror / ".dangan" / "marker").write_bytes(marker)
        yield archive.mirror
    finally:
        subprocess.run(["umount", "-l", str(archive.mirror)], check=False)


def test_full_mirror_leaves_nothing_partial_and_resumes(archive, small_mirror):
    set_mirror_settings(archive)
    ballast = small_mirror / ".dangan" / "ballast"
    ballast.write_bytes(b"\0" * 560_000)
    running = Running(archive)
    running.wait_ready()
    try:
        archive.write(f"{TASK}/first.bin", os.urandom(200_000))
        wait_for(lambda: same_on_mirror(archive, f"{TASK}/first.bin"))
        archive.write(f"{TASK}/second.bin", os.urandom(300_000))
        status = wait_for(lambda: "mirror_write" in (s := running.status())["alerts"] and s)
        assert status["mirror"]["unmirrored"] == 1
        assert not (small_mirror / TASK / "second.bin").exists()
        assert not list(small_mirror.rglob(".dangan-tmp-*"))  # no partial file anywhere
        ballast.unlink()  # space comes back
        wait_for(lambda: same_on_mirror(archive, f"{TASK}/second.bin"), timeout=30)
        wait_for(lambda: "mirror_write" not in running.status()["alerts"])
    finally:
        assert running.stop() == 0


def _userns_works() -> bool:
    if not (shutil.which("unshare") and shutil.which("nsenter")):
        return False
    return subprocess.run(["unshare", "--user", "--map-root-user", "true"], capture_output=True).returncode == 0


def test_watch_exhaustion_at_run_time_is_detected_and_polled(archive):
    """Folders added while the service runs, past max_user_watches: watchdog drops those watches
    silently. The service finds them missing from the kernel's list, alerts, reconciles in full and
    polls them, so the mirror still ends equal.

    The limit is lowered inside a user namespace of the service's own (/proc/sys/user/max_inotify_watches
    there bounds that namespace only): lowering the global fs.inotify.max_user_watches would break
    every other inotify user of this uid on a shared machine while the test runs."""
    if not _userns_works():
        pytest.skip("needs unshare/nsenter and user namespaces (unshare --user) to lower the watch limit")
    set_mirror_settings(archive)
    running = Running(archive, prefix=("unshare", "--user", "--map-root-user", "--"))
    running.wait_ready()
    try:
        before = running.status()
        held = before["inotify"]["watches"]
        assert before["inotify"]["shortfall"] == 0
        lowered = subprocess.run(["nsenter", "--user", "--target", str(running.proc.pid), "sh", "-c",
                                  f"echo {held + 3} > /proc/sys/user/max_inotify_watches"],
                                 capture_output=True, text=True)
        assert lowered.returncode == 0, lowered.stderr
        for i in range(8):  # a department copies in eight new task folders: only three can be watched
            os.makedirs(archive.root / TASK / f"new{i}" / "photos")
        time.sleep(1.5)  # the service has seen the folders (empty); what follows has no event in five
        for i in range(8):
            archive.write(f"{TASK}/new{i}/photos/{i}.txt", f"photo {i}".encode())
            archive.write(f"{TASK}/new{i}/minutes.txt", f"minutes {i}".encode())
        wait_for(lambda: tree_files(archive.mirror) == tree_files(archive.root), timeout=30)
        # the shortfall is measured after the reconcile the failures start: wait for it, do not sample once
        status = wait_for(lambda: (s := running.status())["alerts"].get("watch_shortfall", {}).get("unwatched", 0)
                          >= 5 and s, timeout=30)
        assert status["inotify"]["watch_failures"] >= 5 and status["inotify"]["max_user_watches"] == held + 3
        assert status["last_reconcile"]["at"] > before["last_reconcile"]["at"]  # the full reconcile ran
        text = subprocess.run([DANGAN, "status", "--config", str(archive.config)], capture_output=True,
                              text=True).stdout
        assert "个文件夹未被监视" in text
        # a file that arrives later in an unwatched folder is found by the poll too
        archive.write(f"{TASK}/new7/photos/later.txt", b"later")
        wait_for(lambda: same_on_mirror(archive, f"{TASK}/new7/photos/later.txt"), timeout=15)
        assert "个新文件夹无法监视" in running.output()  # in the configured language (zh)
    finally:
        assert running.stop() == 0


@pytest.mark.alone  # every inotify instance made meanwhile, on the whole machine, gets the tiny queue
@pytest.mark.skipif(not _writable(QUEUED), reason="needs root to lower /proc/sys/fs/inotify/max_queued_events")
def test_an_overflow_storm_costs_one_reconcile_and_converges_fast(archive):
    """3,000 files into 96 new folders on a 64-event queue: watchdog overflows again and again while it
    re-adds its watches. Reconciles are coalesced: one for the storm (and at most one more for the
    overflows that arrived while it ran), not one per overflow; the mirror converges within seconds."""
    set_mirror_settings(archive)
    original = QUEUED.read_text()
    QUEUED.write_text("64\n")
    try:
        running = Running(archive)
        running.wait_ready()
    finally:
        QUEUED.write_text(original)
    try:
        wait_for(lambda: running.status()["last_reconcile"])
        before = running.status()["inotify"]["reconciles"]
        started = time.monotonic()
        for folder in range(96):
            for i in range(3000 // 96 + (folder < 3000 % 96)):
                archive.write(f"{TASK}/d{folder:02d}/{i:03d}.txt", f"{folder} {i}".encode())
        burst_end = time.monotonic()
        wait_for(lambda: len(tree_files(archive.mirror)) == 3000, timeout=120, interval=0.2)
        converged = time.monotonic() - burst_end
        status = running.status()
        overflows, reconciles = status["inotify"]["overflows"], status["inotify"]["reconciles"] - before
        print(f"burst {burst_end - started:.1f} s, converged {converged:.1f} s after it, "
              f"{overflows} overflows, {reconciles} reconciles")
        assert overflows >= 1
        assert 1 <= reconciles <= 2, running.output()[-3000:]  # once, and once again for overflows during it
        assert converged < 15
        assert tree_files(archive.mirror) == tree_files(archive.root)
    finally:
        assert running.stop() == 0
