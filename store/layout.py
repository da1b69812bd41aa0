"""Where dangan keeps its own files, and the marker files that tell a mounted disk from an empty
mount point (Syncthing's ``.stfolder`` idea).

dangan's own names are an exact set (:func:`is_own`): a few fixed names at the top of a root, and
temp files of one shape anywhere. Every other name, even one that starts with ``.dangan`` (a
user's ``.dangan-notes.txt``, a folder ``.dangan`` below the top), is a record."""

from __future__ import annotations

import json
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import t
from dangan.config.schema import Config

from dangan.store.atomic import write_atomic
from dangan.store.catalog import Catalog
from dangan.store.catalog.health import require_present

ARCHIVE_MARKER = ".dangan-archive"
MIRROR_DIR = ".dangan"
MIRROR_MARKER = "marker"
CATALOG_FILE = "catalog.sqlite"
RESTORE_DIR = ".dangan-restore"  # a restore's journal and reports, at the top of its target
TEMP_PREFIX = b".dangan-tmp-"
# The names dangan gives at the top of the archive or mirror root (the mirror's own area, the
# archive's marker, a restore's bookkeeping in a target that may be the archive root itself).
TOP_NAMES = frozenset({MIRROR_DIR.encode(), ARCHIVE_MARKER.encode(), RESTORE_DIR.encode()})
# The temp files dangan writes anywhere: TEMP_PREFIX and 12 hex digits (temp_name), and the
# shapes older versions wrote (tempfile's 8 characters, the audit's fixed repair temp), so that
# their leftovers are still recognised and swept.
_TEMP = re.compile(rb"\.dangan-tmp-(?:[0-9a-f]{12}|[0-9a-f]{16}|[a-z0-9_]{8}|repair)\Z")  # 16 hex: store/atomic.py


def temp_name() -> bytes:
    """A fresh name for a temp file of dangan's (recognised by :func:`is_temp`)."""
    return TEMP_PREFIX + secrets.token_hex(6).encode()


def is_temp(name: bytes) -> bool:
    """A temp file of dangan's: written, then renamed to its name or removed; swept after a crash."""
    return _TEMP.match(name) is not None


def is_own(name: bytes, top: bool = False) -> bool:
    """Whether ``name`` is one of dangan's own, never a record (never checked, never mirrored as
    one). ``top``: the name is directly in the archive (or mirror) root, where dangan's fixed
    names live; below it only temp files are dangan's."""
    return is_temp(name) or (top and name in TOP_NAMES)


def is_own_path(relpath: bytes) -> bool:
    """Whether a path relative to the root is, or lies inside, one of dangan's own names."""
    parts = relpath.split(b"/")
    return is_own(parts[0], top=True) or any(is_temp(part) for part in parts[1:])


@dataclass(frozen=True)
class Layout:
    """The paths of one installation, derived from its config."""

    archive_root: Path
    mirror_root: Path
    state_dir: Path

    @classmethod
    def of(cls, config: Config) -> "Layout":
        return cls(Path(config.archive_root), Path(config.mirror_root), Path(config.state_dir))

    @property
    def archive_marker(self) -> Path:
        return self.archive_root / ARCHIVE_MARKER

    @property
    def mirror_marker(self) -> Path:
        return self.mirror_root / MIRROR_DIR / MIRROR_MARKER

    @property
    def catalog_path(self) -> Path:
        return self.state_dir / CATALOG_FILE

    @property
    def catalog_copy_path(self) -> Path:
        """The catalog's copy on the mirror disk, written at each reconcile that changed something."""
        return self.mirror_root / MIRROR_DIR / CATALOG_FILE

    def open_catalog(self, create: bool = False) -> Catalog:
        """The catalog, refusing a missing (unless ``create``), empty, damaged or unwritable one with
        a message that names the mirror's copy and ``dangan init --adopt``."""
        return Catalog(self.catalog_path, create=create, copy=self.catalog_copy_path)

    def require_catalog(self) -> None:
        """The same refusal of a missing or empty catalog, before anything is written to the state folder."""
        require_present(self.catalog_path, self.catalog_copy_path, create=False)

    def archive_id(self, marker: Path | None = None) -> str | None:
        try:
            return json.loads((marker or self.archive_marker).read_text(encoding="utf-8"))["archive_id"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def require_archive(self) -> None:
        """Refuse to work on an archive root whose marker is gone (disk unmounted or emptied)."""
        if not self.archive_marker.is_file():
            raise EnvironmentProblem(t("archive.no_marker", path=self.archive_root, marker=ARCHIVE_MARKER))

    def create(self, departments: list[str] = (), categories: list[str] = ()) -> None:
        """Create the folders and the markers; keep existing markers (and their archive id).

        A new, empty archive also gets its department folders and, in each, the category folders
        (level 2), so staff see where files go: the task folders (level 3) are theirs to make.
        """
        fresh_archive = not self.archive_root.exists() or not any(self.archive_root.iterdir())
        for folder in (self.archive_root, self.mirror_root, self.state_dir):
            _mkdir(folder)
        if fresh_archive:
            for department in departments:
                _mkdir(self.archive_root / department)
                for category in categories:
                    _mkdir(self.archive_root / department / category)
        if self.mirror_root.exists() and not self.mirror_marker.exists():
            strangers = [p for p in self.mirror_root.iterdir() if p.name != MIRROR_DIR]
            if strangers:
                raise EnvironmentProblem(t("init.not_empty_mirror", path=self.mirror_root))
        # A restored archive on a new disk keeps the identity its mirror already carries.
        archive_id = self.archive_id() or self.archive_id(self.mirror_marker) or str(uuid.uuid4())
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        if not self.archive_marker.exists():
            _write_marker(self.archive_marker, {"role": "archive", "archive_id": archive_id, "created": created})
        _mkdir(self.mirror_marker.parent)
        if not self.mirror_marker.exists():
            _write_marker(self.mirror_marker, {"role": "mirror", "archive_id": archive_id, "created": created},
                          root=self.mirror_root)
        os.chmod(self.state_dir, 0o700)


def _mkdir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(t("init.cannot_create", path=path, detail=exc.strerror or exc)) from None


def _write_marker(path: Path, content: dict, root: Path | None = None) -> None:
    # Kept as plain JSON; the "note" key tells a curious admin why the file must stay.
    content = {**content, "note": "dangan marker: do not delete; without it dangan treats the disk as not mounted"}
    try:
        # below ``root`` nothing is followed: a planted ``.dangan`` symlink fails instead of writing elsewhere
        write_atomic(path, (json.dumps(content, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
                     root=root)
    except OSError as exc:
        raise EnvironmentProblem(t("init.cannot_create", path=path, detail=exc.strerror or exc)) from None
