"""The mirror disk misbehaving under the service: unmounted, read-only, out of inodes, a power cut;
and a second disk mounted inside the mirror or a restore target."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import threading
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


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)


def _mirrored_hashes(archive) -> dict[str, str]:
    """What the catalog says is on the mirror: path -> hash, for files dangan reported done."""
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        return {os.fsdecode(p): h for p, h in db.execute(
            "SELECT path, mirror_hash FROM files WHERE mirror_hash IS NOT NULL AND removed_at IS NULL")}


def _stream(archive, stop: threading.Event, written: list[str], size: int = 40_000) -> None:
    """A stream of new files, as a scanner station or a big folder copy makes them."""
    i = 0
    while not stop.is_set():
        rel = f"{TASK}/stream/{i:04d}.bin"
        archive.write(rel, os.urandom(size))
        written.append(rel)
        i += 1
        time.sleep(0.01)


# EXT4_IOC_SHUTDOWN = _IOR('X', 125, __u32): direction read (2) << 30 | size 4 << 16 | 'X' << 8 | 125
EXT4_IOC_SHUTDOWN = (2 << 30) | (4 << 16) | (ord("X") << 8) | 125
SHUTDOWN_FLAGS = {"default": 0, "logflush": 1, "nologflush": 2}  # EXT4_GOING_FLAGS_*


@pytest.mark.parametrize("flag", list(SHUTDOWN_FLAGS))
def test_power_cut_on_the_mirror_keeps_every_reported_file(archive, ext4_mirror, flag):
    """I/O errors, then a power cut (EXT4_IOC_SHUTDOWN) during a stream of copies: after a remount every
    file the catalog called mirrored is there and verifies; the service stays up and catches up."""
    set_mirror_settings(archive)
    running = Running(archive)
    running.wait_ready()
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_stream, args=(archive, stop, written))
    writer.start()
    try:
        wait_for(lambda: len(_mirrored_hashes(archive)) >= 30, timeout=30)
        fd = os.open(archive.mirror, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", SHUTDOWN_FLAGS[flag]))
        finally:
            os.close(fd)
        alerts = wait_for(lambda: {"mirror_write", "mirror_missing"} & set(running.status()["alerts"]), timeout=30)
        reported = _mirrored_hashes(archive)  # after the cut: nothing can be reported done any more
        time.sleep(1)  # more copies attempted against the dead disk
        stop.set()
        writer.join()
        assert running.proc.poll() is None, "the service must stay up"
        assert set(running.status()["alerts"]) & {"mirror_write", "mirror_missing"}, alerts
        ext4_mirror.unmount()
        ext4_mirror.mount()  # the journal is replayed: this is the disk after the power came back
        for rel, digest in reported.items():
            copy = archive.mirror / rel
            assert copy.is_file(), f"reported mirrored, missing after the power cut: {rel}"
            assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest, f"reported mirrored, damaged: {rel}"
        wait_for(lambda: tree_files(archive.mirror) == tree_files(archive.root), timeout=60)
        status = wait_for(lambda: not (s := running.status())["alerts"] and s, timeout=30)
        assert status["mirror"]["unmirrored"] == 0
        assert not list(archive.mirror.rglob(".dangan-tmp-*"))  # nothing partial left after the replay
        print(f"{flag}: {len(reported)} files reported done before the cut, all intact; {len(written)} written")
    finally:
        stop.set()
        writer.join()
        assert running.stop() == 0
    assert "Traceback" not in (archive.base / "service.log").read_text(errors="replace")


def test_hung_mirror_times_out_with_an_alert_and_catches_up(archive, ext4_mirror):
    """fsfreeze: writes to the mirror block in the kernel. The copy is declared hung after
    stall_seconds, the admin is told, events keep being registered, and all is mirrored after a thaw."""
    if not shutil.which("fsfreeze"):
        pytest.skip("needs fsfreeze (util-linux)")
    set_mirror_settings(archive, extra="  stall_seconds: 2\n")
    running = Running(archive)
    running.wait_ready()
    frozen = False
    try:
        archive.write(f"{TASK}/before.txt", b"before the freeze")
        wait_for(lambda: same_on_mirror(archive, f"{TASK}/before.txt"))
        assert run("fsfreeze", "-f", str(archive.mirror)).returncode == 0
        frozen = True
        for i in range(20):
            archive.write(f"{TASK}/frozen/{i:02d}.txt", f"written while the mirror hung {i}".encode())
        alert = wait_for(lambda: running.status()["alerts"].get("mirror_hung"), timeout=30)
        assert "no progress" in alert["reason"]
        # the service is not stuck: it keeps registering what happens (no event lost)
        status = wait_for(lambda: (s := running.status())["files"] >= 21 and s, timeout=30)
        assert status["mirror"]["unmirrored"] == 20
        wait_for(lambda: running.status()["queue"] == 0, timeout=15)  # the status file lags the catalog a little
        running.proc.send_signal(signal.SIGHUP)  # a reload now must not hang the service on the frozen disk
        archive.write(f"{TASK}/late.txt", b"while still frozen")
        wait_for(lambda: running.status()["files"] >= 22, timeout=15)
        assert "重新加载配置推迟" in running.output()  # the log follows language: zh
        assert run("fsfreeze", "-u", str(archive.mirror)).returncode == 0
        frozen = False
        wait_for(lambda: tree_files(archive.mirror) == tree_files(archive.root), timeout=60)
        wait_for(lambda: "mirror_hung" not in running.status()["alerts"], timeout=15)
        assert running.status()["mirror"]["unmirrored"] == 0
        wait_for(lambda: "重新加载配置 " in running.output(), timeout=15)  # done once it answered
    finally:
        if frozen:
            run("fsfreeze", "-u", str(archive.mirror))  # ALWAYS: a frozen fs hangs anything touching it
        assert running.stop() == 0


def test_a_disk_mounted_inside_the_mirror_is_synced_too(archive, ext4_mirror, tmp_path):
    """One batch writing to two file systems (a second disk mounted inside the mirror): each gets
    its own syncfs. A power cut on the inner disk right after the batch loses none of its copies."""
    from dangan.config import loader
    from dangan.store.layout import Layout
    from dangan.store.mirror import SPLIT_FROM, Copied, Mirror
    from dangan.store.tree import open_file

    image = tmp_path / "inner.img"
    run("truncate", "-s", "32M", str(image))
    assert run("mkfs.ext4", "-q", "-F", str(image)).returncode == 0
    outer, inner = "01办公室/A标准建设/外层", "01办公室/B教学诊改/内层"
    (archive.mirror / inner).mkdir(parents=True)
    assert run("mount", "-o", "loop", str(image), str(archive.mirror / inner)).returncode == 0
    try:
        config = loader.load(archive.config)
        mirror = Mirror(Layout.of(config), config.hash_algorithm)
        # outer files first: a single syncfs would go to the outer disk only
        paths = ([f"{outer}/{i:02d}.pdf" for i in range(SPLIT_FROM)]
                 + [f"{inner}/{i:02d}.pdf" for i in range(SPLIT_FROM)])
        for i, rel in enumerate(paths):
            archive.write(rel, b"record %d " % i * 500)
        root = os.fsencode(archive.root)
        results = mirror.copy_many([(rel.encode(), open_file(root, rel.encode()), None) for rel in paths])
        assert all(isinstance(r, Copied) for r in results)
        fd = os.open(archive.mirror / inner, os.O_RDONLY | os.O_DIRECTORY)
        try:  # the power cut, without flushing anything still in memory
            fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", SHUTDOWN_FLAGS["nologflush"]))
        finally:
            os.close(fd)
        assert run("umount", str(archive.mirror / inner)).returncode == 0
        assert run("mount", "-o", "loop", str(image), str(archive.mirror / inner)).returncode == 0
        for i, rel in enumerate(paths):
            assert (archive.mirror / rel).read_bytes() == b"record %d " % i * 500, f"lost in the power cut: {rel}"
    finally:
        run("umount", "-l", str(archive.mirror / inner))


def test_a_restore_onto_a_tree_with_a_disk_mounted_inside_syncs_that_disk_too(archive, tmp_path):
    """A restore whose target holds a second disk (mounted at a department folder): the files it
    journals as restored there survive a power cut of that disk right after the restore."""
    if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        pytest.skip("needs root and e2fsprogs to mount a second disk")
    from test_restore import fill, mirror, restore

    expected = fill(archive)
    mirror(archive)
    target, image = tmp_path / "new-disk", tmp_path / "inner.img"
    run("truncate", "-s", "32M", str(image))
    assert run("mkfs.ext4", "-q", "-F", str(image)).returncode == 0
    (target / "02教务处").mkdir(parents=True)
    assert run("mount", "-o", "loop", str(image), str(target / "02教务处")).returncode == 0
    try:
        code, report = restore(archive, "--from", "mirror", "--to", str(target), "--overwrite")
        assert code == 0 and report["ok"], report
        fd = os.open(target / "02教务处", os.O_RDONLY | os.O_DIRECTORY)
        try:  # the power cut, without flushing anything still in memory
            fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", SHUTDOWN_FLAGS["nologflush"]))
        finally:
            os.close(fd)
        assert run("umount", str(target / "02教务处")).returncode == 0
        assert run("mount", "-o", "loop", str(image), str(target / "02教务处")).returncode == 0
        inside = {rel: data for rel, data in expected.items() if rel.startswith("02教务处/")}
        assert inside
        for rel, data in inside.items():
            assert (target / rel).read_bytes() == data, f"restored, then lost in the power cut: {rel}"
    finally:
        run("umount", "-l", str(target / "02教务处"))
