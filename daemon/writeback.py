"""Start the kernel's writeback of a file without waiting for it (Linux ``sync_file_range``).

A batch of copies is made durable by one fsync each, after all of them are written. Started
early, the writeback allocates every file's blocks in the same journal transaction, so the first
fsync commits them all and the others find little left to do (ext4 group commit): measured here,
0.15 ms per 100 KiB file against 0.29 ms with fsyncs alone and 0.47 ms one file at a time.
This is only a hint: durability still comes from the fsyncs.
"""

from __future__ import annotations

import ctypes
import ctypes.util

SYNC_FILE_RANGE_WRITE = 2


def _load():  # noqa: ANN202 - a ctypes function or None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None  # not Linux/glibc: the fsyncs alone do the work
    function.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


_sync_file_range = _load()


def start(fd: int) -> None:
    """Ask the kernel to begin writing ``fd``'s dirty pages now (errors are left to the fsync)."""
    if _sync_file_range is not None:
        _sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)
