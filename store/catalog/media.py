"""The media register (``media_sets``, ``media_items``): every offline set written to a removable disk or
a disc image (脱机备份) — its label, medium, role (使用 / 封存), where it is kept, what it holds, and
its carrier checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog

OPTICAL = ("bd25", "dvd")  # media checked on the optical schedule; anything else is a disk


@dataclass(frozen=True, slots=True)
class MediaSet:
    """One carrier's set, as registered (a disc image is one carrier: one set per image)."""

    label: str
    medium: str  # disk | bd25 | dvd
    role: str  # 使用 | 封存
    kept_at: str
    records: int
    bytes: int
    written: str
    last_checked: str | None = None
    result: str | None = None  # ok | failed (None: never checked since it was written and read back)
    detail: str | None = None  # the last check's findings (JSON)
    part: int = 1
    parts: int = 1

    @property
    def optical(self) -> bool:
        return self.medium in OPTICAL


_COLUMNS = "label, medium, role, kept_at, records, bytes, written, last_checked, result, detail, part, parts"


class MediaRegister:
    """``catalog.media``: the register of offline sets. Writes belong inside ``catalog.transaction()``."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def add(self, media_set: MediaSet, items: Iterable[tuple[bytes, str]]) -> None:
        """Register a set written and read back, with every (path, hash) it holds."""
        db = self._catalog.db
        db.execute(f"INSERT INTO media_sets ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   (media_set.label, media_set.medium, media_set.role, media_set.kept_at, media_set.records,
                    media_set.bytes, media_set.written, media_set.last_checked, media_set.result,
                    media_set.detail, media_set.part, media_set.parts))
        db.executemany("INSERT OR REPLACE INTO media_items (label, path, hash) VALUES (?,?,?)",
                       ((media_set.label, path, digest) for path, digest in items))

    def sets(self) -> list[MediaSet]:
        rows = self._catalog.db.execute(f"SELECT {_COLUMNS} FROM media_sets ORDER BY written, label")
        return [MediaSet(*row) for row in rows]

    def get(self, label: str) -> MediaSet | None:
        row = self._catalog.db.execute(f"SELECT {_COLUMNS} FROM media_sets WHERE label = ?", (label,)).fetchone()
        return MediaSet(*row) if row else None

    def held(self, role: str) -> set[tuple[bytes, str]]:
        """Every (path, hash) some set of ``role`` already holds: an incremental set writes the rest."""
        rows = self._catalog.db.execute(
            "SELECT i.path, i.hash FROM media_items i JOIN media_sets s ON s.label = i.label WHERE s.role = ?",
            (role,))
        return set(rows)

    def items(self, label: str) -> dict[bytes, str]:
        """What the register says set ``label`` holds: path -> hash."""
        return dict(self._catalog.db.execute("SELECT path, hash FROM media_items WHERE label = ?", (label,)))

    def checked(self, label: str, at: str, result: str, detail: str | None) -> None:
        self._catalog.db.execute("UPDATE media_sets SET last_checked = ?, result = ?, detail = ? WHERE label = ?",
                                 (at, result, detail, label))

    def due(self, disk_years: float, optical_years: float, at: datetime | None = None) -> list[MediaSet]:
        """Sets whose carrier check is due: last checked (or written) longer ago than their medium allows
        (the national rules: magnetic media about every 2 years, optical about every 4)."""
        moment = at or datetime.now(timezone.utc)
        return [s for s in self.sets()
                if (moment - datetime.fromisoformat(s.last_checked or s.written)).days
                >= (optical_years if s.optical else disk_years) * 365.25]
