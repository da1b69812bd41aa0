"""Mirror.copy_many: the copies into one mirror folder go as a batch, each with its own outcome."""

from __future__ import annotations

import hashlib
import os

from makers import TASK

from dangan.config import loader
from dangan.daemon.layout import Layout
from dangan.daemon.mirror import TEMP_PREFIX, ContentMismatch, Copied, Mirror
from dangan.daemon.tree import open_file

NAMES = [f"{i}.pdf" for i in range(5)]


def _sources(archive, expect: dict[str, str] | None = None) -> list[tuple[bytes, int, str | None]]:
    root = os.fsencode(archive.root)
    expect = expect or {}
    return [(name.encode(), open_file(root, f"{TASK}/{name}".encode()), expect.get(name)) for name in NAMES]


def test_a_batch_copies_each_file_and_a_bad_one_spoils_nothing(archive):
    config = loader.load(archive.config)
    mirror = Mirror(Layout.of(config), config.hash_algorithm)
    for i, name in enumerate(NAMES):
        archive.write(f"{TASK}/{name}", b"first %d" % i, mtime=1_700_000_000 + i)
    first = mirror.copy_many(TASK.encode(), _sources(archive))
    assert [type(r) for r in first] == [Copied] * len(NAMES)
    for i, (name, result) in enumerate(zip(NAMES, first)):
        copy = archive.mirror / TASK / name
        assert copy.read_bytes() == b"first %d" % i
        assert copy.stat().st_mtime_ns == archive.path(f"{TASK}/{name}").stat().st_mtime_ns
        assert result.digest == hashlib.sha256(b"first %d" % i).hexdigest() and result.kept is None

    # Second batch: 0.pdf has new content; 1.pdf is not what the catalog expects (a rotting disk).
    archive.write(f"{TASK}/0.pdf", b"second")
    rotten = {"1.pdf": hashlib.sha256(b"other").hexdigest()}
    second = mirror.copy_many(TASK.encode(), _sources(archive, rotten))
    assert isinstance(second[1], ContentMismatch)
    assert (archive.mirror / TASK / "1.pdf").read_bytes() == b"first 1"  # the good copy stays
    assert isinstance(second[0], Copied) and second[0].kept is not None  # the old 0.pdf became a version
    assert (archive.mirror / TASK / "0.pdf").read_bytes() == b"second"
    assert all(isinstance(r, Copied) for r in second[2:])
    assert not [p for p in (archive.mirror / TASK).iterdir() if os.fsencode(p.name).startswith(TEMP_PREFIX)]
