"""Makers of real files for the tests: Pillow JPEGs with and without camera EXIF, born-digital
and image-only PDFs, docx descriptions, and the archive fixture's helpers."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from dangan.cli.main import main


def jpeg_bytes(camera: bool = False, dpi: int | None = 300, taken: str | None = None,
               size: tuple[int, int] = (320, 240), color: str = "blue", scanner: str | None = None) -> bytes:
    """A real JPEG; ``camera`` adds phone EXIF (Make/Model, exposure, GPS), ``scanner`` a scanner's."""
    im = Image.new("RGB", size, color)
    exif = Image.Exif()
    if camera:
        exif[0x010F], exif[0x0110] = "Apple", "iPhone 12"
        exif.get_ifd(0x8769)[0x829A] = 1 / 60
        exif.get_ifd(0x8825)[1] = "N"
    if scanner:
        exif[0x010F], exif[0x0110] = "EPSON", scanner
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    out = io.BytesIO()
    kwargs = {"exif": exif} if len(exif) or camera or taken else {}
    if dpi:
        kwargs["dpi"] = (dpi, dpi)
    im.save(out, "JPEG", quality=85, **kwargs)
    return out.getvalue()


def text_pdf_bytes(text: str = "Meeting minutes 2021") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def image_pdf_bytes(camera: bool = False, dpi: int = 300) -> bytes:
    """An image-only PDF page (2 x 3 inches), as a scanner or a phone "scanner" app makes it.

    img2pdf embeds the JPEG as it is, EXIF included, as those apps do; the page's effective
    resolution is pixels / page inches = ``dpi``.
    """
    import img2pdf

    image = jpeg_bytes(camera=camera, dpi=dpi, size=(2 * dpi, 3 * dpi))
    return img2pdf.convert(image, layout_fun=img2pdf.get_layout_fun((2 * 72, 3 * 72)))


def docx_bytes(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


GOOD_DESCRIPTION = "时间：2021年2月5日\n地点：学校操场\n参加人：全体师生\n结果：圆满完成，获得好评"



# Paths used across tests: a valid task folder, and a scan-only one (its name holds 证书).
TASK = "01办公室/A标准建设/A1制度建设"
CERT = "02教务处/B教学诊改/B2教师获奖证书"


def rules_of(report: dict, path: str) -> list[str]:
    return sorted(v["rule"] for v in report["violations"] if v["path"] == path)

@dataclass
class Archive:
    """An initialised dangan installation in a temporary folder."""

    base: Path
    config: Path
    root: Path
    mirror: Path
    state: Path

    def path(self, rel: str | bytes) -> Path:
        return Path(os.fsdecode(os.path.join(os.fsencode(self.root), os.fsencode(rel))))

    def write(self, rel: str | bytes, data: bytes, mtime: float | None = None) -> Path:
        target = os.path.join(os.fsencode(self.root), os.fsencode(rel))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
        if mtime is not None:
            os.utime(target, (mtime, mtime))
        return Path(os.fsdecode(target))

    def run(self, *args: str) -> int:
        return main([*args[:1], "--config", str(self.config), *args[1:]])

    def check(self, *paths: str, capsys: pytest.CaptureFixture) -> tuple[int, dict]:
        capsys.readouterr()
        code = self.run("check", "--format", "json", *paths)
        out = capsys.readouterr().out
        return code, json.loads(out)

