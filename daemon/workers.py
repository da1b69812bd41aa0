"""Reading many files on all cores: hashing and inspecting are CPU-bound on this hardware (SHA-256
at ~1 GB/s per core), so both cores read, each file once, in large sequential reads."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

POOL_THRESHOLD = 200  # below this many files, starting worker processes costs more than it saves


def parallel_map(fn: Callable[[T], R], jobs: Sequence[T]) -> Iterator[R]:
    """``map(fn, jobs)`` in order, on every core when there are enough jobs; results come as they
    are ready (so a caller can show progress)."""
    workers = os.cpu_count() or 1
    if len(jobs) < POOL_THRESHOLD or workers < 2:
        yield from map(fn, jobs)
        return
    # forkserver: the service that calls this has threads, and fork() with threads is unsafe.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(fn, jobs, chunksize=32)
