"""`dangan restore`: bring every record back, byte-exact and verified, after a disk failure.

What to restore (the plan) comes from what survived: the catalog in the state folder, else its copy
on the mirror disk, else — for the partner — the inventories shipped with every off-site run. With
``--at`` the ledger (every intake, change, move and removal, with its hash) is replayed up to that
moment, or the last inventory made before it is taken. Content is looked up by hash wherever a
copy lives (the mirror's tree, its versions area, its off-site stage; the partner's objects), and
every restored file is hashed again from the target disk before it takes its name.

A journal in the target lets an interrupted restore resume without redoing verified files; nothing
in the target is overwritten without ``--overwrite``; a path that would land outside the target
(``..``, an absolute path, a symlink planted in the target) is refused.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import secrets
import stat
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from dangan.config.errors import EnvironmentProblem, UsageError
from dangan.config.messages import has, t
from dangan.config.schema import Config, contains

from dangan.store import writeback
from dangan.store.atomic import folder_modes, open_append, open_folder, open_root, write_at
from dangan.store.catalog import ReadOnlyCatalog
from dangan.store.hashing import hash_fd
from dangan.store.layout import CATALOG_FILE, Layout, MIRROR_DIR, is_temp
from dangan.store.mirror import TEMP_PREFIX, SourceUnreadable, copy_fd, unlink_quietly
from dangan.store.tree import open_file
from dangan.store.progress import Progress
from dangan.store.names import printable, show, shown
from dangan.store import clock
from dangan.store.clock import local

WORK_DIR = ".dangan-restore"
JOURNAL = "journal.jsonl"
OBJECTS_DIR = "objects"  # partner downloads land here


@dataclass(frozen=True, slots=True)
class Item:
    """One record to restore: where it goes, and what its content must hash to."""

    path: bytes
    hash: str
    size: int
    mtime_ns: int


@dataclass
class Failure:
    path: bytes
    reason: str


@dataclass
class RestoreReport:
    """What a restore did: counts, bytes, time, and every file that could not be verified."""

    source: str
    target: str
    at: str | None
    requested: int = 0
    restored: int = 0
    already: int = 0  # verified by an earlier, interrupted run, or identical in the target
    bytes: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    verified: list[Item] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and self.restored + self.already == self.requested

    def to_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "at": self.at, "requested": self.requested,
                "restored": self.restored, "already": self.already, "bytes": self.bytes,
                "seconds": round(self.seconds, 3), "ok": self.ok,
                "failures": [{"path": show(f.path), "path_base64": base64.b64encode(f.path).decode(),
                              "reason": f.reason} for f in self.failures]}

    def to_text(self) -> str:
        source = t(f"drill.source.{self.source}") if has(f"drill.source.{self.source}") else self.source
        lines = [t("restore.summary", source=source, target=self.target, at=_shown_at(self.at),
                   requested=self.requested, restored=self.restored, already=self.already, bytes=self.bytes,
                   seconds=round(self.seconds, 1))]
        lines.append(t("restore.all_verified") if self.ok else t("restore.some_failed", count=len(self.failures)))
        lines += [f"  {shown(f.path)}：{printable(f.reason)}" for f in self.failures]
        return "\n".join(lines)


def _shown_at(at: str | None) -> str:
    """``--at`` as the reader should see it: in the configured zone, with its offset (a time given
    without an offset meant that zone)."""
    if not at:
        return t("restore.latest")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at
    return local(moment if moment.tzinfo else moment.replace(tzinfo=clock.zone()), seconds=True)


# -- the plan ----------------------------------------------------------------------------------
def parse_at(value: str, config: Config) -> datetime:
    """ISO 8601; without an offset, in the config's time zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(t("restore.bad_at", value=value)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=config.tz)


def check_only(paths: list[str]) -> list[bytes]:
    """``--only`` paths are archive-relative: no absolute path, no ``..``, nothing outside."""
    result = []
    for raw in paths:
        path = os.fsencode(raw).strip(b"/") if not raw.startswith("/") else None
        if path is None or any(part in (b"..", b".") for part in path.split(b"/")) or b"\0" in path:
            raise UsageError(t("restore.bad_only", path=raw))
        result.append(path)
    return result


def refuse_inside_roots(target: Path, layout: Layout, message: str = "restore.target_inside") -> None:
    """A restore (or an offline set, with its own ``message``) into the archive, the mirror or the state
    folder would be checked, mirrored and audited as records (every file twice): refused, by where the
    folders really are."""
    for root, name in ((layout.archive_root, "restore.root_archive"),
                       (layout.mirror_root, "restore.root_mirror"),
                       (layout.state_dir, "restore.root_state")):
        if contains(root, target) or contains(target, root):
            raise UsageError(t(message, target=target, root_name=t(name), root=root))


def nothing_matched(only: list[bytes], at: str | None) -> str:
    """What to say when the plan is empty: which selection found nothing."""
    if only:
        why = t("restore.nothing_matched_only", paths=", ".join(shown(p) for p in only))
    elif at:
        why = t("restore.nothing_matched_at", at=at)
    else:
        why = t("restore.nothing_matched_empty")
    return t("restore.nothing_matched", why=why)


def _selected(path: bytes, only: list[bytes]) -> bool:
    return not only or any(path == p or path.startswith(p + b"/") for p in only)


class CatalogView:
    """Read-only access to a catalog that may be the mirror's copy (the state folder may be gone)."""

    def __init__(self, layout: Layout, path: Path | None = None) -> None:
        candidates = [path] if path else [layout.catalog_path, layout.mirror_root / MIRROR_DIR / CATALOG_FILE]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise EnvironmentProblem(t("restore.no_catalog", paths=", ".join(map(str, candidates))))
        self.path = path
        self.catalog = ReadOnlyCatalog(path)

    def close(self) -> None:
        self.catalog.close()

    def state(self, at: datetime | None) -> dict[bytes, str]:
        """path -> hash of every record present now, or at ``at`` (replaying the ledger)."""
        if at is None:
            return self.catalog.present()
        stamp = at.astimezone(timezone.utc).isoformat(timespec="milliseconds")
        state: dict[bytes, str] = {}
        for event, path, detail in self.catalog.ledger_until(stamp):
            info = json.loads(detail) if detail else {}
            if event in ("intake", "change", "restore", "repair") and info.get("hash"):
                state[path] = info["hash"]
            elif event == "move":
                origin = base64.b64decode(info["from_base64"]) if "from_base64" in info else None
                digest = info.get("hash") or (state.get(origin) if origin else None)
                if origin is not None:
                    state.pop(origin, None)
                if digest:
                    state[path] = digest
            elif event == "removal":
                state.pop(path, None)
        return state

    def items(self, at: datetime | None, only: list[bytes]) -> list[Item]:
        """The plan: every selected record as it is now (or was at ``at``)."""
        items = []
        for path, digest in sorted(self.state(at).items()):
            if _selected(path, only):
                size, mtime_ns = self._describe(path, digest)
                items.append(Item(path, digest, size, mtime_ns))
        return items

    def _describe(self, path: bytes, digest: str) -> tuple[int, int]:
        shape = self.catalog.shape_of(path, digest)
        return (shape.size, shape.mtime_ns) if shape else (-1, 0)

    def copies(self, digest: str, mirror_root: bytes) -> Iterator[tuple[bytes, int, int]]:
        """Where the mirror disk holds content ``digest``: (path, size, mtime_ns), best first."""
        for path, size, mtime_ns in self.catalog.mirrored_at(digest):
            yield mirror_root + b"/" + path, size, mtime_ns
        for location, size, mtime_ns in self.catalog.kept_versions_of(digest):
            yield mirror_root + b"/.dangan/versions/" + location, size, mtime_ns
        staged = mirror_root + f"/.dangan/stage/data/{digest[:2]}/{digest}".encode()
        yield staged, -1, -1


def newest_shipped(layout: Layout, partner: str, upto: str) -> str | None:
    """The newest off-site run to ``partner`` (at or before run id ``upto``) that the catalog or
    its copy on the mirror knows succeeded: a partner whose newest inventory is older was
    rolled back. None when neither survived (then nothing can tell)."""
    newest = None
    for path in (layout.catalog_path, layout.mirror_root / MIRROR_DIR / CATALOG_FILE):
        if not path.is_file():
            continue
        view = CatalogView(layout, path)
        try:
            run = view.catalog.newest_offsite_run(partner, upto)
        finally:
            view.close()
        if run is not None and (newest is None or run > newest):
            newest = run
    return newest


# -- writing into the target ------------------------------------------------------------------
WORKERS = 2  # copy + read-back threads: file I/O and hashing release the GIL
IN_FLIGHT = 8  # files handed to the workers ahead of the one awaited
BATCH_FILES = 1000  # files made durable together (a syncfs before and one after their renames) ...
BATCH_BYTES = 256 << 20  # ... or this many bytes, whichever comes first
MAX_FOLDERS = 256  # open folder descriptors (the soft limit is often 1024): more, and the batch is made durable early


@dataclass(frozen=True, slots=True)
class Copy:
    """One place a content can be read from, and the mtime it carries there (-1: the record's)."""

    path: bytes
    mtime_ns: int
    movable: bool = False  # a downloaded object on the target's disk that no other path needs: moved, not copied
    keep_mode: bool = False  # a mirror copy carries the record's permission bits: the restore keeps them
    under: bytes = b""  # the root ``path`` lies below: opened from there when the whole path passes PATH_MAX


Job = tuple[Item, Iterator[Copy], str]
"""An item, its candidate copies best first, and the reason to give when none of them is there.
The copies are drawn one at a time: a fallback is looked up only when the copies before it failed."""


@dataclass(slots=True)
class _Task:
    item: Item
    copies: Iterator[Copy]
    reason: str
    folder: int
    name: bytes
    future: Future | None = None


class Target:
    """The folder being restored into, written safely: never outside it, never over a file
    without leave, every file verified from the disk before it takes its name.

    Files are written and verified under temp names by a few worker threads, then made durable a
    batch at a time: one ``syncfs`` for the batch's content, the renames, a second ``syncfs`` for
    the renames, and only then the batch's journal lines, so the journal never claims a file that
    a power cut could take back, and a final name never holds a partial file."""

    def __init__(self, root: Path, algorithm: str, overwrite: bool, like: Path | None = None) -> None:
        self.root = os.fsencode(root)
        # folders are created with the modes of the same folders in ``like`` (the mirror), if given
        self._modes = folder_modes(like) if like is not None else None
        self.algorithm = algorithm
        self.overwrite = overwrite
        self._root_fd = open_root(root, create=True)
        self._work_fd = -1
        try:
            self._open_bookkeeping(root)
        except BaseException:  # refused: nothing stays open
            if self._work_fd >= 0:
                os.close(self._work_fd)
            os.close(self._root_fd)
            raise
        self._folders: dict[bytes, int] = {}
        self._unjournaled: list[Item] = []  # found identical in the target: journaled after the next sync
        # verified files awaiting their names: (item, folder, name, where it is: name in folder, or a path)
        self._batch: list[tuple[Item, int, bytes, bytes]] = []
        self._device = os.fstat(self._root_fd).st_dev
        self._batch_bytes = 0

    def _open_bookkeeping(self, root: Path) -> None:
        # An empty target holds nothing to check file by file (20,000 failed lookups: about 0.2 s
        # before a partner download can start)
        self.empty = not os.listdir(self._root_fd)
        self.work = root / WORK_DIR
        # The bookkeeping never follows a symlink planted in the target (at the work folder, the
        # journal or the objects folder): the restore stops instead of writing outside.
        self._work_fd = open_work(self._root_fd, root)
        self.journal_path = self.work / JOURNAL
        resuming = _exists_at(JOURNAL.encode(), self._work_fd)
        self.done = self._load_journal()
        if resuming or not self.empty:  # an interrupted run may have left temp files (even before its journal)
            for _, _, files, dirfd in os.fwalk(self.root, follow_symlinks=False):
                for name in files:
                    if is_temp(name):
                        os.unlink(name, dir_fd=dirfd)
        try:
            self._journal = os.fdopen(open_append(self._work_fd, JOURNAL), "a", encoding="ascii")
        except OSError as exc:
            raise EnvironmentProblem(t("restore.work_refused", path=self.journal_path,
                                       detail=exc.strerror or exc)) from None

    def _load_journal(self) -> dict[bytes, str]:
        done: dict[bytes, str] = {}
        try:
            fd = os.open(JOURNAL, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self._work_fd)
        except FileNotFoundError:
            return done
        except OSError as exc:
            raise EnvironmentProblem(t("restore.work_refused", path=self.journal_path,
                                       detail=exc.strerror or exc)) from None
        with os.fdopen(fd, encoding="ascii", errors="replace") as journal:
            for line in journal.read().splitlines():
                try:
                    entry = json.loads(line)
                    done[base64.b64decode(entry["p"])] = entry["h"]
                except (ValueError, KeyError):
                    continue  # a line cut by the interruption
        return done

    def close(self) -> None:
        if self._unjournaled:
            writeback.syncfs(self._root_fd)
            self._journal_items([])
        self._close_folders()
        os.close(self._root_fd)
        os.close(self._work_fd)
        self._journal.close()

    def _folder(self, head: bytes, create: bool) -> int:
        fd = self._folders.get(head)
        if fd is None:
            fd = self._folders[head] = open_folder(self._root_fd, head, create=create, modes=self._modes)
        return fd

    def _close_folders(self) -> None:
        for fd in self._folders.values():
            os.close(fd)
        self._folders.clear()

    # -- what is there already ------------------------------------------------------------------
    def already_there(self, item: Item) -> str | None:
        """"journal" or "identical" when the target holds this content already, else None.
        Not to be called while ``restore`` runs (it closes cached folders)."""
        if len(self._folders) > MAX_FOLDERS:
            self._close_folders()
        head, _, name = item.path.rpartition(b"/")
        try:
            folder = self._folder(head, create=False)
            st = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size != item.size:
            return None
        if self.done.get(item.path) == item.hash:
            return "journal"
        if self._hash(name, folder) == item.hash:
            self._unjournaled.append(item)
            return "identical"
        return None

    def occupied(self, item: Item) -> bool:
        """Something else (another file, a folder, a link) stands where ``item`` goes.
        Not to be called while ``restore`` runs (it may close cached folders)."""
        if len(self._folders) > MAX_FOLDERS:
            self._close_folders()
        head, _, name = item.path.rpartition(b"/")
        try:
            os.stat(name, dir_fd=self._folder(head, create=False), follow_symlinks=False)
        except OSError:  # nothing there, or no folder to hold it yet
            return False
        return True

    def _hash(self, name: bytes, folder: int) -> str | None:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
        except OSError:
            return None
        try:
            return hash_fd(fd, self.algorithm)
        except OSError:
            return None
        finally:
            os.close(fd)

    # -- restoring --------------------------------------------------------------------------------
    def restore(self, jobs: Iterable[Job]) -> Iterator[tuple[Item, str | None]]:
        """Restore every job's item: (item, None) once it is verified, durable and journaled, else
        (item, reason)."""
        flight: deque[_Task] = deque()
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="restore") as pool:
            try:
                yield from self._restore(pool, flight, jobs)
            except TargetFull:
                yield from self._salvage(pool, flight)
                raise

    def _restore(self, pool: ThreadPoolExecutor, flight: deque[_Task],
                 jobs: Iterable[Job]) -> Iterator[tuple[Item, str | None]]:
        for item, copies, reason in jobs:
            head, _, name = item.path.rpartition(b"/")
            if head not in self._folders and len(self._folders) >= MAX_FOLDERS:
                yield from self._flush(pool, flight)
            try:
                folder = self._folder(head, create=True)
            except OSError as exc:  # e.g. a symlink planted in the target
                _raise_if_full(exc)
                yield item, t("restore.refused_path", detail=exc.strerror or exc)
                continue
            task = _Task(item, copies, reason, folder, name)
            if not self._start(pool, task):
                yield item, reason
                continue
            flight.append(task)
            while len(flight) > IN_FLIGHT:
                yield from self._land(pool, flight)
            if len(self._batch) >= BATCH_FILES or self._batch_bytes >= BATCH_BYTES:
                yield from self._flush(pool, flight)
        yield from self._flush(pool, flight)

    def _salvage(self, pool: ThreadPoolExecutor, flight: deque[_Task]) -> Iterator[tuple[Item, str | None]]:
        """The disk is full: give the files already verified their names (a rename needs no room),
        so that the next run finds them in place; the journal is written if there is room for it."""
        while flight:
            task = flight.popleft()
            try:
                temp, _, _ = task.future.result()
            except (TargetFull, OSError):
                continue
            if temp is not None:
                self._batch.append((task.item, task.folder, task.name, temp))
        try:
            yield from self._flush(pool, flight)
        except (TargetFull, OSError):
            pass

    def _start(self, pool: ThreadPoolExecutor, task: _Task) -> bool:
        copy = next(task.copies, None)
        if copy is None:
            return False
        task.future = pool.submit(self._place, task.item, copy, task.folder)
        return True

    def _land(self, pool: ThreadPoolExecutor, flight: deque[_Task]) -> Iterator[tuple[Item, str]]:
        """Wait for the oldest file in flight: into the batch, on to its next copy, or failed."""
        task = flight.popleft()
        temp, reason, final = task.future.result()
        if temp is not None:
            self._batch.append((task.item, task.folder, task.name, temp))
            self._batch_bytes += max(task.item.size, 0)
            return
        task.reason = reason or task.reason
        if not final and self._start(pool, task):
            flight.append(task)
        else:
            yield task.item, task.reason

    def _flush(self, pool: ThreadPoolExecutor, flight: deque[_Task]) -> Iterator[tuple[Item, str | None]]:
        """Make the batch durable, give its files their names, then journal them."""
        while flight:
            yield from self._land(pool, flight)
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        try:
            if batch or self._unjournaled:
                # the temps' content and the folders they are in (a disk mounted inside: its own sync)
                writeback.syncfs_all({self._root_fd, *(folder for _, folder, _, _ in batch)})
        except OSError as exc:
            for item, folder, _, temp in batch:
                _discard(temp, folder)
                yield item, exc.strerror or str(exc)
            batch = []
            self._unjournaled = []  # not proven durable either: the next run verifies them again
        named: list[tuple[Item, int]] = []
        for item, folder, name, temp in batch:
            try:
                if not self.overwrite and _exists_at(name, folder):
                    raise FileExistsError(0, t("restore.exists"))
                os.rename(temp, name, src_dir_fd=None if temp.startswith(b"/") else folder, dst_dir_fd=folder)
                named.append((item, folder))
            except OSError as exc:
                _discard(temp, folder)
                _raise_if_full(exc)
                yield item, exc.strerror or str(exc)
        try:
            if named:  # the renames: one sync, not an fsync per folder (files arriving in any order touch many)
                writeback.syncfs_all({self._root_fd, *(folder for _, folder in named)})
        except OSError as exc:
            for item, _ in named:
                yield item, exc.strerror or str(exc)
            named = []
        durable = [item for item, _ in named]
        self._journal_items(durable)
        for item in durable:
            yield item, None
        self._close_folders()

    def _journal_items(self, items: list[Item]) -> None:
        """Journal lines, written only once the files they name are durable."""
        lines = [json.dumps({"p": base64.b64encode(i.path).decode(), "h": i.hash}) + "\n"
                 for i in (*self._unjournaled, *items)]
        self._unjournaled = []
        if lines:
            try:
                self._journal.write("".join(lines))
                self._journal.flush()
                os.fsync(self._journal.fileno())
            except OSError as exc:
                _raise_if_full(exc)
                raise

    def _place(self, item: Item, copy: Copy, folder: int) -> tuple[bytes | None, str | None, bool]:
        """In a worker: verify ``copy`` as the target disk holds it, under a temp name in ``folder``
        (or where it lies, when it is a movable object on the same disk). Returns (temp or path,
        None, _) when verified, else (None, reason or None when the copy is not there, whether the
        target itself refused so that no other copy can help)."""
        mtime_ns = copy.mtime_ns if copy.mtime_ns >= 0 else item.mtime_ns
        try:
            source = _open_copy(copy)
        except OSError:
            return None, None, False
        temp = b""
        try:
            if copy.movable and os.fstat(source).st_dev == os.fstat(folder).st_dev == self._device:
                out, temp = source, copy.path  # renamed into place once durable: not written twice
            else:
                temp = TEMP_PREFIX + secrets.token_hex(6).encode()
                out = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=folder)
            try:
                if out != source:
                    copy_fd(source, out)
                    if copy.keep_mode:
                        os.fchmod(out, stat.S_IMODE(os.fstat(source).st_mode))
                if hash_fd(out, self.algorithm) != item.hash:
                    if out == source or _source_damaged(source, self.algorithm, item.hash):
                        if out == source:  # a damaged download: fetched again next time
                            unlink_quietly(copy.path, None)
                        temp = b""
                        return None, t("restore.source_corrupt"), False
                    return None, t("restore.write_corrupt"), False
                os.utime(out, ns=(mtime_ns, mtime_ns))
            finally:
                if out != source:
                    os.close(out)
            placed, temp = temp, b""
            return placed, None, False
        except SourceUnreadable as exc:
            return None, t("restore.source_unreadable", detail=exc), False
        except OSError as exc:
            _raise_if_full(exc)
            return None, exc.strerror or str(exc), True
        finally:
            os.close(source)
            if temp:
                _discard(temp, folder)


class TargetFull(Exception):
    """The target's disk ran out of space (or inodes): no other copy can help, the restore stops."""


def _raise_if_full(exc: OSError) -> None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise TargetFull() from exc


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count} B"


def _source_damaged(source: int, algorithm: str, digest: str) -> bool:
    try:
        return hash_fd(source, algorithm) != digest
    except OSError as exc:
        raise SourceUnreadable(exc.strerror or str(exc)) from None


def _exists_at(name: bytes, folder: int) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _discard(temp: bytes, folder: int) -> None:
    """Remove a temp file of ours; a downloaded object (a path) is left for a later run."""
    if not temp.startswith(b"/"):
        unlink_quietly(temp, folder)


# -- running a restore --------------------------------------------------------------------------
Fetch = Callable[[list[Item]], Iterator[Job]]
"""A source: a job (candidate copies, reason when there is none) for each item."""


def _open_copy(copy: Copy) -> int:
    """A copy opened read-only, never through a symlink at its name; a path longer than PATH_MAX
    (an archive may be deeper than that) is walked from its root, folder by folder."""
    try:
        return os.open(copy.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG or not copy.under:
            raise
    return open_file(copy.under, copy.path[len(copy.under):].lstrip(b"/"))


def mirror_fetch(view: CatalogView, mirror_root: Path) -> Fetch:
    root = os.fsencode(mirror_root)

    def fetch(items: list[Item]) -> Iterator[Job]:
        for item in items:
            copies = (Copy(path, mtime_ns, keep_mode=True, under=root)
                      for path, _, mtime_ns in view.copies(item.hash, root))
            yield item, copies, t("restore.no_copy")
    return fetch


class Restore:
    """Runs a restore plan into a target with any number of sources, tried in order."""

    def __init__(self, target: Target, report: RestoreReport, progress: bool) -> None:
        self.target = target
        self.report = report
        self.progress = progress  # shown on stderr: a bar on a terminal, plain lines in a pipe or log
        self._shown = Progress("")

    def run(self, items: list[Item], sources: list[Fetch]) -> RestoreReport:
        started = time.monotonic()
        self.report.requested = len(items)
        todo = []
        reasons: dict[bytes, str] = {}
        refused: list[Item] = []
        for item in items:
            if self.target.empty:
                todo.append(item)
            elif self.target.already_there(item):
                self.report.already += 1
                self.report.verified.append(item)
            elif not self.target.overwrite and self.target.occupied(item):
                # Said as it is, before any copy is read or downloaded: no source can change it.
                reasons[item.path] = t("restore.occupied")
                refused.append(item)
            else:
                todo.append(item)
        self._shown = Progress.for_command(t("progress.restore"), len(todo), sum(max(i.size, 0) for i in todo),
                                           enabled=self.progress)
        try:
            for fetch in sources:
                if not todo:
                    break
                restored_now: set[bytes] = set()
                try:
                    for item, problem in self.target.restore(fetch(todo)):
                        if problem is None:
                            restored_now.add(item.path)
                            self.report.restored += 1
                            self.report.bytes += item.size
                            self.report.verified.append(item)
                            self._shown.advance(1, max(item.size, 0))
                        else:
                            reasons[item.path] = problem
                except TargetFull:
                    self._full([item for item in todo if item.path not in restored_now])
                todo = [item for item in todo if item.path not in restored_now]
        finally:
            self._shown.close()  # (an interruption too: no bar left drawn)
        self.report.failures = [Failure(item.path, reasons.get(item.path, t("restore.no_copy")))
                                for item in sorted(refused + todo, key=lambda i: i.path)]
        self.target.close()
        self.report.seconds = time.monotonic() - started
        return self.report

    def _full(self, left: list[Item]) -> None:
        """The target is full: what is journaled stays (the next run resumes from it); say how much
        more room the rest needs instead of blaming the copies."""
        try:
            self.target.close()
        except (OSError, TargetFull):
            pass  # what was not journaled is verified again next time
        try:
            st = os.statvfs(self.target.root)
            free = st.f_bavail * st.f_frsize
        except OSError:
            free = 0
        needed = max(sum(max(i.size, 0) for i in left) - free, 1)
        raise EnvironmentProblem(t("restore.target_full", target=os.fsdecode(self.target.root),
                                   needed=_size(needed), remaining=len(left),
                                   done=self.report.restored + self.report.already))


def open_work(root_fd: int, root: Path) -> int:
    """The target's bookkeeping folder (journal, reports, downloaded objects), opened or created
    beneath the target without following a symlink; a planted symlink stops the restore."""
    try:
        work = open_folder(root_fd, WORK_DIR.encode(), create=True, mode=0o700)
        os.close(open_folder(work, OBJECTS_DIR.encode(), create=True, mode=0o700))
        return work
    except OSError as exc:
        raise EnvironmentProblem(t("restore.work_refused", path=root / WORK_DIR,
                                   detail=exc.strerror or exc)) from None


def write_report(target: Path, report: RestoreReport) -> Path:
    """The report and the signed-off list of verified files, written into the target. Two restores
    in the same second each keep their own report (the name carries microseconds and a serial)."""
    root = open_root(target, create=True)
    try:
        work = open_work(root, target)
    finally:
        os.close(root)
    try:
        lines = [report.to_text(), "", t("restore.list_header")]
        lines += [f"{item.hash}\t{item.size}\t{shown(item.path)}"
                  for item in sorted(report.verified, key=lambda i: i.path)]
        lines += ["", t("manifest.sign")]
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        for serial in range(1000):
            base = f"report-{stamp}" + (f"-{serial}" if serial else "")
            if not any(_exists_at(f"{base}.{ext}".encode(), work) for ext in ("json", "txt")):
                break
        write_at(work, f"{base}.json", json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode())
        write_at(work, f"{base}.txt", ("\n".join(lines) + "\n").encode("utf-8"))
    finally:
        os.close(work)
    return target / WORK_DIR / f"{base}.txt"
