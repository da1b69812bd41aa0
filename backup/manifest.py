"""The inventory (清单) of off-site runs: every record the partner holds after a run — path (exact
bytes), size, hash, department, category, retention — plus a human summary (counts and bytes per
department) for the register (登记) both sides sign.

A run ships either a *full* inventory (every record) or a *delta*: only what was added, changed
or removed since the run it names as its base. A chain is one full inventory followed by deltas,
each naming the one before it; replaying it gives the complete state of any run in it. Full
inventories come with full passes and snapshots, and whenever the chain grows long (see
``backup/offsite.py``). On the partner and locally an inventory is ``<run id>.json.gz`` (full),
``<run id>-snapshot.json.gz`` (full, the yearly 报送) or ``<run id>-delta.json.gz``.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.store.catalog import Catalog
from dangan.store.names import show
from dangan.store.clock import local
from dangan.registers.retention import retention_of

FORMAT = "dangan-manifest/1"
# Its own format name, so that a reader that knows only full inventories refuses a delta instead
# of taking it for the whole archive.
DELTA_FORMAT = "dangan-manifest-delta/1"
SUFFIX = ".json.gz"


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


def entries_of(rows: Iterable[tuple], config: Config) -> list[Entry]:
    """Entries from ``(path, size, mtime_ns, hash, department, category)`` rows."""
    return [Entry(p, s, m, h, d, c, retention_of(p, config)) for p, s, m, h, d, c in rows]


def current_entries(catalog: Catalog, config: Config) -> list[Entry]:
    """Every present record whose verified copy is on the mirror (the off-site copy's source)."""
    return entries_of(catalog.offsite.shippable(), config)


def by_priority(entries: list[Entry], catalog: Catalog) -> list[Entry]:
    """The order a copy takes records in when not all may fit or finish (the off-site run, an offline
    set): 永久 first, then records damaged on the primary (the mirror holds their good copy), then
    newest first."""
    damaged = catalog.readings.paths_with_open("readable.corrupt")
    return sorted(entries, key=lambda e: (e.retention != "永久", e.path not in damaged, -e.mtime_ns))


def manifest_name(run_id: str, kind: str, delta: bool) -> str:
    """The inventory's file name, without the suffix."""
    return f"{run_id}-delta" if delta else f"{run_id}-snapshot" if kind == "snapshot" else run_id


def run_of(name: str) -> str:
    """The run id in an inventory's file name (run ids hold no '-')."""
    return name.removesuffix(SUFFIX).split("-", 1)[0]


def is_delta(name: str) -> bool:
    return name.endswith("-delta" + SUFFIX)


@dataclass
class Manifest:
    """One run's inventory: every record (``base`` None), or the changes since run ``base``."""

    run_id: str
    kind: str
    created: str
    archive_id: str | None
    hash_algorithm: str
    entries: list[Entry]  # a delta: the records added or changed since the base
    base: str | None = None  # a delta: the run it applies to
    removed: list[bytes] = field(default_factory=list)  # a delta: records gone since the base
    total_files: int | None = None  # the complete state after this run (a delta's check when replayed)
    total_bytes: int | None = None

    @property
    def name(self) -> str:
        return manifest_name(self.run_id, self.kind, self.base is not None)

    def to_bytes(self) -> bytes:
        files = [{"path": show(e.path), "path_base64": base64.b64encode(e.path).decode("ascii"), "size": e.size,
                  "mtime_ns": e.mtime_ns, "hash": e.hash, "department": e.department, "category": e.category,
                  "retention": e.retention} for e in self.entries]
        total_files = len(files) if self.total_files is None else self.total_files
        total_bytes = sum(e.size for e in self.entries) if self.total_bytes is None else self.total_bytes
        document = {"format": DELTA_FORMAT if self.base else FORMAT, "run_id": self.run_id, "kind": self.kind,
                    "created": self.created, "archive_id": self.archive_id, "hash_algorithm": self.hash_algorithm,
                    "files": files, "totals": {"files": total_files, "bytes": total_bytes}}
        if self.base:
            document["base"] = self.base
            document["removed"] = [{"path": show(p), "path_base64": base64.b64encode(p).decode("ascii")}
                                   for p in self.removed]
        # Level 6: a third of level 9's time for nearly the same size.
        return gzip.compress(json.dumps(document, ensure_ascii=False).encode("utf-8"), compresslevel=6, mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Manifest":
        document = json.loads(gzip.decompress(data))
        if document.get("format") not in (FORMAT, DELTA_FORMAT):
            raise ValueError(f"not a dangan manifest: {document.get('format')!r}")
        entries = [Entry(base64.b64decode(f["path_base64"]), f["size"], f["mtime_ns"], f["hash"], f["department"],
                         f["category"], f["retention"]) for f in document["files"]]
        delta = document["format"] == DELTA_FORMAT
        totals = document.get("totals") or {}
        return cls(document["run_id"], document["kind"], document["created"], document.get("archive_id"),
                   document["hash_algorithm"], entries, base=document["base"] if delta else None,
                   removed=[base64.b64decode(r["path_base64"]) for r in document.get("removed", [])],
                   total_files=totals.get("files"), total_bytes=totals.get("bytes"))

    def applied_to(self, state: dict[bytes, Entry]) -> None:
        """Replay this delta (or full inventory) onto ``state`` (path -> entry), in place."""
        if self.base is None:
            state.clear()
        for path in self.removed:
            state.pop(path, None)
        for entry in self.entries:
            state[entry.path] = entry


def rebuild(names: list[str], target: str,
            load: Callable[[list[str]], dict[str, "Manifest"]]) -> tuple[Manifest, list[str]]:
    """The complete inventory of run ``target`` (a file name among ``names``), replayed from the
    last full inventory before it through each delta, following the ``base`` links; and the
    file names of that chain, newest first.

    ``load`` reads inventories by file name (one call for a batch: on the partner that is one
    rclone run). A link to an inventory that is not there is an error that names it."""
    by_run = {run_of(n): n for n in names}
    ordered = sorted(names)
    upto = ordered.index(target)
    start = next((i for i in range(upto, -1, -1) if not is_delta(ordered[i])), 0)
    loaded = _as_named(load(ordered[start:upto + 1]))  # usually the whole chain at once
    chain = [target]
    while True:
        manifest = loaded.get(chain[-1])
        if manifest is None:
            raise EnvironmentProblem(t("manifest.chain_broken", run=run_of(chain[-2]) if len(chain) > 1 else target,
                                       base=run_of(chain[-1])))
        if manifest.base is None:
            break
        name = by_run.get(manifest.base)
        if name is None:
            raise EnvironmentProblem(t("manifest.chain_broken", run=manifest.run_id, base=manifest.base))
        if name not in loaded:  # the base lies before the full inventory the batch started from
            loaded.update(_as_named(load([name])))
        chain.append(name)
    state: dict[bytes, Entry] = {}
    for name in reversed(chain):
        loaded[name].applied_to(state)
    head = loaded[target]
    if head.total_files is not None and head.total_files != len(state):
        raise EnvironmentProblem(t("manifest.chain_mismatch", run=head.run_id, expected=head.total_files,
                                   found=len(state)))
    return Manifest(head.run_id, head.kind, head.created, head.archive_id, head.hash_algorithm,
                    [state[p] for p in sorted(state)]), chain


def _as_named(loaded: dict[str, Manifest]) -> dict[str, Manifest]:
    """Each inventory is the one its name says: the run id inside it is the run in its name, and
    a delta is named as one. An older inventory copied over a newer one is valid JSON, hashes and
    all: only this comparison tells that the newer run's state is not what it holds."""
    for name, manifest in loaded.items():
        if manifest.run_id != run_of(name) or (manifest.base is not None) != is_delta(name):
            raise EnvironmentProblem(t("manifest.misnamed", name=name, expected=run_of(name),
                                       found=manifest.run_id))
    return loaded


def register_sheet(run_id: str, kind: str, created: str, per_department: dict[str | None, tuple[int, int]],
                   shipped_files: int, shipped_bytes: int, delta: Manifest | None = None,
                   title: str | None = None) -> str:
    """The register sheet: the complete holdings per department (from the catalog, whatever the
    inventory's form), what this run shipped, and for a delta what changed. Chinese first."""
    per: dict[str, list[int]] = {}
    for department, (files, size) in per_department.items():
        row = per.setdefault(department or t("check.root_department"), [0, 0])
        row[0] += files
        row[1] += size
    total_files = sum(r[0] for r in per.values())
    total_bytes = sum(r[1] for r in per.values())
    lines = [title or t("manifest.title"),
             t("manifest.run", run=run_id, kind=t(f"manifest.kind.{kind}"), created=local(created)),
             t("manifest.totals", files=total_files, bytes=_size(total_bytes), shipped=shipped_files,
               shipped_bytes=_size(shipped_bytes))]
    if delta is not None:
        lines.append(t("manifest.delta", changed=len(delta.entries), removed=len(delta.removed), base=delta.base))
    lines += ["", t("manifest.header")]
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
