"""Where dangan keeps its own files, and the marker files that tell a mounted disk from an empty
mount point (Syncthing's ``.stfolder`` idea). Every name dangan owns starts with ``.dangan``."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import t
from dangan.config.schema import Config

from dangan.store.atomic import write_atomic

OWN_PREFIX = b".dangan"
ARCHIVE_MARKER = ".dangan-archive"
MIRROR_DIR = ".dangan"
MIRROR_MARKER = "marker"
CATALOG_FILE = "catalog.sqlite"


def is_own(name: bytes) -> bool:
    """dangan's own files are never records: never checked, never mirrored as records."""
    return name.startswith(OWN_PREFIX)


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
            _write_marker(self.mirror_marker, {"role": "mirror", "archive_id": archive_id, "created": created})
        os.chmod(self.state_dir, 0o700)


def _mkdir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(t("init.cannot_create", path=path, detail=exc.strerror or exc)) from None


def _write_marker(path: Path, content: dict) -> None:
    # Kept as plain JSON; the "note" key tells a curious admin why the file must stay.
    content = {**content, "note": "dangan marker: do not delete; without it dangan treats the disk as not mounted"}
    try:
        write_atomic(path, (json.dumps(content, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise EnvironmentProblem(t("init.cannot_create", path=path, detail=exc.strerror or exc)) from None
