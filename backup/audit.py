"""`dangan audit`: the weekly fixity check of all three copies, in AVP Fixity's terms.

The primary is re-read (hash and readability, each file once, on both cores) and compared with the
catalog: confirmed, new, changed (new content with a new mtime: an edit the watcher missed),
corrupted (new content while size and mtime did not change: silent corruption), moved (known content
at a new path), removed. Every mirror copy is verified against the catalog (missing, corrupted,
extra): compared byte for byte with a primary that matches the catalog (equal bytes, equal hash),
else hashed on its own. The partner is checked by cryptcheck or a rotating sample. A damaged copy is
repaired only from a copy whose hash matches the catalog, never from one that does not; every repair
is a ledger event. The result speaks DA/T 70-2018's four properties: authenticity, integrity,
usability, security.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dangan.config.schema import Config

from dangan.rules import inspector
from dangan.store.catalog import Catalog, Event, now
from dangan.store.hashing import hash_file
from dangan.store.layout import Layout
from dangan.store.mirror import ContentMismatch, Mirror, MirrorUnavailable, MirrorWriteError, SourceChanged, SourceUnreadable
from dangan.store.names import show
from dangan.store.atomic import copy_into
from dangan.store.tree import Tree, open_dir, open_file
from dangan.store.workers import Hasher

@dataclass
class Finding:
    """One file on one copy that is not simply confirmed."""

    copy: str  # primary | mirror | offsite
    kind: str  # new | changed | corrupted | moved | removed | missing | extra | unreadable
    raw: bytes  # the path as the disk holds it
    detail: str = ""
    action: str = ""  # what the audit did about it

    @property
    def problem(self) -> bool:
        """A fixity problem: a copy corrupted or missing (exit 1). The rest is information."""
        return self.kind in ("corrupted", "missing")

    def to_dict(self) -> dict[str, str]:
        return {"copy": self.copy, "kind": self.kind, "path": show(self.raw), "detail": self.detail,
                "action": self.action}


@dataclass
class AuditResult:
    """One audit: counts per copy and kind, the findings, the four properties."""

    at: str
    seconds: float = 0.0
    bytes_read: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unreadable: int = 0  # files the readability rules now reject
    offsite: dict[str, Any] = field(default_factory=dict)
    security: dict[str, Any] = field(default_factory=dict)
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> int:
        return sum(f.problem and not f.action.startswith("repaired") for f in self.findings) + (
            1 if self.offsite.get("ok") is False else 0)

    def properties(self) -> dict[str, dict[str, Any]]:
        corrupted = sum(f.kind == "corrupted" for f in self.findings)
        missing = sum(f.kind == "missing" for f in self.findings)
        confirmed = sum(c.get("confirmed", 0) for c in self.counts.values())
        return {
            "authenticity": {"ok": corrupted == 0, "confirmed": confirmed, "corrupted": corrupted},
            "integrity": {"ok": missing == 0 and self.totals.get("match", True), "missing": missing, **self.totals},
            "usability": {"ok": self.unreadable == 0, "unreadable": self.unreadable},
            "security": self.security,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "seconds": round(self.seconds, 3), "bytes_read": self.bytes_read,
                "counts": self.counts, "problems": self.problems, "properties": self.properties(),
                "offsite": self.offsite, "findings": [f.to_dict() for f in self.findings]}


class Auditor:
    """Audits one archive's three copies against its catalog."""

    def __init__(self, config: Config, catalog: Catalog, offsite_verify: Callable[[], Any] | None,
                 key_file: Path | None, progress: bool = False) -> None:
        self.config = config
        self.catalog = catalog
        self.layout = Layout.of(config)
        self.offsite_verify = offsite_verify
        self.key_file = key_file
        self.progress = progress
        self.algorithm = config.hash_algorithm

    def run(self, repair: bool = False) -> AuditResult:
        started = time.monotonic()
        result = AuditResult(at=now())
        self.layout.require_archive()
        mirror = Mirror(self.layout, self.algorithm)
        roots = (os.fsencode(self.layout.archive_root), os.fsencode(self.layout.mirror_root))
        # Every file read once, on both cores, in large reads; the hashing starts with the first
        # folder found and goes on while the tree is walked, the catalog read and the mirror listed.
        # The mirror copy of a primary file is compared with it byte for byte as it is hashed
        # (memcmp, not a second SHA-256): equal bytes have the primary's hash.
        mirrored, extra = mirror.available(), []
        twin = roots[1] if mirrored else None
        with Hasher(self.algorithm, self.progress) as hasher:
            seen: dict[bytes, os.stat_result] = {}
            for folder in Tree(self.layout.archive_root, self.config.rules.ignore_patterns).walk():
                for name, st in folder.files:
                    seen[folder.child(name)] = st
                hasher.add(roots[0], folder.path, [(name, st.st_size) for name, st in folder.files], twin)
            records = self.catalog.records()
            if mirrored:
                # Mirror copies with no primary file at their path are hashed on their own.
                elsewhere = [p for p, r in records.items() if r.mirror_hash and p not in seen]
                self._hash_mirror(hasher, records, elsewhere)
                extra = self._extra(records)
            digests = hasher.digests()
            primary_digests = digests.get(roots[0], {})
            mirror_digests = digests.get(roots[1], {})
            if mirrored:
                mirror_digests.update(self._prove_mirror(hasher, records, seen, primary_digests))
        primary = self._primary(records, seen, primary_digests, result)
        self._mirror(records, mirrored, mirror_digests, extra, result)
        self._offsite(result)
        self._security(result)
        if repair or self.config.audit.auto_repair:
            self._repair(records, primary, result)
        self._totals(records, result)
        result.seconds = time.monotonic() - started
        with self.catalog.transaction():
            self.catalog.db.execute("INSERT INTO audits (at, seconds, problems, summary) VALUES (?,?,?,?)",
                                    (result.at, result.seconds, result.problems,
                                     json.dumps(result.to_dict(), ensure_ascii=False)))
        return result

    # -- the primary ------------------------------------------------------------------------
    def _primary(self, records: dict, seen: dict[bytes, os.stat_result], digests: dict[bytes, str | None],
                 result: AuditResult) -> dict[bytes, str]:
        root = os.fsencode(self.layout.archive_root)
        counts: Counter[str] = Counter()
        hashes: dict[bytes, str] = {}
        verified: list[bytes] = []
        paths = sorted(seen)
        for path in paths:
            st, digest = seen[path], digests.get(path)
            if digest is None or digest.startswith("!"):
                result.findings.append(Finding("primary", "unreadable", path, (digest or "!gone")[1:]))
                continue
            hashes[path] = digest
            result.bytes_read += st.st_size
            record = records.get(path)
            if record is not None and record.hash == digest:
                counts["confirmed"] += 1
                verified.append(path)
                # The same bytes open as they did: the readability found when they arrived holds.
                unreadable = bool(record.facts) and ('"corrupt"' in record.facts or '"encrypted"' in record.facts)
            else:
                outcome = inspector.inspect_job((root, path, st.st_size, self.algorithm))
                unreadable = isinstance(outcome, str) or bool(outcome[1].get("corrupt") or outcome[1].get("encrypted"))
                if record is None:
                    counts["new"] += 1
                elif (record.size, record.mtime_ns) == (st.st_size, st.st_mtime_ns):
                    counts["corrupted"] += 1
                    result.findings.append(Finding("primary", "corrupted", path,
                                                   f"{record.hash[:12]}… → {digest[:12]}…"))
                else:
                    counts["changed"] += 1
                    result.findings.append(Finding("primary", "changed", path))
            result.unreadable += unreadable
        by_hash = {}
        for path in paths:
            if path not in records and path in hashes:
                by_hash.setdefault(hashes[path], path)
        for path, record in records.items():
            if path in seen:
                continue
            moved_to = by_hash.get(record.hash)
            if moved_to is not None:
                counts["moved"] += 1
                counts["new"] -= 1
                result.findings.append(Finding("primary", "moved", path, show(moved_to)))
            else:
                counts["removed"] += 1
                result.findings.append(Finding("primary", "removed", path))
        result.counts["primary"] = dict(counts)
        with self.catalog.transaction():
            self.catalog.db.executemany("UPDATE files SET last_verified = ? WHERE path = ?",
                                        [(result.at, p) for p in verified])
        return hashes

    # -- the mirror -------------------------------------------------------------------------
    def _mirror(self, records: dict, available: bool, digests: dict[bytes, str | None], extra: list[bytes],
                result: AuditResult) -> None:
        if not available:
            result.counts["mirror"] = {"unavailable": 1}
            result.findings.append(Finding("mirror", "missing", b"", "mirror disk not mounted"))
            return
        counts: Counter[str] = Counter()
        for path in sorted(digests):
            digest, expected = digests[path], records[path].mirror_hash
            if digest is None:
                counts["missing"] += 1
                result.findings.append(Finding("mirror", "missing", path))
            elif digest == expected:
                counts["confirmed"] += 1
                result.bytes_read += records[path].size
            else:
                counts["corrupted"] += 1
                result.findings.append(Finding("mirror", "corrupted", path, digest.lstrip("!")[:60]))
        counts["unmirrored"] = sum(1 for r in records.values() if not r.mirror_hash)
        for path in extra:
            counts["extra"] += 1
            result.findings.append(Finding("mirror", "extra", path))
        result.counts["mirror"] = dict(counts)

    def _prove_mirror(self, hasher: Hasher, records: dict, seen: dict[bytes, os.stat_result],
                      primary_digests: dict[bytes, str | None]) -> dict[bytes, str | None]:
        """The digests of the mirror copies of the primary's files. A copy that held the primary's
        bytes has the primary's hash, but it is taken as proven only when that hash is the catalog's;
        any other copy (the primary corrupted, changed or new, or the bytes differ) is hashed on its
        own, so the report says which copy is good and a repair takes only one matching the catalog."""
        identical = hasher.identical.get(os.fsencode(self.layout.mirror_root), set())
        proven: dict[bytes, str | None] = {}
        alone = []
        for path, record in records.items():
            if not record.mirror_hash or path not in seen:
                continue
            if path in identical and primary_digests.get(path) == record.hash:
                proven[path] = record.hash
            else:
                alone.append(path)
        self._hash_mirror(hasher, records, alone)
        proven.update(hasher.digests().get(os.fsencode(self.layout.mirror_root), {}))
        return proven

    def _hash_mirror(self, hasher: Hasher, records: dict, paths: list[bytes]) -> None:
        """Queue the mirror copies of ``paths`` for hashing on their own, folder by folder."""
        by_folder: dict[bytes, list[tuple[bytes, int]]] = {}
        for path in paths:
            head, _, name = path.rpartition(b"/")
            by_folder.setdefault(head, []).append((name, records[path].size))
        for head, files in by_folder.items():
            hasher.add(os.fsencode(self.layout.mirror_root), head, files)

    def _extra(self, records: dict) -> list[bytes]:
        """Files on the mirror that the catalog never had (listed while the copies are hashed)."""
        known = set(records) | {p for (p,) in self.catalog.db.execute(
            "SELECT path FROM files WHERE removed_at IS NOT NULL")}
        return [folder.child(name) for folder in Tree(self.layout.mirror_root).walk()
                for name, _ in folder.files if folder.child(name) not in known]

    # -- the partner ------------------------------------------------------------------------
    def _offsite(self, result: AuditResult) -> None:
        if self.offsite_verify is None:
            result.offsite = {"configured": False}
            return
        try:
            verdict = self.offsite_verify()
        except Exception as exc:  # noqa: BLE001 - no off-site run yet, partner down …: reported, not fatal
            result.offsite = {"configured": True, "ok": None, "warning": str(exc).splitlines()[0]}
            return
        result.offsite = {"configured": True, "ok": verdict.ok, "method": verdict.method, "checked": verdict.checked,
                          "problems": verdict.problems[:20], "run": verdict.run_id}
        for problem in verdict.problems:
            result.findings.append(Finding("offsite", "missing" if "missing" in problem or "缺" in problem
                                           else "corrupted", b"", problem))

    def _security(self, result: AuditResult) -> None:
        key_ok = None
        if self.key_file is not None and self.key_file.exists():
            key_ok = not (self.key_file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
        result.security = {"ok": key_ok is not False and result.offsite.get("ok") is not False,
                           "encrypted": result.offsite.get("ok") is not None,  # something was shipped, sealed
                           "offsite_verified": result.offsite.get("ok"), "key_private": key_ok,
                           "antivirus": self._clamd()}

    def _clamd(self) -> str | None:
        """ClamAV's answer to PING when a daemon is configured; None: not checked."""
        path = self.config.audit.clamd_socket
        if not path:
            return None
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(10)
                sock.connect(path)
                sock.sendall(b"zPING\0")
                return sock.recv(64).strip(b"\0\n").decode() or "no answer"
        except OSError as exc:
            return f"unreachable: {exc.strerror or exc}"

    # -- repairs ----------------------------------------------------------------------------
    def _repair(self, records: dict, primary: dict[bytes, str], result: AuditResult) -> None:
        mirror = Mirror(self.layout, self.algorithm)
        archive_root = os.fsencode(self.layout.archive_root)
        events = []
        for finding in result.findings:
            if not finding.problem or finding.copy == "offsite" or not finding.raw:
                continue
            path = finding.raw
            record = records.get(path)
            if record is None:
                continue
            if finding.copy == "mirror" and primary.get(path) == record.hash:
                try:
                    mirror.copy(path, open_file(archive_root, path), expect=record.hash)
                    finding.action = "repaired from the primary"
                    events.append((Event.REPAIR, path, {"copy": "mirror", "from": "primary", "hash": record.hash}))
                except (OSError, ContentMismatch, SourceChanged, SourceUnreadable, MirrorWriteError,
                        MirrorUnavailable) as exc:
                    finding.action = f"repair failed: {exc}"
            elif finding.copy == "primary":
                mirrored = Path(os.fsdecode(mirror.path_of(path)))
                if record.mirror_hash == record.hash and _hash_quiet(mirrored, self.algorithm) == record.hash:
                    _replace(archive_root, path, mirrored, record.mtime_ns)
                    finding.action = "repaired from the mirror"
                    events.append((Event.REPAIR, path, {"copy": "primary", "from": "mirror", "hash": record.hash}))
                else:
                    finding.action = "not repaired: no copy with a matching hash on the mirror"
        if events:
            with self.catalog.transaction():
                self.catalog.record_events(events)

    def _totals(self, records: dict, result: AuditResult) -> None:
        files = len(records)
        size = sum(r.size for r in records.values())
        row = self.catalog.db.execute(
            "SELECT total_files, total_bytes FROM offsite_runs WHERE result = 'ok' ORDER BY id DESC LIMIT 1").fetchone()
        primary = result.counts.get("primary", {})
        on_disk = sum(primary.get(k, 0) for k in ("confirmed", "corrupted", "changed"))
        result.totals = {"catalog_files": files, "catalog_bytes": size, "primary_files": on_disk,
                         "manifest_files": row[0] if row else None, "manifest_bytes": row[1] if row else None,
                         "match": on_disk + primary.get("removed", 0) + primary.get("moved", 0) == files}



def _hash_quiet(path: Path, algorithm: str) -> str | None:
    try:
        return hash_file(path, algorithm)
    except OSError:
        return None


def _replace(root: bytes, path: bytes, source: Path, mtime_ns: int) -> None:
    """Put the good copy back on the primary atomically, with its recorded mtime (through the one
    way to write: a random temp, never a fixed name a symlink could be planted at)."""
    head, _, name = path.rpartition(b"/")
    folder = open_dir(root, head)
    try:
        good = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            copy_into(folder, name, good, mode=0o644, mtime_ns=mtime_ns)
        finally:
            os.close(good)
    finally:
        os.close(folder)
