"""Issue 17 items 5–6: findings reach the department responsible (a digest per department, through a
real SMTP server on 127.0.0.1: each contact gets only its own department, oldest first, nothing when
there is nothing) and the 过程考核 scorecard, its formula recomputed here from the files this test
made, the findings `dangan check` reported and fix times the test set itself — in the JSON, the
.xlsx (read back with openpyxl) and the weekly report."""

from __future__ import annotations

import calendar
import email
import email.policy
import json
import re
import shutil
import statistics
import subprocess
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml
from makers import GOOD_DESCRIPTION, docx_bytes, jpeg_bytes
from partner import free_port

SCHOOL = "冀州职教中心"
ZONE = ZoneInfo("Asia/Shanghai")
OFFICE, TEACHING, TRAINING = "01办公室", "02教务处", "03实训处"
EVENT = f"{OFFICE}/A标准建设/A1校运动会"  # photos with their description
BARE = f"{OFFICE}/B教学诊改/B1公开课"  # photos without one
RULES = f"{OFFICE}/A标准建设/A2制度建设"
CERTS = f"{TEACHING}/B教学诊改/B2教师获奖证书"  # scans: documents, not activity records
TEACH = f"{TEACHING}/C课程建设/C1课程标准"


def configure(archive, **report: object) -> None:
    """Set the school and ``report:`` keys in the archive's config (comments are not needed here)."""
    data = yaml.safe_load(archive.config.read_text(encoding="utf-8"))
    data["school"] = SCHOOL
    data["report"].update(report)
    archive.config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def run(archive, capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = archive.run(*args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err, out.err
    return code, out.out, out.err


def named(days_ago: int, what: str) -> str:
    return (datetime.now(ZONE).date() - timedelta(days=days_ago)).strftime("%Y%m%d") + what


# -- digests ------------------------------------------------------------------------------------
@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's API
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((sorted(envelope.rcpt_tos), parsed))
            return "250 OK"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _text(message: email.message.EmailMessage, kind: str = "text/plain") -> str:
    return next(p.get_content() for p in message.walk() if p.get_content_type() == kind)


def test_each_department_gets_only_its_own_findings_oldest_first(archive, capsys, smtp_server):
    controller, inbox = smtp_server
    # 01办公室: two undated photos found one after the other (the first is the oldest finding)
    archive.write(f"{EVENT}/IMG_1.jpg", jpeg_bytes(color="red"))
    assert archive.run("check") == 1
    archive.write(f"{EVENT}/IMG_2.jpg", jpeg_bytes(color="green"))
    # 02教务处: the same photo as 01办公室's first (a duplicate whose first copy is not theirs to see)
    archive.write(f"{TEACH}/IMG_3.jpg", jpeg_bytes(color="red"))
    assert archive.run("check") == 1
    configure(archive, recipients=["admin@school.invalid"], smtp_host="127.0.0.1", smtp_port=controller.port,
              smtp_security="none", department_contacts={
                  OFFICE: ["office@school.invalid", "head@school.invalid"],
                  TEACHING: ["teaching@school.invalid"], TRAINING: ["training@school.invalid"]})

    code, out, err = run(archive, capsys, "report", "--send", "--out", str(archive.base / "reports"))
    assert code == 0, err
    by_rcpt = {tuple(rcpt): message for rcpt, message in inbox.messages}
    # the admins' report, and one digest per department with something open; 03实训处 has nothing: no mail
    assert set(by_rcpt) == {("admin@school.invalid",), ("head@school.invalid", "office@school.invalid"),
                            ("teaching@school.invalid",)}
    assert "03实训处 没有待整改的问题，未发送" in out

    office = _text(by_rcpt[("head@school.invalid", "office@school.invalid")])
    assert SCHOOL in office and OFFICE in office
    assert TEACHING not in office and "IMG_3" not in office
    first, second = office.index("IMG_1.jpg"), office.index("IMG_2.jpg")
    assert first < second  # oldest first
    assert re.search(r"\d\. 01办公室/A标准建设/A1校运动会/IMG_1\.jpg（已 0 天，", office)
    assert "改正方法" in office and re.search(r"\+08:00", office)
    # the folder's own finding (photos without a description) is the department's too
    assert "folder.no-description" in office

    teaching_message = by_rcpt[("teaching@school.invalid",)]
    teaching = _text(teaching_message) + _text(teaching_message, "text/html")
    assert "IMG_3.jpg" in teaching and OFFICE not in teaching  # the duplicate's first copy is not named
    assert "另一处室的一个文件" in teaching
    assert "admin@school.invalid" not in teaching and "office@school.invalid" not in teaching
    assert teaching_message["To"] == "teaching@school.invalid"

    # digest_when_empty: the department with nothing open is told so
    configure(archive, digest_when_empty=True)
    before = len(inbox.messages)
    code, out, err = run(archive, capsys, "report", "--digests", "--send", "--department", TRAINING)
    assert code == 0, err
    assert len(inbox.messages) == before + 1
    rcpt, message = inbox.messages[-1]
    assert rcpt == ["training@school.invalid"] and "没有待整改的问题" in _text(message)


def test_digest_preview_and_refusals(archive, capsys, tmp_path):
    archive.write(f"{EVENT}/IMG_1.jpg", jpeg_bytes(color="red"))
    archive.run("check")
    code, out, _ = run(archive, capsys, "report", "--digests", "--department", OFFICE, "--out", str(tmp_path))
    assert code == 0 and "预览，未发送" in out
    page = (tmp_path / f"digest-{OFFICE}.html").read_text(encoding="utf-8")
    assert SCHOOL not in page and "IMG_1.jpg" in page and "生成时间" in page
    # an unknown department is the user's mistake, said in words
    code, _, err = run(archive, capsys, "report", "--digests", "--department", "99无此处室")
    assert code == 2 and "99无此处室" in err
    # asked to send without an SMTP server: less than asked, so exit 1
    configure(archive, department_contacts={OFFICE: ["office@school.invalid"]})
    code, _, err = run(archive, capsys, "report", "--digests", "--send")
    assert code == 1 and "report.smtp_host" in err
    # contacts for a department the archive does not have: a config error
    configure(archive, department_contacts={"99无此处室": ["x@school.invalid"]})
    code, _, err = run(archive, capsys, "rules")
    assert code == 2 and "99无此处室" in err
    # two addresses in one item would reach the SMTP server as one bad address
    configure(archive, department_contacts={OFFICE: ["a@school.invalid, b@school.invalid"]})
    code, _, err = run(archive, capsys, "rules")
    assert code == 2 and "不是一个邮件地址" in err


# -- the scorecard ------------------------------------------------------------------------------
@pytest.fixture
def assessed(archive, capsys):
    """Two departments' records with known arrival lags, descriptions and findings; two findings of
    02教务处 opened and fixed at times the test sets (6 and 3 days to fix)."""
    from dangan.config import loader
    from dangan.store.catalog import Catalog

    configure(archive)
    made = {
        f"{EVENT}/{named(5, '开幕式')}.jpg": jpeg_bytes(color="red"),  # on time
        f"{EVENT}/{named(20, '入场')}.jpg": jpeg_bytes(color="green"),  # on time
        f"{EVENT}/{named(45, '颁奖')}.jpg": jpeg_bytes(color="yellow"),  # late: > one month
        f"{EVENT}/说明.docx": docx_bytes(GOOD_DESCRIPTION),
        f"{BARE}/{named(70, '公开课')}.jpg": jpeg_bytes(color="white"),  # late, in a folder without description
        f"{RULES}/考勤制度.txt": b"rules " * 50,
        f"{RULES}/值班制度.txt": b"duty " * 50,
        f"{CERTS}/{named(400, '教学能手证书')}.jpg": jpeg_bytes(color="black"),  # a scan, not an activity
        f"{TEACH}/课程标准.txt": b"standard " * 40,
        f"{TEACH}/IMG_7.jpg": jpeg_bytes(color="purple"),  # an activity photo without a date
    }
    for rel, data in made.items():
        archive.write(rel, data)
    code, out, _ = run(archive, capsys, "check", "--format", "json")
    found = json.loads(out)["violations"]
    config = loader.load(archive.config)
    fixes = []
    now = datetime.now(timezone.utc)
    with Catalog(archive.state / "catalog.sqlite") as catalog, catalog.transaction():
        for i, (opened, fixed) in enumerate(((10, 4), (5, 2))):
            path = f"{TEACH}/old{i}.doc".encode()
            stamp = (now - timedelta(days=opened)).isoformat(timespec="milliseconds")
            closed = (now - timedelta(days=fixed)).isoformat(timespec="milliseconds")
            catalog.sync_violations([(path, "format.mismatch", "error", "{}")], None, at=stamp, paths=[path])
            catalog.sync_violations([], None, at=closed, paths=[path])
            fixes.append(opened - fixed)
    return archive, config, made, found, fixes


def expected_rows(made: dict[str, bytes], found: list[dict], fixes: list[int]) -> dict[str, dict]:
    """The scorecard recomputed from what the test made and what `dangan check` reported."""
    today = datetime.now(ZONE).date()

    def lag_ok(name: str) -> bool | None:
        match = re.match(r"(\d{8})", name)
        if not match:
            return None
        day = datetime.strptime(match.group(1), "%Y%m%d").date()
        carry, month = divmod(day.month, 12)  # the next month, same day (or its last day)
        year, month = day.year + carry, month + 1
        return today <= date(year, month, min(day.day, calendar.monthrange(year, month)[1]))

    rows = {}
    for department in (OFFICE, TEACHING):
        records = [p for p in made if p.startswith(department + "/")]
        flagged = {v["path"] for v in found if v["path"] in records}
        activity = [p for p in records if p.endswith(".jpg") and "证书" not in p]
        lags = [lag_ok(p.rsplit("/", 1)[1]) for p in activity]
        dated = [ok for ok in lags if ok is not None]
        # a photo folder holds only photos and their description
        folders = {f for f in {p.rsplit("/", 1)[0] for p in activity}
                   if all(p.endswith((".jpg", ".docx")) for p in records if p.rsplit("/", 1)[0] == f)}
        described = {f for f in folders if any(p.startswith(f + "/") and p.endswith(".docx") for p in records)}
        by_rule: dict[str, int] = {}
        for v in found:
            if v["path"].startswith(department + "/"):
                by_rule[v["rule"]] = by_rule.get(v["rule"], 0) + 1
        rates = {"clean": (len(records) - len(flagged)) / len(records),
                 "on_time": sum(dated) / len(dated) if dated else None,
                 "described": len(described) / len(folders) if folders else None}
        weights = {"clean": 0.4, "on_time": 0.3, "described": 0.3}
        used = {k: r for k, r in rates.items() if r is not None}
        score = round(100 * sum(weights[k] * r for k, r in used.items()) / sum(weights[k] for k in used), 1)
        rows[department] = {"records": len(records), "filed": len(records), "open_by_rule": by_rule,
                            "activity": len(dated), "on_time": sum(dated), "undated": len(lags) - len(dated),
                            "photo_folders": len(folders), "described": len(described),
                            "clean_rate": rates["clean"], "on_time_rate": rates["on_time"],
                            "described_rate": rates["described"], "score": score,
                            "fixed": len(fixes) if department == TEACHING else 0,
                            "median_days_to_fix": statistics.median(fixes) if department == TEACHING else None}
    return rows


def test_scorecard_formula_recomputed_from_the_archive(assessed, capsys):
    archive, _, made, found, fixes = assessed
    code, out, _ = run(archive, capsys, "export", "assessment", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["school"] == SCHOOL and doc["period"]["to"] == datetime.now(ZONE).date().isoformat()
    assert "得分 = 100 ×（0.4 × 无问题率" in doc["formula"]
    rows = {row["department"]: row for row in doc["departments"]}
    expected = expected_rows(made, found, fixes)
    # the arrangement made the numbers non-trivial: some late, some undescribed, some fixed
    assert expected[OFFICE]["on_time"] == 2 and expected[OFFICE]["activity"] == 4
    assert expected[OFFICE]["described"] == 1 and expected[OFFICE]["photo_folders"] == 2
    assert expected[TEACHING]["undated"] == 1 and expected[TEACHING]["median_days_to_fix"] == 4.5
    for department, want in expected.items():
        got = rows[department]
        for key, value in want.items():
            assert got[key] == pytest.approx(value), (department, key, got[key], value)
    assert rows[TEACHING]["median_days_by_rule"] == {"format.mismatch": 4.5}
    assert rows[TRAINING]["score"] is None and rows[TRAINING]["records"] == 0
    # a period before anything arrived: nothing filed, no activity counted
    code, out, _ = run(archive, capsys, "export", "assessment", "--format", "json", "--period", "2020")
    early = {row["department"]: row for row in json.loads(out)["departments"]}
    assert early[OFFICE]["filed"] == 0 and early[OFFICE]["records"] == 0 and early[OFFICE]["score"] is None


def test_scorecard_workbook_and_page(assessed, capsys, tmp_path):
    from openpyxl import load_workbook

    archive, _, made, found, fixes = assessed
    expected = expected_rows(made, found, fixes)
    target = tmp_path / "考核.xlsx"
    code, out, _ = run(archive, capsys, "export", "assessment", "--out", str(target))
    assert code == 0 and str(target) in out
    sheet = load_workbook(target).active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0][0].startswith(SCHOOL) and "过程考核" in cells[0][0]
    assert re.fullmatch(r"生成时间：\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00", cells[2][0])
    header = cells[4]
    assert header[0] == "处室" and header[-1] == "得分"
    office = next(row for row in cells if row[0] == OFFICE)
    want = expected[OFFICE]
    assert office[1] == want["records"] and office[2] == want["filed"]
    assert office[3] == sum(want["open_by_rule"].values())
    assert office[7] == pytest.approx(want["clean_rate"]) and office[8] == pytest.approx(want["on_time_rate"])
    assert office[9] == pytest.approx(want["described_rate"]) and office[10] == pytest.approx(want["score"])
    rate_cell = next(row for row in sheet.iter_rows() if row[0].value == OFFICE)[7]
    assert rate_cell.number_format == "0.0%"
    teaching = next(row for row in cells if row[0] == TEACHING)
    assert teaching[5] == 2 and teaching[6] == pytest.approx(4.5) and teaching[8] is None
    assert any(row[0] and row[0].startswith("得分 = 100 ×") for row in cells[5:])

    # a folder as --out: the file goes into it under its usual name
    code, out, _ = run(archive, capsys, "export", "assessment", "--period", "2026", "--out", str(tmp_path))
    assert code == 0 and (tmp_path / "assessment-2026-01-01-2026-12-31.xlsx").is_file()

    page = tmp_path / "page.html"
    code, _, _ = run(archive, capsys, "export", "assessment", "--format", "html", "--out", str(page))
    html = page.read_text(encoding="utf-8")
    assert code == 0 and SCHOOL in html and "得分 = 100 ×" in html and "+08:00" in html
    score = f"{want['score']:.1f}"
    assert re.search(rf'aria-label="{OFFICE} {re.escape(score)}".*?<text[^>]*>{re.escape(score)}</text>', html)


def test_weekly_report_carries_the_scorecard(assessed, capsys, tmp_path):
    archive, _, made, found, fixes = assessed
    expected = expected_rows(made, found, fixes)
    code, _, err = run(archive, capsys, "report", "--out", str(tmp_path))
    assert code == 0, err
    html = next(tmp_path.glob("*.html")).read_text(encoding="utf-8")
    text = next(tmp_path.glob("*.txt")).read_text(encoding="utf-8")
    data = json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))
    assert '<table class="scorecard">' in html and "各处室过程考核" in html
    assert SCHOOL in html and SCHOOL in text  # the school's name, and the moment, with the section
    score = f"{expected[OFFICE]['score']:.1f}"
    # the score is written on its bar (print and mail drop tooltips), the formula under the table
    assert re.search(rf'<text[^>]*>{re.escape(score)}</text>', html)
    assert '<p class="formula">得分 = 100 ×' in html
    line = next(line for line in text.splitlines() if line.strip().startswith(f"{OFFICE}：得分"))
    assert f"得分 {score}" in line and "得分 = 100 ×" in text
    office = next(r for r in data["assessment"]["departments"] if r["department"] == OFFICE)
    assert office["score"] == pytest.approx(expected[OFFICE]["score"])


@pytest.mark.parametrize("args,words", [
    (["--period", "2026-13"], "--period 的值 2026-13 无效"),
    (["--from", "2026-05-01", "--to", "2026-04-01"], "早于开始日"),
    (["--period", "2026", "--from", "2026-01-01"], "不能与 --from/--to 同时使用"),
    (["--from", "2026/05/01"], "不是日期"),
])
def test_bad_periods_are_usage_errors(archive, capsys, args, words):
    code, _, err = run(archive, capsys, "export", "assessment", *args)
    assert code == 2 and words in err


def test_one_month_after():
    from dangan.registers.assessment import one_month_after

    assert one_month_after(date(2026, 1, 31)) == date(2026, 2, 28)
    assert one_month_after(date(2026, 12, 15)) == date(2027, 1, 15)
    assert one_month_after(date(2026, 5, 1)) == date(2026, 6, 1)


@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("pdftoppm") is None,
                    reason="Debian chromium and poppler-utils not installed (.ci/run installs them)")
def test_scorecard_page_printed(assessed, capsys, tmp_path):
    """The export page printed to A4 by headless Chromium: the score bars keep their colour on paper
    and the text layer carries the school, the scores and the formula."""
    from PIL import Image
    from test_report import CHROMIUM_FLAGS

    archive, _, made, found, fixes = assessed
    score = f"{expected_rows(made, found, fixes)[OFFICE]['score']:.1f}"
    page, pdf = tmp_path / "page.html", tmp_path / "page.pdf"
    assert run(archive, capsys, "export", "assessment", "--format", "html", "--out", str(page))[0] == 0
    done = subprocess.run(["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert pdf.exists(), done.stderr
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True, timeout=60)
    with Image.open(next(tmp_path.glob("p*.png"))) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
    blue = sum(n for n, (r, g, b) in colours if abs(r - 0x09) < 12 and abs(g - 0x69) < 12 and abs(b - 0xDA) < 12)
    assert blue > 100  # the bars, printed
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          timeout=60).stdout
    assert SCHOOL in text and "得分 = 100" in text.replace("\n", "")
    office = next(line for line in text.splitlines() if line.strip().startswith(OFFICE))
    assert office.rstrip().endswith(score)  # the number printed at the end of its bar
