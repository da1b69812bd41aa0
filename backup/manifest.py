"""The inventory (清单) of an off-site run: every record the partner holds after the run — path
(exact bytes), size, hash, department, category, retention — plus a human summary (counts and
bytes per department) for the register (登记) both sides sign."""

from __future__ import annotations

import base64
import gzip
import json
from collections import defaultdict
from dataclasses import dataclass

from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.daemon.catalog import Catalog
from dangan.daemon.names import show

FORMAT = "dangan-manifest/1"


@dataclass(frozen=True, slots=True)
class Entry:
    """One record in the inventory."""

    path: bytes
    size: int
    mtime_ns: int
    hash: str
    department: str | None
    category: str | None
    retention: str

    @property
    def object_name(self) -> str:
        """Where its content lives on the partner (content-addressed, inside the crypt remote)."""
        return object_name(self.hash)


def object_name(digest: str) -> str:
    return f"data/{digest[:2]}/{digest}"


def retention_of(path: bytes, config: Config) -> str:
    text = show(path)
    for word, retention in config.offsite.retention_rules.items():
        if word in text:
            return retention
    return config.offsite.retention_default


def current_entries(catalog: Catalog, config: Config) -> list[Entry]:
    """Every present record whose verified copy is on the mirror (the off-site copy's source)."""
    rows = catalog.db.execute(
        "SELECT path, size, mtime_ns, hash, department, category FROM files"
        " WHERE removed_at IS NULL AND hash IS NOT NULL AND mirror_hash = hash ORDER BY path")
    return [Entry(p, s, m, h, d, c, retention_of(p, config)) for p, s, m, h, d, c in rows]


@dataclass
class Manifest:
    """One run's inventory."""

    run_id: str
    kind: str
    created: str
    archive_id: str | None
    hash_algorithm: str
    entries: list[Entry]

    def to_bytes(self) -> bytes:
        files = [{"path": show(e.path), "path_base64": base64.b64encode(e.path).decode("ascii"), "size": e.size,
                  "mtime_ns": e.mtime_ns, "hash": e.hash, "department": e.department, "category": e.category,
                  "retention": e.retention} for e in self.entries]
        document = {"format": FORMAT, "run_id": self.run_id, "kind": self.kind, "created": self.created,
                    "archive_id": self.archive_id, "hash_algorithm": self.hash_algorithm,
                    "files": files, "totals": {"files": len(files), "bytes": sum(e.size for e in self.entries)}}
        # Level 6: a third of level 9's time for nearly the same size (it is rebuilt every run).
        return gzip.compress(json.dumps(document, ensure_ascii=False).encode("utf-8"), compresslevel=6, mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Manifest":
        document = json.loads(gzip.decompress(data))
        if document.get("format") != FORMAT:
            raise ValueError(f"not a dangan manifest: {document.get('format')!r}")
        entries = [Entry(base64.b64decode(f["path_base64"]), f["size"], f["mtime_ns"], f["hash"], f["department"],
                         f["category"], f["retention"]) for f in document["files"]]
        return cls(document["run_id"], document["kind"], document["created"], document.get("archive_id"),
                   document["hash_algorithm"], entries)

    def summary(self, shipped_files: int, shipped_bytes: int) -> str:
        """The register sheet: counts and bytes per department, in Chinese first."""
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for e in self.entries:
            row = per[e.department or t("check.root_department")]
            row[0] += 1
            row[1] += e.size
        lines = [t("manifest.title"), t("manifest.run", run=self.run_id, kind=t(f"manifest.kind.{self.kind}"),
                                          created=self.created),
                 t("manifest.totals", files=len(self.entries), bytes=_size(sum(e.size for e in self.entries)),
                   shipped=shipped_files, shipped_bytes=_size(shipped_bytes)),
                 "", t("manifest.header")]
        for department in sorted(per):
            files, size = per[department]
            lines.append(f"{department}\t{files}\t{_size(size)}")
        lines += ["", t("manifest.sign")]
        return "\n".join(lines) + "\n"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)
