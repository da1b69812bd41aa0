"""The catalog's health and its history across its two copies.

The catalog (``state_dir/catalog.sqlite``) and its copy on the mirror disk
(``<mirror_root>/.dangan/catalog.sqlite``) are the ledger's only two copies. So:

* a missing catalog, or one of 0 bytes, is never silently replaced by a new one (only ``init``
  creates); the message names the mirror's copy and ``dangan init --adopt``;
* a damaged catalog (SQLite's SQLITE_CORRUPT / SQLITE_NOTADB) is a clear error naming the same way
  back, and an unwritable one (permissions, read-only mount, ``chattr +i``) an environment error;
* each catalog has a *lineage* (a random id given when it is created, kept by ``init --adopt``,
  which copies the file) and a *generation* (raised before every copy to the mirror): the copy on
  the mirror is replaced only by the same lineage at the same or a later generation, whose ledger
  (append-only) reaches at least as far. A state folder put back from an old backup, or a catalog
  started anew by ``init --force``, never overwrites the history the copy holds;
* a copy is written only after ``PRAGMA quick_check`` passed on it, so a damaged catalog never
  replaces a sound copy; the weekly audit runs ``PRAGMA integrity_check`` on both.
"""

from __future__ import annotations

import errno
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from dangan.config.errors import CatalogError, EnvironmentProblem
from dangan.config.messages import t

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog

LINEAGE = "lineage"  # meta: random id of this catalog's line of history
GENERATION = "generation"  # meta: raised before each copy to the mirror; the copy carries it too
COPY_SIGNATURE = "catalog_copy"  # meta: what the last copy held (skip an unchanged copy)
CHECK_ROWS = 20  # problems listed by an integrity check at most


def require_present(path: Path, copy: Path | None, create: bool) -> None:
    """Refuse a catalog that is missing (unless creating) or truncated to 0 bytes."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        if create:
            return
        raise CatalogError(t("catalog.missing", path=path, copy=_copy_words(copy))) from None
    except OSError as exc:
        raise EnvironmentProblem(t("catalog.unwritable", path=path, detail=exc.strerror or exc)) from None
    if size == 0:
        raise CatalogError(t("catalog.damaged", path=path, detail=t("catalog.empty"), copy=_copy_words(copy)))


def require_writable(path: Path) -> None:
    """SQLite opens a file it cannot write read-only without a word, and the first write then fails
    deep inside a command: say it at once (permissions, a read-only mount, the immutable flag)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError as exc:
        raise EnvironmentProblem(t("catalog.unwritable", path=path, detail=exc.strerror or exc)) from None
    os.close(fd)


def is_damage(exc: BaseException) -> bool:
    """SQLite says the file is damaged or is no database (as opposed to busy, locked, full …)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return True
    text = str(exc)
    return "malformed" in text or "not a database" in text


def explained(exc: BaseException, path: Path, copy: Path | None) -> CatalogError | EnvironmentProblem | None:
    """The user's words for a SQLite error on the catalog at ``path``; None: not one of those."""
    if is_damage(exc):
        return CatalogError(t("catalog.damaged", path=path, detail=exc, copy=_copy_words(copy)))
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_READONLY") or "readonly database" in str(exc):
        return EnvironmentProblem(t("catalog.unwritable", path=path, detail=exc))
    return None


@contextmanager
def explaining(path: Path, copy: Path | None) -> Iterator[None]:
    """Turn SQLite's damage and read-only errors on the catalog at ``path`` into the user's words."""
    try:
        yield
    except sqlite3.Error as exc:
        clear = explained(exc, path, copy)
        if clear is None:
            raise
        raise clear from None


def _copy_words(copy: Path | None) -> str:
    if copy is None:
        return t("catalog.copy_unknown")
    return str(copy) if copy.is_file() else t("catalog.copy_absent", copy=copy)


def ensure_lineage(catalog: "Catalog") -> None:
    """Give a catalog without one (new, or made before lineages existed) its lineage id."""
    if catalog.get_meta(LINEAGE) is None:
        with catalog.transaction():
            catalog.db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (LINEAGE, secrets.token_hex(16)))


@dataclass(frozen=True)
class History:
    """How far one catalog file's history reaches."""

    lineage: str | None
    generation: int
    ledger: int  # highest ledger id (the ledger is append-only with AUTOINCREMENT ids)
    versions: int  # highest versions id (informative: retention may delete the newest rows)


class Verdict(StrEnum):
    """May a catalog replace the copy on the mirror?"""

    YES = "yes"
    OTHER_LINEAGE = "lineage"  # the copy is another catalog's history (init --force after a loss)
    OLDER = "older"  # the copy is a later state of this catalog (a state folder from an old backup)


def compare(ours: History, theirs: History | None) -> Verdict:
    """Whether ``ours`` holds everything ``theirs`` (the copy; None: absent or unreadable) holds."""
    if theirs is None:
        return Verdict.YES
    if ours.lineage and theirs.lineage and ours.lineage != theirs.lineage:
        return Verdict.OTHER_LINEAGE
    # Not versions: retention (mirror.keep_versions_days) deletes rows, so their highest id may fall.
    if ours.generation < theirs.generation or ours.ledger < theirs.ledger:
        return Verdict.OLDER
    return Verdict.YES


def _history(db: sqlite3.Connection) -> History:
    meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (LINEAGE, GENERATION)))
    ledger, versions = db.execute(
        "SELECT (SELECT max(id) FROM ledger), (SELECT max(id) FROM versions)").fetchone()
    return History(meta.get(LINEAGE), int(meta.get(GENERATION) or 0), ledger or 0, versions or 0)


def _open_copy(path: Path) -> sqlite3.Connection:
    # immutable: no lock files and no -wal/-shm beside it on the mirror disk; the copy is complete
    # in its main file (written by the backup API, then renamed into place).
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def history_of(path: Path) -> History | None:
    """The history a catalog file (the mirror's copy) holds; None when it is absent or unreadable."""
    if not path.is_file():
        return None
    try:
        db = _open_copy(path)
        try:
            return _history(db)
        finally:
            db.close()
    except sqlite3.Error:
        return None


def _check(db: sqlite3.Connection, pragma: str) -> list[str]:
    try:
        rows = [row[0] for row in db.execute(f"PRAGMA {pragma}({CHECK_ROWS})")]
    except sqlite3.Error as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def integrity_of(path: Path) -> list[str] | None:
    """``PRAGMA integrity_check`` of a catalog file (the mirror's copy): [] when sound, the problems
    found otherwise, None when there is no such file."""
    if not path.is_file():
        return None
    if os.path.getsize(path) == 0:
        return [t("catalog.empty")]
    try:
        db = _open_copy(path)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        return _check(db, "integrity_check")
    finally:
        db.close()


class CopyOutcome(StrEnum):
    """What :meth:`Lineage.copy_to` did."""

    WRITTEN = "written"
    UNCHANGED = "unchanged"  # nothing a restore needs changed since the last copy
    KEPT_OTHER_LINEAGE = "lineage"  # refused: the copy is another catalog's history
    KEPT_OLDER = "older"  # refused: the copy holds a later state of this catalog


class Lineage:
    """One catalog's history against its copy on the mirror disk."""

    def __init__(self, catalog: "Catalog") -> None:
        self.catalog = catalog

    def history(self) -> History:
        return _history(self.catalog.db)

    def integrity(self) -> list[str]:
        """``PRAGMA integrity_check`` of the catalog itself: [] when sound."""
        return _check(self.catalog.db, "integrity_check")

    def forget_copy(self) -> None:
        """The copy on the mirror is damaged: the next reconcile writes it again, changed or not."""
        with self.catalog.transaction():
            self.catalog.db.execute("DELETE FROM meta WHERE key = ?", (COPY_SIGNATURE,))

    def copy_to(self, target: Path) -> CopyOutcome:
        """Write a consistent copy of the catalog (SQLite's online backup) to ``target``, atomically,
        unless the file there holds history this catalog lacks or nothing changed since the last
        copy. Raises CatalogError when the catalog itself is damaged (the copy stays as it was),
        OSError / sqlite3.Error when the mirror disk fails (the copy stays as it was).
        The generation is raised before the copy is made, so the copy carries the new one."""
        with explaining(self.catalog.path, target):  # damage in our own file: say so, never copy it
            signature = self.catalog.backup.signature()
            if signature == self.catalog.get_meta(COPY_SIGNATURE) and target.is_file():
                return CopyOutcome.UNCHANGED
            ours = self.history()
        theirs = history_of(target)
        verdict = compare(ours, theirs)
        if verdict is Verdict.OTHER_LINEAGE:
            return CopyOutcome.KEPT_OTHER_LINEAGE
        if verdict is Verdict.OLDER:
            return CopyOutcome.KEPT_OLDER
        with self.catalog.transaction():
            generation = max(ours.generation, theirs.generation if theirs else 0) + 1
            self.catalog.set_meta(GENERATION, str(generation))
        folder = target.parent
        temp = folder / f".dangan-tmp-catalog-{secrets.token_hex(6)}.sqlite"
        # Our own empty file (O_EXCL, no symlink followed) for SQLite to fill.
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
        try:
            self.catalog.backup.write(temp)
            copy = sqlite3.connect(temp)
            try:
                problems = _check(copy, "quick_check")
            finally:
                copy.close()
            if problems:
                # Damage in the catalog is copied page by page: never let it replace a sound copy.
                own = _check(self.catalog.db, "quick_check")
                if own:
                    raise CatalogError(t("catalog.damaged", path=self.catalog.path, detail=own[0],
                                         copy=_copy_words(target)))
                raise OSError(errno.EIO, f"the copy written to the mirror disk does not check: {problems[0]}")
            fd = os.open(temp, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, target)
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            try:
                temp.unlink()
            except OSError:
                pass
            raise
        with self.catalog.transaction():
            self.catalog.set_meta(COPY_SIGNATURE, signature)
        return CopyOutcome.WRITTEN


@dataclass(frozen=True)
class TakenBack:
    """What :func:`take_back` did for ``dangan init --adopt``."""

    from_copy: bool  # the catalog is now the mirror's copy
    set_aside: Path | None  # where the catalog found before went (damaged, empty or with less history)


def take_back(path: Path, copy: Path) -> TakenBack:
    """Before ``init --adopt``: put the mirror's copy in place of a catalog that is missing, empty,
    damaged, or holds less history than the copy (another lineage, an earlier generation). What
    was there is set aside beside it (with its -wal/-shm), never deleted. A copy that does not pass
    ``PRAGMA integrity_check`` is not taken."""
    copy_sound = integrity_of(copy) == []
    reason = _why_replace(path, copy, copy_sound)
    if reason is None:
        return TakenBack(False, None)
    aside = None
    if reason != "missing":
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = path.with_name(f"{path.name}.{reason}-{stamp}")
        for suffix in ("-wal", "-shm", ""):  # the WAL of the old file must never meet the new one
            try:
                os.rename(f"{path}{suffix}", f"{aside}{suffix}")
            except FileNotFoundError:
                pass
    if not copy_sound:
        return TakenBack(False, aside)  # nothing sound to take: the catalog is registered anew
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".dangan-tmp-{secrets.token_hex(6)}")
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with open(copy, "rb") as source, open(os.open(temp, flags, 0o600), "wb") as target:
            while chunk := source.read(1 << 20):
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            temp.unlink()
        except OSError:
            pass
        raise
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return TakenBack(True, aside)


def _why_replace(path: Path, copy: Path, copy_sound: bool) -> str | None:
    """Why the catalog at ``path`` gives way: missing | empty | damaged | superseded; None: it stays."""
    try:
        if os.stat(path).st_size == 0:
            return "empty"
    except FileNotFoundError:
        return "missing" if copy_sound else None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return "damaged"
    try:
        if _check(db, "integrity_check"):
            return "damaged"
        if not copy_sound:
            return None
        try:
            ours = _history(db)
        except sqlite3.Error:
            return "damaged"
    finally:
        db.close()
    return None if compare(ours, history_of(copy)) is Verdict.YES else "superseded"
