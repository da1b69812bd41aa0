"""Reading many files on all cores: hashing and inspecting are CPU-bound once the data is in the page
cache (SHA-256 runs slower than a disk or the cache delivers), so every core reads, each file once, in
large sequential reads."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TypeVar

from dangan.store.hashing import hash_twins
from dangan.store.progress import Progress

T = TypeVar("T")
R = TypeVar("R")

POOL_THRESHOLD = 200  # below this many files, starting worker processes costs more than it saves
BATCH_FILES = 32  # files per hashing task: few round trips, yet every core stays busy to the end
BATCH_BYTES = 64 << 20


def parallel_map(fn: Callable[[T], R], jobs: Sequence[T], preload: Sequence[str] = ()) -> Iterator[R]:
    """``map(fn, jobs)`` in order, on every core when there are enough jobs; results come as they
    are ready (so a caller can show progress). ``preload`` names the modules ``fn`` needs: imported
    once before the workers are forked (here, or in the fork server), so no worker imports them itself."""
    workers = os.cpu_count() or 1
    if len(jobs) < POOL_THRESHOLD or workers < 2:
        yield from map(fn, jobs)
        return
    if threading.active_count() == 1:
        # A process without threads (the `dangan check` command) forks its workers itself: they start with
        # everything imported, and no fork server has to start and import it all again.
        for name in preload:
            importlib.import_module(name)
        context = multiprocessing.get_context("fork")
    else:
        # forkserver: the service that calls this has threads, and fork() with threads is unsafe.
        context = multiprocessing.get_context("forkserver")
        if preload:  # takes effect when this process starts its fork server (later calls share it)
            context.set_forkserver_preload(list(preload))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(fn, jobs, chunksize=32)


class Hasher:
    """Hashes files on every core while the caller is still finding them.

    Threads, not processes: read() and hashlib release the GIL for large buffers, so the threads
    hash in parallel, with no worker start-up, no imports in workers and nothing pickled. Files are
    queued folder by folder in batches (the folder opened once per batch); ``digests`` waits for all.
    Files queued with a ``twin`` root (the mirror) are compared with the file of the same path
    there while they are hashed: ``identical`` then names the twins that held the same bytes.
    """

    def __init__(self, algorithm: str, progress: Progress | None = None) -> None:
        self.algorithm = algorithm
        self.progress = progress
        self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="hash")
        self._tasks: list[tuple[bytes, bytes | None, bytes, list[bytes], int, Future]] = []
        self.identical: dict[bytes, set[bytes]] = {}  # twin root -> paths holding the same bytes

    def add(self, root: bytes, folder: bytes, files: Sequence[tuple[bytes, int]],
            twin: bytes | None = None) -> None:
        """Queue ``files`` (name, size) of ``folder`` below ``root`` for hashing (and comparing with
        the same paths below ``twin``)."""
        batch: list[bytes] = []
        size = 0
        for name, length in files:
            batch.append(name)
            size += length
            if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
                self._queue(root, twin, folder, batch, size)
                batch, size = [], 0
        if batch:
            self._queue(root, twin, folder, batch, size)

    def _queue(self, root: bytes, twin: bytes | None, folder: bytes, names: list[bytes], size: int) -> None:
        future = self._pool.submit(hash_twins, root, twin, folder, names, self.algorithm)
        self._tasks.append((root, twin, folder, names, size, future))
        if self.progress is not None:
            self.progress.more(len(names), size)

    def digests(self) -> dict[bytes, dict[bytes, str | None]]:
        """Root -> path below it -> digest (None: gone, "!reason": unreadable) of the files queued
        since the last call, once they are all done; fills ``identical`` for their twins."""
        out: dict[bytes, dict[bytes, str | None]] = {}
        tasks, self._tasks = self._tasks, []
        for root, twin, folder, names, size, future in tasks:
            prefix = folder + b"/" if folder else b""
            paths = [prefix + n for n in names]
            results = future.result()
            out.setdefault(root, {}).update(zip(paths, (digest for digest, _ in results)))
            if twin is not None:
                same = (p for p, (_, identical) in zip(paths, results) if identical)
                self.identical.setdefault(twin, set()).update(same)
            if self.progress is not None:
                self.progress.advance(len(names), size)
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "Hasher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
