"""Offline sets on other media (脱机备份, 异质备份): what the school's backup regulation asks for beside the
mirror and the partner — new data written "by date and content to optical discs or removable disks,
in two copies, one for use (使用) and one sealed (封存)", with the catalogue data and the system's own
files, and carrier checks every few years.

A set is a BagIt bag (``backup/bag.py``) in a folder of a mounted removable disk, or in one or more
disc images (``backup/disc.py``), each image a complete bag of its own. A set holds what no earlier set
of its role holds (or everything, ``--full``), read from the mirror (or, where that copy is damaged,
the archive) and checked against the catalog's hash before it is written; it is read back from the
target before it is registered in the catalog (``catalog.media``). What does not fit is chosen in
the order the off-site run uses (``manifest.by_priority``) and said, never passed over in silence.
Reading sets back — the carrier check, a restore — is ``backup/sets.py``.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path


from dangan.config.errors import EnvironmentProblem, UsageError
from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.store.atomic import open_folder, open_root, write_at
from dangan.store.catalog import Catalog, now
from dangan.store.catalog.media import MediaSet
from dangan.store.clock import local
from dangan.store.layout import Layout
from dangan.store.names import shown
from dangan.store.tree import open_file

from dangan.backup import disc
from dangan.backup.bag import (BAG_ALGORITHM, CATALOG, CONFIG, INVENTORY, SHEET, BagWriter, FolderBag,
                               Inventory, Member, data_names, digests, fd_chunks, verify)
from dangan.backup.manifest import Entry, by_priority, current_entries, register_sheet
from dangan.backup.sets import bagit_problems, verify_image

ROLES = ("使用", "封存")
BLOCK = 4096  # a file on a disk takes whole blocks
RESERVE = 1 << 20  # room kept for the tag files beyond the catalog snapshot
LINE = 600  # bytes a record adds to the manifest and the inventory, about
_SECRET = re.compile(r"password|secret|token", re.IGNORECASE)


@dataclass
class SetWritten:
    """One carrier's set as written and read back."""

    label: str
    medium: str
    where: str
    records: int
    bytes: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class WriteResult:
    """What ``dangan media write`` did for one role: the sets, and everything it did not write."""

    role: str
    planned: int = 0  # records this set was to hold
    sets: list[SetWritten] = field(default_factory=list)
    left: list[Entry] = field(default_factory=list)  # did not fit: for the next medium
    unreadable: list[bytes] = field(default_factory=list)  # no copy matching the catalog's hash
    not_ready: int = 0  # records not yet on the mirror (and so not in any set)
    sheet: Path | None = None  # the label sheet of disc images

    @property
    def ok(self) -> bool:
        return (all(s.ok for s in self.sets) and bool(self.sets) and not self.left and not self.unreadable
                and not self.not_ready)

    def to_dict(self) -> dict:
        return {"role": self.role, "planned": self.planned, "ok": self.ok, "not_ready": self.not_ready,
                "sets": [vars(s) for s in self.sets], "sheet": str(self.sheet) if self.sheet else None,
                "left": [shown(e.path) for e in self.left], "unreadable": [shown(p) for p in self.unreadable]}


def default_label() -> str:
    return "DG" + datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")


def check_label(label: str) -> str:
    """A label names a folder on the carrier and is written on it: plain, short, one name."""
    if not label or len(label.encode("utf-8")) > 100 or label.startswith(".") or re.search(r"[/\\\x00-\x1f]", label):
        raise UsageError(t("media.bad_label", label=label))
    return label


class MediaWriter:
    """Writes offline sets from the catalog's records and registers them."""

    def __init__(self, config: Config, layout: Layout, catalog: Catalog) -> None:
        self.config = config
        self.layout = layout
        self.catalog = catalog
        self._algorithms = (BAG_ALGORITHM, config.hash_algorithm)

    # -- what goes into a set -------------------------------------------------------------------
    def plan(self, role: str, full: bool) -> list[Entry]:
        """The records for a set of ``role``, most important first: those no set of that role holds."""
        entries = current_entries(self.catalog, self.config)
        if not full:
            held = self.catalog.media.held(role)
            entries = [e for e in entries if (e.path, e.hash) not in held]
        return by_priority(entries, self.catalog)

    def _result(self, role: str, label: str, full: bool) -> tuple[WriteResult, list[Entry]]:
        if self.catalog.media.get(label) is not None or any(
                s.label.startswith(label + "-") for s in self.catalog.media.sets()):
            raise UsageError(t("media.label_taken", label=label))
        entries = self.plan(role, full)
        return WriteResult(role, planned=len(entries), not_ready=len(self.catalog.unmirrored())), entries

    # -- a removable disk ------------------------------------------------------------------------
    def to_folder(self, target: Path, role: str, label: str, full: bool, capacity: int | None,
                  kept_at: str) -> WriteResult:
        result, entries = self._result(role, label, full)
        root = open_root(target)
        try:
            with self._snapshot() as snapshot:
                st = os.statvfs(root)
                budget = min(capacity or st.f_bavail * st.f_frsize, st.f_bavail * st.f_frsize)
                budget -= os.fstat(snapshot).st_size + RESERVE
                taken, result.left = _fit(entries, budget, _on_disk)
                if not taken:
                    return result
                folder = _new_folder(root, label, target)
                try:
                    written = self._write_bag(folder, taken, snapshot, result, label, role, "disk", 1, 1, kept_at)
                finally:
                    os.close(folder)
        finally:
            os.close(root)
        where = target / label
        check = verify(FolderBag(where), 1.0, {m.path: m.hash for m in written})
        problems = check.problems + bagit_problems(where)
        result.sets.append(SetWritten(label, "disk", str(where), len(written), sum(m.size for m in written),
                                      problems))
        if not problems:
            self._register(label, "disk", role, kept_at, written, 1, 1)
        return result

    # -- disc images -----------------------------------------------------------------------------
    def to_images(self, target: Path, medium: str, role: str, label: str, full: bool, capacity: int | None,
                  kept_at: str) -> WriteResult:
        result, entries = self._result(role, label, full)
        root = open_root(target, create=True)
        stage_name = f".dangan-media-stage-{secrets.token_hex(6)}"
        os.mkdir(stage_name, 0o700, dir_fd=root)  # a fresh random name: nothing can be planted there
        written_parts: list[tuple[str, list[Member], int]] = []
        try:
            with self._snapshot() as snapshot:
                per_image = (capacity or disc.CAPACITY[medium]) - disc.IMAGE_OVERHEAD \
                    - disc.on_disc(os.fstat(snapshot).st_size) - RESERVE
                parts, result.left = _split(entries, per_image, _on_disc)
                # Each image is staged as a bag first: the folder needs room for all images and one stage.
                # What does not fit waits for the next run, as on a disk (the last parts: least urgent).
                sizes = [sum(map(_on_disc, part)) + (capacity or disc.CAPACITY[medium]) - per_image for part in parts]
                st = os.statvfs(root)
                while parts and sum(sizes) + max(sizes) > st.f_bavail * st.f_frsize:
                    sizes.pop()
                    result.left[:0] = parts.pop()
                names = [label if len(parts) == 1 else f"{label}-{n}of{len(parts)}" for n in range(1, len(parts) + 1)]
                for name in names:
                    if _exists(root, f"{name}.iso"):
                        raise EnvironmentProblem(t("media.exists", path=target / f"{name}.iso"))
                for number, (part, name) in enumerate(zip(parts, names), 1):
                    image = f"{name}.iso"
                    stage = open_folder(root, f"{stage_name}/{name}".encode(), create=True, mode=0o700)
                    try:
                        bag = self._write_bag(stage, part, snapshot, result, name, role, medium, number,
                                              len(parts), kept_at)
                        names = _bag_files(stage)
                    finally:
                        os.close(stage)
                    size = disc.pack(target / stage_name / name, names, root, image, name)
                    shutil.rmtree(target / stage_name / name)
                    written_parts.append((name, bag, size))
        finally:
            shutil.rmtree(target / stage_name, ignore_errors=True)
            os.close(root)
        for number, (name, bag, size) in enumerate(written_parts, 1):
            where = target / f"{name}.iso"
            problems = verify_image(where, 1.0, {m.path: m.hash for m in bag}).problems
            if size > (capacity or disc.CAPACITY[medium]):
                problems.append(t("media.too_big", size=size, capacity=capacity or disc.CAPACITY[medium]))
            result.sets.append(SetWritten(name, medium, str(where), len(bag), sum(m.size for m in bag), problems))
            if not problems:
                self._register(name, medium, role, kept_at, bag, number, len(written_parts))
        if result.sets:
            result.sheet = self._label_sheet(target, label, role, result)
        return result

    # -- writing one bag -------------------------------------------------------------------------
    def _write_bag(self, folder: int, entries: list[Entry], snapshot: int, result: WriteResult, label: str,
                   role: str, medium: str, part: int, parts: int, kept_at: str) -> list[Member]:
        names = data_names(e.path for e in entries)
        writer = BagWriter(folder)
        members: list[Member] = []
        try:
            for entry in entries:
                good = self._good_copy(entry)
                if good is None:
                    result.unreadable.append(entry.path)
                    continue
                fd, sha256 = good
                try:
                    writer.add_record(names[entry.path], fd, sha256, entry.mtime_ns)
                finally:
                    os.close(fd)
                members.append(Member(names[entry.path], entry.path, entry.size, entry.mtime_ns, entry.hash,
                                      sha256, entry.retention, entry.department, entry.category))
            departments: dict[str, list[int]] = {}
            for m in members:
                row = departments.setdefault(m.department or t("check.root_department"), [0, 0])
                row[0] += 1
                row[1] += m.size
            created = now()
            stamp = datetime.fromisoformat(created).astimezone(self.config.tz).isoformat(timespec="milliseconds")
            inventory = Inventory(label, role, medium, part, parts, stamp, self.config.school,
                                  self.layout.archive_id(), self.config.hash_algorithm, members, departments)
            writer.add_tag(INVENTORY, inventory.to_bytes())
            writer.add_tag(CONFIG, json.dumps(without_secrets(self.config.model_dump(mode="json")),
                                              ensure_ascii=False, indent=1).encode("utf-8"))
            total = sum(m.size for m in members)
            writer.add_tag(SHEET, register_sheet(label, "media", created, {d: tuple(v) for d, v in
                                                                            departments.items()},
                                                 len(members), total, title=t("media.sheet_register")).encode("utf-8"))
            writer.add_tag_file(CATALOG, snapshot)
            info = [("Source-Organization", self.config.school or "—"),
                    ("Bagging-Date", local(created)[:10]),
                    ("External-Identifier", label),
                    ("Bag-Count", f"{part} of {parts}"),
                    ("Internal-Sender-Description", t("media.bag_description", role=role)),
                    ("Dangan-Role", role), ("Dangan-Medium", medium), ("Dangan-Kept-At", kept_at or "—"),
                    ("Dangan-Written", local(created, seconds=True)),
                    ("Dangan-Hash-Algorithm", self.config.hash_algorithm)]
            info += [("Dangan-Department", f"{d} {files} {size}") for d, (files, size) in sorted(departments.items())]
            writer.finish(info, total)
        finally:
            writer.close()
        return members

    def _good_copy(self, entry: Entry) -> tuple[int, str] | None:
        """The record opened where its content matches the catalog — the mirror, else the archive —
        and its SHA-256; None when neither copy does."""
        for root in (self.layout.mirror_root, self.layout.archive_root):
            try:
                fd = open_file(os.fsencode(root), entry.path)
            except OSError:
                continue
            try:
                found = digests(fd_chunks(fd), self._algorithms)
            except OSError:
                os.close(fd)
                continue
            if found[self.config.hash_algorithm] == entry.hash:
                return fd, found[BAG_ALGORITHM]
            os.close(fd)
        return None

    @contextmanager
    def _snapshot(self) -> Iterator[int]:
        """The catalog and its ledger as they are now (SQLite's online backup), open for reading."""
        with tempfile.TemporaryDirectory(dir=self.layout.state_dir, prefix=".media-") as scratch:
            path = Path(scratch) / "catalog.sqlite"
            self.catalog.backup.write(path)
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                yield fd
            finally:
                os.close(fd)

    def _register(self, label: str, medium: str, role: str, kept_at: str, members: list[Member], part: int,
                  parts: int) -> None:
        at = now()
        with self.catalog.transaction():
            self.catalog.media.add(MediaSet(label, medium, role, kept_at, len(members), sum(m.size for m in members),
                                            at, at, "ok", None, part, parts),
                                   ((m.path, m.hash) for m in members))

    def _label_sheet(self, target: Path, label: str, role: str, result: WriteResult) -> Path:
        """The label sheet to print and keep with the discs: one block per disc (text and HTML)."""
        blocks = [[t("media.sheet_title", school=self.config.school or "—"),
                   t("media.sheet_disc", label=s.label, role=role, medium=s.medium, records=s.records,
                     bytes=s.bytes, written=local(now()), ok=t("media.verified") if s.ok else t("media.not_verified"))]
                  for s in result.sets]
        text = "\n\n".join("\n".join(b) for b in blocks) + "\n\n" + t("manifest.sign") + "\n"
        page = "".join(f"<section style='border:1px solid #000;padding:1em;margin:1em;width:12cm'>"
                       f"<h2>{html.escape(b[0])}</h2><p>{html.escape(b[1])}</p></section>" for b in blocks)
        root = open_root(target)
        try:
            write_at(root, f"{label}-标签.txt", text.encode("utf-8"))
            write_at(root, f"{label}-标签.html", (f"<!doctype html><meta charset='utf-8'><title>{html.escape(label)}"
                                                f"</title>{page}").encode("utf-8"))
        finally:
            os.close(root)
        return target / f"{label}-标签.txt"


def _on_disk(entry: Entry) -> int:
    """What a record takes on a disk: whole blocks, and its lines in the manifest and inventory."""
    return -(-entry.size // BLOCK) * BLOCK + LINE


def _on_disc(entry: Entry) -> int:
    return disc.on_disc(entry.size) + LINE


def _fit(entries: list[Entry], budget: int, cost: Callable[[Entry], int]) -> tuple[list[Entry], list[Entry]]:
    """In order, each record that still fits; the others left for the next medium."""
    taken, left, used = [], [], 0
    for entry in entries:
        if used + cost(entry) <= budget:
            taken.append(entry)
            used += cost(entry)
        else:
            left.append(entry)
    return taken, left


def _split(entries: list[Entry], per_image: int,
           cost: Callable[[Entry], int]) -> tuple[list[list[Entry]], list[Entry]]:
    """Records in order over as many images as they need, never splitting one; a record larger
    than a whole image is left (it needs a larger medium)."""
    parts: list[list[Entry]] = []
    left: list[Entry] = []
    used = per_image + 1
    for entry in entries:
        if cost(entry) > per_image:
            left.append(entry)
            continue
        if used + cost(entry) > per_image:
            parts.append([])
            used = 0
        parts[-1].append(entry)
        used += cost(entry)
    return parts, left


def _new_folder(root: int, label: str, target: Path) -> int:
    """The set's folder, new: an existing name (a folder, a file, a planted symlink) is refused."""
    try:
        os.mkdir(label, 0o755, dir_fd=root)
    except FileExistsError:
        raise EnvironmentProblem(t("media.exists", path=target / label)) from None
    return open_folder(root, label.encode("utf-8"))


def _exists(root: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=root, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _bag_files(folder: int) -> list[str]:
    """Every file of a bag staged by us (relative names)."""
    names = []
    for top, _, files, fd in os.fwalk(".", dir_fd=folder):
        names += [os.path.normpath(os.path.join(top, f)) for f in files]
    return names


def without_secrets(value: object) -> object:
    """The config for the set: every key that names a secret dropped (secrets themselves live in files
    that are never copied: the off-site key, rclone.conf, the SMTP password file)."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if not _SECRET.search(k)}
    return value
