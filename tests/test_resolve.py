"""Opening a path below the archive root: openat2 in one call where the kernel has it, the walk
one component at a time otherwise; never through a symlink, and the same errors either way."""

from __future__ import annotations

import errno
import os

import pytest

from dangan.store import resolve
from dangan.store.tree import open_dir, open_file


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "档案"
    (root / "01办公室" / "A标准建设").mkdir(parents=True)
    (root / "01办公室" / "A标准建设" / "记录.pdf").write_bytes(b"the record")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_bytes(b"not in the archive")
    os.symlink(tmp_path / "outside", root / "01办公室" / "链接")
    os.symlink(tmp_path / "outside" / "secret.txt", root / "01办公室" / "A标准建设" / "链接.txt")
    return os.fsencode(root)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 100)
    finally:
        os.close(fd)


@pytest.mark.parametrize("openat2", [True, False], ids=["openat2", "walk"])
def test_symlinks_on_the_way_are_refused_with_the_usual_errors(tree, monkeypatch, openat2):
    if not openat2:
        monkeypatch.setattr(resolve, "_usable", False)
    assert _read(open_file(tree, "01办公室/A标准建设/记录.pdf".encode())) == b"the record"
    os.close(open_dir(tree, "01办公室/A标准建设".encode()))
    with pytest.raises(OSError) as folder:
        open_file(tree, "01办公室/链接/secret.txt".encode())
    assert folder.value.errno == errno.ENOTDIR
    with pytest.raises(OSError) as name:
        open_file(tree, "01办公室/A标准建设/链接.txt".encode())
    assert name.value.errno == errno.ELOOP
    with pytest.raises(OSError) as through:
        open_dir(tree, "01办公室/链接".encode())
    assert through.value.errno == errno.ENOTDIR
    with pytest.raises(FileNotFoundError):
        open_file(tree, "01办公室/A标准建设/没有.pdf".encode())


def test_openat2_opens_in_one_call_and_declines_what_the_walk_must_judge(tree):
    if not resolve._usable:
        pytest.skip("openat2 is not available here (Linux < 5.6 or a seccomp filter): the walk is used")
    root = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
    try:
        record = resolve.beneath(root, "01办公室/A标准建设/记录.pdf".encode(), os.O_RDONLY)
        assert _read(record) == b"the record"
        assert resolve.beneath(root, "01办公室/链接/secret.txt".encode(), os.O_RDONLY) is None
        assert resolve.beneath(root, "01办公室/A标准建设/链接.txt".encode(), os.O_RDONLY) is None
        assert resolve.beneath(root, b"../outside/secret.txt", os.O_RDONLY) is None  # not beneath
        assert resolve._usable  # a refusal is not taken for a missing system call
    finally:
        os.close(root)
