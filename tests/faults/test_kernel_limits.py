"""The service under kernel limits and a full mirror disk. These need root (to lower inotify limits
and mount a small tmpfs); elsewhere they skip and say why."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from makers import TASK
from service_helpers import Running, same_on_mirror, set_mirror_settings, tree_files, wait_for

QUEUED = Path("/proc/sys/fs/inotify/max_queued_events")


def _writable(path: Path) -> bool:
    return os.geteuid() == 0 and os.access(path, os.W_OK)


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
        assert "overflow" in running.output().lower()
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
