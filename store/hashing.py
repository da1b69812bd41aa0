"""Content hashes for fixity: SHA-256 by default, SM3 (GB/T 32905) when the config asks for it."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence

from dangan.store.tree import open_dir

CHUNK = 1 << 20  # large sequential reads: one syscall per MiB
INLINE_LIMIT = 64 << 20  # files up to this size are read whole into memory (hashed and inspected in one pass)
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # never a symlink, never hang on a FIFO

_buffers = threading.local()  # one read buffer per thread, reused: no 1 MiB allocation per file


def hasher(algorithm: str) -> "hashlib._Hash":
    return hashlib.new(algorithm)


def hash_bytes(data: bytes | memoryview, algorithm: str) -> str:
    h = hashlib.new(algorithm, data)
    return h.hexdigest()


def read_buffer() -> bytearray:
    """This thread's reusable 1 MiB read buffer (fresh memory for every chunk costs page faults)."""
    buf = getattr(_buffers, "buf", None)
    if buf is None:
        buf = _buffers.buf = bytearray(CHUNK)
    return buf


def digest_of(fd: int, algorithm: str) -> str:
    """Hash an open descriptor from its position to the end, in 1 MiB reads (the descriptor stays open).

    read() and hashlib release the GIL for buffers above 2 KiB, so threads calling this hash in parallel."""
    buf = read_buffer()
    view = memoryview(buf)
    h = hashlib.new(algorithm)
    while n := os.readv(fd, (buf,)):
        h.update(view[:n])
    return h.hexdigest()


def hash_fd(fd: int, algorithm: str) -> str:
    """Hash an open file from its start with positional reads (its offset is left alone)."""
    buf = read_buffer()
    view = memoryview(buf)
    h = hashlib.new(algorithm)
    offset = 0
    while n := os.preadv(fd, [buf], offset):
        h.update(view[:n])
        offset += n
    return h.hexdigest()


def hash_file(path: bytes | str | os.PathLike | int, algorithm: str) -> str:
    """Hash a file (a path, not followed if a symlink, or an open descriptor, then closed) in 1 MiB reads."""
    fd = path if isinstance(path, int) else os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        return digest_of(fd, algorithm)
    finally:
        os.close(fd)


def digest_and_compare(fd: int, twin: int, algorithm: str) -> tuple[str, bool]:
    """Hash ``fd`` to the end and compare ``twin`` with it byte for byte, read for read; return the
    digest and whether ``twin`` held exactly the same bytes (same length, same content).

    Equal bytes have the same hash, so a twin that compares equal is proven by this one digest: a
    comparison costs about a tenth of hashing. A read error on the twin only means "not proven"."""
    h = hashlib.new(algorithm)
    same = True
    while chunk := os.read(fd, CHUNK):
        h.update(chunk)
        if same:
            try:
                same = os.read(twin, len(chunk)) == chunk
            except OSError:
                same = False
    if same:
        try:
            same = os.read(twin, 1) == b""  # the twin is not longer
        except OSError:
            same = False
    return h.hexdigest(), same


def hash_folder(root: bytes, folder: bytes, names: Sequence[bytes], algorithm: str) -> list[str | None]:
    """Hash files of one folder below ``root``; the folder is opened once, component by component
    without following a symlink. Per name, in order: the hex digest, None when the file (or its
    folder) is gone, or "!" + the reason when it cannot be read."""
    return [digest for digest, _ in hash_twins(root, None, folder, names, algorithm)]


def hash_twins(root: bytes, twin_root: bytes | None, folder: bytes, names: Sequence[bytes],
               algorithm: str) -> list[tuple[str | None, bool]]:
    """``hash_folder``, and per file whether the file of the same path below ``twin_root`` (the
    mirror) holds exactly the same bytes; False when there is no twin root, or the twin is missing,
    different or unreadable (the caller then hashes it on its own to say what is wrong)."""
    try:
        folder_fd = open_dir(root, folder)
    except FileNotFoundError:
        return [(None, False)] * len(names)
    except OSError as exc:
        return [("!" + (exc.strerror or str(exc)), False)] * len(names)
    twin_fd = None
    if twin_root is not None:
        try:
            twin_fd = open_dir(twin_root, folder)
        except OSError:
            pass  # no twin folder: every twin is unproven
    out: list[tuple[str | None, bool]] = []
    try:
        for name in names:
            try:
                fd = os.open(name, READ_FLAGS, dir_fd=folder_fd)
            except FileNotFoundError:
                out.append((None, False))
                continue
            except OSError as exc:
                out.append(("!" + (exc.strerror or str(exc)), False))
                continue
            twin = None
            if twin_fd is not None:
                try:
                    twin = os.open(name, READ_FLAGS, dir_fd=twin_fd)
                except OSError:
                    pass
            try:
                out.append(digest_and_compare(fd, twin, algorithm) if twin is not None
                           else (digest_of(fd, algorithm), False))
            except OSError as exc:
                out.append(("!" + (exc.strerror or str(exc)), False))
            finally:
                os.close(fd)
                if twin is not None:
                    os.close(twin)
    finally:
        os.close(folder_fd)
        if twin_fd is not None:
            os.close(twin_fd)
    return out
