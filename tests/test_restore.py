"""Disasters played for real on tmp folders, and the restores that undo them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from makers import TASK
from partner import start_sftp, use_partner

DANGAN = str(Path(sys.executable).with_name("dangan"))


def dangan(archive, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([DANGAN, args[0], "--config", str(archive.config), *args[1:]], capture_output=True,
                          text=True, timeout=timeout, cwd=archive.base)


def mirror(archive) -> None:
    done = dangan(archive, "mirror")
    assert done.returncode == 0, done.stderr


def restore(archive, *args: str) -> tuple[int, dict]:
    done = dangan(archive, "restore", "--format", "json", *args)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout.strip().startswith("{") else {"stderr": done.stderr}


def fill(archive) -> dict[str, bytes]:
    files = {
        f"{TASK}/纪要.pdf": b"%PDF-1.4 minutes",
        f"{TASK}/20210205运动会.jpg": os.urandom(5000),
        "02教务处/B教学诊改/B1/方案.docx": b"plan" * 100,
        "02教务处/B教学诊改/B1/深/更深/最深/说明.txt": b"deep",
    }
    for rel, data in files.items():
        archive.write(rel, data, mtime=1_600_000_000)
    gbk = os.fsencode(TASK) + b"/" + "校运动会.txt".encode("gbk")
    archive.write(gbk, b"gbk name")
    return {**files, os.fsdecode(gbk): b"gbk name"}


def assert_tree(root: Path, expected: dict[str, bytes]) -> None:
    found = {}
    for folder, dirs, names in os.walk(os.fsencode(root)):
        dirs[:] = [d for d in dirs if not d.startswith(b".dangan")]
        for name in names:
            if not name.startswith(b".dangan"):
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    found[os.fsdecode(os.path.relpath(path, os.fsencode(root)))] = f.read()
                if os.fsdecode(os.path.relpath(path, os.fsencode(root))).endswith("纪要.pdf"):
                    assert os.stat(path).st_mtime == 1_600_000_000  # mtimes come back
    assert found == expected


def test_primary_and_state_lost_restore_from_mirror(archive, tmp_path):
    expected = fill(archive)
    mirror(archive)
    shutil.rmtree(archive.root)
    shutil.rmtree(archive.state)  # the catalog died with the archive disk: its copy on the mirror serves
    code, report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "new-disk"))
    assert code == 0, report
    assert report["ok"] and report["requested"] == 5 and report["restored"] == 5
    assert_tree(tmp_path / "new-disk", expected)
    text = next((tmp_path / "new-disk" / ".dangan-restore").glob("report-*.txt")).read_text(encoding="utf-8")
    assert "核验" in text and "签字" in text


def test_everything_lost_but_config_and_key_restore_from_partner(archive, tmp_path):
    partner = start_sftp(tmp_path)
    try:
        use_partner(archive, partner)
        expected = fill(archive)
        archive.write("02教务处/B教学诊改/B1/方案副本.docx", b"plan" * 100)  # one object, two paths
        expected["02教务处/B教学诊改/B1/方案副本.docx"] = b"plan" * 100
        mirror(archive)
        assert dangan(archive, "backup").returncode == 0
        for folder in (archive.root, archive.state, archive.mirror):
            shutil.rmtree(folder)
        code, report = restore(archive, "--from", "offsite", "--to", str(tmp_path / "rebuilt"))
        assert code == 0, report
        assert report["restored"] == 6
        assert_tree(tmp_path / "rebuilt", expected)
    finally:
        partner.stop()


def test_point_in_time_overwritten_and_deleted(archive, tmp_path):
    rel = f"{TASK}/纪要.txt"
    archive.write(rel, b"version 1")
    archive.write(f"{TASK}/后来删除.txt", b"deleted later")
    mirror(archive)
    time.sleep(0.05)
    moment = datetime.now(timezone.utc)
    time.sleep(0.05)
    archive.write(rel, b"version 2")
    os.unlink(archive.path(f"{TASK}/后来删除.txt"))
    mirror(archive)
    code, now_report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "now"))
    assert code == 0 and (tmp_path / "now" / rel).read_bytes() == b"version 2"
    assert not (tmp_path / "now" / TASK / "后来删除.txt").exists()  # deleted files need --at
    code, then_report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "then"), "--at",
                                moment.isoformat())
    assert code == 0, then_report
    assert (tmp_path / "then" / rel).read_bytes() == b"version 1"
    assert (tmp_path / "then" / TASK / "后来删除.txt").read_bytes() == b"deleted later"


def test_at_without_offset_uses_the_configured_time_zone(archive, tmp_path):
    archive.write(f"{TASK}/a.txt", b"a")
    mirror(archive)
    shanghai_now = datetime.now(timezone.utc).astimezone().replace(tzinfo=None)  # naive local time
    code, report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "x"), "--at", "2000-01-01T08:00")
    assert code == 1 and "没有可恢复的文件" in report["stderr"]  # nothing existed in 2000 (issue 12.10)
    assert shanghai_now  # the naive form is accepted
    code, report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "y"), "--at", "yesterday")
    assert code == 2


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_only_restores_one_folder_and_refuses_traversal(archive, tmp_path):
    fill(archive)
    mirror(archive)
    code, report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "part"), "--only", "02教务处")
    assert code == 0 and report["requested"] == 2
    assert not (tmp_path / "part" / "01办公室").exists()
    for bad in ("../../etc/passwd", "/etc/passwd", "02教务处/../../x"):
        done = dangan(archive, "restore", "--from", "mirror", "--to", str(tmp_path / "t"), "--only", bad)
        assert done.returncode == 2 and "--only" in done.stderr


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_symlink_planted_in_the_target_is_refused(archive, tmp_path):
    fill(archive)
    mirror(archive)
    target = tmp_path / "target"
    outside = tmp_path / "outside"
    outside.mkdir()
    target.mkdir()
    (target / "02教务处").symlink_to(outside)
    code, report = restore(archive, "--from", "mirror", "--to", str(target))
    assert code == 1
    assert {f["path"].split("/")[0] for f in report["failures"]} == {"02教务处"}
    assert list(outside.iterdir()) == []  # nothing written through the link


def test_existing_files_are_not_overwritten_without_leave(archive, tmp_path):
    fill(archive)
    mirror(archive)
    target = tmp_path / "target"
    (target / TASK).mkdir(parents=True)
    (target / TASK / "纪要.pdf").write_bytes(b"someone else's file")
    code, report = restore(archive, "--from", "mirror", "--to", str(target))
    assert code == 1 and [f["path"] for f in report["failures"]] == [f"{TASK}/纪要.pdf"]
    assert (target / TASK / "纪要.pdf").read_bytes() == b"someone else's file"
    code, report = restore(archive, "--from", "mirror", "--to", str(target), "--overwrite")
    assert code == 0 and report["already"] == 4 and report["restored"] == 1


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_interrupted_restore_resumes_without_redoing_verified_files(archive, tmp_path):
    for i in range(300):
        archive.write(f"{TASK}/{i:03d}.bin", os.urandom(30_000))
    mirror(archive)
    target = tmp_path / "target"
    process = subprocess.Popen([DANGAN, "restore", "--config", str(archive.config), "--from", "mirror", "--to",
                                str(target)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = target / ".dangan-restore" / "journal.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (journal.exists() and journal.stat().st_size > 0):
        time.sleep(0.01)
    process.kill()
    process.wait()
    code, report = restore(archive, "--from", "mirror", "--to", str(target))
    assert code == 0, report
    assert report["already"] >= 1 and report["already"] + report["restored"] == 300
    assert not list(target.rglob(".dangan-tmp-*"))
    assert len([p for p in (target / TASK).iterdir()]) == 300


def test_corrupted_mirror_copy_is_flagged_and_fetched_from_the_partner(archive, tmp_path):
    partner = start_sftp(tmp_path)
    try:
        use_partner(archive, partner)
        archive.write(f"{TASK}/证书.txt", b"the good content" * 50)
        mirror(archive)
        assert dangan(archive, "backup").returncode == 0
        bad = archive.mirror / TASK / "证书.txt"
        data = bytearray(bad.read_bytes())
        data[10] ^= 0xFF
        stat_before = bad.stat()
        bad.write_bytes(bytes(data))
        os.utime(bad, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
        shutil.rmtree(archive.mirror / ".dangan" / "stage")  # the stage would otherwise still hold it
        shutil.rmtree(archive.root)
        code, report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "target"))
        assert code == 0, report
        assert (tmp_path / "target" / TASK / "证书.txt").read_bytes() == b"the good content" * 50
    finally:
        partner.stop()


def test_corrupted_mirror_copy_without_partner_fails_loudly(archive, tmp_path):
    text = archive.config.read_text(encoding="utf-8").replace(
        f'  remote: "{archive.state}/offsite"', '  remote: ""')
    archive.config.write_text(text, encoding="utf-8")
    archive.write(f"{TASK}/证书.txt", b"the good content")
    mirror(archive)
    bad = archive.mirror / TASK / "证书.txt"
    bad.write_bytes(b"the bad  content")
    code, report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "target"))
    assert code == 1 and "哈希" in report["failures"][0]["reason"]
    assert not (tmp_path / "target" / TASK / "证书.txt").exists()


@pytest.mark.parametrize("source", ["mirror"])
def test_dry_run_writes_nothing(archive, tmp_path, source):
    fill(archive)
    mirror(archive)
    done = dangan(archive, "restore", "--from", source, "--to", str(tmp_path / "dry"), "--dry-run")
    assert done.returncode == 0 and "5" in done.stdout
    assert not (tmp_path / "dry").exists()


def test_adopt_a_restored_disk_without_copying_again(archive, tmp_path):
    fill(archive)
    mirror(archive)
    inodes = {p: p.stat().st_ino for p in archive.mirror.rglob("*") if p.is_file() and ".dangan" not in str(p)}
    shutil.rmtree(archive.root)
    shutil.rmtree(archive.state)
    new_disk = tmp_path / "new-disk"
    code, _ = restore(archive, "--from", "mirror", "--to", str(new_disk))
    assert code == 0
    shutil.rmtree(new_disk / ".dangan-restore")
    text = archive.config.read_text(encoding="utf-8").replace(f'"{archive.root}"', f'"{new_disk}"')
    archive.config.write_text(text, encoding="utf-8")
    done = dangan(archive, "init", "--adopt")
    assert done.returncode == 0, done.stderr
    assert "5 个与记录相同" in done.stdout
    archive.root = new_disk
    done = dangan(archive, "mirror")
    assert done.returncode == 0 and "新增或修改 0" in done.stdout, done.stdout
    after = {p: p.stat().st_ino for p in archive.mirror.rglob("*") if p.is_file() and ".dangan" not in str(p)}
    assert after == inodes  # nothing identical was copied again
    assert not (archive.mirror / ".dangan" / "versions").exists()


def test_drill_restores_a_sample_from_each_copy_and_records_it(archive):
    import sqlite3

    for i in range(40):
        archive.write(f"{TASK}/{i:02d}.txt", f"record {i}".encode() * 20)
    mirror(archive)
    assert dangan(archive, "backup").returncode == 0
    done = dangan(archive, "drill", "--format", "json")
    assert done.returncode == 0, done.stderr
    results = {r["source"]: r for r in json.loads(done.stdout)}
    assert set(results) == {"mirror", "offsite"}
    assert all(r["ok"] and r["files"] == 20 and r["projected_seconds"] is not None for r in results.values())
    assert not list(archive.state.glob(".dangan-drill-*"))  # the scratch is gone
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        assert db.execute("SELECT count(*) FROM drills WHERE ok = 1").fetchone()[0] == 2
    for path in (archive.mirror / TASK).iterdir():  # rot every mirror copy: the drill must notice
        path.write_bytes(b"rotten")
    shutil.rmtree(archive.mirror / ".dangan" / "stage")
    failed = dangan(archive, "drill", "--format", "json")
    assert failed.returncode == 1
    assert not {r["source"]: r for r in json.loads(failed.stdout)}["mirror"]["ok"]


def _partner_env(archive, partner) -> dict[str, str]:
    """rclone reading the partner's crypt layer with only the key (as an admin would)."""
    from partner import RCLONE, obscure

    key = json.loads((archive.config.parent / "offsite.key").read_text())
    return {**os.environ, "RCLONE_CONFIG": str(partner.rclone_config), "RCLONE_CONFIG_BACK_TYPE": "crypt",
            "RCLONE_CONFIG_BACK_REMOTE": partner.remote, "RCLONE_CONFIG_BACK_PASSWORD": obscure(key["password"]),
            "RCLONE_CONFIG_BACK_PASSWORD2": obscure(key["salt"]), "PATH": f"{Path(RCLONE).parent}:{os.environ['PATH']}"}


def _backup(archive) -> dict:
    mirror(archive)
    done = dangan(archive, "backup", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_restore_replays_a_full_inventory_and_its_deltas(archive, tmp_path):
    partner = start_sftp(tmp_path)
    try:
        use_partner(archive, partner)
        for name in ("a", "b", "c", "d"):
            archive.write(f"{TASK}/{name}.txt", f"first {name}".encode(), mtime=1_600_000_000)
        first = _backup(archive)
        assert not first["manifest"].endswith("-delta.json.gz")  # the first inventory lists everything
        archive.write(f"{TASK}/a.txt", b"second a")  # changed
        os.unlink(archive.path(f"{TASK}/b.txt"))  # removed
        os.rename(archive.path(f"{TASK}/c.txt"), archive.path(f"{TASK}/c-renamed.txt"))  # renamed
        archive.write("02教务处/B教学诊改/B1/e.txt", b"new e")  # added
        second = _backup(archive)
        assert second["manifest"].endswith("-delta.json.gz") and second["total_files"] == 4
        delta = json.loads(__import__("gzip").decompress(Path(second["manifest"]).read_bytes()))
        assert delta["base"] == first["run_id"] and delta["format"] == "dangan-manifest-delta/1"
        assert sorted(f["path"] for f in delta["files"]) == sorted(
            [f"{TASK}/a.txt", f"{TASK}/c-renamed.txt", "02教务处/B教学诊改/B1/e.txt"])
        assert sorted(r["path"] for r in delta["removed"]) == [f"{TASK}/b.txt", f"{TASK}/c.txt"]
        sheet = Path(second["manifest"].replace(".json.gz", "-清单.txt")).read_text(encoding="utf-8")
        assert "01办公室\t3\t" in sheet and "02教务处\t1\t" in sheet  # the register counts everything held
        time.sleep(0.05)
        moment = datetime.now(timezone.utc)
        time.sleep(0.05)
        os.unlink(archive.path(f"{TASK}/d.txt"))
        archive.write(f"{TASK}/a.txt", b"third a")
        third = _backup(archive)
        assert third["manifest"].endswith("-delta.json.gz") and third["total_files"] == 3
        for folder in (archive.root, archive.state, archive.mirror):
            shutil.rmtree(folder)
        code, report = restore(archive, "--from", "offsite", "--to", str(tmp_path / "now"))
        assert code == 0 and report["restored"] == 3, report
        assert_tree(tmp_path / "now", {f"{TASK}/a.txt": b"third a", f"{TASK}/c-renamed.txt": b"first c",
                                        "02教务处/B教学诊改/B1/e.txt": b"new e"})
        code, report = restore(archive, "--from", "offsite", "--to", str(tmp_path / "then"), "--at", moment.isoformat())
        assert code == 0 and report["restored"] == 4, report
        assert_tree(tmp_path / "then", {f"{TASK}/a.txt": b"second a", f"{TASK}/c-renamed.txt": b"first c",
                                         f"{TASK}/d.txt": b"first d", "02教务处/B教学诊改/B1/e.txt": b"new e"})
    finally:
        partner.stop()


def test_a_missing_delta_is_a_clear_error(archive, tmp_path):
    partner = start_sftp(tmp_path)
    try:
        use_partner(archive, partner)
        archive.write(f"{TASK}/a.txt", b"a")
        _backup(archive)
        archive.write(f"{TASK}/b.txt", b"b")
        lost = _backup(archive)
        archive.write(f"{TASK}/c.txt", b"c")
        assert _backup(archive)["manifest"].endswith("-delta.json.gz")
        name = Path(lost["manifest"]).name
        assert name.endswith("-delta.json.gz")
        subprocess.run([str(Path(sys.executable).with_name("rclone")), "deletefile", f"back:manifests/{name}"],
                       env=_partner_env(archive, partner), check=True, capture_output=True)
        verify = dangan(archive, "backup", "--verify", "--format", "json")
        assert verify.returncode == 1 and name in json.loads(verify.stdout)["problems"][0]
        nothing_new = _backup(archive)  # after a failed verification the next inventory is complete again
        assert not nothing_new["manifest"].endswith("-delta.json.gz")
        for folder in (archive.root, archive.state, archive.mirror):
            shutil.rmtree(folder)
        code, report = restore(archive, "--from", "offsite", "--to", str(tmp_path / "x"), "--at",
                               _before(nothing_new["run_id"]))  # the chain through the lost delta
        assert code == 2 and "清单链不完整" in report["stderr"] and lost["run_id"] in report["stderr"], report
        assert "Traceback" not in report["stderr"]
        code, report = restore(archive, "--from", "offsite", "--to", str(tmp_path / "y"))  # the full one serves
        assert code == 0 and report["restored"] == 3, report
    finally:
        partner.stop()


def _before(run_id: str) -> str:
    """A moment just before run ``run_id`` (20261121T180000.123Z) began."""
    from datetime import timedelta

    moment = datetime.strptime(run_id, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc)
    return (moment - timedelta(milliseconds=1)).isoformat()


def _rclone_back(archive, partner, *args: str) -> None:
    subprocess.run([str(Path(sys.executable).with_name("rclone")), *args], env=_partner_env(archive, partner),
                   check=True, capture_output=True)


def _partner_listing(archive, partner) -> list[str]:
    rclone = str(Path(sys.executable).with_name("rclone"))
    done = subprocess.run([rclone, "lsf", "-R", "--files-only", "back:"],
                          env=_partner_env(archive, partner), check=True, capture_output=True, text=True)
    return done.stdout.split()


def test_an_older_inventory_under_the_newest_name_is_caught(archive, tmp_path):
    """20.2: an older, valid inventory copied over the newest passed --verify, and the restore
    then dropped the files the newest one lists, saying all was restored."""
    partner = start_sftp(tmp_path)
    try:
        use_partner(archive, partner)
        archive.write(f"{TASK}/a.txt", b"a")
        first = _backup(archive)
        archive.write(f"{TASK}/b.txt", b"b")
        second = _backup(archive)
        old, new = Path(first["manifest"]).name, Path(second["manifest"]).name
        _rclone_back(archive, partner, "copyto", f"back:manifests/{old}", f"back:manifests/{new}")
        verify = dangan(archive, "backup", "--verify", "--format", "json")
        assert verify.returncode == 1, verify.stdout
        assert any(new in p for p in json.loads(verify.stdout)["problems"]), verify.stdout
        code, report = restore(archive, "--from", "offsite", "--to", str(tmp_path / "with-catalog"))
        assert code == 2 and second["run_id"] in report["stderr"], report
        for folder in (archive.root, archive.state, archive.mirror):
            shutil.rmtree(folder)
        code, report = restore(archive, "--from", "offsite", "--to", str(tmp_path / "partner-only"))
        assert code == 2 and second["run_id"] in report["stderr"], report
        assert first["run_id"] in report["stderr"], report
        assert not (tmp_path / "partner-only" / TASK / "a.txt").exists()
    finally:
        partner.stop()


@pytest.mark.parametrize("catalog", ["state", "mirror copy"])
def test_a_rolled_back_partner_is_not_restored_silently(archive, tmp_path, catalog):
    """20.3: a partner rolled back to an older state was restored from with exit 0, the files of
    the newer runs missing without a word."""
    partner = start_sftp(tmp_path)
    try:
        use_partner(archive, partner)
        archive.write(f"{TASK}/a.txt", b"a")
        _backup(archive)
        yesterday = set(_partner_listing(archive, partner))
        archive.write(f"{TASK}/b.txt", b"b")
        newest = _backup(archive)
        archive.write(f"{TASK}/c.txt", b"c")
        mirror(archive)  # the catalog's copy on the mirror now knows the newest run too
        # the partner restores yesterday's disk image
        for name in set(_partner_listing(archive, partner)) - yesterday:
            _rclone_back(archive, partner, "deletefile", f"back:{name}")
        if catalog == "mirror copy":
            shutil.rmtree(archive.state)
            shutil.rmtree(archive.root)
        code, report = restore(archive, "--from", "offsite", "--to", str(tmp_path / "refused"))
        assert code == 2 and newest["run_id"] in report["stderr"], report
        assert "--accept-older" in report["stderr"], report
        assert not (tmp_path / "refused" / TASK / "a.txt").exists()
        code, report = restore(archive, "--from", "offsite", "--to", str(tmp_path / "older"),
                               "--accept-older")
        assert code == 0 and report["restored"] == 1, report
        assert (tmp_path / "older" / TASK / "a.txt").read_bytes() == b"a"
    finally:
        partner.stop()


def test_a_different_file_at_the_target_is_named_as_the_reason(archive, tmp_path):
    """12.13: a restore refused because a different file stood at the target said the partner
    lacked the content, after trying a download first."""
    expected = fill(archive)
    mirror(archive)
    target = tmp_path / "target"
    (target / TASK).mkdir(parents=True)
    (target / TASK / "纪要.pdf").write_bytes(b"someone else's file")
    code, report = restore(archive, "--from", "mirror", "--to", str(target))
    assert code == 1 and report["restored"] == len(expected) - 1, report
    [failure] = report["failures"]
    assert failure["path"] == f"{TASK}/纪要.pdf" and "--overwrite" in failure["reason"], failure
    assert "合作单位" not in failure["reason"], failure
    assert (target / TASK / "纪要.pdf").read_bytes() == b"someone else's file"
    objects = target / ".dangan-restore" / "objects"
    assert not objects.exists() or not [p for p in objects.rglob("*") if p.is_file()]  # nothing downloaded


def test_paths_deeper_than_path_max_come_back_from_the_mirror(archive, tmp_path):
    """22 levels of 200-byte folder names: checked and mirrored, and restored from the mirror too
    (its copy is opened folder by folder from the mirror root, not by a path past PATH_MAX)."""
    names = [(f"{i:02d}" + "档" * 66).encode()[:200] for i in range(22)]
    fd = os.open(archive.path(TASK), os.O_RDONLY) if os.path.isdir(archive.path(TASK)) else None
    if fd is None:
        os.makedirs(archive.path(TASK))
        fd = os.open(archive.path(TASK), os.O_RDONLY)
    for name in names:
        os.mkdir(name, dir_fd=fd)
        child = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
    out = os.open(b"deep.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(out, b"deep content")
    os.close(out)
    os.close(fd)
    assert len(os.fsencode(archive.root)) + sum(len(n) + 1 for n in names) > 4096
    mirror(archive)
    code, report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "new-disk"))
    assert code == 0 and report["restored"] == 1, report
    drill = dangan(archive, "drill")
    assert drill.returncode in (0, 1) and "失败" not in drill.stdout.split("镜像")[1].split("\n")[0], drill.stdout
