"""Reading a file's content once: its hash and the facts the rules need.

The facts (content type, damage, encryption, camera EXIF, resolution, description text …) are
stored in the catalog, so a file whose size, mtime and inode have not changed is never read
again; the rules themselves (``rules.py``) only look at facts and names. Any failure to parse is
a fact ("corrupt: …"), never an exception: a broken file must not stop the check of the others.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import warnings
import zipfile
import zlib
from typing import Any, BinaryIO

import filetype
from PIL import Image, UnidentifiedImageError

from dangan.store.hashing import CHUNK, INLINE_LIMIT, hash_bytes
from dangan.store.tree import open_file

FACTS_VERSION = 1
# Files up to this size are read into memory once and both hashed and parsed from there.
HEADER = 8192
DESCRIPTION_EXCERPT = 4000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

IMAGE_KINDS = {"jpg", "png", "tif", "gif", "bmp", "webp", "jpx"}
ZIP_KINDS = {"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"}
OLE_KINDS = {"ole", "doc", "xls", "ppt", "msi"}

# EXIF tags (TIFF/EXIF 2.3 numbers).
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
MAKE, MODEL, DATETIME = 0x010F, 0x0110, 0x0132
DATETIME_ORIGINAL, EXPOSURE_TIME, F_NUMBER, FOCAL_LENGTH, LENS_MAKE, LENS_MODEL = (
    0x9003, 0x829A, 0x829D, 0x920A, 0xA433, 0xA434)
# Flatbed and sheet-fed scanners also write Make/Model; these words mark a scanner, not a camera.
SCANNER_WORDS = ("scan", "mfp", "perfection", "imageformula", "fi-", "ds-", "ads-", "jet", "workforce",
                 "copier", "扫描")

# Scanned archives are large; decoding them is wanted (damage shows only when decoding), but
# refusing them as "decompression bombs" is not.
Image.MAX_IMAGE_PIXELS = None
MAX_DECODE_PIXELS = 400_000_000
# pypdf logs every repair it makes; what matters reaches the facts, the rest is noise on stderr.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def inspect(fd: int, size: int, algorithm: str) -> tuple[str, dict[str, Any]]:
    """Hash the open file ``fd`` (closed here) and gather its facts, reading it once when it
    fits in memory."""
    with open(fd, "rb") as f:
        if size <= INLINE_LIMIT:
            data = f.read()
            digest = hash_bytes(data, algorithm)
            source: BinaryIO = io.BytesIO(data)
            header = data[:HEADER]
        else:
            h = hashlib.new(algorithm)
            header = f.read(HEADER)
            h.update(header)
            while chunk := f.read(CHUNK):
                h.update(chunk)
            digest = h.hexdigest()
            f.seek(0)
            source = f
        return digest, facts_of(source, header, len(data) if size <= INLINE_LIMIT else size)


def facts_of(source: BinaryIO, header: bytes, size: int) -> dict[str, Any]:
    facts: dict[str, Any] = {"v": FACTS_VERSION, "kind": kind_of(header)}
    if size == 0:
        facts["corrupt"] = "empty"
        return facts
    kind = facts["kind"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if kind in IMAGE_KINDS:
                _image_facts(source, facts)
            elif kind == "pdf":
                _pdf_facts(source, facts)
            elif kind in ZIP_KINDS:
                _zip_facts(source, facts)
            elif kind in OLE_KINDS:
                _ole_facts(source, facts)
        except Exception as exc:  # noqa: BLE001 - whatever a parser throws, the file is unreadable
            facts["corrupt"] = _reason(exc)
    return facts


def kind_of(header: bytes) -> str | None:
    """The content type by magic number, as a short extension-like name."""
    if header.startswith(OLE_MAGIC):
        return "ole"
    guess = filetype.guess(header)
    if guess is not None:
        return guess.extension
    if b"%PDF-" in header[:1024]:  # PDF allows junk before the header
        return "pdf"
    return None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


# -- images ---------------------------------------------------------------------------------
def _image_facts(source: BinaryIO, facts: dict[str, Any]) -> None:
    try:
        im = Image.open(source)
    except UnidentifiedImageError as exc:
        facts["corrupt"] = _reason(exc)
        return
    with im:
        dpi = im.info.get("dpi")
        if dpi:
            facts["dpi"] = round(min(float(dpi[0]), float(dpi[1])))
        exif = im.getexif()
        evidence = camera_evidence(exif)
        if evidence:
            facts["camera"] = evidence
        taken = exif_date(exif)
        if taken:
            facts["taken"] = taken
        if im.width * im.height > MAX_DECODE_PIXELS:
            im.verify()  # too large to decode here; the structure check is what we can afford
            return
        if im.format == "JPEG":
            # Decode at 1/8 scale: every entropy-coded byte is still read, so truncation and
            # damage are still caught, at a fraction of the cost.
            im.draft("RGB", (max(1, im.width // 8), max(1, im.height // 8)))
        im.load()


def camera_evidence(exif: Image.Exif) -> list[str]:
    """What in the EXIF says "taken by a camera or phone" (empty for scanners and plain images)."""
    evidence: list[str] = []
    exif_ifd = exif.get_ifd(EXIF_IFD)
    device = " ".join(str(exif.get(tag, "")).strip("\x00 ") for tag in (MAKE, MODEL)).strip()
    shot = [name for tag, name in ((EXPOSURE_TIME, "ExposureTime"), (F_NUMBER, "FNumber"),
                                   (FOCAL_LENGTH, "FocalLength")) if tag in exif_ifd]
    lens = str(exif_ifd.get(LENS_MODEL) or exif_ifd.get(LENS_MAKE) or "").strip("\x00 ")
    gps = bool(exif.get_ifd(GPS_IFD))
    looks_like_scanner = any(word in device.lower() for word in SCANNER_WORDS)
    if device and (not looks_like_scanner or shot or lens or gps):
        evidence.append(device)
    if lens:
        evidence.append(f"Lens {lens}")
    evidence += shot
    if gps:
        evidence.append("GPS")
    return evidence


def exif_date(exif: Image.Exif) -> str | None:
    """The capture date as YYYYMMDD, from DateTimeOriginal (else DateTime)."""
    for value in (exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL), exif.get(DATETIME)):
        match = re.match(r"(\d{4}):(\d{2}):(\d{2})", str(value or ""))
        if match and match.group(1) != "0000":
            return "".join(match.groups())
    return None


# -- PDF ------------------------------------------------------------------------------------
def _pdf_facts(source: BinaryIO, facts: dict[str, Any]) -> None:
    from pypdf import PdfReader  # imported lazily: most files are not PDFs

    reader = PdfReader(source, strict=True)  # default mode silently skips damaged objects
    if reader.is_encrypted:
        facts["encrypted"] = True
        return
    scan_pages, dpis, evidence = 0, [], []
    for number, page in enumerate(reader.pages, 1):
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else {}
        fonts = resources.get("/Font")
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else {}
        streams = [x.get_object() for x in xobjects.values()]
        contents = page.get("/Contents")
        if contents is not None:
            contents = contents.get_object()
            streams += [c.get_object() for c in contents] if isinstance(contents, list) else [contents]
        for stream in streams:
            if not _flate_intact(stream):
                facts["corrupt"] = f"damaged compressed stream on page {number}"
                return
        images = [x for x in streams if x.get("/Subtype") == "/Image"]
        if not images or fonts:
            continue
        # An image-only page is a scan or a photo: its resolution and EXIF matter.
        scan_pages += 1
        largest = max(images, key=lambda im: int(im.get("/Width", 0)) * int(im.get("/Height", 0)))
        box = page.mediabox
        page_inches = max(float(box.width), float(box.height)) / 72
        if page_inches > 0:
            dpis.append(round(max(int(largest.get("/Width", 0)), int(largest.get("/Height", 0))) / page_inches))
        filters = largest.get("/Filter")
        filters = filters if isinstance(filters, list) else [filters]
        if "/DCTDecode" in filters and not evidence:
            with Image.open(io.BytesIO(largest.get_data())) as embedded:
                evidence = camera_evidence(embedded.getexif())
    facts["pages"] = len(reader.pages)
    if scan_pages:
        facts["scan_pages"] = scan_pages
        facts["dpi"] = min(dpis) if dpis else None
    if evidence:
        facts["camera"] = evidence


def _flate_intact(stream: Any) -> bool:
    """Whether a Flate-compressed PDF stream decompresses completely.

    pypdf salvages damaged streams silently (it retries with cut tails and partial output), which
    is right for viewing but hides damage; zlib's own checksum tells the truth.
    """
    filters = stream.get("/Filter")
    if filters != "/FlateDecode" and filters != ["/FlateDecode"]:
        return True
    raw = getattr(stream, "_data", None)  # the encoded bytes as stored in the file
    if not raw:
        return True
    inflater = zlib.decompressobj()
    pending = raw
    try:
        while pending and not inflater.eof:
            inflater.decompress(pending, CHUNK)  # bounded output: a bomb cannot exhaust memory
            pending = inflater.unconsumed_tail
    except zlib.error:
        return False
    return inflater.eof


# -- Office / OFD ---------------------------------------------------------------------------
def _zip_facts(source: BinaryIO, facts: dict[str, Any]) -> None:
    try:
        with zipfile.ZipFile(source) as zf:
            if any(info.flag_bits & 0x1 for info in zf.infolist()):
                facts["encrypted"] = True
                return
            bad = zf.testzip()  # reads every member and checks its CRC
            if bad is not None:
                facts["corrupt"] = f"damaged member {bad}"
                return
            if "word/document.xml" in zf.namelist():
                facts["text"] = docx_text(zf.read("word/document.xml"))
    except zipfile.BadZipFile as exc:
        facts["corrupt"] = _reason(exc)


def docx_text(document_xml: bytes) -> str:
    """The visible text of a Word document, paragraphs on lines, cut to an excerpt."""
    xml = document_xml.decode("utf-8", "replace")
    xml = re.sub(r"</w:p>", "\n", xml)
    text = re.sub(r"<[^>]+>", "", xml)
    return text[:DESCRIPTION_EXCERPT]


def _ole_facts(source: BinaryIO, facts: dict[str, Any]) -> None:
    import msoffcrypto

    try:
        office = msoffcrypto.OfficeFile(source)
        if office.is_encrypted():
            facts["encrypted"] = True
    except Exception:  # noqa: BLE001 - a WPS or other OLE file msoffcrypto does not know
        pass


def inspect_job(job: tuple[bytes, bytes, int, str]) -> tuple[str, dict] | str:
    """``inspect`` of ``path`` under the folder ``root`` (a picklable pool job): the digest and
    facts, or the reason the file could not be read."""
    root, path, size, algorithm = job
    try:
        return inspect(open_file(root, path), size, algorithm)
    except OSError as exc:
        return exc.strerror or str(exc)
