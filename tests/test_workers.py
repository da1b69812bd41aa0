"""The worker pool of the first check: every file's digest and facts, in order, on either start method —
forked directly by a process without threads (the `dangan check` command), or from the fork server when
threads run (the service): never fork() beside threads."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from dangan.rules import inspector
from dangan.store.workers import POOL_THRESHOLD, parallel_map

COUNT = POOL_THRESHOLD + 20


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[bytes]]:
    root = tmp_path_factory.mktemp("pool")
    names = [f"{i:03d}.txt".encode() for i in range(COUNT)]
    for i, name in enumerate(names):
        (root / os.fsdecode(name)).write_bytes(b"record %d\n" % i * (i + 1))
    return os.fsencode(root), names


def _inspected(files: tuple[bytes, list[bytes]]) -> None:
    root, names = files
    jobs = [(root, name, os.path.getsize(os.path.join(root, name)), "sha256") for name in names]
    results = list(parallel_map(inspector.inspect_job, jobs, inspector.LIBRARIES))
    assert [digest for digest, _ in results] == [
        hashlib.sha256(b"record %d\n" % i * (i + 1)).hexdigest() for i in range(COUNT)]


def test_a_process_without_threads_forks_its_workers(files):
    assert threading.active_count() == 1
    _inspected(files)


def test_beside_a_thread_the_workers_come_from_the_fork_server(files):
    from multiprocessing import forkserver

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="beside")
    thread.start()
    try:
        _inspected(files)
    finally:
        stop.set()
        thread.join()
    assert getattr(forkserver._forkserver, "_forkserver_pid", None)  # started for this call
