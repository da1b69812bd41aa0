"""Many schools on one object store: two schools ship into ONE bucket of a real `rclone serve s3` on
127.0.0.1, each under its own prefix with its own access key and its own encryption key.

What the server enforces here (its auth proxy, as a district's MinIO/Ceph policy would): a school's
access key sees and writes only its prefix. What dangan guarantees whatever the server: names and
content on the store are encrypted with the school's own key, so the district's key (or a leaked one)
sees only ciphertext, and a school's backup, verify and restore touch only its own prefix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from makers import TASK, Archive, text_pdf_bytes
from partner import DISTRICT_ADMIN, RCLONE, start_district, use_partner

from dangan.backup.rclone import obscure
from dangan.cli.main import main

DANGAN = str(Path(sys.executable).with_name("dangan"))
SCHOOLS = ("east", "west")


def dangan(archive: Archive, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DANGAN, args[0], "--config", str(archive.config), *args[1:]], capture_output=True,
                          text=True, timeout=300, cwd=archive.base)


def secret_of(school: str) -> bytes:
    return f"{school.upper()}-ONLY-MINUTES".encode()


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """The district's store and two schools, each initialised and shipped once through its own key."""
    base = tmp_path_factory.mktemp("district")
    store = start_district(base, list(SCHOOLS))
    schools = {}
    try:
        for name in SCHOOLS:
            folder = base / name
            archive = Archive(folder, folder / "etc" / "config.yaml", folder / "archive", folder / "mirror",
                              folder / "state")
            assert main(["init", "--config", str(archive.config), "--archive-root", str(archive.root),
                         "--mirror-root", str(archive.mirror), "--state-dir", str(archive.state)]) == 0
            use_partner(archive, store.schools[name])
            archive.write(f"{TASK}/纪要.pdf", text_pdf_bytes(f"{name} minutes"))  # the same name in both
            archive.write(f"{TASK}/会议记录.txt", secret_of(name))
            archive.write(f"{TASK}/通知.txt", b"the same notice in every school")  # the same content in both
            assert dangan(archive, "mirror").returncode == 0
            shipped = dangan(archive, "backup", "--format", "json")
            assert shipped.returncode == 0, shipped.stderr
            assert json.loads(shipped.stdout)["files"] == 3
            schools[name] = archive
        yield store, schools
    finally:
        store.stop()


def rclone(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RCLONE, "--config", "/dev/null", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)


def crypt_env(name: str, over: str, key_file: Path) -> dict[str, str]:
    """A crypt remote ``name`` over ``over`` with the key in ``key_file`` (the school's offsite.key)."""
    key = json.loads(key_file.read_text())
    prefix = f"RCLONE_CONFIG_{name.upper()}_"
    return {prefix + "TYPE": "crypt", prefix + "REMOTE": over, prefix + "PASSWORD": obscure(key["password"]),
            prefix + "PASSWORD2": obscure(key["salt"])}


def test_one_bucket_two_prefixes_and_the_store_sees_only_ciphertext(district):
    store, schools = district
    every = sorted(p.relative_to(store.storage) for p in store.storage.rglob("*") if p.is_file())
    assert {p.parts[:2] for p in every} == {("district", "east"), ("district", "west")}
    for name in SCHOOLS:
        assert store.files(name), f"nothing of {name} reached the store"
        for path in store.files(name):
            assert "纪要" not in str(path) and "manifest" not in str(path)
            content = path.read_bytes()
            assert secret_of(name) not in content and b"same notice" not in content
    # the same content in both schools is stored under different, unrelated names
    assert not {p.name for p in store.files("east")} & {p.name for p in store.files("west")}


def test_a_schools_key_cannot_list_read_or_write_the_other_prefix(district):
    store, _ = district
    west = store.remote_env("westview", "WESTKEY", "west-secret")
    listed = rclone(west, "lsf", "-R", "westview:district")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() and all(line.startswith("west/") for line in listed.stdout.split())
    assert rclone(west, "lsf", "-R", "westview:district/east").stdout == ""
    east_object = store.files("east")[0]
    key = east_object.relative_to(store.storage / "district").as_posix()
    assert rclone(west, "cat", f"westview:district/{key}").stdout == ""  # east's object, by its exact name
    rclone(west, "rcat", "westview:district/east/planted.txt", "--retries", "1")
    assert not (store.prefix("east") / "planted.txt").exists()
    # a wrong secret for a real key is refused outright
    assert rclone(store.remote_env("forged", "EASTKEY", "guessed"), "lsf", "forged:district").returncode != 0


def test_the_district_key_with_the_wrong_school_key_sees_no_name(district):
    store, schools = district
    admin = store.remote_env("whole", *DISTRICT_ADMIN)
    west_key = schools["west"].config.parent / "offsite.key"
    east_key = schools["east"].config.parent / "offsite.key"
    wrong = rclone({**admin, **crypt_env("wrong", "whole:district/east", west_key)}, "lsf", "-R", "wrong:")
    assert wrong.stdout.split() == []  # every name fails to decrypt with the other school's key
    right = rclone({**admin, **crypt_env("right", "whole:district/east", east_key)}, "lsf", "-R", "right:")
    assert any(line.startswith("manifests/") for line in right.stdout.split()), right.stderr


def _stamps(store, school: str) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in store.prefix(school).rglob("*")}


def test_a_verify_and_a_daily_run_touch_only_their_own_prefix(district):
    store, schools = district
    west_before = _stamps(store, "west")
    seen = len(store.operations())
    verified = dangan(schools["east"], "backup", "--verify")
    assert verified.returncode == 0, verified.stderr
    schools["east"].write(f"{TASK}/新通知.txt", b"one change today")
    assert dangan(schools["east"], "mirror").returncode == 0
    daily = dangan(schools["east"], "backup", "--format", "json")
    assert daily.returncode == 0 and json.loads(daily.stdout)["files"] == 1, daily.stderr
    served = store.operations()[seen:]
    assert served, "the server logged no operation"
    # every request names east's prefix: none lists the bucket's root or creates a bucket, which a
    # district's policy allowing a school only its prefix would refuse
    assert all(key == "east" or key.startswith("east/") for _, key in served), served
    assert _stamps(store, "west") == west_before  # not a file of the other school changed or appeared
    created = [key for operation, key in served if operation == "CREATE OBJECT"]
    assert 1 < len(created) <= 4, created  # the new content, its manifest and the run's records: not the tree


def test_each_school_restores_alone_from_its_config_and_key(district, tmp_path):
    store, schools = district
    east = schools["east"]
    for folder in (east.root, east.state, east.mirror):
        shutil.rmtree(folder)
    west_before = _stamps(store, "west")
    done = dangan(east, "restore", "--format", "json", "--from", "offsite", "--to", str(tmp_path / "rebuilt"))
    assert done.returncode == 0, done.stderr
    rebuilt = tmp_path / "rebuilt" / TASK
    assert (rebuilt / "会议记录.txt").read_bytes() == secret_of("east")
    assert (rebuilt / "新通知.txt").read_bytes() == b"one change today"
    assert b"west minutes" not in (rebuilt / "纪要.pdf").read_bytes()
    assert _stamps(store, "west") == west_before
