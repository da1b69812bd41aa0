"""The drill register (``drills``): each restore drill — a sample restored from one copy, verified, timed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog


@dataclass(frozen=True, slots=True)
class DrillRecord:
    """One drill of one copy, as registered."""

    at: str
    source: str  # mirror | offsite
    files: int
    bytes: int
    seconds: float
    ok: bool
    projected_seconds: float | None  # a full restore at the same pace
    detail: str | None  # JSON: the first failures


class DrillRegister:
    """``catalog.drills``: where drills are registered."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def add(self, drill: DrillRecord) -> None:
        self._catalog.db.execute(
            "INSERT INTO drills (at, source, files, bytes, seconds, ok, projected_seconds, detail)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (drill.at, drill.source, drill.files, drill.bytes, drill.seconds, int(drill.ok),
             drill.projected_seconds, drill.detail))
