"""The mirror: a plain, browsable copy of the archive on the second disk, which never loses a version.

Every write is atomic (temp file in the target folder, fsync, rename, fsync the folder) and keeps
the source's mtime; the copy is verified by re-reading it before it takes the final name. A file
that is overwritten or deleted on the mirror first goes to the versions area,
``<mirror_root>/.dangan/versions/<path>/.dangan-v/<UTC time>``, so any past state can be restored.
Nothing is written while the mirror's marker is missing: that means the disk is not mounted and
the folder is a bare mount point.

A path that changed kind on the archive (a file replaced by a folder of the same name, or the
reverse) meets the old kind on the mirror: what stands in the way goes to the versions area too,
file by file (:meth:`Mirror.take_displaced` hands those versions to the catalog). Holes in sparse
files are kept (SEEK_DATA/SEEK_HOLE), and a copy whose source was deleted meanwhile is discarded.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from dangan.config.errors import EnvironmentProblem
from dangan.config import words
from dangan.config.messages import t

from dangan.store import writeback
from dangan.store.hashing import CHUNK, INLINE_LIMIT, hash_fd, read_buffer
from dangan.store.layout import Layout, MIRROR_DIR, MIRROR_MARKER, TEMP_PREFIX, is_temp, temp_name
from dangan.store.atomic import folder_modes, open_folder
from dangan.store.tree import open_dir

MIRROR_THREADS = "dangan-mirror"  # the stall guard counts the I/O of every thread named so
# Threads writing one batch's copies, each with at least SPLIT_FROM files. Measured in the burst
# benchmark: 3 and 4 shortened the lag after the writer's last file but slowed the writer as much.
WRITERS = 2
SPLIT_FROM = 16
VERSION_DIR = b".dangan-v"  # only inside the versions area, under each record's path
# Errors that say the mirror disk as a whole cannot take writes now (full, read-only, failing,
# gone): the keeper then pauses every copy. Any other error belongs to one path (a folder that
# refuses, a name the mirror's file system cannot hold) and holds up that path alone.
WHOLE_DISK = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ENODEV, errno.ENXIO,
                        errno.ENOTCONN, errno.ESTALE, errno.EUCLEAN, errno.EREMOTEIO, errno.ESHUTDOWN})
_ZEROS = memoryview(bytes(CHUNK))  # a hole reads as zeros: hashed from here, never written


class MirrorUnavailable(EnvironmentProblem):
    """The mirror's marker is missing: the disk is not mounted. Write nothing."""


class MirrorWriteError(Exception):
    """Writing to the mirror failed (disk full, read-only, I/O error); nothing partial was left."""

    def __init__(self, path: bytes, exc: OSError) -> None:
        super().__init__(f"{path!r}: {exc.strerror or exc}")
        self.path = path
        self.errno = exc.errno
        self.reason = words.os_error(exc)  # shown in alerts and logs: in the reader's words

    @property
    def whole_disk(self) -> bool:
        """Whether the error is the disk's (pause all copies) rather than this path's alone."""
        return self.errno in WHOLE_DISK


class SourceChanged(Exception):
    """The source changed while it was being copied; the copy was discarded."""


class SourceGone(Exception):
    """The source was deleted while it was being copied; the copy was discarded (never a ghost
    under the name of a file the archive no longer has)."""


class ContentMismatch(Exception):
    """The source does not hold the expected content (silent corruption); nothing was replaced."""


class SourceUnreadable(Exception):
    """The source could not be read; the mirror's good copy was left alone."""


@dataclass(frozen=True, slots=True)
class Copied:
    """A verified copy: its hash, its content when small (to inspect without a second read), and
    the version of the previous copy that it displaced (if any)."""

    digest: str
    data: bytes | None
    kept: "KeptVersion | None"


@dataclass(slots=True)
class _Staged:
    """A copy written to its temp file, not yet durable (see :meth:`Mirror.copy_many`)."""

    index: int
    relpath: bytes
    folder: int  # the open mirror folder it goes into
    temp: bytes  # b"" once renamed to its name
    out: int  # the temp file's fd, -1 once closed
    digest: str
    data: bytes | None


@dataclass(frozen=True, slots=True)
class KeptVersion:
    path: bytes
    size: int
    mtime_ns: int
    location: bytes  # relative to the versions root


def version_stamp(now: datetime | None = None) -> bytes:
    """The versions' file names: UTC time, sortable, microseconds so two saves never collide."""
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S.%fZ").encode()


class Mirror:
    """Operations on the mirror disk, each atomic and each keeping what it replaces."""

    def __init__(self, layout: Layout, algorithm: str) -> None:
        self.root = os.fsencode(layout.mirror_root)
        self.marker = os.fsencode(layout.mirror_marker)
        self.own = os.fsencode(layout.mirror_root / MIRROR_DIR)
        self._archive_modes = folder_modes(layout.archive_root)
        self.versions_rel = b"versions"
        self.algorithm = algorithm
        # Versions of copies that stood in the way of a path that changed kind, not yet recorded
        # in the catalog (filled on the mirror thread, taken by the keeper).
        self._displaced: list[KeptVersion] = []
        self._displaced_lock = threading.Lock()

    # -- the guard --------------------------------------------------------------------------
    def available(self) -> bool:
        try:
            return os.path.isfile(self.marker)
        except OSError:
            return False

    def require(self) -> None:
        if not self.available():
            raise MirrorUnavailable(t("mirror.no_marker", path=os.fsdecode(self.root),
                                      marker=f"{MIRROR_DIR}/{MIRROR_MARKER}"))

    # -- writing ----------------------------------------------------------------------------
    def copy(self, relpath: bytes, source_fd: int, expect: str | None = None) -> Copied:
        """Copy the open source to ``relpath`` on the mirror, reading it once while hashing.

        ``source_fd`` is closed here. Raises SourceChanged (retry later), SourceUnreadable (the
        good copy stays), ContentMismatch (the content is not ``expect``: the copy is discarded,
        so a silently corrupted source never replaces a good copy) or MirrorWriteError (nothing
        partial left).
        """
        result = self.copy_many([(relpath, source_fd, expect)])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def copy_many(self, sources: list[tuple[bytes, int, str | None]]) -> list[Copied | Exception]:
        """Copy open sources ``(relpath, fd, expect)`` to the mirror as one batch.

        Every copy is written while hashing; then the batch is made durable (one syncfs, see
        :mod:`writeback`, else an fsync per file) and each copy verified by reading it back; then
        each is renamed to its name and the renames made durable (a syncfs, else an fsync per
        folder). So each file still goes through a durable write, rename and durable folder
        before it is returned as Copied. WRITERS threads share the writing of a large batch.
        Returns, per source in order, a Copied or the exception :meth:`copy` would raise for it.
        Every fd is closed here. Raises MirrorUnavailable when the marker is missing (nothing is
        written).
        """
        if not sources:
            return []
        try:
            self.require()
        except BaseException:
            for _, fd, _ in sources:
                os.close(fd)
            raise
        results: list[Copied | Exception | None] = [None] * len(sources)
        # The writing is shared by up to WRITERS threads, a run of the batch each: a copy waits on
        # the disk for much of its time (creating the temp, starting writeback), and the others'
        # copies proceed meanwhile. Each thread keeps its own open folders and staged copies.
        parts = max(1, min(WRITERS, len(sources) // SPLIT_FROM))
        bounds = [len(sources) * k // parts for k in range(parts + 1)]
        folders: list[dict[bytes, int]] = [{} for _ in range(parts)]
        staged_by: list[list[_Staged]] = [[] for _ in range(parts)]
        try:
            failure: list[BaseException] = []
            helpers = [threading.Thread(target=_catching, name=MIRROR_THREADS + "-write", daemon=True, args=(
                failure, self._write_all, sources[bounds[k]:bounds[k + 1]], bounds[k], results, folders[k],
                staged_by[k])) for k in range(1, parts)]
            for helper in helpers:
                helper.start()
            try:
                self._write_all(sources[:bounds[1]], 0, results, folders[0], staged_by[0])
            finally:
                for helper in helpers:
                    helper.join()
            if failure:
                raise failure[0]
            staged = [item for part in staged_by for item in part]
            synced = _sync_batch(staged)
            for item in staged:
                try:
                    if not synced:
                        os.fsync(item.out)
                    if not _holds(item, self.algorithm):  # read back what the disk now holds
                        raise OSError(errno.EIO, "verification after write failed")
                    out, item.out = item.out, -1
                    os.close(out)  # a network file system may report a write error only here
                except OSError as exc:
                    results[item.index] = MirrorWriteError(item.relpath, exc)
            renamed: dict[int, list[tuple[_Staged, KeptVersion | None]]] = {}  # by folder
            for item in staged:
                if results[item.index] is not None:
                    continue
                name = item.relpath.rpartition(b"/")[2]
                try:
                    self._displace_folder(item.folder, name, item.relpath)  # was a folder: now a file
                    kept = self._keep(item.folder, name, item.relpath, link=True)
                    os.rename(item.temp, name, src_dir_fd=item.folder, dst_dir_fd=item.folder)
                except OSError as exc:
                    results[item.index] = MirrorWriteError(item.relpath, exc)
                    continue
                item.temp = b""
                renamed.setdefault(item.folder, []).append((item, kept))
            synced = _sync_batch(staged) if renamed else False
            for folder, done in renamed.items():
                try:
                    if not synced:
                        os.fsync(folder)
                except OSError as exc:
                    for item, _ in done:
                        results[item.index] = MirrorWriteError(item.relpath, exc)
                    continue
                for item, kept in done:
                    results[item.index] = Copied(item.digest, item.data, kept)
            return results  # type: ignore[return-value]  # every slot is filled by now
        finally:
            for item in (item for part in staged_by for item in part):
                if item.out >= 0:
                    os.close(item.out)
                if item.temp:
                    unlink_quietly(item.temp, item.folder)
            for folder in (fd for part in folders for fd in part.values()):
                os.close(folder)

    def _write_all(self, sources: list[tuple[bytes, int, str | None]], first: int,
                   results: list[Copied | Exception | None], folders: dict[bytes, int],
                   staged: list["_Staged"]) -> None:
        """Write each source's temp copy (:meth:`_write`), appending it to ``staged``; a source
        that fails gets its exception in ``results`` (indexed from ``first``)."""
        failed: MirrorWriteError | None = None
        for index, (relpath, source_fd, expect) in enumerate(sources, first):
            if failed is not None:  # the mirror refused a write (full, read-only, I/O): stop here
                os.close(source_fd)
                results[index] = failed
                continue
            try:
                folder = self._folder(folders, relpath, source_fd)
                staged.append(self._write(folder, index, relpath, source_fd, expect))
            except MirrorWriteError as exc:
                results[index] = exc
                if exc.whole_disk:
                    failed = exc
                continue
            except (SourceChanged, SourceGone, ContentMismatch, SourceUnreadable) as exc:
                results[index] = exc

    def _folder(self, folders: dict[bytes, int], relpath: bytes, source_fd: int) -> int:
        """The open mirror folder of ``relpath``, created when missing (closes the source on failure)."""
        head = relpath.rpartition(b"/")[0]
        if head not in folders:
            try:
                folders[head] = self._open_dir_clearing(head)
            except OSError as exc:
                os.close(source_fd)
                raise MirrorWriteError(relpath, exc) from None
        return folders[head]

    def _open_dir_clearing(self, head: bytes) -> int:
        """Open (create) the mirror folder ``head``; where a file stands at one of its folders'
        names (that path was a file on the archive and is now a folder), that file goes to the
        versions area first."""
        try:  # new folders get the archive folder's mode (a 0700 folder stays 0700)
            return open_folder(self.root, head, create=True, modes=self._archive_modes)
        except OSError as exc:
            if exc.errno not in (errno.ENOTDIR, errno.ELOOP) or not head:
                raise
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        done = b""
        try:
            for part in head.split(b"/"):
                relpath = done + b"/" + part if done else part
                try:
                    st = os.stat(part, dir_fd=fd, follow_symlinks=False)
                    if not stat.S_ISDIR(st.st_mode):
                        self._displaced_add(self._keep(fd, part, relpath, link=False))
                except FileNotFoundError:
                    pass
                try:
                    os.mkdir(part, self._archive_modes(relpath) or 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
                os.close(fd)
                fd, done = child, relpath
            return fd
        except BaseException:
            os.close(fd)
            raise

    def _displace_folder(self, folder: int, name: bytes, relpath: bytes) -> None:
        """A folder stands on the mirror where a file is to go (that path was a folder on the
        archive and is now a file): every file in it goes to the versions area, then the folders."""
        try:
            st = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(st.st_mode):
            return
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
        try:
            for entry in sorted(os.fsencode(n) for n in os.listdir(fd)):
                if is_temp(entry):  # an interrupted copy's leftover: nothing to keep
                    unlink_quietly(entry, fd)
                    continue
                self._displace_folder(fd, entry, relpath + b"/" + entry)
                if _exists(entry, fd):  # not a folder (any more)
                    self._displaced_add(self._keep(fd, entry, relpath + b"/" + entry, link=False))
        finally:
            os.close(fd)
        os.rmdir(name, dir_fd=folder)
        os.fsync(folder)

    def _displaced_add(self, kept: "KeptVersion | None") -> None:
        if kept is not None:
            with self._displaced_lock:
                self._displaced.append(kept)

    def take_displaced(self) -> list["KeptVersion"]:
        """The versions of copies moved aside for a path that changed kind since the last call:
        the caller records them (their records' mirror copies are now these versions)."""
        with self._displaced_lock:
            taken, self._displaced = self._displaced, []
        return taken

    def _write(self, folder: int, index: int, relpath: bytes, source_fd: int,
               expect: str | None) -> "_Staged":
        """Write one copy to a temp file in ``folder`` while hashing the source (closed here), with
        the source's mode and mtime, and start its writeback. Nothing is durable yet."""
        temp = temp_name()
        out = -1
        try:
            try:
                before = os.fstat(source_fd)
                out = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600, dir_fd=folder)
            except OSError as exc:
                raise MirrorWriteError(relpath, exc) from None
            try:
                digest, data = copy_hashing(source_fd, out, self.algorithm, before.st_size <= INLINE_LIMIT,
                                            before.st_size)
            except OSError as exc:
                raise MirrorWriteError(relpath, exc) from None
            after = os.fstat(source_fd)
            if after.st_nlink == 0:
                raise SourceGone(relpath)
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise SourceChanged(relpath)
            if expect is not None and digest != expect:
                raise ContentMismatch(digest)
            try:
                os.utime(out, ns=(before.st_atime_ns, before.st_mtime_ns))
                os.fchmod(out, before.st_mode & 0o777)
            except OSError as exc:
                raise MirrorWriteError(relpath, exc) from None
            writeback.start(out)
            staged = _Staged(index, relpath, folder, temp, out, digest, data)
            out = -1
            return staged
        finally:
            os.close(source_fd)
            if out >= 0:  # not staged: nothing of it stays
                os.close(out)
                unlink_quietly(temp, folder)

    def remove(self, relpath: bytes) -> KeptVersion | None:
        """A deletion on the archive: move the mirror's copy into the versions area."""
        self.require()
        head, _, name = relpath.rpartition(b"/")
        try:
            folder = self._open_dir(head, create=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise MirrorWriteError(relpath, exc) from None
        try:
            kept = self._keep(folder, name, relpath, link=False)
            self.prune_empty(head)
            return kept
        except OSError as exc:
            raise MirrorWriteError(relpath, exc) from None
        finally:
            os.close(folder)

    def rename(self, old: bytes, new: bytes) -> tuple[bool, KeptVersion | None]:
        """A file renamed or moved on the archive becomes a rename here, not a re-copy; what it
        replaces at ``new`` is kept as a version. Returns (done, kept); done is False when the mirror
        has no copy at ``old`` (the caller copies instead)."""
        return self._rename(old, new, folder=False)

    def rename_folder(self, old: bytes, new: bytes) -> bool:
        """A folder renamed or moved on the archive: one rename here. False when the mirror has no
        such folder or already has one at ``new`` (the caller then moves file by file)."""
        done, _ = self._rename(old, new, folder=True)
        if done:
            self.prune_empty(old.rpartition(b"/")[0])
        return done

    def _rename(self, old: bytes, new: bytes, folder: bool) -> tuple[bool, KeptVersion | None]:
        self.require()
        old_head, _, old_name = old.rpartition(b"/")
        new_head, _, new_name = new.rpartition(b"/")
        try:
            src = self._open_dir(old_head, create=False)
        except FileNotFoundError:
            return False, None
        except OSError as exc:
            raise MirrorWriteError(old, exc) from None
        dst = -1
        try:
            if not _exists(old_name, src):
                return False, None
            dst = self._open_dir_clearing(new_head)
            if folder and _exists(new_name, dst):
                return False, None
            kept = None if folder else self._keep(dst, new_name, new, link=True)
            os.rename(old_name, new_name, src_dir_fd=src, dst_dir_fd=dst)
            os.fsync(dst)
            os.fsync(src)
            return True, kept
        except OSError as exc:
            raise MirrorWriteError(new, exc) from None
        finally:
            os.close(src)
            if dst >= 0:
                os.close(dst)

    # -- versions ---------------------------------------------------------------------------
    def _keep(self, folder: int, name: bytes, relpath: bytes, link: bool) -> KeptVersion | None:
        """Put the current mirror file ``name`` (in ``folder``) into the versions area.

        ``link``: hard-link it there (it is about to be replaced atomically by a rename, so the
        path never disappears); otherwise move it (a deletion)."""
        try:
            st = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if stat.S_ISDIR(st.st_mode):
            return None  # not this record's copy: the path is a folder now (moved aside on its own)
        location = relpath + b"/" + VERSION_DIR + b"/" + version_stamp()
        vhead, _, vname = location.rpartition(b"/")
        vfolder = self._open_dir(self.versions_rel + b"/" + vhead, create=True, base=self.own)
        try:
            if link:
                try:
                    os.link(name, vname, src_dir_fd=folder, dst_dir_fd=vfolder, follow_symlinks=False)
                except OSError as exc:
                    if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK):
                        raise
                    # A filesystem without hard links: a copy keeps the version just as well.
                    _copy_within(folder, name, vfolder, vname)
            else:
                os.rename(name, vname, src_dir_fd=folder, dst_dir_fd=vfolder)
                os.fsync(folder)
            os.fsync(vfolder)
        finally:
            os.close(vfolder)
        return KeptVersion(relpath, st.st_size, st.st_mtime_ns, location)

    def drop_version(self, location: bytes) -> None:
        """Delete one kept version (retention expired) and the folders it leaves empty."""
        head, _, name = (self.versions_rel + b"/" + location).rpartition(b"/")
        try:
            folder = self._open_dir(head, create=False, base=self.own)
        except FileNotFoundError:
            return
        try:
            unlink_quietly(name, folder)
        finally:
            os.close(folder)

    def stage(self, links: list[tuple[bytes, str]], stage_dir: str) -> list[bytes]:
        """Hard-link the mirror's copy of each ``relpath`` as ``.dangan/<stage_dir>/<name>``, for
        ``(relpath, name)`` in ``links``; returns the relpaths that could not be linked (gone).

        Mirror files are only ever replaced by a rename, never rewritten, so the link is an
        immutable view of content whose hash the catalog knows: what the off-site run ships.
        Folders are opened once each (the links go in path order, the stage has 256 folders):
        opening them component by component per link cost a first run of 50,000 records 1 s."""
        failed: list[bytes] = []
        targets: dict[bytes, int] = {}
        source_head, source = None, -1
        try:
            for relpath, name in sorted(links):
                head, _, base = relpath.rpartition(b"/")
                thead, _, tname = (stage_dir + "/" + name).encode().rpartition(b"/")
                try:
                    if thead not in targets:
                        targets[thead] = self._open_dir(thead, create=True, base=self.own)
                    if head != source_head:
                        if source >= 0:
                            os.close(source)
                        source_head, source = head, -1
                        source = self._open_dir(head, create=False)
                    if source < 0:
                        raise FileNotFoundError(relpath)
                    os.link(base, tname, src_dir_fd=source, dst_dir_fd=targets[thead], follow_symlinks=False)
                except FileExistsError:
                    _relink_if_replaced(base, source, tname, targets[thead])  # staged before: same hash
                except OSError:
                    failed.append(relpath)
        finally:
            for fd in [*targets.values(), source]:
                if fd >= 0:
                    os.close(fd)
        return failed

    # -- what the mirror holds ---------------------------------------------------------------
    def lacking(self, expected: dict[bytes, dict[bytes, tuple[int, int]]], slack_ns: int = 1) -> list[bytes]:
        """The paths the mirror does not hold as the catalog says, for ``expected``: folder ->
        {path: (size, mtime_ns)} of copies the catalog lists as mirrored. A copy is held when a
        regular file of that size and mtime stands at its path (copies keep their source's mtime):
        a cheap look, one listing per folder, that finds a new empty disk, a copy deleted or
        truncated behind dangan's back; a copy's content is the audit's to verify. ``slack_ns``: how
        far an mtime may be off (a file system with coarse timestamps rounds them)."""
        missing: list[bytes] = []
        for folder, records in expected.items():
            try:
                fd = self._open_dir(folder, create=False)
            except OSError:  # no such folder (or a file or link in its place): none of it is there
                missing.extend(records)
                continue
            try:
                with os.scandir(fd) as entries:
                    held = {}
                    for entry in entries:
                        if entry.is_file(follow_symlinks=False):
                            st = entry.stat(follow_symlinks=False)
                            held[os.fsencode(entry.name)] = (st.st_size, st.st_mtime_ns)
            except OSError:
                missing.extend(records)
                continue
            finally:
                os.close(fd)
            for path, (size, mtime_ns) in records.items():
                there = held.get(path.rpartition(b"/")[2])
                if there is None or there[0] != size or abs(there[1] - mtime_ns) >= slack_ns:
                    missing.append(path)
        return missing

    # -- housekeeping -----------------------------------------------------------------------
    def sweep_temps(self) -> int:
        """Remove temp files a crash left behind (never a final name: those are only renamed)."""
        removed = 0
        for top, folders, files, dirfd in os.fwalk(self.root, follow_symlinks=False):
            if top == self.own:
                # dangan's own area: a stage relink there belongs to an off-site run in another
                # process (and a temp left in the stage is removed by the next relink anyway)
                folders[:] = [f for f in folders if f != b"stage"]
            for name in files:
                if is_temp(name):
                    unlink_quietly(name, dirfd)
                    removed += 1
        return removed

    def _open_dir(self, relpath: bytes, create: bool, base: bytes | None = None) -> int:
        return open_dir(base or self.root, relpath, create=create)

    def prune_empty(self, head: bytes) -> None:
        """Remove folders a deletion left empty, as the archive has them removed too."""
        while head:
            parent, _, name = head.rpartition(b"/")
            try:
                folder = self._open_dir(parent, create=False)
            except OSError:
                return
            try:
                os.rmdir(name, dir_fd=folder)
                os.fsync(folder)
            except OSError:
                return
            finally:
                os.close(folder)
            head = parent

    def path_of(self, relpath: bytes) -> bytes:
        return self.root + b"/" + relpath


def _catching(failure: list, fn, *args) -> None:  # noqa: ANN001 - a thread's target
    """Run ``fn(*args)``; an exception goes into ``failure`` for the thread that waits for it."""
    try:
        fn(*args)
    except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits for it
        failure.append(exc)


def _sync_batch(staged: list["_Staged"]) -> bool:
    """Make all that a batch wrote durable with one syncfs per file system it wrote to (one, unless
    a disk is mounted inside the mirror). False when the caller must fsync each file or folder
    instead: syncfs failed (the fsyncs then say which copy an error belongs to) or cannot report
    errors on this kernel."""
    if not staged or not writeback.SYNCFS_REPORTS_ERRORS:
        return False
    try:
        writeback.syncfs_all({item.folder for item in staged})
    except OSError:
        return False
    return True


def _holds(item: "_Staged", algorithm: str) -> bool:
    """Whether the written copy holds what was read from the source: compared byte for byte with
    the content still in memory (a small file, ~25x cheaper than hashing it again), else hashed."""
    if item.data is None:
        return hash_fd(item.out, algorithm) == item.digest
    offset = 0
    while chunk := os.pread(item.out, CHUNK, offset):
        if chunk != item.data[offset:offset + len(chunk)]:
            return False
        offset += len(chunk)
    return offset == len(item.data)


def copy_hashing(source: int, out: int, algorithm: str, keep: bool,
                 size: int | None = None) -> tuple[str, bytes | None]:
    """Copy ``source`` to ``out`` reading it once, hashing as it goes; return the hash and, when
    ``keep``, the content (so a small file can be inspected without a second read). ``size``, the
    size expected, lets a small file be read in one buffer of its size rather than 1 MiB (fresh
    memory for every file costs page faults and address-space locks shared by all threads).

    A file with holes keeps them (see :func:`_copy_sparse`). A read error raises SourceUnreadable;
    a write error raises OSError."""
    h = hashlib.new(algorithm)
    parts: list[bytes] = []
    if size and size > CHUNK and _has_holes(source, size):
        _copy_sparse(source, out, h, parts if keep else None, size)
        return h.hexdigest(), b"".join(parts) if keep else None
    done = 0
    while True:
        if size is None or done > size:  # unknown, or the file grew: whole chunks
            want = CHUNK
        else:  # the rest of what it should hold; at its end, one byte to see the end (or growth)
            want = min(CHUNK, size - done) or 1
        try:
            chunk = os.read(source, want)
        except OSError as exc:
            raise SourceUnreadable(exc.strerror or str(exc)) from None
        if not chunk:
            break
        done += len(chunk)
        h.update(chunk)
        if keep:
            parts.append(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(out, view):]
    return h.hexdigest(), b"".join(parts) if keep else None


def _has_holes(source: int, size: int) -> bool:
    """Whether the file has a hole before its end (where the file system can tell)."""
    try:
        return os.lseek(source, 0, os.SEEK_HOLE) < size
    except OSError:  # SEEK_HOLE not supported: one data extent, as if without holes
        return False
    finally:
        try:
            os.lseek(source, 0, os.SEEK_SET)
        except OSError:
            pass


def _copy_sparse(source: int, out: int, h: "hashlib._Hash", parts: list[bytes] | None, size: int) -> None:
    """Copy the first ``size`` bytes of ``source`` to ``out`` extent by extent: data is read, hashed
    and written at its offset; a hole is hashed as zeros and left a hole in the copy (the copy ends
    at ``size`` by a truncate), so a 5 GB file holding 4 KiB of data allocates 4 KiB on the mirror.
    Growth past ``size`` is seen by the caller (the source's size changed: the copy is discarded)."""
    position = 0
    while position < size:
        try:
            data = os.lseek(source, position, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no data after position, the rest is a hole
                raise SourceUnreadable(exc.strerror or str(exc)) from None
            data = size
        data = min(data, size)
        while position < data:  # a hole: hashed, not written
            step = min(CHUNK, data - position)
            h.update(_ZEROS[:step])
            if parts is not None:
                parts.append(_ZEROS[:step])
            position += step
        if position >= size:
            break
        try:
            hole = min(os.lseek(source, position, os.SEEK_HOLE), size)
        except OSError as exc:
            raise SourceUnreadable(exc.strerror or str(exc)) from None
        while position < hole:
            try:
                chunk = os.pread(source, min(CHUNK, hole - position), position)
            except OSError as exc:
                raise SourceUnreadable(exc.strerror or str(exc)) from None
            if not chunk:  # shrunk meanwhile: the caller's size check discards the copy
                hole = position
                size = position
                break
            h.update(chunk)
            if parts is not None:
                parts.append(chunk)
            view = memoryview(chunk)
            offset = position
            while view:
                written = os.pwrite(out, view, offset)
                view, offset = view[written:], offset + written
            position += len(chunk)
    os.ftruncate(out, size)


def copy_fd(source: int, out: int) -> None:
    """Copy ``source`` to ``out`` from their offsets, in the kernel (copy_file_range: the bytes never
    pass through Python); where the file system cannot, start again with a read/write loop.

    A read error raises SourceUnreadable; a write error raises OSError."""
    start_in, start_out = os.lseek(source, 0, os.SEEK_CUR), os.lseek(out, 0, os.SEEK_CUR)
    try:
        while os.copy_file_range(source, out, 1 << 30):
            pass
        return
    except OSError:  # not supported here (EXDEV, EINVAL ...), or an I/O error on either side
        os.lseek(source, start_in, os.SEEK_SET)
        os.lseek(out, start_out, os.SEEK_SET)
        os.ftruncate(out, start_out)
    buffer = read_buffer()
    view = memoryview(buffer)
    while True:
        try:
            count = os.readv(source, [buffer])
        except OSError as exc:
            raise SourceUnreadable(exc.strerror or str(exc)) from None
        if not count:
            return
        chunk = view[:count]
        while chunk:
            chunk = chunk[os.write(out, chunk):]


def _exists(name: bytes, folder: int) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def unlink_quietly(name: bytes, folder: int | None) -> None:
    try:
        os.unlink(name, dir_fd=folder)
    except OSError:
        pass


def _copy_within(src_dir: int, src: bytes, dst_dir: int, dst: bytes) -> None:
    fin = os.open(src, os.O_RDONLY | os.O_CLOEXEC, dir_fd=src_dir)
    try:
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600, dir_fd=dst_dir)
        try:
            while chunk := os.read(fin, CHUNK):
                os.write(fout, chunk)
            st = os.fstat(fin)
            os.utime(fout, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.fsync(fout)
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def _relink_if_replaced(name: bytes, folder: int, staged: bytes, stage_folder: int) -> None:
    """A staged link kept to an inode the mirror no longer holds under that name: the mirror copy
    was replaced since (an audit repair renames a good copy over a rotten one, whose inode the
    stage still shares). Link the mirror's present copy instead, atomically."""
    now_held = os.stat(name, dir_fd=folder, follow_symlinks=False)
    linked = os.stat(staged, dir_fd=stage_folder, follow_symlinks=False)
    if (now_held.st_dev, now_held.st_ino) == (linked.st_dev, linked.st_ino):
        return
    temp = TEMP_PREFIX + staged
    try:
        os.unlink(temp, dir_fd=stage_folder)  # left by a crash here
    except FileNotFoundError:
        pass
    os.link(name, temp, src_dir_fd=folder, dst_dir_fd=stage_folder, follow_symlinks=False)
    os.rename(temp, staged, src_dir_fd=stage_folder, dst_dir_fd=stage_folder)
