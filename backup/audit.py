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

import os
import socket
import stat
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable

from dangan.config.messages import t
from dangan.config.schema import Config

from dangan.rules import inspector
from dangan.store.catalog import Catalog, Event, now
from dangan.store.catalog.health import integrity_of
from dangan.store.hashing import hash_file
from dangan.store.layout import Layout
from dangan.store.mirror import (ContentMismatch, Mirror, MirrorUnavailable, MirrorWriteError, SourceChanged,
                                 SourceUnreadable)
from dangan.store.names import show
from dangan.store.progress import Progress
from dangan.store.atomic import copy_into
from dangan.store.tree import Tree, open_dir, open_file
from dangan.store.workers import Hasher


class Copy(StrEnum):
    """The three copies of every record."""

    PRIMARY = "primary"  # the archive disk
    MIRROR = "mirror"  # the mirror disk
    OFFSITE = "offsite"  # the partner site
    CATALOG = "catalog"  # the catalog itself (state folder), checked by SQLite's integrity_check
    CATALOG_COPY = "catalog_copy"  # its copy on the mirror disk


class Kind(StrEnum):
    """What the audit found about one file on one copy (AVP Fixity's terms, plus the audit's own)."""

    NEW = "new"
    CHANGED = "changed"  # new content and a new mtime: an edit the watcher missed
    CORRUPTED = "corrupted"  # new content while size and mtime did not change
    MOVED = "moved"
    REMOVED = "removed"
    MISSING = "missing"
    EXTRA = "extra"  # on the mirror, never in the catalog
    UNREADABLE = "unreadable"
    UNAVAILABLE = "unavailable"  # the whole copy could not be checked (the mirror disk not mounted)
    UNVERIFIED = "unverified"  # the partner's copy failed its verification (see the detail)


# Fixity problems (exit 1); the other kinds are information.
PROBLEMS = frozenset({Kind.CORRUPTED, Kind.MISSING, Kind.UNAVAILABLE, Kind.UNVERIFIED})


class Repair(StrEnum):
    """What a repair did about a finding; the values are the JSON form's words."""

    FROM_PRIMARY = "repaired from the primary"
    FROM_MIRROR = "repaired from the mirror"
    NO_GOOD_COPY = "not repaired: no copy with a matching hash on the mirror"
    FAILED = "repair failed"


class Verdict(StrEnum):
    """One property's state, in the weekly report's three words (正常 / 需要关注 / 严重)."""

    OK = "ok"
    ATTENTION = "attention"
    CRITICAL = "critical"


PROPERTIES = ("authenticity", "integrity", "usability", "security")


@dataclass
class Finding:
    """One file on one copy that is not simply confirmed."""

    copy: Copy
    kind: Kind
    raw: bytes  # the path as the disk holds it
    detail: str = ""
    repair: Repair | None = None
    error: str = ""  # why a repair failed

    @property
    def problem(self) -> bool:
        """A fixity problem: a copy corrupted or missing (exit 1). The rest is information."""
        return self.kind in PROBLEMS

    @property
    def repaired(self) -> bool:
        return self.repair in (Repair.FROM_PRIMARY, Repair.FROM_MIRROR)

    @property
    def action(self) -> str:
        """What the audit did about it, in words for people ("" when nothing)."""
        if self.repair is None:
            return ""
        return t(f"audit.repair.{self.repair.name.lower()}", error=self.error)

    def to_dict(self) -> dict[str, str]:
        action = "" if self.repair is None else self.repair.value + (f": {self.error}" if self.error else "")
        return {"copy": str(self.copy), "kind": str(self.kind), "path": show(self.raw), "detail": self.detail,
                "action": action, "repair": self.repair.name.lower() if self.repair else None,
                "error": self.error}


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
        return sum(f.problem and not f.repaired for f in self.findings) + (
            1 if self.offsite.get("ok") is False else 0)

    def count(self, *kinds: Kind, unrepaired: bool = False) -> int:
        return sum(f.kind in kinds and not (unrepaired and f.repaired) for f in self.findings)

    def properties(self) -> dict[str, dict[str, Any]]:
        """DA/T 70-2018's four properties: each a verdict and the facts it rests on."""
        corrupted = self.count(Kind.CORRUPTED)
        missing = self.count(Kind.MISSING, Kind.UNAVAILABLE)
        confirmed = sum(c.get("confirmed", 0) for c in self.counts.values())
        still_broken = self.count(Kind.CORRUPTED, unrepaired=True)
        still_missing = self.count(Kind.MISSING, Kind.UNAVAILABLE, unrepaired=True)
        match = self.totals.get("match", True)
        # Found and repaired from a good copy: whole again, but worth a look (why did it rot?).
        return {
            "authenticity": _property(Verdict.CRITICAL if still_broken else Verdict.ATTENTION if corrupted
                                      else Verdict.OK, confirmed=confirmed, corrupted=corrupted),
            "integrity": _property(Verdict.CRITICAL if still_missing or not match else Verdict.ATTENTION
                                   if missing else Verdict.OK, missing=missing, **self.totals),
            "usability": _property(Verdict.ATTENTION if self.unreadable else Verdict.OK,
                                   unreadable=self.unreadable),
            "security": _property(_security_verdict(self.security), **self.security),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "seconds": round(self.seconds, 3), "bytes_read": self.bytes_read,
                "counts": self.counts, "problems": self.problems, "properties": self.properties(),
                "offsite": self.offsite, "findings": [f.to_dict() for f in self.findings]}


def _property(verdict: Verdict, **facts: Any) -> dict[str, Any]:
    return {"verdict": str(verdict), "ok": verdict is Verdict.OK, **facts}


def _security_verdict(security: dict[str, Any]) -> Verdict:
    """Critical: the partner's copy failed its check or the key is readable by others. Needs attention:
    no verified off-site copy (none configured, none shipped yet, the partner unreachable), files not
    yet on the mirror, or a virus scanner that did not answer."""
    if security.get("offsite_verified") is False or security.get("key_private") is False:
        return Verdict.CRITICAL
    antivirus = security.get("antivirus")
    if (security.get("offsite_verified") is not True or security.get("unmirrored")
            or (antivirus is not None and antivirus != "PONG")):
        return Verdict.ATTENTION
    return Verdict.OK


def verdict_of(value: dict[str, Any]) -> Verdict | None:
    """A stored property's verdict (audits stored before verdicts existed carry only ``ok``)."""
    if "verdict" in value:
        return Verdict(value["verdict"])
    ok = value.get("ok")
    return None if ok is None else Verdict.OK if ok else Verdict.CRITICAL


def describe(name: str, value: dict[str, Any]) -> str:
    """The facts behind one property, in words (never key=value)."""
    if name == "authenticity":
        return t("audit.facts.authenticity", confirmed=value.get("confirmed", 0),
                 corrupted=value.get("corrupted", 0))
    if name == "integrity":
        text = t("audit.facts.integrity", files=value.get("catalog_files", "—"),
                 primary=value.get("primary_files", "—"), missing=value.get("missing", 0))
        if value.get("manifest_files") is not None:
            text += t("audit.facts.inventory", files=value["manifest_files"])
        return text
    if name == "usability":
        return t("audit.facts.usability", unreadable=value.get("unreadable", 0))
    parts = []
    verified = value.get("offsite_verified")
    if not value.get("offsite_configured", True):
        parts.append(t("audit.facts.offsite_none"))
    else:
        parts.append(t("audit.facts.offsite_ok") if verified else t("audit.facts.offsite_failed")
                     if verified is False else t("audit.facts.offsite_unverified"))
    key = value.get("key_private")
    if key is not None:
        parts.append(t("audit.facts.key_private") if key else t("audit.facts.key_open"))
    antivirus = value.get("antivirus")
    parts.append(t("audit.facts.antivirus_none") if antivirus is None else t("audit.facts.antivirus_ok")
                 if antivirus == "PONG" else t("audit.facts.antivirus_bad", answer=antivirus))
    parts.append(t("audit.facts.unmirrored", count=value.get("unmirrored") or 0))
    return t("audit.facts.join").join(parts)


def property_lines(properties: dict[str, dict[str, Any]]) -> list[str]:
    """One line per property: its name, its verdict, the facts it rests on."""
    lines = []
    for name in PROPERTIES:
        value = properties.get(name, {})
        verdict = verdict_of(value)
        state = t(f"audit.verdict.{verdict}") if verdict else "—"
        lines.append(t("audit.property_line", name=t(f"property.{name}"), state=state,
                       facts=describe(name, value)))
    return lines


def to_text(result: AuditResult) -> str:
    """The audit as people read it at the terminal: the same facts and verdicts as its JSON."""
    mirror = result.counts.get("mirror", {})
    lines = [t("audit.summary", files=result.counts.get("primary", {}).get("confirmed", 0),
               seconds=round(result.seconds, 1), problems=result.problems)]
    lines += property_lines(result.properties())
    if result.offsite.get("warning"):
        lines.append(t("audit.offsite_warning", warning=result.offsite["warning"]))
    lines.append(t("audit.unmirrored", count=mirror.get("unmirrored", 0)))
    for finding in result.findings:
        lines.append(t("audit.finding", copy=t(f"copy.{finding.copy}"), kind=t(f"finding.{finding.kind}"),
                       path=show(finding.raw), detail=finding.detail, action=finding.action))
    return "\n".join(lines)


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
        result.findings += catalog_findings(self.layout, self.catalog)
        mirror = Mirror(self.layout, self.algorithm)
        roots = (os.fsencode(self.layout.archive_root), os.fsencode(self.layout.mirror_root))
        # Every file read once, on both cores, in large reads; the hashing starts with the first
        # folder found and goes on while the tree is walked, the catalog read and the mirror listed.
        # The mirror copy of a primary file is compared with it byte for byte as it is hashed
        # (memcmp, not a second SHA-256): equal bytes have the primary's hash.
        mirrored, extra = mirror.available(), []
        twin = roots[1] if mirrored else None
        with Progress.for_command(t("progress.audit"), sized=True, enabled=self.progress) as progress, \
                Hasher(self.algorithm, progress) as hasher:
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
            self.catalog.audits.add(result.at, result.seconds, result.problems, result.to_dict())
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
                result.findings.append(Finding(Copy.PRIMARY, Kind.UNREADABLE, path, (digest or "!gone")[1:]))
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
                    result.findings.append(Finding(Copy.PRIMARY, Kind.CORRUPTED, path,
                                                   f"{record.hash[:12]}… → {digest[:12]}…"))
                else:
                    counts["changed"] += 1
                    result.findings.append(Finding(Copy.PRIMARY, Kind.CHANGED, path))
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
                result.findings.append(Finding(Copy.PRIMARY, Kind.MOVED, path, show(moved_to)))
            else:
                counts["removed"] += 1
                result.findings.append(Finding(Copy.PRIMARY, Kind.REMOVED, path))
        result.counts["primary"] = dict(counts)
        with self.catalog.transaction():
            self.catalog.audits.mark_verified(verified, result.at)
        return hashes

    # -- the mirror -------------------------------------------------------------------------
    def _mirror(self, records: dict, available: bool, digests: dict[bytes, str | None], extra: list[bytes],
                result: AuditResult) -> None:
        if not available:
            result.counts["mirror"] = {"unavailable": 1}
            result.findings.append(Finding(Copy.MIRROR, Kind.UNAVAILABLE, b""))
            return
        counts: Counter[str] = Counter()
        for path in sorted(digests):
            digest, expected = digests[path], records[path].mirror_hash
            if digest is None:
                counts["missing"] += 1
                result.findings.append(Finding(Copy.MIRROR, Kind.MISSING, path))
            elif digest == expected:
                counts["confirmed"] += 1
                result.bytes_read += records[path].size
            else:
                counts["corrupted"] += 1
                result.findings.append(Finding(Copy.MIRROR, Kind.CORRUPTED, path, digest.lstrip("!")[:60]))
        counts["unmirrored"] = sum(1 for r in records.values() if not r.mirror_hash)
        for path in extra:
            counts["extra"] += 1
            result.findings.append(Finding(Copy.MIRROR, Kind.EXTRA, path))
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
        known = set(records) | set(self.catalog.pending_removals())
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
        # The partner's check reports its problems as sentences (an object missing or differing, the
        # partner unreachable …): each is one finding, its words the detail, never parsed for a kind.
        for problem in verdict.problems:
            result.findings.append(Finding(Copy.OFFSITE, Kind.UNVERIFIED, b"", problem))

    def _security(self, result: AuditResult) -> None:
        key_ok = None
        if self.key_file is not None and self.key_file.exists():
            key_ok = not (self.key_file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
        result.security = {"offsite_configured": bool(result.offsite.get("configured")),
                           "encrypted": result.offsite.get("ok") is not None,  # something was shipped, sealed
                           "offsite_verified": result.offsite.get("ok"), "key_private": key_ok,
                           "antivirus": self._clamd(),
                           "unmirrored": result.counts.get("mirror", {}).get("unmirrored", 0)}

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
            if not finding.problem or finding.copy not in (Copy.PRIMARY, Copy.MIRROR) or not finding.raw:
                continue
            path = finding.raw
            record = records.get(path)
            if record is None:
                continue
            if finding.copy is Copy.MIRROR and primary.get(path) == record.hash:
                try:
                    mirror.copy(path, open_file(archive_root, path), expect=record.hash)
                    finding.repair = Repair.FROM_PRIMARY
                    events.append((Event.REPAIR, path, {"copy": "mirror", "from": "primary", "hash": record.hash}))
                except (OSError, ContentMismatch, SourceChanged, SourceUnreadable, MirrorWriteError,
                        MirrorUnavailable) as exc:
                    finding.repair, finding.error = Repair.FAILED, str(exc)
            elif finding.copy is Copy.PRIMARY:
                mirrored = Path(os.fsdecode(mirror.path_of(path)))
                if record.mirror_hash == record.hash and _hash_quiet(mirrored, self.algorithm) == record.hash:
                    _replace(archive_root, path, mirrored, record.mtime_ns)
                    finding.repair = Repair.FROM_MIRROR
                    events.append((Event.REPAIR, path, {"copy": "primary", "from": "mirror", "hash": record.hash}))
                else:
                    finding.repair = Repair.NO_GOOD_COPY
        if events:
            with self.catalog.transaction():
                self.catalog.record_events(events)

    def _totals(self, records: dict, result: AuditResult) -> None:
        files = len(records)
        size = sum(r.size for r in records.values())
        inventory = self.catalog.offsite.last_good_run()
        primary = result.counts.get("primary", {})
        on_disk = sum(primary.get(k, 0) for k in ("confirmed", "corrupted", "changed"))
        result.totals = {"catalog_files": files, "catalog_bytes": size, "primary_files": on_disk,
                         "manifest_files": inventory.total_files if inventory else None,
                         "manifest_bytes": inventory.total_bytes if inventory else None,
                         "match": on_disk + primary.get("removed", 0) + primary.get("moved", 0) == files}



def catalog_findings(layout: Layout, catalog: Catalog) -> list[Finding]:
    """The catalog and its copy on the mirror, checked as SQLite checks itself (``PRAGMA
    integrity_check``): a damaged catalog is a problem with ``init --adopt`` as the way back, a
    damaged copy is written anew by the next reconcile."""
    findings = []
    copy = layout.catalog_copy_path
    own = catalog.lineage.integrity()
    if own:
        findings.append(Finding(Copy.CATALOG, Kind.CORRUPTED, os.fsencode(layout.catalog_path),
                                f"{own[0]} — {t('audit.catalog_damaged', copy=copy)}"))
    theirs = integrity_of(copy)
    if theirs:
        findings.append(Finding(Copy.CATALOG_COPY, Kind.CORRUPTED, os.fsencode(copy),
                                f"{theirs[0]} — {t('audit.catalog_copy_damaged')}"))
        if not own:
            catalog.lineage.forget_copy()
    return findings


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
