"""Walking the archive tree safely.

The walk opens every folder relative to its parent's file descriptor with ``O_NOFOLLOW``, so it
never follows a symlink out of the archive, and never needs a whole path: trees deeper than
PATH_MAX are walked, not silently skipped (as ``os.walk`` does). Names stay bytes throughout.
Symlinks, FIFOs, sockets and devices are reported, never opened; a folder that cannot be listed
is reported as *unlisted*, so that nobody mistakes a permission error for a deletion.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

from dangan.store.layout import ARCHIVE_MARKER, MIRROR_DIR, is_own
from dangan.store.resolve import beneath

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC  # the root itself may be reached through a symlink


@dataclass(slots=True)
class Folder:
    """One listed folder: its relative path (b"" for the root), its files and its subfolders."""

    path: bytes
    files: list[tuple[bytes, os.stat_result]] = field(default_factory=list)
    dirs: list[bytes] = field(default_factory=list)
    inode: int = 0  # of the folder itself (a walk fills it in): which folders inotify watches

    @property
    def depth(self) -> int:
        return self.path.count(b"/") + 1 if self.path else 0

    def child(self, name: bytes) -> bytes:
        return self.path + b"/" + name if self.path else name


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something in the tree that is not a record and was left alone, with the reason."""

    path: bytes
    reason: str  # "symlink" | "special" | "unreadable" | "reserved"
    detail: str = ""


class Tree:
    """The archive tree under ``root``, minus dangan's own files and the ignored temp files."""

    def __init__(self, root: str | os.PathLike, ignore_patterns: list[str] = ()) -> None:
        self.root = os.fsencode(root)
        regex = "|".join(fnmatch.translate(p) for p in ignore_patterns) or r"(?!)"
        self._ignored = re.compile(regex).match
        self.skipped: list[Skipped] = []
        self.unlisted: list[bytes] = []

    def ignored(self, name: bytes) -> bool:
        """Office lock files, partial downloads and the like: not records, not problems."""
        return self._ignored(os.fsdecode(name)) is not None

    def walk(self, start: bytes = b"") -> Iterator[Folder]:
        """Yield every folder below ``start`` (a relative folder path), parents first."""
        self.skipped, self.unlisted = [], []
        try:
            fd = self._open_relative(start)
        except OSError as exc:
            self._unlisted(start, exc)
            return
        stack: list[tuple[int, Folder, Iterator[bytes] | None]] = [(fd, Folder(start), None)]
        try:
            while stack:
                fd, folder, pending = stack[-1]
                if pending is None:
                    try:
                        folder.inode = os.fstat(fd).st_ino
                        self._list(fd, folder)
                    except OSError as exc:
                        self._unlisted(folder.path, exc)
                        folder.files.clear()
                        folder.dirs.clear()
                    yield folder
                    pending = iter(folder.dirs)
                    stack[-1] = (fd, folder, pending)
                name = next(pending, None)
                if name is None:
                    os.close(fd)
                    stack.pop()
                    continue
                try:
                    child_fd = os.open(name, DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    self._unlisted(folder.child(name), exc)
                    continue
                stack.append((child_fd, Folder(folder.child(name)), None))
        finally:
            for fd, _, _ in stack:
                os.close(fd)

    def listing(self, relpath: bytes) -> Folder:
        """One folder's direct files and subfolders (skipped entries go to ``self.skipped``)."""
        folder = Folder(relpath)
        fd = open_dir(self.root, relpath)
        try:
            self._list(fd, folder)
        finally:
            os.close(fd)
        return folder

    def lstat(self, relpath: bytes) -> os.stat_result:
        """lstat of one entry, resolved component by component without following symlinks."""
        head, _, name = relpath.rpartition(b"/")
        fd = self._open_relative(head)
        try:
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
        finally:
            os.close(fd)

    def _open_relative(self, relpath: bytes) -> int:
        return open_dir(self.root, relpath)

    def _list(self, fd: int, folder: Folder) -> None:
        with os.scandir(fd) as entries:
            for entry in entries:
                name = os.fsencode(entry.name)
                if is_own(name, top=not folder.path):
                    if name == MIRROR_DIR.encode() and _is_archive_top(fd, folder):
                        # a user's folder at the archive's top under the name of the mirror's own
                        # area: it cannot be mirrored there; said, so that it is renamed
                        self.skipped.append(Skipped(name, "reserved"))
                    continue
                if entry.is_symlink():
                    self.skipped.append(Skipped(folder.child(name), "symlink", _link_target(fd, name)))
                elif entry.is_dir(follow_symlinks=False):
                    folder.dirs.append(name)
                elif entry.is_file(follow_symlinks=False):
                    if not self.ignored(name):
                        folder.files.append((name, entry.stat(follow_symlinks=False)))
                else:
                    mode = entry.stat(follow_symlinks=False).st_mode
                    self.skipped.append(Skipped(folder.child(name), "special", stat.filemode(mode)))

    def _unlisted(self, relpath: bytes, exc: OSError) -> None:
        self.unlisted.append(relpath)
        self.skipped.append(Skipped(relpath, "unreadable", exc.strerror or str(exc)))


def _is_archive_top(fd: int, folder: Folder) -> bool:
    """Whether ``fd`` is the top of an archive (it holds the archive's marker)."""
    if folder.path:
        return False
    try:
        os.stat(ARCHIVE_MARKER, dir_fd=fd, follow_symlinks=False)
    except OSError:
        return False
    return True


def below_any(path: bytes, prefixes: list[bytes]) -> bool:
    """Whether ``path`` is one of ``prefixes`` or lies inside one (b"" is the whole tree)."""
    return any(not p or path == p or path.startswith(p + b"/") for p in prefixes)


def open_dir(root: bytes, relpath: bytes, create: bool = False) -> int:
    """Open a folder below ``root`` one component at a time, never following a symlink (a symlink
    on the way fails with ENOTDIR), creating missing folders when asked."""
    if relpath and not create:
        child = _open_beneath(root, relpath, DIR_FLAGS)  # the same walk in one system call, where it can
        if child is not None:
            return child
    fd = os.open(root, ROOT_FLAGS)
    for part in relpath.split(b"/") if relpath else ():
        try:
            try:
                child = os.open(part, DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                child = os.open(part, DIR_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)
        fd = child
    return fd


def open_file(root: bytes, relpath: bytes) -> int:
    """Open a record below ``root`` read-only without following any symlink on the way and
    without the PATH_MAX limit of a whole path (an archive may be deeper than that)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    opened = _open_beneath(root, relpath, flags)
    if opened is not None:
        return opened
    head, _, name = relpath.rpartition(b"/")
    fd = open_dir(root, head)
    try:
        return os.open(name, flags, dir_fd=fd)
    finally:
        os.close(fd)


def _open_beneath(root: bytes, relpath: bytes, flags: int) -> int | None:
    """``relpath`` below ``root`` opened in one openat2 (see :mod:`resolve`), or None: walk instead."""
    fd = os.open(root, ROOT_FLAGS)
    try:
        return beneath(fd, relpath, flags)
    finally:
        os.close(fd)


def _link_target(fd: int, name: bytes) -> str:
    try:
        return os.fsdecode(os.readlink(name, dir_fd=fd))
    except OSError:
        return ""
