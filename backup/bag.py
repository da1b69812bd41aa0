"""An offline set as a BagIt bag (RFC 8493): readable on any machine with any BagIt tool, no dangan needed.

```
bagit.txt, bag-info.txt                the bag's declaration and its description (school, label, role,
                                       date, the department totals — the 清单 — and the part it is)
manifest-sha256.txt                    every record's SHA-256
tagmanifest-sha256.txt                 every other file's SHA-256
data/<records>                         the records under their archive paths
dangan/inventory.json                  dangan-media/1: each record's exact path bytes, size, mtime and hash
                                       in the archive's algorithm (SM3 too), retention, and its name in data/
dangan/catalog.sqlite                  the catalog and its ledger (目录数据) as they were when written
dangan/config.json                     the config without secrets (the off-site key is never copied)
dangan/清单.txt                         the register sheet both sides sign
```

BagIt names are UTF-8 text, and UDF carries no other bytes either: a record whose name is not UTF-8
(an old GBK name) is stored under a readable name, and its exact bytes are in the inventory, which a
restore uses. Writing goes through ``store/atomic`` (never through a symlink planted in the target);
reading a folder bag opens every file below the bag without following a symlink.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from dangan.store import writeback
from dangan.store.atomic import copy_into, open_folder, write_at
from dangan.store.names import is_utf8, legacy_decode, show
from dangan.store.tree import open_file

FORMAT = "dangan-media/1"
BAG_ALGORITHM = "sha256"  # what every BagIt tool checks; the archive's own (SM3) is in the inventory
DATA = "data"
INVENTORY = "dangan/inventory.json"
CATALOG = "dangan/catalog.sqlite"
CONFIG = "dangan/config.json"
SHEET = "dangan/清单.txt"
NAME_MAX = 255  # bytes in one name on ext4, NTFS (as UTF-16 units, fewer), UDF


@dataclass(frozen=True, slots=True)
class Member:
    """One record in a set: where it lies in the bag, and what it was in the archive."""

    name: str  # relative to the bag: data/…
    path: bytes  # the record's exact path in the archive
    size: int
    mtime_ns: int
    hash: str  # in the archive's algorithm
    sha256: str
    retention: str
    department: str | None
    category: str | None

    def to_dict(self) -> dict:
        entry = asdict(self)
        entry["path"] = show(self.path)
        entry["path_base64"] = base64.b64encode(self.path).decode("ascii")
        return entry

    @classmethod
    def from_dict(cls, entry: dict) -> "Member":
        return cls(entry["name"], base64.b64decode(entry["path_base64"]), entry["size"], entry["mtime_ns"],
                   entry["hash"], entry["sha256"], entry["retention"], entry["department"], entry["category"])


@dataclass
class Inventory:
    """``dangan/inventory.json``: what the set holds and what it is (one per bag, one bag per carrier)."""

    label: str
    role: str
    medium: str
    part: int
    parts: int
    created: str  # ISO 8601, local time with its offset, to the millisecond
    school: str
    archive_id: str | None
    hash_algorithm: str
    members: list[Member]
    departments: dict[str, list[int]] = field(default_factory=dict)  # department -> [files, bytes]

    def to_bytes(self) -> bytes:
        document = {"format": FORMAT, "label": self.label, "role": self.role, "medium": self.medium,
                    "part": self.part, "parts": self.parts, "created": self.created, "school": self.school,
                    "archive_id": self.archive_id, "hash_algorithm": self.hash_algorithm,
                    "files": [m.to_dict() for m in self.members],
                    "totals": {"files": len(self.members), "bytes": sum(m.size for m in self.members)},
                    "departments": self.departments}
        return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "Inventory":
        document = json.loads(data)
        if document.get("format") != FORMAT:
            raise ValueError(f"not a dangan media inventory: {document.get('format')!r}")
        return cls(document["label"], document["role"], document["medium"], document["part"], document["parts"],
                   document["created"], document["school"], document.get("archive_id"), document["hash_algorithm"],
                   [Member.from_dict(f) for f in document["files"]], document.get("departments") or {})


def data_names(paths: Iterable[bytes]) -> dict[bytes, str]:
    """Each record's name in the bag: ``data/`` and its path, exact when it is UTF-8 text; else each
    undecodable part as it most likely read (GBK), made unique (``name~2.ext``) and never longer than
    a name may be. The exact bytes stay in the inventory."""
    paths = list(paths)
    taken = {p.decode("utf-8") for p in paths if is_utf8(p)}
    names: dict[bytes, str] = {}
    for path in paths:
        if is_utf8(path):
            names[path] = f"{DATA}/{path.decode('utf-8')}"
            continue
        text = "/".join(_readable(part) for part in path.split(b"/"))
        head, slash, base = text.rpartition("/")
        stem, dot, ext = base.rpartition(".") if "." in base.lstrip(".") else (base, "", "")
        serial = 1
        while text in taken:
            serial += 1
            text = f"{head}{slash}{stem}~{serial}{dot}{ext}"
        taken.add(text)
        names[path] = f"{DATA}/{text}"
    return names


def _readable(part: bytes) -> str:
    if is_utf8(part):
        return part.decode("utf-8")
    text = legacy_decode(part) or part.decode("utf-8", "backslashreplace")
    stem, dot, ext = text.rpartition(".") if "." in text.lstrip(".") else (text, "", "")
    while len(text.encode("utf-8")) > NAME_MAX:  # three bytes a character in UTF-8, two in GBK
        stem = stem[:-1]
        text = f"{stem}{dot}{ext}"
    return text


def encode_name(name: str) -> str:
    """A name as a BagIt manifest line carries it (RFC 8493 2.1.3: CR, LF and % percent-encoded)."""
    return name.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def decode_name(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0a", "\n").replace("%0D", "\r").replace("%0d", "\r") \
        .replace("%25", "%")


def digests(chunks: Iterable[bytes], algorithms: Iterable[str]) -> dict[str, str]:
    """Every algorithm's hash of one stream, read once."""
    hashers = {a: hashlib.new(a) for a in dict.fromkeys(algorithms)}
    for chunk in chunks:
        for h in hashers.values():
            h.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def fd_chunks(fd: int) -> Iterator[bytes]:
    """An open file from its start, 1 MiB at a time, with positional reads (its offset is left alone)."""
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        offset += len(chunk)
        yield chunk


class BagWriter:
    """Writes one bag into the open, empty folder ``root``: the records, the tag files, then the
    manifests last, so that a bag cut short is never a valid one."""

    def __init__(self, root: int) -> None:
        self._root = root
        self._folders: dict[str, int] = {}
        self._tags: dict[str, str] = {}  # tag file -> sha256
        self.payload: dict[str, str] = {}  # data/… -> sha256

    def add_record(self, name: str, source: int, sha256: str, mtime_ns: int) -> None:
        folder, base = self._folder_of(name)
        # made durable all at once (a syncfs) before the manifests vouch for them
        copy_into(folder, base.encode("utf-8"), source, mode=0o444, mtime_ns=mtime_ns, durable=False)
        self.payload[name] = sha256

    def add_tag(self, name: str, data: bytes) -> None:
        folder, base = self._folder_of(name)
        write_at(folder, base.encode("utf-8"), data)
        self._tags[name] = hashlib.sha256(data).hexdigest()

    def add_tag_file(self, name: str, source: int) -> None:
        folder, base = self._folder_of(name)
        os.lseek(source, 0, os.SEEK_SET)  # the same snapshot goes into every part of a set
        copy_into(folder, base.encode("utf-8"), source)
        self._tags[name] = digests(fd_chunks(source), [BAG_ALGORITHM])[BAG_ALGORITHM]

    def finish(self, info: list[tuple[str, str]], total_bytes: int) -> None:
        """bagit.txt, bag-info.txt (with the Payload-Oxum), the manifest, and the tag manifest over all of them."""
        writeback.syncfs(self._root)  # the records, durable before any manifest names them
        self.add_tag("bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        lines = info + [("Payload-Oxum", f"{total_bytes}.{len(self.payload)}")]
        self.add_tag("bag-info.txt", "".join(f"{k}: {_one_line(v)}\n" for k, v in lines).encode("utf-8"))
        self.add_tag(f"manifest-{BAG_ALGORITHM}.txt", _manifest(self.payload))
        manifest = _manifest(self._tags)
        folder, base = self._folder_of(f"tagmanifest-{BAG_ALGORITHM}.txt")
        write_at(folder, base, manifest)

    def close(self) -> None:
        for fd in self._folders.values():
            os.close(fd)
        self._folders.clear()

    def _folder_of(self, name: str) -> tuple[int, str]:
        head, _, base = name.rpartition("/")
        if not head:
            return self._root, base
        fd = self._folders.get(head)
        if fd is None:
            if len(self._folders) >= 64:  # a few open folders at a time: records come folder by folder
                self.close()
            fd = self._folders[head] = open_folder(self._root, head.encode("utf-8"), create=True)
        return fd, base


def _one_line(value: str) -> str:
    return " ".join(str(value).split())


def _manifest(entries: dict[str, str]) -> bytes:
    return "".join(f"{digest}  {encode_name(name)}\n" for name, digest in sorted(entries.items())).encode("utf-8")


def parse_manifest(data: bytes) -> dict[str, str]:
    """name -> hash of a BagIt manifest."""
    result = {}
    for line in data.decode("utf-8").splitlines():
        if line.strip():
            digest, _, name = line.partition(" ")
            result[decode_name(name.lstrip(" *"))] = digest.lower()
    return result


class BagSource(Protocol):
    """A bag to read: a folder (a mounted disk) or a disc image."""

    where: str

    def read(self, name: str) -> bytes: ...

    def chunks(self, name: str) -> Iterator[bytes]: ...


class FolderBag:
    """A bag in a folder, read without following any symlink below it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._root = os.fsencode(path)

    def read(self, name: str) -> bytes:
        return b"".join(self.chunks(name))

    def chunks(self, name: str) -> Iterator[bytes]:
        fd = open_file(self._root, name.encode("utf-8"))
        try:
            yield from fd_chunks(fd)
        finally:
            os.close(fd)


@dataclass
class Verification:
    """What reading a bag back found."""

    where: str
    inventory: Inventory | None
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.inventory is not None and not self.problems


def verify(bag: BagSource, share: float = 1.0, expected: dict[bytes, str] | None = None) -> Verification:
    """Read ``bag`` back: every tag file against the tag manifest, the records (all, or a random
    ``share`` of them) against the manifest and the inventory's own hash, and the lists against each
    other; with ``expected`` (path -> hash, e.g. the register's), against that too."""
    result = Verification(bag.where, None)
    try:
        tags = parse_manifest(bag.read(f"tagmanifest-{BAG_ALGORITHM}.txt"))
        for name, digest in sorted(tags.items()):
            if digests(bag.chunks(name), [BAG_ALGORITHM])[BAG_ALGORITHM] != digest:
                result.problems.append(f"{name}: hash")
        payload = parse_manifest(bag.read(f"manifest-{BAG_ALGORITHM}.txt"))
        inventory = Inventory.from_bytes(bag.read(INVENTORY))
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        result.problems.append(f"{bag.where}: {exc}")
        return result
    result.inventory = inventory
    listed = {m.name: m for m in inventory.members}
    result.problems += [f"{name}: not in the inventory" for name in sorted(set(payload) - set(listed))]
    result.problems += [f"{name}: not in the manifest" for name in sorted(set(listed) - set(payload))]
    if expected is not None:
        held = {m.path: m.hash for m in inventory.members}
        result.problems += [f"{show(p)}: the register says {h}, the set {held.get(p)}"
                            for p, h in sorted(expected.items()) if held.get(p) != h]
    members = sorted(listed.values(), key=lambda m: m.name)
    if share < 1.0:
        members = random.sample(members, max(1, round(len(members) * share))) if members else []
    for member in members:
        try:
            found = digests(bag.chunks(member.name), [BAG_ALGORITHM, inventory.hash_algorithm])
        except OSError as exc:
            result.problems.append(f"{member.name}: {exc.strerror or exc}")
            continue
        result.checked += 1
        if found[BAG_ALGORITHM] != payload.get(member.name) or found[inventory.hash_algorithm] != member.hash:
            result.problems.append(f"{member.name}: hash")
    return result
