"""The mirror disk misbehaving under the service: unmounted, read-only, out of inodes."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from makers import TASK
from service_helpers import Running, same_on_mirror, set_mirror_settings, tree_files, wait_for


def test_unmounted_mirror_gets_nothing_then_catches_up(archive, ext4_mirror):
    set_mirror_settings(archive)
    running = Running(archive)
    running.wait_ready()
    try:
        archive.write(f"{TASK}/before.txt", b"before")
        wait_for(lambda: same_on_mirror(archive, f"{TASK}/before.txt"))
        ext4_mirror.unmount()  # the bare, immutable mount point shows
        archive.write(f"{TASK}/during.txt", b"while the disk was away")
        status = wait_for(lambda: (s := running.status())["mirror"]["unmirrored"] == 1 and s)
        assert "mirror_missing" in wait_for(lambda: running.status()["alerts"])
        assert status["mirror"]["available"] is False
        assert os.listdir(archive.mirror) == []  # nothing was written to the bare folder
        ext4_mirror.mount()
        wait_for(lambda: same_on_mirror(archive, f"{TASK}/during.txt"), timeout=30)
        assert same_on_mirror(archive, f"{TASK}/before.txt")
    finally:
        assert running.stop() == 0


def test_read_only_mirror_keeps_the_work_and_resumes(archive, ext4_mirror):
    set_mirror_settings(archive)
    running = Running(archive)
    running.wait_ready()
    try:
        ext4_mirror.remount("ro")
        archive.write(f"{TASK}/a.txt", b"written while read-only")
        alert = wait_for(lambda: running.status()["alerts"].get("mirror_write"))
        assert "Read-only" in alert["reason"] or "只读" in alert["reason"]
        assert running.status()["mirror"]["unmirrored"] == 1
        ext4_mirror.remount("rw")
        wait_for(lambda: same_on_mirror(archive, f"{TASK}/a.txt"), timeout=30)
        assert not list(archive.mirror.rglob(".dangan-tmp-*"))
    finally:
        assert running.stop() == 0


def test_mirror_out_of_inodes_leaves_nothing_partial(archive):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    marker = (archive.mirror / ".dangan" / "marker").read_bytes()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,nr_inodes=40", "tmpfs", str(archive.mirror)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount tmpfs: {done.stderr.strip()}")
    try:
        (archive.mirror / ".dangan").mkdir()
        (archive.mirror / ".dangan" / "marker").write_bytes(marker)
        set_mirror_settings(archive)
        running = Running(archive)
        running.wait_ready()
        try:
            for i in range(60):
                archive.write(f"{TASK}/{i:02d}.txt", f"file {i}".encode())
            alert = wait_for(lambda: running.status()["alerts"].get("mirror_write"), timeout=30)
            assert alert["reason"]
            for path, data in tree_files(archive.mirror).items():  # whatever is final is whole
                assert data == archive.path(path).read_bytes()
            assert running.status()["mirror"]["unmirrored"] > 0
        finally:
            assert running.stop() == 0
    finally:
        subprocess.run(["umount", "-l", str(archive.mirror)], check=False)
