"""Names as the disk holds them: bytes. Helpers to show them readably and to propose fixes."""

from __future__ import annotations

import os
import re

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


# Characters a terminal acts on rather than shows: C0 (ESC, newline, carriage return, ...), DEL, C1
# (CSI, OSC), and the bidirectional overrides that reorder what is shown. A file name carrying them
# could retitle the terminal, clear the screen or forge a line of output.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` safe for a terminal or a line-based report: control characters shown as ``\\xNN`` /
    ``\\uNNNN``. Every text renderer passes names through this; JSON output stays exact."""
    return _CONTROL.sub(_escape, text)


def shown(name: bytes) -> str:
    """A byte name as text output shows it: readable (:func:`show`) and safe (:func:`printable`)."""
    return printable(show(name))
