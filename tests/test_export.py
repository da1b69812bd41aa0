"""Issue 17 items 1–4: `dangan export directory|transfer|statistics|appraisal`. Each register is made from
a real archive (files made by the makers, taken in by `dangan mirror`), opened as the office opens it
(openpyxl for the .xlsx) and held against the catalog; the printable page is rendered by headless
Chromium; the streaming writer's memory is measured."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from makers import TASK, docx_bytes, jpeg_bytes, text_pdf_bytes
from openpyxl import load_workbook

from dangan.config import loader
from dangan.store.catalog import Catalog

ZONE = ZoneInfo("Asia/Shanghai")  # the default config's timezone
YEAR = datetime.now(ZONE).year  # the open year; 2024 is a closed one
OTHER = "02教务处/B教学诊改/B1课程建设"
DIRECTORY_COLUMNS = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]


def pdf_pages(count: int, text: str = "page") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for n in range(count):
        pdf.add_page()
        pdf.cell(text=f"{text} {n}")
    return bytes(pdf.output())


def configure(archive, **settings) -> None:
    data = yaml.safe_load(archive.config.read_text(encoding="utf-8"))
    for key, value in settings.items():
        section, _, name = key.partition("__")
        if name:
            data.setdefault(section, {})[name] = value
        else:
            data[section] = value
    archive.config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def catalog_of(archive) -> Catalog:
    return Catalog(archive.state / "catalog.sqlite")


def export_json(archive, capsys, *args: str) -> dict:
    capsys.readouterr()
    assert archive.run("export", *args) == 0
    return json.loads(capsys.readouterr().out)


def json_rows(document: dict) -> list[dict]:
    return [row | {"caption": table["caption"]} for table in document["tables"] for row in table["rows"]]


def sheet_rows(path: Path) -> list[dict]:
    """The data rows of an exported .xlsx: each row under a header row, as {column: value}."""
    rows, header = [], None
    for values in load_workbook(path).active.iter_rows(values_only=True):
        if values and values[0] == "序号":
            header = list(values)
        elif header and values and isinstance(values[0], int):
            rows.append(dict(zip(header, values)))
        elif not values or values[0] is None:
            header = None
    return rows


@pytest.fixture
def filed(archive, capsys):
    """Two departments: a 3-page PDF with a 文号, a photo dated by EXIF, a file dated only by its time,
    records of the closed year 2024 and of this year; one department has a code, the other not."""
    configure(archive, school="冀州职教中心", registers__fonds_id="Z109",
              registers__department_codes={"01办公室": "BGS"},
              offsite__retention_rules={"通知": "D10", "会议": "D30"})
    archive.write(f"{TASK}/20240105关于印发制度的通知 冀职教〔2024〕3号.pdf", pdf_pages(3))
    archive.write(f"{TASK}/20240301会议纪要.pdf", text_pdf_bytes("minutes"))
    archive.write(f"{TASK}/IMG_0001.jpg", jpeg_bytes(taken="2024:05:06 10:00:00"))
    archive.write(f"{TASK}/工作总结.txt", b"summary", mtime=datetime(2024, 7, 8, 12).timestamp())
    archive.write(f"{TASK}/{YEAR}0102年度计划.pdf", pdf_pages(2))
    archive.write(f"{OTHER}/20240210课程标准.pdf", text_pdf_bytes("course"))
    archive.write(f"{OTHER}/20150910开学通知.pdf", text_pdf_bytes("old"))
    assert archive.run("mirror") in (0, 1)
    capsys.readouterr()
    return archive


def test_directory_xlsx_against_the_catalog(filed, tmp_path, capsys):
    out = tmp_path / "目录.xlsx"
    assert filed.run("export", "directory", "--out", str(out)) == 0
    book = load_workbook(out)
    sheet = book.active
    assert sheet["A1"].value == "归档文件目录"
    assert list(sheet.iter_rows(min_row=2, max_row=2, values_only=True))[0][:2] == ("学校", "冀州职教中心")
    made = list(sheet.iter_rows(min_row=2, max_row=2, values_only=True))[0][3]
    assert made.endswith("+08:00")
    rows = sheet_rows(out)
    headers = [list(r) for r in sheet.iter_rows(values_only=True) if r and r[0] == "序号"]
    assert all(h[:9] == DIRECTORY_COLUMNS for h in headers)
    with catalog_of(filed) as catalog:
        records = catalog.records()
        open_rules = {path: rule for path, rule in catalog.open_violations()}
    assert len(rows) == len(records)
    by_name = {r["题名"]: r for r in rows}
    notice = by_name["关于印发制度的通知"]
    assert notice["文号"] == "冀职教〔2024〕3号"
    assert notice["日期"] == "20240105" and notice["页数"] == 3 and notice["责任者"] == "01办公室"
    for row in rows:  # pages as the inspector counted them
        path = next(p for p in records if p.decode().endswith(row["题名"] + os.path.splitext(p.decode())[1])
                    or row["题名"] in p.decode())
        assert row["页数"] == json.loads(records[path].facts).get("pages")
    # dated by EXIF, by the file's time: and it says which
    photo = by_name["IMG_0001"]
    assert photo["日期"] == "20240506" and "EXIF" in photo["备注"]
    summary = by_name["工作总结"]
    assert summary["日期"] == "20240708" and "修改时间" in summary["备注"]
    # the photo's open finding (no date in its name) is in 备注, by the rule's title
    assert open_rules[f"{TASK}/IMG_0001.jpg".encode()] == "naming.date"
    assert "年月日" in photo["备注"]
    # 档号: 全宗号-门类代码·年度-保管期限-机构代码-件号, numbered by date then name within year/retention
    assert notice["档号"] == "Z109-WS·2024-D10-BGS-0001"
    assert by_name["会议纪要"]["档号"] == "Z109-WS·2024-D30-BGS-0001"
    permanent_2024 = sorted((r["日期"], r["档号"]) for r in rows
                            if r["责任者"] == "01办公室" and r["档号"].startswith("Z109-WS·2024-Y"))
    assert permanent_2024 == [("20240506", "Z109-WS·2024-Y-BGS-0001"), ("20240708", "Z109-WS·2024-Y-BGS-0002")]
    # without its department's code the column says what is missing
    assert by_name["课程标准"]["档号"] == "缺机构代码"
    notes = [r[0] for r in sheet.iter_rows(min_row=3, max_row=5, values_only=True)]
    assert any("registers.department_codes" in (n or "") and "02教务处" in (n or "") for n in notes)


def test_numbers_of_a_closed_year_are_kept(filed, capsys):
    def numbers() -> dict[str, int]:
        document = export_json(filed, capsys, "directory", "--department", "01办公室", "--year", "2024")
        return {row["题名"]: row["序号"] for row in json_rows(document) if row["caption"]["保管期限"] == "永久"}

    assert numbers() == {"IMG_0001": 1, "工作总结": 2}
    # a later arrival dated before both is numbered after them; a removal leaves its number unused
    filed.write(f"{TASK}/20240101元旦.pdf", text_pdf_bytes("late"))
    assert filed.run("mirror") in (0, 1)
    assert numbers() == {"IMG_0001": 1, "工作总结": 2, "元旦": 3}
    os.unlink(filed.path(f"{TASK}/IMG_0001.jpg"))
    assert filed.run("mirror") in (0, 1)
    filed.write(f"{TASK}/20240102新年.pdf", text_pdf_bytes("later"))
    assert filed.run("mirror") in (0, 1)
    assert numbers() == {"工作总结": 2, "元旦": 3, "新年": 4}
    # the open year is numbered afresh by date then name (provisional, and said so)
    filed.write(f"{TASK}/{YEAR}0101年初.pdf", text_pdf_bytes("open"))
    assert filed.run("mirror") in (0, 1)
    document = export_json(filed, capsys, "directory", "--year", str(YEAR))
    assert [(r["题名"], r["序号"]) for r in json_rows(document)] == [("年初", 1), ("年度计划", 2)]
    assert any("临时" in note for note in document["notes"])


def test_directory_filters(filed, capsys):
    by_department = json_rows(export_json(filed, capsys, "directory", "--department", "02教务处"))
    assert {r["责任者"] for r in by_department} == {"02教务处"} and len(by_department) == 2
    by_category = json_rows(export_json(filed, capsys, "directory", "--category", "B教学诊改"))
    assert {r["caption"]["类别"] for r in by_category} == {"B教学诊改"} and len(by_category) == 2
    by_year = json_rows(export_json(filed, capsys, "directory", "--year", "2015"))
    assert [r["题名"] for r in by_year] == ["开学通知"]
    # filtering never renumbers: the 2024 permanent records keep their numbers under --category
    full = {r["path"]: r["序号"] for r in json_rows(export_json(filed, capsys, "directory"))}
    part = json_rows(export_json(filed, capsys, "directory", "--category", "A标准建设", "--year", "2024"))
    assert all(full[r["path"]] == r["序号"] for r in part)
    # tables by year, retention and department, then category and task item, with the standard's cover
    tables = export_json(filed, capsys, "directory")["tables"]
    captions = [tuple(t["caption"][k] for k in ("年度", "保管期限", "机构", "类别", "任务项")) for t in tables]
    assert len(captions) == len(set(captions))
    assert all(t["caption"]["全宗名称"] == "冀州职教中心" for t in tables)


def ofd_bytes(pages: int) -> bytes:
    """A minimal OFD (GB/T 33190): OFD.xml naming its document, whose page list has ``pages`` pages."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as ofd:
        ofd.writestr("OFD.xml", '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0"><ofd:DocBody>'
                     "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        listed = "".join(f'<ofd:Page ID="{n}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(pages))
        ofd.writestr("Doc_0/Document.xml", '<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016">'
                     f"<ofd:Pages>{listed}</ofd:Pages></ofd:Document>")
        for n in range(pages):
            ofd.writestr(f"Doc_0/Pages/Page_{n}/Content.xml", "<ofd:Page/>")
    return out.getvalue()


def test_pages_of_word_and_ofd_documents(archive, capsys):
    """页数 from a Word file's declared pages (docProps/app.xml) and an OFD's page list."""
    word = io.BytesIO(docx_bytes("一页说明"))
    with zipfile.ZipFile(word) as source, zipfile.ZipFile(out := io.BytesIO(), "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/app.xml":
                data = data.replace(b"<Pages>1</Pages>", b"<Pages>4</Pages>")
            target.writestr(info, data)
    folder = "03实训处/C质量提升/C1实训基地"
    archive.write(f"{folder}/20240301实训方案.docx", out.getvalue())
    archive.write(f"{folder}/20240302验收报告.ofd", ofd_bytes(5))
    assert archive.run("mirror") in (0, 1)
    rows = json_rows(export_json(archive, capsys, "directory", "--department", "03实训处"))
    assert {r["题名"]: r["页数"] for r in rows} == {"实训方案": 4, "验收报告": 5}


def test_appraisal_lists_ended_retention_and_deletes_nothing(filed, capsys):
    document = export_json(filed, capsys, "appraisal")
    rows = json_rows(document)
    # 短期 (D10 in the config) of 2015 ended with 2025; 长期 (30 years) and 永久 have not
    assert [(r["题名"], r["保管期限"], r["到期年度"]) for r in rows] == [("开学通知", "短期", 2025)]
    assert rows[0]["caption"]["机构"] == "02教务处"
    assert filed.path(f"{OTHER}/20150910开学通知.pdf").exists()
    assert any("不会删除" in note for note in document["notes"])
    assert document["signatures"]
    # the years come from the config
    configure(filed, registers__retention_years={"短期": 12, "长期": 30})
    assert json_rows(export_json(filed, capsys, "appraisal")) == []


def test_transfer_register(filed, tmp_path, capsys):
    today = datetime.now(ZONE).date().isoformat()
    out = tmp_path / "移交.xlsx"
    assert filed.run("export", "transfer", "--department", "01办公室", "--from", today, "--to", today,
                     "--out", str(out)) == 0
    rows = sheet_rows(out)
    with catalog_of(filed) as catalog:
        records = catalog.records([b"01\xe5\x8a\x9e\xe5\x85\xac\xe5\xae\xa4"])
        flagged = {path for path, _ in catalog.open_violations([b"01\xe5\x8a\x9e\xe5\x85\xac\xe5\xae\xa4"])}
    listed = [r for r in rows if r["哈希"]]
    everything = listed[:len(records)]
    assert {r["文件名"]: (r["哈希"], r["字节"]) for r in everything} == {
        os.path.basename(p.decode()): (rec.hash, rec.size) for p, rec in records.items()}
    # the records still carrying findings are listed again under their own heading
    again = listed[len(records):]
    assert sorted(r["文件名"] for r in again) == sorted(os.path.basename(p.decode()) for p in flagged)
    cells = [c for row in load_workbook(out).active.iter_rows(values_only=True) for c in row if c is not None]
    photos = [rec for p, rec in records.items() if p.endswith(b".jpg")]
    assert "照片" in cells and f"{len(photos)} 件，{sum(r.size for r in photos)} 字节" in cells
    assert f"{len(records)} 件，{sum(r.size for r in records.values())} 字节" in cells
    assert {"移交人", "接收人", "日期"} <= set(cells)
    # a task item instead of a period; nothing before the records arrived
    by_task = json_rows(export_json(filed, capsys, "transfer", "--department", "02教务处", "--task", "B1课程建设"))
    assert sorted(r["题名"] for r in by_task if r["caption"].get("移交部门")) == ["开学通知", "课程标准"]
    by_path = export_json(filed, capsys, "transfer", "--department", "02教务处", "--task", "B教学诊改/B1课程建设")
    assert [r["path"] for r in json_rows(by_path)] == [r["path"] for r in by_task]
    before = export_json(filed, capsys, "transfer", "--department", "01办公室", "--to", "2020-01-01")
    assert json_rows(before) == [] and before["notes"]


def test_statistics_recomputed_from_the_ledger(filed, capsys):
    filed.write(f"{TASK}/20240301会议纪要.pdf", text_pdf_bytes("minutes, amended"))
    os.unlink(filed.path(f"{OTHER}/20240210课程标准.pdf"))
    os.rename(filed.path(f"{TASK}/工作总结.txt"), filed.path(f"{TASK}/20240708工作总结.txt"))
    assert filed.run("mirror") in (0, 1)
    document = export_json(filed, capsys, "statistics")
    with catalog_of(filed) as catalog:
        events = catalog.events()
    expected: dict[tuple[str, str], dict[str, int]] = {}
    for at, event, path, _ in events:
        month = datetime.fromisoformat(at).astimezone(loader.load(filed.config).tz).strftime("%Y-%m")
        counts = expected.setdefault((path.decode().split("/")[0], month), {})
        counts[event] = counts.get(event, 0) + 1
    got = {(t["caption"]["机构"], r["月份"]): {e: r[label] for e, label in
                                              (("intake", "收进"), ("change", "修改"), ("move", "移动"),
                                               ("removal", "移出"), ("restore", "恢复")) if r[label]}
           for t in document["tables"] for r in t["rows"] if r["月份"] != "合计"}
    assert got == expected
    assert any(c.get("change") for c in got.values()) and any(c.get("removal") for c in got.values())
    assert any(c.get("move") for c in got.values())
    office = next(t for t in document["tables"] if t["caption"]["机构"] == "01办公室")
    total = office["rows"][-1]
    sizes = {p.name: p.stat().st_size for p in filed.path(TASK).iterdir()}
    assert total["月份"] == "合计" and total["收进字节"] == sum(sizes.values()) - sizes["20240708工作总结.txt"] \
        - sizes["20240301会议纪要.pdf"] + len(text_pdf_bytes("minutes")) + len(b"summary")
    only = export_json(filed, capsys, "statistics", "--department", "02教务处")
    assert [t["caption"]["机构"] for t in only["tables"]] == ["02教务处"]
    assert export_json(filed, capsys, "statistics", "--to", "2020-12-31")["tables"] == []  # before anything


def test_hostile_names_stay_text(filed, tmp_path, capsys):
    """A name with a terminal escape and markup: shown escaped in the .xlsx (openpyxl refuses control
    characters) and as text in the page; JSON keeps it exact."""
    name = "20240601<b>粗体\x1b[31m红.txt"
    filed.write(f"{TASK}/{name}", b"hostile")
    assert filed.run("mirror") in (0, 1)
    out, page = tmp_path / "d.xlsx", tmp_path / "d.html"
    assert filed.run("export", "directory", "--out", str(out)) == 0
    assert "<b>粗体\\x1b[31m红" in [r["题名"] for r in sheet_rows(out)]
    assert filed.run("export", "directory", "--out", str(page)) == 0
    assert "&lt;b&gt;粗体\\x1b[31m红" in page.read_text(encoding="utf-8")
    rows = json_rows(export_json(filed, capsys, "directory"))
    assert f"{TASK}/{name}" in [r["path"] for r in rows]


def test_statistics_count_a_repaired_primary_as_restored(filed, capsys):
    """A primary copy that rotted (new content, same size and time) put back from the mirror by
    `dangan audit --repair` is a 恢复 in the statistics, with its bytes."""
    target = filed.path(f"{TASK}/20240301会议纪要.pdf")
    stat = target.stat()
    data = bytearray(target.read_bytes())
    data[-20] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    filed.run("audit", "--repair")
    office = next(t for t in export_json(filed, capsys, "statistics")["tables"] if t["caption"]["机构"] == "01办公室")
    assert office["rows"][-1]["恢复"] == 1 and office["rows"][-1]["恢复字节"] == stat.st_size


def test_usage_errors_and_the_out_file(filed, tmp_path, capsys):
    assert filed.run("export", "directory", "--format", "xlsx") == 2  # an .xlsx needs a file
    assert filed.run("export", "transfer", "--department", "01办公室") == 2  # no period, no task
    assert filed.run("export", "directory", "--department", "99无此处室") == 2
    assert filed.run("export", "directory", "--out", str(tmp_path / "x.doc")) == 2
    assert filed.run("export", "transfer", "--department", "01办公室", "--from", "2024-13-01") == 2
    (tmp_path / "folder.html").mkdir()
    assert filed.run("export", "directory", "--out", str(tmp_path / "folder.html")) == 2
    err = capsys.readouterr().err
    assert "folder.html" in err and "Traceback" not in err  # the name given, not a temp's
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dangan-tmp")]
    # a symlink planted at the output name is replaced, never written through
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    link = tmp_path / "目录.html"
    link.symlink_to(outside)
    assert filed.run("export", "directory", "--out", str(link)) == 0
    assert outside.read_text() == "keep me" and not link.is_symlink()
    assert "归档文件目录" in link.read_text(encoding="utf-8")


def test_retention_codes_are_accepted_in_the_config(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("archive_root: /a\nmirror_root: /m\nstate_dir: /s\n"
                      "offsite: {retention_default: D30, retention_rules: {通知: D10, 决定: Y}}\n", encoding="utf-8")
    loaded = loader.load(config).offsite
    assert (loaded.retention_default, loaded.retention_rules) == ("长期", {"通知": "短期", "决定": "永久"})


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("pdftotext") is None,
                    reason="Debian chromium and poppler-utils not installed (.ci/run installs them)")
def test_printable_page_in_chromium(filed, tmp_path):
    """The directory as a reader sees it (a screenshot) and prints it (A4 PDF by `--format pdf`, by
    Chromium itself); the printed text carries the cover and the rows."""
    from PIL import Image

    page, pdf = tmp_path / "目录.html", tmp_path / "目录.pdf"
    assert filed.run("export", "directory", "--out", str(page)) == 0
    assert filed.run("export", "directory", "--format", "pdf", "--out", str(pdf)) == 0
    shot = tmp_path / "shot.png"
    done = subprocess.run(["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           f"--screenshot={shot}", "--window-size=1280,1600", "--hide-scrollbars", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert shot.exists(), done.stderr
    with Image.open(shot) as image:
        assert image.size == (1280, 1600)
        assert len(image.convert("L").getcolors(maxcolors=1 << 16) or []) > 10  # text drawn, not a blank page
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    assert "归档文件目录" in text and "冀州职教中心" in text and "Z109-WS·2024-D10-BGS-0001" in text
    assert "(A4)" in subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60).stdout
    if os.environ.get("DANGAN_KEEP_SHOTS"):
        shutil.copy(shot, os.environ["DANGAN_KEEP_SHOTS"])


STREAM_PROBE = """
import sys
from pathlib import Path
from dangan.registers.sheet import Register, Row, Table, save
rows = int(sys.argv[1])
cells = lambda n: Row([n, f"Z109-WS·2024-Y-BGS-{n:06d}", "", "01办公室", f"第{n}份文件的题名", "20240105", "", 3, ""])
table = Table([("年度", "2024")], ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"],
              (cells(n) for n in range(1, rows + 1)))
save(Register("directory", "归档文件目录", "学校", "now", iter([table])), "xlsx", Path(sys.argv[2]))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent (pytest itself)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) // 1024)
"""


def test_xlsx_streams_in_bounded_memory(tmp_path):
    """The write-only writer holds no rows: five times the rows, the same peak RSS (give or take a few MiB;
    the 1,000,000-row figure is bench/export_bench.py's), and every row is in the file."""
    peaks = {}
    for rows in (4000, 20000):
        out = tmp_path / f"{rows}.xlsx"
        done = subprocess.run([sys.executable, "-c", STREAM_PROBE, str(rows), str(out)], capture_output=True,
                              text=True, timeout=300, check=True)
        peaks[rows] = int(done.stdout.strip())
    assert peaks[20000] - peaks[4000] < 8, peaks
    assert peaks[20000] < 120, peaks
    with zipfile.ZipFile(out) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert sheet.count("<row ") == 20000 + 5  # title, school, blank, cover, header and "第20000份文件的题名" in sheet
