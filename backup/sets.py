"""Offline sets found on a carrier (a mounted disk's folder, a disc image): found, opened, checked
against their own manifests and the media register (the carrier check), and read by a restore.
``backup/media.py`` writes them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import bagit

from dangan.config.errors import EnvironmentProblem, UsageError
from dangan.config.messages import t
from dangan.store.atomic import create_temp, open_root, write_at
from dangan.store.catalog import Catalog, now
from dangan.store.layout import Layout
from dangan.store.names import shown

from dangan.backup import disc
from dangan.backup.bag import CATALOG, INVENTORY, BagSource, FolderBag, Inventory, Member, Verification, verify
from dangan.backup.restore import WORK_DIR, CatalogView, Copy, Fetch, Item, Job, open_work


def bagit_problems(path: Path) -> list[str]:
    """The Library of Congress's own validation of a bag in a folder (any BagIt tool's view)."""
    try:
        bagit.Bag(str(path)).validate(processes=1)
    except bagit.BagError as exc:
        details = getattr(exc, "details", None) or []
        return [f"BagIt: {exc}"] + [f"BagIt: {d}" for d in details[:10]]
    return []


def verify_image(path: Path, share: float, expected: dict[bytes, str] | None) -> Verification:
    """An image read back through UDF (``bag.verify``); an image pycdlib cannot open is a problem found."""
    try:
        image = disc.ImageBag(path)
    except (OSError, disc.Error) as exc:
        return Verification(str(path), None, problems=[f"{path}: {exc}"])
    try:
        return verify(image, share, expected)
    finally:
        image.close()


# -- finding sets, checking them ------------------------------------------------------------------
def find_sets(path: Path) -> list[Path]:
    """The sets at ``path``: a set's folder, a disc image, or a folder (a mounted disk) holding them."""
    if path.is_file():
        return [path]
    if (path / "bagit.txt").is_file():
        return [path]
    if not path.is_dir():
        raise EnvironmentProblem(t("media.no_sets", path=path))
    found = sorted(p for p in path.iterdir() if not p.is_symlink() and (
        (p.is_dir() and (p / "bagit.txt").is_file()) or (p.is_file() and p.suffix.lower() == ".iso")))
    if not found:
        raise EnvironmentProblem(t("media.no_sets", path=path))
    return found


def check_set(path: Path, catalog: Catalog, share: float) -> Verification:
    """Verify one set against its own manifest and the register, and record what was found."""
    if path.is_file():
        result = verify_image(path, share, None)
    else:
        result = verify(FolderBag(path), share)
        if share >= 1.0 and result.inventory is not None:
            result.problems += bagit_problems(path)
    label = result.inventory.label if result.inventory else None
    registered = catalog.media.get(label) if label else None
    if result.inventory is not None and registered is None:
        result.problems.append(t("media.not_registered", label=label))
    elif registered is not None:
        held = catalog.media.items(label)
        listed = {m.path: m.hash for m in result.inventory.members}
        result.problems += [t("media.differs", path=shown(p)) for p in sorted(set(held) | set(listed))
                            if held.get(p) != listed.get(p)]
        with catalog.transaction():
            catalog.media.checked(label, now(), "ok" if result.ok else "failed",
                                  json.dumps({"checked": result.checked, "problems": result.problems[:20]},
                                             ensure_ascii=False))
    return result


# -- restoring from sets ----------------------------------------------------------------------------
class MediaSets:
    """Offline sets given to a restore: mounted set folders, carriers holding them, or disc images."""

    def __init__(self, places: list[str]) -> None:
        if not places:
            raise UsageError(t("media.restore_needs_set"))
        self.sets: list[BagSource] = []
        try:
            for where in places:
                self.sets += [open_set(p) for p in find_sets(Path(os.path.abspath(where)))]
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for source in self.sets:
            if isinstance(source, disc.ImageBag):
                source.close()

    def view(self, layout: Layout, target: Path) -> CatalogView:
        """The plan's catalog: the state folder's or the mirror's copy, else the newest set's own (its
        ledger replays ``--at``), written into the restore's work folder."""
        try:
            return CatalogView(layout)
        except EnvironmentProblem:
            pass
        newest = max(self.sets, key=lambda s: datetime.fromisoformat(Inventory.from_bytes(s.read(INVENTORY)).created))
        root = open_root(target, create=True)
        try:
            work = open_work(root, target)
        finally:
            os.close(root)
        try:
            write_at(work, b"media-catalog.sqlite", newest.read(CATALOG))
        finally:
            os.close(work)
        return CatalogView(layout, target / WORK_DIR / "media-catalog.sqlite")

    def fetch(self, scratch: Path) -> Fetch:
        """A restore source: a folder set's file is copied from where it lies; a disc image's is read out
        into ``scratch`` first (and moved into place). Any set holding the content serves."""
        index: dict[str, list[tuple[BagSource, Member]]] = {}
        for source in self.sets:
            for member in Inventory.from_bytes(source.read(INVENTORY)).members:
                index.setdefault(member.hash, []).append((source, member))

        def copies(item: Item) -> Iterator[Copy]:
            for source, member in index.get(item.hash, []):
                if isinstance(source, FolderBag):
                    yield Copy(os.fsencode(source.path / member.name), item.mtime_ns, under=os.fsencode(source.path))
                    continue
                try:
                    path = _extract(source, member, scratch)
                except OSError:
                    continue  # a damaged image: the next set may hold it
                yield Copy(path, item.mtime_ns, movable=True)

        def fetch(items: list[Item]) -> Iterator[Job]:
            for item in items:
                yield item, copies(item), t("media.no_copy")
        return fetch


def open_set(path: Path) -> BagSource:
    """A set to read; a file that is not a disc image is said so (exit 2), not an internal error."""
    if path.is_dir():
        return FolderBag(path)
    try:
        return disc.ImageBag(path)
    except (OSError, disc.Error) as exc:
        raise EnvironmentProblem(t("media.bad_image", path=path, detail=exc)) from None


def _extract(source: BagSource, member: Member, scratch: Path) -> bytes:
    """A member of an image read out into ``scratch`` under a fresh name (moved into place by the restore)."""
    folder = open_root(scratch, create=True, mode=0o700)
    try:
        fd, temp = create_temp(folder)
        try:
            for chunk in source.chunks(member.name):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
        except BaseException:
            os.close(fd)
            os.unlink(temp, dir_fd=folder)
            raise
        os.close(fd)
    finally:
        os.close(folder)
    return os.fsencode(scratch) + b"/" + temp
