"""Names as the disk holds them: bytes. Helpers to show them readably and to propose fixes."""

from __future__ import annotations

import os

# Encodings an old Windows share in a Chinese school writes names in, most likely first.
LEGACY_ENCODINGS = ("gb18030", "big5")


def show(name: bytes) -> str:
    """A readable form of a byte name or path: UTF-8, with undecodable bytes shown as ``\\xNN``."""
    return name.decode("utf-8", "backslashreplace")


def is_utf8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def legacy_decode(name: bytes) -> str | None:
    """What a non-UTF-8 name most likely meant (GBK/GB18030 first), or None."""
    for encoding in LEGACY_ENCODINGS:
        try:
            return name.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def split_ext(name: bytes) -> tuple[bytes, str]:
    """(stem, lower-case extension without dot); ``.hidden`` files have no extension."""
    stem, ext = os.path.splitext(name)
    return stem, ext[1:].decode("utf-8", "replace").lower()
