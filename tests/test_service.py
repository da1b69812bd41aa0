"""The real service on real folders with real inotify: copies, versions, guards, signals."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
from makers import TASK, jpeg_bytes, text_pdf_bytes
from service_helpers import (DANGAN, Running, kill9, ledger, mirror_file, same_on_mirror, set_mirror_settings,
                             tree_files, versions, wait_for)


def test_ready_and_utf8_status_reach_systemd(service):
    wait_for(lambda: any("STATUS=" in m and "待处理" in m for m in service.read_notify()), timeout=10)
    assert service.stop() == 0
    assert any("STOPPING=1" in m for m in service.read_notify())


def test_single_file_is_mirrored_verified_and_judged(service, archive):
    archive.write(f"{TASK}/IMG_0001.jpg", jpeg_bytes())
    wait_for(lambda: same_on_mirror(archive, f"{TASK}/IMG_0001.jpg"))
    status = wait_for(lambda: (s := service.status())["violations"]["error"] >= 1 and s)
    assert status["mirror"]["unmirrored"] == 0
    assert ("intake", f"{TASK}/IMG_0001.jpg") in ledger(archive)


def test_burst_of_files(service, archive):
    for i in range(300):
        archive.write(f"{TASK}/第{i:03d}号.pdf", f"document {i}".encode() * 50)
    wait_for(lambda: all(same_on_mirror(archive, f"{TASK}/第{i:03d}号.pdf") for i in range(300)), timeout=60)
    assert tree_files(archive.mirror) == tree_files(archive.root)


def test_overwrite_delete_rename_keep_versions(service, archive):
    rel = f"{TASK}/纪要.pdf"
    archive.write(rel, b"version one")
    wait_for(lambda: same_on_mirror(archive, rel))
    archive.write(rel, b"version two, longer")
    wait_for(lambda: same_on_mirror(archive, rel))
    assert [v.read_bytes() for v in versions(archive, rel)] == [b"version one"]
    inode = mirror_file(archive, rel).stat().st_ino
    os.rename(archive.path(rel), archive.path(f"{TASK}/会议纪要.pdf"))
    wait_for(lambda: same_on_mirror(archive, f"{TASK}/会议纪要.pdf") and not mirror_file(archive, rel).exists())
    assert mirror_file(archive, f"{TASK}/会议纪要.pdf").stat().st_ino == inode  # renamed, not copied again
    os.unlink(archive.path(f"{TASK}/会议纪要.pdf"))
    wait_for(lambda: not mirror_file(archive, f"{TASK}/会议纪要.pdf").exists())
    assert [v.read_bytes() for v in versions(archive, f"{TASK}/会议纪要.pdf")] == [b"version two, longer"]
    events = [e for e, p in ledger(archive) if p.endswith("纪要.pdf")]
    assert events == ["intake", "change", "move", "removal"]


def test_atomic_save_is_a_replacement(service, archive):
    rel = f"{TASK}/方案.docx"
    archive.write(rel, b"draft 1")
    wait_for(lambda: same_on_mirror(archive, rel))
    archive.write(f"{TASK}/方案.docx.tmp", b"draft 2")  # the editor writes a temp file ...
    os.rename(archive.path(f"{TASK}/方案.docx.tmp"), archive.path(rel))  # ... and renames it over
    wait_for(lambda: same_on_mirror(archive, rel))
    assert [v.read_bytes() for v in versions(archive, rel)] == [b"draft 1"]
    events = [e for e, p in ledger(archive) if p == rel]
    assert events == ["intake", "change"]
    assert not (archive.mirror / TASK / "方案.docx.tmp").exists()


def test_folders_moved_in_and_out(service, archive, tmp_path):
    outside = tmp_path / "incoming"
    (outside / "子文件夹").mkdir(parents=True)
    for i in range(5):
        (outside / f"{i}.pdf").write_bytes(f"pdf {i}".encode())
        (outside / "子文件夹" / f"{i}.txt").write_bytes(f"txt {i}".encode())
    os.makedirs(archive.path("01办公室/A标准建设"), exist_ok=True)
    os.rename(outside, archive.path("01办公室/A标准建设/新任务"))
    wait_for(lambda: len(tree_files(archive.mirror)) == 10)
    assert tree_files(archive.mirror) == tree_files(archive.root)
    os.rename(archive.path("01办公室/A标准建设/新任务"), tmp_path / "moved-away")
    wait_for(lambda: tree_files(archive.mirror) == {})
    assert len(list((archive.mirror / ".dangan/versions").rglob("*Z"))) == 10


def test_folder_renamed_inside_the_archive(service, archive):
    for i in range(3):
        archive.write(f"{TASK}/{i}.pdf", f"pdf {i}".encode())
    wait_for(lambda: len(tree_files(archive.mirror)) == 3)
    os.rename(archive.path(TASK), archive.path("01办公室/A标准建设/改名后"))
    wait_for(lambda: tree_files(archive.mirror) == tree_files(archive.root) and
             not (archive.mirror / TASK).exists())
    # The mirror is renamed first, the catalog follows: the ledger may lag the mirror by a moment.
    wait_for(lambda: ("move", "01办公室/A标准建设/改名后/0.pdf") in ledger(archive))


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_missing_mirror_marker_writes_nothing_then_catches_up(service, archive):
    marker = archive.mirror / ".dangan" / "marker"
    saved = marker.read_bytes()
    marker.unlink()
    archive.write(f"{TASK}/断开时.pdf", b"written while the mirror disk was away")
    status = wait_for(lambda: (s := service.status())["mirror"]["unmirrored"] == 1 and s)
    assert status["mirror"]["available"] is False
    assert "mirror_missing" in wait_for(lambda: service.status()["alerts"])
    assert not mirror_file(archive, f"{TASK}/断开时.pdf").exists()
    marker.write_bytes(saved)
    wait_for(lambda: same_on_mirror(archive, f"{TASK}/断开时.pdf"))
    assert wait_for(lambda: service.status()["mirror"]["unmirrored"] == 0)


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_missing_archive_marker_propagates_no_deletion(service, archive):
    for i in range(3):
        archive.write(f"{TASK}/{i}.pdf", f"pdf {i}".encode())
    wait_for(lambda: len(tree_files(archive.mirror)) == 3)
    os.unlink(archive.root / ".dangan-archive")
    shutil.rmtree(archive.path("01办公室"))
    assert "archive_missing" in wait_for(lambda: service.status()["alerts"], timeout=10)
    time.sleep(1.0)
    assert len(tree_files(archive.mirror)) == 3


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_mass_deletion_is_held_until_confirmed(service, archive):
    for i in range(30):
        archive.write(f"{TASK}/{i}.pdf", f"pdf {i}".encode())
    wait_for(lambda: len(tree_files(archive.mirror)) == 30)
    for i in range(30):
        os.unlink(archive.path(f"{TASK}/{i}.pdf"))
    held = wait_for(lambda: service.status()["deletions"]["held"])
    assert held["count"] == 30
    time.sleep(1.0)
    assert len(tree_files(archive.mirror)) == 30  # a veto, not a brake: not one was applied
    done = subprocess.run([DANGAN, "mirror", "--config", str(archive.config), "--confirm-deletes"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    wait_for(lambda: tree_files(archive.mirror) == {})
    assert service.status()["deletions"] == {"pending": 0, "held": None}
    assert len(list((archive.mirror / ".dangan/versions").rglob("*Z"))) == 30


def test_sighup_reloads_the_config(service, archive):
    os.makedirs(archive.path("16专项组/A标准建设/任务"))
    archive.write("16专项组/A标准建设/任务/纪要.pdf", text_pdf_bytes())
    wait_for(lambda: service.status()["violations"]["error"] == 1)
    text = archive.config.read_text(encoding="utf-8").replace("  - 15专项组\n", "  - 15专项组\n  - 16专项组\n")
    archive.config.write_text(text, encoding="utf-8")
    service.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: service.status()["violations"]["error"] == 0)
    assert service.proc.poll() is None


def test_sigterm_exits_zero(service, archive):
    archive.write(f"{TASK}/a.pdf", b"x")
    wait_for(lambda: same_on_mirror(archive, f"{TASK}/a.pdf"))
    assert service.stop(signal.SIGTERM) == 0
    assert service.status()["running"] is False


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_kill9_mid_burst_then_restart_converges(archive):
    set_mirror_settings(archive)
    running = Running(archive)
    running.wait_ready()
    for i in range(400):
        archive.write(f"{TASK}/{i:03d}.pdf", os.urandom(20_000))
        if i == 200:
            kill9(running)
    leftovers = [p for p in archive.mirror.rglob(".dangan-tmp-*")]
    for path, data in tree_files(archive.mirror).items():  # whatever is final is whole
        assert data == archive.path(path).read_bytes(), path
    running = Running(archive)
    running.wait_ready()
    try:
        wait_for(lambda: tree_files(archive.mirror) == tree_files(archive.root), timeout=60)
        assert not list(archive.mirror.rglob(".dangan-tmp-*")), leftovers
    finally:
        assert running.stop() == 0


def test_second_service_refuses_to_start(service, archive):
    done = subprocess.run([DANGAN, "run", "--config", str(archive.config)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2 and "已在运行" in done.stderr


def test_dangan_mirror_reconciles_when_service_is_down(archive):
    set_mirror_settings(archive)
    for i in range(5):
        archive.write(f"{TASK}/{i}.pdf", f"pdf {i}".encode())
    done = subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert tree_files(archive.mirror) == tree_files(archive.root)
    assert (archive.mirror / ".dangan" / "catalog.sqlite").exists()  # the catalog's copy on the mirror


def test_versions_past_retention_are_dropped(archive):
    """Kept forever by default; with keep_versions_days set, a reconcile drops older versions."""
    import sqlite3

    set_mirror_settings(archive)
    rel = f"{TASK}/纪要.pdf"
    archive.write(rel, b"one")
    assert subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], timeout=60).returncode == 0
    archive.write(rel, b"two!")
    assert subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], timeout=60).returncode == 0
    assert len(versions(archive, rel)) == 1
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        db.execute("UPDATE versions SET kept_at = '2000-01-01T00:00:00.000+00:00'")
    assert subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], timeout=60).returncode == 0
    assert len(versions(archive, rel)) == 1  # keep_versions_days: 0 keeps them forever
    text = archive.config.read_text(encoding="utf-8").replace("keep_versions_days: 0", "keep_versions_days: 30")
    archive.config.write_text(text, encoding="utf-8")
    assert subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], timeout=60).returncode == 0
    assert versions(archive, rel) == []


def test_logs_carry_journald_priorities_under_systemd(archive):
    set_mirror_settings(archive)
    archive.write(f"{TASK}/a.pdf", b"x")
    env = {**os.environ, "JOURNAL_STREAM": "8:12345"}
    done = subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], capture_output=True, text=True,
                          timeout=60, env=env)
    lines = [line for line in done.stderr.splitlines() if line]
    assert lines and all(line.startswith("<") and line[2] == ">" for line in lines), done.stderr
    assert any(line.startswith("<6>完整核对：") for line in lines)  # language: zh, the log's too
    plain = subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], capture_output=True, text=True,
                           timeout=60, env={k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"})
    assert " 信息 " in plain.stderr and not plain.stderr.startswith("<")  # the level in the log's language too
