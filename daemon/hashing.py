"""Content hashes for fixity: SHA-256 by default, SM3 (GB/T 32905) when the config asks for it."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence

from .tree import open_dir

CHUNK = 1 << 20  # large sequential reads: one syscall per MiB
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # never a symlink, never hang on a FIFO

_buffers = threading.local()  # one read buffer per thread, reused: no 1 MiB allocation per file


def hasher(algorithm: str) -> "hashlib._Hash":
    return hashlib.new(algorithm)


def hash_bytes(data: bytes | memoryview, algorithm: str) -> str:
    h = hashlib.new(algorithm, data)
    return h.hexdigest()


def digest_of(fd: int, algorithm: str) -> str:
    """Hash an open descriptor from its position to the end, in 1 MiB reads (the descriptor stays open).

    read() and hashlib release the GIL for buffers above 2 KiB, so threads calling this hash in parallel."""
    buf = getattr(_buffers, "buf", None)
    if buf is None:
        buf = _buffers.buf = bytearray(CHUNK)
    view = memoryview(buf)
    h = hashlib.new(algorithm)
    while n := os.readv(fd, (buf,)):
        h.update(view[:n])
    return h.hexdigest()


def hash_file(path: bytes | str | os.PathLike | int, algorithm: str) -> str:
    """Hash a file (a path, not followed if a symlink, or an open descriptor, then closed) in 1 MiB reads."""
    fd = path if isinstance(path, int) else os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        return digest_of(fd, algorithm)
    finally:
        os.close(fd)


def hash_folder(root: bytes, folder: bytes, names: Sequence[bytes], algorithm: str) -> list[str | None]:
    """Hash files of one folder below ``root``; the folder is opened once, component by component
    without following a symlink. Per name, in order: the hex digest, None when the file (or its
    folder) is gone, or "!" + the reason when it cannot be read."""
    try:
        folder_fd = open_dir(root, folder)
    except FileNotFoundError:
        return [None] * len(names)
    except OSError as exc:
        return ["!" + (exc.strerror or str(exc))] * len(names)
    digests: list[str | None] = []
    try:
        for name in names:
            try:
                fd = os.open(name, READ_FLAGS, dir_fd=folder_fd)
            except FileNotFoundError:
                digests.append(None)
                continue
            except OSError as exc:
                digests.append("!" + (exc.strerror or str(exc)))
                continue
            try:
                digests.append(digest_of(fd, algorithm))
            except OSError as exc:
                digests.append("!" + (exc.strerror or str(exc)))
            finally:
                os.close(fd)
    finally:
        os.close(folder_fd)
    return digests
