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
import os
import re
import sys
import tempfile
import threading
import warnings
import zipfile
import zlib
from typing import Any, BinaryIO

import filetype
from PIL import Image, UnidentifiedImageError

from dangan.store.hashing import CHUNK, INLINE_LIMIT, hash_bytes
from dangan.store.tree import open_file

# Facts of an older version are read again: 2 graded camera evidence, validated OLE/PDF/JPEG strictly and
# measured resolution per axis; 3 added the OOXML main part and PNG chunk checksums; 4 finds the main part
# under any case and either separator, and a TIFF whose tags lie past its end as cut short.
FACTS_VERSION = 4
# Files up to this size are read into memory once and both hashed and parsed from there.
HEADER = 8192
DESCRIPTION_EXCERPT = 4000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The family of a format by what its structure says, when the first bytes are damaged or the
# variant is one filetype does not know (APNG, BigTIFF, Excel 2-4 BIFF without an OLE container).
FAMILY_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"II+\x00", 0, "tif"), (b"MM\x00+", 0, "tif"),           # BigTIFF
    (b"\x09\x00\x04\x00", 0, "xls"), (b"\x09\x02\x06\x00", 0, "xls"),  # BIFF2, BIFF3 BOF records
    (b"\x09\x04\x06\x00", 0, "xls"),                             # BIFF4 BOF record
)
DAMAGED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (PNG_MAGIC[1:], "png"), (b"\xd8\xff", "jpg"), (b"I*\x00", "tif"), (b"M\x00*", "tif"),
    (b"PDF-", "pdf"), (b"K\x03\x04", "zip"), (OLE_MAGIC[1:], "ole"),
)
# The main part each Office Open XML format cannot be without.
OOXML_MAIN_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
# The main stream each legacy Office format cannot be without.
OLE_MAIN_STREAMS = {"doc": ("WordDocument",), "xls": ("Workbook", "Book"), "ppt": ("PowerPoint Document",)}

IMAGE_KINDS = {"jpg", "png", "tif", "gif", "bmp", "webp", "jpx"}
ZIP_KINDS = {"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"}
OLE_KINDS = {"ole", "doc", "xls", "ppt", "msi"}

# EXIF tags (TIFF/EXIF 2.3 numbers).
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
MAKE, MODEL, DATETIME = 0x010F, 0x0110, 0x0132
X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT = 0x011A, 0x011B, 0x0128
DATETIME_ORIGINAL, LENS_MAKE, LENS_MODEL = 0x9003, 0xA433, 0xA434
# What only an exposure through a lens leaves: copiers and scanners write Make and Model, never these.
SHOT_TAGS = ((0x829A, "ExposureTime"), (0x829D, "FNumber"), (0x920A, "FocalLength"), (0x8827, "ISO"),
             (0xA405, "FocalLengthIn35mmFilm"), (0x9206, "SubjectDistance"), (0x9201, "ShutterSpeedValue"),
             (0x9202, "ApertureValue"))
# Makers that build only phones: their name alone is weak evidence (a scan app on a phone writes it too).
PHONE_MAKERS = ("apple", "samsung", "huawei", "honor", "xiaomi", "redmi", "oppo", "vivo", "oneplus", "realme", "meizu",
                "iqoo", "google", "nothing", "zte", "nubia", "smartisan", "coolpad", "tecno", "infinix")

# What inspecting needs (some imported lazily: most single files need one of them): a worker pool imports
# them once, before forking its workers.
LIBRARIES = ("dangan.rules.inspector", "pypdf", "pikepdf", "simplejpeg", "msoffcrypto", "olefile")

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
    """The facts of one file's content. ``corrupt`` is a damage found (a code the message catalog
    words as ``damage.<code>``, or ``decoder:<the library's words>``); ``unverified`` says the file
    could not be checked here (a codec this build lacks) — a warning, not damage."""
    kind = kind_of(header)
    facts: dict[str, Any] = {"v": FACTS_VERSION, "kind": kind}
    if size == 0:
        facts["corrupt"] = "empty"
        return facts
    if kind is None:
        family = damaged_family(header)
        if family:  # its structure names a format, but its first bytes are broken
            facts["family"] = family
            facts["corrupt"] = "header"
            return facts
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
            _failed(facts, exc)
    return facts


def kind_of(header: bytes) -> str | None:
    """The content type by magic number, as a short extension-like name."""
    if header.startswith(OLE_MAGIC):
        return "ole"
    if header.startswith(PNG_MAGIC):
        return "png"  # APNG too: filetype names it apart, but it is a PNG any PNG reader opens
    for magic, offset, kind in FAMILY_SIGNATURES:
        if header[offset:offset + len(magic)] == magic:
            return kind
    guess = filetype.guess(header)
    if guess is not None:
        return guess.extension
    if b"%PDF-" in header[:1024]:  # PDF allows junk before the header
        return "pdf"
    return None


def damaged_family(header: bytes) -> str | None:
    """The format whose signature stands just after a lost or altered first byte."""
    for magic, kind in DAMAGED_SIGNATURES:
        if header[1:1 + len(magic)] == magic or header[:len(magic)] == magic:
            return kind
    return None


_POINTER = re.compile(r"<[^<>]* at 0x[0-9a-f]+>")
# Words of a codec this build lacks or a safety limit (not damage: Pillow's "decoder error -2" is damage).
_UNSUPPORTED = ("not configured", "cannot decode", "not available", "not supported", "unsupported",
                "decompression bomb", "exceeds limit", "too large")


def reason(exc: BaseException) -> str:
    """A parser's exception as a damage code: the library's words stay (without object addresses)
    only where no code of our own says it better."""
    if isinstance(exc, UnidentifiedImageError):
        return "structure"
    if isinstance(exc, (EOFError, zipfile.BadZipFile)) or "truncated" in str(exc).lower():
        return "truncated"
    text = _POINTER.sub("", str(exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return "decoder:" + text[:160]


def _failed(facts: dict[str, Any], exc: BaseException) -> None:
    """A parser gave up: damage, or (a codec this build lacks, a safety limit) could not verify here."""
    if _unsupported(exc):
        facts["unverified"] = _POINTER.sub("", str(exc)).strip()[:160] or type(exc).__name__
    else:
        facts["corrupt"] = reason(exc)


def _unsupported(exc: BaseException) -> bool:
    return isinstance(exc, Image.DecompressionBombError) or any(w in str(exc).lower() for w in _UNSUPPORTED)


# -- images ---------------------------------------------------------------------------------
# Pillow's words (warnings, the tag skipped) when a TIFF's own directory points past the end of the file.
_TIFF_CUT = ("Tag data larger than file", "Truncated File Read", "Corrupt EXIF data", "Possibly corrupt EXIF data")


def _image_facts(source: BinaryIO, facts: dict[str, Any]) -> None:
    """An image's facts; a TIFF whose tags lie past its end is cut short even when every pixel decodes
    (Photoshop writes large tags after the pixels: a truncation loses only them, and Pillow merely warns)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image_format = _read_image(source, facts)
    if image_format == "TIFF" and not facts.keys() & {"corrupt", "unverified"} \
            and any(str(w.message).startswith(_TIFF_CUT) for w in caught):
        facts["corrupt"] = "truncated"


def _read_image(source: BinaryIO, facts: dict[str, Any]) -> str | None:
    im = Image.open(source)
    with im:
        dpi = declared_dpi(im)
        if dpi:
            facts["dpi"] = min(dpi)  # both axes must meet the minimum: the smaller one decides
            facts["dpi_xy"] = list(dpi)
        exif = im.getexif()
        strong, weak = camera_evidence(exif)
        if strong:
            facts["camera"] = strong
        elif weak:
            facts["camera_weak"] = weak
        taken = exif_date(exif)
        if taken:
            facts["taken"] = taken
        try:
            if im.width * im.height > MAX_DECODE_PIXELS:
                im.verify()  # too large to decode here; the structure check is what we can afford
            elif im.format == "JPEG":
                _decode_jpeg(source, im)
            elif im.format == "TIFF":
                _decode_tiff(im)
            else:
                if im.format == "PNG":
                    _verify_chunks(source)
                im.load()
        except Exception as exc:  # noqa: BLE001 - damage, or a codec this build lacks
            _failed(facts, exc)
        return im.format


_STDERR_LOCK = threading.Lock()
# libtiff's own words for damage it decodes around (it warns, Pillow returns the image).
_LIBTIFF_DAMAGE = re.compile(r"bad code word|read error|not enough data|premature|corrupt|unexpected|"
                             r"invalid|wrong|error", re.I)


def _decode_tiff(im: Image.Image) -> None:
    """Decode a TIFF with libtiff's messages captured: libtiff writes them to file descriptor 2 itself
    (not through Python), so they would reach the terminal raw, and its warnings of damaged strips
    (bad code words, short reads) are damage that Pillow's image hides. One TIFF at a time, since the
    descriptor is the process's; other writers' lines are passed on to the real stderr."""
    with _STDERR_LOCK, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            im.load()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        lines = captured.read().decode("utf-8", "replace").splitlines()
    ours = [line for line in lines if re.match(r"^[A-Za-z0-9_. -]+: ", line)]
    others = [line for line in lines if line not in ours]
    if others:
        print("\n".join(others), file=sys.stderr)
    damage = next((line for line in ours if _LIBTIFF_DAMAGE.search(line.split(":", 1)[1])), None)
    if damage:
        raise ValueError(damage.split(":", 1)[1].strip()[:160])


def _verify_chunks(source: BinaryIO) -> None:
    """Every chunk of a PNG read and its CRC checked: ``load()`` decodes the first frame only, so a
    damaged later APNG frame or a chunk's bad checksum passes it."""
    source.seek(0)
    with Image.open(source) as whole:
        whole.verify()
    source.seek(0)


def _decode_jpeg(source: BinaryIO, im: Image.Image) -> None:
    """Decode every entropy-coded byte with libjpeg-turbo in strict mode: libjpeg's warnings
    ("Corrupt JPEG data: N extraneous bytes", "premature end of data segment") are damage that
    Pillow passes over silently. At 1/8 scale (DCT scaling still reads every byte)."""
    import simplejpeg

    source.seek(0)
    data = source.read()
    try:
        header = simplejpeg.decode_jpeg_header(data)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    colorspace = {"CMYK": "CMYK", "YCCK": "CMYK", "Gray": "GRAY"}.get(header[2], "RGB")
    try:
        simplejpeg.decode_jpeg(data, colorspace=colorspace, min_factor=8, strict=True)
    except ValueError as exc:
        if "unsupported" in str(exc).lower():  # e.g. 12-bit JPEG: libjpeg-turbo's 8-bit build refuses
            im.load()
            return
        raise


def declared_dpi(im: Image.Image) -> tuple[int, int] | None:
    """The resolution the file declares, in dots per inch; None where it records none.

    Read from the tags themselves: Pillow fills in figures of its own (72 for a JPEG whose EXIF lacks
    a resolution, 1 for a TIFF without one), and a scan must not pass or fail on an invented number.
    JFIF density unit 0 and TIFF/EXIF ResolutionUnit 1 mean "aspect ratio only"; a PNG without pHYs
    records none."""
    per_unit = {2: 1.0, 3: 2.54}  # inch, centimetre
    x = y = None
    if im.format == "JPEG" and im.info.get("jfif_unit") in (1, 2):
        x, y = im.info["jfif_density"]
        x, y = (x * 2.54, y * 2.54) if im.info["jfif_unit"] == 2 else (x, y)
    elif im.format == "PNG" and "dpi" in im.info:  # Pillow sets it only from a pHYs chunk in metres
        x, y = im.info["dpi"]
    elif im.format in ("TIFF", "JPEG", "MPO"):
        tags = im.tag_v2 if im.format == "TIFF" else im.getexif()
        unit = tags.get(RESOLUTION_UNIT, 2)  # TIFF 6.0: inch when absent
        if unit in per_unit and X_RESOLUTION in tags:
            x = float(tags[X_RESOLUTION]) * per_unit[unit]
            y = float(tags.get(Y_RESOLUTION, tags[X_RESOLUTION])) * per_unit[unit]
    if not x or not y or min(x, y) <= 1:  # a 1-dpi "resolution" is a placeholder, not a scan setting
        return None
    return round(float(x)), round(float(y))


def clean_text(value: Any) -> str:
    """A tag's value as readable text: bytes decoded, control characters and padding dropped."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    # EXIF ASCII is NUL-terminated: what follows the first NUL is padding or garbage, not the name
    text = "".join(c for c in str(value).split("\x00", 1)[0] if c.isprintable())
    return " ".join(text.replace("\ufffd", "").split())[:60]


def camera_evidence(exif: Image.Exif) -> tuple[list[str], list[str]]:
    """What in the EXIF says "taken through a lens": (strong, weak) evidence.

    Strong: exposure settings, a lens, GPS — what a camera or phone records and no scanner or
    copier does. Weak: only a phone maker's name (a phone scan app, or a re-saved photo). A device
    name alone (every office copier writes Make and Model) is no evidence."""
    exif_ifd = exif.get_ifd(EXIF_IFD)
    device = " ".join(clean_text(exif.get(tag, "")) for tag in (MAKE, MODEL)).strip()
    shot = [name for tag, name in SHOT_TAGS if tag in exif_ifd]
    lens = clean_text(exif_ifd.get(LENS_MODEL) or exif_ifd.get(LENS_MAKE) or "")
    gps = bool(exif.get_ifd(GPS_IFD))
    strong = shot + ([f"Lens {lens}"] if lens else []) + (["GPS"] if gps else [])
    if strong:
        return ([device] if device else []) + strong, []
    make = clean_text(exif.get(MAKE, "")).lower()
    if make and any(make.startswith(maker) for maker in PHONE_MAKERS):
        return [], [device]
    return [], []


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
        # Opens with the empty user password: only an owner password (printing, copying restricted).
        facts["encrypted"] = "restricted" if reader.decrypt("") else "password"
        return
    scan_pages, strong, weak = 0, [], []
    scans: dict[int, tuple[int, int, Any]] = {}  # page index -> the largest image's pixels, the page box
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
                facts["corrupt"] = f"stream:{number}"
                return
        images = [x for x in streams if x.get("/Subtype") == "/Image"]
        if not images or fonts:
            continue
        # An image-only page is a scan or a photo: its resolution and EXIF matter.
        scan_pages += 1
        largest = max(images, key=lambda im: int(im.get("/Width", 0)) * int(im.get("/Height", 0)))
        scans[number - 1] = (int(largest.get("/Width", 0)), int(largest.get("/Height", 0)), page.mediabox)
        filters = largest.get("/Filter")
        filters = filters if isinstance(filters, list) else [filters]
        if "/DCTDecode" in filters and not strong:
            with Image.open(io.BytesIO(largest.get_data())) as embedded:
                found, hinted = camera_evidence(embedded.getexif())
                strong, weak = found or strong, weak or hinted
    facts["pages"] = len(reader.pages)
    damage, drawn = _qpdf_pass(source, len(reader.pages), scans)
    if damage:
        facts["corrupt"] = damage
        return
    dpis = [d for d in (_scan_dpi(*scans[i], drawn.get(i)) for i in scans) if d]
    if scan_pages:
        facts["scan_pages"] = scan_pages
        facts["dpi"] = min(dpis) if dpis else None
    if strong:
        facts["camera"] = strong
    elif weak:
        facts["camera_weak"] = weak


def _scan_dpi(width: int, height: int, box: Any, drawn: tuple[float, float] | None) -> int | None:
    """The scan resolution of a page's image: each pixel axis over the length it is drawn at (from the
    content stream's transformation, so a stretched or rotated image is measured as drawn), the smaller
    of the two (a 200 × 100 dpi scan is a 100 dpi scan). Without the drawing, the image fills the page."""
    across, down = drawn or (float(box.width), float(box.height))
    if width <= 0 or height <= 0 or across <= 0 or down <= 0:
        return None
    return round(min(width / (across / 72), height / (down / 72)))


def _qpdf_pass(source: BinaryIO, pages: int, scans: dict[int, tuple]) -> tuple[str | None, dict[int, tuple]]:
    """A second, independent reader (qpdf, through pikepdf): its structural check, a page count that
    must agree with pypdf's, and every content stream parsed (syntax errors pypdf's strict mode lets
    through show here). On the way, where each scan page draws its largest image: the lengths, in
    points, of the image's own x and y axes."""
    import pikepdf

    source.seek(0)
    drawn: dict[int, tuple[float, float]] = {}
    try:
        with pikepdf.open(source) as pdf:
            if len(pdf.pages) != pages:
                return f"pages:{len(pdf.pages)}:{pages}", drawn
            streams = sys.stdout, sys.stderr
            try:
                found = pdf.check_pdf_syntax()
            finally:  # its linearization check (pikepdf 10.18) leaves sys.stderr pointing at a StringIO of its own
                sys.stdout, sys.stderr = streams
            problems = [p for p in found if "error" in p.lower() or "damaged" in p.lower()]
            if problems:
                return "decoder:" + _qpdf_words(problems[0]), drawn
            for index, page in enumerate(pdf.pages):
                operations = pikepdf.parse_content_stream(page)
                if index in scans:
                    size = _drawn_size(operations)
                    if size:
                        drawn[index] = size
    except pikepdf.PasswordError:
        return None, drawn  # pypdf decides about encryption
    except (pikepdf.PdfError, ValueError, RuntimeError) as exc:
        text = _qpdf_words(str(exc).strip().split("\n", 1)[0])
        return ("decoder:" + text) if text else "structure", drawn
    return None, drawn


def _qpdf_words(text: str) -> str:
    """qpdf's words for staff: without its WARNING/ERROR label and the Python object it names the input by
    ("stream <_io.BytesIO object at 0x…>: file is damaged" says "file is damaged")."""
    text = re.sub(r"^(WARNING|ERROR):\s*", "", _POINTER.sub("", text).strip())
    text = re.sub(r"^stream\s*:\s*", "", text)
    return " ".join(text.split())[:160]


def _drawn_size(operations: list) -> tuple[float, float] | None:
    """Follow q/Q/cm to the largest `Do`: the lengths of the image's unit axes under the CTM."""
    stack: list[tuple[float, ...]] = []
    ctm: tuple[float, ...] = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    best = None
    for operands, operator in operations:
        op = str(operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q" and stack:
            ctm = stack.pop()
        elif op == "cm" and len(operands) == 6:
            a, b, c, d, e, f = (float(x) for x in operands)
            m = ctm
            ctm = (a * m[0] + b * m[2], a * m[1] + b * m[3], c * m[0] + d * m[2], c * m[1] + d * m[3],
                   e * m[0] + f * m[2] + m[4], e * m[1] + f * m[3] + m[5])
        elif op == "Do":
            across, down = (ctm[0] ** 2 + ctm[1] ** 2) ** 0.5, (ctm[2] ** 2 + ctm[3] ** 2) ** 0.5
            if best is None or across * down > best[0] * best[1]:
                best = (across, down)
    return best


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
            members = zf.infolist()
            if members and min(info.header_offset for info in members) > 0:
                # the directory found belongs to a zip further in (an embedded workbook at the tail of a
                # truncated document): an Office or OFD file starts with its own first member
                facts["corrupt"] = "truncated"
                return
            if any(info.flag_bits & 0x1 for info in members):
                facts["encrypted"] = "password"
                return
            bad = zf.testzip()  # reads every member and checks its CRC
            if bad is not None:
                facts["corrupt"] = f"member:{clean_text(bad)}"
                return
            # a part name as OPC compares it: case-insensitive; some writers separate with "\\" (xlrd's
            # apachepoi_49609.xlsx), which Office, POI and xlrd accept
            names = {name.replace("\\", "/").lower(): name for name in zf.namelist()}
            facts["ooxml"] = next((kind for kind, part in OOXML_MAIN_PARTS.items() if part in names), None)
            if "word/document.xml" in names:
                facts["text"] = docx_text(zf.read(names["word/document.xml"]))
            pages = _declared_pages(zf, names, facts["ooxml"])
            if pages is not None:
                facts["pages"] = pages  # the registers' 页数 (归档文件目录)
    except zipfile.BadZipFile:
        facts["corrupt"] = "truncated"


def _declared_pages(zf: zipfile.ZipFile, names: dict[str, str], ooxml: str | None) -> int | None:
    """The page count a document declares: a Word file's ``docProps/app.xml`` <Pages> (as Word or WPS last
    saved it), an OFD's page list in the document its ``OFD.xml`` names (GB/T 33190). None when absent.
    ``names``: each member's name as a part name compares (lower case, "/") -> its name in the zip."""
    if ooxml == "docx" and "docprops/app.xml" in names:
        match = re.search(rb"<(?:\w+:)?Pages>\s*(\d+)\s*<", zf.read(names["docprops/app.xml"])[:65536])
        return int(match.group(1)) if match else None
    if "ofd.xml" in names:
        root = re.search(rb"<(?:\w+:)?DocRoot>\s*/?([^<\s]+)\s*<", zf.read(names["ofd.xml"])[:65536])
        document = root.group(1).decode("utf-8", "replace").replace("\\", "/").lower() if root else None
        if document in names:
            pages = re.search(rb"<(?:\w+:)?Pages>(.*?)</(?:\w+:)?Pages>", zf.read(names[document]), re.S)
            return len(re.findall(rb"<(?:\w+:)?Page\b", pages.group(1))) if pages else None
    return None


def docx_text(document_xml: bytes) -> str:
    """The visible text of a Word document, paragraphs on lines, cut to an excerpt."""
    xml = document_xml.decode("utf-8", "replace")
    xml = re.sub(r"</w:p>", "\n", xml)
    text = re.sub(r"<[^>]+>", "", xml)
    return text[:DESCRIPTION_EXCERPT]


def _ole_facts(source: BinaryIO, facts: dict[str, Any]) -> None:
    """A compound file (legacy Office, WPS/ET/DPS, an encrypted OOXML package) validated as such:
    header, sector chains and directory (olefile), every stream read to its declared size, the
    main stream of a Word, Excel or PowerPoint file present; then encryption (msoffcrypto)."""
    import msoffcrypto
    import olefile

    try:
        ole = olefile.OleFileIO(source)
    except (OSError, ValueError, IndexError) as exc:  # olefile raises these on a broken container
        facts["corrupt"] = "truncated" if "size" in str(exc).lower() or "incomplete" in str(exc).lower() else "ole"
        return
    with ole:
        streams = ["/".join(entry) for entry in ole.listdir(streams=True, storages=False)]
        mains: dict[str, bytes] = {}
        for name in streams:
            try:
                declared = ole.get_size(name)
                with ole.openstream(name) as stream:
                    data = stream.read()
                if len(data) != declared:
                    raise OSError("short stream")
            except Exception:  # noqa: BLE001 - any failure to read a stream is damage
                facts["corrupt"] = f"stream_ole:{clean_text(name)}"
                return
            if name in ("WordDocument", "Workbook", "Book"):
                mains[name] = data
        damaged = next((name for name, data in mains.items() if not _main_stream_intact(name, data)), None)
        if damaged:
            facts["corrupt"] = f"stream_ole:{damaged}"
            return
        if "EncryptedPackage" in streams and "EncryptionInfo" in streams:
            facts["ole"] = "encrypted-package"  # an OOXML file (.docx …) sealed with a password
            facts["encrypted"] = "password"
            return
        facts["ole"] = next((kind for kind, mains in OLE_MAIN_STREAMS.items() if any(m in streams for m in mains)),
                            "other")
    source.seek(0)
    try:
        if msoffcrypto.OfficeFile(source).is_encrypted():
            facts["encrypted"] = "password"
    except Exception:  # noqa: BLE001 - msoffcrypto does not know WPS and other OLE formats
        pass


def _main_stream_intact(name: str, data: bytes) -> bool:
    """The main stream's own structure: a Word document begins with its FIB (wIdent 0xA5EC); an Excel
    workbook is a chain of BIFF records, each with a type and a length, from a BOF to the stream's end
    (zeroed sectors inside it break the chain)."""
    if name == "WordDocument":
        return data[:2] == b"\xec\xa5"
    at = 0
    if data[:2] != b"\x09\x08":
        return False
    while at + 4 <= len(data):
        kind, length = int.from_bytes(data[at:at + 2], "little"), int.from_bytes(data[at + 2:at + 4], "little")
        if kind == 0 and length == 0 and not data[at:].strip(b"\x00"):
            return True  # padding after the last record (some writers round the stream up)
        if kind == 0 or at + 4 + length > len(data):
            return False
        at += 4 + length
    return at == len(data)


def inspect_job(job: tuple[bytes, bytes, int, str]) -> tuple[str, dict] | str:
    """``inspect`` of ``path`` under the folder ``root`` (a picklable pool job): the digest and
    facts, or the reason the file could not be read."""
    root, path, size, algorithm = job
    try:
        return inspect(open_file(root, path), size, algorithm)
    except OSError as exc:
        return exc.strerror or str(exc)
