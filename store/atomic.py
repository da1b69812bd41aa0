"""One way to write: every file dangan creates goes through here, and nothing here follows a symlink.

A root (the archive, the mirror, the state folder, a restore target, a report folder: a path the
admin configured or typed) may itself be reached through a symlink the admin set up. Everything
*below* a root is opened relative to the folder before it, never following a symlink (``openat2``
with ``RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH`` where the kernel has it, else one ``O_NOFOLLOW``
component at a time), so a symlink planted in a root (``.dangan-restore`` pointing at ``/etc``, a
``journal.jsonl`` pointing at a file outside) makes the write fail instead of landing outside.

A file is replaced atomically: a temp with a random name created with ``O_EXCL | O_NOFOLLOW`` in
the same folder, written, fsynced, renamed over the final name (a rename replaces a symlink at the
final name, it never writes through it), and the folder fsynced.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Callable

from dangan.store.resolve import beneath

TEMP_PREFIX = b".dangan-tmp-"
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC  # the root itself may be reached through a symlink
CREATE_FLAGS = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

PathArg = str | os.PathLike | bytes


def fsync_dir(path: PathArg | int) -> None:
    """fsync a folder: an open descriptor, or a root's path."""
    if isinstance(path, int):
        os.fsync(path)
        return
    fd = os.open(path, ROOT_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_root(root: PathArg, create: bool = False, mode: int = 0o755) -> int:
    """Open a configured root folder (created with its parents when asked and missing)."""
    if create:
        os.makedirs(root, mode=mode, exist_ok=True)
    return os.open(root, ROOT_FLAGS)


def open_folder(root: PathArg | int, relpath: bytes, create: bool = False, mode: int = 0o755,
                modes: Callable[[bytes], int | None] | None = None) -> int:
    """Open the folder ``relpath`` below ``root`` (a path or an open folder) without following any
    symlink on the way (a symlink fails with ELOOP or ENOTDIR), creating missing folders with ``mode``
    when asked, or with ``modes(their relative path)`` where that gives one (a copy keeps the
    original's 0700). The caller closes the returned descriptor."""
    relpath = relpath.strip(b"/")
    fd = os.dup(root) if isinstance(root, int) else os.open(root, ROOT_FLAGS)
    if relpath and not create:
        try:
            child = beneath(fd, relpath, FOLDER_FLAGS)  # the same walk in one system call, where it can
        except BaseException:
            os.close(fd)
            raise
        if child is not None:
            os.close(fd)
            return child
    parts = relpath.split(b"/") if relpath else []
    for depth, part in enumerate(parts):
        try:
            if part in (b"..", b"."):
                raise OSError(22, os.strerror(22), os.fsdecode(relpath))
            try:
                child = os.open(part, FOLDER_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                wanted = modes(b"/".join(parts[: depth + 1])) if modes else None
                try:
                    os.mkdir(part, mode if wanted is None else wanted, dir_fd=fd)
                except FileExistsError:
                    wanted = None
                child = os.open(part, FOLDER_FLAGS, dir_fd=fd)
                if wanted is not None:
                    os.fchmod(child, wanted)  # exactly, whatever the umask took away
        finally:
            os.close(fd)
        fd = child
    return fd


def folder_modes(root: PathArg) -> Callable[[bytes], int | None]:
    """``modes`` for :func:`open_folder` copying the permission bits of the same folders below ``root``
    (looked up without following a symlink; None where there is no such folder)."""
    def mode_of(relpath: bytes) -> int | None:
        try:
            fd = open_folder(root, relpath)
        except OSError:
            return None
        try:
            return stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
    return mode_of


def temp_name() -> bytes:
    """A fresh temp name: random, so that nobody can plant something at it in advance."""
    return TEMP_PREFIX + secrets.token_hex(8).encode()


def create_temp(folder: int, mode: int = 0o600) -> tuple[int, bytes]:
    """A new temp file in ``folder``, opened read-write: (fd, name). ``O_EXCL | O_NOFOLLOW``: never an
    existing file, never through a symlink."""
    while True:
        name = temp_name()
        try:
            return os.open(name, os.O_RDWR | CREATE_FLAGS, mode, dir_fd=folder), name
        except FileExistsError:
            continue


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _publish(folder: int, name: bytes | str, fill: Callable[[int], None], mode: int, durable: bool) -> None:
    """The one way a file is replaced: ``fill`` writes a fresh ``O_EXCL`` temp in ``folder``, which gets
    ``mode``, is fsynced (when ``durable``), renamed over ``name`` and its folder fsynced; on any error the
    temp is removed and the old file stays."""
    name = os.fsencode(name)
    fd, temp = create_temp(folder, 0o600)
    try:
        try:
            fill(fd)
            os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        unlink_quietly(folder, temp)
        raise
    if durable:
        os.fsync(folder)


def write_at(folder: int, name: bytes | str, data: bytes, mode: int = 0o644, durable: bool = True) -> None:
    """Replace ``name`` in the open ``folder`` with ``data``: a crash leaves the old or the new content.

    ``durable=False`` skips the fsyncs, for files rewritten every second and worthless after a crash
    (the service's status, the metrics): the rename still keeps readers from a half-written file."""
    _publish(folder, name, lambda fd: _write_all(fd, data), mode, durable)


def copy_into(folder: int, name: bytes | str, source: int, mode: int = 0o644,
              mtime_ns: int | None = None) -> None:
    """Replace ``name`` in the open ``folder`` with everything read from the open file ``source``,
    atomically and durably (a random ``O_EXCL`` temp, fsync, rename, fsync the folder)."""
    def fill(fd: int) -> None:
        while chunk := os.read(source, 1 << 20):
            _write_all(fd, chunk)
        if mtime_ns is not None:
            os.utime(fd, ns=(mtime_ns, mtime_ns))

    _publish(folder, name, fill, mode, durable=True)


def write_atomic(path: PathArg, data: bytes, mode: int = 0o644, durable: bool = True,
                 root: PathArg | None = None, create: bool = False, folder_mode: int = 0o755) -> None:
    """Replace ``path`` with ``data`` atomically. ``root`` is the configured folder it lies below
    (default: its own folder): every folder between ``root`` and the file is opened without following
    a symlink, and created with ``folder_mode`` when ``create`` is set (the root too, with its parents)."""
    path = Path(os.fsdecode(path))
    base = Path(os.fsdecode(root)) if root is not None else path.parent
    rel = os.path.relpath(path.parent, base)
    if rel.startswith("../") or rel == "..":
        raise ValueError(f"{path} is not below {base}")
    folder = open_below(base, os.fsencode(rel) if rel != "." else b"", create, folder_mode)
    try:
        write_at(folder, path.name, data, mode=mode, durable=durable)
    finally:
        os.close(folder)


def open_below(base: PathArg, rel: bytes, create: bool = False, mode: int = 0o755) -> int:
    """``open_folder`` from a root path, creating the root itself too when asked."""
    root = open_root(base, create=create, mode=mode)
    try:
        return open_folder(root, rel, create=create, mode=mode)
    finally:
        os.close(root)


def open_append(folder: int, name: bytes | str, mode: int = 0o600) -> int:
    """Open ``name`` in ``folder`` for appending (a journal), created when missing; a symlink or
    anything but a regular file at the name is refused (ELOOP / EINVAL)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(name, flags, mode, dir_fd=folder)
    if not _regular(fd):
        os.close(fd)
        raise OSError(22, os.strerror(22), os.fsdecode(name))
    return fd


def open_existing(path: PathArg, mode: int = 0o600) -> int:
    """Open (creating when missing) a file that is kept, not replaced (the lock file), never through a
    symlink; its folder is a root and may be reached through one."""
    path = Path(os.fsdecode(path))
    folder = os.open(path.parent, ROOT_FLAGS)
    try:
        fd = os.open(path.name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=folder)
    finally:
        os.close(folder)
    if not _regular(fd):
        os.close(fd)
        raise OSError(22, os.strerror(22), str(path))
    return fd


def _regular(fd: int) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)


def unlink_quietly(folder: int | None, name: bytes | str) -> None:
    try:
        os.unlink(name, dir_fd=folder)
    except FileNotFoundError:
        pass
