"""The weekly report as its readers see it (issue 13 item 11, issue 16): rendered for a seeded archive,
numbers on the register's bars, sizes in sensible units, rules by their Chinese names, hostile names
escaped, the same verdict per property in text, JSON and HTML (issue 13 item 2), and the page as
headless Chromium shows it at 1280 px and prints it to PDF."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from makers import TASK

DANGAN = str(Path(sys.executable).with_name("dangan"))
HOSTILE = '<img src=x onerror=alert(1)>.txt'
HOSTILE_DEPARTMENT = "<script>alert(2)<"
DATE_RULE_TITLE = "照片、视频、音频须以“年月日+内容”命名"


def dangan(archive, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([DANGAN, args[0], "--config", str(archive.config), *args[1:]], capture_output=True,
                          text=True, timeout=300, cwd=archive.base)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def report(archive, out: Path) -> tuple[str, str, dict]:
    done = dangan(archive, "report", "--out", str(out))
    assert done.returncode == 0, done.stderr
    read = {p.suffix: p.read_text(encoding="utf-8") for p in out.glob("weekly-*")}
    return read[".html"], read[".txt"], json.loads(read[".json"])


@pytest.fixture
def seeded(archive):
    """Three departments' worth of records, photos misnamed, a hostile file name and a hostile
    department folder, mirrored and shipped; then the mirror copy of the hostile file rots."""
    for i in range(7):
        archive.write(f"{TASK}/记录{i}.txt", f"record {i} ".encode() * 300)
    archive.write(f"{TASK}/IMG_1.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100)
    archive.write(f"{TASK}/IMG_2.jpg", b"\xff\xd8\xff\xe0" + b"1" * 100)
    archive.write(f"{TASK}/{HOSTILE}", b"hostile name " * 40)
    archive.write(f"{HOSTILE_DEPARTMENT}/A标准建设/A1制度建设/a.txt", b"a department nobody approved")
    assert dangan(archive, "mirror").returncode in (0, 1)
    assert dangan(archive, "backup").returncode == 0
    mirrored = archive.mirror / TASK / HOSTILE
    mirrored.write_bytes(b"rotten")
    dangan(archive, "audit")
    return archive


def test_human_sizes():
    from dangan.backup.report import human_size

    assert human_size(72 * 1024) == "72 KB"
    assert human_size(0) == "0 B" and human_size(512) == "512 B"
    assert human_size(int(1.5 * 1024 ** 3)) == "1.5 GB"
    assert human_size(3 * 1024 ** 4) == "3.0 TB"


def test_report_html_of_a_seeded_archive(seeded, tmp_path):
    dangan(seeded, "report", "--out", str(tmp_path / "first"))  # a first disk sample: the trend needs two
    html, text, data = report(seeded, tmp_path / "out")

    # Hostile names are text, never markup.
    assert "<script" not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in html
    assert "&lt;script&gt;alert(2)&lt;" in html
    # The problem files name the copy in words (a template once printed a dict's method there).
    assert '<td class="nowrap">镜像盘</td>' in html
    assert "built-in" not in html and "object at 0x" not in html

    # The register: every bar carries its numbers as text (mail and print lose SVG tooltips).
    intake = data["ledger"]["01办公室"]["intake"]
    assert intake == 10
    bar = re.search(r'<svg[^>]*aria-label="01办公室 (\d+)"[^>]*>(.*?)</svg>', html, re.S)
    assert bar and int(bar.group(1)) == intake
    labels = re.findall(r"<text[^>]*>(\d+)</text>", bar.group(2))
    assert labels.count(str(intake)) == 2  # inside the segment and as the total after the bar
    assert re.search(r'<td class="nowrap">01办公室</td>(<td class="num">\d+</td>)+', html)

    # Rules by their Chinese names (the id kept small beside it).
    assert DATE_RULE_TITLE in html and DATE_RULE_TITLE in text
    # Sizes in sensible units, never a tiny size as 0.00 GB.
    assert "0.00 GB" not in html + text
    disk_row = re.search(r"<table class=\"disks\">.*?</table>", html, re.S).group(0)
    assert re.search(r'<td class="num">\d+(\.\d)? (B|KB|MB|GB|TB)</td>', disk_row)
    # The disk-space trend: axes with units and dates.
    trend = re.search(r'<figure class="trend">(.*?)</figure>', html, re.S)
    assert trend, "no trend chart with two samples"
    ticks = re.findall(r'<text[^>]*text-anchor="end">([^<]+)</text>', trend.group(1))
    assert len(ticks) == 5 and all(re.fullmatch(r"\d+(\.\d)? (B|KB|MB|GB|TB)", tick) for tick in ticks), ticks
    assert re.search(r'text-anchor="middle">\d\d-\d\d', trend.group(1))
    assert "<polyline" in trend.group(1)

    # One verdict per property, the same in the three forms; the facts in words, never key=value.
    from dangan.config.messages import t

    states = {"ok": "正常", "attention": "需要关注", "critical": "严重"}
    assert len(data["properties"]) == 4
    for row in data["properties"]:
        word, title = states[row["verdict"]], t(f"property.{row['name']}")
        line = next(line for line in text.splitlines() if line.strip().startswith(title))
        assert line.strip().startswith(f"{title}：{word}（") and "=" not in line, line
        assert f'<td>{title}</td><td class="state state-{row["verdict"]}">{word}</td>' in html
    authenticity = next(r for r in data["properties"] if r["name"] == "authenticity")
    assert authenticity["verdict"] == "critical" and data["verdict"] == "critical"


def test_no_offsite_copy_yet_is_not_ok_in_any_form(archive, tmp_path):
    """Issue 13 item 2: with no off-site copy yet and files not yet mirrored, the audit's text, its
    JSON and the report all rate security 需要关注 and show the unmirrored count."""
    archive.write(f"{TASK}/a.txt", b"a" * 100)
    assert dangan(archive, "mirror").returncode == 0
    archive.write(f"{TASK}/b.txt", b"b" * 100)
    archive.write(f"{TASK}/c.txt", b"c" * 100)
    dangan(archive, "check")  # catalogued, not yet on the mirror
    done = dangan(archive, "audit", "--format", "json")
    assert done.returncode == 0
    security = json.loads(done.stdout)["properties"]["security"]
    assert security["verdict"] == "attention" and security["ok"] is False and security["unmirrored"] == 2
    done = dangan(archive, "audit")
    line = next(line for line in done.stdout.splitlines() if line.strip().startswith("安全性"))
    assert "需要关注" in line and "正常" not in line.split("：", 1)[1][:6], line
    assert "2 个文件尚未复制到镜像盘" in line and "尚无经过验证的异地副本" in line
    html, text, data = report(archive, tmp_path / "out")
    row = next(r for r in data["properties"] if r["name"] == "security")
    assert row["verdict"] == "attention"
    assert re.search(r"安全性（[^）]*）：需要关注（.*2 个文件尚未复制到镜像盘", text)
    assert 'class="state state-attention">需要关注</td>' in html
    assert data["verdict"] != "ok"


def test_partner_problems_are_not_classified_by_their_words(archive):
    """The kind of a finding is typed; a partner's problem whose sentence happens to contain
    "missing" (or 缺) is a failed verification of the off-site copy, not a missing record."""
    from dangan.backup.audit import AuditResult, Auditor, Copy, Kind
    from dangan.config import loader
    from dangan.store.catalog import Catalog

    config = loader.load(archive.config)
    problems = ["Failed to copy: missing credentials", "合作单位处缺少权限"]
    verdict = SimpleNamespace(ok=False, method="sample", checked=3, problems=problems, run_id="r1")
    with Catalog(archive.state / "catalog.sqlite") as catalog:
        auditor = Auditor(config, catalog, lambda: verdict, None)
        result = AuditResult(at="2026-12-01T00:00:00.000+00:00")
        auditor._offsite(result)
        auditor._security(result)
    assert [(f.copy, f.kind) for f in result.findings] == [(Copy.OFFSITE, Kind.UNVERIFIED)] * 2
    properties = result.properties()
    assert properties["integrity"]["missing"] == 0 and properties["integrity"]["ok"] is True
    assert properties["security"]["verdict"] == "critical"


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("pdftoppm") is None,
                    reason="Debian chromium and poppler-utils not installed (.ci/run installs them)")
def test_report_at_1280px_and_printed(seeded, tmp_path):
    """What readers see: a screenshot at 1280 px wide and an A4 PDF whose first page carries the red
    verdict banner (print keeps the colours)."""
    from PIL import Image

    dangan(seeded, "report", "--out", str(tmp_path / "first"))
    report(seeded, tmp_path / "out")
    page = next((tmp_path / "out").glob("*.html"))
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    shot, pdf = tmp_path / "shot.png", tmp_path / "report.pdf"
    done = subprocess.run(["chromium", *flags, f"--screenshot={shot}", "--window-size=1280,2000",
                           "--hide-scrollbars", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists(), done.stderr
    done = subprocess.run(["chromium", *flags, f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                           page.as_uri()], capture_output=True, text=True, timeout=120)
    assert pdf.exists(), done.stderr
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)
    printed = next(tmp_path.glob("page*.png"))
    for image_path in (shot, printed):
        with Image.open(image_path) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
        red = sum(n for n, (r, g, b) in colours
                  if abs(r - 0xCF) < 10 and abs(g - 0x22) < 10 and abs(b - 0x2E) < 10)
        assert red > 300, image_path  # the red verdict banner, on screen and on paper
    dom = subprocess.run(["chromium", *flags, "--window-size=1280,2000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert "结论：严重" in dom
