"""Content hashes for fixity: SHA-256 by default, SM3 (GB/T 32905) when the config asks for it."""

from __future__ import annotations

import hashlib
import os

CHUNK = 1 << 20  # large sequential reads: one syscall per MiB


def hasher(algorithm: str) -> "hashlib._Hash":
    return hashlib.new(algorithm)


def hash_bytes(data: bytes | memoryview, algorithm: str) -> str:
    h = hashlib.new(algorithm, data)
    return h.hexdigest()


def hash_file(path: bytes | str | os.PathLike | int, algorithm: str) -> str:
    """Hash a file (a path, not followed if a symlink, or an open descriptor, then closed) in 1 MiB reads."""
    h = hashlib.new(algorithm)
    fd = path if isinstance(path, int) else os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with open(fd, "rb", buffering=0) as f:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()
