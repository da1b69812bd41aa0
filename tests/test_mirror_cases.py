"""The mirror's hostile cases (issues 12 and 20): a path that changes kind, names that start with
``.dangan``, a source deleted during its copy, sparse files, temps of an interrupted one-shot
mirror, a mirror disk emptied or replaced, and folders deeper than PATH_MAX. Real files, real
inotify, the real service."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest
from makers import TASK, text_pdf_bytes
from service_helpers import DANGAN, Running, same_on_mirror, set_mirror_settings, versions, wait_for

from dangan.config import loader
from dangan.daemon.alerts import Alerts
from dangan.daemon.keeper import Keeper
from dangan.store.catalog import Catalog
from dangan.store.hashing import INLINE_LIMIT
from dangan.store.layout import Layout, is_own
from dangan.store import mirror as mirror_module
from dangan.store.mirror import Mirror, MirrorWriteError
from dangan.store.tree import open_file


def _same(archive, rel: str) -> bool:
    """same_on_mirror, false while the mirror still holds the path's old kind (NotADirectory)."""
    try:
        return same_on_mirror(archive, rel)
    except OSError:
        return False


def _records(archive) -> dict[str, bool]:
    """Live catalog records -> whether the catalog says they are mirrored."""
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        return {os.fsdecode(p): m is not None and m == h for p, m, h in db.execute(
            "SELECT path, mirror_hash, hash FROM files WHERE removed_at IS NULL")}


def _mirror_tool(archive) -> tuple[Mirror, Layout]:
    config = loader.load(archive.config)
    layout = Layout.of(config)
    return Mirror(layout, config.hash_algorithm), layout


# -- 12.1 a path that changes kind -----------------------------------------------------------------
def test_file_becomes_folder_then_folder_becomes_file(service, archive):
    rel = f"{TASK}/资料"
    archive.write(rel, b"once a file")
    wait_for(lambda: _same(archive, rel))
    # one process, within a moment: the file goes, a folder of the same name comes with a file inside
    os.unlink(archive.path(rel))
    archive.write(f"{rel}/内页.pdf", b"now a folder's file")
    wait_for(lambda: _same(archive, f"{rel}/内页.pdf"), timeout=20)
    assert [v.read_bytes() for v in versions(archive, rel)] == [b"once a file"]  # the old record is a version
    wait_for(lambda: rel not in _records(archive) and _records(archive).get(f"{rel}/内页.pdf"))
    # and back: the folder goes, a file of the same name comes
    shutil.rmtree(archive.path(rel))
    archive.write(rel, b"a file again")
    wait_for(lambda: _same(archive, rel), timeout=20)
    assert [v.read_bytes() for v in versions(archive, f"{rel}/内页.pdf")] == [b"now a folder's file"]
    wait_for(lambda: f"{rel}/内页.pdf" not in _records(archive) and _records(archive).get(rel))
    # nothing stalls behind it: the next files arrive at once
    for i in range(5):
        archive.write(f"{TASK}/后来{i}.pdf", f"later {i}".encode())
    wait_for(lambda: all(_same(archive, f"{TASK}/后来{i}.pdf") for i in range(5)), timeout=10)
    assert "mirror_write" not in service.status()["alerts"]


def test_kind_changes_found_by_a_reconcile(archive):
    """The same changes made while the service is down, found by `dangan mirror`'s walk (the new
    path's arrival comes before the old record's removal there)."""
    set_mirror_settings(archive)
    run = lambda: subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], capture_output=True,  # noqa: E731
                                 text=True, timeout=60)
    archive.write(f"{TASK}/甲", b"file a")
    archive.write(f"{TASK}/乙/内.pdf", b"folder b's file")
    assert run().returncode == 0
    os.unlink(archive.path(f"{TASK}/甲"))
    archive.write(f"{TASK}/甲/内.pdf", b"a is a folder now")
    shutil.rmtree(archive.path(f"{TASK}/乙"))
    archive.write(f"{TASK}/乙", b"b is a file now")
    done = run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert _same(archive, f"{TASK}/甲/内.pdf") and _same(archive, f"{TASK}/乙")
    assert [v.read_bytes() for v in versions(archive, f"{TASK}/甲")] == [b"file a"]
    assert [v.read_bytes() for v in versions(archive, f"{TASK}/乙/内.pdf")] == [b"folder b's file"]
    assert _records(archive) == {f"{TASK}/甲/内.pdf": True, f"{TASK}/乙": True}
    assert run().returncode == 0  # and it stays settled: nothing lacking, nothing pending


def test_one_failing_path_does_not_stop_the_batch(archive):
    """A copy that fails for its own path (here a mirror folder made immutable) fails alone: the rest
    of the batch is copied, and the failure is not taken for the whole disk's."""
    mirror, _ = _mirror_tool(archive)
    names = [f"{TASK}/{i:02d}.pdf" for i in range(40)]
    for rel in names:
        archive.write(rel, rel.encode() * 10)
    archive.write("blocked/卷宗.pdf", b"blocked")
    os.makedirs(archive.mirror / "blocked")
    if subprocess.run(["chattr", "+i", str(archive.mirror / "blocked")], capture_output=True).returncode:
        pytest.skip("chattr +i is not available on this file system")
    try:
        root = os.fsencode(archive.root)
        batch = ["blocked/卷宗.pdf", *names]
        results = mirror.copy_many([(os.fsencode(r), open_file(root, os.fsencode(r)), None) for r in batch])
    finally:
        subprocess.run(["chattr", "-i", str(archive.mirror / "blocked")], check=True)
    assert isinstance(results[0], MirrorWriteError) and not getattr(results[0], "whole_disk", True)
    assert all(not isinstance(r, Exception) for r in results[1:])
    assert all(same_on_mirror(archive, rel) for rel in names)


def test_keeper_retries_a_failing_path_alone(archive):
    """The keeper takes a path's own failure for that path's: no pause of every copy, no flapping
    alert; the path waits out its own back-off and is copied once the obstacle is gone."""
    config = loader.load(archive.config)
    layout = Layout.of(config)
    catalog = Catalog(layout.catalog_path)
    alerts = Alerts()
    keeper = Keeper(config, catalog, Mirror(layout, config.hash_algorithm), alerts)
    blocked = archive.mirror / "blocked"
    try:
        archive.write("blocked/卷宗.pdf", b"blocked")
        os.makedirs(blocked)
        if subprocess.run(["chattr", "+i", str(blocked)], capture_output=True).returncode:
            pytest.skip("chattr +i is not available on this file system")
        keeper.arrived_many([os.fsencode("blocked/卷宗.pdf")])
        assert keeper.mirror_writable(), "one path's failure paused the whole mirror"
        assert "mirror_write" not in alerts.active
        archive.write(f"{TASK}/next.pdf", b"next")
        keeper.arrived_many([os.fsencode(f"{TASK}/next.pdf")])
        assert same_on_mirror(archive, f"{TASK}/next.pdf")
        subprocess.run(["chattr", "-i", str(blocked)], check=True)
        wait_for(lambda: keeper.backoff.due(os.fsencode("blocked/卷宗.pdf")), timeout=5)
        keeper.arrived_many([os.fsencode("blocked/卷宗.pdf")])
        assert same_on_mirror(archive, "blocked/卷宗.pdf")
    finally:
        subprocess.run(["chattr", "-i", str(blocked)], capture_output=True)
        keeper.stall.close()
        catalog.close()


# -- 12.7 names that start with .dangan ------------------------------------------------------------
def test_own_names_are_an_exact_set():
    assert is_own(b".dangan-archive", top=True) and is_own(b".dangan", top=True)
    assert is_own(b".dangan-tmp-0123456789ab") and is_own(b".dangan-tmp-0123456789ab", top=True)
    records = (b".dangan-notes.txt", b".dangan", b".dangan-archive", b".dangan-v", b".dangan-tmp-notes.txt")
    for record in records:
        assert not is_own(record), record
    assert not is_own(b".dangan-notes.txt", top=True)


def test_user_names_starting_with_dangan_are_records(service, archive):
    users = [f"{TASK}/.dangan-notes.txt", f"{TASK}/.dangan/说明.pdf", ".dangan-notes.txt"]
    for rel in users:
        archive.write(rel, f"user's own {rel}".encode())
    wait_for(lambda: all(same_on_mirror(archive, rel) for rel in users), timeout=15)
    wait_for(lambda: all(_records(archive).get(rel) for rel in users))  # registered just after the copy
    # how restore lands a file: a temp of dangan's own renamed to the record's name; taken at once
    temp = archive.write(f"{TASK}/.dangan-tmp-0123456789ab", b"restored content")
    time.sleep(0.5)
    os.rename(temp, archive.path(f"{TASK}/恢复的.pdf"))
    wait_for(lambda: same_on_mirror(archive, f"{TASK}/恢复的.pdf"), timeout=10)
    assert not (archive.mirror / TASK / ".dangan-tmp-0123456789ab").exists()


def test_a_top_level_dangan_folder_is_said_to_be_reserved(archive, capsys):
    """At the archive's top, ``.dangan`` is the mirror's own area and cannot be mirrored: check says
    so (below the top it is a record, see above)."""
    archive.write(".dangan/笔记.pdf", text_pdf_bytes())
    _, report = archive.check(capsys=capsys)
    assert [s for s in report["skipped"] if s["reason"] == "reserved"], report["skipped"]


# -- 12.8 a source deleted during its copy ---------------------------------------------------------
def test_copy_of_a_vanished_source_is_discarded(archive):
    mirror, _ = _mirror_tool(archive)
    source = archive.write(f"{TASK}/大文件.pdf", b"x" * (3 << 20))
    fd = open_file(os.fsencode(archive.root), os.fsencode(f"{TASK}/大文件.pdf"))
    os.unlink(source)  # deleted while (before) its copy runs: the open descriptor still reads it
    with pytest.raises(getattr(mirror_module, "SourceGone", Exception)):
        mirror.copy(os.fsencode(f"{TASK}/大文件.pdf"), fd)
    assert not (archive.mirror / TASK / "大文件.pdf").exists()
    assert [n for n in os.listdir(archive.mirror / TASK) if n.startswith(".dangan-tmp-")] == []


def test_keeper_leaves_no_ghost_when_the_source_goes_during_its_copy(archive):
    """Whatever the timing, a copy on the mirror under a record's name is a copy the catalog knows."""
    config = loader.load(archive.config)
    layout = Layout.of(config)
    catalog = Catalog(layout.catalog_path)
    keeper = Keeper(config, catalog, Mirror(layout, config.hash_algorithm), Alerts())
    try:
        rel = os.fsencode(f"{TASK}/会议录像.pdf")
        archive.write(rel, b"y" * (INLINE_LIMIT + 4096))  # larger than what is inspected in memory
        (arrival,) = [a for _, batch in keeper.batches([rel]) for a in batch]
        flight = keeper.launch([arrival])
        os.unlink(archive.path(rel))
        keeper.land(flight)
        keeper.gone(rel)
        keeper.apply_removals([rel])
        on_mirror = (archive.mirror / os.fsdecode(rel)).exists()
        assert not on_mirror or catalog.record(rel) is not None
    finally:
        keeper.stall.close()
        catalog.close()


# -- 12.9 sparse files, and temps of an interrupted one-shot mirror --------------------------------
def test_sparse_file_keeps_its_holes(archive):
    mirror, _ = _mirror_tool(archive)
    rel = f"{TASK}/稀疏.img"
    path = archive.path(rel)
    path.parent.mkdir(parents=True)
    with open(path, "wb") as f:
        f.seek(100 << 20)
        f.write(b"data in the middle" * 200)
        f.truncate(256 << 20)
    if os.stat(path).st_blocks * 512 > (1 << 20):
        pytest.skip("this file system does not keep holes")
    copied = mirror.copy(os.fsencode(rel), open_file(os.fsencode(archive.root), os.fsencode(rel)))
    copy = archive.mirror / rel
    assert copy.stat().st_size == 256 << 20
    assert copy.stat().st_blocks * 512 < (1 << 20), "the holes were written out"
    assert same_on_mirror(archive, rel)
    import hashlib
    h = hashlib.new(loader.load(archive.config).hash_algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    assert copied.digest == h.hexdigest()


def test_one_shot_mirror_sweeps_temps_an_interrupted_one_left(archive):
    set_mirror_settings(archive)
    archive.write(f"{TASK}/a.pdf", b"a")
    (archive.mirror / TASK).mkdir(parents=True)
    left = archive.mirror / TASK / ".dangan-tmp-0123456789ab"
    left.write_bytes(b"half a copy")
    done = subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not left.exists()


# -- 20.1 a mirror disk emptied or replaced, a copy deleted behind dangan's back --------------------
def _empty_mirror(archive) -> None:
    for entry in archive.mirror.iterdir():
        if entry.name != ".dangan":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def test_one_shot_mirror_refills_an_emptied_mirror(archive):
    set_mirror_settings(archive)
    names = [f"{TASK}/{i}.pdf" for i in range(6)]
    for rel in names:
        archive.write(rel, rel.encode())
    run = lambda: subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], capture_output=True,  # noqa: E731
                                 text=True, timeout=60)
    assert run().returncode == 0
    _empty_mirror(archive)
    done = run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(same_on_mirror(archive, rel) for rel in names)
    assert "6" in done.stdout and "补齐" in done.stdout, done.stdout  # said, with the count
    os.unlink(archive.mirror / names[2])  # one copy deleted behind dangan's back
    done = run()
    assert same_on_mirror(archive, names[2]) and "1" in done.stdout and "补齐" in done.stdout


def test_service_refills_a_replaced_mirror_at_start_and_reload(archive):
    set_mirror_settings(archive, max_delete_count=20)
    names = [f"{TASK}/{i}.pdf" for i in range(15)]
    for rel in names:
        archive.write(rel, rel.encode())
    running = Running(archive)
    try:
        running.wait_ready()
        wait_for(lambda: all(same_on_mirror(archive, rel) for rel in names))
        assert running.stop() == 0
        _empty_mirror(archive)  # the disk was replaced by a new, empty one (marker in place)
        running = Running(archive)
        running.wait_ready()
        wait_for(lambda: all(same_on_mirror(archive, rel) for rel in names), timeout=20)
        assert "补齐" in running.output() or "refill" in running.output()
        os.unlink(archive.mirror / names[3])  # a copy deleted behind dangan's back
        running.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: same_on_mirror(archive, names[3]), timeout=20)
        # a new mirror root (the new disk mounted elsewhere, its marker in place), then a reload
        new_root = archive.base / "mirror2"
        (new_root / ".dangan").mkdir(parents=True)
        shutil.copy2(archive.mirror / ".dangan" / "marker", new_root / ".dangan" / "marker")
        text = archive.config.read_text(encoding="utf-8")
        text = text.replace(f'mirror_root: "{archive.mirror}"', f'mirror_root: "{new_root}"')
        archive.config.write_text(text, encoding="utf-8")
        assert str(new_root) in archive.config.read_text(encoding="utf-8")
        running.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: all((new_root / rel).is_file() and (new_root / rel).read_bytes() == rel.encode()
                             for rel in names), timeout=20)
    finally:
        if running.proc.poll() is None:
            running.stop()


# -- 20.6 folders deeper than PATH_MAX --------------------------------------------------------------
def _deep_folder(archive) -> list[str]:
    parts = [TASK] + ["深" * 66 + f"{i:02d}" for i in range(22)]  # 200 bytes a level, ~4.4 KB in all
    os.makedirs(archive.path(TASK), exist_ok=True)
    fd = os.open(archive.path(TASK), os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in parts[1:]:
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)
    return parts


def _at(root, parts: list[str], name: str, data: bytes | None = None) -> bytes | None:
    """Write (or read) ``name`` in the folder ``parts`` below ``root`` without a whole path."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts:
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        if data is None:
            try:
                f = os.open(name, os.O_RDONLY, dir_fd=fd)
            except FileNotFoundError:
                return None
            try:
                return os.read(f, 1 << 20)
            finally:
                os.close(f)
        f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=fd)
        os.write(f, data)
        os.close(f)
        return data
    except FileNotFoundError:
        return None
    finally:
        os.close(fd)


def test_change_deeper_than_path_max_reaches_the_mirror_without_the_hourly_reconcile(archive):
    set_mirror_settings(archive)
    parts = _deep_folder(archive)
    _at(archive.root, parts, "底层.pdf", b"first")
    running = Running(archive)
    try:
        running.wait_ready()
        wait_for(lambda: _at(archive.mirror, parts, "底层.pdf") == b"first", timeout=20)
        _at(archive.root, parts, "底层.pdf", b"second, changed")
        _at(archive.root, parts, "新的.pdf", b"new")
        wait_for(lambda: _at(archive.mirror, parts, "底层.pdf") == b"second, changed"
                 and _at(archive.mirror, parts, "新的.pdf") == b"new", timeout=20)
    finally:
        running.stop()
