"""Every filing rule against real files: the exact rule ids, and no violation for clean files."""

from __future__ import annotations

import io
import os
import time
import zipfile
from datetime import datetime, timedelta

import pytest
from makers import (CERT, GOOD_DESCRIPTION, TASK, docx_bytes, image_pdf_bytes, jpeg_bytes, rules_of,
                      text_pdf_bytes)


def test_clean_archive_has_no_violation(archive, capsys):
    archive.write(f"{TASK}/20210205校运动会开幕式.jpg", jpeg_bytes(taken="2021:02:05 09:00:00"))
    archive.write(f"{TASK}/说明.docx", docx_bytes(GOOD_DESCRIPTION))
    archive.write(f"{TASK}/会议纪要.pdf", text_pdf_bytes())
    archive.write(f"{CERT}/张三优秀教师证书.pdf", image_pdf_bytes(camera=False, dpi=300))
    archive.write(f"{CERT}/李四获奖证书.jpg", jpeg_bytes(dpi=300, scanner="Perfection V600 Photo"))
    archive.write(f"{TASK}/~$会议纪要.docx", b"lock file of an open Word document")
    code, report = archive.check(capsys=capsys)
    assert report["violations"] == []
    assert report["files_checked"] == 5  # the Office lock file is ignored, not counted
    assert code == 0


def test_structure_rules(archive, capsys):
    archive.write("杂项/A标准建设/任务/20210101a.jpg", jpeg_bytes())
    archive.write("01办公室/其他类/任务/20210101b.jpg", jpeg_bytes(color="red"))
    archive.write("01办公室/A标准建设/放错了.pdf", text_pdf_bytes("x"))
    archive.write("01办公室/顶层.pdf", text_pdf_bytes("y"))
    archive.write("根目录.pdf", text_pdf_bytes("z"))
    code, report = archive.check(capsys=capsys)
    assert code == 1
    assert rules_of(report, "杂项") == ["structure.department"]
    assert rules_of(report, "01办公室/其他类") == ["structure.category"]
    assert rules_of(report, "01办公室/A标准建设/放错了.pdf") == ["structure.depth"]
    assert rules_of(report, "01办公室/顶层.pdf") == ["structure.depth"]
    assert rules_of(report, "根目录.pdf") == ["structure.depth"]
    # a file inside an unknown department is judged once, at the folder, not file by file
    assert rules_of(report, "杂项/A标准建设/任务/20210101a.jpg") == []


@pytest.mark.parametrize(
    "name, variant",
    [
        ("IMG_0001.jpg", "missing"),
        ("20211345运动会.jpg", "invalid"),
        ("20210230运动会.mp4", "invalid"),
        ("20210205.jpg", "no_content"),
        ("20210205_.mp3", "no_content"),
    ],
)
def test_naming_date_flags_bad_names(archive, capsys, name, variant):
    data = jpeg_bytes(taken="2021:02:05 09:00:00") if name.endswith(".jpg") else b"ID3" + os.urandom(64)
    archive.write(f"{TASK}/{name}", data)
    archive.write(f"{TASK}/说明.docx", docx_bytes(GOOD_DESCRIPTION))
    code, report = archive.check(capsys=capsys)
    found = [v for v in report["violations"] if v["rule"] == "naming.date"]
    assert [v["path"] for v in found] == [f"{TASK}/{name}"]
    assert code == 1


def test_naming_date_future_and_hint_from_exif(archive, capsys):
    future = (datetime.now() + timedelta(days=400)).strftime("%Y%m%d")
    archive.write(f"{TASK}/{future}未来.jpg", jpeg_bytes())
    archive.write(f"{TASK}/IMG_0002.jpg", jpeg_bytes(taken="2019:06:01 10:00:00", color="red"))
    old = time.mktime((2020, 3, 4, 12, 0, 0, 0, 0, -1))
    archive.write(f"{TASK}/DSC_0003.jpg", jpeg_bytes(color="green"), mtime=old)
    archive.write(f"{TASK}/说明.docx", docx_bytes(GOOD_DESCRIPTION))
    _, report = archive.check(capsys=capsys)
    by_path = {v["path"]: v for v in report["violations"] if v["rule"] == "naming.date"}
    assert "将来" in by_path[f"{TASK}/{future}未来.jpg"]["message"]
    assert "20190601IMG_0002.jpg" in by_path[f"{TASK}/IMG_0002.jpg"]["hint"]
    assert "EXIF" in by_path[f"{TASK}/IMG_0002.jpg"]["hint"]
    assert "20200304DSC_0003.jpg" in by_path[f"{TASK}/DSC_0003.jpg"]["hint"]


def test_naming_date_not_applied_in_scan_context_or_to_documents(archive, capsys):
    archive.write(f"{CERT}/王五证书.jpg", jpeg_bytes(dpi=300))
    archive.write(f"{TASK}/工作总结.pdf", text_pdf_bytes())
    _, report = archive.check(capsys=capsys)
    assert report["violations"] == []


def test_naming_encoding_gbk_name(archive, capsys):
    gbk = "20210205校运动会.jpg".encode("gbk")
    archive.write(os.fsencode(TASK) + b"/" + gbk, jpeg_bytes())
    archive.write(f"{TASK}/说明.docx", docx_bytes(GOOD_DESCRIPTION))
    code, report = archive.check(capsys=capsys)
    found = [v for v in report["violations"] if v["rule"] == "naming.encoding"]
    assert len(found) == 1
    assert "\\x" in found[0]["path"]  # shown readably, byte by byte
    assert "20210205校运动会.jpg" in found[0]["hint"]  # the likely meaning, proposed as the new name
    import base64

    assert base64.b64decode(found[0]["path_base64"]) == os.fsencode(TASK) + b"/" + gbk
    assert code == 1


def test_naming_too_long(archive, capsys):
    long_name = "会议纪要" * 13 + ".pdf"  # 52 CJK characters: 160 bytes
    archive.write(f"{TASK}/{long_name}", text_pdf_bytes())
    code, report = archive.check(capsys=capsys)
    assert rules_of(report, f"{TASK}/{long_name}") == ["naming.too-long"]
    assert code == 0  # a warning: the off-site copy still carries it, but it should be shortened


def test_format_rules(archive, capsys):
    archive.write(f"{TASK}/程序.exe", b"MZ\x90\x00" + os.urandom(100))
    archive.write(f"{TASK}/照片其实是.pdf", jpeg_bytes())
    archive.write(f"{TASK}/没有扩展名", b"plain")
    archive.write(f"{TASK}/纪要.docx", b"this is not a docx at all")
    code, report = archive.check(capsys=capsys)
    assert rules_of(report, f"{TASK}/程序.exe") == ["format.not-allowed"]
    assert rules_of(report, f"{TASK}/照片其实是.pdf") == ["format.mismatch"]
    mismatch = next(v for v in report["violations"] if v["path"] == f"{TASK}/照片其实是.pdf")
    assert "JPG" in mismatch["message"] and ".jpg" in mismatch["hint"]
    assert rules_of(report, f"{TASK}/没有扩展名") == ["format.not-allowed"]
    assert rules_of(report, f"{TASK}/纪要.docx") == ["format.mismatch"]
    assert code == 1


def test_scan_camera_and_resolution(archive, capsys):
    archive.write(f"{CERT}/手机拍的证书.jpg", jpeg_bytes(camera=True, dpi=72))
    archive.write(f"{CERT}/低分辨率证书.jpg", jpeg_bytes(dpi=150))
    archive.write(f"{CERT}/没有分辨率证书.png", _png_without_dpi())
    archive.write(f"{CERT}/手机扫描王证书.pdf", image_pdf_bytes(camera=True, dpi=300))
    archive.write(f"{CERT}/低分辨率扫描证书.pdf", image_pdf_bytes(camera=False, dpi=100))
    archive.write(f"{CERT}/合格证书.pdf", image_pdf_bytes(camera=False, dpi=300))
    code, report = archive.check(capsys=capsys)
    assert rules_of(report, f"{CERT}/手机拍的证书.jpg") == ["scan.camera"]
    assert "iPhone" in next(v for v in report["violations"] if v["rule"] == "scan.camera")["message"]
    assert rules_of(report, f"{CERT}/低分辨率证书.jpg") == ["scan.resolution"]
    assert rules_of(report, f"{CERT}/没有分辨率证书.png") == ["scan.resolution"]
    assert rules_of(report, f"{CERT}/手机扫描王证书.pdf") == ["scan.camera"]
    assert rules_of(report, f"{CERT}/低分辨率扫描证书.pdf") == ["scan.resolution"]
    assert rules_of(report, f"{CERT}/合格证书.pdf") == []
    assert code == 1


def test_camera_photo_outside_scan_context_is_fine(archive, capsys):
    archive.write(f"{TASK}/20210205升旗仪式.jpg", jpeg_bytes(camera=True, dpi=72))
    archive.write(f"{TASK}/说明.docx", docx_bytes(GOOD_DESCRIPTION))
    code, report = archive.check(capsys=capsys)
    assert report["violations"] == [] and code == 0


def _png_without_dpi() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(out, "PNG")
    return out.getvalue()


def test_readable_corrupt(archive, capsys):
    jpeg = jpeg_bytes(size=(800, 600))
    archive.write(f"{TASK}/20210205截断.jpg", jpeg[: len(jpeg) // 2])
    pdf = text_pdf_bytes()
    archive.write(f"{TASK}/截断.pdf", pdf[: len(pdf) // 2])
    archive.write(f"{TASK}/空文件.pdf", b"")
    good_docx = docx_bytes("正文")
    damaged = bytearray(good_docx)
    damaged[len(damaged) // 3] ^= 0xFF  # flip a byte inside a compressed member
    archive.write(f"{TASK}/损坏.docx", bytes(damaged))
    code, report = archive.check(capsys=capsys)
    assert "readable.corrupt" in rules_of(report, f"{TASK}/20210205截断.jpg")
    assert rules_of(report, f"{TASK}/截断.pdf") == ["readable.corrupt"]
    assert rules_of(report, f"{TASK}/空文件.pdf") == ["readable.corrupt"]
    assert rules_of(report, f"{TASK}/损坏.docx") == ["readable.corrupt"]
    assert code == 1


def test_readable_corrupt_mid_pdf(archive, capsys):
    """Damage in the middle of a PDF, which pypdf's default mode opens silently (19 or 20 of 20
    pages) and whose damaged compressed streams it salvages without a word: all must be caught."""
    from fpdf import FPDF

    pdf = FPDF()
    for i in range(20):
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.cell(text=f"page {i}")
    data = bytes(pdf.output())
    archive.write(f"{TASK}/完好.pdf", data)
    middle = len(data) // 2
    names = []
    for offset in range(-200, 200, 37):
        damaged = bytearray(data)
        damaged[middle + offset : middle + offset + 40] = b"#" * 40
        names.append(f"{TASK}/损坏{offset}.pdf")
        archive.write(names[-1], bytes(damaged))
    _, report = archive.check(capsys=capsys)
    assert rules_of(report, f"{TASK}/完好.pdf") == []
    for name in names:
        assert rules_of(report, name) == ["readable.corrupt"], name


def test_readable_encrypted(archive, capsys, tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf_bytes())))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    archive.write(f"{TASK}/加密.pdf", out.getvalue())
    plain = tmp_path / "plain.docx"
    plain.write_bytes(docx_bytes("机密"))
    encrypted = io.BytesIO()
    with plain.open("rb") as f:
        OOXMLFile(f).encrypt("secret", encrypted)
    archive.write(f"{TASK}/加密.docx", encrypted.getvalue())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("OFD.xml", "<ofd/>")
    archive.write(f"{TASK}/公文.ofd", buffer.getvalue())
    code, report = archive.check(capsys=capsys)
    assert rules_of(report, f"{TASK}/加密.pdf") == ["readable.encrypted"]
    assert rules_of(report, f"{TASK}/加密.docx") == ["readable.encrypted"]
    assert rules_of(report, f"{TASK}/公文.ofd") == []
    assert code == 1


def test_folder_without_description(archive, capsys):
    only_photos = "03实训处/C质量提升/C1技能大赛"
    archive.write(f"{only_photos}/20210301比赛现场.jpg", jpeg_bytes())
    archive.write(f"{only_photos}/20210301颁奖.mp4", b"\x00\x00\x00\x18ftypmp42" + os.urandom(64))
    partial = "03实训处/C质量提升/C2参观"
    archive.write(f"{partial}/20210302参观.jpg", jpeg_bytes(color="red"))
    archive.write(f"{partial}/说明.docx", docx_bytes("时间：3月2日\n地点：工厂"))
    complete = "03实训处/C质量提升/C3讲座"
    archive.write(f"{complete}/20210303讲座.jpg", jpeg_bytes(color="green"))
    archive.write(f"{complete}/说明.docx", docx_bytes(GOOD_DESCRIPTION))
    mixed = "03实训处/C质量提升/C4方案"
    archive.write(f"{mixed}/20210304现场.jpg", jpeg_bytes(color="yellow"))
    archive.write(f"{mixed}/方案.pdf", text_pdf_bytes())
    code, report = archive.check(capsys=capsys)
    missing = [v for v in report["violations"] if v["path"] == only_photos]
    assert [(v["rule"], v["severity"]) for v in missing] == [("folder.no-description", "error")]
    fields = [v for v in report["violations"] if v["path"] == partial]
    assert [(v["rule"], v["severity"]) for v in fields] == [("folder.no-description", "warning")]
    assert "参加人" in fields[0]["message"] and "结果" in fields[0]["message"]
    assert rules_of(report, complete) == [] and rules_of(report, mixed) == []
    assert code == 1


def test_duplicate_is_a_warning(archive, capsys):
    pdf = text_pdf_bytes("the same content")
    archive.write(f"{TASK}/通知.pdf", pdf)
    archive.write("02教务处/A标准建设/A2/通知副本.pdf", pdf)
    code, report = archive.check(capsys=capsys)
    found = [v for v in report["violations"] if v["rule"] == "duplicate"]
    assert [(v["path"], v["severity"]) for v in found] == [("02教务处/A标准建设/A2/通知副本.pdf", "warning")]
    assert TASK in found[0]["message"]
    assert code == 0


def test_config_turns_rules_off_and_changes_severity(archive, capsys):
    text = archive.config.read_text(encoding="utf-8")
    text = text.replace("  disabled: []", "  disabled: [format.not-allowed]")
    text = text.replace("  severity: {}", "  severity: {structure.depth: warning}")
    archive.config.write_text(text, encoding="utf-8")
    archive.write("01办公室/程序.exe", b"MZ")
    code, report = archive.check(capsys=capsys)
    assert [(v["rule"], v["severity"]) for v in report["violations"]] == [("structure.depth", "warning")]
    assert code == 0


def test_text_output_grouped_by_department_in_chinese(archive, capsys):
    archive.write(f"{TASK}/IMG_1.jpg", jpeg_bytes())
    archive.write("02教务处/B教学诊改/B1/程序.exe", b"MZ")
    capsys.readouterr()
    code = archive.run("check")
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[0].startswith("共检查 2 个文件")
    assert "【01办公室】" in out and "【02教务处】" in out
    assert out.index("各处室问题数") < out.index("【01办公室】") < out.index("【02教务处】")
    assert "改正方法" in out


def test_english_output(archive, capsys):
    text = archive.config.read_text(encoding="utf-8").replace("language: zh", "language: en")
    archive.config.write_text(text, encoding="utf-8")
    archive.write(f"{TASK}/IMG_1.jpg", jpeg_bytes())
    _, report = archive.check(capsys=capsys)
    messages = [v["message"] for v in report["violations"]]
    assert any("does not start with a date" in m for m in messages)
