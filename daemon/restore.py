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
import json
import os
import secrets
import sqlite3
import stat
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from dangan.config.errors import EnvironmentProblem, UsageError
from dangan.config.messages import t
from dangan.config.schema import Config

from .atomic import fsync_dir, write_atomic
from .layout import CATALOG_FILE, Layout, MIRROR_DIR
from .mirror import TEMP_PREFIX, SourceUnreadable, copy_hashing, hash_fd
from .names import show
from .tree import open_dir

WORK_DIR = ".dangan-restore"
JOURNAL = "journal.jsonl"


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
        lines = [t("restore.summary", source=self.source, target=self.target, at=self.at or t("restore.latest"),
                   requested=self.requested, restored=self.restored, already=self.already, bytes=self.bytes,
                   seconds=round(self.seconds, 1))]
        lines.append(t("restore.all_verified") if self.ok else t("restore.some_failed", count=len(self.failures)))
        lines += [f"  {show(f.path)}：{f.reason}" for f in self.failures]
        return "\n".join(lines)


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


def _selected(path: bytes, only: list[bytes]) -> bool:
    return not only or any(path == p or path.startswith(p + b"/") for p in only)


class CatalogView:
    """Read-only access to a catalog that may be the mirror's copy (the state folder may be gone)."""

    def __init__(self, layout: Layout) -> None:
        candidates = [layout.catalog_path, layout.mirror_root / MIRROR_DIR / CATALOG_FILE]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise EnvironmentProblem(t("restore.no_catalog", paths=", ".join(map(str, candidates))))
        self.path = path
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def close(self) -> None:
        self.db.close()

    def state(self, at: datetime | None) -> dict[bytes, str]:
        """path -> hash of every record present now, or at ``at`` (replaying the ledger)."""
        if at is None:
            rows = self.db.execute("SELECT path, hash FROM files WHERE removed_at IS NULL AND hash IS NOT NULL")
            return dict(rows)
        stamp = at.astimezone(timezone.utc).isoformat(timespec="milliseconds")
        state: dict[bytes, str] = {}
        for event, path, detail in self.db.execute(
                "SELECT event, path, detail FROM ledger WHERE at <= ? ORDER BY id", (stamp,)):
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
        for query, args in (("SELECT size, mtime_ns FROM files WHERE path = ? AND hash = ?", (path, digest)),
                            ("SELECT size, mtime_ns FROM versions WHERE path = ? AND hash = ?", (path, digest)),
                            ("SELECT size, mtime_ns FROM files WHERE hash = ?", (digest,)),
                            ("SELECT size, mtime_ns FROM versions WHERE hash = ?", (digest,))):
            row = self.db.execute(query + " LIMIT 1", args).fetchone()
            if row:
                return row
        return -1, 0

    def copies(self, digest: str, mirror_root: bytes) -> Iterator[tuple[bytes, int, int]]:
        """Where the mirror disk holds content ``digest``: (path, size, mtime_ns), best first."""
        for path, size, mtime_ns in self.db.execute(
                "SELECT path, size, mtime_ns FROM files WHERE mirror_hash = ?", (digest,)):
            yield mirror_root + b"/" + path, size, mtime_ns
        for location, size, mtime_ns in self.db.execute(
                "SELECT location, size, mtime_ns FROM versions WHERE hash = ? ORDER BY id DESC", (digest,)):
            yield mirror_root + b"/.dangan/versions/" + location, size, mtime_ns
        staged = mirror_root + f"/.dangan/stage/data/{digest[:2]}/{digest}".encode()
        yield staged, -1, -1


# -- writing into the target ------------------------------------------------------------------
class Target:
    """The folder being restored into, written safely: never outside it, never over a file
    without leave, every file verified from the disk before it takes its name."""

    def __init__(self, root: Path, algorithm: str, overwrite: bool) -> None:
        self.root = os.fsencode(root)
        self.algorithm = algorithm
        self.overwrite = overwrite
        os.makedirs(root, exist_ok=True)
        self.work = root / WORK_DIR
        self.work.mkdir(exist_ok=True)
        self.journal_path = self.work / JOURNAL
        self.done = self._load_journal()
        if self.done:  # resuming: an interrupted write may have left its temp file
            for _, _, files, dirfd in os.fwalk(self.root, follow_symlinks=False):
                for name in files:
                    if name.startswith(TEMP_PREFIX):
                        os.unlink(name, dir_fd=dirfd)
        self._journal = open(self.journal_path, "a", encoding="ascii")
        self._unsynced = 0

    def _load_journal(self) -> dict[bytes, str]:
        done: dict[bytes, str] = {}
        try:
            for line in self.journal_path.read_text(encoding="ascii").splitlines():
                try:
                    entry = json.loads(line)
                    done[base64.b64decode(entry["p"])] = entry["h"]
                except (ValueError, KeyError):
                    continue  # a line cut by the interruption
        except FileNotFoundError:
            pass
        return done

    def close(self) -> None:
        self._sync_journal()
        self._journal.close()

    def _record(self, item: Item) -> None:
        self._journal.write(json.dumps({"p": base64.b64encode(item.path).decode(), "h": item.hash}) + "\n")
        self._unsynced += 1
        if self._unsynced >= 200:
            self._sync_journal()

    def _sync_journal(self) -> None:
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self._unsynced = 0

    def already_there(self, item: Item) -> str | None:
        """"journal" or "identical" when the target holds this content already, else None."""
        if self.done.get(item.path) == item.hash and self._size(item.path) == item.size:
            return "journal"
        if self._size(item.path) == item.size and self._hash(item.path) == item.hash:
            self._record(item)
            return "identical"
        return None

    def _size(self, path: bytes) -> int | None:
        head, _, name = path.rpartition(b"/")
        try:
            folder = open_dir(self.root, head)
        except OSError:
            return None
        try:
            st = os.stat(name, dir_fd=folder, follow_symlinks=False)
            return st.st_size if stat.S_ISREG(st.st_mode) else None
        except OSError:
            return None
        finally:
            os.close(folder)

    def _hash(self, path: bytes) -> str | None:
        head, _, name = path.rpartition(b"/")
        try:
            folder = open_dir(self.root, head)
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
            os.close(folder)
        except OSError:
            return None
        try:
            return hash_fd(fd, self.algorithm)
        finally:
            os.close(fd)

    def write(self, item: Item, source_fd: int, mtime_ns: int) -> str | None:
        """Write ``source_fd``'s content as ``item``; None when verified, else the reason."""
        head, _, name = item.path.rpartition(b"/")
        try:
            folder = open_dir(self.root, head, create=True)
        except OSError as exc:
            os.close(source_fd)
            return t("restore.refused_path", detail=exc.strerror or exc)  # e.g. a symlink planted in the target
        temp = TEMP_PREFIX + secrets.token_hex(6).encode()
        out = -1
        try:
            out = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=folder)
            digest, _ = copy_hashing(source_fd, out, self.algorithm, keep=False)
            if digest != item.hash:
                return t("restore.source_corrupt")
            os.fsync(out)
            if hash_fd(out, self.algorithm) != item.hash:  # as the target disk holds it
                return t("restore.write_corrupt")
            os.utime(out, ns=(mtime_ns, mtime_ns))
            os.close(out)
            out = -1
            if not self.overwrite and _exists_at(name, folder):
                return t("restore.exists")
            os.rename(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
            temp = b""
            os.fsync(folder)
            self._record(item)
            return None
        except SourceUnreadable as exc:
            return t("restore.source_unreadable", detail=exc)
        except OSError as exc:
            return exc.strerror or str(exc)
        finally:
            os.close(source_fd)
            if out >= 0:
                os.close(out)
            if temp:
                try:
                    os.unlink(temp, dir_fd=folder)
                except OSError:
                    pass
            os.close(folder)


def _exists_at(name: bytes, folder: int) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


# -- running a restore --------------------------------------------------------------------------
Fetch = Callable[[list[Item]], Iterator[tuple[Item, int | None, int, str]]]
"""A source: for each item, (item, open fd of a candidate copy or None, mtime_ns, reason if none)."""


def mirror_fetch(view: CatalogView, mirror_root: Path) -> Fetch:
    root = os.fsencode(mirror_root)

    def fetch(items: list[Item]) -> Iterator[tuple[Item, int | None, int, str]]:
        for item in items:
            found = False
            for path, _, mtime_ns in view.copies(item.hash, root):
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                except OSError:
                    continue
                found = True
                yield item, fd, (mtime_ns if mtime_ns >= 0 else item.mtime_ns), ""
            if not found:
                yield item, None, item.mtime_ns, t("restore.no_copy")
    return fetch


class Restore:
    """Runs a restore plan into a target with any number of sources, tried in order."""

    def __init__(self, target: Target, report: RestoreReport, progress: bool) -> None:
        self.target = target
        self.report = report
        self.progress = progress

    def run(self, items: list[Item], sources: list[Fetch]) -> RestoreReport:
        started = time.monotonic()
        self.report.requested = len(items)
        todo = []
        for item in items:
            how = self.target.already_there(item)
            if how == "journal" or how == "identical":
                self.report.already += 1
                self.report.verified.append(item)
            else:
                todo.append(item)
        reasons: dict[bytes, str] = {}
        for fetch in sources:
            if not todo:
                break
            failed: list[Item] = []
            restored_now: set[bytes] = set()
            for item, fd, mtime_ns, reason in fetch(todo):
                if item.path in restored_now:
                    if fd is not None:
                        os.close(fd)
                    continue
                if fd is None:
                    reasons[item.path] = reason
                    continue
                problem = self.target.write(item, fd, mtime_ns)
                if problem is None:
                    restored_now.add(item.path)
                    self.report.restored += 1
                    self.report.bytes += item.size
                    self.report.verified.append(item)
                    self._progress()
                else:
                    reasons[item.path] = problem
            failed = [item for item in todo if item.path not in restored_now]
            todo = failed
        self.report.failures = [Failure(item.path, reasons.get(item.path, t("restore.no_copy"))) for item in todo]
        self.report.seconds = time.monotonic() - started
        self.target.close()
        return self.report

    def _progress(self) -> None:
        if self.progress:
            done = self.report.restored + self.report.already
            print(f"\r{t('restore.progress', done=done, total=self.report.requested)}", end="", file=sys.stderr,
                  flush=True)


def write_report(target: Path, report: RestoreReport) -> Path:
    """The report and the signed-off list of verified files, written into the target."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    work = target / WORK_DIR
    work.mkdir(exist_ok=True)
    write_atomic(work / f"report-{stamp}.json", json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode())
    lines = [report.to_text(), "", t("restore.list_header")]
    lines += [f"{item.hash}\t{item.size}\t{show(item.path)}" for item in sorted(report.verified, key=lambda i: i.path)]
    lines += ["", t("manifest.sign")]
    path = work / f"report-{stamp}.txt"
    write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))
    fsync_dir(work)
    return path
