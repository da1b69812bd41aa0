"""Off-site copies through a real crypt layer to a real `rclone serve sftp` / `serve s3` partner."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from makers import TASK, jpeg_bytes, text_pdf_bytes
from partner import RCLONE, no_rclone_left, start_s3, start_sftp, use_partner

from dangan.cli.main import main

DANGAN = str(Path(sys.executable).with_name("dangan"))


@pytest.fixture
def sftp_partner(tmp_path):
    partner = start_sftp(tmp_path)
    yield partner
    partner.stop()


def dangan(archive, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([DANGAN, args[0], "--config", str(archive.config), *args[1:]], capture_output=True,
                          text=True, timeout=300, cwd=archive.base, env=env)


def backup(archive, *args: str, env: dict | None = None) -> dict:
    mirrored = dangan(archive, "mirror")
    assert mirrored.returncode == 0, mirrored.stderr
    done = dangan(archive, "backup", "--format", "json", *args, env=env)
    assert done.returncode in (0, 1), done.stderr
    return {**json.loads(done.stdout), "returncode": done.returncode, "stderr": done.stderr}


def fetch_back(archive, partner, tmp_path) -> dict[bytes, bytes]:
    """Read the partner's copy back with only the key and rclone: path bytes -> content."""
    key = json.loads((archive.config.parent / "offsite.key").read_text())

    def obscured(secret: str) -> str:
        return subprocess.run([RCLONE, "obscure", "-"], input=secret, capture_output=True, text=True).stdout.strip()

    env = {**os.environ, "RCLONE_CONFIG": str(partner.rclone_config), "RCLONE_CONFIG_BACK_TYPE": "crypt",
           "RCLONE_CONFIG_BACK_REMOTE": partner.remote, "RCLONE_CONFIG_BACK_PASSWORD": obscured(key["password"]),
           "RCLONE_CONFIG_BACK_PASSWORD2": obscured(key["salt"])}
    target = tmp_path / "fetched"
    subprocess.run([RCLONE, "copy", "back:", str(target)], env=env, check=True, capture_output=True)
    newest = sorted((target / "manifests").glob("*.json.gz"))[-1]
    manifest = json.loads(gzip.decompress(newest.read_bytes()))
    import base64

    return {base64.b64decode(f["path_base64"]): (target / "data" / f["hash"][:2] / f["hash"]).read_bytes()
            for f in manifest["files"]}


def test_partner_sees_neither_names_nor_content(archive, sftp_partner, tmp_path):
    use_partner(archive, sftp_partner)
    secret = b"CONFIDENTIAL-MEETING-MINUTES-" + os.urandom(8).hex().encode()
    archive.write(f"{TASK}/绝密会议纪要.txt", secret)
    result = backup(archive)
    assert result["ok"], result
    assert result["files"] == 1
    stored = sftp_partner.files()
    assert stored, "nothing reached the partner"
    for path in stored:
        assert "会议" not in str(path) and "manifest" not in str(path) and "data" not in path.name
        content = path.read_bytes()
        assert b"CONFIDENTIAL" not in content and "绝密".encode() not in content and b"01" not in content[:2]
    assert fetch_back(archive, sftp_partner, tmp_path)[f"{TASK}/绝密会议纪要.txt".encode()] == secret


def test_incremental_runs_ship_only_what_changed_and_keep_every_version(archive, sftp_partner, tmp_path):
    use_partner(archive, sftp_partner)
    for i in range(5):
        archive.write(f"{TASK}/{i}.txt", f"first {i}".encode())
    first = backup(archive)
    assert first["ok"] and first["files"] == 5
    second = backup(archive)
    assert second["ok"] and second["files"] == 0  # nothing new: nothing shipped, the remote not listed
    archive.write(f"{TASK}/0.txt", b"second version of 0")
    os.unlink(archive.path(f"{TASK}/1.txt"))
    third = backup(archive)
    assert third["ok"] and third["files"] == 1 and third["total_files"] == 4
    objects_before = len([p for p in sftp_partner.files()])
    # the overwritten and the deleted content are still on the partner: nothing is ever deleted
    fetched = fetch_back(archive, sftp_partner, tmp_path)
    assert fetched[f"{TASK}/0.txt".encode()] == b"second version of 0"
    assert f"{TASK}/1.txt".encode() not in fetched
    first_manifest = sorted((archive.state / "manifests").glob("*.json.gz"))[0]
    listed = json.loads(gzip.decompress(first_manifest.read_bytes()))
    assert {f["path"] for f in listed["files"]} >= {f"{TASK}/0.txt", f"{TASK}/1.txt"}
    assert objects_before >= 6 + 3 * 2  # 6 contents + per run a manifest and a register sheet


def test_register_sheet_counts_per_department(archive, sftp_partner):
    use_partner(archive, sftp_partner)
    archive.write(f"{TASK}/a.txt", b"a" * 1000)
    archive.write("02教务处/B教学诊改/B1/b.txt", b"b" * 2000)
    result = backup(archive)
    sheet = Path(result["manifest"].replace(".json.gz", "-清单.txt")).read_text(encoding="utf-8")
    assert "01办公室\t1\t1.0 KB" in sheet and "02教务处\t1\t2.0 KB" in sheet
    assert "签字" in sheet


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_verify_catches_altered_and_removed_objects(archive, sftp_partner):
    use_partner(archive, sftp_partner)
    for i in range(3):
        archive.write(f"{TASK}/{i}.txt", f"content {i}".encode() * 100)
    assert backup(archive)["ok"]
    ok = dangan(archive, "backup", "--verify")
    assert ok.returncode == 0 and "验证通过" in ok.stdout
    # crypt adds a 32-byte header and 16 bytes per 64 KiB block: the three 900-byte records
    data_files = sorted(p for p in sftp_partner.files() if p.stat().st_size == 900 + 32 + 16)
    assert len(data_files) == 3
    victim = data_files[0]
    raw = bytearray(victim.read_bytes())
    raw[-5] ^= 0xFF
    victim.write_bytes(bytes(raw))
    data_files[1].unlink()
    bad = dangan(archive, "backup", "--verify", "--format", "json")
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False and len(report["problems"]) == 2


def test_verify_by_download_sample(archive, sftp_partner):
    use_partner(archive, sftp_partner, verify="sample", sample_share="1.0")
    for i in range(3):
        archive.write(f"{TASK}/{i}.txt", f"content {i}".encode() * 100)
    assert backup(archive)["ok"]
    ok = dangan(archive, "backup", "--verify", "--format", "json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["checked"] == 3
    big = max(sftp_partner.files(), key=lambda p: p.stat().st_size)
    raw = bytearray(big.read_bytes())
    raw[-3] ^= 0x01
    big.write_bytes(bytes(raw))
    bad = dangan(archive, "backup", "--verify", "--format", "json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["problems"]


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_rolled_back_partner_is_detected(archive, sftp_partner):
    use_partner(archive, sftp_partner)
    archive.write(f"{TASK}/a.txt", b"first")
    assert backup(archive)["ok"]
    before = {p: p.read_bytes() for p in sftp_partner.files()}
    archive.write(f"{TASK}/b.txt", b"second")
    assert backup(archive)["ok"]
    for path in sftp_partner.files():  # the partner restores yesterday's disk image
        if path not in before:
            path.unlink()
    bad = dangan(archive, "backup", "--verify", "--format", "json")
    assert bad.returncode == 1


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_shell_metacharacters_in_names_are_data(archive, sftp_partner, tmp_path):
    use_partner(archive, sftp_partner)
    names = ["$(touch pwned).txt", "`touch pwned2`.txt", "a;touch pwned3;.txt", "\"quoted\" 'name'.txt"]
    for i, name in enumerate(names):
        archive.write(f"{TASK}/{name}", f"data {i}".encode())
    result = backup(archive)
    assert result["ok"], result
    for folder in (archive.base, Path.cwd(), archive.state, tmp_path):
        assert not list(folder.rglob("pwned*")), folder
    fetched = fetch_back(archive, sftp_partner, tmp_path)
    for i, name in enumerate(names):
        assert fetched[f"{TASK}/{name}".encode()] == f"data {i}".encode()


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_long_cjk_and_gbk_names_round_trip(archive, sftp_partner, tmp_path):
    use_partner(archive, sftp_partner)
    long_name = ("关于举办二〇二一年全校师生运动会暨教职工趣味运动会"
                 "开幕式的通知及活动方案和获奖名单汇总表格" * 2)[:78] + ".txt"
    assert 200 < len(long_name.encode()) <= 255  # legal on ext4, far past crypt's ~140-byte limit
    gbk = os.fsencode(TASK) + b"/" + "校运动会.txt".encode("gbk")
    archive.write(f"{TASK}/{long_name}", b"long")
    archive.write(gbk, b"gbk")
    result = backup(archive)
    assert result["ok"], result
    fetched = fetch_back(archive, sftp_partner, tmp_path)
    assert fetched[f"{TASK}/{long_name}".encode()] == b"long"
    assert fetched[gbk] == b"gbk"


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_unreachable_partner_and_wrong_key_say_why(archive, sftp_partner):
    use_partner(archive, sftp_partner)
    archive.write(f"{TASK}/a.txt", b"a")
    assert backup(archive)["ok"]
    sftp_partner.stop()
    archive.write(f"{TASK}/b.txt", b"b")
    down = backup(archive)
    assert down["returncode"] == 1 and not down["ok"]
    assert down["reason"] and "connect" in down["reason"].lower(), down["reason"]
    failed = dangan(archive, "backup")
    assert "异地备份失败" in failed.stderr and "Traceback" not in failed.stderr


def test_wrong_key_cannot_read_the_partner(archive, sftp_partner):
    use_partner(archive, sftp_partner)
    archive.write(f"{TASK}/a.txt", b"sealed" * 100)
    assert backup(archive)["ok"]
    key_file = archive.config.parent / "offsite.key"
    key = json.loads(key_file.read_text())
    key["password"] = "not-the-password"
    key_file.write_text(json.dumps(key))
    key_file.chmod(0o600)
    bad = dangan(archive, "backup", "--verify", "--format", "json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["problems"]


def test_key_readable_by_others_is_refused(archive, sftp_partner):
    use_partner(archive, sftp_partner)
    key_file = archive.config.parent / "offsite.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_file.chmod(0o644)
    done = dangan(archive, "backup")
    assert done.returncode == 2 and "chmod 600" in done.stderr


def test_the_bundled_rclone_is_used_not_path(archive, sftp_partner, tmp_path):
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    trap = tmp_path / "old-rclone-ran"
    (fake_bin / "rclone").write_text(f"#!/bin/sh\ntouch {trap}\nexit 1\n")
    (fake_bin / "rclone").chmod(0o755)
    use_partner(archive, sftp_partner)
    archive.write(f"{TASK}/a.txt", b"a")
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}
    result = backup(archive, env=env)
    assert result["ok"], result
    assert not trap.exists()


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_transfer_killed_halfway_then_resumed(archive, sftp_partner):
    use_partner(archive, sftp_partner, bwlimit='"200k"', timeout_minutes="0.05")  # 3 s, then the group is killed
    for i in range(8):
        archive.write(f"{TASK}/{i}.bin", os.urandom(300_000))
    cut = backup(archive)
    assert not cut["ok"] and "3 s" in cut["reason"]
    assert no_rclone_left(str(archive.mirror))
    use_partner(archive, sftp_partner, bwlimit='""', timeout_minutes="240")
    resumed = backup(archive)
    assert resumed["ok"] and resumed["total_files"] == 8
    assert 0 < resumed["files"] <= 8
    assert dangan(archive, "backup", "--verify").returncode == 0


def test_s3_partner(archive, tmp_path):
    partner = start_s3(tmp_path)
    try:
        use_partner(archive, partner)
        archive.write(f"{TASK}/纪要.pdf", text_pdf_bytes())
        archive.write(f"{TASK}/20210205升旗.jpg", jpeg_bytes())
        result = backup(archive)
        assert result["ok"], result
        assert dangan(archive, "backup", "--verify").returncode == 0
        assert not any("纪要" in str(p) for p in partner.files())
    finally:
        partner.stop()


def test_local_default_target_works_out_of_the_box(archive, capsys):
    archive.write(f"{TASK}/a.txt", b"local partner")
    assert main(["mirror", "--config", str(archive.config)]) in (0, 1)
    assert main(["backup", "--config", str(archive.config)]) == 0
    assert main(["backup", "--config", str(archive.config), "--verify"]) == 0
    stored = [p for p in (archive.state / "offsite").rglob("*") if p.is_file()]
    assert stored and all(b"local partner" not in p.read_bytes() for p in stored)


def _runs(archive) -> list[tuple[str, str]]:
    import sqlite3

    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        return db.execute("SELECT kind, result FROM offsite_runs ORDER BY id").fetchall()


def test_service_catches_up_a_missed_backup_exactly_once(archive):
    from service_helpers import Running, set_mirror_settings, wait_for

    set_mirror_settings(archive, offsite=True)
    archive.write(f"{TASK}/a.txt", b"shipped by the schedule")
    running = Running(archive)
    running.wait_ready()
    try:
        wait_for(lambda: _runs(archive) == [("full", "ok")], timeout=60)  # never run before: once, now
    finally:
        assert running.stop() == 0
    running = Running(archive)
    running.wait_ready()
    try:
        import time

        time.sleep(3)
        assert _runs(archive) == [("full", "ok")]  # caught up already: not again
    finally:
        assert running.stop() == 0


def test_failing_scheduled_backup_backs_off(archive, sftp_partner):
    from service_helpers import Running, set_mirror_settings, wait_for

    set_mirror_settings(archive)
    use_partner(archive, sftp_partner)
    sftp_partner.stop()
    running = Running(archive)
    running.wait_ready()
    try:
        alert = wait_for(lambda: running.status()["alerts"].get("job_offsite"), timeout=180)
        assert alert["retry_in"] >= 300 and "connect" in alert["reason"].lower()
        import time

        time.sleep(3)
        assert _runs(archive) == [("full", "failed")]  # not fired again every tick
    finally:
        assert running.stop() == 0


def test_inventory_chain_follows_base_links_past_an_orphan():
    """A run that crashed after shipping its full inventory leaves an orphan the chain skips."""
    from dangan.backup.manifest import Entry, Manifest, rebuild
    from dangan.config.errors import EnvironmentProblem

    def entry(path: str, digest: str) -> Entry:
        return Entry(path.encode(), 1, 0, digest, None, None, "永久")

    def made(run: str, entries: list[Entry], base: str | None = None, removed=(), total: int | None = None) -> Manifest:
        return Manifest(run, "incremental", run, None, "sha256", entries, base=base, removed=list(removed),
                        total_files=total)

    stored = {m.name + ".json.gz": m for m in (
        made("20260101T000000.000Z", [entry("a", "1"), entry("b", "2")]),
        made("20260102T000000.000Z", [entry("c", "3")], base="20260101T000000.000Z", removed=[b"a"], total=2),
        made("20260103T000000.000Z", [entry("x", "9")]),  # orphan: its run failed after the upload
        made("20260104T000000.000Z", [entry("b", "4")], base="20260102T000000.000Z", total=2),
    )}
    calls = []

    def load(names):
        calls.append(list(names))
        return {n: Manifest.from_bytes(stored[n].to_bytes()) for n in names if n in stored}

    names = sorted(stored)
    full, chain = rebuild(names, names[-1], load)
    assert {e.path: e.hash for e in full.entries} == {b"b": "4", b"c": "3"}
    assert chain == [names[3], names[1], names[0]] and len(calls) == 3  # the orphan batch, then back past it
    del stored[names[1]]
    with pytest.raises(EnvironmentProblem, match="20260102T000000.000Z"):
        rebuild(names, names[-1], load)


def test_obscure_in_process_is_what_rclone_reveals():
    from dangan.backup.rclone import obscure

    secret = "Pass-密码-" + os.urandom(8).hex()
    first, second = obscure(secret), obscure(secret)
    assert first != second  # a random IV each time, as rclone's own
    for obscured in (first, second):
        revealed = subprocess.run([RCLONE, "reveal", obscured], capture_output=True, text=True, check=True)
        assert revealed.stdout.strip() == secret


def test_transfer_with_progress_goes_through_rclone_python(tmp_path):
    """On a terminal the transfer runs in rclone-python's child (progress bar); elsewhere rclone
    runs directly. Both ship the list, take a timetable with a space, and say why they failed."""
    from dangan.backup.rclone import CRYPT, Rclone, RcloneError, obscure

    source = tmp_path / "stage"
    (source / "data" / "ab").mkdir(parents=True)
    for name in ("ab01", "ab02"):
        (source / "data" / "ab" / name).write_bytes(name.encode() * 100)
    listing = tmp_path / "list.txt"
    listing.write_text("data/ab/ab01\ndata/ab/ab02\n", encoding="ascii")
    flags = ["--immutable", "--bwlimit=08:00,512k 18:00,off"]
    for progress in (True, False):
        partner = Rclone(str(tmp_path / f"partner-{progress}"), obscure("pw"), obscure("salt"))
        partner.transfer(str(source), f"{CRYPT}:", listing, flags, 60, progress)
        held = partner.run(["lsf", "-R", f"{CRYPT}:"]).stdout.split()
        assert sorted(held) == ["data/", "data/ab/", "data/ab/ab01", "data/ab/ab02"]
        (tmp_path / f"blocked-{progress}").write_bytes(b"a file where the partner's folder should be")
        blocked = Rclone(str(tmp_path / f"blocked-{progress}"), obscure("pw"), obscure("salt"))
        with pytest.raises(RcloneError) as failed:
            blocked.transfer(str(source), f"{CRYPT}:", listing, flags, 60, progress)
        assert failed.value.reason and "exit" not in failed.value.reason, failed.value.reason


def test_a_run_that_dies_is_closed_as_failed(archive, sftp_partner):
    """12.11: a backup that ended otherwise than by an rclone or disk error (here: interrupted, as
    the service stops its job) stayed `running` in the catalog, and in status, for ever."""
    import signal
    import time

    use_partner(archive, sftp_partner, bwlimit='"50k"')
    for i in range(6):
        archive.write(f"{TASK}/{i}.bin", os.urandom(300_000))
    assert dangan(archive, "mirror").returncode == 0
    job = subprocess.Popen([DANGAN, "backup", "--config", str(archive.config)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, cwd=archive.base)
    deadline = time.monotonic() + 120
    while no_rclone_left(str(archive.mirror)) and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the transfer is under way
    assert job.poll() is None and _runs(archive) == [("incremental", "running")]
    job.send_signal(signal.SIGINT)
    out, err = job.communicate(timeout=60)
    assert job.returncode != 0, out + err
    assert _runs(archive) == [("incremental", "failed")]
    assert no_rclone_left(str(archive.mirror))


def test_a_new_partner_gets_everything(archive, sftp_partner, tmp_path):
    """12.5: after `offsite.remote` was switched to a new partner, incremental runs shipped 0 files
    and said ok while the new partner held nothing but inventories."""
    use_partner(archive, sftp_partner)
    for i in range(4):
        archive.write(f"{TASK}/{i}.txt", f"content {i}".encode() * 50)
    assert backup(archive)["files"] == 4
    (tmp_path / "second").mkdir()
    second = start_sftp(tmp_path / "second")
    try:
        use_partner(archive, second)
        moved = backup(archive)
        assert moved["ok"] and moved["files"] == 4, moved
        assert not moved["manifest"].endswith("-delta.json.gz")  # its base is not at this partner
        assert dangan(archive, "backup", "--verify").returncode == 0
        fetched = fetch_back(archive, second, tmp_path)
        assert fetched[f"{TASK}/2.txt".encode()] == b"content 2" * 50
        use_partner(archive, sftp_partner)  # back to the first: it holds everything already
        back = backup(archive)
        assert back["ok"] and back["files"] == 0, back
    finally:
        second.stop()


def test_what_a_failed_verification_found_missing_is_shipped_first(archive, sftp_partner):
    """12.5: an object lost at the partner failed --verify, but later incremental runs never
    re-shipped it (only --full healed)."""
    use_partner(archive, sftp_partner)
    for i in range(3):
        archive.write(f"{TASK}/{i}.txt", f"content {i}".encode() * 100)
    assert backup(archive)["files"] == 3
    data_files = sorted(p for p in sftp_partner.files() if p.stat().st_size == 900 + 32 + 16)
    data_files[0].unlink()
    bad = dangan(archive, "backup", "--verify", "--format", "json")
    assert bad.returncode == 1
    bad_run = json.loads(bad.stdout)["run_id"]
    archive.write(f"{TASK}/new.txt", b"new")
    healed = backup(archive)
    assert healed["ok"] and healed["files"] == 2, healed  # the lost one and the new one
    # the failed verification stays in status (a newer, unverified run does not hide it) ...
    status = json.loads(dangan(archive, "status", "--format", "json").stdout)
    assert status["offsite"]["verification_failed"]["run"] == bad_run, status["offsite"]
    assert "验证失败" in dangan(archive, "status").stdout
    again = dangan(archive, "backup", "--verify", "--format", "json")
    assert again.returncode == 0, again.stdout
    # ... until a verification passes
    status = json.loads(dangan(archive, "status", "--format", "json").stdout)
    assert status["offsite"]["last_ok"]["verification"] == "ok"
    assert status["offsite"]["verification_failed"] is None
    assert "验证失败" not in dangan(archive, "status").stdout


def test_verify_against_a_partner_without_hashes_says_how_it_checked(archive, sftp_partner):
    """12.13: --verify against an sftp remote that offers no hashes said only "rclone cryptcheck
    exit code 1", rclone's own reason hidden by the log level."""
    with open(sftp_partner.rclone_config, "a", encoding="utf-8") as conf:
        conf.write("disable_hashcheck = true\n")
    use_partner(archive, sftp_partner, sample_share="1.0")
    for i in range(3):
        archive.write(f"{TASK}/{i}.txt", f"content {i}".encode() * 100)
    assert backup(archive)["ok"]
    done = dangan(archive, "backup", "--verify", "--format", "json")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["method"] == "sample" and report["checked"] == 3, report
    assert "support any hashes" in report["note"] and "校验和" in report["note"], report
    text = dangan(archive, "backup", "--verify")
    assert text.returncode == 0 and "校验和" in text.stdout and "exit code" not in text.stdout, text.stdout
    victim = max(sftp_partner.files(), key=lambda p: p.stat().st_size)
    raw = bytearray(victim.read_bytes())
    raw[-3] ^= 0x01
    victim.write_bytes(bytes(raw))
    bad = dangan(archive, "backup", "--verify", "--format", "json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["problems"], bad.stdout


def test_a_backup_alert_clears_once_a_backup_succeeded(archive, sftp_partner, tmp_path):
    """12.13: the service's alert for a failed scheduled backup stayed in status after a backup
    by hand had succeeded (until the service's next try, hours later)."""
    from service_helpers import Running, set_mirror_settings, wait_for

    set_mirror_settings(archive)
    use_partner(archive, sftp_partner)
    sftp_partner.stop()
    archive.write(f"{TASK}/a.txt", b"a")
    running = Running(archive)
    running.wait_ready()
    try:
        wait_for(lambda: running.status()["alerts"].get("job_offsite"), timeout=180)
        (tmp_path / "back").mkdir()
        partner = start_sftp(tmp_path / "back")  # the partner is back (on another port)
        try:
            use_partner(archive, partner)
            done = dangan(archive, "backup")
            assert done.returncode == 0, done.stderr
        finally:
            partner.stop()
        assert "job_offsite" not in running.status()["alerts"]
    finally:
        assert running.stop() == 0


def test_what_a_verification_found_damaged_is_replaced(archive, sftp_partner):
    """12.5: an object damaged at the partner (same size, other bytes) is shipped again and
    replaced by the next run — the one case where a partner's object is overwritten."""
    use_partner(archive, sftp_partner)
    for i in range(3):
        archive.write(f"{TASK}/{i}.txt", f"content {i}".encode() * 100)
    assert backup(archive)["files"] == 3
    victim = sorted(p for p in sftp_partner.files() if p.stat().st_size == 900 + 32 + 16)[0]
    raw = bytearray(victim.read_bytes())
    raw[-5] ^= 0xFF
    victim.write_bytes(bytes(raw))
    assert dangan(archive, "backup", "--verify").returncode == 1
    healed = backup(archive)
    assert healed["ok"] and healed["files"] == 1, healed
    again = dangan(archive, "backup", "--verify", "--format", "json")
    assert again.returncode == 0, again.stdout
