"""The filing rules on files nobody here designed them around (issue 14): office copiers are not cameras,
damaged legacy Office files are found, format variants are known, damage only a stricter reader sees is
found, a codec this build lacks is "could not verify", resolutions are per axis and never invented,
owner-only PDF restrictions are told from passwords, and messages read as words.

Every file is real, made here by the libraries that make such files (Pillow, pypdf, fpdf2, xlwt,
msoffcrypto-tool, python-docx), then damaged the way those projects damage their own fixtures."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from makers import TASK

SCAN = f"{TASK}/获奖证书"  # a scan-only context
XRES, YRES, RESUNIT, MAKE, MODEL = 0x011A, 0x011B, 0x0128, 0x010F, 0x0110
EXIF_IFD, EXPOSURE, FNUMBER, ISO = 0x8769, 0x829A, 0x829D, 0x8827


def _jpeg(make: str | bytes | None = None, model: str | None = None, shot: bool = False, gps: bool = False,
          dpi: tuple[int, int] | None = (300, 300), size=(400, 300)) -> bytes:
    from PIL import Image

    im = Image.effect_noise(size, 40).convert("RGB")
    exif = Image.Exif()
    if make is not None:
        exif[MAKE] = make
    if model is not None:
        exif[MODEL] = model
    if shot:
        exif.get_ifd(EXIF_IFD).update({EXPOSURE: 1 / 60, FNUMBER: 1.8, ISO: 100})
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: (39.0, 54.0, 0.0)})
    out = io.BytesIO()
    kwargs = {"dpi": dpi} if dpi else {}
    im.save(out, "JPEG", exif=exif, quality=85, **kwargs)
    return out.getvalue()


def _findings(archive, capsys, rel: str) -> dict[str, dict]:
    code, report = archive.check(str(archive.path(rel)), capsys=capsys)
    return {v["rule"]: v for v in report["violations"]}


# -- 1. copiers are not cameras -------------------------------------------------------------
COPIERS = [("RICOH", "IM C3000"), ("KYOCERA", "TASKalfa 3253ci"), ("Canon", "iR-ADV C5535"),
           ("KONICA MINOLTA", "bizhub C300i"), ("SHARP", "MX-M3551"), ("TOSHIBA", "e-STUDIO2010AC"),
           ("FUJIFILM", "Apeos C2360"), ("FUJI XEROX", "DocuCentre-VI C2271"), ("Xerox", "AltaLink C8130"),
           ("Brother", "MFC-L2710DW"), ("Pantum", "M7160DW"), ("Lenovo", "M7400 Pro"),
           ("HP", "LaserJet MFP M437"), ("HP", "OfficeJet Pro 9010"), ("HP", "Photosmart 7520"),
           ("EPSON", "L6178"), ("Avision", "AD240"), ("Plustek", "OpticSlim 2680H"), ("PFU", "fi-7160"),
           ("Hanvon", "HW-S8"), ("Unis", "F3135"), ("Founder", "Z8000")]


@pytest.mark.parametrize("make,model", COPIERS)
def test_office_copiers_and_scanners_are_not_cameras(archive, capsys, make, model):
    archive.write(f"{SCAN}/{make}.jpg", _jpeg(make, model))
    assert "scan.camera" not in _findings(archive, capsys, f"{SCAN}/{make}.jpg")


@pytest.mark.parametrize("make,model", [("Apple", "iPhone 13"), ("Canon", "EOS 80D"), ("RICOH", "GR III"),
                                        ("FUJIFILM", "X-T4"), ("HUAWEI", "ELS-AN00")])
def test_a_photo_through_a_lens_is_refused_whoever_made_the_camera(archive, capsys, make, model):
    archive.write(f"{SCAN}/photo.jpg", _jpeg(make, model, shot=True))
    finding = _findings(archive, capsys, f"{SCAN}/photo.jpg")["scan.camera"]
    assert finding["severity"] == "error" and "ExposureTime" in finding["message"]


def test_gps_alone_is_camera_evidence(archive, capsys):
    archive.write(f"{SCAN}/gps.jpg", _jpeg("Xiaomi", "M2012K11AC", gps=True))
    assert _findings(archive, capsys, f"{SCAN}/gps.jpg")["scan.camera"]["severity"] == "error"


def test_a_phone_maker_alone_is_a_warning_not_an_error(archive, capsys):
    archive.write(f"{SCAN}/app.jpg", _jpeg("HUAWEI", "ELS-AN00"))
    finding = _findings(archive, capsys, f"{SCAN}/app.jpg")["scan.camera"]
    assert finding["severity"] == "warning" and "可能" in finding["message"]


def test_make_bytes_that_are_not_text_are_cleaned(archive, capsys):
    archive.write(f"{SCAN}/raw.jpg", _jpeg("Apple\x00\x01\x1b[2J", "iPhone\x00\x00", shot=True))
    message = _findings(archive, capsys, f"{SCAN}/raw.jpg")["scan.camera"]["message"]
    assert "\x00" not in message and "\x1b" not in message and "Apple iPhone" in message


# -- 2. legacy Office compound files --------------------------------------------------------
def _xls() -> bytes:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("名单")
    for row in range(200):
        sheet.write(row, 0, f"第 {row} 行")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _encrypted_docx() -> bytes:
    import docx
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("时间：2021年2月5日 地点：操场")
    document.save(plain)
    plain.seek(0)
    sealed = io.BytesIO()
    OOXMLFile(plain).encrypt("密码123", sealed)
    return sealed.getvalue()


def test_a_valid_xls_passes(archive, capsys):
    archive.write(f"{TASK}/名单.xls", _xls())
    assert not _findings(archive, capsys, f"{TASK}/名单.xls")


@pytest.mark.parametrize("damage", ["truncated", "sectors_zeroed"])
def test_damaged_compound_files_are_corrupt(archive, capsys, damage):
    data = bytearray(_xls())
    if damage == "truncated":
        data = data[: len(data) * 2 // 3]
    else:  # the way olefile's and oletools' fixtures are damaged: a run of sectors zeroed
        data[1024:3072] = bytes(2048)
    for ext in ("xls", "et"):
        archive.write(f"{TASK}/坏.{ext}", bytes(data))
        found = _findings(archive, capsys, f"{TASK}/坏.{ext}")
        assert found["readable.corrupt"]["severity"] == "error", (ext, found)
        assert "format.mismatch" not in found


def test_a_truncated_encrypted_docx_is_corrupt_not_silent(archive, capsys):
    data = _encrypted_docx()
    archive.write(f"{TASK}/加密.docx", data)
    assert "readable.encrypted" in _findings(archive, capsys, f"{TASK}/加密.docx")
    archive.write(f"{TASK}/加密.docx", data[: len(data) // 2])
    assert "readable.corrupt" in _findings(archive, capsys, f"{TASK}/加密.docx")


def test_a_legacy_file_renamed_to_its_ooxml_name_is_a_mismatch(archive, capsys):
    archive.write(f"{TASK}/名单.xlsx", _xls())
    finding = _findings(archive, capsys, f"{TASK}/名单.xlsx")["format.mismatch"]
    assert ".xls" in finding["hint"]
    archive.write(f"{TASK}/名单.doc", _xls())  # an Excel workbook under a Word name
    assert "XLS" in _findings(archive, capsys, f"{TASK}/名单.doc")["format.mismatch"]["message"]


def test_ooxml_part_names_written_with_backslashes_and_other_case_are_still_their_type(archive, capsys):
    """Some writers store "xl\\workbook.xml" or "[content_types].xml" (xlrd's apachepoi_49609.xlsx; Excel, POI and
    xlrd open them): the package is still a workbook, not a bare ZIP — and still not a Word document."""
    import zipfile

    import docx

    plain = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("时间：2021年2月5日")
    document.save(plain)
    odd = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(odd, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename.replace("/", "\\").replace("Content_Types", "content_types"), src.read(info))
    archive.write(f"{TASK}/20210205说明.docx", odd.getvalue())
    assert not _findings(archive, capsys, f"{TASK}/20210205说明.docx")
    archive.write(f"{TASK}/20210205说明.xlsx", odd.getvalue())
    assert "DOCX" in _findings(archive, capsys, f"{TASK}/20210205说明.xlsx")["format.mismatch"]["message"]


# -- 3. variants of each format; damage in the family is corrupt, not mismatched ------------
def _png(frames: int = 1) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    images = [Image.new("RGB", (40, 30), (i * 60, 0, 0)) for i in range(frames)]
    images[0].save(out, "PNG", save_all=frames > 1, append_images=images[1:], dpi=(300, 300))
    return out.getvalue()


def _bigtiff() -> bytes:
    """A one-strip 8-bit grey BigTIFF, written by hand after the BigTIFF specification."""
    width, height = 16, 8
    pixels = bytes(range(width * height))
    rational = struct.unpack("<Q", struct.pack("<II", 300, 1))[0]  # 8 bytes: fits in the entry itself
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 16, 1, 0), (277, 3, 1, 1), (278, 4, 1, height), (279, 16, 1, len(pixels)),
               (282, 5, 1, rational), (283, 5, 1, rational), (296, 3, 1, 2)]
    ifd_at = 16
    data_at = ifd_at + 8 + len(entries) * 20 + 8
    out = bytearray(b"II+\x00" + struct.pack("<HHQ", 8, 0, ifd_at))
    out += struct.pack("<Q", len(entries))
    for tag, kind, count, value in entries:
        out += struct.pack("<HHQQ", tag, kind, count, data_at if tag == 273 else value)
    out += struct.pack("<Q", 0)
    out += pixels
    return bytes(out)


def _tiff_with_tail_tag(cut: int = 0) -> bytes:
    """A one-strip grey TIFF laid out as Photoshop writes them: pixels, the directory, then a large tag's data
    (XMP) at the end of the file — so a cut file keeps every pixel and loses only the tail."""
    width, height = 16, 8
    pixels = bytes(range(width * height))
    xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b" " * 2000 + b"</x:xmpmeta>"
    entries = [(256, 3, 1, width), (257, 3, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 3, 1, height), (279, 4, 1, len(pixels)), (700, 1, len(xmp), 0)]
    ifd_at = 8 + len(pixels)
    xmp_at = ifd_at + 2 + 12 * len(entries) + 4
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_at)) + pixels + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        out += struct.pack("<HHI", tag, kind, count) + (struct.pack("<I", xmp_at) if tag == 700 else
                                                       struct.pack("<HH", value, 0) if kind == 3 else
                                                       struct.pack("<I", value))
    out += struct.pack("<I", 0) + xmp
    return bytes(out[:len(out) - cut])


def test_a_tiff_cut_in_its_tag_data_is_corrupt_though_every_pixel_decodes(archive, capsys):
    archive.write(f"{TASK}/20210205整.tif", _tiff_with_tail_tag())
    assert not _findings(archive, capsys, f"{TASK}/20210205整.tif")
    archive.write(f"{TASK}/20210205截断.tif", _tiff_with_tail_tag(cut=1000))
    found = _findings(archive, capsys, f"{TASK}/20210205截断.tif")
    assert found["readable.corrupt"]["severity"] == "error" and "format.mismatch" not in found


def test_apng_and_bigtiff_and_excel4_are_their_formats(archive, capsys):
    archive.write(f"{TASK}/动画.png", _png(frames=3))
    archive.write(f"{TASK}/20210205大图.tif", _bigtiff())
    archive.write(f"{TASK}/旧表.xls", b"\x09\x04\x06\x00\x00\x00\x10\x00" + bytes(120))  # BIFF4 BOF
    for rel in (f"{TASK}/动画.png", f"{TASK}/20210205大图.tif", f"{TASK}/旧表.xls"):
        assert "format.mismatch" not in _findings(archive, capsys, rel), rel
    assert not _findings(archive, capsys, f"{TASK}/20210205大图.tif")


def test_a_png_missing_its_first_byte_is_corrupt_not_unrecognised(archive, capsys):
    archive.write(f"{TASK}/缺字节.png", _png()[1:])
    found = _findings(archive, capsys, f"{TASK}/缺字节.png")
    assert "format.mismatch" not in found and "开头" in found["readable.corrupt"]["message"]


def test_a_tiff_with_a_bad_offset_is_corrupt_in_words(archive, capsys):
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (32, 32)).save(out, "TIFF")
    data = bytearray(out.getvalue())
    data[4:8] = struct.pack("<I", len(data) + 4096)  # the first IFD points past the end
    archive.write(f"{TASK}/坏.tif", bytes(data))
    found = _findings(archive, capsys, f"{TASK}/坏.tif")
    message = found["readable.corrupt"]["message"]
    assert "format.mismatch" not in found and "0x" not in message and "BytesIO" not in message


# -- 4. damage only a stricter reader sees --------------------------------------------------
def test_jpeg_with_extraneous_bytes_is_corrupt(archive, capsys):
    data = _jpeg("RICOH", "IM C3000")
    sos = data.index(b"\xff\xda")
    archive.write(f"{TASK}/20210205多余字节.jpg", data[:sos] + b"\x00\x11\x22" + data[sos:])
    assert "readable.corrupt" in _findings(archive, capsys, f"{TASK}/20210205多余字节.jpg")
    mid = len(data) // 2
    archive.write(f"{TASK}/20210205截断.jpg", data[:mid] + b"\xff\xd9")
    assert "readable.corrupt" in _findings(archive, capsys, f"{TASK}/20210205截断.jpg")


def _pdf(text: str = "会议纪要", compress: bool = False) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_compression(compress)
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="minutes of the meeting")
    return bytes(pdf.output())


def test_checking_a_linearized_pdf_leaves_the_process_stderr_alone():
    """pikepdf's check_pdf_syntax runs qpdf's linearization check into a StringIO and leaves sys.stderr pointing
    at it: every later message of the process (the service's included, when it inspects in-process) vanished."""
    import sys

    import pikepdf

    from dangan.rules.inspector import facts_of

    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out, linearize=True)
    data = out.getvalue()
    stdout, stderr = sys.stdout, sys.stderr
    facts = facts_of(io.BytesIO(data), data[:8192], len(data))
    assert (sys.stdout, sys.stderr) == (stdout, stderr)
    assert facts["pages"] == 1 and "corrupt" not in facts


def test_pdf_content_stream_syntax_error_is_corrupt(archive, capsys):
    data = _pdf()
    assert b"BT" in data
    broken = data.replace(b"BT", b"BT [(unterminated <<", 1)
    broken = broken.replace(b"/Length ", b"/Length 1", 0)
    archive.write(f"{TASK}/语法.pdf", _fix_lengths(broken))
    archive.write(f"{TASK}/完好.pdf", data)
    assert not _findings(archive, capsys, f"{TASK}/完好.pdf")
    assert "readable.corrupt" in _findings(archive, capsys, f"{TASK}/语法.pdf")


def _fix_lengths(pdf: bytes) -> bytes:
    """Rewrite with pikepdf so the xref and /Length entries are consistent again: only the content
    stream's syntax stays broken."""
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.save(out, compress_streams=False)
    return out.getvalue()


# -- 5. what this build cannot decode is "could not verify", a warning ----------------------
def test_a_decompression_bomb_chunk_is_unverified_not_corrupt(archive, capsys):
    data = _png()
    text = zlib.compress(bytes(8 << 20))  # an 8 MiB zTXt: Pillow refuses it as a bomb
    chunk = b"zTXt" + b"Comment\x00\x00" + text
    ztxt = struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
    archive.write(f"{TASK}/炸弹.png", data[:33] + ztxt + data[33:])
    finding = _findings(archive, capsys, f"{TASK}/炸弹.png")["readable.corrupt"]
    assert finding["severity"] == "warning" and "核验" in finding["message"]


# -- 6. resolution: both axes, never invented -----------------------------------------------
def test_both_axes_must_meet_the_minimum(archive, capsys):
    archive.write(f"{SCAN}/半.jpg", _jpeg("RICOH", "IM C3000", dpi=(200, 100)))
    assert "100" in _findings(archive, capsys, f"{SCAN}/半.jpg")["scan.resolution"]["message"]


def test_a_pdf_page_scanned_at_200_by_100_fails(archive, capsys):
    import img2pdf

    page = (img2pdf.mm_to_pt(210), img2pdf.mm_to_pt(297))
    jpeg = _jpeg("RICOH", "IM C3000", size=(1654, 1169), dpi=None)  # A4 at 200 × 100 dpi
    pdf = img2pdf.convert(jpeg, layout_fun=img2pdf.get_fixed_dpi_layout_fun((200, 100)))
    archive.write(f"{SCAN}/扫描.pdf", pdf)
    found = _findings(archive, capsys, f"{SCAN}/扫描.pdf")
    assert "scan.resolution" in found and "100" in found["scan.resolution"]["message"], (found, page)


@pytest.mark.parametrize("kind", ["jfif_aspect_only", "tiff_no_unit"])
def test_no_recorded_resolution_is_said_not_invented(archive, capsys, kind):
    from PIL import Image

    out = io.BytesIO()
    if kind == "jfif_aspect_only":
        im = Image.new("RGB", (300, 200), "white")
        exif = Image.Exif()
        exif[MAKE] = "RICOH"
        im.save(out, "JPEG", exif=exif)  # JFIF density unit 0; EXIF without resolution
        rel = f"{SCAN}/无分辨率.jpg"
    else:
        Image.new("L", (300, 200), 255).save(out, "TIFF", resolution_unit=1, resolution=1.0)
        rel = f"{SCAN}/无分辨率.tif"
    archive.write(rel, out.getvalue())
    message = _findings(archive, capsys, rel)["scan.resolution"]["message"]
    assert "没有记录" in message and "72" not in message and " 1 dpi" not in message


# -- 7. PDFs: a password to open vs usage restrictions --------------------------------------
@pytest.mark.parametrize("user,words", [("", "使用限制"), ("open-me", "密码")])
def test_pdf_encryption_says_which(archive, capsys, user, words):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf())))
    writer.encrypt(user_password=user, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    archive.write(f"{TASK}/加密.pdf", out.getvalue())
    assert words in _findings(archive, capsys, f"{TASK}/加密.pdf")["readable.encrypted"]["message"]


# -- 8. messages read as words --------------------------------------------------------------
def test_no_python_internals_in_any_finding(archive, capsys):
    archive.write(f"{TASK}/坏.jpg", b"\xff\xd8\xff\xe0" + bytes(50))
    archive.write(f"{TASK}/坏.png", b"\x89PNG\r\n\x1a\n" + bytes(50))
    archive.write(f"{TASK}/坏.pdf", b"%PDF-1.7\n" + bytes(50))
    archive.write(f"{TASK}/坏.docx", b"PK\x03\x04" + bytes(50))
    pdf = bytearray(_pdf())  # one xref entry off by two bytes: qpdf names the input by its Python object
    at = pdf.index(b" 00000 n", pdf.index(b"xref"))
    pdf[at - 10:at] = b"%010d" % (int(pdf[at - 10:at]) + 2)
    archive.write(f"{TASK}/坏2.pdf", bytes(pdf))
    code, report = archive.check(str(archive.path(TASK)), capsys=capsys)
    texts = [v["message"] + v["hint"] for v in report["violations"]]
    assert len([v for v in report["violations"] if v["rule"] == "readable.corrupt"]) == 5
    assert not [t for t in texts if "0x" in t or "object at" in t or "Error" in t], texts


def test_libtiff_warnings_are_findings_not_terminal_noise(archive, tmp_path):
    """libtiff writes its warnings to file descriptor 2 itself: they become the finding's words."""
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((800, 600), 90).convert("1").save(out, "TIFF", compression="group4", dpi=(300, 300))
    data = bytearray(out.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    for i in range(struct.unpack("<H", data[ifd:ifd + 2])[0]):
        at = ifd + 2 + 12 * i
        if struct.unpack("<H", data[at:at + 2])[0] == 273:  # StripOffsets: into the middle of the strip
            data[at + 8:at + 12] = struct.pack("<I", struct.unpack("<I", data[at + 8:at + 12])[0] + 5000)
    archive.write(f"{TASK}/20210205传真.tif", bytes(data))
    import json
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([str(Path(sys.executable).with_name("dangan")), "check", "--config", str(archive.config),
                           "--format", "json"], capture_output=True, text=True, timeout=120)
    findings = {v["rule"]: v for v in json.loads(done.stdout)["violations"] if v["path"].endswith("传真.tif")}
    assert findings["readable.corrupt"]["severity"] == "error"
    assert done.stderr == ""  # nothing of libtiff's reached the terminal
