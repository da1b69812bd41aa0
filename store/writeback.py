"""The kernel's writeback, from Python: start a file's writeback early (``sync_file_range``) and
make a whole batch durable at once (``syncfs``).

A batch of copies is written first, each file's writeback started as soon as it is written, so
the disk works while the next copies are made. Then one ``syncfs`` makes them all durable, and
another one their renames: on a file system without a journal (ext4 made without one, for
example) every fsync writes the file's inode and its folder synchronously, so a batch of 256 files
costs 256 such round trips one after another, where a syncfs writes each dirty block once. ``syncfs`` reports
write errors only since Linux 5.8 (SYNCFS_REPORTS_ERRORS); before, and whenever it fails, the
caller fsyncs each file instead, which also says which file an error belongs to.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Iterable

SYNC_FILE_RANGE_WRITE = 2


def _libc():  # noqa: ANN202 - a ctypes library or None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def _function(name: str, argtypes: tuple):  # noqa: ANN202 - a ctypes function or None
    function = getattr(_LIBC, name, None)  # not Linux/glibc: None, and the fsyncs do the work
    if function is not None:
        function.argtypes = argtypes
        function.restype = ctypes.c_int
    return function


def _kernel_at_least(major: int, minor: int) -> bool:
    try:
        release = tuple(int(part) for part in os.uname().release.split("-")[0].split(".")[:2])
    except ValueError:
        return False
    return release >= (major, minor)


_LIBC = _libc()
_sync_file_range = _function("sync_file_range", (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint))
_syncfs = _function("syncfs", (ctypes.c_int,))
# Before 5.8 syncfs returned 0 even when writeback had failed: an error would go unseen.
SYNCFS_REPORTS_ERRORS = _syncfs is not None and _kernel_at_least(5, 8)


def start(fd: int) -> None:
    """Ask the kernel to begin writing ``fd``'s dirty pages now (errors are left to the sync)."""
    if _sync_file_range is not None:
        _sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)


def syncfs(fd: int) -> None:
    """Make everything written to the file system holding ``fd`` durable. Raises OSError when
    it cannot (see SYNCFS_REPORTS_ERRORS for when a write error is reported at all)."""
    if _syncfs is None:
        os.sync()  # no libc function: the whole machine, which is never less durable
        return
    if _syncfs(fd) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def syncfs_all(fds: Iterable[int]) -> None:
    """:func:`syncfs` once for each file system holding one of the open files or folders ``fds``
    (a disk mounted inside the tree is a file system of its own, which one syncfs would miss)."""
    by_device: dict[int, int] = {}
    for fd in fds:
        by_device.setdefault(os.fstat(fd).st_dev, fd)
    for fd in by_device.values():
        syncfs(fd)
