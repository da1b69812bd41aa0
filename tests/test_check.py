"""`dangan check` as a whole: the catalog spares re-reads, moves are moves, nothing unsafe is
followed or opened, PATH arguments stay inside the archive."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from makers import GOOD_DESCRIPTION, TASK, docx_bytes, jpeg_bytes, rules_of, text_pdf_bytes


def _ledger(archive) -> list[tuple[str, str]]:
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        return [(e, os.fsdecode(p)) for e, p in db.execute("SELECT event, path FROM ledger ORDER BY id")]


def _catalog_row(archive, rel: str) -> tuple:
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        return db.execute("SELECT hash, hash_algorithm, department, category, size FROM files WHERE path = ?",
                          (os.fsencode(rel),)).fetchone()


def test_recheck_reads_nothing_and_change_reads_one(archive, capsys):
    for i in range(5):
        archive.write(f"{TASK}/纪要{i}.pdf", text_pdf_bytes(f"minutes {i}"))
    _, first = archive.check(capsys=capsys)
    assert first["files_read"] == 5
    _, second = archive.check(capsys=capsys)
    assert second["files_read"] == 0 and second["files_checked"] == 5
    archive.write(f"{TASK}/纪要2.pdf", text_pdf_bytes("minutes 2, corrected"))
    _, third = archive.check(capsys=capsys)
    assert third["files_read"] == 1
    events = _ledger(archive)
    assert [e for e, _ in events].count("intake") == 5
    assert ("change", f"{TASK}/纪要2.pdf") in events


def test_catalog_row_holds_hash_department_category(archive, capsys):
    data = text_pdf_bytes("hash me")
    archive.write(f"{TASK}/纪要.pdf", data)
    archive.check(capsys=capsys)
    assert _catalog_row(archive, f"{TASK}/纪要.pdf") == (
        hashlib.sha256(data).hexdigest(), "sha256", "01办公室", "A标准建设", len(data))


def test_sm3_selected_in_config(archive, capsys):
    text = archive.config.read_text(encoding="utf-8").replace("hash_algorithm: sha256", "hash_algorithm: sm3")
    archive.config.write_text(text, encoding="utf-8")
    data = text_pdf_bytes("sm3")
    archive.write(f"{TASK}/纪要.pdf", data)
    archive.check(capsys=capsys)
    assert _catalog_row(archive, f"{TASK}/纪要.pdf")[:2] == (hashlib.new("sm3", data).hexdigest(), "sm3")


def test_move_is_recorded_as_move_without_reread(archive, capsys):
    archive.write(f"{TASK}/纪要.pdf", text_pdf_bytes())
    archive.check(capsys=capsys)
    os.makedirs(archive.path("01办公室/A标准建设/A2新条目"))
    os.rename(archive.path(f"{TASK}/纪要.pdf"), archive.path("01办公室/A标准建设/A2新条目/纪要.pdf"))
    _, report = archive.check(capsys=capsys)
    assert report["files_read"] == 0
    events = _ledger(archive)
    assert events[-1] == ("move", "01办公室/A标准建设/A2新条目/纪要.pdf")
    assert "removal" not in [e for e, _ in events]


def test_removal_closes_violations(archive, capsys):
    archive.write(f"{TASK}/IMG_1.jpg", jpeg_bytes())
    _, report = archive.check(capsys=capsys)
    assert rules_of(report, f"{TASK}/IMG_1.jpg") == ["naming.date"]
    assert rules_of(report, TASK) == ["folder.no-description"]
    os.unlink(archive.path(f"{TASK}/IMG_1.jpg"))
    code, report = archive.check(capsys=capsys)
    assert report["violations"] == [] and code == 0
    assert _ledger(archive)[-1] == ("removal", f"{TASK}/IMG_1.jpg")
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        fixed = db.execute("SELECT rule FROM violations WHERE fixed_at IS NOT NULL ORDER BY rule").fetchall()
    assert fixed == [("folder.no-description",), ("naming.date",)]


def test_fixing_a_file_fixes_its_violation_and_first_seen_is_kept(archive, capsys):
    archive.write(f"{TASK}/IMG_1.jpg", jpeg_bytes())
    _, first = archive.check(capsys=capsys)
    _, second = archive.check(capsys=capsys)
    assert first["violations"][0]["first_seen"] == second["violations"][0]["first_seen"]
    os.rename(archive.path(f"{TASK}/IMG_1.jpg"), archive.path(f"{TASK}/20210205升旗.jpg"))
    archive.write(f"{TASK}/说明.docx", docx_bytes(GOOD_DESCRIPTION))
    code, third = archive.check(capsys=capsys)
    assert third["violations"] == [] and code == 0


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_symlinks_are_never_followed(archive, capsys, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.pdf").write_bytes(text_pdf_bytes("outside"))
    archive.write(f"{TASK}/纪要.pdf", text_pdf_bytes())
    os.symlink("/etc/passwd", archive.path(f"{TASK}/passwd.txt"))
    os.symlink(outside, archive.path(f"{TASK}/外部文件夹"))
    _, report = archive.check(capsys=capsys)
    assert report["files_checked"] == 1
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert skipped == {f"{TASK}/passwd.txt": "symlink", f"{TASK}/外部文件夹": "symlink"}
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        paths = [os.fsdecode(p) for (p,) in db.execute("SELECT path FROM files")]
    assert paths == [f"{TASK}/纪要.pdf"]


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_fifo_is_skipped_without_hanging(archive):
    """Run the installed console script with a timeout: a check that opened the FIFO would block."""
    archive.write(f"{TASK}/纪要.pdf", text_pdf_bytes())
    os.mkfifo(archive.path(f"{TASK}/管道.pdf"))
    dangan = Path(sys.executable).with_name("dangan")
    done = subprocess.run([str(dangan), "check", "--config", str(archive.config), "--format", "json"],
                          capture_output=True, timeout=60, text=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["files_checked"] == 1
    assert [(s["path"], s["reason"]) for s in report["skipped"]] == [(f"{TASK}/管道.pdf", "special")]


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_paths_deeper_than_path_max_are_checked(archive, capsys):
    """os.walk silently skips these; the fd-relative walk must not."""
    os.makedirs(archive.path(TASK))
    fd = os.open(archive.path(TASK), os.O_RDONLY | os.O_DIRECTORY)
    name = "深" * 80  # 240 bytes per level
    depth = 20  # ~4.8 KB of path, past PATH_MAX (4096)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        out = os.open("20210205很深的照片.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, jpeg_bytes())
        os.close(out)
    finally:
        os.close(fd)
    _, report = archive.check(capsys=capsys)
    assert report["files_checked"] == 1
    assert report["files_read"] == 1
    # the deep folder holds only a photo: the rule sees it, so the file was really examined
    assert any(v["rule"] == "folder.no-description" for v in report["violations"])


def test_path_arguments(archive, capsys, tmp_path):
    archive.write(f"{TASK}/IMG_1.jpg", jpeg_bytes())
    archive.write("02教务处/A标准建设/A1/IMG_2.jpg", jpeg_bytes(color="red"))
    code, report = archive.check(str(archive.path(TASK)), capsys=capsys)
    assert report["files_checked"] == 1 and code == 1
    assert {v["path"] for v in report["violations"]} == {TASK, f"{TASK}/IMG_1.jpg"}  # nothing from 02教务处
    code, report = archive.check(str(archive.path(f"{TASK}/IMG_1.jpg")), capsys=capsys)
    assert report["files_checked"] == 1
    # a partial check removes nothing that lies outside it
    _, full = archive.check(capsys=capsys)
    assert full["files_checked"] == 2
    assert "removal" not in [e for e, _ in _ledger(archive)]
    capsys.readouterr()
    assert archive.run("check", str(tmp_path)) == 2
    assert "不在档案主目录" in capsys.readouterr().err
    assert archive.run("check", str(archive.path(TASK) / ".." / ".." / ".." / "..")) == 2
    assert archive.run("check", str(archive.path("没有这个文件夹"))) == 2


def test_missing_archive_marker_stops_the_check(archive, capsys):
    archive.write(f"{TASK}/纪要.pdf", text_pdf_bytes())
    archive.check(capsys=capsys)
    os.unlink(archive.root / ".dangan-archive")
    capsys.readouterr()
    assert archive.run("check") == 2
    assert "标记文件" in capsys.readouterr().err


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_emptied_archive_with_marker_records_removals_but_deletes_nothing(archive, capsys):
    archive.write(f"{TASK}/纪要.pdf", text_pdf_bytes())
    archive.check(capsys=capsys)
    shutil.rmtree(archive.path("01办公室"))
    _, report = archive.check(capsys=capsys)
    assert report["files_checked"] == 0
    assert _ledger(archive)[-1] == ("removal", f"{TASK}/纪要.pdf")


def test_many_files_use_all_cores_with_the_same_result(archive, capsys):
    for i in range(260):  # above the pool threshold
        archive.write(f"{TASK}/第{i}号.pdf", text_pdf_bytes(f"document {i}"))
    archive.write(f"{TASK}/IMG_1.jpg", jpeg_bytes())
    _, report = archive.check(capsys=capsys)
    assert report["files_read"] == 261
    assert [v["rule"] for v in report["violations"]] == ["naming.date"]
    row = _catalog_row(archive, f"{TASK}/第7号.pdf")
    assert row[0] == hashlib.sha256(archive.path(f"{TASK}/第7号.pdf").read_bytes()).hexdigest()


def _found(report: dict) -> list[tuple[str, str, str]]:
    return [(v["path"], v["rule"], v["message"]) for v in report["violations"]]


def test_a_first_check_in_batches_finds_what_one_read_finds(archive, capsys, monkeypatch):
    from dangan.rules import check

    archive.write(f"{TASK}/IMG_1.jpg", jpeg_bytes())  # a photo folder without a description
    archive.write(f"{TASK}/20210205升旗.jpg", jpeg_bytes())
    archive.write("01办公室/A标准建设/A2条目/纪要.pdf", text_pdf_bytes())
    archive.write("01办公室/A标准建设/A2条目/纪要副本.pdf", text_pdf_bytes())  # a duplicate
    archive.write("01办公室/A标准建设/A3条目/说明.txt", b"note")
    _, whole = archive.check(capsys=capsys)
    shutil.rmtree(archive.state)
    assert archive.run("init", "--archive-root", str(archive.root), "--mirror-root", str(archive.mirror),
                       "--state-dir", str(archive.state), "--force") == 0
    monkeypatch.setattr(check, "READ_BATCH", 2)  # files read and filed two at a time
    _, batched = archive.check(capsys=capsys)
    assert batched["files_read"] == whole["files_read"] == 5
    assert _found(batched) == _found(whole)
    assert {rule for _, rule, _ in _found(batched)} >= {"folder.no-description", "duplicate", "naming.date"}
    _, again = archive.check(capsys=capsys)
    assert again["files_read"] == 0 and _found(again) == _found(whole)
