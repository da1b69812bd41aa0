"""Mirror.copy_many: copies go to the mirror as a batch, each with its own outcome; batches in a
pipeline (Keeper.launch / Keeper.land on the stall guard's one helper thread)."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest
from makers import TASK

from dangan.config import loader
from dangan.daemon.alerts import Alerts
from dangan.store.catalog import Catalog
from dangan.daemon.keeper import Keeper, Outcome
from dangan.store.layout import Layout
from dangan.store import writeback
from dangan.store.mirror import SPLIT_FROM, TEMP_PREFIX, ContentMismatch, Copied, Mirror, _holds, _Staged
from dangan.daemon.stall import MIRROR_THREADS, StallGuard
from dangan.store.tree import open_file

# Two folders in one batch: the second does not exist on the mirror yet.
OTHER = "01办公室/A标准建设/A2新任务"
PATHS = [f"{TASK}/{i}.pdf" for i in range(3)] + [f"{OTHER}/{i}.pdf" for i in range(2)]


def _sources(archive, expect: dict[str, str] | None = None) -> list[tuple[bytes, int, str | None]]:
    root = os.fsencode(archive.root)
    expect = expect or {}
    return [(rel.encode(), open_file(root, rel.encode()), expect.get(rel)) for rel in PATHS]


def test_a_batch_copies_each_file_and_a_bad_one_spoils_nothing(archive):
    config = loader.load(archive.config)
    mirror = Mirror(Layout.of(config), config.hash_algorithm)
    for i, rel in enumerate(PATHS):
        archive.write(rel, b"first %d" % i, mtime=1_700_000_000 + i)
    first = mirror.copy_many(_sources(archive))
    assert [type(r) for r in first] == [Copied] * len(PATHS)
    for i, (rel, result) in enumerate(zip(PATHS, first)):
        copy = archive.mirror / rel
        assert copy.read_bytes() == b"first %d" % i
        assert copy.stat().st_mtime_ns == archive.path(rel).stat().st_mtime_ns
        assert result.digest == hashlib.sha256(b"first %d" % i).hexdigest() and result.kept is None

    # Second batch: the first file has new content; the second is not what the catalog expects
    # (a rotting archive disk).
    archive.write(PATHS[0], b"second")
    second = mirror.copy_many(_sources(archive, {PATHS[1]: hashlib.sha256(b"other").hexdigest()}))
    assert isinstance(second[1], ContentMismatch)
    assert (archive.mirror / PATHS[1]).read_bytes() == b"first 1"  # the good copy stays
    assert isinstance(second[0], Copied) and second[0].kept is not None  # the old one became a version
    assert (archive.mirror / PATHS[0]).read_bytes() == b"second"
    assert all(isinstance(r, Copied) for r in second[2:])
    left = [p for p in archive.mirror.rglob("*") if os.fsencode(p.name).startswith(TEMP_PREFIX)]
    assert not left


def test_stage_follows_a_replaced_mirror_copy(archive):
    """The off-site stage hard-links mirror copies. When a copy is replaced (an audit repair renames
    a good copy over a rotten one), staging it again must link the new inode, not keep the old."""
    config = loader.load(archive.config)
    mirror = Mirror(Layout.of(config), config.hash_algorithm)
    rel = PATHS[0]
    archive.write(rel, b"the record")
    mirror.copy_many([(rel.encode(), open_file(os.fsencode(archive.root), rel.encode()), None)])
    name = "data/ab/abcdef"
    assert mirror.stage([(rel.encode(), name)], "stage") == []
    staged = archive.mirror / ".dangan" / "stage" / name
    copy = archive.mirror / rel
    assert staged.stat().st_ino == copy.stat().st_ino
    rotten = staged.read_bytes()
    copy.write_bytes(b"the reXord")  # rot in place: the stage shares the inode
    fresh = copy.with_name("fresh")
    fresh.write_bytes(rotten)
    fresh.rename(copy)  # the repair: a good copy renamed over it
    assert mirror.stage([(rel.encode(), name)], "stage") == []
    assert staged.stat().st_ino == copy.stat().st_ino and staged.read_bytes() == b"the record"
    assert not [p for p in staged.parent.iterdir() if p.name.startswith(".dangan-tmp-")]

def test_a_second_submit_waits_for_the_first_and_each_gets_its_own_result():
    """One mirror call in flight at a time: submitting while one runs collects it first, and no
    result is handed to the wrong caller."""
    guard = StallGuard(stall_seconds=30)
    ran: list[str] = []

    def slow() -> str:
        time.sleep(0.3)
        ran.append("slow")
        return "slow"

    def quick() -> str:
        ran.append("quick")
        return "quick"

    first = guard.submit(None, slow)
    second = guard.submit(None, quick)
    assert first.outcome == (True, "slow")  # collected by the second submit, before it started
    assert guard.result(second) == "quick" and guard.result(first) == "slow"
    assert ran == ["slow", "quick"]
    guard.close()


def test_launched_batches_overlap_and_each_lands_registered(archive):
    """The service's pipeline: batch 2 is launched before batch 1 is landed; both end registered
    as mirrored, with their copies on the mirror."""
    config = loader.load(archive.config)
    for i, rel in enumerate(PATHS):
        archive.write(rel, b"content %d" % i)
    with Catalog(Layout.of(config).catalog_path) as catalog:
        keeper = Keeper(config, catalog, Mirror(Layout.of(config), config.hash_algorithm), Alerts())
        paths = [rel.encode() for rel in PATHS]
        (_, one), = keeper.batches(paths[:3])
        first = keeper.launch(one)
        (_, two), = keeper.batches(paths[3:])
        second = keeper.launch(two)
        assert keeper.land(first) == {p: Outcome.DONE for p in paths[:3]}
        assert keeper.land(second) == {p: Outcome.DONE for p in paths[3:]}
        for i, rel in enumerate(PATHS):
            assert (archive.mirror / rel).read_bytes() == b"content %d" % i
            assert catalog.record(rel.encode()).mirrored
        keeper.stall.close()


@pytest.mark.parametrize("syncfs", [True, False], ids=["syncfs", "fsync-each"])
def test_a_large_batch_split_between_threads_keeps_each_outcome_in_order(archive, monkeypatch, syncfs):
    """A batch of 2 x SPLIT_FROM files or more is written by two threads, and made durable by one
    syncfs (or, on a kernel whose syncfs cannot report errors, an fsync per file and folder):
    each source still gets its own outcome, in order, whichever half it fell into."""
    monkeypatch.setattr(writeback, "SYNCFS_REPORTS_ERRORS", syncfs)
    config = loader.load(archive.config)
    mirror = Mirror(Layout.of(config), config.hash_algorithm)
    paths = [f"{TASK if i % 3 else OTHER}/big{i:02d}.pdf" for i in range(2 * SPLIT_FROM + 3)]
    for i, rel in enumerate(paths):
        archive.write(rel, b"content %d" % i)
    wrong = {1, len(paths) - 2}  # one in each half: not what the catalog expects
    root = os.fsencode(archive.root)
    results = mirror.copy_many([(rel.encode(), open_file(root, rel.encode()),
                                 hashlib.sha256(b"other").hexdigest() if i in wrong else None)
                                for i, rel in enumerate(paths)])
    assert [isinstance(r, ContentMismatch) for r in results] == [i in wrong for i in range(len(paths))]
    for i, (rel, result) in enumerate(zip(paths, results)):
        if i in wrong:
            assert not (archive.mirror / rel).exists()
        else:
            assert result.digest == hashlib.sha256(b"content %d" % i).hexdigest()
            assert (archive.mirror / rel).read_bytes() == b"content %d" % i
    assert not [p for p in archive.mirror.rglob("*") if os.fsencode(p.name).startswith(TEMP_PREFIX)]


@pytest.mark.parametrize("kept", [True, False], ids=["compared", "hashed"])
def test_the_read_back_sees_a_copy_that_differs_from_what_was_read(tmp_path, kept):
    """After the sync every copy is read back: compared with the content still in memory (a small
    file) or hashed (a large one). A flipped byte, a missing tail or an extra byte all fail it."""
    content = bytes(range(256)) * 12_289  # more than one read chunk (3 MiB + 3 KiB)
    digest = hashlib.sha256(content).hexdigest()
    path = tmp_path / "copy"
    for damaged in (content, content[:100] + b"X" + content[101:], content[:-1], content + b"\0"):
        path.write_bytes(damaged)
        fd = os.open(path, os.O_RDONLY)
        try:
            item = _Staged(0, b"a/copy", -1, b"", fd, digest, content if kept else None)
            assert _holds(item, "sha256") is (damaged == content)
        finally:
            os.close(fd)


def test_a_call_whose_writing_thread_keeps_writing_is_not_declared_hung(tmp_path):
    """A mirror call shares its writing with threads of its own (copy_many's writers). While one of
    them keeps writing, the call makes progress even though the calling thread only waits for it."""
    guard = StallGuard(stall_seconds=1)

    def call_with_a_slow_writer() -> str:
        def write() -> None:
            with open(tmp_path / "slow", "wb") as f:
                for _ in range(30):  # 3 s of steady writes
                    f.write(b"x" * 4096)
                    f.flush()
                    time.sleep(0.1)
        writer = threading.Thread(target=write, name=MIRROR_THREADS + "-write")
        writer.start()
        writer.join()
        return "done"

    try:
        assert guard.call(None, call_with_a_slow_writer) == "done"
    finally:
        guard.close()
