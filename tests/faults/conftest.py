"""Fault-injection cases (`pytest -m faults`): real file systems, real kernel limits. Cases that
need root or a kernel feature the machine lacks skip with the reason printed."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        # the soak stays out of `pytest -m faults` too (that -m replaces the default "not soak")
        if "/faults/" in str(item.fspath) and item.get_closest_marker("soak") is None:
            item.add_marker(pytest.mark.faults)


def need_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"needs root to {what}")


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)


@pytest.fixture
def ext4_mirror(archive, tmp_path):
    """The mirror on a loop-mounted ext4 image, over a bare mount point made immutable, so that a
    write to the bare folder (disk unmounted) fails loudly instead of filling the system disk."""
    need_root("mount a loop device")
    if not shutil.which("mkfs.ext4") or not shutil.which("chattr"):
        pytest.skip("needs e2fsprogs (mkfs.ext4, chattr)")
    image = tmp_path / "mirror.img"
    run("truncate", "-s", "64M", str(image))
    made = run("mkfs.ext4", "-q", "-F", str(image))
    if made.returncode:
        pytest.skip(f"mkfs.ext4 failed: {made.stderr.strip()}")
    marker = (archive.mirror / ".dangan" / "marker").read_bytes()
    shutil.rmtree(archive.mirror)
    archive.mirror.mkdir()
    run("chattr", "+i", str(archive.mirror))
    mounted = run("mount", "-o", "loop", str(image), str(archive.mirror))
    if mounted.returncode:
        run("chattr", "-i", str(archive.mirror))
        pytest.skip(f"cannot loop-mount here: {mounted.stderr.strip()}")
    (archive.mirror / ".dangan").mkdir()
    (archive.mirror / ".dangan" / "marker").write_bytes(marker)

    class Disk:
        def unmount(self) -> None:
            # lazy: a busy disk (a backup job reading its stage) is detached at once, as a pulled disk is
            assert run("umount", "-l", str(archive.mirror)).returncode == 0

        def mount(self) -> None:
            assert run("mount", "-o", "loop", str(image), str(archive.mirror)).returncode == 0

        def remount(self, mode: str) -> None:
            assert run("mount", "-o", f"remount,{mode}", str(archive.mirror)).returncode == 0

    try:
        yield Disk()
    finally:
        run("umount", "-l", str(archive.mirror))
        run("chattr", "-i", str(archive.mirror))
