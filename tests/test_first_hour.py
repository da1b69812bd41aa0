"""The first hour of a new user, as the README tells it (issue 13): `init`, `run` (the service),
drop files, `check`, `status`, `backup` (the local off-site target `init` sets up by default, as
`make run` has it), `audit`, `report`, `restore`, and each of them into `| head -1`. Everything
they print under `language: zh` is read as a user reads it: no traceback, no `key=value`
internals, no English words outside paths, rule ids, command names and units, times with the
configured zone's offset (+08:00), and each exit code as the README documents it."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dangan.config.rule_ids import RULE_IDS
from makers import GOOD_DESCRIPTION, TASK, Archive, docx_bytes, jpeg_bytes, text_pdf_bytes
from service_helpers import DANGAN, Running, tree_files, wait_for

# Words a Chinese user meets that are not English prose: the commands and their flags, the
# programs named in the steps to follow, file types and units. Everything else is a finding.
COMMANDS = {"dangan", "init", "run", "check", "status", "backup", "audit", "report", "restore", "mirror", "drill",
            "rules", "adopt"}
NAMES = {"rclone", "crypt", "inotify", "systemd", "python", "sha256", "utf", "gbk", "exif", "html", "json", "yaml",
         "smtp", "password", "password2", "salt", "max_user_watches", "chown", "chmod", "sudo",
         "word", "excel", "wps", "windows"}  # what staff call the programs their files come from
FORMATS = {"pdf", "ofd", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "jpg", "jpeg", "png", "tif", "tiff", "mov",
           "mp3", "mp4", "wav", "avi"}
UNITS = {"KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "dpi"}


@dataclass
class Said:
    """One command's run: what it printed and how it ended."""

    argv: list[str]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def _run(archive: Archive, *args: str, head: bool = False) -> Said:
    argv = [DANGAN, *args, "--config", str(archive.config)] if args[0] != "init" else [DANGAN, *args]
    if not head:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=archive.base)
        return Said(argv, done.returncode, done.stdout, done.stderr)
    # `… | head -1`: the reader takes one line and goes away
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=archive.base)
    with process.stdout, process.stderr:
        first = process.stdout.readline().decode("utf-8", "replace")
        process.stdout.close()
        err = process.stderr.read().decode("utf-8", "replace")
    return Said(argv + ["| head -1"], process.wait(120), first, err)


def _english(text: str) -> list[str]:
    """English words in ``text`` beyond what a Chinese user is meant to read as is."""
    text = re.sub(r"(?:[\w.~-]*/[^\s，。：；（）、]*)", " ", text)  # paths (and what a path ends with)
    text = re.sub(r"--[a-z-]+", " ", text)  # command-line flags
    text = re.sub(r"\b[a-z]+\.[a-z-]+\b", " ", text)  # rule ids (naming.date)
    text = re.sub(r"[\w-]+\.[A-Za-z0-9]{2,5}\b", " ", text)  # file names (IMG_0001.jpg)
    text = re.sub(r"\b[A-Za-z0-9_-]{32,}", " ", text)  # the recovery sheet's keys
    text = re.sub(r"\b\d{8}T\d{6}\.\d{3}Z\b", " ", text)  # an off-site run's id (its inventory's name)
    text = re.sub(r"\b\d+(\.\d+)?\s?(?:[KMGT]i?B|B)(/s)?\b", " ", text)  # sizes and rates
    words = re.findall(r"[A-Za-z][A-Za-z0-9_]{2,}", text)
    allowed = COMMANDS | NAMES | FORMATS | UNITS | set(RULE_IDS)
    return sorted({w for w in words if w not in allowed and w.lower() not in allowed})


def _times_without_offset(text: str) -> list[str]:
    """Date-and-time stamps not followed by the configured zone's offset."""
    found = []
    for match in re.finditer(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?", text):
        after = text[match.end():match.end() + 7]
        if not after.lstrip().startswith("+08:00"):
            found.append(match.group() + after)
    return found


def _init(base: Path, head: bool = False) -> tuple[Archive, Said]:
    archive = Archive(base, base / "etc" / "config.yaml", base / "archive", base / "mirror", base / "state")
    base.mkdir(exist_ok=True)
    said = _run(archive, "init", "--config", str(archive.config), "--archive-root", str(archive.root),
                "--mirror-root", str(archive.mirror), "--state-dir", str(archive.state), head=head)
    text = archive.config.read_text(encoding="utf-8")  # the service's settle time, as a patient user waits it
    archive.config.write_text(text.replace("settle_seconds: 2", "settle_seconds: 0.3"), encoding="utf-8")
    return archive, said


def test_the_first_hour_reads_as_chinese_and_ends_as_documented(tmp_path):
    archive, init = _init(tmp_path)
    said: list[tuple[Said, int]] = [(init, 0)]
    running = Running(archive)
    try:
        running.wait_ready()
        # What staff drop in: minutes as a PDF, photos of an event with their description, and one
        # photo named as the camera named it (naming.date: an error, so `check` exits 1).
        archive.write(f"{TASK}/20210205学校制度汇编.pdf", text_pdf_bytes())
        archive.write(f"{TASK}/活动照片/20210205升旗仪式.jpg", jpeg_bytes(taken="2021:02:05 08:00:00"))
        archive.write(f"{TASK}/活动照片/活动说明.docx", docx_bytes(GOOD_DESCRIPTION))
        archive.write(f"{TASK}/活动照片/IMG_0001.jpg", jpeg_bytes(taken="2021:02:05 08:05:00"))
        wait_for(lambda: len(tree_files(archive.mirror)) == 4, timeout=30)
        wait_for(lambda: running.status()["queue"] == 0)
        steps = [("check",), ("status",), ("backup",), ("audit",), ("report", "--out", str(tmp_path / "report"))]
        codes = {"check": 1}  # the IMG_ photo; every other step is ok: 0
        for head in (False, True):
            for args in [*steps, ("restore", "--from", "mirror", "--to", str(tmp_path / f"restored-{head}"))]:
                said.append((_run(archive, *args, head=head), codes.get(args[0], 0)))
            assert tree_files(tmp_path / f"restored-{head}") == tree_files(archive.root)
        said.append((_init(tmp_path / "second", head=True)[1], 0))
        # the first off-site copy the service started by itself says that it finished
        log = archive.base / "service.log"
        wait_for(lambda: "任务「异地备份」完成" in log.read_text(encoding="utf-8"), timeout=60)
    finally:
        stopped = running.stop()
    service_log = (archive.base / "service.log").read_text(encoding="utf-8")
    problems = []
    for one, code in said:
        where = " ".join(one.argv[1:2] + one.argv[-1:])
        if one.code != code:
            problems.append(f"{where}: exit {one.code}, the README says {code}\n{one.text[-1500:]}")
        problems += _findings(where, one.text)
    problems += _findings("run (its log)", service_log)
    assert stopped == 0
    assert "异地备份完成" in said[3][0].out and "固定性校验完成" in said[4][0].out  # the steps did run
    assert not problems, "\n\n".join(problems)
    # The service said what it did: each batch copied, the stop asked for, and, last, that it stopped.
    assert "已复制到镜像盘：" in service_log and "收到停止信号" in service_log
    assert service_log.strip().splitlines()[-1].endswith("dangan 已停止（正在复制的文件已完成并登记）")


def _findings(where: str, text: str) -> list[str]:
    found = []
    if "Traceback" in text or "Error:" in text or "内部错误" in text:
        found.append(f"{where}: a traceback or internal error\n{text[-1500:]}")
    internals = re.findall(r"\b[a-z_]+=\S+", re.sub(r"\S*/\S*", " ", text))
    if internals:
        found.append(f"{where}: program internals {internals[:5]}")
    english = _english(text)
    if english:
        found.append(f"{where}: English words {english[:20]}")
    times = _times_without_offset(text)
    if times:
        found.append(f"{where}: times without +08:00 {times[:5]}")
    return found


def test_the_checks_of_the_first_hour_can_fail():
    assert _english("档案 copied to the mirror: 3 files") == ["copied", "files", "the"]
    assert _english("已复制 3 个文件（1.5 MB，每秒 2.0 MB/s）到 /srv/a/Report.pdf，规则 naming.date") == []
    assert _english("2026-12-02 14:00 +08:00 信息 完成 IMG_0001.jpg：dangan check --config") == []
    assert _english("2026-12-02 14:00 +08:00 INFO done") == ["INFO", "done"]
    assert _times_without_offset("生成时间：2026-12-02 14:00 +08:00；2026-12-02 06:00 UTC") == ["2026-12-02 06:00 UTC"]
    assert _findings("x", "confirmed=16 match=True") and _findings("x", "Traceback (most recent call last)")
