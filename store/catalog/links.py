"""Hard links: the other names under which the catalog knows one file (inode)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dangan.store.catalog.core import Catalog


class Links:
    """``catalog.links``: present records sharing an inode."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def other_names(self, inode: int, path: bytes) -> list[bytes]:
        """The present records with inode ``inode``, except ``path`` itself."""
        return [row[0] for row in self._catalog.db.execute(
            "SELECT path FROM files WHERE inode = ? AND path != ? AND removed_at IS NULL", (inode, path))]
